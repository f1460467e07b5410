"""Counting API requests, for `controller_clientset_k8s_request_total` and benchmarks, and skipped objects.

Every request the client sends is recorded once, whatever its outcome, both in
a plain counter (read by benchmarks and tests) and by an optional observer
(the Prometheus metrics). Objects an answer held but we could not decode
(`rollouts.kube.decode`) are counted the same way, per resource. Kept apart from the client so that clients sharing a
connection pool (an impersonating clone) also share one account.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

from rollouts.api.resource import Resource
from rollouts.kube.decode import Skipped

log = logging.getLogger(__name__)


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
SkipObserver = Callable[[Resource, Skipped], None]


class RequestAccounting:
    """Requests sent, per (lower-case verb, plural), and the observer told about each one."""

    def __init__(self, on_request: RequestObserver | None = None, on_skip: SkipObserver | None = None) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.skipped: Counter[str] = Counter()
        self.on_request = on_request
        self.on_skip = on_skip

    def record_skip(self, resource: Resource, skipped: Skipped) -> None:
        """An object of `resource` that could not be decoded was left out of an answer."""
        self.skipped[resource.plural] += 1
        log.warning("%s %s cannot be decoded; skipped: %s", resource.plural, skipped.describe(), skipped.error)
        if self.on_skip is not None:
            try:
                self.on_skip(resource, skipped)
            except Exception:  # metrics must never fail a request
                log.exception("skip observer failed")

    def record(self, info: RequestInfo) -> None:
        self.counts[(info.verb.lower(), info.resource.plural)] += 1
        if self.on_request is not None:
            try:
                self.on_request(info)
            except Exception:  # metrics must never fail a request
                log.exception("request observer failed")
