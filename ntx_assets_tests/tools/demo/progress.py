"""One progress line per step (phase, done/total, elapsed, ETA), plain text.

On a terminal the line is rewritten in place with a carriage return; otherwise (CI, a pipe, a log file)
a new line is printed every few seconds. When the demo serves the stand-in, progress is its request
counter (data calls; the per-run auth handshakes aside) against the planned minimum; otherwise it is
Dagster runs done against runs planned.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

TTY_INTERVAL_SECONDS = 0.5
PLAIN_INTERVAL_SECONDS = 5.0
# No call for this long into a step that plans calls: most likely waiting for a pool slot.
IDLE_HINT_SECONDS = 20.0
IDLE_HINT = (
    "no API call yet: another run may hold the nepse_api pool (dagster instance concurrency get nepse_api)"
)


def clock(seconds: float | None) -> str:
    """0:07, 2:31, 1:02:03; "-" when unknown."""
    if seconds is None:
        return "-"
    whole = round(max(0.0, seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def eta_seconds(elapsed: float, done: float, total: float) -> float | None:
    """Time left at the rate so far; None before the first unit is done or once past the plan."""
    if done <= 0 or total <= 0 or done >= total:
        return None
    return elapsed * (total - done) / done


@dataclass
class Step:
    """A step of the demo: planned API calls (when countable) and Dagster runs."""

    number: int
    steps: int
    name: str
    runs: int
    planned_calls: int | None
    calls_at_start: int | None
    started: float = field(default_factory=time.monotonic)
    runs_done: int = 0
    note: str = ""

    def run_done(self, note: str = "") -> None:
        self.runs_done += 1
        self.note = note


class Progress:
    def __init__(
        self,
        stream: TextIO,
        calls: Callable[[], int] | None,
        *,
        interactive: bool | None = None,
        interval: float | None = None,
    ) -> None:
        self._stream = stream
        self._calls = calls
        self._interactive = stream.isatty() if interactive is None else interactive
        self._interval = interval or (TTY_INTERVAL_SECONDS if self._interactive else PLAIN_INTERVAL_SECONDS)
        self._lock = threading.Lock()
        self._width = 0

    @contextmanager
    def step(
        self, number: int, steps: int, name: str, *, runs: int, planned_calls: int | None
    ) -> Iterator[Step]:
        """Report the step while its body runs, then print its final line."""
        counting = self._calls is not None and planned_calls is not None
        step = Step(
            number,
            steps,
            name,
            runs,
            planned_calls if counting else None,
            self._calls() if counting and self._calls else None,
        )
        stop = threading.Event()
        ticker = threading.Thread(target=self._tick, args=(step, stop), name="demo-progress", daemon=True)
        self._emit(self.line(step), final=not self._interactive)
        ticker.start()
        ending = "done"
        try:
            yield step
        except BaseException:
            ending = "stopped"
            raise
        finally:
            stop.set()
            ticker.join()
            self._emit(self.line(step, finished=ending), final=True)

    def message(self, text: str) -> None:
        self._emit(text, final=True)

    def line(self, step: Step, *, finished: str = "") -> str:
        """The step's progress line; `finished` ("done", "stopped") replaces the ETA at the end."""
        elapsed = time.monotonic() - step.started
        head = f"[{step.number}/{step.steps}] {step.name:<10}"
        runs = f"runs {step.runs_done}/{step.runs}"
        if step.planned_calls is not None and step.calls_at_start is not None and self._calls:
            done = self._calls() - step.calls_at_start
            amount = f"calls {done}/{step.planned_calls}"
            eta = eta_seconds(elapsed, done, step.planned_calls)
            if done >= step.planned_calls and not finished:
                amount += " (finishing)"
            if done == 0 and step.planned_calls and elapsed > IDLE_HINT_SECONDS and not finished:
                return f"{head}  {amount}  elapsed {clock(elapsed)}  {IDLE_HINT}"
        else:
            amount = ""
            eta = eta_seconds(elapsed, step.runs_done, step.runs)
        tail = finished or f"ETA {clock(eta)}"
        parts = [head, amount, runs, f"elapsed {clock(elapsed)}", tail, step.note]
        return "  ".join(p for p in parts if p)

    def _tick(self, step: Step, stop: threading.Event) -> None:
        while not stop.wait(self._interval):
            self._emit(self.line(step), final=not self._interactive)

    def _emit(self, text: str, *, final: bool) -> None:
        with self._lock:
            if self._interactive:
                pad = " " * max(0, self._width - len(text))
                self._stream.write("\r" + text + pad + ("\n" if final else ""))
                self._width = 0 if final else len(text)
            else:
                self._stream.write(text + "\n")
            self._stream.flush()
