"""How every CLI command reaches the cluster: flags, kubeconfig, namespace, errors.

The commands share one set of connection flags (--kubeconfig, --context,
-n/--namespace), resolved the way kubectl does: the flag, else $KUBECONFIG
(several paths joined with ':'), else ~/.kube/config, else the in-cluster
service account. The namespace is the flag, else the context's namespace, else
the service account's namespace, else "default".

Kubernetes failures become `CommandError`s of one line (not found, forbidden,
unreachable, invalid), so no command ever prints a traceback. Commands are
plain functions (args -> exit code) that must also be callable from inside a
running event loop (tests call `main([...])` from async code), so `run_async`
runs the command's coroutine on a private loop in a worker thread in that case.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config

from rollouts.api.resource import Resource
from rollouts.cli.main import CommandError
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ForbiddenError, InvalidError, KubeError, NotFoundError, UnreachableError

FIELD_MANAGER = "kubectl-rollouts"
REQUEST_TIMEOUT_SECONDS = 20.0
_READ_ATTEMPTS = 4
_TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
_IN_CLUSTER_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")

T = TypeVar("T")


def add_connection_flags(parser: argparse.ArgumentParser) -> None:
    """The kubectl-style flags every command that talks to a cluster accepts."""
    group = parser.add_argument_group("cluster connection")
    group.add_argument("--kubeconfig", help="path to the kubeconfig file (default: $KUBECONFIG)")
    group.add_argument("--context", help="the kubeconfig context to use")
    group.add_argument("-n", "--namespace", help="namespace (default: the context's namespace)")


@dataclass(frozen=True)
class Connection:
    """Where the commands send requests, and the namespace they work in."""

    kubeconfig: str | None
    context: str | None
    namespace: str
    in_cluster: bool


def _kubeconfig_paths(flag: str | None) -> str | None:
    if flag:
        if not Path(flag).expanduser().exists():
            raise CommandError(f"kubeconfig file {flag} does not exist")
        return str(Path(flag).expanduser())
    from_env = os.environ.get("KUBECONFIG", "")
    existing = [p for p in from_env.split(os.pathsep) if p and Path(p).expanduser().exists()]
    if existing:
        return os.pathsep.join(existing)
    default = Path("~/.kube/config").expanduser()
    return str(default) if default.exists() else None


def resolve_connection(args: argparse.Namespace) -> Connection:
    """Decide kubeconfig/context/namespace from flags and the environment (no network)."""
    kubeconfig = _kubeconfig_paths(getattr(args, "kubeconfig", None))
    context = getattr(args, "context", None)
    namespace = getattr(args, "namespace", None)
    if kubeconfig is None:
        if not os.environ.get("KUBERNETES_SERVICE_HOST"):
            raise CommandError("no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or run inside a cluster")
        if not namespace:
            try:
                namespace = _IN_CLUSTER_NAMESPACE_FILE.read_text().strip() or "default"
            except OSError:
                namespace = "default"
        return Connection(kubeconfig=None, context=None, namespace=namespace, in_cluster=True)
    if not namespace:
        namespace = _context_namespace(kubeconfig, context)
    return Connection(kubeconfig=kubeconfig, context=context, namespace=namespace, in_cluster=False)


def _context_namespace(kubeconfig: str, context: str | None) -> str:
    try:
        contexts, active = k8s_config.list_kube_config_contexts(config_file=kubeconfig)
    except (k8s_config.ConfigException, OSError, ValueError) as error:
        raise CommandError(f"cannot read kubeconfig {kubeconfig}: {error}") from error
    chosen = active
    if context:
        chosen = next((c for c in contexts if c.get("name") == context), None)
        if chosen is None:
            raise CommandError(f'context "{context}" does not exist in {kubeconfig}')
    namespace = ((chosen or {}).get("context") or {}).get("namespace")
    return str(namespace) if namespace else "default"


@asynccontextmanager
async def connect(connection: Connection) -> AsyncIterator[KubeClient]:
    """A KubeClient for the connection, closed afterwards."""
    configuration = k8s_client.Configuration()
    try:
        if connection.in_cluster:
            k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        else:
            await k8s_config.load_kube_config(
                config_file=connection.kubeconfig,
                context=connection.context,
                client_configuration=configuration,
            )
    except (k8s_config.ConfigException, OSError, ValueError, TypeError, KeyError) as error:
        raise CommandError(f"invalid cluster configuration: {error}") from error
    client = KubeClient(
        k8s_client.ApiClient(configuration),
        field_manager=FIELD_MANAGER,
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    try:
        yield client
    finally:
        await client.close()


def _server_message(error: KubeError) -> str:
    # KubeClient prefixes "METHOD /path: "; the API server's own message is what users know.
    text = str(error)
    head, sep, rest = text.partition(": ")
    if sep and (head.split(" ", 1)[0].isupper() or head.startswith("watch")):
        return rest
    return text


def describe_error(error: KubeError, *, resource: Resource | None = None, name: str | None = None) -> str:
    """One line saying what went wrong, in the words kubectl would use."""
    if isinstance(error, NotFoundError) and resource is not None and name is not None:
        return f'{resource.plural}.{resource.group or "core"} "{name}" not found'
    if isinstance(error, UnreachableError):
        return f"cannot reach the cluster: {_server_message(error)}"
    if isinstance(error, ForbiddenError):
        return f"forbidden: {_server_message(error)}"
    if isinstance(error, InvalidError):
        return f"rejected by the API server: {_server_message(error)}"
    return _server_message(error) or type(error).__name__


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a command's coroutine; Kubernetes errors become CommandError."""

    async def guarded() -> T:
        try:
            return await factory()
        except KubeError as error:
            raise CommandError(describe_error(error)) from None
        except ExceptionGroup as group:  # from TaskGroups: report the first user-facing error
            leaf = _first_leaf(group)
            if isinstance(leaf, CommandError):
                raise leaf from None
            if isinstance(leaf, KubeError):
                raise CommandError(describe_error(leaf)) from None
            raise

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(guarded())
    # Called from inside an event loop (in-process use): run on a private loop in a thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, guarded()).result()


