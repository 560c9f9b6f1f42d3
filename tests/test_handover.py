"""Shifts hand over: the cadre on duty may act on a ticket of its grid, and at a shift change the tickets nobody
has accepted pass to the incoming cadre, whom reminders and escalations then chase."""

from __future__ import annotations

import datetime as dt

import pytest

from jobs.handover import handover
from jobs.runner import JobRunner
from ledger.lifecycle import Action, Status
from ledger.messages import Outgoing
from nlp.classification import Classification, Intent
from settings.models import Shift
from storage.tickets import BOT, get_ticket, ticket_events
from tests.chat import GROUP_G2, Chat, FixedClassifier
from tests.conftest import SHANGHAI
from tests.test_jobs_support import check_every, view

MON_22 = dt.datetime(2026, 11, 23, 22, 0, tzinfo=SHANGHAI)  # 李军's night shift (community-wide) covers g1
TUE_0830 = dt.datetime(2026, 11, 24, 8, 30, tzinfo=SHANGHAI)  # 王芳's day shift of g1 begins
UNSURE = Classification(Intent.REPORT, "noise_dispute", None, "g1", False, 0.62, needs_triage=True)
REFUSED = "@{cadre} 抱歉，#1 由 {assignee} 负责，只有负责人、当班人员、网格长或书记可以{verb}。"


def run_jobs(chat: Chat, until: dt.datetime) -> list[Outgoing]:
    """Move the clock to `until`, running the jobs at every instant one comes due (as the replay does)."""
    sent: list[Outgoing] = []

    def record() -> None:
        before = len(chat.transport.sent)
        chat.sender.drain()
        sent.extend(chat.transport.sent[before:])

    JobRunner(chat.app.settings, chat.app.engine).run_until(chat.clock, chat.clock.now(), until, record)
    return sent


def report_at(chat: Chat, at: dt.datetime, text: str = "3号楼2单元下水道堵了", group: str | None = None) -> None:
    chat.clock.set(at - dt.timedelta(seconds=1))
    chat.say("张阿姨", text, **({"group": group} if group else {}))


def assignee(chat: Chat, number: int = 1) -> str | None:
    with chat.session() as session:
        ticket = get_ticket(session, number)
        assert ticket is not None
        return ticket.assignee_id


def assign_events(chat: Chat, number: int = 1) -> list[tuple[str, str | None, str]]:
    with chat.session() as session:
        events = [e for e in ticket_events(session, number) if e.action == Action.ASSIGN.value]
        return [(e.actor_id, (e.changes or {}).get("assignee_id"), e.to_status) for e in events]


def private_to(sent: list[Outgoing], name: str, word: str) -> list[str]:
    return [o.text for o in sent if o.is_private and o.chat_name == name and word in o.text]


def test_a_night_ticket_passes_to_the_day_cadre_of_its_grid_at_the_morning_change(chat: Chat) -> None:
    report_at(chat, MON_22)
    assert assignee(chat) == "lijun"
    # 王芳 is not on duty at 22:00 (李军's community-wide night shift is): she may not act yet.
    assert chat.texts("王芳", "接单 1") == [REFUSED.format(cadre="王芳", assignee="李军", verb="签收")]
    sent = run_jobs(chat, TUE_0830 + dt.timedelta(minutes=1))
    assert assignee(chat) == "wangfang"
    assert assign_events(chat) == [  # (actor, assignee, status after)
        (BOT.id, "lijun", Status.ASSIGNED.value),  # on opening
        (BOT.id, "wangfang", Status.ASSIGNED.value),  # at the shift change
    ]
    [incoming] = private_to(sent, "王芳", "交接班")
    assert incoming.splitlines() == [
        "交接班（11月24日 08:30）：您接班 第一网格，未办结 1 件：",
        "接班后由您负责 1 件未签收：#1",
        "#1【给排水】3号楼2单元 已分派，负责人 王芳，办结时限 11月25日 22:00",
    ]
    [outgoing] = private_to(sent, "李军", "交接班")
    assert outgoing.splitlines()[:2] == [
        "交接班（11月24日 08:30）：您交班 第一网格（接班：王芳），未办结 1 件：",
        "1 件未签收已转 王芳 负责：#1",
    ]
    assert chat.texts("王芳", "接单 1") == ["@张阿姨 #1 已由 王芳 签收，正在处理。"]


def test_the_cadre_on_duty_may_act_before_the_handover_has_run(chat: Chat) -> None:
    """The day cadre at 09:00 may act on the night's ticket even if no handover moved it (the bot was down)."""
    report_at(chat, MON_22)
    chat.clock.set(TUE_0830 + dt.timedelta(minutes=30))  # no jobs run
    assert assignee(chat) == "lijun"
    assert chat.texts("王芳", "接单 1") == ["@张阿姨 #1 已由 王芳 签收，正在处理。"]


