"""The pitfalls of simplicity bias (Shah et al. 2020): synthetic feature-reliance data (blocks,
datasets), the randomised-feature evaluation, trained experiments batched over seeds (experiment,
measures), the ``pitfalls`` claims source and its report section."""
