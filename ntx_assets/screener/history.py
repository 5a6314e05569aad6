"""What happened after a screen (pure): forward returns of its picks against the whole universe's, and
which companies entered and left it from one session to the next."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


def forward_returns(
    start: Mapping[int, float], end: Mapping[int, float], security_ids: Iterable[int]
) -> dict[int, float | None]:
    """end / start - 1 per company (adjusted closes in one basis); None where either close is unknown."""
    out: dict[int, float | None] = {}
    for security_id in security_ids:
        first, last = start.get(security_id), end.get(security_id)
        out[security_id] = last / first - 1.0 if first and last is not None else None
    return out


@dataclass(frozen=True)
class ForwardSummary:
    """The picks' forward returns against the universe's over the same sessions."""

    sessions: int
    end: object  # the N-th stored session after the screen's, or None while it is not stored yet
    known: int
    picks: int
    median: float | None
    mean: float | None
    universe_median: float | None
    universe_known: int

    def describe(self, day: object) -> str:
        if self.end is None:
            return (
                f"forward {self.sessions} sessions from {day}: not known yet (fewer sessions stored after it)"
            )
        return (
            f"forward {self.sessions} sessions ({day} -> {self.end}): screen median {_pct(self.median)}, "
            f"mean {_pct(self.mean)} ({self.known} of {self.picks} picks); universe median "
            f"{_pct(self.universe_median)} ({self.universe_known} companies)"
        )


def summarize(
    sessions: int, end: object, picks: Sequence[float | None], universe: Sequence[float | None]
) -> ForwardSummary:
    known = [value for value in picks if value is not None]
    everyone = [value for value in universe if value is not None]
    return ForwardSummary(
        sessions=sessions,
        end=end,
        known=len(known),
        picks=len(picks),
        median=statistics.median(known) if known else None,
        mean=statistics.fmean(known) if known else None,
        universe_median=statistics.median(everyone) if everyone else None,
        universe_known=len(everyone),
    )


def changes(previous: Iterable[str], current: Iterable[str]) -> tuple[list[str], list[str]]:
    """(entered, left): symbols in the current screen and not the previous one, and the other way round."""
    before, now = set(previous), set(current)
    return sorted(now - before), sorted(before - now)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.2f}%"
