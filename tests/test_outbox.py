"""Delivery never blocks: failed rows, retries, rows in flight across a crash, polling, mention names.

Storage-backed tests run on SQLite and PostgreSQL (conftest's `engine`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app import Huiyin
from bot.console import ConsoleTransport
from bot.outbound import Delivery, PacedOutbox, delivery_of
from bot.outbox import OutboxSender, RetryPolicy, SharedDrain, failure_alerts, outbox_report, poll
from ledger.clock import ManualClock
from ledger.messages import Outgoing
from settings.models import Outbound, Settings
from storage.db import new_session
from storage.directory import remember_members
from storage.messages import claim, enqueue, failed_rows, pending
from storage.models import OutboxMessage
from storage.schema import init_schema
from tests.chat import RecordingTransport
from tests.conftest import MONDAY_9AM, SHANGHAI

S = dt.timedelta(seconds=1)
SECRETARY = "wxid_chenjie"


class Recorder:
    """The async transport boundary: every try is recorded; a text containing POISON is refused (except in the
    secretary's alert, which quotes it)."""

    def __init__(self) -> None:
        self.tries: list[Delivery] = []
        self.sent: list[Outgoing] = []

    async def deliver(self, delivery: Delivery) -> str:
        self.tries.append(delivery)
        if "POISON" in delivery.outgoing.text and delivery.outgoing.chat_id != SECRETARY:
            raise ConnectionError("puppet refused")
        self.sent.append(delivery.outgoing)
        return f"m{len(self.sent)}"


def _policy(settings: Settings, max_attempts: int = 3) -> RetryPolicy:
    return RetryPolicy(max_attempts, 1.0, tuple(c for c in settings.cadres if c.chat_id == SECRETARY))


def _paced(engine: Engine, clock: ManualClock, settings: Settings, **limits: float) -> tuple[PacedOutbox, Recorder]:
    init_schema(engine)
    recorder = Recorder()
    outbox = PacedOutbox(
        engine,
        recorder.deliver,
        clock,
        Outbound(**limits),
        SHANGHAI,
        policy=_policy(settings, limits.get("max_attempts", 3)),
    )
    return outbox, recorder


def _queue(engine: Engine, clock: ManualClock, *outgoings: Outgoing) -> list[int]:
    with new_session(engine) as session:
        rows = [enqueue(session, outgoing, now=clock.now()) for outgoing in outgoings]
        session.commit()
        return [row.id for row in rows if row.id is not None]


def _rows(engine: Engine) -> dict[int, OutboxMessage]:
    with new_session(engine) as session:
        return {row.id: row for row in session.exec(select(OutboxMessage)) if row.id is not None}


async def _until_idle(outbox: PacedOutbox, clock: ManualClock, steps: int = 200) -> None:
    for _ in range(steps):
        wait = await outbox.step()
        if wait is None:
            return
        clock.advance(wait)
    raise AssertionError("the outbox never went idle")


def group(text: str, *ids: str) -> Outgoing:
    return Outgoing("g1", text, "1-3号楼业主群", tuple(ids))


def test_a_poison_row_fails_after_max_attempts_holds_nothing_up_and_the_secretary_is_told_once(
    engine: Engine, clock: ManualClock, settings: Settings
) -> None:
    outbox, recorder = _paced(engine, clock, settings, group_interval_seconds=1, max_attempts=3)
    poison, fire, later = _queue(
        engine, clock, group("@a POISON", "a"), group("@b 火警", "b"), Outgoing("g2", "other group", "g2")
    )
    asyncio.run(_until_idle(outbox, clock))
    rows = _rows(engine)
    assert rows[poison].failed_at is not None and rows[poison].sent_at is None
    assert rows[poison].attempts == 3 and "puppet refused" in (rows[poison].last_error or "")
    assert rows[fire].sent_at is not None and rows[later].sent_at is not None
    assert [t.outgoing.text for t in recorder.tries if t.outgoing.text.startswith("@a")] == [
        "@a @b POISON\n火警",  # the first try, when nothing had failed yet
        "@a POISON",  # then always alone: never merged into a new message
        "@a POISON",
    ]
    alerts = [o for o in recorder.sent if o.chat_id == SECRETARY]
    assert len(alerts) == 1 and alerts[0].is_private and "试了 3 次" in alerts[0].text and "POISON" in alerts[0].text
    assert outbox.failed_rows == 1
    with new_session(engine) as session:
        assert [row.id for row in failed_rows(session)] == [poison]
        assert pending(session) == []


def test_no_alert_about_a_failed_message_to_the_secretary(settings: Settings) -> None:
    row = OutboxMessage(chat_id=SECRETARY, text="x", is_private=True, attempts=3, created_at=MONDAY_9AM)
    assert failure_alerts(row, _policy(settings).secretaries) == []
    row.chat_id = "wxid_resident"
    assert len(failure_alerts(row, _policy(settings).secretaries)) == 1


def test_a_row_in_flight_when_the_process_died_is_confirmed_by_its_echo_and_not_sent_again(
    engine: Engine, clock: ManualClock, settings: Settings
) -> None:
    outbox, recorder = _paced(engine, clock, settings)
    [row_id] = _queue(engine, clock, group("@张阿姨 @王芳 收到，已登记 #1", "r1", "wxid_wangfang"))
    with new_session(engine) as session:  # the dead process claimed it, sent it, and died before marking it
        claim(session, [row_id], now=clock.now())
        session.commit()
    assert outbox.hold_in_flight() == 1
    assert asyncio.run(outbox.step()) == 10 * S  # it waits for its echo before being sent again
    assert outbox.confirm_echo({"g1"}, "@张阿姨\u2005@王芳 收到，已登记 #1") == 1
    assert asyncio.run(outbox.step()) is None
    assert recorder.tries == [] and _rows(engine)[row_id].sent_at is not None


def test_rows_in_flight_without_an_echo_are_sent_again_alone_after_the_grace(
    engine: Engine, clock: ManualClock, settings: Settings
) -> None:
    outbox, recorder = _paced(engine, clock, settings, group_interval_seconds=1)
    first, second, _new = _queue(engine, clock, group("@a one", "a"), group("@b two", "b"), group("@c three", "c"))
    with new_session(engine) as session:
        claim(session, [first, second], now=clock.now())  # one merged message in flight when the process died
        session.commit()
    outbox.hold_in_flight()
    assert outbox.confirm_echo({"g1"}, "an unrelated message of the bot") == 0
    assert outbox.confirm_echo({"g2"}, "@a one") == 0  # another chat's echo confirms nothing here
    asyncio.run(_until_idle(outbox, clock))
    assert [o.text for o in recorder.sent] == ["@c three", "@a one", "@b two"]  # new rows wait for nobody
    assert all(row.sent_at is not None for row in _rows(engine).values())


def test_the_echo_of_a_send_confirmed_by_its_id_confirms_no_other_row_with_the_same_text(
    engine: Engine, clock: ManualClock, settings: Settings
) -> None:
    """`我的` asked twice gets the same answer twice: the echo of the first must not mark the second sent."""
    outbox, _ = _paced(engine, clock, settings)
    [first] = _queue(engine, clock, group("@a 您目前没有未办结的事项。", "a"))
    assert asyncio.run(outbox.step()) == dt.timedelta(0)  # sent as message m1, confirmed by its id
    [second] = _queue(engine, clock, group("@a 您目前没有未办结的事项。", "a"))
    with new_session(engine) as session:  # the second is in flight: claimed, its send not answered yet
        claim(session, [second], now=clock.now())
        session.commit()
    assert outbox.confirm_echo({"g1"}, "@a\u2005您目前没有未办结的事项。", "m1") == 0
    assert _rows(engine)[second].sent_at is None and _rows(engine)[first].sent_at is not None
    assert outbox.confirm_echo({"g1"}, "@a\u2005您目前没有未办结的事项。", "m2") == 1  # its own echo does


def test_an_echo_does_not_confirm_a_row_that_was_never_claimed(
    engine: Engine, clock: ManualClock, settings: Settings
) -> None:
    outbox, _ = _paced(engine, clock, settings)
    _queue(engine, clock, group("@a one", "a"))
    assert outbox.confirm_echo({"g1"}, "@a one") == 0


def test_enqueue_keeps_the_name_the_text_uses_for_each_mention(app: Huiyin) -> None:
    with new_session(app.engine) as session:
        now = app.clock.now()
        remember_members(session, [("wxid_tom", "Tom Lee", now, None), ("wxid_li", "李@军", now, None)])
        row = enqueue(
            session,
            Outgoing("g1", "@Tom Lee @李@军 @王芳 @Ghost 收到", "g1", ("wxid_tom", "wxid_li", "wxid_wangfang", "x")),
            now=app.clock.now(),
        )
        session.commit()
        assert row.mention_names == ["Tom Lee", "李@军", "王芳", ""]
        delivery = delivery_of(Outgoing("g1", row.text, "g1", tuple(row.mention_ids)), row.mention_names)
    assert delivery.names == ("Tom Lee", "李@军", "王芳", "Ghost") and delivery.body == "收到"


def test_the_outbox_command_lists_failed_rows_with_attempts_and_error(
    engine: Engine, clock: ManualClock, settings: Settings
) -> None:
    outbox, _ = _paced(engine, clock, settings, max_attempts=1)
    _queue(engine, clock, Outgoing("wxid_gone", "POISON 私信", "老王", is_private=True), group("@a waiting", "a"))
    asyncio.run(outbox.step())
    [failed] = json.loads(outbox_report(engine, SHANGHAI, failed_only=True, as_json=True))
    assert (failed["state"], failed["attempts"], failed["chat_name"]) == ("failed", 1, "老王")
    assert "puppet refused" in failed["last_error"] and failed["failed_at"].startswith("2026-11-23T01:00")
    everything = outbox_report(engine, SHANGHAI, failed_only=False, as_json=False)
    assert "失败" in everything and "等待" in everything and "waiting" in everything


def test_a_forward_is_listed_and_alerted_about_as_a_forwarded_photo(
    engine: Engine, clock: ManualClock, settings: Settings
) -> None:
    outbox, _ = _paced(engine, clock, settings, max_attempts=1)
    photo = Outgoing("wxid_gone", "POISON 原图已过期", "老王", is_private=True, ticket_id=4, forward_message_id="m9")
    _queue(engine, clock, photo)
    asyncio.run(outbox.step())
    [failed] = json.loads(outbox_report(engine, SHANGHAI, failed_only=True, as_json=True))
    assert (failed["forward_message_id"], failed["ticket_id"], failed["state"]) == ("m9", 4, "failed")
    assert "[转发图片]" in outbox_report(engine, SHANGHAI, failed_only=True, as_json=False)
    with new_session(engine) as session:
        [row] = failed_rows(session)
    [alert] = failure_alerts(row, _policy(settings).secretaries)
    assert "[转发图片]" in alert.text and "原图已过期" not in alert.text


def test_the_console_sender_delivers_a_forward_and_the_console_shows_it(engine: Engine, clock: ManualClock) -> None:
    init_schema(engine)
    transport = RecordingTransport()
    photo = Outgoing("unit", "原图已过期", "幸福里物业维修群", ticket_id=1, forward_message_id="console-7")
    _queue(engine, clock, photo)
    assert OutboxSender(engine, transport, clock).drain() == 1
    assert transport.sent == [photo]
    lines: list[str] = []
    ConsoleTransport(lines.append).send(photo)
    assert lines == ["[幸福里物业维修群] 回音: [转发图片]"]


def test_the_paced_outbox_notices_rows_another_process_queued_within_poll_seconds(
    engine: Engine, clock: ManualClock, settings: Settings
) -> None:
    outbox, recorder = _paced(engine, clock, settings, poll_seconds=0.05)

    async def scenario() -> None:
        task = asyncio.create_task(outbox.run())
        outbox.online.set()
        await asyncio.sleep(0.1)  # idle: nothing queued
        _queue(engine, clock, group("@a from the board", "a"))  # nobody sets `wake`
        deadline = time.monotonic() + 2
        while not recorder.sent and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())
    assert [o.text for o in recorder.sent] == ["@a from the board"]


