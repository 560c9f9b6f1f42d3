"""Outbound discipline for a real WeChat account: pace, merge and cap what the bot sends, and retry what fails.

WeChat restricts accounts that send fast (wechaty users report "操作过于频繁" and bans), so replies
leave the outbox at most once per `group_interval_seconds` per chat and `per_minute` overall, and at
most `daily_cap` a local day. Nothing is dropped: a reply that may not go yet stays in the outbox, and
replies to one chat that queued up meanwhile go out merged into one message (up to `merge_max`).
A reply whose send fails is retried alone, with back-off, and fails for good after `max_attempts` tries
(bot/outbox.py); it holds up nothing meanwhile.
The decisions (`split_mentions`, `Pacer`, `plan`, `merge`) are pure and take the time as an argument;
`PacedOutbox` is the thin loop that reads the outbox, delivers through an async transport and marks rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import takewhile

from sqlalchemy.engine import Engine

from bot.outbox import RetryPolicy, describe, record_failed_try
from handlers.texts import mention_prefix
from ledger.clock import Clock
from ledger.messages import Outgoing
from settings.models import Outbound
from storage.db import new_session
from storage.messages import as_outgoing, claim, hold_in_flight, in_flight, mark_sent, pending, sent_since
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

Deliver = Callable[["Delivery"], Awaitable[str | None]]
Sleep = Callable[[float], Awaitable[None]]
MINUTE = dt.timedelta(minutes=1)
# A row a previous process left "sending" waits this long (after coming online) for the echo of its send.
ECHO_GRACE_SECONDS = 10.0
# How many ids of this process's confirmed sends are remembered to recognise their echoes.
CONFIRMED_IDS_KEPT = 1000
_SEPARATORS = " \u2005"
_UNKNOWN_MENTION = re.compile(r"[@＠]([^\s\u2005@＠]+)[ \u2005]+")


def split_mentions(text: str, known: Iterable[str] = ()) -> tuple[list[str], str]:
    """`@张阿姨 @Tom Lee 收到…` → (["张阿姨", "Tom Lee"], "收到…"): the names a reply starts by addressing, the rest.

    A name is one of `known` (the row's mention names; the longest that fits, so spaces and `@` inside a name are
    kept) followed by a space; a name not known ends at the first space.
    """
    candidates = sorted({name for name in known if name}, key=len, reverse=True)
    names: list[str] = []
    rest = text
    while rest[:1] in ("@", "＠"):
        name = next(
            (n for n in candidates if rest[1:].startswith(n) and rest[1 + len(n) : 2 + len(n)] in _SEPARATORS), None
        )
        if name is None:
            match = _UNKNOWN_MENTION.match(rest)
            if match is None:
                break
            name = match.group(1)
        names.append(name)
        rest = rest[1 + len(name) :].lstrip(_SEPARATORS)
    return names, rest


@dataclass(frozen=True)
class Delivery:
    """One message to send: `outgoing.text` is `mention_prefix(names) + body`; `mentions` pairs each mentioned
    contact id with the name the text uses for it ("" when unknown), so a transport can address them for real."""

    outgoing: Outgoing
    names: tuple[str, ...] = ()
    body: str = ""
    mentions: tuple[tuple[str, str], ...] = ()


def delivery_of(outgoing: Outgoing, mention_names: Sequence[str] = ()) -> Delivery:
    names, body = split_mentions(outgoing.text, mention_names) if outgoing.mention_ids else ([], outgoing.text)
    named = list(mention_names) + [""] * (len(outgoing.mention_ids) - len(mention_names))
    return Delivery(outgoing, tuple(names), body, tuple(zip(outgoing.mention_ids, named, strict=False)))


def merge(deliveries: Sequence[Delivery]) -> Delivery:
    """Replies to one chat as one message: everyone addressed once at the front, the bodies in order, each once
    (fifty residents asking about one water cut get the notice once, with all of them mentioned)."""
    if len(deliveries) == 1:
        return deliveries[0]
    names = tuple(dict.fromkeys(name for d in deliveries for name in d.names))
    mentions: dict[str, str] = {}
    for contact_id, name in (m for d in deliveries for m in d.mentions):
        mentions[contact_id] = mentions.get(contact_id) or name
    body = "\n".join(dict.fromkeys(d.body for d in deliveries))
    tickets = {d.outgoing.ticket_id for d in deliveries}
    outgoing = replace(
        deliveries[0].outgoing,
        text=mention_prefix(names) + body,
        mention_ids=tuple(mentions),
        ticket_id=tickets.pop() if len(tickets) == 1 else None,
    )
    return Delivery(outgoing, names, body, tuple(mentions.items()))


def echo_confirms(row: OutboxMessage, echo_text: str) -> bool:
    """Whether the bot's own message `echo_text` (as the platform echoed it) carries this in-flight row."""
    body = delivery_of(as_outgoing(row), row.mention_names).body
    return bool(body) and body in echo_text


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
        if (last := self._last.get(chat_id)) is not None:
            waits.append(last + self.interval - now)
        while self._recent and self._recent[0] <= now - MINUTE:
            self._recent.popleft()
        if len(self._recent) >= self.limits.per_minute:
            waits.append(self._recent[0] + MINUTE - now)
        return max(waits)

    def record(self, chat_id: str, now: dt.datetime) -> None:
        self._last[chat_id] = now
        self._recent.append(now)
        day = now.astimezone(self.tz).date()
        self._today = self._today + 1 if day == self._day else 1
        self._day = day


