"""NEPSE's price band (+/-10% of the previous close) in the stand-in's prices (band_sessions.py, prices.py):
about 30 planned sessions close exactly at it, nothing moves beyond it, and no band move re-bases a price.
The book-closure events and the prices of every company without a planned band move are what they were
before band moves existed (pinned below).

The 20 companies of the price archive (ntx_assets_tests/data/price-archive) have real prices up to
2026-08-21 (prices.py): real sessions may move beyond the band, they re-base where NEPSE did, and no seeded
book closure goes to them. The band and re-basing checks below leave their archived sessions out, and
the pins are restricted to synthetic companies (BPCL's and NLG's seeded events went to PMHPL and IHL with
the same terms and dates; the pinned sums leave out every company with a planned move before or now).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ntx_assets_tests.tools.standin import StandinConfig, StandinServer
from ntx_assets_tests.tools.standin.band_sessions import BAND_MOVES, BandSession
from ntx_assets_tests.tools.standin.data import StandinData

FIGURES = StandinConfig(seed=7, end_date=date(2026, 11, 20), days=365)  # the suite's shared stand-in

# The 13 events of seed 7, 365 days to 2026-11-20, as generated before the dividend history and the band
# moves existed: (symbol, kind, announced, book close, ex date, bonus %, right %, cash %, MP, base, sdId,
# notice id).
PINNED_EVENTS = [
    ("CHDC", "bonus", "2025-11-16", "2025-12-17", "2025-12-18", 15.0, 0.0, 0.79, 731.3, 635.91, 7101, 61001),
    ("SPHL", "cash", "2026-01-08", "2026-01-28", "2026-01-29", 0.0, 0.0, 25.0, 173.0, 173.0, 7114, 61004),
    ("MKJC", "bonus", "2026-01-23", "2026-02-04", "2026-02-05", 25.0, 0.0, 1.32, 508.9, 407.12, 7127, 61007),
    ("USHEC", "bonus", "2026-04-10", "2026-04-23", "2026-04-24", 8.0, 0.0, 0.0, 668.9, 619.35, 7140, 61010),
    (
        "ACLBSL",
        "bonus",
        "2026-04-26",
        "2026-05-22",
        "2026-05-25",
        14.25,
        0.0,
        0.0,
        751.9,
        658.12,
        7153,
        61013,
    ),
    ("TVCL", "right", "2026-05-12", "2026-06-05", "2026-06-08", 0.0, 100.0, 0.0, 1003.4, 551.7, 7166, None),
    ("BPCL", "cash", "2026-07-08", "2026-08-05", "2026-08-06", 0.0, 0.0, 35.0, 925.8, 925.8, 7179, 61016),
    ("NLG", "bonus", "2026-07-19", "2026-08-27", "2026-09-01", 18.5, 0.0, 0.0, 167.6, 141.43, 7192, 61019),
    ("SAHAS", "bonus", "2026-08-22", "2026-09-16", "2026-09-17", 20.0, 0.0, 0.0, 285.2, 237.67, 7205, 61022),
    ("NMBMF", "bonus", "2026-10-04", "2026-10-15", "2026-10-16", 12.5, 0.0, 0.0, 1085.7, 965.07, 7218, 61025),
    (
        "JBLB",
        "bonus_right",
        "2026-09-27",
        "2026-10-26",
        "2026-10-27",
        5.0,
        50.0,
        0.0,
        564.0,
        396.13,
        7231,
        61028,
    ),
    ("SMB", "bonus", "2026-10-14", "2026-11-02", "2026-11-13", 10.0, 0.0, 0.0, 376.0, 341.82, 7244, 61031),
    ("SINDU", "cash", "2026-10-07", "2026-11-05", "2026-11-06", 0.0, 0.0, 12.0, 696.9, 696.9, 7257, 61034),
]
MBL = 140  # no planned band move for seed 7, before or now: its rows are as before
# (session, closePrice, previousDayClosePrice, highPrice, lowPrice) of MBL, from before the band moves.
PINNED_MBL = [
    ("2025-11-23", 146.9, 146.0, 147.5, 143.4),
    ("2026-04-30", 113.0, 112.9, 113.0, 112.2),
    ("2026-11-20", 125.8, 124.9, 126.4, 123.7),
]
# Sums in ticks over every security without a planned band move, from before, leaving out the archived
# companies, the two that got BPCL's and NLG's events, and every company moved before or now
# (PINNED_OTHERS): 488 securities.
PINNED_UNMOVED_SUMS = {"close": 608480945, "open": 359695790, "high": 365327021, "low": 354171867}
PINNED_OTHERS = {
    131, 132, 135, 179, 182, 186, 245, 250, 263, 268, 450, 474, 695, 2746, 2758, 2761, 2766, 2768, 2786,
    2792, 2815, 2826, 2914, 2935, 8018, 8076, 8133, 9173, 9176, 9192, 9196, 9287, 9294, 9296, 9300,
}  # fmt: skip
# The seeded events that went to another company because theirs has archived prices: symbol before -> now.
MOVED_EVENTS = {"BPCL": "PMHPL", "NLG": "IHL"}


def _archived(data: StandinData) -> set[int]:
    """Security ids whose prices are the archive's in part of the window."""
    return {data.prices.security_ids[row] for row, until in data.prices.archived_until.items() if until >= 0}


