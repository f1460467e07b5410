"""`rollouts demo`: from nothing to a canary that rolls forward, then one that rolls back by itself.

It starts a local control plane, the controller, a Prometheus scraping a small
demo metrics endpoint, applies examples/canary-analysis.yaml, then updates the
image twice: a good version walks through the canary steps under analysis; a
bad one (the demo makes half of the requests fail while its canary runs) is
aborted by the failed analysis and the stable version is restored, without a
human. It tells what happens in plain words, shows the rollout live on a
terminal (plain progress lines otherwise), ends by itself and tears everything
down; Ctrl-C tears down at any point; --keep leaves it all running until
Ctrl-C, with the commands to try.
"""

from __future__ import annotations

import argparse
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

from rollouts.cli.main import CommandError

NAMESPACE = "demo"
NAME = "demo"
GOOD_IMAGE = "demo-app:2.0"
BAD_IMAGE = "demo-app:3.0"
REPO = Path(__file__).resolve().parent.parent.parent


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="run the demo: a local cluster, a good canary, a bad one rolled back")
    parser.add_argument("--keep", action="store_true", help="leave everything running at the end (until Ctrl-C)")
    parser.add_argument("--nodes", type=int, default=3, help="fake nodes in the local cluster")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for each phase")
    parser.set_defaults(handler=demo_command)


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


