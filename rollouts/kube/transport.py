"""One raw-JSON request to the API server over kubernetes_asyncio's connection pool.

kubernetes_asyncio gives us configuration, authentication and TLS; its
generated model classes are slow and would sit on every hot path, so requests
go through `ApiClient.call_api(..., _preload_content=False)` and bodies are
parsed with orjson into plain dicts (DESIGN.md §4). This module is the wire:
headers, impersonation, the timeout on every call, turning "no answer" and
non-2xx answers into KubeErrors, counting, and splitting a watch stream into
events. The REST verbs over resources are `rollouts.kube.client`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any

import aiohttp
import orjson
from kubernetes_asyncio.client.api_client import ApiClient

from rollouts.api.resource import Resource
from rollouts.kube.accounting import RequestAccounting, RequestInfo
from rollouts.kube.decode import UNDECODABLE, Skipped, decode_async, decode_event_async, decode_list_async
from rollouts.kube.errors import KubeError, UnreachableError, error_for_status

DEFAULT_TIMEOUT_SECONDS = 30.0


class Transport:
    """Sends requests on one connection pool, as one user, and records each in one account."""

    def __init__(
        self,
        api_client: ApiClient,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        impersonate: str | None = None,
        accounting: RequestAccounting | None = None,
        fence: Callable[[], None] | None = None,
    ) -> None:
        self.api_client = api_client
        self.timeout = timeout
        # Kubernetes user impersonation (Impersonate-User): requests are authorised as that user.
        self.impersonate = impersonate
        self.accounting = accounting if accounting is not None else RequestAccounting()
        # Called before every write; raises (NotLeaderError) to refuse it, e.g. once the leader Lease may be lost.
        self.fence = fence

    def impersonating(self, user: str) -> Transport:
        """The same pool, account and fence, requests authorised as `user`."""
        return Transport(
            self.api_client, timeout=self.timeout, impersonate=user, accounting=self.accounting, fence=self.fence
        )

    def fenced(self, fence: Callable[[], None]) -> Transport:
        """The same pool, account and user; every write first calls `fence`, which may refuse it by raising."""
        return Transport(
            self.api_client, timeout=self.timeout, impersonate=self.impersonate, accounting=self.accounting, fence=fence
        )

    async def send(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | aiohttp.ClientTimeout | None = None,
    ) -> aiohttp.ClientResponse:
        """The response, unread; no HTTP answer at all raises UnreachableError; the fence may refuse a write."""
        if self.fence is not None and method != "GET":
            self.fence()
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
        the request observer with its status code. A large answer is parsed in
        a thread (`rollouts.kube.decode`).
        """
        status, data = await self.request_bytes(
            method, path, query=query, body=body, content_type=content_type, counted_as=counted_as
        )
        try:
            parsed: dict[str, Any] = await decode_async(data) if data else {}
        except orjson.JSONDecodeError as error:
            raise KubeError(f"{method} {path}: the answer is not JSON: {error}", status=status) from error
        return parsed

    async def request_bytes(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        counted_as: tuple[str, Resource, str, str] | None = None,
    ) -> tuple[int, bytes]:
        """Like `request`, the status and the unparsed body of a 2xx answer."""
        status = 0
        try:
            response = await self.send(method, path, query=query, body=body, content_type=content_type)
            async with response:
                status = response.status
                try:
                    # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the result when the
                    # read finishes as the caller is cancelled, losing the cancellation (a task then
                    # never stops, e.g. a leader elector being shut down).
                    async with asyncio.timeout(self.timeout):
                        data = await response.read()
                except (aiohttp.ClientError, TimeoutError) as error:
                    raise UnreachableError(f"{method} {path}: {error or type(error).__name__}") from error
                if not 200 <= response.status < 300:
                    raise error_for_status(response.status, data, f"{method} {path}")
        finally:
            if counted_as is not None:
                verb, resource, namespace, name = counted_as
                self.accounting.record(RequestInfo(verb, resource, namespace, name, status))
        return status, data

    async def request_list(
        self, resource: Resource, namespace: str | None, *, query: list[tuple[str, str]]
    ) -> tuple[dict[str, Any], list[Skipped]]:
        """One list page, decoded item by item when the whole page cannot be: undecodable items come back apart."""
        path = resource.path(namespace)
        status, data = await self.request_bytes(
            "GET", path, query=query, counted_as=("List", resource, namespace or "", "")
        )
        try:
            return await decode_list_async(data)
        except orjson.JSONDecodeError as error:
            raise KubeError(f"GET {path}: the answer is not JSON: {error}", status=status) from error

    async def watch(
        self, resource: Resource, namespace: str | None, *, query: list[tuple[str, str]], idle_seconds: float
    ) -> AsyncGenerator[dict[str, Any], None]:
        """One watch request's events, counted; an undecodable event is recorded as a skip and still delivered."""
        # No total timeout on a watch: only connect and idle-read limits (bookmarks arrive about every minute).
        timeout = aiohttp.ClientTimeout(total=None, connect=self.timeout, sock_read=idle_seconds)
        status = 0
        try:
            response = await self.send("GET", resource.path(namespace), query=query, timeout=timeout)
            status = response.status
        finally:
            self.accounting.record(RequestInfo("Watch", resource, namespace or "", "", status))
        async with response:
            if not 200 <= response.status < 300:
                raise error_for_status(response.status, await response.read(), f"WATCH {resource.plural}")
            async with aclosing(json_lines(response, what=f"watch {resource.plural}")) as events:
                async for event in events:
                    if event.get("type") == UNDECODABLE:
                        self.accounting.record_skip(resource, event["skipped"])
                    yield event


async def json_lines(response: aiohttp.ClientResponse, *, what: str) -> AsyncGenerator[dict[str, Any], None]:
    """The newline-delimited JSON documents of a streamed answer (a watch), until the server ends it.

    The stream is split on newlines by hand: aiohttp's line reader refuses
    lines over 128 KiB, and one large object must not wedge a watch. A line
    that cannot be decoded yields an UNDECODABLE event (`rollouts.kube.decode`)
    instead of ending the stream, so the watch moves past it.
    """
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
                    yield await decode_event_async(line)
                start = end + 1
                end = buffer.find(b"\n", start)
            del buffer[:start]
    except (aiohttp.ClientError, TimeoutError) as error:
        raise UnreachableError(f"{what}: {error or type(error).__name__}") from error
    if buffer.strip():
        yield await decode_event_async(bytes(buffer))
