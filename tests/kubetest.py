"""Helpers for tests that drive the controller on the local control plane.

`ControllerProcess` runs `rollouts controller` as a real child process (so a
test can kill it like a crash), the `Kube` helper wraps our raw client with
the few reads and waits the tests repeat, and `History` records every state of
a set of objects the API server went through (a list + watch), so invariants
are checked at every change instead of at the instants a polling loop happened
to sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from rollouts.api.kinds import ROLLOUTS
from rollouts.api.resource import Resource
from rollouts.devcluster import JOB_FAIL_LABEL
from rollouts.devcluster.processes import free_ports
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import REPLICASETS, SERVICES
from tests.waiting import eventually

REPO = Path(__file__).resolve().parent.parent


@dataclass
class ControllerProcess:
    kubeconfig: Path
    log_path: Path
    extra_args: list[str] = field(default_factory=list)
    popen: subprocess.Popen[bytes] | None = None
    metrics_port: int = 0

    def start(self) -> None:
        self.metrics_port, healthz_port = free_ports(2)
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "rollouts",
                    "controller",
                    f"--kubeconfig={self.kubeconfig}",
                    f"--metrics-port={self.metrics_port}",
                    f"--healthz-port={healthz_port}",
                    "--workers=4",
                    *self.extra_args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def kill(self) -> None:
        """SIGKILL: a crash, no clean-up."""
        if self.popen and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> int | None:
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        return self.popen.returncode

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")
        return ""


def rollout_manifest(
    name: str,
    *,
    replicas: int = 5,
    image: str = "app:v1",
    steps: list[dict[str, Any]] | None = None,
    labels: dict[str, str] | None = None,
    canary: dict[str, Any] | None = None,
    spec: dict[str, Any] | None = None,
) -> dict[str, Any]:
    canary_spec: dict[str, Any] = {**(canary or {})}
    if steps is not None:
        canary_spec["steps"] = steps
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
            "strategy": {"canary": canary_spec},
            **(spec or {}),
        },
    }


def job_metric(*, fail: bool, name: str = "smoke", image: str = "t:1") -> dict[str, Any]:
    """A Job metric whose pod kwok completes, or fails with `fail` (the rollouts.io/job-fail label)."""
    labels = {JOB_FAIL_LABEL: "true"} if fail else {}
    return {
        "name": name,
        "provider": {
            "job": {
                "spec": {
                    "backoffLimit": 0,
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"restartPolicy": "Never", "containers": [{"name": "t", "image": image}]},
                    },
                }
            }
        },
    }


def job_analysis_template(name: str, *, fail: bool) -> dict[str, Any]:
    """An AnalysisTemplate with one Job metric (see job_metric)."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": name},
        "spec": {"metrics": [job_metric(fail=fail)]},
    }


def service_manifest(name: str, app: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": app}, "ports": [{"port": 80}]},
    }


@dataclass
class Kube:
    client: KubeClient
    namespace: str

    async def create(self, resource: Any, body: dict[str, Any]) -> dict[str, Any]:
        return await self.client.create(resource, self.namespace, body)

    async def rollout(self, name: str) -> dict[str, Any]:
        return await self.client.get(ROLLOUTS, self.namespace, name)

    async def replicasets(self, name: str) -> dict[str, dict[str, Any]]:
        """The rollout's ReplicaSets by pod-template hash."""
        listing = await self.client.list(REPLICASETS, self.namespace, label_selector=f"app={name}")
        return {rs["metadata"]["labels"]["rollouts-pod-template-hash"]: rs for rs in listing["items"]}

    async def service_hash(self, name: str) -> str | None:
        service = await self.client.get(SERVICES, self.namespace, name)
        return (service["spec"].get("selector") or {}).get("rollouts-pod-template-hash")

    async def set_image(self, name: str, image: str) -> None:
        patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}}
        await self.client.patch(ROLLOUTS, self.namespace, name, patch)

    async def patch_status(self, name: str, status: dict[str, Any]) -> None:
        await self.client.patch(ROLLOUTS, self.namespace, name, {"status": status}, subresource="status")

    async def wait(
        self, name: str, predicate: Callable[[dict[str, Any]], bool], *, what: str, timeout: float = 60
    ) -> dict[str, Any]:
        return await eventually(lambda: self.rollout(name), predicate, timeout=timeout, what=f"{name}: {what}")


