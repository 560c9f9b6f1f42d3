"""The outbox's delivery rules, shared by both senders, and the console's sender.

A reply is queued in the same transaction as the change it announces, so a crash before delivery loses
nothing. Every try of a row is claimed first (`claimed_at`, `attempts`, committed before the transport is
called), then marked sent. A failed try is retried with exponential back-off; after `outbound.max_attempts`
tries the row is marked failed (kept, with its last error) and the secretary is told once, privately. A row
that was tried before is always sent alone, so it never drags new replies down with it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.transport import Transport
from bot.wechaty_transport import texts
from ledger.clock import Clock
from ledger.messages import Outgoing
from settings.models import Cadre, Role, Settings
from storage.db import new_session
from storage.messages import (
    as_outgoing,
    claim_next,
    enqueue,
    failed_rows,
    hold_in_flight,
    mark_sent,
    record_failure,
    undelivered,
)
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
RETRY_MAX_SECONDS = 600.0
EXCERPT_LENGTH = 60


@dataclass(frozen=True)
class RetryPolicy:
    """How often a row is tried (back-off from `initial_seconds`) and whom to tell when it fails."""

    max_attempts: int
    initial_seconds: float = 1.0
    secretaries: tuple[Cadre, ...] = ()

    @classmethod
    def of(cls, settings: Settings) -> RetryPolicy:
        return cls(
            settings.outbound.max_attempts,
            settings.connection.backoff_initial_seconds,
            tuple(c for c in settings.cadres if c.role is Role.SECRETARY),
        )


def retry_delay(attempts: int, initial_seconds: float) -> float:
    """Wait after a row's `attempts`-th failed try: initial, doubling, at most RETRY_MAX_SECONDS."""
    return min(RETRY_MAX_SECONDS, initial_seconds * 2 ** min(max(attempts - 1, 0), 30))


def next_try(attempts: int, policy: RetryPolicy, now: dt.datetime) -> dt.datetime | None:
    """When to try again after the `attempts`-th failure; None when the row has had its tries and fails."""
    if attempts >= policy.max_attempts:
        return None
    return now + dt.timedelta(seconds=retry_delay(attempts, policy.initial_seconds))


def failure_alerts(row: OutboxMessage, secretaries: Sequence[Cadre]) -> list[Outgoing]:
    """One private message to each secretary about a row given up on; none about a message to a secretary
    (who could not be told either, and an alert about an alert would never end)."""
    if row.is_private and row.chat_id in {s.chat_id for s in secretaries}:
        return []
    shown = shown_text(row)
    excerpt = shown if len(shown) <= EXCERPT_LENGTH else shown[:EXCERPT_LENGTH] + "…"
    text = texts.DELIVERY_FAILED.format(
        chat=row.chat_name or row.chat_id, attempts=row.attempts, text=excerpt, error=row.last_error or "?"
    )
    return [Outgoing(s.chat_id, text, s.name, is_private=True) for s in secretaries]


def shown_text(row: OutboxMessage | Outgoing) -> str:
    """What a row or reply says, for people: its text, or `[转发图片]` for a forward (its text is only sent in its
    place)."""
    return row.text if row.forward_message_id is None else texts.FORWARDED


def row_state(row: OutboxMessage) -> str:
    """waiting, sending (claimed, no answer yet), retrying (a try failed) or failed (given up on)."""
    if row.failed_at is not None:
        return "failed"
    if row.last_error is not None:
        return "retrying"
    return "sending" if row.claimed_at is not None else "waiting"


