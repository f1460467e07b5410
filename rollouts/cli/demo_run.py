"""The demo's story and the stack it runs on (see demo_cmd.py for what the demo shows).

`DemoStack` starts and stops the parts (local control plane, demo app,
Prometheus, the controller as a child process) and drives the rollout; the
`_roll_*` functions tell the story on top of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.live import Live

from rollouts.api.kinds import ANALYSIS_RUNS, ANALYSIS_TEMPLATES, ROLLOUTS
from rollouts.api.resource import Resource
from rollouts.cli import get_cmd, render
from rollouts.cli.main import CommandError
from rollouts.devcluster import LocalCluster
from rollouts.devcluster.processes import free_ports
from rollouts.devcluster.prometheus import FakeAppMetrics, LocalPrometheus
from rollouts.kube.client import KubeClient, load_api_client
from rollouts.kube.resources import NAMESPACES, PODS, REPLICASETS, SERVICES

NAMESPACE = "demo"
NAME = "demo"
GOOD_IMAGE = "demo-app:2.0"
BAD_IMAGE = "demo-app:3.0"
REPO = Path(__file__).resolve().parent.parent.parent


class Narrator:
    """Plain words about what happens; a live rollout view on a terminal."""

    def __init__(self) -> None:
        self.console = Console(highlight=False)
        self.tty = self.console.is_terminal
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        if self.tty:
            self.console.print(f"[bold cyan]==>[/] {text}  [dim]({elapsed:.0f}s)[/]")
        else:
            print(f"[{elapsed:5.1f}s] {text}", flush=True)

    def detail(self, text: str) -> None:
        if self.tty:
            self.console.print(f"    {text}")
        else:
            print(f"        {text}", flush=True)


def _load_example() -> list[dict[str, Any]]:
    path = REPO / "examples" / "canary-analysis.yaml"
    if not path.exists():
        raise CommandError(f"{path} not found: run the demo from a checkout of the repository (make demo)")
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _crds() -> list[dict[str, Any]]:
    directory = REPO / "crds"
    docs = [yaml.safe_load(p.read_text()) for p in sorted(directory.glob("*.yaml"))]
    if not docs:
        raise CommandError(f"no CRDs in {directory}: run the demo from a checkout of the repository")
    return docs


def _progress_line(rollout: dict[str, Any], replica_sets: list[dict[str, Any]]) -> str:
    status = rollout.get("status") or {}
    steps = ((rollout.get("spec") or {}).get("strategy") or {}).get("canary", {}).get("steps") or []
    by_hash = {}
    for rs in replica_sets:
        pod_hash = (rs["metadata"].get("labels") or {}).get("rollouts-pod-template-hash")
        image = rs["spec"]["template"]["spec"]["containers"][0]["image"]
        ready = (rs.get("status") or {}).get("availableReplicas", 0)
        if rs["spec"].get("replicas", 0) or ready:
            by_hash[pod_hash] = f"{image} {ready}/{rs['spec'].get('replicas', 0)}"
    pods = ", ".join(v for _, v in sorted(by_hash.items(), key=lambda kv: kv[0] != status.get("stableRS")))
    step = status.get("currentStepIndex")
    step_text = f"step {step}/{len(steps)}" if step is not None else ""
    message = f" ({status['message']})" if status.get("message") else ""
    return f"{status.get('phase', 'Pending')}{message} {step_text} | pods: {pods}"


CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced=False)


class DemoStack:
    """The running parts of the demo (cluster, demo app, Prometheus, controller) and how the story drives them."""

    def __init__(self, *, narrator: Narrator, work: Path, nodes: int, timeout: float) -> None:
        self.narrator = narrator
        self.work = work
        self.nodes = nodes
        self.timeout = timeout
        self.cluster = LocalCluster(nodes=nodes)
        self.app = FakeAppMetrics(rate=100.0, error_ratio=0.0, service=NAME)
        self._prometheus: LocalPrometheus | None = None  # its target's port exists once the app started
        self.log_path = work / "controller.log"
        self._cleanup = contextlib.ExitStack()
        self._client: KubeClient | None = None
        self._controller: subprocess.Popen[bytes] | None = None

    @property
    def kubeconfig(self) -> Path:
        return self.cluster.kubeconfig

    @property
    def prometheus(self) -> LocalPrometheus:
        if self._prometheus is None:
            raise CommandError("the demo's Prometheus is not started")
        return self._prometheus

    @property
    def prometheus_url(self) -> str:
        return self.prometheus.url

    @property
    def client(self) -> KubeClient:
        if self._client is None:
            raise CommandError("the demo's cluster is not started")
        return self._client

    async def start(self) -> None:
        """Cluster, demo app and Prometheus, CRDs, then the controller."""
        narrator = self.narrator
        narrator.say(
            "Starting a local Kubernetes control plane: etcd, kube-apiserver, controller-manager, scheduler"
            f" and kwok playing {self.nodes} nodes"
        )
        self._cleanup.callback(self.cluster.stop)
        await asyncio.to_thread(self.cluster.start)
        narrator.detail(f"API server at {self.cluster.server}")

        self.app.start()
        self._cleanup.callback(self.app.stop)
        self._prometheus = LocalPrometheus(targets=[self.app.target], scrape_interval="1s")
        narrator.say("Starting Prometheus, scraping the demo app's request counters every second")
        await asyncio.to_thread(self.prometheus.start)
        self._cleanup.callback(self.prometheus.stop)
        narrator.detail(f"Prometheus at {self.prometheus.url}; the app serves http_requests_total at {self.app.target}")

        self._client = KubeClient(await load_api_client(str(self.cluster.kubeconfig)), field_manager="rollouts-demo")
        narrator.say("Installing the Argo Rollouts CRDs (Rollout, AnalysisTemplate, AnalysisRun, ...)")
        for crd in _crds():
            await self.client.patch(CRDS, None, crd["metadata"]["name"], crd, patch_type="apply", force=True)
        await _wait(lambda: _crds_established(self.client, CRDS), timeout=60, what="CRDs established")
        self._start_controller()

    def _start_controller(self) -> None:
        self.narrator.say("Starting the rollouts controller")
        metrics_port, healthz_port = free_ports(2)
        self._controller = subprocess.Popen(
            [
                sys.executable, "-m", "rollouts", "controller",
                f"--kubeconfig={self.cluster.kubeconfig}", f"--prometheus-address={self.prometheus.url}",
                f"--metrics-port={metrics_port}", f"--healthz-port={healthz_port}",
            ],
            stdout=self.log_path.open("wb"), stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self.narrator.detail(f"metrics at http://127.0.0.1:{metrics_port}/metrics, logs in {self.log_path}")

    async def apply_example(self, manifests: list[dict[str, Any]]) -> None:
        """The example's Rollout, Services and template, pointed at our Prometheus; waits for the first Healthy."""
        self.narrator.say(
            "Applying examples/canary-analysis.yaml: a Rollout of 5 pods, its Services"
            " and a success-rate AnalysisTemplate"
        )
        await self.client.create(
            NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
        )
        for manifest in manifests:
            doc = copy.deepcopy(manifest)
            if doc["kind"] == "Rollout":
                analysis = doc["spec"]["strategy"]["canary"]["analysis"]
                analysis["args"].append({"name": "prometheus-address", "value": self.prometheus.url})
            resource = {"Service": SERVICES, "Rollout": ROLLOUTS}.get(doc["kind"], ANALYSIS_TEMPLATES)
            await self.client.create(resource, NAMESPACE, doc)
        await _wait(
            lambda: _is_healthy(self.client, ROLLOUTS), timeout=self.timeout, what="the first version to be Healthy"
        )
        self.narrator.detail("The first version is deployed and Healthy (a first deploy skips the canary steps).")

    async def set_image(self, image: str) -> None:
        await self.client.patch(ROLLOUTS, NAMESPACE, NAME, _image_patch(image))

    async def watch_until(self, done: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        """Show the rollout (live view on a terminal, progress lines otherwise) until `done` holds."""
        narrator = self.narrator
        resources = (ROLLOUTS, REPLICASETS, PODS, ANALYSIS_RUNS)
        async with get_cmd.Watcher(self.client, NAMESPACE, resources) as watcher:
            deadline = time.monotonic() + self.timeout
            last_line = ""
            live = Live(console=narrator.console, auto_refresh=False) if narrator.tty else None
            with live if live is not None else contextlib.nullcontext():
                while True:
                    rollout = watcher.informers[ROLLOUTS.plural].get(NAMESPACE, NAME)
                    assert rollout is not None
                    replica_sets = watcher.items(REPLICASETS)
                    if live is not None:
                        snapshot = get_cmd.Snapshot(
                            rollout, replica_sets, watcher.items(PODS), watcher.items(ANALYSIS_RUNS)
                        )
                        live.update(render.render_rollout(snapshot.view()), refresh=True)
                    else:
                        line = _progress_line(rollout, replica_sets)
                        if line != last_line:
                            narrator.detail(line)
                            last_line = line
                    if done(rollout):
                        return rollout
                    if time.monotonic() > deadline:
                        raise CommandError(f"timed out waiting for {what}; controller log: {self.log_path}")
                    await watcher.next_change(time.monotonic() + 1.0)

    async def stop(self) -> None:
        """Stop everything that was started, in reverse order; safe after a partial start."""
        if self._client is not None:
            await self._client.close()
        controller = self._controller
        if controller is not None and controller.poll() is None:
            controller.terminate()
            try:
                await asyncio.to_thread(controller.wait, 20)
            except subprocess.TimeoutExpired:
                controller.kill()
        self._cleanup.close()


async def run_demo(*, narrator: Narrator, nodes: int, timeout: float, keep: bool) -> None:
    """The whole story, then tear-down (also on error or Ctrl-C)."""
    work = Path(tempfile.mkdtemp(prefix="rollouts-demo-"))
    demo = DemoStack(narrator=narrator, work=work, nodes=nodes, timeout=timeout)
    try:
        await demo.start()
        await demo.apply_example(_load_example())
        await _roll_good_version(demo)
        await _roll_bad_version(demo)
        if keep:
            await _keep_running(demo)
        narrator.say("Demo finished: tearing everything down")
    finally:
        await demo.stop()
        shutil.rmtree(work, ignore_errors=True)


async def _roll_good_version(demo: DemoStack) -> None:
    narrator = demo.narrator
    narrator.say(
        f"Updating the image to {GOOD_IMAGE}, a good version: the canary takes 20% of the pods,"
        " waits, 50%, waits, then 100%"
    )
    narrator.detail("A background analysis queries Prometheus every 5s: the success rate must stay at or above 95%.")
    await demo.set_image(GOOD_IMAGE)
    await demo.watch_until(lambda r: _healthy_on(r, GOOD_IMAGE), "the good version")
    narrator.say(f"{GOOD_IMAGE} is the stable version now: every step passed and the analysis stayed green")


async def _roll_bad_version(demo: DemoStack) -> None:
    narrator = demo.narrator
    narrator.say(f"Updating the image to {BAD_IMAGE}, a bad version: while its canary runs, half of the requests fail")
    await demo.set_image(BAD_IMAGE)

    def rolled_back(rollout: dict[str, Any]) -> bool:
        status = rollout.get("status") or {}
        if status.get("currentStepIndex") is not None and demo.app.error_ratio == 0.0 and _canary_running(rollout):
            demo.app.set_error_ratio(0.5)
        return bool(status.get("abort")) and status.get("availableReplicas") == 5 and status.get("phase") == "Degraded"

    aborted = await demo.watch_until(rolled_back, "the automatic rollback")
    demo.app.set_error_ratio(0.0)
    message = (aborted.get("status") or {}).get("message", "")
    narrator.say("The analysis failed, so the controller aborted the update by itself")
    narrator.detail(message)
    narrator.detail(f"All 5 pods run the stable version again; {BAD_IMAGE} was scaled to zero. No human was involved.")


async def _keep_running(demo: DemoStack) -> None:
    narrator = demo.narrator
    narrator.say("Everything keeps running for you to explore (Ctrl-C to stop and clean up):")
    for line in (
        f"export KUBECONFIG={demo.kubeconfig}",
        f"{sys.executable} -m rollouts get rollout {NAME} -n {NAMESPACE} --watch",
        f"{sys.executable} -m rollouts retry rollout {NAME} -n {NAMESPACE}   # try the bad version again",
        f"{sys.executable} -m rollouts set image {NAME} demo={GOOD_IMAGE} -n {NAMESPACE}",
        f"{sys.executable} -m rollouts promote {NAME} -n {NAMESPACE}",
        f"kubectl -n {NAMESPACE} get rollouts,analysisruns,replicasets,pods",
        f"curl -s {demo.prometheus_url}/api/v1/query?query=http_requests_total",
    ):
        narrator.detail(line)
    await asyncio.Event().wait()  # until Ctrl-C


def _image_patch(image: str) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [{"name": "demo", "image": image}]}}}}


