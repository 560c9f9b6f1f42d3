"""Outbound discipline: pacing per chat and overall, the daily cap, merging, and the paced outbox loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.outbound import Batch, Delivery, PacedOutbox, Pacer, Queued, delivery_of, merge, plan, split_mentions
from bot.outbox import RetryPolicy, next_try, retry_delay
from bot.wechaty_transport.transport import room_text
from ledger.clock import ManualClock
from ledger.messages import Outgoing
from settings.models import Outbound
from storage.db import new_session
from storage.messages import enqueue
from storage.models import OutboxMessage
from storage.schema import init_schema
from tests.conftest import MONDAY_9AM, SHANGHAI

S = dt.timedelta(seconds=1)


def reply(chat: str, text: str, *ids: str, ticket: int | None = None) -> Outgoing:
    return Outgoing(chat, text, chat, tuple(ids), ticket_id=ticket)


def d(chat: str, text: str, *ids: str, ticket: int | None = None, names: tuple[str, ...] = ()) -> Delivery:
    return delivery_of(reply(chat, text, *ids, ticket=ticket), names)


def q(row_id: int, delivery: Delivery, *, retried: bool = False, due: dt.datetime | None = None) -> Queued:
    return Queued(row_id, delivery, retried, due)


def test_split_mentions_takes_the_leading_names_only() -> None:
    assert split_mentions("@张阿姨 @王芳 收到，已登记 #1") == (["张阿姨", "王芳"], "收到，已登记 #1")
    assert split_mentions("@张阿姨\u2005@王芳 收到") == (["张阿姨", "王芳"], "收到")
    assert split_mentions("收到 @王芳 处理") == ([], "收到 @王芳 处理")


def test_split_mentions_keeps_known_names_with_spaces_and_at_signs_whole() -> None:
    text = "@Tom Lee @李@军 @张阿姨 收到，已登记 #1"
    assert split_mentions(text, ["Tom Lee", "李@军", "张阿姨"]) == (["Tom Lee", "李@军", "张阿姨"], "收到，已登记 #1")
    assert split_mentions("@Tom Lee 收到", ["Tom", "Tom Lee"]) == (["Tom Lee"], "收到")  # the longest name that fits
    assert split_mentions("@Tom Lee 收到", ["张阿姨"]) == (["Tom"], "Lee 收到")  # unknown names end at a space


def test_merge_addresses_everyone_once_and_keeps_the_bodies_in_order() -> None:
    merged = merge(
        [d("g", "@张阿姨 @王芳 收到 #1", "r1", "w", ticket=1), d("g", "@李叔 @王芳 收到 #2", "r2", "w", ticket=2)]
    )
    assert merged.outgoing.text == "@张阿姨 @王芳 @李叔 收到 #1\n收到 #2"
    assert merged.outgoing.mention_ids == ("r1", "w", "r2")
    assert merged.outgoing.ticket_id is None
    assert merge([d("g", "@a x", "a", ticket=3), d("g", "@b y", "b", ticket=3)]).outgoing.ticket_id == 3


def test_the_same_answer_to_many_residents_is_said_once_with_all_of_them_mentioned() -> None:
    notice = "已知情况：#通知1 3号楼停水，预计15:00恢复。"
    replies = [d("g", f"@居民{n} {notice}", f"r{n}") for n in range(4)] + [d("g", "@李叔 收到 #2", "r9")]
    merged = merge(replies)
    assert merged.outgoing.text == f"@居民0 @居民1 @居民2 @居民3 @李叔 {notice}\n收到 #2"
    assert merged.outgoing.mention_ids == ("r0", "r1", "r2", "r3", "r9")


def test_merging_names_with_spaces_does_not_garble_the_mentions() -> None:
    first = d("g", "@Tom Lee @李军 收到 #1", "t", "l", names=("Tom Lee", "李军"))
    second = d("g", "@Ann Wu @李军 收到 #2", "a", "l", names=("Ann Wu", "李军"))
    merged = merge([first, second])
    assert merged.names == ("Tom Lee", "李军", "Ann Wu")
    assert merged.outgoing.text == "@Tom Lee @李军 @Ann Wu 收到 #1\n收到 #2"
    assert merged.mentions == (("t", "Tom Lee"), ("l", "李军"), ("a", "Ann Wu"))


def test_room_text_mentions_the_reachable_for_real_and_keeps_the_others_as_plain_names() -> None:
    delivery = d("g", "@张阿姨 @Tom Lee @王芳 收到 #1", "r1", "ghost", "w", names=("张阿姨", "Tom Lee", "王芳"))
    assert room_text(delivery, {"r1": "张阿姨", "w": "王芳"}) == "@张阿姨\u2005@王芳 @Tom Lee 收到 #1"
    assert room_text(delivery, {}) == "@张阿姨 @Tom Lee @王芳 收到 #1"


def test_retries_back_off_exponentially_and_give_up_after_max_attempts() -> None:
    assert [retry_delay(n, 1.0) for n in (1, 2, 3, 4, 8)] == [1.0, 2.0, 4.0, 8.0, 128.0]
    assert retry_delay(20, 1.0) == 600.0
    policy = RetryPolicy(max_attempts=3, initial_seconds=2.0)
    assert next_try(1, policy, MONDAY_9AM) == MONDAY_9AM + 2 * S
    assert next_try(2, policy, MONDAY_9AM) == MONDAY_9AM + 4 * S
    assert next_try(3, policy, MONDAY_9AM) is None  # the third failure is the last


def test_a_row_tried_before_is_sent_alone_and_never_merged_into_new_replies() -> None:
    pacer = Pacer(Outbound(), SHANGHAI)
    old, new1, new2 = d("g", "@a old", "a"), d("g", "@b new", "b"), d("g", "@c newer", "c")
    assert plan([q(1, old, retried=True), q(2, new1), q(3, new2)], pacer, MONDAY_9AM, 10) == Batch((1,), old)
    assert plan([q(2, new1), q(3, old, retried=True), q(4, new2)], pacer, MONDAY_9AM, 10) == Batch((2,), new1)
    later = MONDAY_9AM + 5 * S  # backing off: holds up nothing behind it, and its due time is a wait
    assert plan([q(1, old, retried=True, due=later), q(2, new1), q(3, new2)], pacer, MONDAY_9AM, 10) == Batch(
        (2, 3), merge([new1, new2])
    )
    assert plan([q(1, old, retried=True, due=later)], pacer, MONDAY_9AM, 10) == 5 * S


def forward(chat: str, message_id: str, ticket: int = 1) -> Delivery:
    return delivery_of(Outgoing(chat, "原图已过期", chat, ticket_id=ticket, forward_message_id=message_id))


def test_a_forward_is_sent_alone_and_never_merged_with_the_replies_around_it() -> None:
    pacer = Pacer(Outbound(), SHANGHAI)
    order, photo, after = d("u", "@z 派单 #1", "z"), forward("u", "m1"), d("u", "@z later", "z")
    assert plan([q(1, order), q(2, photo), q(3, after)], pacer, MONDAY_9AM, 10) == Batch((1,), order)
    assert plan([q(2, photo), q(3, after)], pacer, MONDAY_9AM, 10) == Batch((2,), photo)
    assert plan([q(2, photo), q(3, forward("u", "m2"))], pacer, MONDAY_9AM, 10) == Batch((2,), photo)


def test_a_chat_waits_its_interval_and_all_chats_share_the_minute() -> None:
    pacer = Pacer(Outbound(group_interval_seconds=3, per_minute=3), SHANGHAI)
    now = MONDAY_9AM
    pacer.record("g1", now)
    assert pacer.wait("g1", now + S) == 2 * S
    assert pacer.wait("g2", now + S) == dt.timedelta(0)
    pacer.record("g2", now + S)
    pacer.record("g3", now + 2 * S)
    assert pacer.wait("g4", now + 10 * S) == 50 * S  # 3 in the last minute: the oldest must age out
    assert pacer.wait("g4", now + 60 * S) == dt.timedelta(0)


def test_the_daily_cap_holds_until_local_midnight() -> None:
    pacer = Pacer(Outbound(daily_cap=2), SHANGHAI)
    pacer.record("g1", MONDAY_9AM)
    pacer.record("g2", MONDAY_9AM + 10 * S)
    later = MONDAY_9AM + dt.timedelta(hours=1)
    assert pacer.capped(later)
    assert pacer.wait("g3", later) == dt.timedelta(hours=14)  # 10:00 → 24:00 Shanghai
    assert not pacer.capped(MONDAY_9AM + dt.timedelta(hours=15))


def test_plan_merges_a_chats_queue_and_does_not_let_a_waiting_chat_block_others() -> None:
    pacer = Pacer(Outbound(group_interval_seconds=3), SHANGHAI)
    a, b, c = d("g1", "a"), d("g2", "b"), d("g1", "c")
    queue = [q(1, a), q(2, b), q(3, c)]
    assert plan(queue, pacer, MONDAY_9AM, merge_max=10) == Batch((1, 3), merge([a, c]))
    pacer.record("g1", MONDAY_9AM)
    assert plan(queue, pacer, MONDAY_9AM + S, merge_max=10) == Batch((2,), b)
    pacer.record("g2", MONDAY_9AM + S)
    assert plan(queue, pacer, MONDAY_9AM + S, merge_max=10) == 2 * S
    assert plan(queue, pacer, MONDAY_9AM + 3 * S, merge_max=1) == Batch((1,), a)
    assert plan([], pacer, MONDAY_9AM, merge_max=10) is None


class Recorder:
    """The transport boundary: records deliveries; fails for the chats in `failing`."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []
        self.failing: set[str] = set()

    async def deliver(self, delivery: Delivery) -> str:
        if delivery.outgoing.chat_id in self.failing:
            raise ConnectionError("puppet refused")
        self.sent.append(delivery.outgoing)
        return f"m{len(self.sent)}"


