"""What the demo asks Dagster to run: pure functions over dates, partition keys and symbols (no I/O)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from ntx_assets.common.clock import SESSION_CLOSE
from ntx_assets.prices.sessions import is_session


@dataclass(frozen=True)
class SessionWindow:
    """The calendar dates covering the last `sessions` closed sessions (weekends and holidays inside)."""

    sessions: tuple[dt.date, ...]
    requested: int
    clipped_to: dt.date | None = None  # set when the partitions start later than the wanted first session

    @property
    def first(self) -> dt.date:
        return self.sessions[0]

    @property
    def last(self) -> dt.date:
        return self.sessions[-1]

    def dates(self) -> list[dt.date]:
        """Every calendar date from the first to the last session: the partitions of one range run."""
        return [self.first + dt.timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def closed_sessions(sessions: Iterable[dt.date], now: dt.datetime) -> list[dt.date]:
    """The sessions whose trading is over at `now` (Nepal time): today's only after the close."""
    today = now.date()
    done_today = now.time() >= SESSION_CLOSE
    return sorted(d for d in set(sessions) if d < today or (d == today and done_today))


def session_window(
    sessions: Iterable[dt.date], count: int, now: dt.datetime, first_partition: dt.date
) -> SessionWindow | None:
    """The last `count` closed sessions, never before the first partition; None when there is none."""
    if count < 1:
        raise ValueError(f"the number of sessions must be >= 1, got {count}")
    closed = closed_sessions(sessions, now)
    wanted = closed[-count:]
    kept = tuple(d for d in wanted if d >= first_partition)
    if not kept:
        return None
    return SessionWindow(kept, count, first_partition if len(kept) < len(wanted) else None)


def calendar_sessions(holidays: Collection[dt.date], first: dt.date, last: dt.date) -> list[dt.date]:
    """NEPSE's sessions in [first, last] from its trading-week rules and holiday list."""
    days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return [d for d in days if is_session(d, holidays)]


def missing(wanted: Iterable[str], materialized: Collection[str]) -> list[str]:
    """The wanted partition keys not materialized yet, in the order given."""
    return [key for key in wanted if key not in materialized]


def covering_range(keys: Sequence[str], order: Sequence[str]) -> tuple[str, str] | None:
    """First and last of `keys` in the partitions' `order`: the one range run that covers them all."""
    wanted = set(keys)
    inside = [key for key in order if key in wanted]
    return (inside[0], inside[-1]) if inside else None


def rebased_symbols_beyond(
    first: Collection[str], rebased: Collection[str], order: Sequence[str]
) -> list[str]:
    """The re-based symbols not among `first`, in the partitions' `order` (unknown symbols dropped)."""
    wanted, taken = set(rebased), set(first)
    return [symbol for symbol in order if symbol in wanted and symbol not in taken]


def contiguous_groups(order: Sequence[str], wanted: Collection[str], size: int) -> list[list[str]]:
    """Cut the wanted keys into runs of at most `size`, each contiguous in `order`.

    A run covers a partition *range*, so a group never spans a key that is not wanted (it would be
    fetched again for nothing).
    """
    if size < 1:
        raise ValueError(f"group size must be >= 1, got {size}")
    groups: list[list[str]] = []
    current: list[str] = []
    for key in order:
        if key in wanted and len(current) < size:
            current.append(key)
            continue
        if current:
            groups.append(current)
        current = [key] if key in wanted else []
    if current:
        groups.append(current)
    return groups
