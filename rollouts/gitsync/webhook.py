"""Push webhook: `POST /api/webhook` with a GitHub or GitLab push event refreshes matching GitSyncs now.

Polling at the refresh interval (default 180 s) is the fallback; a push
event makes the commit-to-applied latency that of one reconcile. The body is
read with a size cap, every repository URL the event names is collected
(GitHub: repository.clone_url / html_url / ssh_url / git_url / url; GitLab:
project.git_http_url / git_ssh_url / web_url, repository.git_http_url /
homepage) and each GitSync whose repoURL names the same repository is
enqueued. The server binds 127.0.0.1 unless told otherwise; with a secret
configured, GitHub's X-Hub-Signature-256 or GitLab's X-Gitlab-Token must match,
and any malformed signature (not hex, not ASCII, missing) is a 401, never an
error. Requests are rate limited before the body is read: a token bucket per
source address and one for everybody, answering 429 with Retry-After, so a
flood of pushes (or of forged ones) cannot turn into a flood of fetches.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# Per source address: bursts of 10, then one request a second; for everybody: 50, then 10 a second.
SOURCE_BURST, SOURCE_PER_SECOND = 10.0, 1.0
GLOBAL_BURST, GLOBAL_PER_SECOND = 50.0, 10.0
MAX_TRACKED_SOURCES = 10_000
_GITHUB_KEYS = ("clone_url", "html_url", "ssh_url", "git_url", "url")
_GITLAB_KEYS = ("git_http_url", "git_ssh_url", "web_url", "http_url", "ssh_url", "homepage", "url")


def repository_urls(event: Any) -> list[str]:
    """Every repository URL a GitHub or GitLab push event names."""
    if not isinstance(event, dict):
        return []
    urls: list[str] = []
    for section, keys in (("repository", _GITHUB_KEYS + _GITLAB_KEYS), ("project", _GITLAB_KEYS)):
        block = event.get(section)
        if isinstance(block, dict):
            urls.extend(str(block[k]) for k in keys if isinstance(block.get(k), str) and block[k])
    return list(dict.fromkeys(urls))


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of header text of any content (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape"))


def authorised(headers: Any, body: bytes, secret: str | None) -> bool:
    """Whether GitHub's signature or GitLab's token in `headers` matches `secret`; False for anything malformed."""
    if not secret:
        return True
    signature = str(headers.get("X-Hub-Signature-256", ""))
    if signature.startswith("sha256="):
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return _same(signature.removeprefix("sha256="), expected)
    token = headers.get("X-Gitlab-Token")
    return token is not None and _same(str(token), secret)


@dataclass
class TokenBucket:
    """`burst` tokens, refilled at `per_second`; take() spends one or says how long until one is back."""

    burst: float
    per_second: float
    tokens: float = -1.0
    updated: float = 0.0

    def take(self, now: float) -> float:
        """0 when a token was spent, else the seconds to wait."""
        if self.tokens < 0:
            self.tokens, self.updated = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


@dataclass
class RateLimiter:
    """A bucket per source address (the least recently seen forgotten past MAX_TRACKED_SOURCES) and a global one."""

    clock: Callable[[], float] = time.monotonic
    source_burst: float = SOURCE_BURST
    source_per_second: float = SOURCE_PER_SECOND
    global_bucket: TokenBucket = field(default_factory=lambda: TokenBucket(GLOBAL_BURST, GLOBAL_PER_SECOND))
    sources: OrderedDict[str, TokenBucket] = field(default_factory=OrderedDict)

    def wait(self, source: str) -> float:
        """0 when `source` may go ahead (a token of each bucket spent), else seconds to wait."""
        now = self.clock()
        bucket = self.sources.pop(source, None) or TokenBucket(self.source_burst, self.source_per_second)
        self.sources[source] = bucket
        while len(self.sources) > MAX_TRACKED_SOURCES:
            self.sources.popitem(last=False)
        waiting = bucket.take(now)
        if waiting:
            return waiting
        return self.global_bucket.take(now)


async def _read_capped(request: web.Request) -> bytes | None:
    """The body, or None when it exceeds MAX_BODY_BYTES (read stops there)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(65536):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def webhook_app(
    refresh: Callable[[str], list[str]], *, secret: str | None = None, limiter: RateLimiter | None = None
) -> web.Application:
    """An aiohttp app whose POST /api/webhook calls `refresh(url)` for each URL of the event."""
    limiter = limiter or RateLimiter()

    async def handle(request: web.Request) -> web.Response:
        waiting = limiter.wait(request.remote or "unknown")
        if waiting:
            headers = {"Retry-After": str(max(1, math.ceil(waiting)))}
            return web.json_response({"error": "too many requests"}, status=429, headers=headers)
        body = await _read_capped(request)
        if body is None:
            return web.json_response({"error": "payload too large"}, status=413)
        if not authorised(request.headers, body, secret):
            return web.json_response({"error": "signature mismatch"}, status=401)
        try:
            event = json.loads(body or b"null")
        except ValueError:
            return web.json_response({"error": "body is not JSON"}, status=400)
        urls = repository_urls(event)
        if not urls:
            return web.json_response({"error": "no repository URL in the event"}, status=400)
        refreshed = sorted({key for url in urls for key in refresh(url)})
        log.info("webhook push for %s: refreshing %s", urls[0], ", ".join(refreshed) or "nothing")
        return web.json_response({"refreshed": refreshed})

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.add_routes([web.post("/api/webhook", handle)])
    return app


async def start_webhook(
    controllers: list[Any], *, address: str | None, secret: str | None = None
) -> web.AppRunner | None:
    """Serve the webhook for the GitSync controller among `controllers` on `address` (host:port); None if off."""
    if not address:
        return None
    refresh = next((getattr(c, "refresh_repository", None) for c in controllers if c.name == "gitsync"), None)
    if refresh is None:
        return None
    host, _, port = address.rpartition(":")
    runner = web.AppRunner(webhook_app(refresh, secret=secret), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
    log.info("gitsync webhook listening on %s", address)
    return runner
