"""The push webhook's HTTP contract, served for real on 127.0.0.1 by aiohttp's test server."""

from __future__ import annotations

import hashlib
import hmac
import json

from aiohttp.test_utils import TestClient, TestServer

from rollouts.gitsync.webhook import MAX_BODY_BYTES, webhook_app


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
