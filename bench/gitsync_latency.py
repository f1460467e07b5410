"""Git sync benchmark (issue 8): commit-to-applied latency and Jsonnet render time.

Starts a local control plane and `rollouts controller --controllers=gitsync`
(a separate process, serving the push webhook on 127.0.0.1), makes a git
repository on disk holding one ConfigMap, and measures N commits, each
changing the ConfigMap's value, from `git commit` returning to the new value
being readable from the API server:
  - webhook: a GitHub-style push event is POSTed right after the commit
    (GitSync refreshInterval 1h, so only the webhook can explain the apply);
  - interval: no webhook, the GitSync polls every --interval seconds, and
    commits land at random moments, so the expected figure is about half the
    interval plus one reconcile.
Then the render time of a 200-resource Jsonnet app (100 Deployments + 100
Services built with functions, comprehensions and `+:` merges): the full
render as the controller does it (private checkout, Jsonnet worker process,
parsing), cache disabled, and the bare evaluation with each Python binding
(gojsonnet and the C++ jsonnet) for comparison.

Run: `.venv/bin/python bench/gitsync_latency.py --commits 10 --interval 5`
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from rollouts.api.gitsync import ApplicationSource
from rollouts.api.resource import Resource
from rollouts.devcluster import LocalCluster
from rollouts.devcluster.processes import free_ports
from rollouts.gitsync.repo import RepoCache
from rollouts.gitsync.source import Renderer
from rollouts.kube.client import KubeClient, load_api_client
from rollouts.kube.errors import NotFoundError
from rollouts.kube.resources import CONFIGMAPS, NAMESPACES

REPO = Path(__file__).resolve().parent.parent
CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced=False)
GITSYNCS = Resource("rollouts.io", "v1alpha1", "gitsyncs", "GitSync")
NAMESPACE = "bench-gitsync"

APP_200 = """\
local deployment(name, image, replicas) = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: name, labels: { app: name } },
  spec: {
    replicas: replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'app', image: image, ports: [{ containerPort: 8080 }] }] },
    },
  },
};
local service(name) = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: name },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
};
local tuned = {
  spec+: { template+: { spec+: {
    containers: [c { resources: { requests: { cpu: '10m' } } } for c in super.containers],
  } } },
};
{
  ['deploy-%03d' % i]: deployment('svc-%03d' % i, 'app:%d' % (i % 7), 1 + i % 3) + tuned
  for i in std.range(1, 100)
} + {
  ['service-%03d' % i]: service('svc-%03d' % i)
  for i in std.range(1, 100)
}
"""


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.email=bench@example.invalid", "-c", "user.name=bench", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def configmap(value: int) -> str:
    return yaml.safe_dump(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "payload"}, "data": {"value": str(value)}}
    )


def commit_value(repo: Path, value: int) -> None:
    (repo / "payload.yaml").write_text(configmap(value))
    git(repo, "commit", "--quiet", "-am", f"value {value}")


def spread(label: str, values: list[float]) -> str:
    ordered = sorted(values)
    q1, _, q3 = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else (ordered[0],) * 3
    return (
        f"{label:34} n={len(values):3d} median={statistics.median(values):8.3f}s "
        f"IQR=[{q1:.3f}, {q3:.3f}] min={ordered[0]:.3f} max={ordered[-1]:.3f}"
    )


async def wait_value(client: KubeClient, value: int, *, timeout: float) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            cm = await client.get(CONFIGMAPS, NAMESPACE, "payload")
            if (cm.get("data") or {}).get("value") == str(value):
                return time.perf_counter()
        except NotFoundError:
            pass
        await asyncio.sleep(0.02)
    raise TimeoutError(f"value {value} not applied within {timeout}s")


def gitsync(name: str, repo: Path, refresh: str) -> dict[str, Any]:
    return {
        "apiVersion": "rollouts.io/v1alpha1",
        "kind": "GitSync",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "source": {"repoURL": str(repo), "path": ".", "targetRevision": "HEAD"},
            "refreshInterval": refresh,
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }


def start_controller(kubeconfig: Path, *, webhook_port: int, log_path: str) -> subprocess.Popen[bytes]:
    """The GitSync controller alone, in its own process, with the webhook on 127.0.0.1."""
    metrics_port, healthz_port = free_ports(2)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [
                sys.executable, "-m", "rollouts", "controller", f"--kubeconfig={kubeconfig}",
                "--controllers=gitsync", f"--gitsync-webhook-address=127.0.0.1:{webhook_port}",
                f"--metrics-port={metrics_port}", f"--healthz-port={healthz_port}",
            ],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


async def measure_latency(args: argparse.Namespace, cluster: LocalCluster, work: Path) -> None:
    client = KubeClient(await load_api_client(str(cluster.kubeconfig)), field_manager="bench")
    controller: subprocess.Popen[bytes] | None = None
    try:
        for path in sorted((REPO / "crds").glob("*.yaml")):
            body = yaml.safe_load(path.read_text())
            await client.patch(CRDS, None, body["metadata"]["name"], body, patch_type="apply", force=True)
        await client.create(NAMESPACES, None, {"metadata": {"name": NAMESPACE}})
        webhook_port = free_ports(1)[0]
        controller = start_controller(cluster.kubeconfig, webhook_port=webhook_port, log_path=args.controller_log)
        for mode in ("webhook", "interval"):
            repo = work / f"repo-{mode}"
            repo.mkdir()
            git(repo, "init", "--quiet", "--initial-branch=main")
            (repo / "payload.yaml").write_text(configmap(0))
            git(repo, "add", "--all")
            git(repo, "commit", "--quiet", "-m", "initial")
            refresh = "1h" if mode == "webhook" else f"{args.interval:g}s"
            await client.create(GITSYNCS, NAMESPACE, gitsync(mode, repo, refresh))
            await wait_value(client, 0, timeout=120)
            await client.delete(CONFIGMAPS, NAMESPACE, "payload")  # the next sync re-creates it: 0 -> 1 -> ...
            latencies: list[float] = []
            async with httpx.AsyncClient() as http:
                for value in range(1, args.commits + 1):
                    if mode == "interval":
                        await asyncio.sleep(random.uniform(0, args.interval))  # commits land at random phases
                    commit_value(repo, value)
                    committed = time.perf_counter()
                    if mode == "webhook":
                        event = {"ref": "refs/heads/main", "repository": {"clone_url": repo.as_uri()}}
                        answer = await http.post(f"http://127.0.0.1:{webhook_port}/api/webhook", json=event)
                        answer.raise_for_status()
                    applied = await wait_value(client, value, timeout=args.interval * 4 + 60)
                    latencies.append(applied - committed)
            label = "commit->applied (webhook)" if mode == "webhook" else f"commit->applied (interval {refresh})"
            print(spread(label, latencies), flush=True)
            await client.delete(GITSYNCS, NAMESPACE, mode)
    finally:
        if controller is not None:
            controller.terminate()
            controller.wait(timeout=30)
        await client.close()


async def measure_render(args: argparse.Namespace, work: Path) -> None:
    repo = work / "repo-jsonnet"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "main.jsonnet").write_text(APP_200)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "app")
    source = ApplicationSource.model_validate({"repoURL": str(repo), "path": "app"})
    repos = RepoCache(work / "cache")
    timings: list[float] = []
    count = 0
    for _ in range(args.renders):
        renderer = Renderer(repos=repos)  # a fresh result cache: every render is a miss
        commit = await renderer.resolve(source)
        started = time.perf_counter()
        objects = await renderer.render(source, commit=commit, namespace="bench")
        timings.append(time.perf_counter() - started)
        count = len(objects)
    print(spread(f"render {count}-resource Jsonnet app", timings), flush=True)
    for module in ("_gojsonnet", "_jsonnet"):
        try:
            binding = importlib.import_module(module)
        except ImportError:
            print(f"{module}: not installed")
            continue
        evaluations = []
        for _ in range(args.renders):
            started = time.perf_counter()
            text = binding.evaluate_file(str(repo / "app" / "main.jsonnet"))
            evaluations.append(time.perf_counter() - started)
        assert len(json.loads(text)) == 200
        print(spread(f"evaluate only, {module}", evaluations), flush=True)


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="rollouts-bench-gitsync-") as tmp:
        work = Path(tmp)
        await measure_render(args, work)
        if args.skip_latency:
            return
        with LocalCluster(nodes=1) as cluster:
            await measure_latency(args, cluster, work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=10, help="commits measured per mode (1-100)")
    parser.add_argument("--interval", type=float, default=5.0, help="refreshInterval seconds of the polling mode")
    parser.add_argument("--renders", type=int, default=5, help="renders of the 200-resource app")
    parser.add_argument("--skip-latency", action="store_true", help="only the render figures (no cluster)")
    parser.add_argument("--controller-log", default="/tmp/rollouts-bench-gitsync-controller.log")
    args = parser.parse_args()
    if not 1 <= args.commits <= 100:
        parser.error("--commits must be between 1 and 100")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
