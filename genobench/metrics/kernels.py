"""The per-SNP, LD and distance kernels, under their former home (see :mod:`genobench.kernels`).

Kept so that ``from genobench.metrics import kernels`` goes on working; new code imports
:mod:`genobench.kernels`.
"""

from ..kernels import *  # noqa: F403
from ..kernels import __all__  # noqa: F401
