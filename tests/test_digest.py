"""The weekly digest of a replayed week: its rates recomputed independently from the raw ledger events, and
`huiyin digest` printing exactly what was posted."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.cli import main
from jobs.digest import covers, parse_week, scope, week_before
from jobs.runner import JobRunner
from settings.models import Settings
from storage.db import make_engine, new_session
from storage.models import JobRun, OutboxMessage, TicketEvent
from storage.schema import init_schema
from tests.chat import GROUP_G1, GROUP_G2, Chat
from tests.conftest import MONDAY_9AM, REPO, SHANGHAI
from tests.test_jobs_support import view

SCRIPT = REPO / "tests" / "scripts" / "jobs_week.txt"
WEEK = parse_week("2026-W48", SHANGHAI).period
CADRE_RESPONSES = {"accept", "progress", "resolve", "return", "commit"}
CADRES_GROUP = "幸福里社区工作群"
COMMUNITY_GROUP = "幸福里社区居民群"  # a residents' group of every grid
NEXT_MONDAY_9AM = MONDAY_9AM + dt.timedelta(days=7)  # the digest of 2026-W48


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('week') / 'huiyin.db'}"
    assert main(["--config", str(REPO / "config.yaml"), "--env-file", os.devnull, "replay", str(SCRIPT),
                 "--database-url", url]) == 0  # fmt: skip
    return url


def _independent_rates(url: str) -> dict[str, int]:
    """The week's numbers from the ticket events alone, by the definitions in the README."""
    with new_session(make_engine(url)) as session:
        events = list(session.exec(select(TicketEvent).order_by(col(TicketEvent.id))))
    tickets: dict[int, dict] = {}
    ratings = []
    for event in events:
        ticket = tickets.setdefault(event.ticket_id, {"first_response": None})
        ticket.update(status=event.to_status)
        for field in ("created_at", "response_due_at", "resolution_due_at"):
            if field in event.changes:
                ticket[field] = dt.datetime.fromisoformat(event.changes[field])
        if "resolved_at" in event.changes:
            value = event.changes["resolved_at"]
            ticket["resolved_at"] = dt.datetime.fromisoformat(value) if value else None
        if event.action in CADRE_RESPONSES and event.actor_id != "huiyin" and ticket["first_response"] is None:
            ticket["first_response"] = event.at
        if event.action == "rate" and WEEK.start <= event.at < WEEK.end:
            ratings.append(event.changes["rating"])
    counted = [t for t in tickets.values() if t["status"] != "cancelled"]
    received = [t for t in counted if WEEK.start <= t["created_at"] < WEEK.end]
    due = [t for t in counted if t["status"] != "returned" and WEEK.start <= t["resolution_due_at"] < WEEK.end]
    return {
        "received": len(received),
        "answerable": sum(t["first_response"] is not None or t["response_due_at"] < WEEK.end for t in received),
        "responded": sum(t["first_response"] is not None and t["first_response"] <= t["response_due_at"]
                         for t in received),
        "resolved": sum(t.get("resolved_at") is not None and WEEK.start <= t["resolved_at"] < WEEK.end
                        for t in counted),
        "due": len(due),
        "due_resolved": sum(t.get("resolved_at") is not None and t["resolved_at"] < WEEK.end for t in due),
        "rated": len(ratings),
        "satisfied": sum(r in ("满意", "基本满意") for r in ratings),
    }  # fmt: skip


def _percent(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}%".replace(".0%", "%") if whole else "—"


def posted_digests(url: str) -> dict[str, str]:
    """The 2026-W48 digest each group was sent, checked against the text kept with the job run."""
    with new_session(make_engine(url)) as session:
        run = session.exec(select(JobRun).where(JobRun.job == "digest", JobRun.period == "2026-W48")).one()
        posts = [r for r in session.exec(select(OutboxMessage)) if r.text.startswith("📋")]
    week48 = {p.chat_name: p.text for p in posts if "11月23日—11月29日" in p.text}
    assert len(week48) == len([p for p in posts if "11月23日—11月29日" in p.text]) == 4  # each group, once
    assert run.output == "\n\n".join(f"【{group}】\n{text}" for group, text in week48.items())
    assert run.due_at == dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
    return week48


