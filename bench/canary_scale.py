"""Scale benchmark of the rollout controller (issue 4).

Starts a local control plane and the controller (a separate process, so its CPU
and memory are its own), creates N canary Rollouts (or, with --strategy
bluegreen, N blue-green Rollouts each with its active Service, where Healthy
means the active Service switched to the new pods), waits until all are
Healthy, then changes every pod template once and measures per rollout:
  - spec change -> new ReplicaSet created (seen on a watch),
  - spec change -> Rollout Healthy again on the new revision,
plus controller CPU seconds and peak RSS over the update phase, and Kubernetes
API requests per rollout update (the controller's own request counter, read
from its /metrics before and after).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio import config as k8s_config
from kubernetes_asyncio import watch as k8s_watch

from rollouts.devcluster import LocalCluster
from rollouts.devcluster.processes import free_ports
from rollouts.kube.client import KubeClient, load_api_client
from rollouts.kube.resources import REPLICASETS

REPO = Path(__file__).resolve().parent.parent
GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "rollouts"
NAMESPACE = "bench"


def rollout(name: str, replicas: int, image: str, strategy: str = "canary") -> dict[str, Any]:
    steps = [{"setWeight": 20}, {"pause": {"duration": "0s"}}, {"setWeight": 60}]
    chosen: dict[str, Any] = {"canary": {"steps": steps}}
    if strategy == "bluegreen":
        chosen = {"blueGreen": {"activeService": name}}
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Rollout",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
            "strategy": chosen,
        },
    }


def service(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def proc_peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def request_count(metrics_url: str) -> float:
    total = 0.0
    for line in httpx.get(metrics_url, timeout=10).text.splitlines():
        if line.startswith("controller_clientset_k8s_request_total"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def healthy_on(obj: dict[str, Any], generation: int) -> bool:
    status = obj.get("status") or {}
    return (
        status.get("phase") == "Healthy"
        and str(status.get("observedGeneration")) == str(generation)
        and status.get("currentPodHash") == status.get("stableRS")
    )


async def run(args: argparse.Namespace) -> None:
    with LocalCluster(nodes=args.nodes) as cluster:
        configuration = k8s.Configuration()
        await k8s_config.load_kube_config(str(cluster.kubeconfig), client_configuration=configuration)
        api = k8s.ApiClient(configuration)
        custom = k8s.CustomObjectsApi(api)
        core = k8s.CoreV1Api(api)
        crds = sorted((REPO / "crds").glob("*.yaml"))
        ext = k8s.ApiextensionsV1Api(api)
        for path in crds:
            for doc in yaml.safe_load_all(path.read_text()):
                if doc:
                    await ext.create_custom_resource_definition(doc)
        await asyncio.sleep(2)  # CRD establishment
        await core.create_namespace({"metadata": {"name": NAMESPACE}})
        metrics_port, healthz_port = free_ports(2)
        controller = subprocess.Popen(  # noqa: ASYNC220 - starts and returns; never waited on in the loop
            [
                sys.executable,
                "-m",
                "rollouts",
                "controller",
                f"--kubeconfig={cluster.kubeconfig}",
                f"--workers={args.workers}",
                f"--metrics-port={metrics_port}",
                f"--healthz-port={healthz_port}",
                "--log-format=json",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(args.controller_log, "wb"),  # noqa: SIM115, ASYNC230 - once, before timing starts
        )
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        try:
            names = [f"ro-{i:04d}" for i in range(args.rollouts)]
            for name in names:
                if args.strategy == "bluegreen":
                    await core.create_namespaced_service(NAMESPACE, service(name))
                await custom.create_namespaced_custom_object(
                    GROUP, VERSION, NAMESPACE, PLURAL, rollout(name, args.replicas, "app:v1", args.strategy)
                )
            print(f"created {len(names)} rollouts; waiting for Healthy", flush=True)
            await wait_all(custom, names, generation=1, timeout=args.timeout)
            print("all Healthy on v1; updating", flush=True)

            requests_before = request_count(metrics_url)
            cpu_before = proc_cpu_seconds(controller.pid)
            changed_at: dict[str, float] = {}
            new_rs_at: dict[str, float] = {}
            raw = KubeClient(await _api_client(cluster.kubeconfig))
            rs_watch = asyncio.create_task(watch_new_replicasets(raw, names, new_rs_at))
            await asyncio.sleep(1)  # the watch is established before the first update
            started = time.monotonic()
            for name in names:
                patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:v2"}]}}}}
                changed_at[name] = time.monotonic()
                await custom.patch_namespaced_custom_object(
                    GROUP,
                    VERSION,
                    NAMESPACE,
                    PLURAL,
                    name,
                    patch,
                    _content_type="application/merge-patch+json",
                )
            healthy_at = await wait_all(custom, names, generation=2, timeout=args.timeout)
            elapsed = time.monotonic() - started
            rs_watch.cancel()
            await raw.close()
            cpu = proc_cpu_seconds(controller.pid) - cpu_before
            requests = request_count(metrics_url) - requests_before
            rss = proc_peak_rss_mib(controller.pid)
        finally:
            controller.terminate()
            controller.wait(timeout=30)
            await api.close()

    to_rs = [(new_rs_at[n] - changed_at[n]) * 1000 for n in names if n in new_rs_at]
    to_healthy = [(healthy_at[n] - changed_at[n]) * 1000 for n in names]
    print()
    print(f"strategy={args.strategy} rollouts={args.rollouts} replicas={args.replicas} workers={args.workers}")
    for label, values in (("spec change -> new RS (ms)", to_rs), ("spec change -> Healthy (ms)", to_healthy)):
        if not values:
            print(f"{label:30} no samples")
            continue
        print(
            f"{label:30} p50={percentile(values, 50):8.0f} p90={percentile(values, 90):8.0f} "
            f"p99={percentile(values, 99):8.0f} min={min(values):8.0f} max={max(values):8.0f} "
            f"stdev={statistics.pstdev(values):8.0f} n={len(values)}"
        )
    print(f"{'all updated -> all Healthy (s)':30} {elapsed:.1f}")
    print(f"{'controller CPU seconds':30} {cpu:.1f}")
    print(f"{'controller peak RSS (MiB)':30} {rss:.0f}")
    print(f"{'API requests per update':30} {requests / len(names):.1f}")


async def wait_all(
    custom: k8s.CustomObjectsApi, names: list[str], *, generation: int, timeout: float
) -> dict[str, float]:
    """Watch rollouts until each is Healthy on `generation`; returns when each got there."""
    done: dict[str, float] = {}
    wanted = set(names)
    deadline = time.monotonic() + timeout
    while len(done) < len(wanted):
        listing = await custom.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL)
        for item in listing["items"]:
            name = item["metadata"]["name"]
            if name in wanted and name not in done and healthy_on(item, generation):
                done[name] = time.monotonic()
        if len(done) == len(wanted):
            break
        watch = k8s_watch.Watch()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{len(wanted) - len(done)} rollouts not Healthy in time")
        async with watch.stream(
            custom.list_namespaced_custom_object,
            GROUP,
            VERSION,
            NAMESPACE,
            PLURAL,
            resource_version=listing["metadata"]["resourceVersion"],
            timeout_seconds=int(remaining) + 1,
        ) as stream:
            async for event in stream:
                item = event["object"]
                name = item["metadata"]["name"]
                if name in wanted and name not in done and healthy_on(item, generation):
                    done[name] = time.monotonic()
                    if len(done) == len(wanted):
                        break
    return done


async def watch_new_replicasets(client: KubeClient, names: list[str], seen: dict[str, float]) -> None:
    """Record when each rollout's new ReplicaSet first appears (our raw watch; no polling)."""
    listing = await client.list(REPLICASETS, NAMESPACE)
    initial = {rs["metadata"]["name"] for rs in listing["items"]}
    wanted = set(names)
    async for event in client.watch(REPLICASETS, NAMESPACE, resource_version=listing["metadata"]["resourceVersion"]):
        meta = event["object"].get("metadata", {})
        if event["type"] != "ADDED" or meta.get("name") in initial:
            continue
        for owner in (o["name"] for o in meta.get("ownerReferences", []) if o["kind"] == "Rollout"):
            if owner in wanted and owner not in seen:
                seen[owner] = time.monotonic()


async def _api_client(kubeconfig: Path) -> Any:
    return await load_api_client(str(kubeconfig))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", choices=["canary", "bluegreen"], default="canary")
    parser.add_argument("--rollouts", type=int, default=200)
    parser.add_argument("--replicas", type=int, default=5)
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--controller-log", default="/tmp/rollouts-bench-controller.log")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
