"""Runs the stand-in under uvicorn: in a background thread for tests, or in the foreground for the CLI."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType

import uvicorn

from ntx_assets_tests.tools.standin.app import create_app
from ntx_assets_tests.tools.standin.archive import ROUTE_PREFIX as ARCHIVE_PREFIX
from ntx_assets_tests.tools.standin.archive import ArchiveFiles
from ntx_assets_tests.tools.standin.config import FaultConfig, StandinConfig
from ntx_assets_tests.tools.standin.data import StandinData
from ntx_assets_tests.tools.standin.state import StandinState

_STARTUP_TIMEOUT_SECONDS = 30.0


class StandinServer:
    """One stand-in on a loopback port. The port is bound at construction, so base_url is known at once."""

    def __init__(
        self,
        config: StandinConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        """`tls` = (certificate file, key file): serve HTTPS with exactly the certificates in that file,
        e.g. a leaf without its intermediate, as nepalstock.com does."""
        self.config = config or StandinConfig()
        self.scheme = "https" if tls else "http"
        self._state = StandinState(self.config)
        self.archive = ArchiveFiles(
            self.config.archive_dir, self.config.archive_failing_symbols, self.config.archive_disagreements
        )
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        self._uvicorn = uvicorn.Server(
            uvicorn.Config(
                create_app(self._state, self.archive),
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=1,
                ssl_certfile=str(tls[0]) if tls else None,
                ssl_keyfile=str(tls[1]) if tls else None,
            )
        )
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def data(self) -> StandinData:
        return self._state.data

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> StandinServer:
        """Serve from a daemon thread; returns once uvicorn accepts connections."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(
            target=self._uvicorn.run, kwargs={"sockets": [self._socket]}, name="nepse-standin", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT_SECONDS
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the stand-in server failed to start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._uvicorn.should_exit = True
            self._thread.join(timeout=10)
            self._thread = None
        self._socket.close()

    def serve_forever(self) -> None:
        """Serve in the calling (main) thread until Ctrl-C; uvicorn installs its signal handlers."""
        self._uvicorn.run(sockets=[self._socket])
        self._socket.close()

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- control and observation ------------------------------------------------------------------
    def request_counts(self) -> dict[str, int]:
        """Requests received, keyed like "POST /api/nots/nepse-data/today-price"."""
        return self._state.counter.snapshot()

    def reset_counts(self) -> None:
        self._state.counter.reset()
        self.archive.counter.reset()

    @property
    def archive_url(self) -> str:
        """NTX_PRICE_ARCHIVE for this stand-in: the folder of its archive's company files."""
        return self.base_url + ARCHIVE_PREFIX

    def archive_request_counts(self) -> dict[str, int]:
        """Archive requests received, by path: "GET /archive/data/company-wise/NICA.csv"."""
        return self.archive.counter.snapshot()

    def set_faults(self, faults: FaultConfig) -> None:
        self._state.faults.configure(faults)

    def injected_faults(self) -> dict[str, int]:
        """Faults injected since the last `set_faults`, by kind: "429", "500", "502", "drop", "empty_200",
        "truncated_json", "slow", "token_expired"."""
        return self._state.faults.injected()

    @property
    def faults(self) -> FaultConfig:
        return self._state.faults.config

    def expire_tokens(self) -> None:
        """Make every issued access token stale (refresh tokens keep working)."""
        self._state.tokens.expire_all()

    def set_market_status(self, is_open: str | None = "CLOSE", as_of: datetime | None = None) -> None:
        """Override GET market-open; is_open=None restores the default (closed, as of the last session)."""
        self._state.set_market_status(is_open, as_of)


@contextmanager
def running_standin(
    config: StandinConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[StandinServer]:
    """A started stand-in on a free loopback port, stopped on exit."""
    server = StandinServer(config, host, port)
    try:
        server.start()
        yield server
    finally:
        server.stop()