@dataclass(frozen=True)
class Queued:
    """An outbox row as the planner sees it: `retried` rows (tried before) go alone, not before `due`."""

    row_id: int
    delivery: Delivery
    retried: bool = False
    due: dt.datetime | None = None

    @property
    def alone(self) -> bool:
        """Never merged with other rows: a row tried before, or a forward (a message of its own, not text)."""
        return self.retried or self.delivery.outgoing.forward_message_id is not None


def queued(row: OutboxMessage) -> Queued:
    assert row.id is not None
    return Queued(row.id, delivery_of(as_outgoing(row), row.mention_names), row.attempts > 0, row.retry_at)


@dataclass(frozen=True)
class Batch:
    """Outbox rows that go out now as one message."""

    row_ids: tuple[int, ...]
    delivery: Delivery


def plan(queue: Sequence[Queued], pacer: Pacer, now: dt.datetime, merge_max: int) -> Batch | dt.timedelta | None:
    """The next batch that may go at `now`, else how long until one may, else None (nothing queued).

    Chats are considered in the order of their oldest due row, so a chat that must wait does not hold up the
    others; within a chat the rows keep their order. A row tried before goes alone, so a reply that fails is
    never merged into a new message, and so does a forward (a photo after a dispatch order); a row backing off
    (`due` later) holds up nothing behind it.
    """
    if not queue:
        return None
    waits: list[dt.timedelta] = [q.due - now for q in queue if q.due is not None and q.due > now]
    by_chat: dict[str, list[Queued]] = {}
    for item in queue:
        if item.due is None or item.due <= now:
            by_chat.setdefault(item.delivery.outgoing.chat_id, []).append(item)
    for chat_id, items in by_chat.items():
        wait = pacer.wait(chat_id, now)
        if wait <= dt.timedelta(0):
            chosen = items[:1] if items[0].alone else list(takewhile(lambda q: not q.alone, items))[:merge_max]
            return Batch(tuple(q.row_id for q in chosen), merge([q.delivery for q in chosen]))
        waits.append(wait)
    return min(waits)


