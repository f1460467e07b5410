"""The controller registry: names, order, and clear errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rollouts import controllers
from rollouts.controllers import ControllerContext, UnknownControllerError, build_controllers


class Dummy:
    def __init__(self, name: str) -> None:
        self.name = name
        self.informers: list[object] = []

    def bind(self, enqueue: Callable[[str], None]) -> None: ...

    async def reconcile(self, key: str) -> float | None:
        return None


def make_a(context: ControllerContext) -> Dummy:
    return Dummy(f"a:{context.namespace}")


def make_b(context: ControllerContext) -> Dummy:
    return Dummy(f"b:{context.instance_id}")


FACTORIES = {"a": f"{__name__}:make_a", "b": f"{__name__}:make_b", "broken": f"{__name__}:missing"}
CONTEXT = ControllerContext(client=None, namespace="ns", instance_id="i1")  # type: ignore[arg-type]


def test_builds_the_named_controllers_in_registration_order() -> None:
    built = build_controllers(CONTEXT, ["b", "a"], factories=FACTORIES)
    assert [c.name for c in built] == ["a:ns", "b:i1"]


def test_unknown_and_unloadable_controllers_are_clear_errors() -> None:
    with pytest.raises(UnknownControllerError, match=r"unknown controller\(s\) nope; known: a, b, broken"):
        build_controllers(CONTEXT, ["a", "nope"], factories=FACTORIES)
    with pytest.raises(UnknownControllerError, match="controller 'broken': cannot load"):
        build_controllers(CONTEXT, ["broken"], factories=FACTORIES)


def test_the_registered_factories_resolve() -> None:
    for name, target in controllers.CONTROLLER_FACTORIES.items():
        assert callable(controllers._load(name, target))
