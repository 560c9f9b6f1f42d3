"""Partner units are measured (部门响应率 / 部门办结率) and 居民反映 is told apart from 主动发现 (issue 14).

First the definitions of `ledger.rates` on a hand-made week, figured by hand; then the whole loop in chat (SQLite
and PostgreSQL): a report dispatched to 幸福里物业 and answered in time by 张师傅 in its group, a patrol finding
(`上报`) dispatched and left unanswered, and the week's digest, statistics page and 台账 that follow.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from fastapi.testclient import TestClient
from sqlmodel import select

from board.export import COLUMNS
from board.stats import weekly_stats
from board.web import create_app
from jobs.runner import JobRunner
from ledger.lifecycle import Status
from ledger.rates import Period, TicketFacts, UnitRates, by_source, compute_rates, compute_unit_rates
from settings.models import Settings
from settings.secrets import BoardSecrets
from storage.models import JobRun, Ticket
from storage.tickets import ticket_facts
from tests.chat import GROUP_G1, Chat
from tests.conftest import MONDAY_9AM, SHANGHAI

WEEK = Period(dt.datetime(2026, 11, 23, tzinfo=SHANGHAI), dt.datetime(2026, 11, 30, tzinfo=SHANGHAI))
UNIT_GROUP = "幸福里物业维修群"
CADRES_GROUP = "幸福里社区工作群"
COMMUNITY_GROUP = "幸福里社区居民群"
LEAK = "3号楼2单元楼道的水管漏水了，地上全是水"


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def _dispatched(
    number: int, unit: str | None, at: dt.datetime, *, answered: dt.datetime | None = None, resolution_hours: int = 48,
    resolved: dt.datetime | None = None, status: Status = Status.ACCEPTED, source: str = "resident",
    created: dt.datetime | None = None,
) -> TicketFacts:  # fmt: skip
    """A ticket reported an hour before its dispatch at `at`: the unit's limits are 30 minutes and
    `resolution_hours` from the dispatch (the cadres' own limits are left out: they do not matter here)."""
    return TicketFacts(
        number=number, category="drainage", grid_id="g1", location="3号楼", assignee_id="wangfang", status=status,
        created_at=created or at - dt.timedelta(hours=1), response_due_at=None, first_response_at=None,
        resolution_due_at=None, resolved_at=resolved, unit_id=unit, dispatched_at=at if unit else None,
        unit_response_due_at=at + dt.timedelta(minutes=30) if unit else None, unit_first_response_at=answered,
        unit_resolution_due_at=at + dt.timedelta(hours=resolution_hours) if unit else None, source=source,
    )  # fmt: skip


HAND_MADE = [
    # A: answered in 20 minutes, resolved before its deadline (Wednesday 10:00).
    _dispatched(1, "wuye", _at(23, 10), answered=_at(23, 10, 20), resolved=_at(24, 10)),
    # B (a patrol finding): answered late (11:00 > 10:30), never resolved: due Thursday 10:00, overdue.
    _dispatched(2, "wuye", _at(24, 10), answered=_at(24, 11), source="patrol"),
    # C (a patrol finding): unanswered past its response deadline; resolution due next Monday, not this week's.
    _dispatched(3, "wuye", _at(28, 10), source="patrol"),
    # D: dispatched Sunday 23:50, response due Monday 00:20 after the week: counts neither way yet.
    _dispatched(4, "wuye", _at(29, 23, 50)),
    # E: dispatched the week before, due Monday 12:00 this week, resolved at 11:00 (last week's report).
    _dispatched(5, "wuye", _at(21, 12), answered=_at(21, 12, 5), resolved=_at(23, 11)),
    # F: cancelled: counts nowhere.
    _dispatched(6, "wuye", _at(23, 10), answered=_at(23, 10, 1), status=Status.CANCELLED),
    # G: handed back with 退单 (the unit taken off, its first answer kept): counts for no unit.
    _dispatched(7, None, _at(23, 10), answered=_at(23, 10, 10), created=_at(23, 9)),
    # H: returned by the cadre (退回) after the unit answered in time: dispatched and responded, never due.
    _dispatched(8, "wuye", _at(25, 10), answered=_at(25, 10, 5), resolution_hours=24, status=Status.RETURNED),
    # I: 供水 answered in time, resolved Friday after its Thursday deadline: due, resolved (late) and overdue.
    _dispatched(9, "gongshui", _at(25, 10), answered=_at(25, 10, 10), resolution_hours=24, resolved=_at(27, 10)),
]


def test_the_unit_rates_of_a_hand_made_week() -> None:
    units = compute_unit_rates(HAND_MADE, WEEK)
    # 物业: dispatched A B C D H; answered or past the response deadline A B C H, in time A H: 2/4 = 50%;
    # resolution due in the week and passed A B E (C next week, H returned), resolved A E: 2/3; overdue B.
    assert units["wuye"] == UnitRates(dispatched=5, response_counted=4, responded_in_time=2, due=3, resolved=2,
                                      overdue=1)  # fmt: skip
    assert units["wuye"].response_rate == 0.5 and units["wuye"].resolution_rate == 2 / 3
    assert units["gongshui"] == UnitRates(1, 1, 1, 1, 1, 1)
    assert set(units) == {"wuye", "gongshui"}  # G, handed back, is nobody's


def test_a_running_week_is_judged_at_now() -> None:
    # Tuesday 10:20, the A ticket only: answered, resolution not due yet (and not resolved): 1/1, nothing due.
    ticket = _dispatched(1, "wuye", _at(23, 10), answered=_at(23, 10, 20))
    assert compute_unit_rates([ticket], WEEK, _at(24, 10, 20))["wuye"] == UnitRates(1, 1, 1, 0, 0, 0)
    unanswered = _dispatched(2, "wuye", _at(24, 10))
    assert compute_unit_rates([unanswered], WEEK, _at(24, 10, 20))["wuye"] == UnitRates(1, 0, 0, 0, 0, 0)
    assert compute_unit_rates([unanswered], WEEK, _at(24, 10, 31))["wuye"] == UnitRates(1, 1, 0, 0, 0, 0)


def test_received_tickets_by_source_add_up_to_received() -> None:
    # received in the week: A B C D G H I (E last week, F cancelled); B and C are patrol findings.
    sources = by_source(HAND_MADE, WEEK)
    assert sources == {"resident": 5, "patrol": 2}
    assert sum(sources.values()) == compute_rates(HAND_MADE, WEEK).received


def test_old_callers_without_unit_facts_measure_no_unit() -> None:
    old = TicketFacts(1, "drainage", "g1", None, "wangfang", Status.ACCEPTED, _at(23, 10), None, None, None, None)
    assert compute_unit_rates([old], WEEK) == {} and by_source([old], WEEK) == {"resident": 1}


# The whole loop -------------------------------------------------------------------------------------------------


def _week_of_work(chat: Chat) -> None:
    """Monday 09:00: #1 (a resident's leak) dispatched to 物业 and signed by 张师傅 in 10 minutes, resolved on
    Tuesday; #2 (王芳's patrol finding) dispatched and never answered nor resolved."""
    chat.say("张阿姨", LEAK)
    chat.say("王芳", "派单 1 物业", advance=dt.timedelta(minutes=1))
    chat.say("张师傅", "接单 1", group=UNIT_GROUP, advance=dt.timedelta(minutes=10))
    chat.say("王芳", "上报 3号楼 井盖松动", group=CADRES_GROUP, advance=dt.timedelta(minutes=5))
    chat.say("王芳", "派单 2 物业", group=CADRES_GROUP, advance=dt.timedelta(minutes=1))
    chat.say("张师傅", "办结 1 已换水管", group=UNIT_GROUP, advance=dt.timedelta(days=1))
    with chat.session() as session:
        one, two = session.get(Ticket, 1), session.get(Ticket, 2)
        assert (one.unit_id, one.source, two.unit_id, two.source) == ("wuye", "resident", "wuye", "patrol")
        assert one.unit_first_response_at <= one.unit_response_due_at and two.unit_first_response_at is None
    chat.clock.set(dt.datetime(2026, 11, 28, 12, tzinfo=SHANGHAI))  # Saturday: #2 past both unit deadlines


def _posted(chat: Chat, at: dt.datetime) -> dict[str, str]:
    chat.clock.set(at)
    before = len(chat.transport.sent)
    assert JobRunner(chat.app.settings, chat.app.engine).run(at, ["digest"]) == 1
    chat.sender.drain()
    return {o.chat_name: o.text for o in chat.transport.sent[before:]}


def test_the_cadres_digest_has_the_units_and_the_sources(chat: Chat) -> None:
    _week_of_work(chat)
    at = MONDAY_9AM + dt.timedelta(days=7)
    posted = _posted(chat, at)
    cadres = posted[CADRES_GROUP].splitlines()
    # #1 answered in time, #2 not at all: 1/2; #1 resolved by its deadline, #2 due Wednesday and not: 1/2
    assert cadres[4:6] == ["居民反映 1 件，主动发现 1 件", "幸福里物业：派单 2 件，部门响应率 50%，部门办结率 50%"]
    assert "幸福里供水所" not in posted[CADRES_GROUP]  # no dispatch this week: no line
    for group in (GROUP_G1, COMMUNITY_GROUP):  # residents hear neither the units nor the sources
        assert "部门响应率" not in posted[group] and "主动发现" not in posted[group]
    assert cadres[1].startswith("收到 2 件")
    assert posted[COMMUNITY_GROUP].splitlines()[1].startswith("收到 1 件")  # the unpublished finding is not theirs
    # posted once, and kept as posted
    assert JobRunner(chat.app.settings, chat.app.engine).run(at + dt.timedelta(hours=1), ["digest"]) == 0
    with chat.session() as session:
        [run] = session.exec(select(JobRun).where(JobRun.job == "digest", JobRun.period == "2026-W48")).all()
    assert f"【{CADRES_GROUP}】\n{posted[CADRES_GROUP]}" in run.output


def test_the_stats_page_and_the_taizhang_show_the_units_and_the_sources(chat: Chat, settings: Settings) -> None:
    _week_of_work(chat)
    client = TestClient(create_app(settings, chat.app.engine, chat.clock, BoardSecrets(None, None)))
    html = client.get("/stats?week=2026-11-23").text
    units = re.search(r'<table class="units">(.*?)</table>', html, re.S)[1]
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>(.*?)</td>", units)]
    # Saturday noon: #2's unit response (Monday) and resolution (Wednesday) deadlines passed, so it is overdue
    assert cells == ["幸福里物业", "2", "50%（1/2）", "50%（1/2）", "1"]
    sources = re.search(r'<table class="sources">(.*?)</table>', html, re.S)[1]
    assert re.findall(r"<tr><td>(.*?)</td><td>(\d+)</td></tr>", sources) == [("居民反映", "1"), ("主动发现", "1")]
    chart = re.search(r'<figure id="chart-units">(.*?)</figure>', html, re.S)[1]
    assert chart.startswith("<svg") and "幸福里物业 部门响应率：50%" in chart and "幸福里物业 部门办结率：50%" in chart
    assert "<script" not in html and "http" not in chart.replace("http://www.w3.org/2000/svg", "")
    with chat.session() as session:  # the page's figures are the definitions' over the same ledger
        stats = weekly_stats(settings, ticket_facts(session), dt.date(2026, 11, 23), chat.clock.now())
    assert [(u.name, u.dispatched, u.response_rate, u.resolution_rate, u.overdue) for u in stats.units] == [
        ("幸福里物业", 2, "50%", "50%", 1)
    ]
    for path in ("/export.csv", "/export.xlsx"):
        response = client.get(path)
        assert response.status_code == 200
        if path.endswith(".csv"):
            table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        else:
            from openpyxl import load_workbook

            table = [["" if v is None else v for v in row] for row in load_workbook(io.BytesIO(response.content))
                     .active.iter_rows(values_only=True)]  # fmt: skip
        assert tuple(table[0]) == COLUMNS
        unit, source = COLUMNS.index("承办单位"), COLUMNS.index("来源")
        assert [(int(r[1]), r[unit], r[source]) for r in table[1:]] == [
            (1, "幸福里物业", "居民反映"), (2, "幸福里物业", "主动发现")
        ]  # fmt: skip


def test_a_ticket_handed_back_counts_for_no_unit_and_has_no_unit_in_the_taizhang(
    chat: Chat, settings: Settings
) -> None:
    chat.say("张阿姨", LEAK)
    chat.say("王芳", "派单 1 物业")
    chat.say("张师傅", "退单 1 不归物业管，是市政管道", group=UNIT_GROUP, advance=dt.timedelta(minutes=5))
    with chat.session() as session:
        facts = ticket_facts(session)
    assert compute_unit_rates(facts, WEEK, chat.clock.now()) == {}
    client = TestClient(create_app(settings, chat.app.engine, chat.clock, BoardSecrets(None, None)))
    table = list(csv.reader(io.StringIO(client.get("/export.csv").content.decode("utf-8-sig"))))
    assert [(r[COLUMNS.index("承办单位")], r[COLUMNS.index("来源")]) for r in table[1:]] == [("", "居民反映")]
    assert "本周没有派单。" in client.get("/stats?week=2026-11-23").text
