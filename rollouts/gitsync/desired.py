"""What a GitSync wants in the cluster right now: credentials, commit, prepared objects, live copies.

Shared by the controller (every reconcile) and `rollouts gitsync diff` (which
must show exactly what the controller would apply), so both resolve the
destination namespace, the credentials Secret and the tracking annotation the
same way. Failures come out as SyncSourceError with a redacted message.
"""

from __future__ import annotations

import base64
import contextlib
from typing import Any

from rollouts.api.gitsync import GitSync
from rollouts.gitsync.apply import Desired, PrepareError, prepare
from rollouts.gitsync.discovery import Discovery
from rollouts.gitsync.redact import redact, redact_url, rendered_secret_values
from rollouts.gitsync.renderers import RenderError
from rollouts.gitsync.repo import Credentials, GitError
from rollouts.gitsync.source import Renderer
from rollouts.gitsync.urls import url_prefix_matches
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import KubeError, NotFoundError
from rollouts.kube.resources import SECRETS


class SyncSourceError(Exception):
    """Fetch, credentials, render or prepare failed; the message is already redacted."""


def destination_namespace(gitsync: GitSync) -> str:
    """spec.destination.namespace, else the GitSync's own namespace."""
    destination = gitsync.spec.destination
    return (destination.namespace if destination else None) or gitsync.metadata.namespace or "default"


async def load_credentials(client: KubeClient, gitsync: GitSync) -> Credentials | None:
    """The repository credentials from spec.credentialsSecret (in the GitSync's namespace), if any.

    `client` is the GitSync's identity (its service account when it has one), so a
    GitSync can only use a Secret its account may read. The Secret's `url` (as in
    an Argo CD repository Secret) names the repository URL prefix the credentials
    were issued for; they are used only when it covers spec.source.repoURL.
    """
    name = gitsync.spec.credentials_secret
    if not name:
        return None
    try:
        secret = await client.get(SECRETS, gitsync.metadata.namespace, name)
    except NotFoundError:
        raise SyncSourceError(f"credentials Secret {name!r} not found") from None
    except KubeError as error:
        raise SyncSourceError(f"cannot read credentials Secret {name!r}: {error}") from None
    data = {}
    for key, value in (secret.get("data") or {}).items():
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            data[key] = base64.b64decode(value).decode()
    issued_for = data.get("url", "")
    if not issued_for:
        raise SyncSourceError(
            f"credentials Secret {name!r} has no 'url' key: set it to the repository URL (or a URL prefix) "
            "the credentials are for"
        )
    if not url_prefix_matches(issued_for, gitsync.spec.source.repo_url):
        raise SyncSourceError(
            f"credentials Secret {name!r} is for {redact_url(issued_for)!r}, which does not cover repoURL "
            f"{redact_url(gitsync.spec.source.repo_url)!r}: not sending them there"
        )
    return Credentials.from_secret_data(data)


async def desired_state(
    gitsync: GitSync,
    *,
    renderer: Renderer,
    discovery: Discovery,
    credentials: Credentials | None,
) -> tuple[str, list[Desired]]:
    """(commit, objects to apply in order) for the GitSync's source."""
    source = gitsync.spec.source
    secrets = credentials.secrets() if credentials else []
    destination = destination_namespace(gitsync)
    owner = f"{gitsync.metadata.namespace}/{gitsync.metadata.name}"
    try:
        commit = await renderer.resolve(source, credentials, owner=owner)
        objects = await renderer.render(
            source,
            commit=commit,
            namespace=destination,
            app_name=gitsync.metadata.name or "",
            credentials=credentials,
            owner=owner,
        )
        secrets += rendered_secret_values(objects)  # an error about a rendered Secret must not quote it
        desired = await prepare(
            objects,
            discovery=discovery,
            gitsync_namespace=gitsync.metadata.namespace or "",
            gitsync_name=gitsync.metadata.name or "",
            default_namespace=destination,
        )
    except (GitError, RenderError, PrepareError) as error:
        raise SyncSourceError(redact(str(error), secrets)) from None
    except KubeError as error:
        raise SyncSourceError(redact(f"API discovery failed: {error}", secrets)) from None
    return commit, desired


async def live_object(client: KubeClient, item: Desired) -> dict[str, Any] | None:
    """The live copy of a desired object, None if it does not exist (or its kind is not served yet)."""
    if item.resource is None:
        return None
    try:
        return await client.get(item.resource, item.key.namespace or None, item.key.name)
    except NotFoundError:
        return None
