"""The API coordinates of the kinds we serve: Argo Rollouts' argoproj.io kinds and our GitSync.

Their names, group and version are the compatibility contract (DESIGN.md §1)
and already live in `constants` and `gitsync`; this module only puts them
together as `Resource` values that `kube` can request, so the strings have one
source. Kubernetes' own kinds (Pods, ReplicaSets, ...) are Kubernetes I/O
concerns and live in `rollouts.kube.resources`.
"""

from __future__ import annotations

from rollouts.api.constants import (
    ANALYSIS_RUN_KIND,
    ANALYSIS_RUN_PLURAL,
    ANALYSIS_TEMPLATE_KIND,
    ANALYSIS_TEMPLATE_PLURAL,
    CLUSTER_ANALYSIS_TEMPLATE_KIND,
    CLUSTER_ANALYSIS_TEMPLATE_PLURAL,
    EXPERIMENT_KIND,
    EXPERIMENT_PLURAL,
    GROUP,
    ROLLOUT_KIND,
    ROLLOUT_PLURAL,
    VERSION,
)
from rollouts.api.gitsync import GITSYNC_GROUP, GITSYNC_KIND, GITSYNC_PLURAL, GITSYNC_VERSION
from rollouts.api.resource import Resource

ROLLOUTS = Resource(GROUP, VERSION, ROLLOUT_PLURAL, ROLLOUT_KIND)
ANALYSIS_RUNS = Resource(GROUP, VERSION, ANALYSIS_RUN_PLURAL, ANALYSIS_RUN_KIND)
ANALYSIS_TEMPLATES = Resource(GROUP, VERSION, ANALYSIS_TEMPLATE_PLURAL, ANALYSIS_TEMPLATE_KIND)
CLUSTER_ANALYSIS_TEMPLATES = Resource(
    GROUP, VERSION, CLUSTER_ANALYSIS_TEMPLATE_PLURAL, CLUSTER_ANALYSIS_TEMPLATE_KIND, namespaced=False
)
EXPERIMENTS = Resource(GROUP, VERSION, EXPERIMENT_PLURAL, EXPERIMENT_KIND)
GITSYNCS = Resource(GITSYNC_GROUP, GITSYNC_VERSION, GITSYNC_PLURAL, GITSYNC_KIND)