async def _run(args: argparse.Namespace, narrator: Narrator) -> None:
    from rollouts.api.kinds import ANALYSIS_RUNS, ROLLOUTS
    from rollouts.api.resource import Resource
    from rollouts.cli import get_cmd, render
    from rollouts.devcluster import LocalCluster
    from rollouts.devcluster.processes import free_ports
    from rollouts.devcluster.prometheus import FakeAppMetrics, LocalPrometheus
    from rollouts.kube.client import KubeClient, load_api_client
    from rollouts.kube.resources import NAMESPACES, PODS, REPLICASETS

    crd_resource = Resource(
        "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced=False
    )
    manifests = _load_example()
    work = Path(tempfile.mkdtemp(prefix="rollouts-demo-"))
    stack = contextlib.ExitStack()
    controller: subprocess.Popen[bytes] | None = None
    client: KubeClient | None = None
    try:
        narrator.say(
            "Starting a local Kubernetes control plane: etcd, kube-apiserver, controller-manager, scheduler"
            f" and kwok playing {args.nodes} nodes"
        )
        cluster = LocalCluster(nodes=args.nodes)
        stack.callback(cluster.stop)
        await asyncio.to_thread(cluster.start)
        narrator.detail(f"API server at {cluster.server}")

        app = FakeAppMetrics(rate=100.0, error_ratio=0.0, service=NAME)
        app.start()
        stack.callback(app.stop)
        prometheus = LocalPrometheus(targets=[app.target], scrape_interval="1s")
        narrator.say("Starting Prometheus, scraping the demo app's request counters every second")
        await asyncio.to_thread(prometheus.start)
        stack.callback(prometheus.stop)
        narrator.detail(f"Prometheus at {prometheus.url}; the app serves http_requests_total at {app.target}")

        client = KubeClient(await load_api_client(str(cluster.kubeconfig)), field_manager="rollouts-demo")
        narrator.say("Installing the Argo Rollouts CRDs (Rollout, AnalysisTemplate, AnalysisRun, ...)")
        for crd in _crds():
            await client.patch(crd_resource, None, crd["metadata"]["name"], crd, patch_type="apply", force=True)
        await _wait(lambda: _crds_established(client, crd_resource), timeout=60, what="CRDs established")

        narrator.say("Starting the rollouts controller")
        metrics_port, healthz_port = free_ports(2)
        log_path = work / "controller.log"
        controller = subprocess.Popen(  # noqa: ASYNC220 - returns at once; we never wait on it here
            [
                sys.executable, "-m", "rollouts", "controller",
                f"--kubeconfig={cluster.kubeconfig}", f"--prometheus-address={prometheus.url}",
                f"--metrics-port={metrics_port}", f"--healthz-port={healthz_port}",
            ],
            stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        narrator.detail(f"metrics at http://127.0.0.1:{metrics_port}/metrics, logs in {log_path}")

        narrator.say(
            "Applying examples/canary-analysis.yaml: a Rollout of 5 pods, its Services"
            " and a success-rate AnalysisTemplate"
        )
        await client.create(
            NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
        )
        for manifest in manifests:
            doc = copy.deepcopy(manifest)
            if doc["kind"] == "Rollout":
                analysis = doc["spec"]["strategy"]["canary"]["analysis"]
                analysis["args"].append({"name": "prometheus-address", "value": prometheus.url})
            resource = {"Service": Resource("", "v1", "services", "Service"), "Rollout": ROLLOUTS}.get(doc["kind"])
            if resource is None:
                resource = Resource("argoproj.io", "v1alpha1", "analysistemplates", "AnalysisTemplate")
            await client.create(resource, NAMESPACE, doc)
        await _wait(lambda: _is_healthy(client, ROLLOUTS), timeout=args.timeout, what="the first version to be Healthy")
        narrator.detail("The first version is deployed and Healthy (a first deploy skips the canary steps).")

        async def watch_until(done: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
            resources = (ROLLOUTS, REPLICASETS, PODS, ANALYSIS_RUNS)
            async with get_cmd.Watcher(client, NAMESPACE, resources) as watcher:
                deadline = time.monotonic() + args.timeout
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
                            raise CommandError(f"timed out waiting for {what}; controller log: {log_path}")
                        await watcher.next_change(time.monotonic() + 1.0)

        narrator.say(
            f"Updating the image to {GOOD_IMAGE}, a good version: the canary takes 20% of the pods,"
            " waits, 50%, waits, then 100%"
        )
        narrator.detail(
            "A background analysis queries Prometheus every 5s: the success rate must stay at or above 95%."
        )
        await client.patch(ROLLOUTS, NAMESPACE, NAME, _image_patch(GOOD_IMAGE))
        await watch_until(lambda r: _healthy_on(r, GOOD_IMAGE), "the good version")
        narrator.say(f"{GOOD_IMAGE} is the stable version now: every step passed and the analysis stayed green")

        narrator.say(
            f"Updating the image to {BAD_IMAGE}, a bad version: while its canary runs, half of the requests fail"
        )
        await client.patch(ROLLOUTS, NAMESPACE, NAME, _image_patch(BAD_IMAGE))

        def rolled_back(rollout: dict[str, Any]) -> bool:
            status = rollout.get("status") or {}
            if status.get("currentStepIndex") is not None and app.error_ratio == 0.0 and _canary_running(rollout):
                app.set_error_ratio(0.5)
            return (
                bool(status.get("abort")) and status.get("availableReplicas") == 5 and status.get("phase") == "Degraded"
            )

        aborted = await watch_until(rolled_back, "the automatic rollback")
        app.set_error_ratio(0.0)
        message = (aborted.get("status") or {}).get("message", "")
        narrator.say("The analysis failed, so the controller aborted the update by itself")
        narrator.detail(message)
        narrator.detail(
            f"All 5 pods run the stable version again; {BAD_IMAGE} was scaled to zero. No human was involved."
        )
        if args.keep:
            narrator.say("Everything keeps running for you to explore (Ctrl-C to stop and clean up):")
            for line in (
                f"export KUBECONFIG={cluster.kubeconfig}",
                f"{sys.executable} -m rollouts get rollout {NAME} -n {NAMESPACE} --watch",
                f"{sys.executable} -m rollouts retry rollout {NAME} -n {NAMESPACE}   # try the bad version again",
                f"{sys.executable} -m rollouts set image {NAME} demo={GOOD_IMAGE} -n {NAMESPACE}",
                f"{sys.executable} -m rollouts promote {NAME} -n {NAMESPACE}",
                f"kubectl -n {NAMESPACE} get rollouts,analysisruns,replicasets,pods",
                f"curl -s {prometheus.url}/api/v1/query?query=http_requests_total",
            ):
                narrator.detail(line)
            await asyncio.Event().wait()  # until Ctrl-C
        narrator.say("Demo finished: tearing everything down")
    finally:
        if client is not None:
            await client.close()
        if controller is not None and controller.poll() is None:
            controller.terminate()
            try:
                controller.wait(timeout=20)
            except subprocess.TimeoutExpired:
                controller.kill()
        stack.close()
        shutil.rmtree(work, ignore_errors=True)


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


def demo_command(args: argparse.Namespace) -> int:
    narrator = Narrator()
    try:
        asyncio.run(_run(args, narrator))
    except KeyboardInterrupt:
        narrator.say("Interrupted: everything was torn down")
        return 130
    except CommandError:
        raise
    except Exception as error:  # one line for the user; the details are in the controller log
        raise CommandError(f"the demo failed: {type(error).__name__}: {error}") from None
    return 0
