"""What a strategy stamps on or asks of the pods it creates: extra metadata and anti-affinity.

Shared by the canary and blue-green strategies and by experiment templates, so
it sits below all of them.
"""

from __future__ import annotations

from typing import Any

from rollouts.api.common import K8sModel
from rollouts.api.numbers import Int32


class PodTemplateMetadata(K8sModel):
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class PreferredDuringScheduling(K8sModel):
    weight: Int32


class AntiAffinity(K8sModel):
    preferred_during_scheduling_ignored_during_execution: PreferredDuringScheduling | None = None
    required_during_scheduling_ignored_during_execution: dict[str, Any] | None = None