def test_the_posted_rates_match_an_independent_count_from_the_ledger(replayed: str) -> None:
    digest = posted_digests(replayed)[CADRES_GROUP]
    numbers = _independent_rates(replayed)
    assert numbers == {
        "received": 4, "answerable": 4, "responded": 3, "resolved": 3, "due": 3, "due_resolved": 3, "rated": 3,
        "satisfied": 2,
    }  # fmt: skip
    counts = re.search(r"收到 (\d+) 件｜按时响应 (\d+) 件｜办结 (\d+) 件", digest)
    assert counts and tuple(map(int, counts.groups())) == (numbers["received"], numbers["responded"],
                                                          numbers["resolved"])  # fmt: skip
    rates = (
        f"响应率 {_percent(numbers['responded'], numbers['answerable'])}｜"
        f"解决率 {_percent(numbers['due_resolved'], numbers['due'])}｜"
        f"满意率 {_percent(numbers['satisfied'], numbers['rated'])}"
    )
    assert rates in digest
    assert f"应响应 {numbers['answerable']} 件" in digest and f"评价 {numbers['rated']} 件" in digest
    assert f"到期已办结 {numbers['due_resolved']}÷到期 {numbers['due']} 件" in digest


def test_the_digest_lists_places_open_tickets_thanks_and_agenda(replayed: str) -> None:
    posted = posted_digests(replayed)
    digest = posted[CADRES_GROUP]
    # a group of every grid hears the whole community, without the cadres' own lines (sources and partner units)
    assert posted[COMMUNITY_GROUP] == digest.replace("居民反映 4 件，主动发现 0 件\n", "")
    assert "反映最多：给排水 1、供电照明 1、停车与消防 1" in digest
    assert "· #4【违法建设】6号楼 已 2 天，负责人 李军" in digest
    assert "感谢 王芳（办结 2 件）、李军（办结 1 件） 本周的辛苦付出！" in digest
    assert "· #1【给排水】3号楼2单元 3 户反映" in digest
    assert len(digest.splitlines()) <= 20  # sized for a phone screen


def test_each_residents_group_hears_the_figures_of_its_own_grids(replayed: str) -> None:
    posted = posted_digests(replayed)
    first, second = posted[GROUP_G1].splitlines(), posted[GROUP_G2].splitlines()
    assert first[:2] == [
        "📋 幸福里社区·第一网格 回音周报（11月23日—11月29日）", "收到 2 件｜按时响应 2 件｜办结 2 件｜超期 1 件"
    ]
    assert "感谢 王芳（办结 2 件） 本周的辛苦付出！" in first and "· #1【给排水】3号楼2单元 3 户反映" in first
    assert not any("#4" in line or "李军" in line for line in first)
    assert second[:2] == [
        "📋 幸福里社区·第二网格 回音周报（11月23日—11月29日）", "收到 2 件｜按时响应 1 件｜办结 1 件｜超期 0 件"
    ]
    assert "· #4【违法建设】6号楼 已 2 天，负责人 李军" in second
    assert "感谢 李军（办结 1 件） 本周的辛苦付出！" in second
    assert second[-1] == "议事候选（周议事会 / 月协商会）：无"