def _outbox(engine: Engine, clock: ManualClock, limits: Outbound) -> tuple[PacedOutbox, Recorder]:
    init_schema(engine)
    recorder = Recorder()
    return PacedOutbox(engine, recorder.deliver, clock, limits, SHANGHAI), recorder


def _queue(engine: Engine, clock: ManualClock, *outgoings: Outgoing) -> None:
    with new_session(engine) as session:
        for outgoing in outgoings:
            enqueue(session, outgoing, now=clock.now())
        session.commit()


def test_the_paced_outbox_merges_what_queued_and_marks_every_row_sent(engine: Engine, clock: ManualClock) -> None:
    outbox, recorder = _outbox(engine, clock, Outbound(group_interval_seconds=3))
    _queue(engine, clock, reply("g1", "@a one", "a"), reply("g1", "@b two", "b"), reply("g2", "three"))

    async def drain() -> list[dt.timedelta | None]:
        return [await outbox.step(), await outbox.step(), await outbox.step()]

    assert asyncio.run(drain()) == [dt.timedelta(0), dt.timedelta(0), None]
    assert [o.text for o in recorder.sent] == ["@a @b one\ntwo", "three"]
    with new_session(engine) as session:
        assert all(row.sent_at is not None for row in session.exec(select(OutboxMessage)))
    assert (outbox.delivered_rows, outbox.messages_sent) == (3, 2)


