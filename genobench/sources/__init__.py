"""Suite sources: where a suite's individuals come from (simulation, the user's files)."""

from .base import SuiteSource

__all__ = ["SuiteSource"]
