"""Metrics: the interface (:mod:`.base`), the shared blocked kernels (:mod:`.kernels`) and the
core metric families registered as plugins (:mod:`.fidelity`, :mod:`.privacy`)."""

from .base import EvaluationContext, Metric, MetricResult, evaluate

__all__ = ["EvaluationContext", "Metric", "MetricResult", "evaluate"]
