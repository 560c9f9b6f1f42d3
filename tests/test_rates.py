"""响应率 / 解决率 / 满意率 by their written definitions, on hand-made tickets and on a real conversation."""

from __future__ import annotations

import datetime as dt

from ledger.lifecycle import Status
from ledger.rates import Period, TicketFacts, compute_rates, format_rate, is_overdue, resolved_in
from storage.tickets import ticket_facts
from tests.chat import Chat
from tests.conftest import MONDAY_9AM

H = dt.timedelta(hours=1)
WEEK = Period(MONDAY_9AM, MONDAY_9AM + dt.timedelta(days=7))


def facts(number: int, *, created: dt.timedelta = H, status: Status = Status.ASSIGNED, **times) -> TicketFacts:
    created_at = MONDAY_9AM + created
    values = {"response_due_at": created_at + H, "resolution_due_at": created_at + 48 * H, **times}
    return TicketFacts(
        number=number, category="drainage", grid_id="g1", location="3号楼", assignee_id="wangfang", status=status,
        created_at=created_at, first_response_at=values.get("first_response_at"),
        response_due_at=values["response_due_at"], resolution_due_at=values["resolution_due_at"],
        resolved_at=values.get("resolved_at"), ratings=values.get("ratings", ()),
    )  # fmt: skip


def test_definitions_on_hand_made_tickets() -> None:
    start = MONDAY_9AM
    tickets = [
        facts(1, first_response_at=start + 1.5 * H, resolved_at=start + 10 * H, status=Status.CLOSED,
              ratings=((start + 11 * H, "满意"),)),  # responded at 1.5 h: in time (due at 2 h)
        facts(2, first_response_at=start + 3 * H, resolved_at=start + 60 * H, status=Status.RESOLVED),  # late both
        facts(3, status=Status.REOPENED, ratings=((start + 20 * H, "不满意"),)),  # never responded, never resolved
        facts(4, status=Status.CANCELLED, first_response_at=start + H),  # counts nowhere
        facts(5, status=Status.RETURNED, first_response_at=start + H),  # received and responded, not due
        facts(6, created=-10 * dt.timedelta(days=1), status=Status.CLOSED, resolved_at=start - 24 * H,
              ratings=((start + 2 * H, "基本满意"),)),  # created before the week, resolved late before it, rated in it
        facts(8, created=-10 * dt.timedelta(days=1)),  # an old ticket still open and overdue during the week
        facts(7, created=8 * dt.timedelta(days=1)),  # after the week
    ]  # fmt: skip
    rates = compute_rates(tickets, WEEK)
    assert (rates.received, rates.response_counted, rates.responded_in_time) == (4, 4, 2)
    assert (rates.due, rates.resolved) == (3, 2)
    assert rates.overdue == 3  # #2 resolved late, #3 not resolved, #8 still open from before
    assert (rates.rated, rates.satisfied) == (3, 2)
    assert format_rate(rates.response_rate) == "50%"
    assert format_rate(rates.resolution_rate) == "66.7%"
    assert format_rate(rates.satisfaction_rate) == "66.7%"


def test_a_ticket_still_inside_its_response_time_counts_neither_way() -> None:
    start = MONDAY_9AM
    tickets = [
        facts(1, first_response_at=start + 1.5 * H),  # answered in time (due at +2 h)
        facts(2, created=3 * H),  # due at +4 h: unanswered and late by +5 h
        facts(3, created=4.5 * H),  # due at +5.5 h: still inside its hour at +5 h
        facts(4, created=4.5 * H, first_response_at=start + 4.75 * H),  # answered early: counts at once
    ]
    running = compute_rates(tickets, WEEK, now=start + 5 * H)
    assert (running.received, running.response_counted, running.responded_in_time) == (4, 3, 2)
    assert format_rate(running.response_rate) == "66.7%"
    assert compute_rates(tickets, WEEK, now=start + 6 * H).response_counted == 4  # #3's hour has passed
    assert compute_rates(tickets, WEEK, now=start + 30 * 24 * H) == compute_rates(tickets, WEEK)  # a past week


def test_a_past_week_leaves_out_a_late_report_whose_response_time_runs_into_the_next_week() -> None:
    sunday_night = WEEK.end - MONDAY_9AM - 0.5 * H  # created 30 minutes before the week ends, due 30 after
    late, answered = facts(1, created=sunday_night), facts(2, created=sunday_night, first_response_at=WEEK.end)
    assert compute_rates([late], WEEK).response_counted == 0 and compute_rates([late], WEEK).response_rate is None
    assert (compute_rates([answered], WEEK).response_counted, compute_rates([answered], WEEK).response_rate) == (1, 1)


def test_a_running_week_counts_no_resolution_deadline_before_it_comes() -> None:
    start = MONDAY_9AM
    tickets = [
        facts(1),  # due at +49 h, not resolved
        facts(2, resolved_at=start + 5 * H),  # due at +49 h, resolved already
        facts(3, created=-47 * H),  # due at +1 h, not resolved: overdue
    ]
    running = compute_rates(tickets, WEEK, now=start + 10 * H)
    assert (running.due, running.resolved, running.overdue) == (2, 1, 1)
    ended = compute_rates(tickets, WEEK)
    assert (ended.due, ended.resolved, ended.overdue) == (3, 1, 2)


def test_resolved_in_counts_tickets_resolved_in_the_period_whenever_they_were_due() -> None:
    start = MONDAY_9AM
    tickets = [
        facts(1, resolved_at=start + 5 * H),  # due in the week
        facts(2, created=6 * 24 * H, resolved_at=start + 6 * 24 * H + 2 * H),  # due next week: still 办结 this week
        facts(3, created=-10 * 24 * H, resolved_at=start - H),  # resolved the week before
        facts(4, status=Status.CANCELLED, resolved_at=start + 2 * H),  # counts nowhere
    ]
    assert [t.number for t in resolved_in(tickets, WEEK)] == [1, 2]
    assert compute_rates(tickets, WEEK).resolved == 1  # the 解决率 numerator is only the tickets due in the week


def test_nothing_to_divide_by_is_shown_as_a_dash() -> None:
    rates = compute_rates([], WEEK)
    assert (rates.response_rate, rates.resolution_rate, rates.satisfaction_rate) == (None, None, None)
    assert format_rate(None) == "—"


def test_overdue_is_judged_at_an_instant() -> None:
    ticket = facts(1)
    due = ticket.resolution_due_at
    assert not is_overdue(ticket, due) and is_overdue(ticket, due + dt.timedelta(seconds=1))


def test_facts_from_the_ledger_keep_a_dissatisfied_rating_that_reopened(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("王芳", "接单 1", advance=dt.timedelta(minutes=20))
    chat.say("王芳", "办结 1 已疏通", advance=H)
    chat.say("张阿姨", "评价 1 不满意")
    chat.say("王芳", "办结 1 又疏通了一次", advance=H)
    chat.say("张阿姨", "评价 1 满意")
    with chat.session() as session:
        [ticket] = ticket_facts(session)
    assert [rating for _, rating in ticket.ratings] == ["不满意", "满意"]
    rates = compute_rates([ticket], WEEK)
    assert (rates.received, rates.responded_in_time, rates.rated, rates.satisfied) == (1, 1, 2, 1)