def test_huiyin_digest_prints_exactly_the_posted_digest(
    replayed: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", replayed)
    assert main(["--config", str(REPO / "config.yaml"), "--env-file", os.devnull, "digest", "--week", "2026-W48"]) == 0
    out = capsys.readouterr().out
    for group, text in posted_digests(replayed).items():
        assert f"【{group}】\n{text}\n" in out
    assert out.startswith(f"【{GROUP_G1}】\n📋") and out.count("📋") == 4


def test_huiyin_digest_refuses_a_malformed_week(
    replayed: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", replayed)
    assert main(["--config", str(REPO / "config.yaml"), "--env-file", os.devnull, "digest", "--week", "48"]) == 2
    assert "is not an ISO week (use e.g. 2026-W47)" in capsys.readouterr().err


def test_weeks_run_monday_to_monday_in_the_community_timezone() -> None:
    week = week_before(dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI), SHANGHAI)
    assert week.key == "2026-W48" and week.period == WEEK
    assert WEEK.start == dt.datetime(2026, 11, 23, tzinfo=SHANGHAI) and WEEK.end - WEEK.start == dt.timedelta(days=7)
    assert parse_week("2027-W01", SHANGHAI).period.start == dt.datetime(2027, 1, 4, tzinfo=SHANGHAI)


def test_a_week_not_posted_yet_is_rendered_as_it_would_be_posted(tmp_path: Path, capsys, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    init_schema(make_engine(url))  # a ledger the bot has started on, with no ticket yet
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["--config", str(REPO / "config.yaml"), "--env-file", os.devnull, "digest", "--week", "2026-W47"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"【{GROUP_G1}】本周该群的网格没有反映，也没有未办结事项，未发送。")
    quiet = "📋 幸福里社区 回音周报（11月16日—11月22日）：本周没有收到反映，也没有未办结事项。"
    assert out.endswith(f"【{CADRES_GROUP}】\n{quiet}\n")


def _posted(chat: Chat, at: dt.datetime) -> dict[str, str]:
    """Run the digest job at `at` the way the scheduler does and return what each group received."""
    chat.clock.set(at)
    before = len(chat.transport.sent)
    assert JobRunner(chat.app.settings, chat.app.engine).run(at, ["digest"]) == 1
    chat.sender.drain()
    return {o.chat_name: o.text for o in chat.transport.sent[before:]}


def test_a_quiet_week_posts_nothing_to_residents_and_one_line_to_the_cadres(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")  # Monday 09:00, after the week the first digest covers
    posted = _posted(chat, MONDAY_9AM + dt.timedelta(minutes=5))
    assert posted == {CADRES_GROUP: "📋 幸福里社区 回音周报（11月16日—11月22日）：本周没有收到反映，也没有未办结事项。"}


def test_the_resolved_figure_and_the_thanks_count_the_same_tickets(chat: Chat) -> None:
    chat.clock.set(dt.datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI))  # Saturday: due Monday, after the week
    chat.say("刘姐", "5号楼门口路灯坏了", group=GROUP_G2)
    chat.say("赵敏", "接单 1", group=GROUP_G2, advance=dt.timedelta(minutes=10))
    chat.say("赵敏", "办结 1 已换灯泡", group=GROUP_G2, advance=dt.timedelta(hours=2))
    digest = _posted(chat, NEXT_MONDAY_9AM)[COMMUNITY_GROUP]
    assert "收到 1 件｜按时响应 1 件｜办结 1 件｜超期 0 件" in digest
    assert "感谢 赵敏（办结 1 件） 本周的辛苦付出！" in digest
    assert "到期已办结 0÷到期 0 件" in digest and "解决率 —" in digest  # its deadline is next week's


def test_a_ticket_open_less_than_a_day_shows_its_age_in_hours(chat: Chat) -> None:
    chat.clock.set(dt.datetime(2026, 11, 29, 14, 20, tzinfo=SHANGHAI))  # Sunday afternoon
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.clock.set(dt.datetime(2026, 11, 29, 23, 45, tzinfo=SHANGHAI))
    chat.say("李叔", "1号楼楼道灯不亮了")
    lines = _posted(chat, NEXT_MONDAY_9AM)[GROUP_G1].splitlines()
    longest = lines[lines.index("未办结最久：") + 1 :][:2]
    assert longest == [
        "· #1【给排水】3号楼2单元 已 9 小时，负责人 赵敏", "· #2【供电照明】1号楼 已 不到 1 小时，负责人 李军"
    ]


def test_the_agenda_of_a_past_week_leaves_out_tickets_reported_after_it(chat: Chat) -> None:
    chat.clock.set(dt.datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI))
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("陈洁", "立项 1")
    chat.clock.set(NEXT_MONDAY_9AM - dt.timedelta(hours=1))  # Monday 08:00: the next week has begun
    chat.say("刘姐", "5号楼门口路灯坏了", group=GROUP_G2)
    chat.say("陈洁", "立项 2")
    lines = _posted(chat, NEXT_MONDAY_9AM)[COMMUNITY_GROUP].splitlines()
    agenda = lines[lines.index("议事候选（周议事会 / 月协商会）：") + 1 :]
    assert agenda == ["· #1【给排水】3号楼2单元 已立项，已分派"]
    assert not any("#2" in line for line in lines)


def test_a_long_agenda_is_cut_to_fit_a_phone_screen(chat: Chat) -> None:
    for building in range(1, 6):
        chat.say("张阿姨", f"{building}号楼门口的井盖松了，踩上去晃")
        chat.say("陈洁", f"立项 {building}")
    lines = _posted(chat, NEXT_MONDAY_9AM)[COMMUNITY_GROUP].splitlines()
    agenda = lines[lines.index("议事候选（周议事会 / 月协商会）：") + 1 :]
    assert len(agenda) == 4 and agenda[-1] == "……另有 2 项，干部发送「议题」查看全部"
    assert all(line.startswith("· #") for line in agenda[:3])


def test_a_ticket_without_a_grid_is_heard_in_the_group_it_was_reported_in(settings: Settings) -> None:
    groups = {g.name: g for g in settings.groups}
    gridless = view(1, grid_id=None, location=None)  # reported in 1-3号楼业主群, place unknown
    in_g2 = view(2, grid_id="g2", location="5号楼")
    own = {name: [v.number for v in (gridless, in_g2) if covers(settings, g, scope(settings, g), v)]
           for name, g in groups.items() if g.kind != "unit"}  # fmt: skip  (a unit's group gets no digest)
    assert own == {GROUP_G1: [1], GROUP_G2: [2], COMMUNITY_GROUP: [1, 2], CADRES_GROUP: [1, 2]}
    private = view(3, grid_id=None, chat_id="wxid_zhang", chat_name="张阿姨", chat_is_private=True)
    assert not covers(settings, groups[GROUP_G1], scope(settings, groups[GROUP_G1]), private)
