"""The per-SNP, LD and distance kernels, under their former home (see :mod:`genobench.kernels`).

Kept so that ``from genobench.metrics import kernels`` goes on working; new code imports
:mod:`genobench.kernels`.
"""

from ..kernels import *  # noqa: F403
from ..kernels import (
    __all__,  # noqa: F401
    as_int8,
    count_values,
    int8_product,
    round_up,
)

# Former private names still read by genobench/metrics/association.py (kept until it moves to
# the public ones above).
_as_int8, _count, _int8_product, _round_up = as_int8, count_values, int8_product, round_up
