"""`Resource`: where a kind lives in the Kubernetes API (group, version, plural, kind, scope).

Why it lives in `api` and not in `kube`: the kinds we serve (`ROLLOUTS`,
`ANALYSIS_RUNS`, `GITSYNCS`, ... in `rollouts.api.kinds`) are part of the API
vocabulary, and `api` may import nothing of ours, so the type of their
coordinates has to be declared here. It is a frozen value with no dependency
at all (no pydantic, nothing of ours), the REST path and apiVersion are pure
functions of its fields, so `kube` uses it as the one coordinates type for
every kind, its own (PODS, SERVICES, ... in `rollouts.kube.resources`) and
ours. We chose one shared value type over a second, structurally matching type
in `kube`: two types with the same five fields would split the path and
apiVersion rules in two, and every signature that takes "a resource" would
need a Protocol instead of a plain class. The price is one edge from `kube`
to this module, which imports nothing, so `kube` still knows nothing about
rollouts (DESIGN.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    """Where a kind lives in the API: group, version, plural and scope."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
            if subresource:
                base += f"/{subresource}"
        return base
