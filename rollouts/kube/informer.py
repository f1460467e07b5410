"""Informers: list + watch into an in-memory cache with indexes, and change handlers.

Level-triggered controllers (DESIGN.md §3) read the world from these caches and
use events only to learn *which* object to look at. One informer lists a kind,
then watches from the list's resourceVersion with bookmarks, so a reconnect
resumes where it left off; a 410 Gone relists (and reports deletions that were
missed in between); other failures reconnect with capped exponential backoff.
Objects stay raw dicts parsed by orjson: no model classes on the watch path.
They enter the cache frozen (`rollouts.kube.readonly`): every reader shares
them, so a write into one raises instead of corrupting the cache. An object
that cannot be decoded (`rollouts.kube.decode`) never blocks its kind: the list
completes without it, the watch moves past its event, it is treated as absent
(a stale cached copy is dropped) and reported with a Warning event on it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from rollouts.api.resource import Resource
from rollouts.kube.client import KubeClient
from rollouts.kube.decode import UNDECODABLE, Skipped
from rollouts.kube.errors import GoneError, KubeError
from rollouts.kube.events import EventRecorder
from rollouts.kube.readonly import freeze

log = logging.getLogger(__name__)

Object = dict[str, Any]
Handler = Callable[[str, Object, Object | None], None]
"""handler(event_type, obj, old): event_type is ADDED, MODIFIED or DELETED."""
IndexFunc = Callable[[Object], Iterable[str]]


def object_key(obj: Object) -> str:
    meta = obj.get("metadata", {})
    namespace = meta.get("namespace")
    return f"{namespace}/{meta['name']}" if namespace else str(meta["name"])


def index_by_namespace(obj: Object) -> list[str]:
    return [obj.get("metadata", {}).get("namespace", "")]


def index_by_owner_uid(obj: Object) -> list[str]:
    return [ref["uid"] for ref in obj.get("metadata", {}).get("ownerReferences") or [] if "uid" in ref]


def index_by_label(label: str) -> IndexFunc:
    def index(obj: Object) -> list[str]:
        value = (obj.get("metadata", {}).get("labels") or {}).get(label)
        return [value] if value is not None else []

    return index


class Informer:
    def __init__(
        self,
        client: KubeClient,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        indexers: dict[str, IndexFunc] | None = None,
        watch_timeout_seconds: int = 300,
        min_backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.indexers: dict[str, IndexFunc] = {
            "namespace": index_by_namespace,
            "owner": index_by_owner_uid,
        }
        self.indexers.update(indexers or {})
        self.watch_timeout_seconds = watch_timeout_seconds
        self.min_backoff_seconds = min_backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.synced = asyncio.Event()
        self.resource_version = ""
        self.relists = 0
        self.bookmarks = 0
        self.skipped = 0
        self._events = EventRecorder(client)
        self._reports: set[asyncio.Task[None]] = set()
        self._store: dict[str, Object] = {}
        self._indexes: dict[str, dict[str, set[str]]] = {name: defaultdict(set) for name in self.indexers}
        self._handlers: list[Handler] = []

    # ------------------------------------------------------------------ reads

    def add_handler(self, handler: Handler) -> None:
        """Call `handler` on every change; objects already cached are replayed as ADDED."""
        self._handlers.append(handler)
        for obj in list(self._store.values()):
            try:
                handler("ADDED", obj, None)
            except Exception:
                log.exception("informer handler failed for %s %s", self.resource.plural, object_key(obj))

    def add_indexer(self, name: str, func: IndexFunc) -> None:
        """Add an index (objects already cached are indexed at once)."""
        if name in self.indexers:
            raise ValueError(f"index {name!r} already exists on the {self.resource.plural} informer")
        self.indexers[name] = func
        self._indexes[name] = defaultdict(set)
        for key, obj in self._store.items():
            for value in func(obj):
                self._indexes[name][value].add(key)

    def get(self, namespace: str | None, name: str) -> Object | None:
        """The cached object, or None. It is shared and read-only (`rollouts.kube.readonly.thaw` copies it)."""
        return self._store.get(f"{namespace}/{name}" if namespace else name)

    def get_by_key(self, key: str) -> Object | None:
        return self._store.get(key)

    def keys(self) -> list[str]:
        return list(self._store)

    def items(self, namespace: str | None = None) -> list[Object]:
        if namespace is None:
            return list(self._store.values())
        return self.by_index("namespace", namespace)

    def by_index(self, index: str, value: str) -> list[Object]:
        """Objects whose index function yields `value`, in key order."""
        if index not in self._indexes:
            raise KeyError(f"no index {index!r} on the {self.resource.plural} informer")
        keys = self._indexes[index].get(value, set())
        return [self._store[key] for key in sorted(keys) if key in self._store]

    def index_values(self, index: str) -> list[str]:
        return sorted(self._indexes[index])

    @property
    def has_synced(self) -> bool:
        """True once the first list is in the cache."""
        return self.synced.is_set()

    async def wait_synced(self, timeout: float | None = None) -> None:
        async with asyncio.timeout(timeout):  # not wait_for, which can swallow a cancellation on Python 3.11
            await self.synced.wait()

    # ---------------------------------------------------------------- writes

    def _index(self, key: str, obj: Object, *, add: bool) -> None:
        for name, func in self.indexers.items():
            for value in func(obj):
                bucket = self._indexes[name][value]
                if add:
                    bucket.add(key)
                else:
                    bucket.discard(key)
                    if not bucket:
                        del self._indexes[name][value]

    def _notify(self, event_type: str, obj: Object, old: Object | None) -> None:
        for handler in self._handlers:
            try:
                handler(event_type, obj, old)
            except Exception:  # one bad handler must not stop the informer
                log.exception("informer handler failed for %s %s", self.resource.plural, object_key(obj))

    def _upsert(self, obj: Object) -> None:
        obj = freeze(obj)
        key = object_key(obj)
        old = self._store.get(key)
        if old is not None:
            self._index(key, old, add=False)
        self._store[key] = obj
        self._index(key, obj, add=True)
        self._notify("ADDED" if old is None else "MODIFIED", obj, old)

    def _remove(self, obj: Object) -> None:
        key = object_key(obj)
        old = self._store.pop(key, None)
        if old is not None:
            self._index(key, old, add=False)
        self._notify("DELETED", old or obj, None)

    def upsert_local(self, obj: Object) -> None:
        """Put the result of our own write into the cache at once (read-your-writes).

        The watch delivers the same object moments later; an older copy never
        replaces a newer one because resourceVersions only grow per object.
        The cache keeps a frozen copy that shares `obj`'s nested containers,
        which become read-only too; `obj` itself stays writable.
        """
        key = object_key(obj)
        current = self._store.get(key)
        if current is not None and _rv(current) >= _rv(obj):
            return
        self._upsert(obj)

    def _skip(self, skipped: Skipped) -> None:
        """Treat an undecodable object as absent, and say so on the object (the client logged and counted it)."""
        self.skipped += 1
        current = self._store.get(skipped.key) if skipped.key else None
        if current is not None:
            self._remove(current)  # a stale copy would be acted on and written back with a stale version
        if not (skipped.name and skipped.uid):
            return
        involved = {
            "apiVersion": self.resource.api_version,
            "kind": self.resource.kind,
            "metadata": {"name": skipped.name, "namespace": skipped.namespace, "uid": skipped.uid},
        }
        message = f"The controller cannot decode this {self.resource.kind} and ignores it: {skipped.error}"
        task = asyncio.get_running_loop().create_task(
            self._events.record(involved, reason="UndecodableObject", message=message, type="Warning")
        )
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    # ------------------------------------------------------------------- loop

    async def _list(self) -> None:
        skipped: list[Skipped] = []
        items, resource_version = await self.client.list_all(
            self.resource, self.namespace, label_selector=self.label_selector, on_skip=skipped.append
        )
        seen = set()
        for item in items:
            key = object_key(item)
            seen.add(key)
            current = self._store.get(key)
            if current is None or _rv_text(current) != _rv_text(item):
                self._upsert(item)
        for key in [k for k in self._store if k not in seen]:
            self._remove(self._store[key])  # deleted while we were not watching (or now undecodable)
        for one in skipped:
            self._skip(one)
        self.resource_version = resource_version
        self.synced.set()

    async def run(self) -> None:
        """List, then watch forever; cancel the task to stop.

        Run again after a stop, it resumes watching from the last
        resourceVersion it saw (relisting only if that is too old by then).
        """
        backoff = self.min_backoff_seconds
        need_list = not self.synced.is_set()
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                if need_list:
                    await self._list()
                    need_list = False
                events = 0
                async for event in self.client.watch(
                    self.resource,
                    self.namespace,
                    resource_version=self.resource_version,
                    label_selector=self.label_selector,
                    timeout_seconds=self.watch_timeout_seconds,
                ):
                    self._apply(event)
                    events += 1
                if events or loop.time() - started > 1.0:
                    backoff = self.min_backoff_seconds
                    continue
                # The server closed an empty watch at once: do not spin.
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_seconds)
            except GoneError:
                log.info(
                    "%s: resourceVersion %s too old; relisting",
                    self.resource.plural,
                    self.resource_version,
                )
                self.relists += 1
                need_list = True
            except asyncio.CancelledError:
                raise
            except Exception as error:  # never let the informer die: back off and retry
                delay = backoff * (0.5 + random.random() / 2)
                log.warning(
                    "%s %s failed (%s); retrying in %.1fs",
                    self.resource.plural,
                    "list" if need_list else "watch",
                    error,
                    delay,
                )
                await asyncio.sleep(delay)
                backoff = min(backoff * 2, self.max_backoff_seconds)

    def _apply(self, event: dict[str, Any]) -> None:
        event_type = event.get("type")
        if event_type == UNDECODABLE:
            skipped: Skipped = event["skipped"]
            if skipped.resource_version:
                self.resource_version = skipped.resource_version  # move past it for good
            self._skip(skipped)
            return
        obj = event.get("object") or {}
        if event_type == "ERROR":
            if obj.get("code") == 410:
                raise GoneError("watch: resourceVersion too old", status=410)
            raise KubeError(f"watch error: {obj.get('message')}", status=int(obj.get("code") or 0))
        resource_version = obj.get("metadata", {}).get("resourceVersion")
        if resource_version:
            self.resource_version = resource_version
        if event_type == "BOOKMARK":
            self.bookmarks += 1
            return
        obj.setdefault("apiVersion", self.resource.api_version)
        obj.setdefault("kind", self.resource.kind)
        if event_type in ("ADDED", "MODIFIED"):
            current = self._store.get(object_key(obj))
            if current is not None and _rv(current) >= _rv(obj) > 0:
                return  # our own write of this or a newer version is already cached
            self._upsert(obj)
        elif event_type == "DELETED":
            self._remove(obj)


def _rv_text(obj: Object) -> str:
    return str(obj.get("metadata", {}).get("resourceVersion") or "")


def _rv(obj: Object) -> int:
    try:
        return int(obj.get("metadata", {}).get("resourceVersion") or 0)
    except ValueError:
        return 0


def enqueue_object(enqueue: Callable[[str], None]) -> Handler:
    """A handler that enqueues the changed object's own key."""

    def handler(event_type: str, obj: Object, old: Object | None) -> None:
        enqueue(object_key(obj))

    return handler


