"""The Gram, GRM, PCA and correlation-score kernels, under their former home (see
:mod:`genobench.kernels`). Kept so that ``from genobench.metrics import gram`` goes on working;
new code imports :mod:`genobench.kernels`.
"""

from ..kernels import *  # noqa: F403
from ..kernels import __all__  # noqa: F401
from ..kernels.gram import DENSE_EIGEN_LIMIT, SCALED_GRAM_LIMIT, SNP_CHUNK  # noqa: F401