def status(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("status") or {}


def healthy_on_new_revision(obj: dict[str, Any]) -> bool:
    s = status(obj)
    return (
        s.get("phase") == "Healthy"
        and s.get("observedGeneration") == str(obj["metadata"]["generation"])
        and s.get("stableRS") == s.get("currentPodHash")
    )


def paused_at(step: int) -> Callable[[dict[str, Any]], bool]:
    def check(obj: dict[str, Any]) -> bool:
        s = status(obj)
        return s.get("phase") == "Paused" and s.get("currentStepIndex") == step and bool(s.get("pauseConditions"))

    return check


def counts(replicasets: dict[str, dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """hash -> (spec.replicas, status.availableReplicas)."""
    return {
        h: (rs["spec"].get("replicas", 0), (rs.get("status") or {}).get("availableReplicas", 0))
        for h, rs in replicasets.items()
    }


T = TypeVar("T")


@dataclass
class State(Generic[T]):
    """One state the watched objects were in: `value` as projected, after the write at `revision`."""

    revision: int
    value: T


class History(Generic[T]):
    """Every state a set of objects went through, from a list and a watch that resumes at the list.

    After each watch event the whole set (name -> object) is projected by
    `project` and recorded, so `states` holds each state the API server stored,
    in order, not just the ones a poller happened to see. `revision` is the
    object's resourceVersion as an integer: on our local etcd it is one global
    counter, so states of two Histories can be ordered against each other.
    """

    def __init__(
        self,
        kube: Kube,
        resource: Resource,
        project: Callable[[dict[str, dict[str, Any]]], T],
        *,
        label_selector: str | None = None,
    ) -> None:
        self.kube = kube
        self.resource = resource
        self.project = project
        self.label_selector = label_selector
        self.objects: dict[str, dict[str, Any]] = {}
        self.states: list[State[T]] = []
        self._task: asyncio.Task[None] | None = None

    async def _list(self) -> tuple[dict[str, dict[str, Any]], str]:
        listing = await self.kube.client.list(self.resource, self.kube.namespace, label_selector=self.label_selector)
        return {o["metadata"]["name"]: o for o in listing["items"]}, listing["metadata"]["resourceVersion"]

    def _record(self, revision: str) -> None:
        self.states.append(State(int(revision), self.project(self.objects)))

    async def start(self) -> None:
        self.objects, revision = await self._list()
        self._record(revision)
        self._task = asyncio.create_task(self._watch(revision))

    async def _watch(self, revision: str) -> None:
        while True:  # the server ends a watch after its timeout: resume where it stopped
            async for event in self.kube.client.watch(
                self.resource, self.kube.namespace, resource_version=revision, label_selector=self.label_selector
            ):
                kind, obj = event["type"], event["object"]
                if kind == "ERROR":
                    raise AssertionError(f"watch of {self.resource.plural} failed, states would be missed: {obj}")
                revision = obj["metadata"]["resourceVersion"]
                if kind == "BOOKMARK":
                    continue
                if kind == "DELETED":
                    self.objects.pop(obj["metadata"]["name"], None)
                else:
                    self.objects[obj["metadata"]["name"]] = obj
                self._record(revision)

    def _versions(self, objects: dict[str, dict[str, Any]]) -> dict[str, str]:
        return {name: o["metadata"]["resourceVersion"] for name, o in objects.items()}

    async def caught_up(self, timeout: float = 60) -> list[State[T]]:
        """Wait until the watch has delivered every change up to now; return all states seen.

        Up to date means the watched objects are exactly a fresh list's, object
        resourceVersions included: events arrive in order, so nothing before
        that list is missing.
        """

        async def in_step() -> bool:
            if self._task is not None and self._task.done():
                self._task.result()  # a failed watch fails the test with its error
                raise AssertionError("the watch ended")
            fresh, _ = await self._list()
            return self._versions(fresh) == self._versions(self.objects)

        await eventually(in_step, timeout=timeout, interval=0.1, what=f"the {self.resource.plural} watch to catch up")
        return list(self.states)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@contextlib.asynccontextmanager
async def history(
    kube: Kube,
    resource: Resource,
    project: Callable[[dict[str, dict[str, Any]]], T],
    *,
    label_selector: str | None = None,
) -> AsyncIterator[History[T]]:
    """A started History, stopped on exit."""
    recorder = History(kube, resource, project, label_selector=label_selector)
    await recorder.start()
    try:
        yield recorder
    finally:
        await recorder.stop()


def replicaset_counts(objects: dict[str, dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """A History projection of ReplicaSets: pod-template hash -> (spec.replicas, status.availableReplicas)."""
    return counts({rs["metadata"]["labels"]["rollouts-pod-template-hash"]: rs for rs in objects.values()})