def test_an_accepted_ticket_stays_with_its_owner(chat: Chat) -> None:
    report_at(chat, MON_22)
    chat.say("李军", "接单 1")
    sent = run_jobs(chat, TUE_0830 + dt.timedelta(minutes=1))
    assert assignee(chat) == "lijun" and len(assign_events(chat)) == 1
    [incoming] = private_to(sent, "王芳", "交接班")
    assert "未签收" not in incoming and "#1【给排水】3号楼2单元 已签收，负责人 李军" in incoming
    # 李军 is no longer on duty for g1 but still owns the ticket he accepted.
    assert chat.texts("李军", "进度 1 明天上午疏通") == ["@张阿姨 #1 进展（李军）：明天上午疏通"]


def test_the_outgoing_cadre_is_refused_once_the_ticket_has_passed(chat: Chat) -> None:
    report_at(chat, MON_22)
    run_jobs(chat, TUE_0830 + dt.timedelta(minutes=1))
    # 李军 is on duty for g2 now, neither for g1 nor the assignee any more.
    assert chat.texts("李军", "办结 1 好了") == [REFUSED.format(cadre="李军", assignee="王芳", verb="办结")]
    assert chat.texts("李军", "撤销 1 误报")[0].startswith("@李军 抱歉，")  # not cancelled for the reporter either
    assert chat.texts("赵敏", "接单 1") == ["@张阿姨 #1 已由 赵敏 签收，正在处理。"]  # the grid leader still may


def test_the_cadre_on_duty_for_another_grid_is_refused(chat: Chat) -> None:
    report_at(chat, TUE_0830 + dt.timedelta(hours=1), "5号楼门口路灯不亮了", group=GROUP_G2)
    assert assignee(chat) == "lijun"
    assert chat.texts("王芳", "接单 1") == [REFUSED.format(cadre="王芳", assignee="李军", verb="签收")]


def test_a_ticket_after_midnight_belongs_to_the_shift_that_crossed_it_and_hands_over_in_the_morning(
    chat: Chat,
) -> None:
    report_at(chat, dt.datetime(2026, 11, 24, 0, 30, tzinfo=SHANGHAI))  # Monday's 17:30→08:30 shift: 李军
    report_at(chat, dt.datetime(2026, 11, 24, 0, 40, tzinfo=SHANGHAI), "5号楼门口路灯不亮了", group=GROUP_G2)
    assert (assignee(chat, 1), assignee(chat, 2)) == ("lijun", "lijun")
    run_jobs(chat, TUE_0830 + dt.timedelta(minutes=1))
    assert assignee(chat, 1) == "wangfang"  # g1's day cadre
    assert assignee(chat, 2) == "lijun" and len(assign_events(chat, 2)) == 1  # g2's day cadre is 李军 again


def test_a_shift_change_at_midnight_hands_over(settings) -> None:
    night = [
        Shift(grid="g1", days=["mon"], start=dt.time(17, 30), end=dt.time(0, 0), cadre="wangfang"),
        Shift(grid="g1", days=["tue"], start=dt.time(0, 0), end=dt.time(8, 30), cadre="lijun"),
    ]
    midnight = dt.datetime(2026, 11, 24, 0, 0, tzinfo=SHANGHAI)
    occurrence = handover(settings.model_copy(update={"rota": night}), [view(1, assignee_id="wangfang")], midnight)
    assert [(c.ticket_id, c.changes) for c in occurrence.changes] == [(1, {"assignee_id": "lijun"})]


def test_a_swap_hands_the_tickets_to_the_swapped_in_cadre(chat: Chat) -> None:
    chat.clock.set(MON_22 - dt.timedelta(hours=2))
    assert "赵敏" in chat.private("王芳", "换班 11月24日 @赵敏")[0].text
    report_at(chat, MON_22)
    sent = run_jobs(chat, TUE_0830 + dt.timedelta(minutes=1))
    assert assignee(chat) == "zhaomin"
    assert private_to(sent, "赵敏", "接班后由您负责 1 件未签收：#1") and not private_to(sent, "王芳", "交接班")
    chat.clock.set(TUE_0830 + dt.timedelta(hours=1))
    assert chat.texts("王芳", "接单 1") == [REFUSED.format(cadre="王芳", assignee="赵敏", verb="签收")]  # off duty