def test_the_console_poller_delivers_rows_another_process_queued(engine: Engine, clock: ManualClock) -> None:
    init_schema(engine)
    transport = RecordingTransport()
    stop = poll(SharedDrain(OutboxSender(engine, transport, clock)).drain, 0.05)
    try:
        _queue(engine, clock, group("@a from the board", "a"))
        deadline = time.monotonic() + 2
        while not transport.sent and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
    assert [o.text for o in transport.sent] == ["@a from the board"]


def test_the_console_sender_fails_a_row_after_max_attempts_and_tells_the_secretary_once(
    engine: Engine, clock: ManualClock, settings: Settings
) -> None:
    class Refusing(RecordingTransport):
        def send(self, outgoing: Outgoing) -> None:
            if outgoing.chat_id == "g1" and "POISON" in outgoing.text:
                raise ConnectionError("no such contact")
            super().send(outgoing)

    init_schema(engine)
    transport = Refusing()
    sender = OutboxSender(engine, transport, clock, _policy(settings, max_attempts=2))
    _queue(engine, clock, group("@a POISON", "a"), group("@b fine", "b"))
    assert sender.drain() == 1
    assert sender.drain() == 1  # the second failure fails the row; the alert goes in the same drain
    assert sender.drain() == 0
    assert [o.chat_id for o in transport.sent] == ["g1", SECRETARY]
    with new_session(engine) as session:
        assert len(failed_rows(session)) == 1
