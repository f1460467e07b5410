"""The blue-green strategy of a Rollout (active and preview Services, promotion) and its status.

Defaults that Argo applies when a field is unset are methods here
(`effective_*`), so every reader gets the same default.
"""

from __future__ import annotations

from rollouts.api.analysisref import RolloutAnalysis, RolloutAnalysisRunStatus
from rollouts.api.common import IntOrString, K8sModel
from rollouts.api.constants import (
    DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS,
    DEFAULT_AUTO_PROMOTION_ENABLED,
    DEFAULT_SCALE_DOWN_DELAY_SECONDS,
)
from rollouts.api.numbers import Int32
from rollouts.api.podtemplate import AntiAffinity, PodTemplateMetadata


class BlueGreenStrategy(K8sModel):
    active_service: str | None = None
    preview_service: str | None = None
    preview_replica_count: Int32 | None = None
    auto_promotion_enabled: bool | None = None
    auto_promotion_seconds: Int32 | None = None
    max_unavailable: IntOrString | None = None
    scale_down_delay_seconds: Int32 | None = None
    scale_down_delay_revision_limit: Int32 | None = None
    pre_promotion_analysis: RolloutAnalysis | None = None
    anti_affinity: AntiAffinity | None = None
    post_promotion_analysis: RolloutAnalysis | None = None
    preview_metadata: PodTemplateMetadata | None = None
    active_metadata: PodTemplateMetadata | None = None
    abort_scale_down_delay_seconds: Int32 | None = None

    def effective_auto_promotion_enabled(self) -> bool:
        if self.auto_promotion_enabled is None:
            return DEFAULT_AUTO_PROMOTION_ENABLED
        return self.auto_promotion_enabled

    def effective_scale_down_delay_seconds(self) -> int:
        if self.scale_down_delay_seconds is None:
            return DEFAULT_SCALE_DOWN_DELAY_SECONDS
        return self.scale_down_delay_seconds

    def effective_abort_scale_down_delay_seconds(self) -> int:
        if self.abort_scale_down_delay_seconds is None:
            return DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS
        return self.abort_scale_down_delay_seconds


class BlueGreenStatus(K8sModel):
    preview_selector: str | None = None
    active_selector: str | None = None
    scale_up_preview_check_point: bool | None = None
    pre_promotion_analysis_run_status: RolloutAnalysisRunStatus | None = None
    post_promotion_analysis_run_status: RolloutAnalysisRunStatus | None = None
