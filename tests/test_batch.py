"""Messages received together are handled in one transaction (`Huiyin.handle_batch`, `bot.inbox.Inbox`): the
ledger and the replies are what handling them one by one gives, and a failure costs only its own message."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app import Huiyin
from bot.inbox import Inbox
from handlers import texts
from ledger.clock import ManualClock
from ledger.messages import Incoming
from nlp.classification import Classification
from nlp.trained import configured_classifier
from settings.models import Settings
from storage.db import make_engine, new_session
from storage.models import InboundMessage, OutboxMessage, Ticket, TicketEvent, TicketReporter
from storage.tickets import Actor, add_reporter
from tests.chat import GROUP_G1, GROUP_G2, Chat
from tests.conftest import MONDAY_9AM

# A morning in the groups: reports, a neighbour joining, chatter, an emergency, a cadre's commands, a 通知 and the
# reports it answers, a 换班 and the report after it (both change what later messages of the same batch must see),
# and a resident who writes twice.
SCRIPT = (
    ("张阿姨", "3号楼2单元下水道堵了，一楼都返水了", GROUP_G1),
    ("老李", "今天天气真好啊", GROUP_G1),
    ("刘大爷", "3号楼2单元下水道堵了，我家也返水", GROUP_G1),
    ("王芳", "接单 1", GROUP_G1),
    ("小陈", "5号楼电梯困人了！！快来人", GROUP_G2),
    ("王芳", "通知 4号楼 停水：水管抢修 至 15:00", GROUP_G1),
    ("赵姐", "4号楼怎么停水了？", GROUP_G2),
    ("王芳", "换班 今天 @李军", GROUP_G1),
    ("孙叔", "2号楼门口路灯不亮了好几天了", GROUP_G1),
    ("周阿姨", "谢谢大家", GROUP_G2),
    ("王芳", "进度 1 物业师傅下午来疏通", GROUP_G1),
    ("张阿姨", "好的，辛苦王书记了", GROUP_G1),
)


def _messages(chat: Chat) -> list[Incoming]:
    return [chat.message(name, said, group=group) for name, said, group in SCRIPT]


def _ledger(engine: Engine) -> dict[str, list[tuple]]:
    """What the ledger holds, without ids that depend on the database (sequences are global on PostgreSQL)."""
    with new_session(engine) as session:
        tickets = session.exec(select(Ticket).order_by(Ticket.id)).all()
        return {
            "tickets": [(t.id, t.status, t.category, t.assignee_id, t.urgent, t.location) for t in tickets],
            "events": [
                (e.ticket_id, e.action, e.actor_id, e.from_status, e.to_status)
                for e in session.exec(select(TicketEvent).order_by(TicketEvent.id))
            ],
            "reporters": sorted((r.ticket_id, r.member_id, r.active) for r in session.exec(select(TicketReporter))),
            "outbox": [
                (o.chat_id, o.text, tuple(o.mention_ids), tuple(o.mention_names), o.ticket_id)
                for o in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))
            ],
            "inbound": sorted(m.message_id for m in session.exec(select(InboundMessage))),
        }


def _app(settings: Settings, engine: Engine, classifier=None) -> Huiyin:
    app = Huiyin(settings, engine, classifier or configured_classifier(settings), ManualClock(MONDAY_9AM))
    app.prepare()
    return app


def test_a_batch_leaves_the_ledger_one_by_one_leaves(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    """The same messages, one by one on a fresh SQLite ledger and as one batch on the ledger under test: the same
    tickets, events, reporters, replies (texts, mentions, ticket numbers) and recorded message ids."""
    reference_engine = make_engine(f"sqlite:///{tmp_path / 'one_by_one.db'}")
    try:
        one_by_one = _app(settings, reference_engine)
        messages = _messages(Chat(one_by_one))
        counts = [one_by_one.handle(incoming) for incoming in messages]
        expected = _ledger(reference_engine)
    finally:
        reference_engine.dispose()

    batched = _app(settings, engine)
    assert batched.handle_batch(messages) == counts
    found = _ledger(engine)
    assert found == expected
    assert len(found["tickets"]) >= 3 and len(found["outbox"]) >= len(SCRIPT) - 2  # the script did something
    assert any(t[4] for t in found["tickets"])  # the lift emergency is urgent
    assert sum("停水" in o[1] for o in found["outbox"]) >= 2  # the notice, and the answer with it
    lamp = next(t for t in found["tickets"] if t[2] == "power")
    assert lamp[3] == "lijun"  # assigned by the swap made earlier in the same batch


def test_a_redelivered_batch_is_ignored(settings: Settings, engine: Engine) -> None:
    app = _app(settings, engine)
    messages = _messages(Chat(app))[:3]
    assert sum(app.handle_batch(messages)) > 0
    with new_session(engine) as session:
        before = len(session.exec(select(OutboxMessage)).all())
    assert app.handle_batch(messages) == [0, 0, 0]
    with new_session(engine) as session:
        assert len(session.exec(select(OutboxMessage)).all()) == before


class FailsOn:
    """The configured classifier, except that it raises on one text (a bug met by one message)."""

    def __init__(self, settings: Settings, text: str) -> None:
        self.inner = configured_classifier(settings)
        self.text = text

    def classify(self, text: str) -> Classification:
        if text == self.text:
            raise RuntimeError("a bug only this message meets")
        return self.inner.classify(text)


def test_a_failure_in_a_batch_costs_only_its_own_message(settings: Settings, engine: Engine) -> None:
    poison = "7号楼楼道里有一股怪味"
    app = _app(settings, engine, FailsOn(settings, poison))
    chat = Chat(app)
    first, bad, last = (chat.message(*line) for line in (
        ("张阿姨", "3号楼2单元下水道堵了，一楼都返水了"), ("老王", poison), ("孙叔", "2号楼门口路灯不亮了好几天了"),
    ))  # fmt: skip
    assert app.handle_batch([first, bad, last]) == [1, 1, 1]
    ledger = _ledger(engine)
    assert [t[2] for t in ledger["tickets"]] == ["drainage", "power"]
    assert sum(texts.INTERNAL_ERROR in o[1] for o in ledger["outbox"]) == 1
    assert ledger["inbound"] == sorted(m.message_id for m in (first, bad, last))


class RecordingApp:
    """An app that records the batches it is handed; a batch holding `fails` raises."""

    def __init__(self, fails: str = "") -> None:
        self.batches: list[list[str]] = []
        self.fails = fails

    def handle_batch(self, batch: Sequence[Incoming]) -> list[int]:
        self.batches.append([incoming.text for incoming in batch])
        if any(incoming.text == self.fails for incoming in batch):
            raise RuntimeError("the app failed")
        return [1] * len(batch)


def _incoming(chat_text: str) -> Incoming:
    return Incoming(
        message_id=chat_text, chat_id=GROUP_G1, chat_name=GROUP_G1, sender_id="r", sender_name="居民",
        text=chat_text, timestamp=MONDAY_9AM,
    )  # fmt: skip


def test_the_inbox_hands_over_what_waits_up_to_its_limit_and_what_comes_alone_at_once() -> None:
    app, handled = RecordingApp(), []
    inbox = Inbox(app, lambda messages, replies: handled.append((messages, replies)), limit=4)

    async def scenario() -> None:
        task = asyncio.create_task(inbox.run())
        for n in range(6):  # a burst: arrived before the task ran
            inbox.put(_incoming(f"burst{n}"))
        await asyncio.sleep(0.01)
        inbox.put(_incoming("alone"))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert app.batches == [[f"burst{n}" for n in range(4)], ["burst4", "burst5"], ["alone"]]
    assert handled == [(4, 4), (2, 2), (1, 1)]


def test_the_inbox_outlives_a_failing_batch_and_drains_what_waits_when_stopped() -> None:
    app, handled = RecordingApp(fails="bad"), []
    inbox = Inbox(app, lambda messages, replies: handled.append((messages, replies)), limit=2)

    async def scenario() -> None:
        task = asyncio.create_task(inbox.run())
        inbox.put(_incoming("bad"))
        await asyncio.sleep(0.01)
        inbox.put(_incoming("good"))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for n in range(3):  # received after the task stopped: the transport drains them
            inbox.put(_incoming(f"late{n}"))

    asyncio.run(scenario())
    inbox.drain()
    assert app.batches == [["bad"], ["good"], ["late0", "late1"], ["late2"]]
    assert handled == [(1, 0), (1, 1), (2, 2), (1, 1)]
    assert inbox.pending() == 0


def test_a_join_changes_its_tickets_time_when_the_transaction_commits(app: Huiyin, engine: Engine) -> None:
    """A co-reporter joining changes the ticket only in time: its `updated_at` is written at the commit (in ticket
    order, so that batches of two processes never lock each other's tickets crosswise), and never goes back."""
    chat = Chat(app)
    chat.say("张阿姨", "3号楼2单元下水道堵了，一楼都返水了")
    with new_session(engine) as session:
        opened = session.get(Ticket, 1)
    assert opened is not None
    chat.clock.advance(dt.timedelta(minutes=5))
    joined_at = chat.clock.now()
    app.handle(chat.message("刘大爷", "3号楼2单元下水道堵了，我家也返水"))
    with new_session(engine) as session:
        joined = session.get(Ticket, 1)
        reporters = session.exec(select(TicketReporter).where(TicketReporter.ticket_id == 1)).all()
    assert joined is not None and len(reporters) == 2
    assert (joined.status, joined.updated_at) == (opened.status, joined_at)
    with new_session(engine, app.community_id) as session:  # a touch older than the ticket's time changes nothing
        ticket = session.get(Ticket, 1)
        add_reporter(session, ticket, Actor("resident:老周", "老周"), now=joined_at - dt.timedelta(minutes=1))
        session.commit()
    with new_session(engine) as session:
        assert session.get(Ticket, 1).updated_at == joined_at
