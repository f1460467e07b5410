"""The query strings and bodies of the REST verbs: list and watch parameters, patches, DeleteOptions.

Pure functions, apart from the client that sends them, so the rules of the
Kubernetes API they encode (which content type a patch type travels as, how a
patch is made conditional on a resourceVersion, which preconditions a delete
carries) are each written once and can be read without the I/O around them.
"""

from __future__ import annotations

from typing import Any

Query = list[tuple[str, str]]

PATCH_CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}


def selector_query(*, label_selector: str | None, field_selector: str | None) -> Query:
    query: Query = []
    if label_selector:
        query.append(("labelSelector", label_selector))
    if field_selector:
        query.append(("fieldSelector", field_selector))
    return query


def list_query(
    *,
    label_selector: str | None,
    field_selector: str | None,
    resource_version: str | None,
    limit: int | None,
    continue_token: str | None,
) -> Query:
    query = selector_query(label_selector=label_selector, field_selector=field_selector)
    if resource_version is not None:
        query.append(("resourceVersion", resource_version))
    if limit:
        query.append(("limit", str(limit)))
    if continue_token:
        query.append(("continue", continue_token))
    return query


def watch_query(
    *, resource_version: str, label_selector: str | None, field_selector: str | None, timeout_seconds: int
) -> Query:
    """A watch from `resource_version` with bookmarks, which the server ends after `timeout_seconds`."""
    return [
        ("watch", "true"),
        ("allowWatchBookmarks", "true"),
        ("resourceVersion", resource_version),
        ("timeoutSeconds", str(timeout_seconds)),
        *selector_query(label_selector=label_selector, field_selector=field_selector),
    ]


def patch_content_type(patch_type: str) -> str:
    if patch_type not in PATCH_CONTENT_TYPES:
        raise ValueError(f"unknown patch type {patch_type!r}; one of {', '.join(PATCH_CONTENT_TYPES)}")
    return PATCH_CONTENT_TYPES[patch_type]


def patch_query(*, field_manager: str, patch_type: str, force: bool) -> Query:
    """`force` takes fields owned by other managers, which only server-side apply knows."""
    query = [("fieldManager", field_manager)]
    if patch_type == "apply" and force:
        query.append(("force", "true"))
    return query


def conditional_patch(patch: Any, resource_version: str | None) -> Any:
    """`patch` made to fail with a conflict if the object changed since `resource_version` (None: as is)."""
    if resource_version is None:
        return patch
    if not isinstance(patch, dict):
        raise ValueError("a conditional patch (resource_version) needs an object patch, not a JSON patch")
    metadata = {**(patch.get("metadata") or {}), "resourceVersion": resource_version}
    return {**patch, "metadata": metadata}


def delete_options(*, propagation: str | None, uid: str | None, resource_version: str | None) -> dict[str, Any]:
    """DeleteOptions; `uid` / `resource_version` preconditions make sure we delete the object we looked at."""
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
    return body
