"""Traffic-routing models of a canary Rollout: the router blocks, header/mirror routes, weights.

Spec and status halves sit together because a router reads one and writes the
other. Provider-specific blocks (istio, nginx, alb, ...) stay plain dicts until
a router reads them; typed router models are added here as routers arrive.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from rollouts.api.common import K8sModel
from rollouts.api.numbers import Int32


class StringMatch(K8sModel):
    exact: str | None = None
    prefix: str | None = None
    regex: str | None = None


class HeaderRoutingMatch(K8sModel):
    header_name: str
    header_value: StringMatch | None = None


class SetHeaderRoute(K8sModel):
    name: str | None = None
    match: list[HeaderRoutingMatch] | None = None


class RouteMatch(K8sModel):
    method: StringMatch | None = None
    path: StringMatch | None = None
    headers: dict[str, StringMatch] | None = None


class SetMirrorRoute(K8sModel):
    name: str
    match: list[RouteMatch] | None = None
    percentage: Int32 | None = None


class RolloutTrafficRouting(K8sModel):
    """Provider blocks (istio, nginx, alb, smi, ...) are kept as plain dicts until a router reads them."""

    istio: dict[str, Any] | None = None
    nginx: dict[str, Any] | None = None
    alb: dict[str, Any] | None = None
    smi: dict[str, Any] | None = None
    ambassador: dict[str, Any] | None = None
    app_mesh: dict[str, Any] | None = None
    traefik: dict[str, Any] | None = None
    managed_routes: list[dict[str, Any]] | None = None
    apisix: dict[str, Any] | None = None
    plugins: dict[str, Any] | None = None
    max_traffic_weight: Int32 | None = None

    def providers(self) -> list[str]:
        """The traffic providers configured (their JSON names; "plugins" for plugin routers)."""
        names = ("istio", "nginx", "alb", "smi", "ambassador", "appMesh", "traefik", "apisix")
        found = [name for name in names if self.to_dict().get(name) is not None]
        if self.plugins:
            found.append("plugins")
        return found


class WeightDestination(K8sModel):
    weight: Int32 = 0
    service_name: str | None = None
    pod_template_hash: str | None = None


class TrafficWeights(K8sModel):
    canary: WeightDestination = Field(default_factory=WeightDestination)
    stable: WeightDestination = Field(default_factory=WeightDestination)
    additional: list[WeightDestination] | None = None
    verified: bool | None = None


class AwsResourceRef(K8sModel):
    name: str = ""
    arn: str = ""
    full_name: str | None = None


class ALBStatus(K8sModel):
    load_balancer: AwsResourceRef | None = None
    canary_target_group: AwsResourceRef | None = None
    stable_target_group: AwsResourceRef | None = None
    ingress: str | None = None
