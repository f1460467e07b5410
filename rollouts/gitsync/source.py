"""Fetch + render in one call: what both the controller and `rollouts gitsync render` need.

The commit is resolved first, then the render cache is consulted by
(repository, credentials identity, commit, path, parameters); only on a miss is a private checkout
made and the renderer run. Errors come out as RenderError / GitError with
messages already safe for status and events.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rollouts.api.gitsync import ApplicationSource
from rollouts.gitsync.renderers import RenderCache, RenderLimits, RenderRequest, cache_key, render
from rollouts.gitsync.repo import Credentials, RepoCache, normalise_url


@dataclass
class Renderer:
    """Long-lived state of rendering: the clone cache, the result cache, plugin config, limits."""

    repos: RepoCache
    cache: RenderCache = field(default_factory=RenderCache)
    plugins: dict[str, list[str]] = field(default_factory=dict)
    limits: RenderLimits = field(default_factory=RenderLimits)

    async def resolve(
        self, source: ApplicationSource, credentials: Credentials | None = None, *, owner: str = ""
    ) -> str:
        return await self.repos.fetch(source.repo_url, source.target_revision, credentials, owner=owner)

    def forget(self, owner: str) -> None:
        """A GitSync was deleted: drop its cached renders and the clones only it used."""
        self.cache.forget(owner)
        self.repos.forget(owner)

    async def render(
        self,
        source: ApplicationSource,
        *,
        commit: str,
        namespace: str = "",
        app_name: str = "",
        credentials: Credentials | None = None,
        owner: str = "",
    ) -> list[dict[str, Any]]:
        """Manifests of `source` at `commit` (already fetched by resolve() with the same credentials)."""
        request = self._request(source, root=Path("."), namespace=namespace, app_name=app_name, commit=commit)
        key = cache_key(
            repo_url=normalise_url(source.repo_url),
            commit=commit,
            request=request,
            identity=credentials.identity() if credentials else "",
        )
        cached = self.cache.get(key, owner=owner)
        if cached is not None:
            return cached
        async with self.repos.checkout(source.repo_url, commit, credentials) as root:
            objects = await render(
                self._request(source, root=root, namespace=namespace, app_name=app_name, commit=commit)
            )
        self.cache.put(key, objects, owner=owner)
        return objects

    def _request(
        self, source: ApplicationSource, *, root: Path, namespace: str, app_name: str, commit: str
    ) -> RenderRequest:
        return RenderRequest(
            root=root,
            app_dir=root,
            source=source,
            namespace=namespace,
            app_name=app_name,
            revision=commit,
            limits=self.limits,
            plugins=self.plugins,
        )


async def render_local_directory(
    directory: Path,
    source: ApplicationSource,
    *,
    namespace: str = "",
    app_name: str = "",
    plugins: dict[str, list[str]] | None = None,
    limits: RenderLimits | None = None,
) -> list[dict[str, Any]]:
    """Render a directory as it is on disk (uncommitted changes included) from a private copy."""
    work = Path(tempfile.mkdtemp(prefix="rollouts-render-"))
    try:
        root = work / "src"
        shutil.copytree(directory, root, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        return await render(
            RenderRequest(
                root=root,
                app_dir=root,
                source=source,
                namespace=namespace,
                app_name=app_name,
                limits=limits or RenderLimits(),
                plugins=plugins or {},
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
