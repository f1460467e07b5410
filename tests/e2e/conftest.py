"""Fixtures of the e2e suite: a JSON health endpoint on loopback that web metrics can check."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class _Health(BaseHTTPRequestHandler):
    """GET /ok (and /healthz) -> 200 {"status": "ok", ...}; any other path -> 500 {"status": "broken"}."""

    def do_GET(self) -> None:
        if self.path in ("/ok", "/healthz"):
            body, code = json.dumps({"status": "ok", "checks": [{"latency": 0.02}]}).encode(), 200
        else:
            body, code = b'{"status": "broken"}', 500
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="session")
def health_server() -> Iterator[str]:
    """Base URL of the health endpoint."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
