"""Test builders around the product's simulator (rollouts/rollout/simulate.py).

`World` is the simulator the tests drive decide() with (the same one
`rollouts plan` uses); this module adds the small rollout and Service
builders the tests share.
"""

from __future__ import annotations

from typing import Any

from rollouts.rollout.simulate import HASH_LABEL, START, SimulatedCluster

World = SimulatedCluster

__all__ = ["HASH_LABEL", "START", "World", "blue_green_rollout", "rollout", "service"]


def rollout(
    *,
    replicas: int | None = 5,
    steps: list[dict[str, Any]] | None = None,
    image: str = "app:v1",
    spec: dict[str, Any] | None = None,
    **canary: Any,
) -> dict[str, Any]:
    strategy: dict[str, Any] = dict(canary)
    if steps is not None:
        strategy["steps"] = steps
    body: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "app", "namespace": "ns", "uid": "uid-1", "generation": 1},
        "spec": {
            "selector": {"matchLabels": {"app": "app"}},
            "template": {
                "metadata": {"labels": {"app": "app"}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
            "strategy": {"canary": strategy},
            **(spec or {}),
        },
    }
    if replicas is not None:
        body["spec"]["replicas"] = replicas
    return body


def blue_green_rollout(
    *, replicas: int | None = 3, image: str = "app:v1", spec: dict[str, Any] | None = None, **blue_green: Any
) -> dict[str, Any]:
    """A blue-green rollout (activeService "active" unless given)."""
    body = rollout(replicas=replicas, image=image, spec=spec)
    body["spec"]["strategy"] = {"blueGreen": {"activeService": "active", **blue_green}}
    return body


def service(name: str, selector_hash: str | None = None, *, managed: bool = True) -> dict[str, Any]:
    selector = {"app": "app"}
    if selector_hash:
        selector[HASH_LABEL] = selector_hash
    annotations = {"argo-rollouts.argoproj.io/managed-by-rollouts": "app"} if managed else {}
    return {"metadata": {"name": name, "namespace": "ns", "annotations": annotations}, "spec": {"selector": selector}}