async def with_retries(call: Callable[[], Awaitable[T]]) -> T:
    """Retry a read a few times on answers that mean "try again" (429, 5xx)."""
    for attempt in range(_READ_ATTEMPTS):
        try:
            return await call()
        except KubeError as error:
            if error.status not in _TRANSIENT_STATUSES or attempt == _READ_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


async def get_named(client: KubeClient, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
    """GET one object; a missing one is a one-line CommandError naming it."""
    try:
        return await with_retries(lambda: client.get(resource, namespace, name))
    except NotFoundError as error:
        raise CommandError(describe_error(error, resource=resource, name=name)) from None


async def list_items(
    client: KubeClient, resource: Resource, namespace: str | None, *, label_selector: str | None = None
) -> list[dict[str, Any]]:
    listing = await with_retries(lambda: client.list(resource, namespace, label_selector=label_selector))
    items: list[dict[str, Any]] = listing.get("items") or []
    return items


async def patch_named(
    client: KubeClient,
    resource: Resource,
    *,
    namespace: str,
    name: str,
    patch: Any,
    patch_type: str = "merge",
    subresource: str | None = None,
) -> dict[str, Any]:
    try:
        return await client.patch(resource, namespace, name, patch, patch_type=patch_type, subresource=subresource)
    except NotFoundError as error:
        raise CommandError(describe_error(error, resource=resource, name=name)) from None


async def patch_status_or_object(
    client: KubeClient, resource: Resource, *, namespace: str, name: str, patch: Any
) -> dict[str, Any]:
    """Merge-patch the status subresource, falling back to the object (CRDs without it).

    This is what Argo's plugin does for abort/retry/promote: the status
    subresource first; a 404 there means either no such object or no status
    subresource, and the plain patch then tells which.
    """
    try:
        return await client.patch(resource, namespace, name, patch, subresource="status")
    except NotFoundError:
        return await patch_named(client, resource, namespace=namespace, name=name, patch=patch)
