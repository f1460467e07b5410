"""The push webhook's HTTP contract, served for real on 127.0.0.1 by aiohttp's test server."""

from __future__ import annotations

import hashlib
import hmac
import json

from aiohttp.test_utils import TestClient, TestServer

from rollouts.gitsync.webhook import MAX_BODY_BYTES, RateLimiter, TokenBucket, authorised, webhook_app


async def test_webhook_refreshes_each_named_repository_and_checks_the_secret() -> None:
    seen: list[str] = []

    def refresh(url: str) -> list[str]:
        seen.append(url)
        return ["ns/app"] if url.endswith("app.git") else []

    app = webhook_app(refresh, secret="s3cret")
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        body = json.dumps({"repository": {"clone_url": "https://git.example/o/app.git"}}).encode()
        signature = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        answer = await client.post("/api/webhook", data=body, headers={"X-Hub-Signature-256": signature})
        assert (answer.status, await answer.json()) == (200, {"refreshed": ["ns/app"]})
        assert seen == ["https://git.example/o/app.git"]

        answer = await client.post("/api/webhook", data=body, headers={"X-Hub-Signature-256": "sha256=00"})
        assert answer.status == 401
        answer = await client.post("/api/webhook", data=body)
        assert answer.status == 401
        answer = await client.post("/api/webhook", data=body, headers={"X-Gitlab-Token": "s3cret"})
        assert answer.status == 200

        answer = await client.post(
            "/api/webhook", data=b"x" * (MAX_BODY_BYTES + 10), headers={"X-Gitlab-Token": "s3cret"}
        )
        assert answer.status == 413
        answer = await client.post("/api/webhook", data=b"not json", headers={"X-Gitlab-Token": "s3cret"})
        assert answer.status == 400
        assert len(seen) == 2  # refused requests refreshed nothing


async def test_a_malformed_signature_is_401_never_an_error() -> None:
    app = webhook_app(lambda url: [], secret="s3cret")
    body = json.dumps({"repository": {"clone_url": "https://git.example/o/app.git"}}).encode()
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        for headers in (
            {"X-Hub-Signature-256": "sha256=ünïcödé"},
            {"X-Hub-Signature-256": "sha256=" + "é" * 64},
            {"X-Gitlab-Token": "s3crét"},
            {"X-Hub-Signature-256": "sha256="},
        ):
            answer = await client.post("/api/webhook", data=body, headers=headers)
            assert answer.status == 401, headers
    assert not authorised({"X-Hub-Signature-256": "sha256=\udcff"}, body, "s3cret")
    assert not authorised({"X-Gitlab-Token": "\u00ff" * 3}, body, "s3cret")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_webhook_requests_are_rate_limited_per_source_and_in_all() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, source_burst=3, source_per_second=1.0)
    limiter.global_bucket = TokenBucket(5, 1.0)
    refreshed: list[str] = []
    app = webhook_app(lambda url: refreshed.append(url) or [], limiter=limiter)
    body = json.dumps({"repository": {"clone_url": "https://git.example/o/app.git"}}).encode()
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        codes = [(await client.post("/api/webhook", data=body)).status for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        answer = await client.post("/api/webhook", data=body)
        assert answer.status == 429 and answer.headers["Retry-After"] == "1"
        assert len(refreshed) == 3  # a refused request refreshes nothing
        clock.now += 1.0  # one token back for this source
        assert (await client.post("/api/webhook", data=body)).status == 200
    # Other sources have their own bucket, but everybody shares the global one.
    assert limiter.wait("10.0.0.1") == 0 and limiter.wait("10.0.0.2") == 0
    assert limiter.wait("10.0.0.3") > 0
