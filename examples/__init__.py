"""Worked examples: a user architecture to compare with the zoo (``redshift compare
examples.fourier_features:fourier_relu``), claims about it (``fourier_features_claims.yaml``), a YAML
entry (``tanh_layernorm_gain.yaml``) and the CI recipe (``ci/``); docs/use-in-your-repository.md."""