def test_an_order_and_its_photos_go_out_one_by_one_each_forward_read_back_from_the_outbox(
    engine: Engine, clock: ManualClock
) -> None:
    outbox, recorder = _outbox(engine, clock, Outbound(group_interval_seconds=3))
    photos = [Outgoing("unit", f"第 {i} 张已过期", "物业群", ticket_id=1, forward_message_id=f"m{i}") for i in (1, 2)]
    _queue(engine, clock, reply("unit", "@z 派单 #1", "z", ticket=1), *photos, reply("unit", "@z 另一件", "z"))

    async def drain() -> None:
        while (wait := await outbox.step()) is not None:
            clock.advance(wait)

    asyncio.run(drain())
    assert [(o.text, o.forward_message_id) for o in recorder.sent] == [
        ("@z 派单 #1", None), ("第 1 张已过期", "m1"), ("第 2 张已过期", "m2"), ("@z 另一件", None),
    ]  # fmt: skip
    assert recorder.sent[1] == photos[0] and (outbox.delivered_rows, outbox.messages_sent) == (4, 4)
    with new_session(engine) as session:
        rows = list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [row.forward_message_id for row in rows] == [None, "m1", "m2", None]
    assert all(row.sent_at is not None for row in rows)


def test_a_failing_chat_keeps_its_rows_and_lets_the_others_through(engine: Engine, clock: ManualClock) -> None:
    outbox, recorder = _outbox(engine, clock, Outbound())
    recorder.failing.add("g1")
    _queue(engine, clock, reply("g1", "stuck"), reply("g2", "fine"))

    async def attempt() -> None:
        assert await outbox.step() == S  # a failed try pauses sending for the first back-off
        clock.advance(S)
        assert await outbox.step() == S  # g1 is due again first, and fails again: now it backs off 2 s
        clock.advance(S)
        assert await outbox.step() == dt.timedelta(0)  # meanwhile g2 goes
        assert await outbox.step() == S

    asyncio.run(attempt())
    assert [o.text for o in recorder.sent] == ["fine"]
    recorder.failing.clear()
    clock.advance(S)
    asyncio.run(outbox.step())
    assert [o.text for o in recorder.sent] == ["fine", "stuck"]


def test_reaching_the_daily_cap_is_logged_once_and_nothing_is_dropped(
    engine: Engine, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    outbox, recorder = _outbox(engine, clock, Outbound(daily_cap=1, merge_max=1))
    _queue(engine, clock, reply("g1", "one"), reply("g2", "two"), reply("g3", "three"))

    async def run() -> list[dt.timedelta | None]:
        return [await outbox.step(), await outbox.step(), await outbox.step()]

    with caplog.at_level(logging.WARNING, logger="bot.outbound"):
        waits = asyncio.run(run())
    assert waits[0] == dt.timedelta(0) and waits[1] == waits[2] == dt.timedelta(hours=15)
    cap_lines = [r.getMessage() for r in caplog.records if "daily send cap reached" in r.getMessage()]
    assert len(cap_lines) == 1 and "2 replies wait in the outbox" in cap_lines[0]
    clock.advance(dt.timedelta(hours=15))
    asyncio.run(outbox.step())
    assert [o.text for o in recorder.sent] == ["one", "two"]


def test_a_restarted_outbox_counts_what_was_sent_earlier_today(engine: Engine, clock: ManualClock) -> None:
    first, _ = _outbox(engine, clock, Outbound(daily_cap=2, merge_max=1))
    _queue(engine, clock, reply("g1", "one"), reply("g2", "two"), reply("g3", "three"))
    asyncio.run(first.step())
    clock.advance(S)
    asyncio.run(first.step())
    restarted, recorder = _outbox(engine, clock, Outbound(daily_cap=2, merge_max=1))
    restarted.restore()
    assert restarted.pacer.sent_today(clock.now()) == 2
    assert asyncio.run(restarted.step()) == dt.timedelta(hours=15) - S
    assert recorder.sent == []
