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
from jobs.digest import digest, parse_week, week_before
from storage.db import make_engine, new_session
from storage.models import JobRun, OutboxMessage, TicketEvent
from storage.tickets import ticket_facts
from storage.views import ticket_views
from tests.chat import Chat
from tests.conftest import REPO, SHANGHAI

SCRIPT = REPO / "tests" / "scripts" / "jobs_week.txt"
WEEK = parse_week("2026-W48", SHANGHAI).period
CADRE_RESPONSES = {"accept", "progress", "resolve", "return", "commit"}


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
        "responded": sum(t["first_response"] is not None and t["first_response"] <= t["response_due_at"]
                         for t in received),
        "due": len(due),
        "resolved": sum(t.get("resolved_at") is not None and t["resolved_at"] < WEEK.end for t in due),
        "rated": len(ratings),
        "satisfied": sum(r in ("满意", "基本满意") for r in ratings),
    }  # fmt: skip


def _percent(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}%".replace(".0%", "%") if whole else "—"


def posted_digest(url: str) -> str:
    with new_session(make_engine(url)) as session:
        run = session.exec(select(JobRun).where(JobRun.job == "digest", JobRun.period == "2026-W48")).one()
        posts = [r for r in session.exec(select(OutboxMessage)) if r.text.startswith("📋")]
    week48 = [p.text for p in posts if "11月23日—11月29日" in p.text]
    assert len(week48) == 3 and set(week48) == {run.output}  # one text, to each residents' group, once
    assert run.due_at == dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
    return run.output


def test_the_posted_rates_match_an_independent_count_from_the_ledger(replayed: str) -> None:
    digest = posted_digest(replayed)
    numbers = _independent_rates(replayed)
    assert numbers == {"received": 4, "responded": 3, "due": 3, "resolved": 3, "rated": 3, "satisfied": 2}
    counts = re.search(r"收到 (\d+) 件｜按时响应 (\d+) 件｜办结 (\d+) 件", digest)
    assert counts and tuple(map(int, counts.groups())) == (numbers["received"], numbers["responded"],
                                                          numbers["resolved"])  # fmt: skip
    rates = (
        f"响应率 {_percent(numbers['responded'], numbers['received'])}｜"
        f"解决率 {_percent(numbers['resolved'], numbers['due'])}｜"
        f"满意率 {_percent(numbers['satisfied'], numbers['rated'])}"
    )
    assert rates in digest
    assert f"到期 {numbers['due']} 件" in digest and f"评价 {numbers['rated']} 件" in digest


def test_the_digest_lists_places_open_tickets_thanks_and_agenda(replayed: str) -> None:
    digest = posted_digest(replayed)
    assert "反映最多：给排水 1、供电照明 1、停车与消防 1" in digest
    assert "· #4【违法建设】6号楼 已 2 天，负责人 李军" in digest
    assert "感谢 王芳（办结 2 件）、李军（办结 1 件）" in digest
    assert "· #1【给排水】3号楼2单元 3 户反映" in digest
    assert len(digest.splitlines()) <= 20  # sized for a phone screen


def test_huiyin_digest_prints_exactly_the_posted_digest(
    replayed: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", replayed)
    assert main(["--config", str(REPO / "config.yaml"), "--env-file", os.devnull, "digest", "--week", "2026-W48"]) == 0
    assert capsys.readouterr().out == posted_digest(replayed) + "\n"


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
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["--config", str(REPO / "config.yaml"), "--env-file", os.devnull, "digest", "--week", "2026-W47"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("📋 幸福里社区 回音周报（11月16日—11月22日）") and "收到 0 件" in out


def test_a_long_agenda_is_cut_to_fit_a_phone_screen(chat: Chat) -> None:
    for building in range(1, 6):
        chat.say("张阿姨", f"{building}号楼门口的井盖松了，踩上去晃")
        chat.say("陈洁", f"立项 {building}")
    with chat.session() as session:
        posted = digest(chat.app.settings, ticket_facts(session), ticket_views(session), chat.clock.now())
    lines = posted.output.splitlines()
    agenda = lines[lines.index("议事候选（周议事会 / 月协商会）：") + 1 :]
    assert len(agenda) == 4 and agenda[-1] == "……另有 2 项，干部发送「议题」查看全部"
    assert all(line.startswith("· #") for line in agenda[:3])