def _image_of(rollout: dict[str, Any]) -> str:
    return str(rollout["spec"]["template"]["spec"]["containers"][0]["image"])


def _healthy_on(rollout: dict[str, Any], image: str) -> bool:
    status = rollout.get("status") or {}
    return (
        _image_of(rollout) == image
        and status.get("phase") == "Healthy"
        and status.get("stableRS") == status.get("currentPodHash")
        and status.get("observedGeneration") == str(rollout["metadata"].get("generation"))
    )


def _canary_running(rollout: dict[str, Any]) -> bool:
    status = rollout.get("status") or {}
    return bool(status.get("currentPodHash")) and status.get("currentPodHash") != status.get("stableRS")


async def _crds_established(client: Any, resource: Any) -> bool:
    listing = await client.list(resource)
    names = {crd["metadata"]["name"] for crd in listing["items"] if any(
        c["type"] == "Established" and c["status"] == "True" for c in (crd.get("status") or {}).get("conditions") or []
    )}  # fmt: skip
    return {"rollouts.argoproj.io", "analysisruns.argoproj.io", "analysistemplates.argoproj.io"} <= names


async def _is_healthy(client: Any, resource: Any) -> bool:
    try:
        rollout = await client.get(resource, NAMESPACE, NAME)
    except Exception:
        return False
    return _healthy_on(rollout, _image_of(rollout))


async def _wait(probe: Callable[[], Any], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await probe():
            return
        await asyncio.sleep(0.3)
    raise CommandError(f"timed out waiting for {what}")
