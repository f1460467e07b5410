"""Pydantic models of every resource we serve (Argo Rollouts v1alpha1 and our GitSync)."""

from rollouts.api.analysis import AnalysisRun, AnalysisTemplate, ClusterAnalysisTemplate, Metric
from rollouts.api.experiment import Experiment
from rollouts.api.rollout import Rollout, RolloutSpec, RolloutStatus

__all__ = [
    "AnalysisRun",
    "AnalysisTemplate",
    "ClusterAnalysisTemplate",
    "Experiment",
    "Metric",
    "Rollout",
    "RolloutSpec",
    "RolloutStatus",
]
