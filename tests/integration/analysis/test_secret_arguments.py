"""Secret arguments: read from the cluster for one reconcile, used by providers, redacted in status."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlparse

import pytest

from rollouts.analysis.controller import AnalysisRunController
from rollouts.analysis.measure import reconcile_measurements
from rollouts.analysis.providers.registry import new_provider
from rollouts.api.analysis import AnalysisRun
from rollouts.api.kinds import ANALYSIS_RUNS
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import EVENTS, SECRETS
from tests.unit.analysis.test_analysis_measure import SECRET, leaks
from tests.waiting import eventually

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_secret_argument_is_used_and_redacted(kube_client: KubeClient, namespace: str) -> None:
    token = "s3cr3t-token-value"
    await kube_client.create(
        SECRETS,
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "api", "namespace": namespace},
            "data": {"token": base64.b64encode(token.encode()).decode()},
        },
    )
    # Nothing listens on the port: the error message names the URL, which holds the secret.
    url = f"http://127.0.0.1:{free_port()}/check?token={{{{args.token}}}}"
    run = AnalysisRun.model_validate(
        {
            "metadata": {"name": "r", "namespace": namespace},
            "spec": {
                "args": [{"name": "token", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}],
                "metrics": [{"name": "web", "provider": {"web": {"url": url}}}],
            },
        }
    )
    now = datetime.now(UTC)
    reconciled = await reconcile_measurements(run, now=now, provider_for=new_provider, kube=kube_client)
    measurement = reconciled.step.status.metric_results[0].measurements[0]  # type: ignore[index]
    assert measurement.phase == "Error"
    assert measurement.message is not None
    assert token not in measurement.message
    assert "token=*****" in measurement.message

    run.spec.args[0].value_from.secret_key_ref.key = "missing"  # type: ignore[index,union-attr]
    reconciled = await reconcile_measurements(run, now=now, provider_for=new_provider, kube=kube_client)
    assert reconciled.step.status.phase == "Error"
    assert reconciled.step.status.message == (
        "Unable to resolve metric arguments: key 'missing' does not exist in secret 'api'"
    )


@dataclass
class EchoServer:
    """Answers every request with what it received, in every encoding a careless server might use."""

    url: str
    received: list[str] = field(default_factory=list)


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    state = EchoServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            token = (query.get("token") or [""])[0]
            auth = self.headers.get("Authorization") or ""
            if auth.startswith("Basic "):
                token = base64.b64decode(auth[len("Basic ") :]).decode().split(":", 1)[1]
            state.received.append(token)
            echoed = "\n".join(
                [
                    self.path,
                    json.dumps(dict(self.headers)),
                    json.dumps(dict(self.headers), ensure_ascii=False),
                    quote(token),
                    quote_plus(token),
                    base64.b64encode(token.encode()).decode(),
                    base64.urlsafe_b64encode(token.encode()).decode().rstrip("="),
                    repr(token.encode()),
                ]
            ).encode()
            # The web metric gets it as its value; Prometheus as the text of an error.
            self.send_response(200 if self.path.startswith("/web") else 400)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(echoed)))
            self.end_headers()
            self.wfile.write(echoed)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


async def test_secret_never_reaches_the_written_run_or_its_events(
    kube_client: KubeClient, namespace: str, crds: None, echo: EchoServer
) -> None:
    await kube_client.create(
        SECRETS,
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "api", "namespace": namespace},
            "data": {"token": base64.b64encode(SECRET.encode()).decode()},
        },
    )
    body = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {"name": "leaky", "namespace": namespace},
        "spec": {
            "args": [{"name": "token", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}],
            "metrics": [
                {
                    "name": "web",
                    "successCondition": "result == 'never'",
                    "provider": {
                        "web": {
                            "url": echo.url + "/web?token={{args.token}}",
                        }
                    },
                },
                {
                    "name": "prom",
                    "provider": {
                        "prometheus": {
                            "address": echo.url,
                            "query": 'up{token="{{args.token}}"}',
                            "authentication": {"basicAuth": {"username": "u", "password": "{{args.token}}"}},
                        }
                    },
                },
            ],
        },
    }
    await kube_client.create(ANALYSIS_RUNS, namespace, body)
    controller = AnalysisRunController(kube_client, namespace=namespace)
    informer = asyncio.create_task(controller.runs.run())
    try:
        await controller.runs.wait_synced(timeout=30)
        await eventually(lambda: _cached(controller, namespace), what="run in the informer cache")
        await controller.reconcile(f"{namespace}/leaky")
    finally:
        informer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await informer

    # The servers did get the secret (so there was something to leak) ...
    assert SECRET in echo.received
    written = await kube_client.get(ANALYSIS_RUNS, namespace, "leaky")
    results = {r["name"]: r for r in written["status"]["metricResults"]}
    assert results["web"]["measurements"][0]["phase"] == "Failed"
    assert "*****" in results["web"]["measurements"][0]["value"]
    assert results["prom"]["measurements"][0]["phase"] == "Error"
    assert "*****" in results["prom"]["measurements"][0]["message"]
    assert results["prom"]["metadata"]["ResolvedPrometheusQuery"] == 'up{token="*****"}'
    events = await eventually(
        lambda: kube_client.list(EVENTS, namespace), lambda e: bool(e["items"]), what="analysis events"
    )
    # ... and no encoding of it is in the run we wrote or in its events.
    assert leaks(json.dumps(written, ensure_ascii=False), SECRET) == []
    assert leaks(json.dumps(written), SECRET) == []
    assert leaks(json.dumps(events["items"], ensure_ascii=False), SECRET) == []


async def _cached(controller: AnalysisRunController, namespace: str) -> bool:
    return controller.runs.get(namespace, "leaky") is not None
