"""Sessions that close at NEPSE's price band (the circuit): exactly 10% above or below the previous close.

NEPSE lets no stock trade beyond 10% of its previous close on either side (sharegurunepal.com, 2020: "No
company can trade above or below 10% of previous close"; nepsekhabar.com: "circuit break applies at 10%
price movement on either side"). The walk (`prices.py`) clips every price to that band, so a large shock
already closes exactly at it now and then. On top of those, `plan_band_moves` picks `BAND_MOVES` (company,
session) pairs, from their own seeded stream, that close at the band on purpose (never on a session whose
prices are the price archive's, prices.py):

- upper circuit: close = previous close x 1.1 rounded down to the Rs 0.1 tick (and so is the high);
- lower circuit: close = previous close x 0.9 rounded up to the tick (and so is the low);

`RECENT_MOVES` of them in the last `RECENT_SESSIONS` sessions, both directions there and overall. Only
active equity companies that trade and have no seeded book closure are picked, so no re-basing moves and
the book-closure events keep their prices; the served previousDayClosePrice of the session is the
company's previous close as always (a band move creates no re-basing). The planned company's later closes
follow from the new close.

`band_sessions` lists every session that closes at the band, planned or not (`BandSession.planned`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

import numpy as np

from ntx_assets_tests.tools.standin.seeding import python_rng
from ntx_assets_tests.tools.standin.universe import Listing

if TYPE_CHECKING:
    from ntx_assets_tests.tools.standin.prices import PriceTable

Direction = Literal["upper", "lower"]

BAND_MOVES = 30  # planned band sessions in a window of at least MIN_SESSIONS sessions
RECENT_MOVES = 6  # of them in the last RECENT_SESSIONS sessions (the demo's default window is 20)
RECENT_SESSIONS = 20
MIN_SESSIONS = 30  # a shorter window (a unit-test window) gets no planned band sessions


@dataclass(frozen=True)
class BandSession:
    """A traded session whose close sits exactly at the band around its previousDayClosePrice."""

    security_id: int
    symbol: str
    session: date
    direction: Direction  # "upper": close = previous x 1.1 rounded down; "lower": x 0.9 rounded up
    planned: bool  # True for the planned moves of `plan_band_moves`, False where the walk's clip got there


def plan_band_moves(
    listings: Sequence[Listing],
    traded: np.ndarray,
    seed: int,
    count: int,
    exclude: Collection[int] = (),
    fixed: np.ndarray | None = None,
) -> dict[tuple[int, int], Direction]:
    """`count` distinct (row, session index) pairs where an active equity company that trades, not in
    `exclude` (the seeded book closures' companies), trades and closes at the band; never a pair marked
    in `fixed` (the sessions whose prices are the price archive's: prices.py). Deterministic in
    (seed, listings, traded, fixed); draws only from the "band-sessions" stream."""
    sessions = traded.shape[1]
    if count <= 0 or sessions < MIN_SESSIONS:
        return {}
    rng = python_rng(seed, "band-sessions")
    rows = [
        row
        for row, listing in enumerate(listings)
        if listing.kind == "equity" and listing.trades and listing.security_id not in exclude
    ]
    recent = min(RECENT_MOVES, count)
    # The first two are one of each, and recent: both directions in the last sessions and overall.
    directions: list[Direction] = ["upper", "lower"][:count] + [
        rng.choice(("upper", "lower")) for _ in range(count - 2)
    ]
    # Session indices: the recent moves in the last RECENT_SESSIONS, the others before them (never the
    # first session, whose previous close is the seeded pre-window close).
    spans = [(sessions - RECENT_SESSIONS, sessions - 1)] * recent
    spans += [(1, sessions - RECENT_SESSIONS - 1)] * (count - recent)
    planned: dict[tuple[int, int], Direction] = {}
    for direction, (low, high) in zip(directions, spans, strict=True):
        while True:
            row, t = rng.choice(rows), rng.randint(low, high)
            if traded[row, t] and (row, t) not in planned and (fixed is None or not fixed[row, t]):
                planned[(row, t)] = direction
                break
    return planned


def band_sessions(table: PriceTable, listings: Sequence[Listing]) -> list[BandSession]:
    """Every traded session that closes exactly at the band, by session then symbol."""
    paisa = table.prev_close * 10  # previousDayClosePrice in paisa
    for (row, t), base in table.rebased.items():
        paisa[row, t] = base
    low = np.maximum(-((-paisa * 9) // 100), 1)
    high = paisa * 11 // 100
    upper = table.traded & (table.close == high)
    lower = table.traded & (table.close == low) & ~upper
    found: list[BandSession] = []
    for row, t in zip(*np.nonzero(upper | lower), strict=True):
        row, t = int(row), int(t)
        listing = listings[row]
        found.append(
            BandSession(
                security_id=listing.security_id,
                symbol=listing.symbol,
                session=table.sessions[t],
                direction="upper" if upper[row, t] else "lower",
                planned=(row, t) in table.band_moves,
            )
        )
    found.sort(key=lambda s: (s.session, s.symbol))
    return found
