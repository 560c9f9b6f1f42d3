"""回访 after 办结 and the automatic close of an unrated ticket, which counts as not rated."""

from __future__ import annotations

import datetime as dt

from jobs.runner import JobRunner
from ledger.lifecycle import Action, Status
from ledger.rates import Period, compute_rates
from storage.tickets import get_ticket, ticket_facts
from tests.chat import GROUP_G1, Chat
from tests.conftest import MONDAY_9AM
from tests.test_jobs_support import actions, check_every, tick

HOUR = dt.timedelta(hours=1)
WEEK = Period(MONDAY_9AM - 9 * HOUR, MONDAY_9AM - 9 * HOUR + dt.timedelta(days=7))


def resolved_ticket(chat: Chat) -> dt.datetime:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("李叔", "3号楼2单元下水道又堵了")
    chat.say("王芳", "接单 1")
    chat.say("王芳", "办结 1 已疏通", advance=HOUR)
    return chat.clock.now()


def follow_ups(sent) -> list:
    return [o for _, o in sent if o.text.startswith("@") and ("回访" in o.text or "自动关闭" in o.text)]


def test_reporters_are_asked_after_a_day_and_an_unrated_ticket_closes_as_not_rated(chat: Chat) -> None:
    resolved_at = resolved_ticket(chat)
    sent = check_every(chat, resolved_at + dt.timedelta(days=4), dt.timedelta(minutes=10))
    asked, closed = follow_ups(sent)
    assert [at for at, o in sent if o in (asked, closed)] == [
        resolved_at + dt.timedelta(hours=24), resolved_at + dt.timedelta(days=3)
    ]  # the checks run in step with the resolution, every ten minutes
    assert asked.chat_name == GROUP_G1 and asked.text.startswith("@张阿姨 @李叔 回访：#1")
    assert "评价 1 满意 / 基本满意 / 不满意" in asked.text and "没修好 1" in asked.text
    assert "已自动关闭（记为未评价）" in closed.text
    with chat.session() as session:
        ticket = get_ticket(session, 1)
        assert ticket.status == Status.CLOSED and ticket.rating is None
        rates = compute_rates(ticket_facts(session), WEEK)
    assert (rates.rated, rates.satisfied, rates.satisfaction_rate) == (0, 0, None)
    assert actions(chat, 1)[-2:] == [Action.FOLLOW_UP.value, Action.CLOSE.value]


def test_a_rating_stops_the_follow_up_and_the_auto_close(chat: Chat) -> None:
    resolved_at = resolved_ticket(chat)
    chat.say("张阿姨", "评价 1 基本满意", advance=2 * HOUR)
    sent = check_every(chat, resolved_at + dt.timedelta(days=4), dt.timedelta(minutes=30))
    assert follow_ups(sent) == []
    assert Action.FOLLOW_UP.value not in actions(chat, 1)


def test_a_ticket_resolved_again_after_reopening_is_asked_again(chat: Chat) -> None:
    resolved_at = resolved_ticket(chat)
    assert len(follow_ups([(None, o) for o in tick(chat, resolved_at + dt.timedelta(hours=25))])) == 1
    chat.say("李叔", "没修好 1")
    chat.say("王芳", "办结 1 换了管道", advance=HOUR)
    again = follow_ups([(None, o) for o in tick(chat, chat.clock.now() + dt.timedelta(hours=24))])
    assert len(again) == 1 and "回访：#1" in again[0].text
    assert actions(chat, 1).count(Action.FOLLOW_UP.value) == 2


def test_after_downtime_past_the_auto_close_only_the_close_is_sent(chat: Chat) -> None:
    resolved_at = resolved_ticket(chat)
    runner = JobRunner(chat.app.settings, chat.app.engine)
    assert runner.run(resolved_at + dt.timedelta(days=5), ("follow_up",)) == 1
    assert runner.run(resolved_at + dt.timedelta(days=5, minutes=1), ("follow_up",)) == 0
    chat.sender.drain()
    assert len([o for o in chat.transport.sent if "自动关闭" in o.text]) == 1
    assert not any("回访" in o.text for o in chat.transport.sent)


def test_a_rating_or_follow_up_keeps_the_resolution_time(chat: Chat) -> None:
    """Updates in the resolved state must not restamp resolved_at (the 解决率 and the 回访 key read it)."""
    resolved_at = resolved_ticket(chat)
    tick(chat, resolved_at + dt.timedelta(hours=25))
    chat.say("张阿姨", "评价 1 满意")
    with chat.session() as session:
        assert get_ticket(session, 1).resolved_at == resolved_at