def enqueue_controller_owner(enqueue: Callable[[str], None], owner_kind: str) -> Handler:
    """A handler that enqueues the key of the object's controlling owner of `owner_kind` (if any).

    E.g. a ReplicaSet change enqueues its Rollout; objects without such an owner are ignored.
    """

    def handler(event_type: str, obj: Object, old: Object | None) -> None:
        meta = obj.get("metadata") or {}
        for ref in meta.get("ownerReferences") or []:
            if ref.get("controller") and ref.get("kind") == owner_kind and ref.get("name"):
                namespace = meta.get("namespace")
                enqueue(f"{namespace}/{ref['name']}" if namespace else str(ref["name"]))
                return

    return handler


class InformerFactory:
    """Shares one informer per (resource, label selector) between controllers, like client-go's factory.

    Two controllers that both read, say, AnalysisRuns then cost one list and
    one watch, and see the same cache.
    """

    def __init__(self, client: KubeClient, *, namespace: str | None = None) -> None:
        self.client = client
        self.namespace = namespace
        self._informers: dict[tuple[str, str, str, str | None], Informer] = {}

    def informer(
        self,
        resource: Resource,
        *,
        label_selector: str | None = None,
        indexers: dict[str, IndexFunc] | None = None,
    ) -> Informer:
        """The shared informer; `indexers` not yet present on it are added."""
        key = (resource.group, resource.version, resource.plural, label_selector)
        informer = self._informers.get(key)
        if informer is None:
            namespace = self.namespace if resource.namespaced else None
            informer = Informer(self.client, resource, namespace=namespace, label_selector=label_selector)
            self._informers[key] = informer
        for name, func in (indexers or {}).items():
            if name not in informer.indexers:
                informer.add_indexer(name, func)
        return informer

    def all(self) -> list[Informer]:
        return list(self._informers.values())
