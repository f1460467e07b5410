"""A thin raw-JSON Kubernetes client over kubernetes_asyncio's transport.

kubernetes_asyncio gives us configuration, authentication and TLS; its
generated model classes are slow and would sit on every hot path, so requests
here go through `ApiClient.call_api(..., _preload_content=False)` and bodies
are parsed with orjson into plain dicts (DESIGN.md §4). Every call has a
timeout, every write names our field manager, and every request is counted per
verb and resource for `controller_clientset_k8s_request_total` and benchmarks.
Errors become a small hierarchy (NotFound, Conflict, Forbidden, ...) so callers
can react to what happened rather than to status codes.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import aiohttp
import orjson
from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config
from kubernetes_asyncio.client.api_client import ApiClient

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]
Items = list[JsonObject]

DEFAULT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Resource:
    """Where a kind lives in the API: group, version, plural and scope."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
            if subresource:
                base += f"/{subresource}"
        return base


PODS = Resource("", "v1", "pods", "Pod")
SERVICES = Resource("", "v1", "services", "Service")
POD_TEMPLATES = Resource("", "v1", "podtemplates", "PodTemplate")
EVENTS = Resource("", "v1", "events", "Event")
SECRETS = Resource("", "v1", "secrets", "Secret")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
REPLICASETS = Resource("apps", "v1", "replicasets", "ReplicaSet")
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
JOBS = Resource("batch", "v1", "jobs", "Job")
LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease")
ROLLOUTS = Resource("argoproj.io", "v1alpha1", "rollouts", "Rollout")
ANALYSIS_RUNS = Resource("argoproj.io", "v1alpha1", "analysisruns", "AnalysisRun")
ANALYSIS_TEMPLATES = Resource("argoproj.io", "v1alpha1", "analysistemplates", "AnalysisTemplate")
CLUSTER_ANALYSIS_TEMPLATES = Resource(
    "argoproj.io",
    "v1alpha1",
    "clusteranalysistemplates",
    "ClusterAnalysisTemplate",
    namespaced=False,
)
EXPERIMENTS = Resource("argoproj.io", "v1alpha1", "experiments", "Experiment")


class KubeError(Exception):
    """An API call failed; `status` is the HTTP status (0 when none was received)."""

    def __init__(self, message: str, *, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class NotFoundError(KubeError):
    pass


class ConflictError(KubeError):
    """409: a stale resourceVersion, or the object already exists (reason AlreadyExists)."""


class ForbiddenError(KubeError):
    pass


class InvalidError(KubeError):
    """422: the API server rejected the object; the message says which field."""


class GoneError(KubeError):
    """410: the resourceVersion asked for is too old (watch must relist)."""


class UnreachableError(KubeError):
    """No HTTP answer at all: connection refused, DNS, TLS, timeout."""


_ERRORS: dict[int, type[KubeError]] = {
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    422: InvalidError,
}


def _error(status: int, body: bytes, what: str) -> KubeError:
    message, reason = body.decode(errors="replace")[:500], ""
    try:
        parsed = orjson.loads(body)
        if isinstance(parsed, dict):
            message = str(parsed.get("message") or message)
            reason = str(parsed.get("reason") or "")
    except orjson.JSONDecodeError:
        pass
    return _ERRORS.get(status, KubeError)(f"{what}: {message}", status=status, reason=reason)


class RequestInfo(NamedTuple):
    """One API request as counted for `controller_clientset_k8s_request_total`.

    `verb` is Argo's (client-go metrics) spelling: Get, List, Watch, Create,
    Update, Patch, Delete. `status_code` is 0 when no HTTP answer came back.
    """

    verb: str
    resource: Resource
    namespace: str
    name: str
    status_code: int


RequestObserver = Callable[[RequestInfo], None]

PATCH_CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}


async def load_api_client(kubeconfig: str | None = None, context: str | None = None) -> ApiClient:
    """kubeconfig (path, KUBECONFIG, ~/.kube/config) or in-cluster configuration."""
    if kubeconfig and not await asyncio.to_thread(os.path.isfile, kubeconfig):
        raise k8s_config.ConfigException(f"kubeconfig {kubeconfig} does not exist")
    configuration = k8s_client.Configuration()
    try:
        await k8s_config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
    except (k8s_config.ConfigException, FileNotFoundError, TypeError):
        if kubeconfig:
            raise
        k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    return ApiClient(configuration)


