"""The GitSync resource (rollouts.io/v1alpha1): render a Git path and keep the cluster in sync.

`spec.source`, `spec.destination` and `spec.syncPolicy` use the field names of
an Argo CD `Application` (argo-cd pkg/apis/application/v1alpha1/types.go), so
moving an app between the two is copy and paste; the status mirrors the parts
of an Application's status a human reads (sync, health, resources,
operationState, conditions, history). Plain pydantic models on `K8sModel`, so
hack/gen_crds.py derives the CRD schema like for the other kinds.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from rollouts.api.common import K8sModel, ObjectMeta, parse_duration

GITSYNC_GROUP = "rollouts.io"
GITSYNC_VERSION = "v1alpha1"
GITSYNC_API_VERSION = f"{GITSYNC_GROUP}/{GITSYNC_VERSION}"
GITSYNC_KIND = "GitSync"
GITSYNC_PLURAL = "gitsyncs"

DEFAULT_REFRESH_SECONDS = 180.0
# The shortest poll we honour: a GitSync asking for `1ms` would turn the controller into a
# fetch loop against its Git server. Argo CD polls every 180s by default (timeout.reconciliation)
# and expects webhooks for anything faster; we keep 180s as the default and clamp shorter
# values up to this floor. The interval in effect is written to status.refreshInterval.
MIN_REFRESH_SECONDS = 10.0
HISTORY_LIMIT = 10

# Annotations on the GitSync: a refresh request (any value), cleared once handled.
REFRESH_ANNOTATION = "rollouts.io/refresh"
# On everything we apply: <gitsync-namespace>/<gitsync-name>:<group>/<kind>:<namespace>/<name>
TRACKING_ANNOTATION = "rollouts.io/tracking-id"

SYNC_OPTION_CREATE_NAMESPACE = "CreateNamespace=true"
SYNC_OPTION_PRUNE_LAST = "PruneLast=true"


class JsonnetVar(K8sModel):
    """An ext var or TLA: a string, or Jsonnet code when `code` is true."""

    name: str
    value: str = ""
    code: bool | None = None


class ApplicationSourceJsonnet(K8sModel):
    ext_vars: list[JsonnetVar] | None = None
    tlas: list[JsonnetVar] | None = None
    libs: list[str] | None = None


class ApplicationSourceDirectory(K8sModel):
    recurse: bool | None = None
    jsonnet: ApplicationSourceJsonnet | None = None
    exclude: str | None = None
    include: str | None = None


class HelmParameter(K8sModel):
    name: str
    value: str = ""
    force_string: bool | None = None


class ApplicationSourceHelm(K8sModel):
    value_files: list[str] | None = None
    parameters: list[HelmParameter] | None = None
    release_name: str | None = None
    values: str | None = None
    values_object: dict[str, Any] | None = None
    skip_crds: bool | None = None
    ignore_missing_value_files: bool | None = None
    namespace: str | None = None


class ApplicationSourceKustomize(K8sModel):
    name_prefix: str | None = None
    name_suffix: str | None = None
    images: list[str] | None = None
    common_labels: dict[str, str] | None = None
    common_annotations: dict[str, str] | None = None
    namespace: str | None = None


class EnvEntry(K8sModel):
    name: str
    value: str = ""


class ApplicationSourcePlugin(K8sModel):
    name: str
    env: list[EnvEntry] | None = None


class ApplicationSource(K8sModel):
    repo_url: str = Field(alias="repoURL")  # Argo CD's spelling, not to_camel's repoUrl
    path: str | None = None
    target_revision: str | None = None
    directory: ApplicationSourceDirectory | None = None
    helm: ApplicationSourceHelm | None = None
    kustomize: ApplicationSourceKustomize | None = None
    plugin: ApplicationSourcePlugin | None = None


class ApplicationDestination(K8sModel):
    server: str | None = None
    namespace: str | None = None
    name: str | None = None


class SyncPolicyAutomated(K8sModel):
    prune: bool | None = None
    self_heal: bool | None = None
    allow_empty: bool | None = None


class SyncPolicy(K8sModel):
    automated: SyncPolicyAutomated | None = None
    sync_options: list[str] | None = None


class GitSyncSpec(K8sModel):
    source: ApplicationSource
    destination: ApplicationDestination | None = None
    sync_policy: SyncPolicy | None = None
    # Go duration ("180s", "5m"); how often Git is polled for a new commit. Shorter than
    # MIN_REFRESH_SECONDS (10s) is clamped up; status.refreshInterval shows the value in effect.
    refresh_interval: str | None = None
    # Secret (in the GitSync's namespace) holding repository credentials, in the shape of an
    # Argo CD repository Secret: `url` (required: the repository URL, or a URL prefix, the
    # credentials were issued for; they are sent only to a repoURL it covers on a path
    # boundary), `username` + `password` (token) for https, `sshPrivateKey` for ssh. It is
    # read as the GitSync's service account when it has one, so RBAC decides who may use it.
    credentials_secret: str | None = None
    # Ours (like Flux's Kustomization): a ServiceAccount in the GitSync's namespace whose RBAC
    # rights the apply, prune and drift checks run with, through Kubernetes impersonation.
    service_account_name: str | None = None

    def refresh_seconds(self) -> float:
        """The poll interval in effect: refreshInterval (default 180s), never below MIN_REFRESH_SECONDS."""
        seconds = parse_duration(self.refresh_interval)
        return DEFAULT_REFRESH_SECONDS if seconds is None or seconds <= 0 else max(seconds, MIN_REFRESH_SECONDS)

    def has_option(self, option: str) -> bool:
        options = (self.sync_policy.sync_options if self.sync_policy else None) or []
        return option in options

    @property
    def automated(self) -> SyncPolicyAutomated | None:
        return self.sync_policy.automated if self.sync_policy else None


class SyncStatus(K8sModel):
    status: str = "Unknown"  # Synced / OutOfSync / Unknown
    revision: str | None = None


class HealthStatus(K8sModel):
    status: str = "Healthy"  # Healthy / Progressing / Degraded / Suspended / Missing / Unknown
    message: str | None = None


class ResourceStatus(K8sModel):
    group: str = ""
    version: str | None = None
    kind: str
    namespace: str | None = None
    name: str
    status: str | None = None
    health: HealthStatus | None = None
    requires_pruning: bool | None = None


class ResourceResult(K8sModel):
    group: str = ""
    version: str | None = None
    kind: str
    namespace: str | None = None
    name: str
    status: str  # Synced / SyncFailed / Pruned / PruneSkipped
    message: str | None = None


class SyncOperationResult(K8sModel):
    revision: str | None = None
    resources: list[ResourceResult] | None = None


class OperationState(K8sModel):
    phase: str  # Running / Succeeded / Failed / Error
    message: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    sync_result: SyncOperationResult | None = None


class GitSyncCondition(K8sModel):
    type: str  # ComparisonError / SyncError / InvalidSpecError
    message: str
    last_transition_time: str | None = None


class RevisionHistory(K8sModel):
    id: int
    revision: str
    deployed_at: str
    deploy_started_at: str | None = None


class GitSyncStatus(K8sModel):
    sync: SyncStatus | None = None
    health: HealthStatus | None = None
    resources: list[ResourceStatus] | None = None
    operation_state: OperationState | None = None
    conditions: list[GitSyncCondition] | None = None
    reconciled_at: str | None = None
    history: list[RevisionHistory] | None = None
    observed_generation: int | None = None
    # The poll interval in effect (spec.refreshInterval after the MIN_REFRESH_SECONDS floor), e.g. "10s".
    refresh_interval: str | None = None


class GitSync(K8sModel):
    api_version: str = GITSYNC_API_VERSION
    kind: str = GITSYNC_KIND
    metadata: ObjectMeta
    spec: GitSyncSpec
    status: GitSyncStatus | None = None
