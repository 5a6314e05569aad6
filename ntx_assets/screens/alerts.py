"""Alerts when a saved screen's picks change: the webhook's body, its delivery, and the once-only record.

The body (NTX_ALERT_WEBHOOK_FORMAT):
- `json` (default): `{"screen", "description", "session", "previous_session", "entered", "left", "picks"}`;
- `slack`: `{"text": "..."}`, what a Slack incoming webhook accepts (it answers 200 `ok`);
- `discord`: `{"content": "..."}` (at most 2,000 characters), what a Discord channel webhook accepts (it
  answers 204).

Delivery retries a 5xx, a 429, a timeout and a dropped connection with exponential backoff (tenacity), and
never raises: the outcome says what happened, in words that never hold the webhook's URL (it is a secret:
Slack's and Discord's URLs carry their token). The record in `screen_alerts` (one row per screen and
session) makes an alert go once: a row `sent` is never sent again, whatever re-runs the session; a row
`failed` is tried again by the next run of that session; a row `sending` (a run that died mid-request, or
one running now) is not sent again either, since the receiver may have it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import tenacity
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from ntx_assets.warehouse.schema import screen_alerts

WebhookFormat = Literal["json", "slack", "discord"]
FORMATS: tuple[str, ...] = ("json", "slack", "discord")
DISCORD_MAX_CHARS = 2000
SLACK_MAX_CHARS = 3000  # Slack shows a long text folded; a screen's alert stays far below it
SENT, FAILED, SENDING = "sent", "failed", "sending"


@dataclass(frozen=True)
class Alert:
    """What changed in a screen from one stored session to the next."""

    screen: str
    description: str
    session: dt.date
    previous_session: dt.date
    entered: Sequence[str]
    left: Sequence[str]
    picks: Sequence[str]

    def text(self) -> str:
        lines = [f"Screen {self.screen} on {self.session} (since {self.previous_session}):"]
        if self.description:
            lines.append(self.description)
        lines.append(f"entered: {', '.join(self.entered) or 'none'}")
        lines.append(f"left: {', '.join(self.left) or 'none'}")
        lines.append(f"picks ({len(self.picks)}): {', '.join(self.picks) or 'none'}")
        return "\n".join(lines)


def alert_body(alert: Alert, kind: str = "json") -> dict[str, Any]:
    """The JSON body of the webhook's POST, in the shape `kind` names."""
    if kind == "slack":
        return {"text": _clip(alert.text(), SLACK_MAX_CHARS)}
    if kind == "discord":
        return {"content": _clip(alert.text(), DISCORD_MAX_CHARS)}
    if kind != "json":
        raise ValueError(f"unknown webhook format {kind!r}: one of {', '.join(FORMATS)}")
    return {
        "screen": alert.screen,
        "description": alert.description,
        "session": alert.session.isoformat(),
        "previous_session": alert.previous_session.isoformat(),
        "entered": list(alert.entered),
        "left": list(alert.left),
        "picks": list(alert.picks),
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Delivery:
    """One delivery's end: whether the receiver took it, how many POSTs it took, and what happened in words
    that never contain the URL."""

    ok: bool
    attempts: int
    detail: str


class _RedactWebhooks(logging.Filter):
    """httpx logs each request's URL (INFO "HTTP Request: POST <url> ..."), and a Dagster instance that
    captures Python logs would keep it: while an alert is sent, its URL is redacted from those records."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        with self.lock:
            urls = list(self.urls)
        if urls:
            message = record.getMessage()
            redacted = message
            for url in urls:
                redacted = redact(redacted, url)
            if redacted != message:
                record.msg, record.args = redacted, ()
        return True

    @contextmanager
    def hiding(self, url: str) -> Iterator[None]:
        with self.lock:
            self.urls.append(url)
        try:
            yield
        finally:
            with self.lock:
                self.urls.remove(url)


_REDACT = _RedactWebhooks()
logging.getLogger("httpx").addFilter(_REDACT)


class _Retryable(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def post_alert(
    url: str,
    body: dict[str, Any],
    *,
    max_attempts: int = 4,
    backoff_seconds: float = 1.0,
    timeout_seconds: float = 10.0,
) -> Delivery:
    """POST `body` to `url`, retrying a 5xx/429/timeout/dropped connection up to `max_attempts` POSTs in
    all (waits of backoff_seconds x 1, 2, 4, ... capped at 30 s). Never raises."""
    attempts = 0

    def once(client: httpx.Client) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        try:
            response = client.post(url, json=body)
        except httpx.TimeoutException as error:
            raise _Retryable(f"timed out ({type(error).__name__})") from None
        except httpx.TransportError as error:
            raise _Retryable(f"no answer ({type(error).__name__})") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise _Retryable(f"HTTP {response.status_code}")
        return response

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(_Retryable),
        stop=tenacity.stop_after_attempt(max_attempts),
        wait=tenacity.wait_exponential(multiplier=backoff_seconds, max=30),
        reraise=True,
    )
    try:
        with _REDACT.hiding(url), httpx.Client(timeout=timeout_seconds, follow_redirects=False) as client:
            response = retrying(once, client)
    except _Retryable as error:
        return Delivery(False, attempts, f"{error.detail} after {attempts} attempt(s)")
    except Exception as error:
        return Delivery(False, attempts, f"could not be sent ({type(error).__name__})")
    if response.is_success:
        return Delivery(True, attempts, f"HTTP {response.status_code} after {attempts} attempt(s)")
    return Delivery(False, attempts, f"HTTP {response.status_code} (not retried: a client error)")


def redact(text: str, url: str | None) -> str:
    """`text` with the URL, and its path and query (the token part), replaced: for anything logged."""
    if not url:
        return text
    parts = urlsplit(url)
    for secret in (url, url.rstrip("/"), parts.path + (f"?{parts.query}" if parts.query else "")):
        if secret and secret != "/":
            text = text.replace(secret, "<webhook>")
    return text


# --- the once-only record ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertOutcome:
    """What became of a screen's alert for one session: `status` is sent, failed, already_sent or
    in_flight; `detail` is for the materialization's metadata and the log (never the URL)."""

    status: str
    detail: str
    attempts: int = 0


def deliver_once(
    engine: Engine,
    alert: Alert,
    url: str,
    kind: str = "json",
    *,
    now: dt.datetime,
    max_attempts: int = 4,
    backoff_seconds: float = 1.0,
    timeout_seconds: float = 10.0,
) -> AlertOutcome:
    """Send `alert` unless the record says this screen's alert of this session was sent (or is being
    sent); record the outcome. A failure is recorded, never raised."""
    body = alert_body(alert, kind)  # a bad format raises before anything is claimed
    claimed = _claim(engine, alert.screen, alert.session, now)
    if claimed is not None:
        return claimed
    delivery = post_alert(
        url,
        body,
        max_attempts=max_attempts,
        backoff_seconds=backoff_seconds,
        timeout_seconds=timeout_seconds,
    )
    t = screen_alerts
    with engine.begin() as conn:
        conn.execute(
            update(t)
            .where(t.c.screen == alert.screen, t.c.session_date == alert.session)
            .values(
                status=SENT if delivery.ok else FAILED,
                sent_at=now,
                attempts=t.c.attempts + delivery.attempts,
            )
        )
        total = conn.execute(
            select(t.c.attempts).where(t.c.screen == alert.screen, t.c.session_date == alert.session)
        ).scalar_one()
    detail = redact(delivery.detail, url)
    if delivery.ok:
        return AlertOutcome(SENT, f"sent: {detail}", total)
    return AlertOutcome(
        FAILED, f"failed: {detail}; recorded, the next run of this session tries again", total
    )


def _claim(engine: Engine, screen: str, session: dt.date, now: dt.datetime) -> AlertOutcome | None:
    """Take the record of (screen, session) as `sending`; None when taken, else why not (already sent,
    or another run is sending it)."""
    t = screen_alerts
    key = (t.c.screen == screen, t.c.session_date == session)
    try:
        with engine.begin() as conn:
            row = conn.execute(select(t.c.status, t.c.sent_at, t.c.attempts).where(*key)).first()
            if row is None:
                conn.execute(
                    insert(t).values(
                        screen=screen, session_date=session, status=SENDING, sent_at=None, attempts=0
                    )
                )
                return None
            if row.status == FAILED:
                # Only the run that flips failed -> sending sends: a concurrent re-run finds it taken.
                taken = conn.execute(update(t).where(*key, t.c.status == FAILED).values(status=SENDING))
                if taken.rowcount == 1:
                    return None
                return AlertOutcome("in_flight", "not sent: another run is sending it", row.attempts)
    except IntegrityError:
        return AlertOutcome("in_flight", "not sent: another run is sending it", 0)
    if row.status == SENT:
        return AlertOutcome("already_sent", f"already sent at {row.sent_at} (not sent again)", row.attempts)
    return AlertOutcome(
        "in_flight",
        "not sent: a run is sending it, or one stopped mid-request (the receiver may have it: not sent "
        "twice)",
        row.attempts,
    )