class KubeClient:
    """Raw-JSON requests; one instance shared by a process (it holds the connection pool)."""

    def __init__(
        self,
        api_client: ApiClient,
        *,
        field_manager: str = "rollouts-controller",
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        on_request: RequestObserver | None = None,
        impersonate: str | None = None,
    ) -> None:
        self.api_client = api_client
        self.field_manager = field_manager
        self.timeout = timeout
        # Kubernetes user impersonation (Impersonate-User): requests are authorised as that user.
        self.impersonate = impersonate
        # (verb, plural) -> requests sent, whatever their outcome; read by benchmarks and tests.
        self.request_counts: Counter[tuple[str, str]] = Counter()
        self._on_request = on_request

    @classmethod
    async def from_config(
        cls,
        kubeconfig: str | None = None,
        *,
        context: str | None = None,
        field_manager: str = "rollouts-controller",
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        on_request: RequestObserver | None = None,
    ) -> KubeClient:
        api_client = await load_api_client(kubeconfig, context)
        return cls(api_client, field_manager=field_manager, timeout=timeout, on_request=on_request)

    async def close(self) -> None:
        await self.api_client.close()

    def impersonating(self, user: str) -> KubeClient:
        """A client whose requests the API server authorises as `user` (e.g. system:serviceaccount:ns:name).

        It shares this client's connection pool, so it is cheap to make per
        request and must never be closed on its own.
        """
        clone = KubeClient(
            self.api_client,
            field_manager=self.field_manager,
            timeout=self.timeout,
            on_request=self._on_request,
            impersonate=user,
        )
        clone.request_counts = self.request_counts
        return clone

    def _count(self, info: RequestInfo) -> None:
        self.request_counts[(info.verb.lower(), info.resource.plural)] += 1
        if self._on_request is not None:
            try:
                self._on_request(info)
            except Exception:  # metrics must never fail a request
                log.exception("request observer failed")

    async def _send(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | aiohttp.ClientTimeout | None = None,
    ) -> aiohttp.ClientResponse:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        if self.impersonate:
            headers["Impersonate-User"] = self.impersonate
        try:
            response: aiohttp.ClientResponse = await self.api_client.call_api(
                path,
                method,
                query_params=query or [],
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=timeout if timeout is not None else self.timeout,
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise UnreachableError(f"{method} {path}: {error or type(error).__name__}") from error
        return response

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        counted_as: tuple[str, Resource, str, str] | None = None,
    ) -> dict[str, Any]:
        """Send one request and parse the JSON answer; non-2xx raises a KubeError subclass.

        `counted_as` = (verb, resource, namespace, name) reports the request to
        the request observer with its status code.
        """
        status = 0
        try:
            response = await self._send(method, path, query=query, body=body, content_type=content_type)
            async with response:
                status = response.status
                try:
                    data = await asyncio.wait_for(response.read(), self.timeout)
                except (aiohttp.ClientError, TimeoutError) as error:
                    raise UnreachableError(f"{method} {path}: {error or type(error).__name__}") from error
                if not 200 <= response.status < 300:
                    raise _error(response.status, data, f"{method} {path}")
        finally:
            if counted_as is not None:
                verb, resource, namespace, name = counted_as
                self._count(RequestInfo(verb, resource, namespace, name, status))
        try:
            parsed: dict[str, Any] = orjson.loads(data) if data else {}
        except orjson.JSONDecodeError as error:
            raise KubeError(f"{method} {path}: the answer is not JSON: {error}", status=status) from error
        return parsed

    # ------------------------------------------------------------------ verbs

    async def get(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        *,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        return await self.request(
            "GET",
            resource.path(namespace, name, subresource),
            counted_as=("Get", resource, namespace or "", name),
        )

    async def list(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> dict[str, Any]:
        """One page of a list; see `list_all` for every page."""
        query = []
        if label_selector:
            query.append(("labelSelector", label_selector))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        if resource_version is not None:
            query.append(("resourceVersion", resource_version))
        if limit:
            query.append(("limit", str(limit)))
        if continue_token:
            query.append(("continue", continue_token))
        return await self.request(
            "GET", resource.path(namespace), query=query, counted_as=("List", resource, namespace or "", "")
        )

    async def list_all(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
    ) -> tuple[Items, str]:
        """Every item (paged, so a big list never lands in one response) and the list's resourceVersion.

        Items get `apiVersion` and `kind`, which list responses leave out.
        A continue token that expired mid-way raises GoneError: list again.
        """
        items: Items = []
        token: str | None = None
        while True:
            page = await self.list(
                resource,
                namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                limit=page_size,
                continue_token=token,
            )
            for item in page.get("items") or []:
                item.setdefault("apiVersion", resource.api_version)
                item.setdefault("kind", resource.kind)
                items.append(item)
            metadata = page.get("metadata") or {}
            token = metadata.get("continue")
            if not token:
                return items, str(metadata.get("resourceVersion") or "")

    async def create(self, resource: Resource, namespace: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """POST; an existing name raises ConflictError with reason AlreadyExists."""
        name = str((body.get("metadata") or {}).get("name") or "")
        return await self.request(
            "POST",
            resource.path(namespace),
            query=[("fieldManager", self.field_manager)],
            body=body,
            counted_as=("Create", resource, namespace or "", name),
        )

    async def replace(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        body: dict[str, Any],
        *,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        """PUT; carries body.metadata.resourceVersion, so a stale write raises ConflictError."""
        return await self.request(
            "PUT",
            resource.path(namespace, name, subresource),
            query=[("fieldManager", self.field_manager)],
            body=body,
            counted_as=("Update", resource, namespace or "", name),
        )

    async def update_status(self, resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        """PUT the status subresource of `obj` (with its resourceVersion: 409 if someone wrote first)."""
        meta = obj.get("metadata") or {}
        return await self.replace(resource, meta.get("namespace"), meta["name"], obj, subresource="status")

    async def patch(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        patch: Any,
        *,
        patch_type: str = "merge",
        subresource: str | None = None,
        force: bool = False,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """PATCH with a merge, strategic, JSON or server-side apply ("apply") patch.

        `resource_version` makes the patch conditional: ConflictError if the
        object changed since. `force` takes fields owned by other managers (apply only).
        """
        if patch_type not in PATCH_CONTENT_TYPES:
            raise ValueError(f"unknown patch type {patch_type!r}; one of {', '.join(PATCH_CONTENT_TYPES)}")
        if resource_version is not None:
            if not isinstance(patch, dict):
                raise ValueError("a conditional patch (resource_version) needs an object patch, not a JSON patch")
            metadata = {**(patch.get("metadata") or {}), "resourceVersion": resource_version}
            patch = {**patch, "metadata": metadata}
        query = [("fieldManager", self.field_manager)]
        if patch_type == "apply" and force:
            query.append(("force", "true"))
        return await self.request(
            "PATCH",
            resource.path(namespace, name, subresource),
            query=query,
            body=patch,
            content_type=PATCH_CONTENT_TYPES[patch_type],
            counted_as=("Patch", resource, namespace or "", name),
        )

    async def apply(
        self,
        resource: Resource,
        body: dict[str, Any],
        *,
        force: bool = True,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        """Server-side apply of a whole object under our field manager."""
        meta = body.get("metadata") or {}
        return await self.patch(
            resource,
            meta.get("namespace"),
            meta["name"],
            body,
            patch_type="apply",
            force=force,
            subresource=subresource,
        )

    async def delete(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        *,
        propagation: str | None = None,
        uid: str | None = None,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """DELETE; `uid` / `resource_version` preconditions make sure we delete the object we looked at."""
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if propagation:
            body["propagationPolicy"] = propagation
        preconditions: dict[str, str] = {}
        if uid:
            preconditions["uid"] = uid
        if resource_version:
            preconditions["resourceVersion"] = resource_version
        if preconditions:
            body["preconditions"] = preconditions
        return await self.request(
            "DELETE",
            resource.path(namespace, name),
            body=body,
            counted_as=("Delete", resource, namespace or "", name),
        )

    async def watch(
        self,
        resource: Resource,
        namespace: str | None,
        *,
        resource_version: str,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int = 300,
    ) -> AsyncIterator[dict[str, Any]]:
        """Watch events as dicts ({"type", "object"}), bookmarks included, until the server ends it.

        The stream is split on newlines by hand: aiohttp's line reader refuses
        lines over 128 KiB, and one large object must not wedge a watch.
        """
        query = [
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("resourceVersion", resource_version),
            ("timeoutSeconds", str(timeout_seconds)),
        ]
        if label_selector:
            query.append(("labelSelector", label_selector))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        # No total timeout on a watch: only connect and idle-read limits (bookmarks arrive about every minute).
        timeout = aiohttp.ClientTimeout(total=None, connect=self.timeout, sock_read=timeout_seconds + 30)
        status = 0
        try:
            response = await self._send("GET", resource.path(namespace), query=query, timeout=timeout)
            status = response.status
        finally:
            self._count(RequestInfo("Watch", resource, namespace or "", "", status))
        async with response:
            if not 200 <= response.status < 300:
                raise _error(response.status, await response.read(), f"WATCH {resource.plural}")
            buffer = bytearray()
            try:
                async for chunk in response.content.iter_any():
                    searched = len(buffer)  # earlier bytes hold no newline
                    buffer += chunk
                    end = buffer.find(b"\n", searched)
                    start = 0
                    while end != -1:
                        line = bytes(buffer[start:end])
                        if line.strip():
                            yield orjson.loads(line)
                        start = end + 1
                        end = buffer.find(b"\n", start)
                    del buffer[:start]
            except (aiohttp.ClientError, TimeoutError) as error:
                raise UnreachableError(f"watch {resource.plural}: {error or type(error).__name__}") from error
            if buffer.strip():
                yield orjson.loads(bytes(buffer))
