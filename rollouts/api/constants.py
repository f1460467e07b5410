"""Names the Argo Rollouts API and its tools agree on: group, kinds, labels, annotations.

These strings are the compatibility contract (docs/architecture.md §1): Argo's plugin and
controller read and write exactly these keys, so they live in one place.
"""

from __future__ import annotations

GROUP = "argoproj.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

ROLLOUT_KIND = "Rollout"
ROLLOUT_PLURAL = "rollouts"
ANALYSIS_RUN_KIND = "AnalysisRun"
ANALYSIS_RUN_PLURAL = "analysisruns"
ANALYSIS_TEMPLATE_KIND = "AnalysisTemplate"
ANALYSIS_TEMPLATE_PLURAL = "analysistemplates"
CLUSTER_ANALYSIS_TEMPLATE_KIND = "ClusterAnalysisTemplate"
CLUSTER_ANALYSIS_TEMPLATE_PLURAL = "clusteranalysistemplates"
EXPERIMENT_KIND = "Experiment"
EXPERIMENT_PLURAL = "experiments"

# Labels
POD_TEMPLATE_HASH_LABEL = "rollouts-pod-template-hash"
INSTANCE_ID_LABEL = "argo-rollouts.argoproj.io/controller-instance-id"  # Argo's LabelKeyControllerInstanceID
ROLLOUT_TYPE_LABEL = "rollout-type"  # on AnalysisRuns: Background / Step / PrePromotion / PostPromotion
ROLLOUT_NAME_LABEL = "rollouts.argoproj.io/rollout"  # ours, for listing runs of a rollout

# Annotations
REVISION_ANNOTATION = "rollout.argoproj.io/revision"
REVISION_HISTORY_ANNOTATION = "rollout.argoproj.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "rollout.argoproj.io/desired-replicas"
SCALE_DOWN_DEADLINE_ANNOTATION = "scale-down-deadline"
MANAGED_BY_ROLLOUTS_ANNOTATION = "argo-rollouts.argoproj.io/managed-by-rollouts"
WORKLOAD_GENERATION_ANNOTATION = "rollout.argoproj.io/workload-generation"
EPHEMERAL_METADATA_ANNOTATION = "rollout.argoproj.io/ephemeral-metadata"

# Phases
PHASE_HEALTHY = "Healthy"
PHASE_PROGRESSING = "Progressing"
PHASE_PAUSED = "Paused"
PHASE_DEGRADED = "Degraded"

# Pause reasons
PAUSE_CANARY_STEP = "CanaryPauseStep"
PAUSE_BLUE_GREEN = "BlueGreenPause"
PAUSE_INCONCLUSIVE_ANALYSIS = "InconclusiveAnalysisRun"
PAUSE_INCONCLUSIVE_EXPERIMENT = "InconclusiveExperiment"

# Condition types
CONDITION_PROGRESSING = "Progressing"
CONDITION_AVAILABLE = "Available"
CONDITION_COMPLETED = "Completed"
CONDITION_HEALTHY = "Healthy"
CONDITION_PAUSED = "Paused"
CONDITION_INVALID_SPEC = "InvalidSpec"
CONDITION_REPLICA_FAILURE = "ReplicaFailure"

# Analysis phases
ANALYSIS_PENDING = "Pending"
ANALYSIS_RUNNING = "Running"
ANALYSIS_SUCCESSFUL = "Successful"
ANALYSIS_FAILED = "Failed"
ANALYSIS_ERROR = "Error"
ANALYSIS_INCONCLUSIVE = "Inconclusive"

DEFAULT_MAX_SURGE = "25%"
DEFAULT_MAX_UNAVAILABLE = "25%"
DEFAULT_REPLICAS = 1
DEFAULT_REVISION_HISTORY_LIMIT = 10
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600
DEFAULT_SCALE_DOWN_DELAY_SECONDS = 30
DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS = 30
DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4
DEFAULT_MEASUREMENT_RETENTION = 10
DEFAULT_SUCCESSFUL_RUN_HISTORY_LIMIT = 5
DEFAULT_UNSUCCESSFUL_RUN_HISTORY_LIMIT = 5
DEFAULT_AUTO_PROMOTION_ENABLED = True
