"""Map a manifest's apiVersion + kind to where it lives in the API (plural, scope).

Git may hold any kind, including custom resources whose CRD the same sync
creates, so the mapping comes from API discovery (`/api/v1`,
`/apis/<group>/<version>`), cached per group-version and fetched again when a
kind is not found (a CRD applied a moment ago). Nothing here guesses plurals:
an unknown kind is an error naming it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rollouts.api.resource import Resource
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFoundError


class UnknownKindError(Exception):
    """The API server does not serve this apiVersion/kind (yet)."""


class Discovery:
    def __init__(self, client: KubeClient) -> None:
        self.client = client
        self._kinds: dict[str, dict[str, Resource]] = {}
        self._lock = asyncio.Lock()

    async def _load(self, api_version: str) -> dict[str, Resource]:
        group, _, version = api_version.rpartition("/")
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            answer: dict[str, Any] = await self.client.request("GET", path)
        except NotFoundError:
            return {}
        kinds: dict[str, Resource] = {}
        for entry in answer.get("resources") or []:
            name = str(entry.get("name") or "")
            if not name or "/" in name:  # subresources such as deployments/scale
                continue
            kinds[str(entry["kind"])] = Resource(
                group, version, name, str(entry["kind"]), bool(entry.get("namespaced"))
            )
        return kinds

    async def resource(self, api_version: str, kind: str, *, retries: int = 0, delay: float = 0.5) -> Resource:
        """The Resource of apiVersion/kind; with `retries`, wait that many times for a fresh CRD."""
        for attempt in range(retries + 1):
            async with self._lock:
                kinds = self._kinds.get(api_version)
                if kinds is None or kind not in kinds:
                    kinds = await self._load(api_version)
                    self._kinds[api_version] = kinds
            if kind in kinds:
                return kinds[kind]
            if attempt < retries:
                await asyncio.sleep(delay)
        raise UnknownKindError(f"the server has no kind {kind!r} in {api_version!r}")

    def forget(self, api_version: str) -> None:
        self._kinds.pop(api_version, None)


def resource_for(obj: dict[str, Any]) -> tuple[str, str]:
    return str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
