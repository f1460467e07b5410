"""The REST verbs over resources (get, list, create, replace, patch, apply, delete, watch) as raw JSON.

One instance is shared by a process (it holds the connection pool). Every call
has a timeout, every write names our field manager, and every request is
counted per verb and resource (`rollouts.kube.accounting`). How a request
travels and how its errors are mapped is `rollouts.kube.transport` and
`rollouts.kube.errors`; the query strings and bodies the verbs send are
`rollouts.kube.options`. Where a kind lives is a `Resource` (declared in
`rollouts.api.resource`, see there why).
"""

from __future__ import annotations

import asyncio
import copy
import os
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config
from kubernetes_asyncio.client.api_client import ApiClient

from rollouts.api.resource import Resource
from rollouts.kube.accounting import RequestAccounting, RequestObserver, SkipObserver
from rollouts.kube.decode import SkipHandler
from rollouts.kube.options import (
    conditional_patch,
    delete_options,
    list_query,
    patch_content_type,
    patch_query,
    watch_query,
)
from rollouts.kube.transport import DEFAULT_TIMEOUT_SECONDS, Transport

Items = list[dict[str, Any]]


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
        on_skip: SkipObserver | None = None,
    ) -> None:
        """`on_request` sees every request; `on_skip` every object left out of an answer as undecodable."""
        self.field_manager = field_manager
        self.transport = Transport(
            api_client, timeout=timeout, impersonate=impersonate, accounting=RequestAccounting(on_request, on_skip)
        )

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

    @property
    def api_client(self) -> ApiClient:
        return self.transport.api_client

    @property
    def timeout(self) -> float:
        return self.transport.timeout

    @property
    def impersonate(self) -> str | None:
        """The user requests are authorised as (Kubernetes impersonation), None for our own identity."""
        return self.transport.impersonate

    @property
    def request_counts(self) -> Counter[tuple[str, str]]:
        """(verb, plural) -> requests sent, whatever their outcome; read by benchmarks and tests."""
        return self.transport.accounting.counts

    async def close(self) -> None:
        await self.api_client.close()

    def impersonating(self, user: str) -> KubeClient:
        """A client whose requests the API server authorises as `user` (e.g. system:serviceaccount:ns:name).

        It shares this client's connection pool and request account, so it is
        cheap to make per request and must never be closed on its own.
        """
        clone = copy.copy(self)
        clone.transport = self.transport.impersonating(user)
        return clone

    def fenced(self, fence: Callable[[], None]) -> KubeClient:
        """A client whose every write first calls `fence` (e.g. `LeaderElector.check_leading`), which may refuse it.

        Shares this client's connection pool and account; never close it on its own.
        """
        clone = copy.copy(self)
        clone.transport = self.transport.fenced(fence)
        return clone

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
        return await self.transport.request(
            method, path, query=query, body=body, content_type=content_type, counted_as=counted_as
        )

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
        on_skip: SkipHandler | None = None,
    ) -> dict[str, Any]:
        """One page of a list; see `list_all` for every page.

        An item that cannot be decoded is left out (counted, logged, and passed
        to `on_skip`) instead of failing the page: it must not block its kind.
        """
        query = list_query(
            label_selector=label_selector,
            field_selector=field_selector,
            resource_version=resource_version,
            limit=limit,
            continue_token=continue_token,
        )
        page, skipped = await self.transport.request_list(resource, namespace, query=query)
        for one in skipped:
            self.transport.accounting.record_skip(resource, one)
            if on_skip is not None:
                on_skip(one)
        return page

    async def list_all(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
        on_skip: SkipHandler | None = None,
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
                on_skip=on_skip,
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
        content_type = patch_content_type(patch_type)
        return await self.request(
            "PATCH",
            resource.path(namespace, name, subresource),
            query=patch_query(field_manager=self.field_manager, patch_type=patch_type, force=force),
            body=conditional_patch(patch, resource_version),
            content_type=content_type,
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
        return await self.request(
            "DELETE",
            resource.path(namespace, name),
            body=delete_options(propagation=propagation, uid=uid, resource_version=resource_version),
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

        An event whose object cannot be decoded is counted, logged and
        delivered as {"type": "UNDECODABLE", "skipped": Skipped} so the caller
        can move past it (`rollouts.kube.decode`).
        """
        query = watch_query(
            resource_version=resource_version,
            label_selector=label_selector,
            field_selector=field_selector,
            timeout_seconds=timeout_seconds,
        )
        events = self.transport.watch(resource, namespace, query=query, idle_seconds=timeout_seconds + 30)
        async with aclosing(events) as stream:
            async for event in stream:
                yield event
