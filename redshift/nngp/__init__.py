"""Architecture vs gradient descent (Bernstein & Yue 2021, arXiv 2110.04274): NNGP kernels, orthant
estimators, the PAC-Bayes bound, the NNGP posterior's test error, the label ray, on the 8x8 digits."""
