"""The coordinates of Kubernetes' own kinds that the controllers and the CLI read and write.

Kubernetes I/O concerns, so they live in `kube`; the kinds we serve (Rollout,
AnalysisRun, GitSync, ...) are API vocabulary and live in `rollouts.api.kinds`.
Both are values of the one coordinates type, `rollouts.api.resource.Resource`
(its docstring says why that type is declared in `api`).
"""

from __future__ import annotations

from rollouts.api.resource import Resource

PODS = Resource("", "v1", "pods", "Pod")
SERVICES = Resource("", "v1", "services", "Service")
POD_TEMPLATES = Resource("", "v1", "podtemplates", "PodTemplate")
EVENTS = Resource("", "v1", "events", "Event")
SECRETS = Resource("", "v1", "secrets", "Secret")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
REPLICASETS = Resource("apps", "v1", "replicasets", "ReplicaSet")
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
JOBS = Resource("batch", "v1", "jobs", "Job")
LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease")
