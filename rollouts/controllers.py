"""The registration point of the controllers `rollouts controller` runs.

Each entry names a factory as "module:function"; the function takes a
`ControllerContext` and returns a `rollouts.kube.runtime.Controller`. Modules
are imported only when the controller is started, so adding a controller is a
one-line edit here and nothing else imports it. Factories live next to their
controller (rollout/, analysis/, gitsync/), which keeps this module free of
their constructor details.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from rollouts.kube.client import KubeClient
from rollouts.kube.informer import InformerFactory
from rollouts.kube.runtime import Controller

CONTROLLER_FACTORIES: dict[str, str] = {
    "rollouts": "rollouts.controllers:rollout_controller",
    "analysisruns": "rollouts.controllers:analysis_run_controller",
    "gitsync": "rollouts.controllers:gitsync_controller",
}
"""Controller name -> "module:factory"; started in this order."""


@dataclass
class ControllerContext:
    """What every controller may need from the process that runs it."""

    client: KubeClient
    namespace: str | None = None
    """Only watch this namespace (None: all namespaces)."""
    instance_id: str | None = None
    """Argo's instance id: only objects labelled argo-rollouts.argoproj.io/controller-instance-id=<id>."""
    prometheus_address: str | None = None
    """Default Prometheus for analysis metrics that name no address (--prometheus-address)."""
    gitsync_service_account: str | None = None
    """ServiceAccount (in each GitSync's namespace) impersonated when a GitSync names none."""

    @cached_property
    def informers(self) -> InformerFactory:
        """Informers shared between the controllers of this process (one list + watch per kind)."""
        return InformerFactory(self.client, namespace=self.namespace)


ControllerFactory = Callable[[ControllerContext], Controller]


class UnknownControllerError(ValueError):
    pass


def _load(name: str, target: str) -> ControllerFactory:
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        factory: ControllerFactory = getattr(module, attribute)
    except (ImportError, AttributeError) as error:
        raise UnknownControllerError(f"controller {name!r}: cannot load {target}: {error}") from error
    return factory


def build_controllers(
    context: ControllerContext,
    names: list[str] | None = None,
    *,
    factories: dict[str, str] | None = None,
) -> list[Controller]:
    """Instantiate the named controllers (all registered ones by default), in registration order."""
    registry = CONTROLLER_FACTORIES if factories is None else factories
    wanted = list(registry) if names is None else names
    unknown = [name for name in wanted if name not in registry]
    if unknown:
        raise UnknownControllerError(
            f"unknown controller(s) {', '.join(unknown)}; known: {', '.join(registry) or 'none'}"
        )
    return [_load(name, registry[name])(context) for name in registry if name in wanted]


def rollout_controller(context: ControllerContext) -> Controller:
    from rollouts.rollout.controller import RolloutController

    return RolloutController(context.client, namespace=context.namespace, instance_id=context.instance_id)


def analysis_run_controller(context: ControllerContext) -> Controller:
    from rollouts.analysis.controller import AnalysisRunController

    return AnalysisRunController(
        context.client,
        namespace=context.namespace,
        instance_id=context.instance_id,
        prometheus_address=context.prometheus_address,
    )


def gitsync_controller(context: ControllerContext) -> Controller:
    from rollouts.gitsync.controller import GitSyncController

    return GitSyncController(
        context.client,
        namespace=context.namespace,
        instance_id=context.instance_id,
        default_service_account=context.gitsync_service_account,
    )
