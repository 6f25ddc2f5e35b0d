"""genobench: the benchmark for synthetic genotype data.

Public API for plugin authors and programs; the command line lives in :mod:`genobench.cli`.
"""

__version__ = "0.1.0"

from .data import GenotypeData, check_dosages
from .errors import (
    DataError,
    GeneratorError,
    GenobenchError,
    PluginError,
    ResultsError,
    SpecError,
    UnknownNameError,
)
from .generators import PROFILES, FitContext, Generator
from .hookspecs import hookimpl
from .metrics.base import EvaluationContext, Metric, MetricResult
from .records import MetricInfo
from .sources.base import SourceOptions, SuiteSource

__all__ = [
    "__version__", "hookimpl", "GenotypeData", "check_dosages", "Generator", "FitContext",
    "PROFILES", "Metric", "MetricInfo", "MetricResult", "EvaluationContext", "SuiteSource",
    "SourceOptions",
    "GenobenchError", "SpecError", "DataError", "PluginError", "UnknownNameError",
    "GeneratorError", "ResultsError",
]
