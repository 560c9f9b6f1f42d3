"""Outbound discipline for a real WeChat account: pace, merge and cap what the bot sends.

WeChat restricts accounts that send fast (wechaty users report "操作过于频繁" and bans), so replies
leave the outbox at most once per `group_interval_seconds` per chat and `per_minute` overall, and at
most `daily_cap` a local day. Nothing is dropped: a reply that may not go yet stays in the outbox, and
replies to one chat that queued up meanwhile go out merged into one message (up to `merge_max`).
The decisions (`Pacer`, `plan`, `merge`) are pure and take the time as an argument; `PacedOutbox` is
the thin loop that reads the outbox, delivers through an async transport and marks rows sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy.engine import Engine

from handlers.texts import mention_prefix
from ledger.clock import Clock
from ledger.messages import Outgoing
from settings.models import Outbound
from storage.db import new_session
from storage.messages import as_outgoing, mark_sent, pending, sent_since

log = logging.getLogger(__name__)

Deliver = Callable[[Outgoing], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]
MINUTE = dt.timedelta(minutes=1)
MAX_RETRY_SECONDS = 600.0
_LEADING_MENTIONS = re.compile(r"^(?:[@＠][^\s\u2005@＠]+[ \u2005]+)+")


def split_mentions(text: str) -> tuple[list[str], str]:
    """`@张阿姨 @王芳 收到…` → (["张阿姨", "王芳"], "收到…"): the names a reply starts by addressing, and the rest."""
    match = _LEADING_MENTIONS.match(text)
    if match is None:
        return [], text
    names = [token[1:] for token in re.split(r"[ \u2005]+", match.group(0)) if token]
    return names, text[match.end() :]


def merge(outgoings: Sequence[Outgoing]) -> Outgoing:
    """Replies to one chat as one message: everyone addressed once at the front, the bodies in order."""
    if len(outgoings) == 1:
        return outgoings[0]
    names: list[str] = []
    bodies: list[str] = []
    for outgoing in outgoings:
        addressed, body = split_mentions(outgoing.text)
        names.extend(addressed)
        bodies.append(body)
    mention_ids = tuple(dict.fromkeys(i for o in outgoings for i in o.mention_ids))
    tickets = {o.ticket_id for o in outgoings}
    return replace(
        outgoings[0],
        text=mention_prefix(names) + "\n".join(bodies),
        mention_ids=mention_ids,
        ticket_id=tickets.pop() if len(tickets) == 1 else None,
    )


class Pacer:
    """Remembers what was sent when, and says how long a chat must still wait."""

    def __init__(self, limits: Outbound, tz: dt.tzinfo) -> None:
        self.limits = limits
        self.tz = tz
        self.interval = dt.timedelta(seconds=limits.group_interval_seconds)
        self._last: dict[str, dt.datetime] = {}
        self._recent: deque[dt.datetime] = deque()
        self._day: dt.date | None = None
        self._today = 0
        self._deferred: dict[str, dt.datetime] = {}

    def sent_today(self, now: dt.datetime) -> int:
        return self._today if self._day == now.astimezone(self.tz).date() else 0

    def capped(self, now: dt.datetime) -> bool:
        return self.sent_today(now) >= self.limits.daily_cap

    def wait(self, chat_id: str, now: dt.datetime) -> dt.timedelta:
        """Zero when a message to `chat_id` may go at `now`, else how long until it may."""
        if self.capped(now):
            local = now.astimezone(self.tz)
            midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), local.tzinfo)
            return midnight - now
        waits = [dt.timedelta(0)]
        if (until := self._deferred.get(chat_id)) is not None:
            waits.append(until - now)
        if (last := self._last.get(chat_id)) is not None:
            waits.append(last + self.interval - now)
        while self._recent and self._recent[0] <= now - MINUTE:
            self._recent.popleft()
        if len(self._recent) >= self.limits.per_minute:
            waits.append(self._recent[0] + MINUTE - now)
        return max(waits)

    def defer(self, chat_id: str, until: dt.datetime) -> None:
        """After a failed delivery: try this chat again at `until`, and the other chats meanwhile."""
        self._deferred[chat_id] = until

    def record(self, chat_id: str, now: dt.datetime) -> None:
        self._deferred.pop(chat_id, None)
        self._last[chat_id] = now
        self._recent.append(now)
        day = now.astimezone(self.tz).date()
        self._today = self._today + 1 if day == self._day else 1
        self._day = day


@dataclass(frozen=True)
class Batch:
    """Outbox rows that go out now as one message."""

    row_ids: tuple[int, ...]
    outgoing: Outgoing


def plan(
    queue: Sequence[tuple[int, Outgoing]], pacer: Pacer, now: dt.datetime, merge_max: int
) -> Batch | dt.timedelta | None:
    """The next batch that may go at `now`, else how long until one may, else None (nothing queued).

    Chats are considered in the order of their oldest queued row, so a chat that must wait does not
    hold up the others; within a chat the rows keep their order.
    """
    if not queue:
        return None
    by_chat: dict[str, list[tuple[int, Outgoing]]] = {}
    for row_id, outgoing in queue:
        by_chat.setdefault(outgoing.chat_id, []).append((row_id, outgoing))
    shortest: dt.timedelta | None = None
    for chat_id, rows in by_chat.items():
        wait = pacer.wait(chat_id, now)
        if wait <= dt.timedelta(0):
            chosen = rows[:merge_max]
            return Batch(tuple(r for r, _ in chosen), merge([o for _, o in chosen]))
        shortest = wait if shortest is None else min(shortest, wait)
    return shortest


class PacedOutbox:
    """Delivers the outbox through an async transport within the limits; see the module docstring."""

    def __init__(
        self,
        engine: Engine,
        deliver: Deliver,
        clock: Clock,
        limits: Outbound,
        tz: dt.tzinfo,
        *,
        sleep: Sleep = asyncio.sleep,
        on_failure: Callable[[], None] | None = None,
        retry_seconds: float = 1.0,
    ) -> None:
        self.engine = engine
        self.deliver = deliver
        self.clock = clock
        self.limits = limits
        self.pacer = Pacer(limits, tz)
        self.sleep = sleep
        self.on_failure = on_failure
        self.retry_seconds = retry_seconds
        self.wake = asyncio.Event()
        self.online = asyncio.Event()
        self.delivered_rows = 0
        self.messages_sent = 0
        self._capped_day: dt.date | None = None
        self._failures: dict[str, int] = {}

    def _queue(self) -> list[tuple[int, Outgoing]]:
        with new_session(self.engine) as session:
            return [(row.id, as_outgoing(row)) for row in pending(session, limit=10_000) if row.id is not None]

    async def step(self) -> dt.timedelta | None:
        """Send one batch if one may go now: zero after a send, the wait if none may, None if nothing is queued.

        A failed delivery leaves the rows queued and raises.
        """
        now = self.clock.now()
        queue = self._queue()
        decision = plan(queue, self.pacer, now, self.limits.merge_max)
        if not isinstance(decision, Batch):
            if decision is not None and self.pacer.capped(now):
                self._log_cap(now, len(queue))
            return decision
        try:
            await self.deliver(decision.outgoing)
        except Exception:
            failures = self._failures[decision.outgoing.chat_id] = self._failures.get(decision.outgoing.chat_id, 0) + 1
            delay = min(MAX_RETRY_SECONDS, self.retry_seconds * 2 ** min(failures - 1, 16))
            self.pacer.defer(decision.outgoing.chat_id, now + dt.timedelta(seconds=delay))
            raise
        self._failures.pop(decision.outgoing.chat_id, None)
        sent_at = self.clock.now()
        with new_session(self.engine) as session:
            for row_id in decision.row_ids:
                mark_sent(session, row_id, now=sent_at)
            session.commit()
        self.pacer.record(decision.outgoing.chat_id, sent_at)
        self.delivered_rows += len(decision.row_ids)
        self.messages_sent += 1
        if len(decision.row_ids) > 1:
            log.info(
                "merged %d queued replies to %s into one message", len(decision.row_ids), decision.outgoing.chat_id
            )
        return dt.timedelta(0)

    def _log_cap(self, now: dt.datetime, waiting: int) -> None:
        day = now.astimezone(self.pacer.tz).date()
        if self._capped_day != day:
            self._capped_day = day
            log.warning(
                "daily send cap reached: %d messages sent on %s (outbound.daily_cap); %d replies wait in the outbox "
                "until tomorrow",
                self.pacer.sent_today(now),
                day.isoformat(),
                waiting,
            )

    def restore(self) -> None:
        """Count what was already sent today (before a restart) against the limits and the daily cap."""
        local = self.clock.now().astimezone(self.pacer.tz)
        midnight = dt.datetime.combine(local.date(), dt.time(0), local.tzinfo)
        with new_session(self.engine) as session:
            for chat_id, at in sent_since(session, midnight):
                self.pacer.record(chat_id, at)

    async def run(self) -> None:
        """Deliver forever while `online` is set; `wake` is set whenever new replies are queued."""
        self.restore()
        while True:
            await self.online.wait()
            try:
                wait = await self.step()
            except Exception as error:
                log.warning("delivering a reply failed (%s: %s); it stays in the outbox", type(error).__name__, error)
                if self.on_failure is not None:
                    self.on_failure()
                continue
            if wait is None:
                self.wake.clear()
                if not self._queue():
                    await self.wake.wait()
            elif wait > dt.timedelta(0):
                await self.sleep(wait.total_seconds())
