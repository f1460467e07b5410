"""Secrets never reach status, events or logs, in any encoding a tool or the API server may echo them in."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

import pytest

from rollouts.gitsync.apply import ApplyOutcome, ApplyResult
from rollouts.gitsync.redact import redact, redact_url, rendered_secret_values
from rollouts.gitsync.status import finished_operation
from rollouts.gitsync.tracking import ResourceKey

TOKEN = "ghp_s3cr3t/t0ken+value"


def test_url_credentials_are_removed_plain_and_percent_encoded() -> None:
    assert redact_url("fetch https://deploy:tok@git.example.com/org") == "fetch https://***@git.example.com/org"
    encoded = "url=https%3A%2F%2Fdeploy%3Atok%2Fen%40git.example.com%2Forg"
    assert redact_url(encoded) == "url=https%3A%2F%2F***%40git.example.com%2Forg"


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s,
        lambda s: quote(s, safe=""),
        quote_plus,
        lambda s: base64.b64encode(s.encode()).decode(),
        lambda s: base64.urlsafe_b64encode(s.encode()).decode(),
    ],
    ids=["plain", "quote", "quote_plus", "base64", "base64url"],
)
def test_a_known_secret_is_removed_in_every_encoding(encode: object) -> None:
    leaked = encode(TOKEN)  # type: ignore[operator]
    text = redact(f"error: {leaked} was refused", [TOKEN])
    assert leaked not in text and "***" in text


@pytest.mark.parametrize("prefix", ["", "a", "ab", "password=", "user: x\npassword: "])
@pytest.mark.parametrize("suffix", ["", "!", "!!", "\n"])
def test_a_secret_inside_a_longer_base64_text_is_removed(prefix: str, suffix: str) -> None:
    data = base64.b64encode(f"{prefix}{TOKEN}{suffix}".encode()).decode()
    original = f'Secret data {{"config": "{data}"}}'
    text = redact(original, [TOKEN])
    # At least as many characters went as the token has: what is left of its encoding is a few edge bits.
    assert "***" in text
    assert len(original) - len(text.replace("***", "")) >= len(TOKEN)


def test_values_of_rendered_secrets_are_known_secrets() -> None:
    objects = [
        {"apiVersion": "v1", "kind": "Secret", "data": {"a": base64.b64encode(b"hunter2-pw").decode()}},
        {"apiVersion": "v1", "kind": "Secret", "stringData": {"b": "api-key-123"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "data": {"c": "not-a-secret"}},
    ]
    values = rendered_secret_values(objects)
    assert "hunter2-pw" in values and "api-key-123" in values and "not-a-secret" not in values


def test_a_failed_sync_never_quotes_a_rendered_secret() -> None:
    key = ResourceKey("", "Secret", "ns", "db")
    echoed = f'Secret "db" is invalid: data[password]: {base64.b64encode(b"hunter2-pw").decode()} and hunter2-pw'
    outcome = ApplyOutcome(results=[ApplyResult(key, "v1", "SyncFailed", echoed)], error=echoed)
    secrets = rendered_secret_values(
        [{"apiVersion": "v1", "kind": "Secret", "data": {"password": base64.b64encode(b"hunter2-pw").decode()}}]
    )
    operation, ok = finished_operation(
        "a" * 40, started="t0", finished="t1", outcome=outcome, pruned=[], secrets=secrets
    )
    text = json.dumps(operation)
    assert not ok
    assert "hunter2-pw" not in text and base64.b64encode(b"hunter2-pw").decode() not in text
    assert 'Secret \\"db\\" is invalid' in text
