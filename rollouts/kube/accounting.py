"""Counting API requests, for `controller_clientset_k8s_request_total` and benchmarks.

Every request the client sends is recorded once, whatever its outcome, both in
a plain counter (read by benchmarks and tests) and by an optional observer
(the Prometheus metrics). Kept apart from the client so that clients sharing a
connection pool (an impersonating clone) also share one account.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

from rollouts.api.resource import Resource

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


class RequestAccounting:
    """Requests sent, per (lower-case verb, plural), and the observer told about each one."""

    def __init__(self, on_request: RequestObserver | None = None) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.on_request = on_request

    def record(self, info: RequestInfo) -> None:
        self.counts[(info.verb.lower(), info.resource.plural)] += 1
        if self.on_request is not None:
            try:
                self.on_request(info)
            except Exception:  # metrics must never fail a request
                log.exception("request observer failed")