class PacedOutbox:
    """Delivers the outbox through an async transport within the limits; see the module docstring.

    `deliver` returns the platform's id of the sent message (or None); it raises when the send failed.
    """

    def __init__(
        self,
        engine: Engine,
        deliver: Deliver,
        clock: Clock,
        limits: Outbound,
        tz: dt.tzinfo,
        *,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        on_failure: Callable[[], None] | None = None,
        chats: Collection[str] | None = None,
    ) -> None:
        self.engine = engine
        self.deliver = deliver
        self.clock = clock
        self.limits = limits
        self.policy = policy or RetryPolicy(limits.max_attempts)
        self.pacer = Pacer(limits, tz)
        self.sleep = sleep
        self.on_failure = on_failure
        self.chats = chats  # the chats (ids or names) this process's account is in; None: every chat
        self.wake = asyncio.Event()
        self.online = asyncio.Event()
        self.delivered_rows = 0
        self._confirmed_ids: deque[str] = deque(maxlen=CONFIRMED_IDS_KEPT)
        self.messages_sent = 0
        self.failed_rows = 0
        self._capped_day: dt.date | None = None
        self._resume_at: dt.datetime | None = None

    def _queue(self) -> list[Queued]:
        with new_session(self.engine) as session:
            rows = pending(session, limit=10_000, chats=self.chats, claimable_at=self.clock.now())
            return [queued(row) for row in rows]

    async def step(self) -> dt.timedelta | None:
        """Try one batch if one may go now: zero after a try, the wait if none may, None if nothing is queued.

        The rows are claimed (committed) before the transport is called; a failed try is recorded on each row
        (retry with back-off, or failed after `max_attempts`) and does not raise: it pauses sending briefly.
        """
        now = self.clock.now()
        if self._resume_at is not None and now < self._resume_at:
            return self._resume_at - now
        queue = self._queue()
        decision = plan(queue, self.pacer, now, self.limits.merge_max)
        if not isinstance(decision, Batch):
            if decision is not None and self.pacer.capped(now):
                self._log_cap(now, len(queue))
            return decision
        chat_id = decision.delivery.outgoing.chat_id
        with new_session(self.engine) as session:
            if not claim(session, decision.row_ids, now=now):  # another sender took one of them meanwhile
                session.commit()
                return dt.timedelta(0)
            session.commit()
            try:
                message_id = await self.deliver(decision.delivery)
            except Exception as error:
                log.warning("delivering outbox rows %s to %s failed (%s)", decision.row_ids, chat_id, describe(error))
                failed = record_failed_try(session, decision.row_ids, describe(error), self.clock.now(), self.policy)
                session.commit()
                self.failed_rows += len(failed)
                if self.on_failure is not None:
                    self.on_failure()
                # Nothing is tried for the first back-off: if the connection is gone, the supervisor finds out
                # meanwhile, instead of every queued row spending a try; and the failed rows, due again by then,
                # still go before the replies queued after them.
                pause = dt.timedelta(seconds=self.policy.initial_seconds)
                self._resume_at = self.clock.now() + pause
                return pause
            sent_at = self.clock.now()
            for row_id in decision.row_ids:
                mark_sent(session, row_id, now=sent_at)
            session.commit()
        self.pacer.record(chat_id, sent_at)
        self.delivered_rows += len(decision.row_ids)
        self.messages_sent += 1
        if message_id:
            self._confirmed_ids.append(message_id)
        log.debug("outbox rows %s sent to %s as message %s", decision.row_ids, chat_id, message_id)
        if len(decision.row_ids) > 1:
            log.info("merged %d queued replies to %s into one message", len(decision.row_ids), chat_id)
        return dt.timedelta(0)

    def confirm_echo(self, chat_ids: Collection[str], text: str, message_id: str | None = None) -> int:
        """The platform echoed a message the bot sent to one of `chat_ids`: rows in flight there that it carries
        are sent (so a row whose send went out but whose mark was lost, e.g. in a crash, is not sent again).

        The echo of a message whose send this process already confirmed by its id confirms nothing else: a row
        in flight with the same text (the same answer to the same question, say) was not in that message."""
        if message_id is not None and message_id in self._confirmed_ids:
            return 0
        now = self.clock.now()
        with new_session(self.engine) as session:
            confirmed = [row for row in in_flight(session, chat_ids) if echo_confirms(row, text)]
            for row in confirmed:
                assert row.id is not None
                mark_sent(session, row.id, now=now)
            session.commit()
        if confirmed:
            log.info("outbox rows %s confirmed sent by their echo", [row.id for row in confirmed])
        return len(confirmed)

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

    def hold_in_flight(self) -> int:
        """Rows a previous process left in flight wait ECHO_GRACE_SECONDS for their echo, then are sent alone."""
        until = self.clock.now() + dt.timedelta(seconds=ECHO_GRACE_SECONDS)
        with new_session(self.engine) as session:
            held = hold_in_flight(session, until=until, chats=self.chats)
            session.commit()
        if held:
            log.warning("%d outbox rows were being sent when the last run stopped; resent unless echoed", held)
        return held

    async def run(self) -> None:
        """Deliver forever while `online` is set. New rows are noticed when `wake` is set (this process queued
        them) and at least every `poll_seconds` (another process, e.g. the board, queued them)."""
        self.restore()
        await self.online.wait()
        self.hold_in_flight()
        while True:
            await self.online.wait()
            self.wake.clear()
            wait = await self.step()
            if wait == dt.timedelta(0):
                continue
            pause = self.limits.poll_seconds if wait is None else min(wait.total_seconds(), self.limits.poll_seconds)
            await self._pause(pause)

    async def _pause(self, seconds: float) -> None:
        """Sleep `seconds` (on the injected sleep), or less when `wake` is set meanwhile."""
        sleeping = asyncio.create_task(self.sleep(seconds))
        woken = asyncio.create_task(self.wake.wait())
        try:
            await asyncio.wait({sleeping, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            woken.cancel()
