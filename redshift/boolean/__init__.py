"""Boolean functions of random MLPs on {0,1}^n: the parameter-function map (Valle-Perez, Camargo & Louis 2019)."""
