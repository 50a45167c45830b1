"""Claims about a user's own ``torch.nn.Module``: the ``module`` source (spec, factory, sampling, source).

A subject ``{source: module, factory: "package.module:callable", kwargs: {...}}`` is the random
functions of the module that factory builds, its parameters re-drawn per sample (``init: redraw``)
or its own initialisation (``init: own``), measured on the 2-D grid like the network source's.
"""