def _band_paisa(previous: float) -> tuple[int, int]:
    """(low, high) in paisa: previous x 0.9 rounded up, x 1.1 rounded down, to the Rs 0.1 tick."""
    paisa = round(previous * 100)
    low_ticks = max(-((-paisa * 9) // 100), 1)
    high_ticks = paisa * 11 // 100
    return low_ticks * 10, high_ticks * 10


def _paisa(value: float) -> int:
    return round(value * 100)


def _served(data: StandinData) -> dict[tuple[int, date], dict[str, Any]]:
    return {(row["securityId"], day): row for day in data.sessions for row in data.today_rows(day)}


@pytest.fixture(scope="module")
def figures() -> StandinData:
    return StandinData(FIGURES)


# --- the planned moves ---------------------------------------------------------------------------------


def test_about_thirty_planned_sessions_close_at_the_band(standin: StandinServer) -> None:
    data = standin.data
    planned = [s for s in data.band_sessions if s.planned]
    assert len(planned) == BAND_MOVES == 30
    assert {s.direction for s in planned} == {"upper", "lower"}
    recent = [s for s in planned if s.session in data.sessions[-20:]]
    assert len(recent) >= 4 and {s.direction for s in recent} == {"upper", "lower"}
    events = {e.security_id for e in data.book_closures}
    equity = {c["id"] for c in data.universe.active_equity()}
    for s in planned:
        assert s.security_id in equity and s.security_id not in events
    # so never on a seeded re-basing's ex date or book-closure session
    closures = {(e.security_id, day) for e in data.book_closures for day in (e.book_close_date, e.ex_date)}
    assert not closures & {(s.security_id, s.session) for s in planned}


def test_a_band_session_closes_exactly_at_the_band(standin: StandinServer) -> None:
    data = standin.data
    served = _served(data)
    for s in data.band_sessions:
        row = served[(s.security_id, s.session)]
        assert row["symbol"] == s.symbol
        low, high = _band_paisa(row["previousDayClosePrice"])
        close = _paisa(row["closePrice"])
        if s.direction == "upper":
            assert close == high == _paisa(row["highPrice"]), s
        else:
            assert close == low == _paisa(row["lowPrice"]), s
        assert low <= _paisa(row["lowPrice"]) <= _paisa(row["openPrice"]) <= _paisa(row["highPrice"]) <= high
    planned_upper = next(s for s in data.band_sessions if s.planned and s.direction == "upper")
    row = served[(planned_upper.security_id, planned_upper.session)]
    # 1.1 x previous, rounded down to the tick
    expected = int(row["previousDayClosePrice"] * 1.1 * 10 + 1e-9) / 10
    assert (
        row["closePrice"] == pytest.approx(expected)
        and row["closePrice"] <= row["previousDayClosePrice"] * 1.1
    )


def test_band_sessions_are_every_session_at_the_band_and_none_moves_beyond(standin: StandinServer) -> None:
    data = standin.data
    found: set[tuple[int, date, str]] = set()
    table = data.prices
    for (security_id, day), row in _served(data).items():
        low, high = _band_paisa(row["previousDayClosePrice"])
        prices = [_paisa(row[f]) for f in ("openPrice", "highPrice", "lowPrice", "closePrice")]
        real = table.is_archived(table.row_of[security_id], table.sessions.index(day))
        assert real or all(low <= price <= high for price in prices), row
        close = prices[3]
        if close == high:
            found.add((security_id, day, "upper"))
        elif close == low:
            found.add((security_id, day, "lower"))
    assert found == {(s.security_id, s.session, s.direction) for s in data.band_sessions}
    sessions = [s.session for s in data.band_sessions]
    assert sessions == sorted(sessions)


@pytest.mark.parametrize(
    "config",
    [
        FIGURES,
        StandinConfig(seed=8, end_date=date(2026, 11, 20)),
        StandinConfig(seed=21, end_date=date(2026, 5, 15), days=120),
    ],
    ids=["seed7", "seed8", "seed21-120d"],
)
def test_no_session_rebases_but_the_seeded_bonus_and_right_ex_dates(config: StandinConfig) -> None:
    data = StandinData(config)
    ex_dates = {(e.security_id, e.ex_date) for e in data.book_closures if e.rebases}
    table = data.prices
    real = {  # where NEPSE re-based an archived company (its base implied by the archive's per_change)
        (table.security_ids[r], table.sessions[t])
        for r, t in table.rebased
        if table.is_archived(r, t) and table.traded[r, :t].any()  # seen here only after a served close
    }
    last_close: dict[int, int] = {}
    differing: set[tuple[int, date]] = set()
    for day in data.sessions:
        for row in data.today_rows(day):
            security_id = row["securityId"]
            if security_id in last_close and _paisa(row["previousDayClosePrice"]) != last_close[security_id]:
                differing.add((security_id, day))
            last_close[security_id] = _paisa(row["closePrice"])
    assert differing == ex_dates | real and len(ex_dates) == 10 and not ex_dates & real
    assert sum(s.planned for s in data.band_sessions) == BAND_MOVES


def test_a_short_window_has_no_planned_band_moves() -> None:
    data = StandinData(StandinConfig(seed=7, end_date=date(2026, 11, 20), days=30))
    assert not any(s.planned for s in data.band_sessions)


# --- what stayed as it was -------------------------------------------------------------------------------


def test_the_seeded_events_are_as_they_were(figures: StandinData) -> None:
    served = [
        (
            e.symbol,
            e.kind,
            e.announced.isoformat(),
            e.book_close_date.isoformat(),
            e.ex_date.isoformat(),
            e.bonus_pct,
            e.right_pct,
            e.cash_pct,
            e.prior_close,
            e.adjusted_base,
            e.sd_id,
            e.notice_id,
        )
        for e in figures.book_closures
    ]
    moved = {MOVED_EVENTS[p[0]]: p for p in PINNED_EVENTS if p[0] in MOVED_EVENTS}
    assert [e for e in served if e[0] not in moved] == [p for p in PINNED_EVENTS if p[0] not in MOVED_EVENTS]
    for event in served:
        if event[0] in moved:  # the same terms, dates and ids on another company (its own prices)
            assert event[1:8] + event[10:] == moved[event[0]][1:8] + moved[event[0]][10:]
    assert not _archived(figures) & {e.security_id for e in figures.book_closures}


def test_prices_without_a_planned_move_are_as_they_were(figures: StandinData) -> None:
    table = figures.prices
    moved = {row for row, _ in table.band_moves}
    assert table.row_of[MBL] not in moved and len(table.band_moves) == 30
    left_out = _archived(figures) | PINNED_OTHERS
    unmoved = [row for row, sid in enumerate(table.security_ids) if row not in moved and sid not in left_out]
    assert len(unmoved) == 488
    for name, total in PINNED_UNMOVED_SUMS.items():
        assert int(getattr(table, name)[unmoved].sum()) == total, name
    for day, close, previous, high, low in PINNED_MBL:
        (row,) = [r for r in figures.today_rows(date.fromisoformat(day)) if r["securityId"] == MBL]
        assert (row["closePrice"], row["previousDayClosePrice"], row["highPrice"], row["lowPrice"]) == (
            close,
            previous,
            high,
            low,
        )
    # band moves change no session's trading, only prices (of the synthetic companies whose events stayed)
    synthetic = [
        row for row, sid in enumerate(table.security_ids) if sid not in _archived(figures) | {2786, 9176}
    ]
    assert int(table.traded[synthetic].sum()) == 69399


# --- determinism ----------------------------------------------------------------------------------------


def test_band_sessions_are_deterministic_in_the_seed(figures: StandinData) -> None:
    again = StandinData(FIGURES)
    other = StandinData(StandinConfig(seed=8, end_date=date(2026, 11, 20)))
    assert again.band_sessions == figures.band_sessions
    assert again.prices.band_moves == figures.prices.band_moves
    planned = [(s.security_id, s.session) for s in figures.band_sessions if s.planned]
    assert [(s.security_id, s.session) for s in other.band_sessions if s.planned] != planned
    assert all(isinstance(s, BandSession) for s in figures.band_sessions)