def test_a_config_override_keeps_the_ticket_with_the_replacement(chat: Chat) -> None:
    """config.yaml: 王芳 is on leave on 2026-12-01 and 李军 works her shifts."""
    report_at(chat, dt.datetime(2026, 11, 30, 22, 0, tzinfo=SHANGHAI))  # Monday night: 李军
    sent = run_jobs(chat, dt.datetime(2026, 12, 1, 8, 31, tzinfo=SHANGHAI))
    assert assignee(chat) == "lijun" and not private_to(sent, "王芳", "交接班")  # 李军 works 王芳's Tuesday
    sent = run_jobs(chat, dt.datetime(2026, 12, 2, 8, 31, tzinfo=SHANGHAI))
    assert assignee(chat) == "wangfang"  # Wednesday 08:30: 李军 (Tuesday night, for 王芳) hands over to 王芳
    assert private_to(sent, "王芳", "接班后由您负责 1 件未签收：#1")


def test_reminders_and_escalations_follow_the_new_assignee(chat: Chat) -> None:
    report_at(chat, MON_22)
    # Resolution: 48 hours, reminded at 75% (Wednesday 10:00); g1 stays with 王芳 until Wednesday 17:30.
    sent = run_jobs(chat, dt.datetime(2026, 11, 25, 10, 1, tzinfo=SHANGHAI))
    reminders = [o for o in sent if "⏰" in o.text and "办结时限" in o.text]
    assert [(o.chat_name, o.is_private) for o in reminders] == [("王芳", True)]


def test_a_ticket_passed_after_its_reminder_reminds_the_new_assignee(chat: Chat) -> None:
    """Reported 07:40: its first-response reminder (08:25) goes to 李军; at 08:30 it passes to 王芳, who is
    reminded once at the next check; the escalation at 08:40 names her."""
    report_at(chat, dt.datetime(2026, 11, 24, 7, 40, tzinfo=SHANGHAI))
    sent = [o for _, o in check_every(chat, dt.datetime(2026, 11, 24, 8, 45, tzinfo=SHANGHAI))]
    reminders = [o.chat_name for o in sent if "⏰" in o.text]
    assert reminders == ["李军", "王芳"]
    [escalation] = [o for o in sent if "⚠️" in o.text]
    assert escalation.text.startswith("@赵敏 @王芳 ") and "负责人 王芳" in escalation.text


def test_the_cadre_on_duty_may_decide_a_triage_item_sent_to_the_previous_shift(chat: Chat) -> None:
    chat.app.classifier = FixedClassifier(UNSURE)  # a g1 message the classifier is unsure about
    chat.clock.set(dt.datetime(2026, 11, 23, 17, 20, tzinfo=SHANGHAI))
    [ask] = chat.say("张阿姨", "谁家的狗一直叫")
    assert ask.chat_name == "王芳"
    [refused] = chat.private("李军", "忽略 P1")  # on duty for g2 only at 17:20
    assert refused.text.startswith("抱歉，P1 已交给 王芳 确认")
    chat.clock.set(dt.datetime(2026, 11, 23, 17, 40, tzinfo=SHANGHAI))  # 李军's night shift covers g1
    assert [o.text for o in chat.private("李军", "忽略 P1")] == ["P1 已忽略，群里不会回复。"]


@pytest.mark.parametrize(
    ("status", "passes"),
    [
        (Status.ASSIGNED, True),
        (Status.ACCEPTED, False),
        (Status.IN_PROGRESS, False),
        (Status.TRANSFERRED, False),  # a cadre chose the person (转派)
        (Status.REOPENED, False),  # back to whoever resolved it
        (Status.RESOLVED, False),
    ],
)
def test_only_tickets_nobody_has_accepted_pass(settings, status: Status, passes: bool) -> None:
    occurrence = handover(settings, [view(1, status=status, assignee_id="lijun")], TUE_0830)
    assert bool(occurrence.changes) is passes


def test_a_ticket_of_another_cadre_stays(settings) -> None:
    """Only the outgoing cadre's tickets pass: one assigned to someone else (a triage item's asked cadre) stays."""
    assert handover(settings, [view(1, assignee_id="zhaomin")], TUE_0830).changes == ()


def test_tickets_without_a_grid_hand_over_between_the_community_wide_duty(settings) -> None:
    """Place unknown: the community-wide duty's. On a weekday morning nobody works a community-wide shift, so the
    duty falls to the secretary, as it would for a new report."""
    views = [view(1, grid_id=None, location=None, assignee_id="lijun")]
    occurrence = handover(settings, views, TUE_0830)
    assert [(c.ticket_id, c.changes) for c in occurrence.changes] == [(1, {"assignee_id": "chenjie"})]
    by_cadre = {o.chat_name: o.text for o in occurrence.replies}
    assert by_cadre["陈洁"].startswith("交接班（11月24日 08:30）：您接班 未定网格，未办结 1 件：\n接班后由您负责 1 件")
    assert by_cadre["李军"].splitlines()[1] == "1 件未签收已转 陈洁 负责：#1"
