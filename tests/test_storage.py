"""Ledger guarantees: idempotent delivery, crash-safe outbox, audit trail that rebuilds the ledger."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from bot.app import Huiyin
from bot.outbox import OutboxSender
from storage.db import new_session
from storage.messages import pending
from storage.models import Ticket, TicketEvent
from storage.tickets import all_tickets, ledger_fields, rebuild_ticket, ticket_events
from tests.chat import Chat, RecordingTransport


def test_the_same_message_delivered_twice_changes_nothing_and_sends_nothing(chat: Chat) -> None:
    report = chat.message("张阿姨", "3号楼2单元下水道堵了，一楼都返水了")
    first = chat.deliver(report)
    assert len(first) == 1
    with chat.session() as session:
        tickets, events = len(all_tickets(session)), len(list(session.exec(text("select id from ticket_event"))))
    assert chat.deliver(report) == []
    with chat.session() as session:
        assert len(all_tickets(session)) == tickets == 1
        assert len(list(session.exec(text("select id from ticket_event")))) == events
        assert pending(session) == []


def test_a_crash_between_commit_and_send_loses_no_reply_and_sends_none_twice(app: Huiyin, chat: Chat) -> None:
    report = chat.message("张阿姨", "5号楼门口路灯坏了好几天了", group="4-6号楼业主群")
    app.handle(report)  # committed; the process "dies" before any sender runs

    restarted = RecordingTransport()
    sender = OutboxSender(app.engine, restarted, app.clock)
    assert sender.drain() == 1
    assert "已登记 #1" in restarted.sent[0].text
    assert sender.drain() == 0
    assert app.handle(report) == 0  # the platform redelivers the message after the restart
    assert sender.drain() == 0
    assert len(restarted.sent) == 1


def test_a_failing_transport_leaves_replies_queued_in_order(app: Huiyin, chat: Chat) -> None:
    class FlakyTransport(RecordingTransport):
        def __init__(self) -> None:
            super().__init__()
            self.down = True

        def send(self, outgoing) -> None:
            if self.down:
                raise ConnectionError("puppet service unreachable")
            super().send(outgoing)

    app.handle(chat.message("张阿姨", "3号楼楼道灯不亮了"))
    app.handle(chat.message("李叔", "5号楼电梯坏了", group="4-6号楼业主群"))
    flaky = FlakyTransport()
    sender = OutboxSender(app.engine, flaky, app.clock)
    assert sender.drain() == 0
    flaky.down = False
    assert sender.drain() == 2
    assert ["#1" in flaky.sent[0].text, "#2" in flaky.sent[1].text] == [True, True]


def test_every_ticket_can_be_rebuilt_from_its_events(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("李叔", "3号楼2单元下水道又堵了，臭死了")
    chat.say("王芳", "接单 1")
    chat.say("王芳", "承诺 1 明天")
    chat.say("王芳", "进度 1 已联系疏通公司")
    chat.say("王芳", "办结 1 已疏通")
    chat.say("张阿姨", "没修好 1")
    chat.say("赵敏", "转派 1 @李军")
    chat.say("李军", "办结 1 换了一段管子", advance=dt.timedelta(hours=3))
    chat.say("张阿姨", "评价 1 基本满意")
    chat.say("刘姐", "5号楼门口路灯坏了", group="4-6号楼业主群")
    chat.say("李军", "退回 2 属于供电局线路，已报修95598", group="4-6号楼业主群")
    chat.say("孙大爷", "1号楼有人在楼道里飞线充电")
    chat.say("孙大爷", "撤销 3")

    with chat.session() as session:
        tickets = all_tickets(session)
        assert [t.status for t in tickets] == ["closed", "returned", "cancelled"]
        for ticket in tickets:
            assert rebuild_ticket(ticket_events(session, ticket.id)) == ledger_fields(ticket)


def test_rebuild_notices_a_change_made_behind_the_ledgers_back(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    with chat.session() as session:
        ticket = session.get(Ticket, 1)
        ticket.assignee_id = "lijun"  # not through apply_action: no event
        session.add(ticket)
        session.commit()
        assert rebuild_ticket(ticket_events(session, 1))["assignee_id"] == "wangfang"
        assert rebuild_ticket(ticket_events(session, 1)) != ledger_fields(ticket)


def test_events_record_who_when_what(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("王芳", "接单 1")
    with chat.session() as session:
        events: list[TicketEvent] = ticket_events(session, 1)
    assert [(e.action, e.from_status, e.to_status, e.actor_name) for e in events] == [
        ("create", None, "new", "张阿姨"),
        ("assign", "new", "assigned", "回音"),
        ("accept", "assigned", "accepted", "王芳"),
    ]
    assert events[2].at == chat.clock.now()
    assert events[1].changes == {"status": "assigned", "assignee_id": "wangfang"}


def test_timestamps_round_trip_as_aware_utc(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    with new_session(chat.app.engine) as session:
        ticket = session.get(Ticket, 1)
    assert ticket.created_at == chat.clock.now()
    assert ticket.created_at.tzinfo is not None
    assert ticket.response_due_at - ticket.created_at == dt.timedelta(hours=1)
    assert ticket.resolution_due_at - ticket.created_at == dt.timedelta(hours=48)