def outbox_report(engine: Engine, tz: dt.tzinfo, *, failed_only: bool, as_json: bool) -> str:
    """`huiyin outbox`: the rows not delivered (or only the failed ones), as lines for people or as JSON."""
    with new_session(engine) as session:
        rows = failed_rows(session) if failed_only else undelivered(session)
    if as_json:
        fields = (
            "id",
            "chat_id",
            "chat_name",
            "text",
            "mention_ids",
            "is_private",
            "ticket_id",
            "attempts",
            "last_error",
            "forward_message_id",
        )
        times = ("created_at", "claimed_at", "retry_at", "failed_at")
        return json.dumps(
            [
                {"state": row_state(row)}
                | {name: getattr(row, name) for name in fields}
                | {name: _iso(getattr(row, name)) for name in times}
                for row in rows
            ],
            ensure_ascii=False,
            indent=2,
        )
    if not rows:
        return texts.OUTBOX_NO_FAILED if failed_only else texts.OUTBOX_EMPTY
    lines = []
    for row in rows:
        when = (row.failed_at or row.created_at).astimezone(tz).strftime("%m-%d %H:%M")
        text = shown_text(row).replace("\n", " ")
        error = f"  [{row.last_error}]" if row.last_error else ""
        lines.append(
            f"{row.id:<6} {texts.OUTBOX_STATES[row_state(row)]:<4} {when}  {row.chat_name or row.chat_id}  "
            f"×{row.attempts}  {text[:EXCERPT_LENGTH]}{error}"
        )
    return "\n".join(lines)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def record_failed_try(
    session: Session, row_ids: Iterable[int], error: str, now: dt.datetime, policy: RetryPolicy
) -> list[OutboxMessage]:
    """After a failed try of `row_ids` (already claimed): schedule the retry, or fail the row and queue the alerts.
    Returns the rows that failed for good. The caller commits."""
    failed = []
    for row_id in row_ids:
        row = session.get(OutboxMessage, row_id)
        if row is None:
            continue
        if (
            done := record_failure(session, row_id, error=error, now=now, retry_at=next_try(row.attempts, policy, now))
        ) is None:
            continue
        failed.append(done)
        log.error(
            "outbox row %s to %s failed after %d tries, not retried: %s", row_id, row.chat_id, row.attempts, error
        )
        for alert in failure_alerts(done, policy.secretaries):
            enqueue(session, alert, now=now)
    return failed


class OutboxSender:
    """Delivers the outbox through a synchronous transport (the console), one row per message.

    Several senders (processes) may drain one PostgreSQL outbox together: each row is claimed by one of them
    (`claim_next`, `FOR UPDATE SKIP LOCKED`) and is never sent twice. `chats` are the chats (ids or names) this
    sender owns, None for all. `recover_in_flight`: at its first drain, rows a dead process left in flight go
    again at once (one process, today's behaviour); a sender beside others passes False, and such rows go once
    they are IN_FLIGHT_STALE old (a live sender's row in flight is not taken from it)."""

    def __init__(
        self,
        engine: Engine,
        transport: Transport,
        clock: Clock,
        policy: RetryPolicy | None = None,
        *,
        chats: Collection[str] | None = None,
        recover_in_flight: bool = True,
    ) -> None:
        self.engine = engine
        self.transport = transport
        self.clock = clock
        self.policy = policy or RetryPolicy(max_attempts=8)
        self.chats = None if chats is None else frozenset(chats)
        self._recover = recover_in_flight

    def drain(self) -> int:
        """Try every waiting row once, in order; a failing row holds up nothing. Returns how many were sent.

        Drains come from events (a message handled, a job run, the poller), so they are this sender's back-off:
        a failed row is tried again at the next drain, until it has had `max_attempts` tries.
        """
        sent = 0
        tried: set[int] = set()
        with new_session(self.engine) as session:
            if self._recover:
                self._recover = False
                hold_in_flight(session, until=self.clock.now(), chats=self.chats)
                session.commit()
            while (row := claim_next(session, now=self.clock.now(), chats=self.chats, skip=tried)) is not None:
                assert row.id is not None
                tried.add(row.id)
                session.commit()  # the claim (and the end of its row lock) before the transport is called
                try:
                    self.transport.send(as_outgoing(row))
                except Exception as error:
                    log.warning("delivering outbox row %s failed (%s)", row.id, describe(error))
                    record_failed_try(session, [row.id], describe(error), self.clock.now(), self.policy)
                    session.commit()
                    continue
                mark_sent(session, row.id, now=self.clock.now())
                session.commit()
                sent += 1
        return sent


class SharedDrain:
    """An outbox sender shared by the console, the scheduler's thread and the poller: one drain at a time, so a
    row is never delivered twice by two drains running together."""

    def __init__(self, sender: OutboxSender) -> None:
        self.sender = sender
        self._lock = threading.Lock()

    def drain(self) -> int:
        with self._lock:
            return self.sender.drain()


def poll(drain: Callable[[], object], seconds: float) -> threading.Event:
    """Call `drain` every `seconds` on a daemon thread, so replies another process queued (the board's Open311
    API) go out without waiting for the next local message. Set the returned event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(seconds):
            try:
                drain()
            except Exception:
                log.exception("polling the outbox failed")

    threading.Thread(target=loop, name="huiyin outbox poll", daemon=True).start()
    return stop
