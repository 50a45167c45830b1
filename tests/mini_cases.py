"""Small case files the plugin tests share, on cheap subjects (a 16^2 grid, 12 samples): ONE_CLAIM, one
passing item; MINI_CASES, two passing items, a documented xfail and a full-tier claim."""

NOISE_ABOVE_LINEAR = """  - id: noise-above-linear
    kind: less
    claim: white noise is more complex than a ramp
    a: {function: linear}
    b: {function: white_noise}
    metrics:
      dct: {min_ratio: 2.0}
"""

ONE_CLAIM = "defaults:\n  samples: 12\n  resolution: 16\nclaims:\n" + NOISE_ABOVE_LINEAR

MINI_CASES = """
defaults:
  network: {width: 16, depth: 2}
  samples: 12
  resolution: 16
claims:
""" + NOISE_ABOVE_LINEAR + """      lz: {min_ratio: 2.0}
  - id: impossible-ratio
    kind: less
    a: {activation: relu}
    b: {activation: sine, weights: {scale: 5.0}}
    metrics:
      dct: {min_ratio: 1000.0, xfail: "documented: the ratio is ~3, not 1000"}
  - id: full-only
    kind: bounded
    tier: full
    subject: {activation: tanh}
    metrics:
      dct: {max: 1.0}
"""
