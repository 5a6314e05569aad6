"""A small warehouse of stored screens and prices, and a webhook receiver on loopback, for the saved
screens' tests."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import Engine, insert

from ntx_assets.warehouse import create_warehouse_engine, migrate
from ntx_assets.warehouse.schema import daily_prices, screener

SYMBOLS = ("ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT", "GOLF", "HOTEL")
SECTORS = ("Commercial Banks", "Commercial Banks", "Commercial Banks", "Hydro Power") * 2
# The stored sessions: four Monday-Friday weeks ending on the suite's pinned today, 2026-11-20.
LAST = dt.date(2026, 11, 20)


def weekdays(last: dt.date, count: int) -> list[dt.date]:
    days: list[dt.date] = []
    day = last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return sorted(days)


SESSIONS = weekdays(LAST, 20)


@dataclass
class Warehouse:
    url: str
    engine: Engine
    sessions: list[dt.date]
    rows: list[dict[str, Any]] = field(default_factory=list)  # the stored screener rows

    def of(self, session: dt.date) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["session_date"] == session]


def build_warehouse(url: str, sessions: Sequence[dt.date] = SESSIONS, seed: int = 39) -> Warehouse:
    """Eight companies over `sessions`: prices on a random walk (within the price band) and a screener
    row per company and session whose P/B, ROE and turnover move, so a screen's picks change."""
    engine = create_warehouse_engine(url)
    migrate(engine)
    rng = random.Random(seed)
    prices: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    closes = {i: 200.0 + 50 * i for i in range(len(SYMBOLS))}
    for day in sessions:
        for i, symbol in enumerate(SYMBOLS):
            previous = closes[i]
            close = round(previous * (1 + rng.uniform(-0.04, 0.04)), 1)
            closes[i] = close
            turnover = round(rng.uniform(1e6, 9e7), 2)
            prices.append(
                {
                    "security_id": 100 + i,
                    "business_date": day,
                    "symbol": symbol,
                    "open": previous,
                    "high": max(previous, close),
                    "low": min(previous, close),
                    "close": close,
                    "previous_close": previous,
                    "volume": int(turnover / close),
                    "turnover": turnover,
                    "trades": 100,
                }
            )
            rows.append(
                {
                    "session_date": day,
                    "security_id": 100 + i,
                    "symbol": symbol,
                    "name": f"{symbol.title()} Limited",
                    "sector": SECTORS[i],
                    "as_of": day,
                    "close": close,
                    "previous_close": previous,
                    "change_pct": (close / previous - 1) * 100,
                    "turnover": turnover,
                    "pb": round(rng.uniform(0.6, 2.4), 3),
                    "roe": round(rng.uniform(0.02, 0.2), 4),
                    "pe": round(rng.uniform(5, 40), 2),
                }
            )
    with engine.begin() as conn:
        conn.execute(insert(daily_prices), prices)
        conn.execute(insert(screener), rows)
    return Warehouse(url, engine, list(sessions), rows)


def expected_picks(rows: Sequence[dict[str, Any]], bound: float, limit: int) -> list[str]:
    """The picks of `pb < bound`, sorted by pb (then symbol), first `limit`: computed in Python."""
    passing = [row for row in rows if row["pb"] is not None and row["pb"] < bound]
    passing.sort(key=lambda row: (row["pb"], row["symbol"]))
    return [row["symbol"] for row in passing[:limit]]


# --- a webhook receiver on loopback -------------------------------------------------------------------


@dataclass
class Receiver:
    """Answers each POST with the next status of `statuses` (the last one repeats) and keeps what came."""

    statuses: list[int]
    received: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, statuses: Sequence[int]) -> None:
        with self.lock:
            self.statuses = list(statuses)
            self.answered.clear()


@contextmanager
def receiving(statuses: Sequence[int] = (200,)) -> Iterator[Receiver]:
    receiver = Receiver(list(statuses))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                status = receiver.statuses[min(len(receiver.answered), len(receiver.statuses) - 1)]
                receiver.answered.append(status)
                receiver.received.append(json.loads(body))
                receiver.paths.append(self.path)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
