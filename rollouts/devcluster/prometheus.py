"""A real Prometheus server on loopback, and a metrics endpoint we control.

Analysis e2e tests and the demo need Prometheus to answer real PromQL over real
scraped samples (docs/architecture.md §5). `LocalPrometheus` runs the `prometheus` binary
(Debian package) with a short scrape interval against the targets given;
`FakeAppMetrics` serves an application's request counters whose error ratio
the caller sets, standing in for the app's own /metrics.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

import httpx
import yaml

from rollouts.devcluster.processes import ManagedProcess, ProcessGroup, free_port, wait_until


class PrometheusNotFoundError(RuntimeError):
    """The prometheus binary is missing; the message says how to install it."""


@dataclass
class LocalPrometheus:
    targets: list[str]
    scrape_interval: str = "1s"
    start_timeout: float = 60.0
    port: int = field(default=0)
    _group: ProcessGroup = field(init=False, default_factory=ProcessGroup)
    _dir: Path | None = field(init=False, default=None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LocalPrometheus:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            raise PrometheusNotFoundError(
                "prometheus not found on PATH; install the Debian package `prometheus` "
                "(hack/install-system-deps.sh does)"
            )
        self._dir = Path(tempfile.mkdtemp(prefix="rollouts-prometheus-"))
        self.port = self.port or free_port()
        config = {
            "global": {"scrape_interval": self.scrape_interval, "evaluation_interval": "1s"},
            "scrape_configs": [
                {
                    "job_name": "app",
                    "scrape_interval": self.scrape_interval,
                    "static_configs": [{"targets": self.targets}],
                }
            ],
        }
        config_path = self._dir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config))
        process = ManagedProcess(
            name="prometheus",
            argv=[
                binary,
                f"--config.file={config_path}",
                f"--storage.tsdb.path={self._dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
                "--log.level=warn",
            ],
            log_path=self._dir / "prometheus.log",
        )
        try:
            self._group.start(process)
            wait_until(
                lambda: httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200,
                timeout=self.start_timeout,
                description="prometheus /-/ready",
                alive=self._group,
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self._group.stop_all(grace_seconds=5)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


@dataclass
class FakeAppMetrics:
    """Serves `http_requests_total{code=...}` counters growing at `rate` requests/s.

    `error_ratio` (0..1) decides the share of code="500"; counters are computed
    from elapsed time at scrape, so `rate()` over them is what the caller set.
    """

    rate: float = 100.0
    error_ratio: float = 0.0
    service: str = "demo"
    port: int = 0
    _server: ThreadingHTTPServer | None = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _ok: float = field(init=False, default=0.0)
    _errors: float = field(init=False, default=0.0)
    _last: float | None = field(init=False, default=None)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def set_error_ratio(self, ratio: float) -> None:
        with self._lock:
            self._advance()
            self.error_ratio = ratio

    def _advance(self) -> None:
        now = time.monotonic()
        if self._last is not None:
            total = (now - self._last) * self.rate
            self._errors += total * self.error_ratio
            self._ok += total * (1 - self.error_ratio)
        self._last = now

    def render(self) -> bytes:
        with self._lock:
            self._advance()
            ok, errors = self._ok, self._errors
        lines = [
            "# HELP http_requests_total Requests served.",
            "# TYPE http_requests_total counter",
            f'http_requests_total{{service="{self.service}",code="200"}} {ok:.3f}',
            f'http_requests_total{{service="{self.service}",code="500"}} {errors:.3f}',
        ]
        return ("\n".join(lines) + "\n").encode()

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = owner.render()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        with self._lock:
            self._advance()
        threading.Thread(target=self._server.serve_forever, name="fake-app-metrics", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
