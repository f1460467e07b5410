"""`rollouts controller`: run the registered controllers against a cluster until SIGTERM.

Flags follow Argo's controller where they overlap (`--leader-elect`,
`--instance-id`, `--metrics-port`, `--healthz-port`, lease timings). With no
`--kubeconfig` the usual kubeconfig lookup applies, then in-cluster
configuration. SIGTERM / SIGINT stop gracefully: no new work, in-flight
reconciles finish, the Lease is released; the exit code is 0. Losing the Lease
exits with 1 so the pod restarts as a standby.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import uuid
from pathlib import Path

from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.cli.main import CommandError

log = logging.getLogger("rollouts.controller")

LEASE_NAME = "argo-rollouts-controller-lock"
_SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def default_election_namespace() -> str:
    """Argo's rule: POD_NAMESPACE, else the service account's namespace, else argo-rollouts."""
    if "POD_NAMESPACE" in os.environ:
        return os.environ["POD_NAMESPACE"]
    try:
        namespace = _SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
    except OSError:
        namespace = ""
    return namespace or "argo-rollouts"


def lease_name(instance_id: str | None) -> str:
    """Argo's lock name; controllers of different instance ids elect leaders independently."""
    return f"{LEASE_NAME}-{instance_id}" if instance_id else LEASE_NAME


def selected_controllers(flag: str | None, *, disable_gitsync: bool) -> list[str] | None:
    """Names from --controllers (None: every registered one), minus gitsync when disabled."""
    from rollouts.controllers import CONTROLLER_FACTORIES

    names = [n.strip() for n in flag.split(",") if n.strip()] if flag else None
    if disable_gitsync:
        names = [n for n in (names if names is not None else list(CONTROLLER_FACTORIES)) if n != "gitsync"]
    return names


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be a port number (0-65535)")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("controller", help="run the rollout controller")
    parser.add_argument("--kubeconfig", help="kubeconfig path (default: KUBECONFIG, ~/.kube/config, in-cluster)")
    parser.add_argument("--context", help="kubeconfig context")
    parser.add_argument("--namespace", help="only watch this namespace (default: all)")
    parser.add_argument("--workers", type=_positive_int, default=10, help="concurrent reconciles per controller")
    parser.add_argument(
        "--prometheus-address",
        default=os.environ.get("PROMETHEUS_ADDRESS"),
        help="Prometheus used by analysis metrics that name no address",
    )
    parser.add_argument(
        "--controllers",
        help="comma-separated subset of the registered controllers to run (default: all)",
    )
    parser.add_argument(
        "--disable-gitsync", action="store_true", help="do not run the GitSync controller (the chart's gitSync.enabled)"
    )
    parser.add_argument(
        "--gitsync-webhook-address",
        default=os.environ.get("GITSYNC_WEBHOOK_ADDRESS", ""),
        help="HOST:PORT for the Git push webhook POST /api/webhook (default: off; secret from GITSYNC_WEBHOOK_SECRET)",
    )
    parser.add_argument(
        "--gitsync-default-service-account",
        default=os.environ.get("GITSYNC_DEFAULT_SERVICE_ACCOUNT") or None,
        help="ServiceAccount of a GitSync's namespace to apply as when it names none (default: own rights)",
    )
    parser.add_argument("--leader-elect", action="store_true", help="elect a leader with a Lease")
    parser.add_argument(
        "--leader-election-namespace",
        default=None,
        help="namespace of the Lease (default: POD_NAMESPACE, the service account's, or argo-rollouts)",
    )
    parser.add_argument("--lease-duration", type=float, default=15.0, help="seconds (client-go default 15)")
    parser.add_argument("--renew-deadline", type=float, default=10.0, help="seconds (client-go default 10)")
    parser.add_argument("--retry-period", type=float, default=2.0, help="seconds (client-go default 2)")
    parser.add_argument("--instance-id", help=f"only reconcile objects labelled {INSTANCE_ID_LABEL}=<id>")
    parser.add_argument("--metrics-port", type=_port, default=8090)
    parser.add_argument("--healthz-port", type=_port, default=8080)
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")
    parser.add_argument(
        "--shutdown-grace", type=float, default=20.0, help="seconds in-flight reconciles get on SIGTERM"
    )
    parser.set_defaults(handler=run_controller)


async def _run(args: argparse.Namespace) -> int:
    from rollouts import metrics
    from rollouts.controllers import ControllerContext, UnknownControllerError, build_controllers
    from rollouts.kube.client import KubeClient, load_api_client
    from rollouts.kube.errors import KubeError
    from rollouts.kube.leaderelection import LeaderElector
    from rollouts.kube.runtime import LostLeadershipError, Manager

    try:
        api_client = await load_api_client(args.kubeconfig, args.context)
    except Exception as error:
        raise CommandError(f"cannot load Kubernetes configuration: {error}") from None
    client = KubeClient(api_client, on_request=metrics.count_request, on_skip=metrics.count_skipped)
    try:
        elector = None
        if args.leader_elect:
            try:
                elector = LeaderElector(
                    client,
                    namespace=args.leader_election_namespace or default_election_namespace(),
                    name=lease_name(args.instance_id),
                    # Like Argo: the pod's name (its hostname) plus a random suffix, unique per process.
                    identity=f"{os.environ.get('POD_NAME') or socket.gethostname()}_{uuid.uuid4()}",
                    lease_duration=args.lease_duration,
                    renew_deadline=args.renew_deadline,
                    retry_period=args.retry_period,
                    on_new_leader=lambda identity: log.info("new leader elected: %s", identity),
                )
            except ValueError as error:
                raise CommandError(f"leader election: {error}") from None
            log.info("leader election with lease %s/%s as %s", elector.namespace, elector.name, elector.identity)
        names = selected_controllers(args.controllers, disable_gitsync=args.disable_gitsync)
        try:
            controllers = build_controllers(
                ControllerContext(
                    # With an election, every controller write is fenced: refused once the Lease may be lost.
                    client=client.fenced(elector.check_leading) if elector is not None else client,
                    namespace=args.namespace,
                    instance_id=args.instance_id,
                    prometheus_address=args.prometheus_address,
                    gitsync_service_account=args.gitsync_default_service_account,
                ),
                names,
            )
        except UnknownControllerError as error:
            raise CommandError(str(error)) from None
        manager = Manager(
            controllers,
            workers=args.workers,
            elector=elector,
            shutdown_grace_seconds=args.shutdown_grace,
            queue_factory=metrics.instrumented_queue,
        )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, manager.stop)
        try:
            runners = await metrics.start_http(
                metrics_port=args.metrics_port, healthz_port=args.healthz_port, ready=lambda: manager.ready
            )
        except OSError as error:
            raise CommandError(f"cannot serve metrics/health: {error}") from None
        from rollouts.gitsync.webhook import start_webhook

        try:
            webhook = await start_webhook(
                controllers, address=args.gitsync_webhook_address, secret=os.environ.get("GITSYNC_WEBHOOK_SECRET")
            )
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot serve the gitsync webhook: {error}") from None
        runners += [webhook] if webhook else []
        try:
            await manager.run()
        except LostLeadershipError as error:
            log.error("%s", error)
            return 1
        except KubeError as error:
            raise CommandError(str(error)) from None
        finally:
            for runner in runners:
                await runner.cleanup()
        log.info("stopped")
        return 0
    finally:
        await client.close()


def run_controller(args: argparse.Namespace) -> int:
    from rollouts.kube.logcontext import configure_logging

    configure_logging(args.log_format, args.log_level)
    return asyncio.run(_run(args))
