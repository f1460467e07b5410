"""`rollouts controller`: run the controllers against a cluster until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import sys
import uuid

from rollouts.cli.main import CommandError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("controller", help="run the rollout controller")
    parser.add_argument("--kubeconfig", help="kubeconfig path (default: KUBECONFIG, ~/.kube/config, in-cluster)")
    parser.add_argument("--context", help="kubeconfig context")
    parser.add_argument("--namespace", help="only watch this namespace (default: all)")
    parser.add_argument("--workers", type=int, default=10, help="concurrent reconciles per controller")
    parser.add_argument("--leader-elect", action="store_true", help="elect a leader with a Lease")
    parser.add_argument("--leader-election-namespace", default=os.environ.get("POD_NAMESPACE", "default"))
    parser.add_argument("--lease-duration", type=float, default=15.0)
    parser.add_argument("--renew-deadline", type=float, default=10.0)
    parser.add_argument("--retry-period", type=float, default=2.0)
    parser.add_argument("--instance-id", help="only reconcile objects labelled argo-rollouts.argoproj.io/instance-id")
    parser.add_argument(
        "--prometheus-address",
        default=os.environ.get("PROMETHEUS_ADDRESS"),
        help="Prometheus used by analysis metrics that name no address",
    )
    parser.add_argument("--metrics-port", type=int, default=8090)
    parser.add_argument("--healthz-port", type=int, default=8080)
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    parser.add_argument("--log-level", default="info")
    parser.set_defaults(handler=run_controller)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def _configure_logging(fmt: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


async def _run(args: argparse.Namespace) -> int:
    from rollouts import metrics
    from rollouts.kube.client import KubeClient, KubeError, RequestInfo, load_api_client
    from rollouts.kube.leaderelection import LeaderElector
    from rollouts.kube.runtime import Controller, Manager
    from rollouts.analysis.controller import AnalysisRunController
    from rollouts.rollout.controller import RolloutController

    try:
        api_client = await load_api_client(args.kubeconfig, args.context)
    except Exception as error:
        raise CommandError(f"cannot load Kubernetes configuration: {error}") from None

    def count(request: RequestInfo) -> None:
        metrics.K8S_REQUESTS.labels(
            request.resource.kind, request.namespace, request.name, request.verb, str(request.status_code)
        ).inc()

    client = KubeClient(api_client, on_request=count)
    controllers: list[Controller] = [
        RolloutController(client, namespace=args.namespace, instance_id=args.instance_id),
        AnalysisRunController(
            client,
            namespace=args.namespace,
            instance_id=args.instance_id,
            prometheus_address=args.prometheus_address,
        ),
    ]
    elector = None
    if args.leader_elect:
        identity = f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"
        elector = LeaderElector(
            client,
            namespace=args.leader_election_namespace,
            name="argo-rollouts-controller-lock",
            identity=identity,
            lease_duration=args.lease_duration,
            renew_deadline=args.renew_deadline,
            retry_period=args.retry_period,
        )
    manager = Manager(controllers, workers=args.workers, elector=elector)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, manager.stop)
    runners = await metrics.start_http(
        metrics_port=args.metrics_port, healthz_port=args.healthz_port, ready=lambda: manager.ready
    )
    try:
        await manager.run()
    except KubeError as error:
        raise CommandError(str(error)) from None
    finally:
        for runner in runners:
            await runner.cleanup()
        await client.close()
    return 0


def run_controller(args: argparse.Namespace) -> int:
    _configure_logging(args.log_format, args.log_level)
    return asyncio.run(_run(args))
