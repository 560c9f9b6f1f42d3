"""Known incidents (通知) in the jobs: the author asked once when the expected end passes, the digest's line, the
daily report's list and `huiyin ledger --incidents`. On SQLite and PostgreSQL (the `chat` fixture)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

from sqlmodel import col, select

from bot.cli import incident_rows, ledger_rows
from jobs import incidents
from jobs.runner import JobRunner
from ledger.clock import ManualClock
from storage.models import IncidentEvent, JobRun, OutboxMessage
from tests.chat import GROUP_G1, Chat
from tests.conftest import MONDAY_9AM, REPO

ALL_GROUP = "幸福里社区居民群"
CADRES_GROUP = "幸福里社区工作群"
ASK = "#通知1 预计 10:00 恢复，时间已到。已恢复请回复「恢复 1 说明」；未恢复请用「通知」发新的预计时间。"


def _runner(chat: Chat) -> JobRunner:
    return JobRunner(chat.app.settings, chat.app.engine)


def _run(chat: Chat, at: dt.datetime, jobs=(incidents.JOB,)) -> tuple[int, list]:
    chat.clock.set(at)
    before = len(chat.transport.sent)
    count = _runner(chat).run(at, jobs)
    chat.sender.drain()
    return count, chat.transport.sent[before:]


def _actions(chat: Chat) -> list[str]:
    with chat.session() as session:
        return [e.action for e in session.exec(select(IncidentEvent).order_by(col(IncidentEvent.id)))]


def _runs(chat: Chat, job: str) -> list[str]:
    with chat.session() as session:
        return [r.period for r in session.exec(select(JobRun).where(JobRun.job == job))]


# --- the question to the author ---------------------------------------------------------------------------------


def test_the_expected_end_asks_the_author_once_privately(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 停水 至 10:00")
    chat.say("张阿姨", "怎么停水了")
    end = MONDAY_9AM + dt.timedelta(hours=1)
    assert _runner(chat).next_at(chat.clock.now()) <= end  # the replay stops at it (or earlier, for another job)
    assert _run(chat, end - dt.timedelta(minutes=1)) == (0, [])
    count, sent = _run(chat, end)
    assert count == 1
    [ask] = sent
    assert (ask.chat_id, ask.is_private, ask.text) == ("wxid_wangfang", True, ASK)
    assert _run(chat, end + dt.timedelta(minutes=1)) == (0, [])  # once
    assert _run(chat, end + dt.timedelta(hours=5)) == (0, [])
    assert _runs(chat, incidents.JOB) == ["通知1 2026-11-23T02:00Z"]
    assert _actions(chat) == ["open", "join", "ask"]
    # After the expected end a report opens a ticket; 恢复 still tells the one who reported during it.
    assert "收到，已登记 #1" in chat.texts("李叔", "3号楼怎么没水了")[0]
    restored = chat.say("王芳", "恢复 1 已恢复供水")
    assert restored[0].text.startswith("@张阿姨 ✅ #通知1")
    assert _run(chat, end + dt.timedelta(hours=6)) == (0, [])


def test_the_replay_stops_at_the_expected_end(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 停水 至 9:10")
    end = MONDAY_9AM + dt.timedelta(minutes=10)
    assert _runner(chat).next_at(chat.clock.now()) == end  # nothing else is due before 9:10 on a quiet Monday
    stops: list[dt.datetime] = []
    clock = chat.clock
    _runner(chat).run_until(clock, clock.now(), end + dt.timedelta(minutes=5), lambda: stops.append(clock.now()))
    assert stops == [end]
    assert _runs(chat, incidents.JOB) == ["通知1 2026-11-23T01:10Z"]


def test_a_notice_ended_or_without_an_end_asks_nothing(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 停水 至 10:00")
    chat.say("王芳", "通知 第二网格 停电检修", group=ALL_GROUP)  # no expected end
    chat.say("王芳", "恢复 1")
    assert _run(chat, MONDAY_9AM + dt.timedelta(days=1)) == (0, [])
    assert _runs(chat, incidents.JOB) == []


def test_a_notice_ended_after_the_question_was_composed_is_left_alone(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 停水 至 10:00")
    end = MONDAY_9AM + dt.timedelta(hours=1)
    chat.clock.set(end)
    runner = _runner(chat)
    with chat.session() as session:
        [occurrence] = runner.due(session, incidents.JOB, end)
    chat.say("王芳", "恢复 1")
    assert runner._carry_out(occurrence, chat.clock.now())  # marked done…
    with chat.session() as session:
        assert [r for r in session.exec(select(OutboxMessage)) if "时间已到" in r.text] == []  # …nothing sent
    assert _actions(chat) == ["open", "end"]


def test_a_new_notice_after_the_question_is_asked_about_at_its_own_end(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 停水 至 10:00")
    assert _run(chat, MONDAY_9AM + dt.timedelta(hours=1))[0] == 1
    chat.say("王芳", "通知 3号楼 停水：水管抢修 至 12:00")
    count, [ask] = _run(chat, MONDAY_9AM + dt.timedelta(hours=3))
    assert count == 1 and ask.text.startswith("#通知2 预计 12:00 恢复，时间已到。")


# --- digest, daily report ---------------------------------------------------------------------------------------


def _posted(chat: Chat, word: str) -> dict[str, str]:
    with chat.session() as session:
        return {r.chat_name: r.text for r in session.exec(select(OutboxMessage)) if r.text.startswith(word)}


def test_the_digest_counts_the_weeks_notices_and_the_residents_they_answered(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 停水 至 15:00")
    for name in ("张阿姨", "李叔", "刘奶奶"):
        chat.say(name, "怎么停水了")
    chat.say("吴阿姨", "3号楼怎么没水了", group=ALL_GROUP)
    chat.say("王芳", "恢复 1")
    chat.say("王芳", "通知 全部 停电：线路检修 至 18:00", group=CADRES_GROUP)
    chat.say("孙姐", "怎么停电了")
    _run(chat, MONDAY_9AM + dt.timedelta(days=7), ("digest",))
    posted = _posted(chat, "📋")
    line = "通知 2 次，回复居民 5 人（未开工单）"
    assert posted[CADRES_GROUP].splitlines()[2] == line  # after the counts
    assert posted[ALL_GROUP].splitlines()[2] == line
    assert posted[GROUP_G1].splitlines()[2] == line  # 3号楼 is in 第一网格
    assert posted["4-6号楼业主群"].splitlines()[2] == "通知 1 次，回复居民 1 人（未开工单）"  # 全部 only
    assert "收到 0 件" in posted[CADRES_GROUP]
    # The week after: no notice, no line (and a quiet week again).
    _run(chat, MONDAY_9AM + dt.timedelta(days=14), ("digest",))
    assert "通知" not in _runner(chat).digest_text(MONDAY_9AM + dt.timedelta(days=14))


def test_the_daily_report_lists_the_notices_not_ended(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 停水：水箱清洗 至 15:00")
    chat.say("张阿姨", "怎么停水了")
    chat.say("王芳", "通知 第二网格 停电检修", group=ALL_GROUP)
    chat.say("王芳", "通知 5号楼 停水 至 12:00", group=ALL_GROUP)
    chat.say("王芳", "恢复 3")
    _run(chat, MONDAY_9AM.replace(hour=18), ("daily",))
    report = _posted(chat, "📒")[CADRES_GROUP].splitlines()
    assert report[-3:] == [
        "进行中的通知：",
        "· #通知1 3号楼停水：水箱清洗（预计15:00恢复，已过时未确认，1 位居民反映）",
        "· #通知2 第二网格停电检修（未定恢复时间，0 位居民反映）",
    ]


# --- huiyin ledger --incidents ----------------------------------------------------------------------------------


def test_ledger_incidents_lists_every_notice(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 停水：水箱清洗 至 15:00")
    chat.say("张阿姨", "怎么停水了")
    chat.say("李叔", "3号楼没水了")
    chat.say("王芳", "恢复 1 已恢复供水")
    chat.say("陈洁", "通知 全部 停电 至 明天9:00", group=CADRES_GROUP)
    rows = incident_rows(chat.app.settings, chat.app.engine)
    assert [(r["number"], r["status"], r["scope"], r["category"], r["text"], r["author_name"], r["reporters"])
            for r in rows] == [
        (1, "ended", "3号楼", "drainage", "停水：水箱清洗", "王芳", 2),
        (2, "active", "全社区", "power", "停电", "陈洁", 0),
    ]  # fmt: skip
    assert rows[0]["ended_at"] is not None and rows[1]["ended_at"] is None
    assert rows[1]["expected_end_at"] == MONDAY_9AM + dt.timedelta(days=1)
    assert ledger_rows(chat.app.settings, chat.app.engine) == []  # the tickets' list is not touched


def _huiyin(database: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "--config", str(REPO / "config.yaml"), *args],
        capture_output=True, text=True, timeout=60, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "DATABASE_URL": database},
    )  # fmt: skip


def test_huiyin_ledger_incidents_prints_a_table_and_json(tmp_path, settings) -> None:
    from bot.app import Huiyin
    from nlp.trained import configured_classifier
    from storage.db import make_engine

    database = f"sqlite:///{tmp_path / 'huiyin.db'}"
    app = Huiyin(settings, make_engine(database), configured_classifier(settings), ManualClock(MONDAY_9AM))
    app.prepare()
    chat = Chat(app)
    assert _huiyin(database, "ledger", "--incidents").stdout == "没有通知。\n"
    chat.say("王芳", "通知 3号楼 停水：水箱清洗 至 15:00")
    chat.say("张阿姨", "怎么停水了")
    chat.say("周哥", "2号楼1单元下水道堵了，污水往外冒")
    table = _huiyin(database, "ledger", "--incidents")
    assert table.returncode == 0, table.stderr
    [line] = table.stdout.splitlines()
    assert line.startswith("#通知1") and "进行中" in line and "3号楼" in line and "给排水" in line
    assert "开始 11-23 09:00  预计 11-23 15:00  恢复 —" in line and "王芳" in line and "居民 1 人" in line
    [row] = json.loads(_huiyin(database, "ledger", "--incidents", "--json").stdout)
    assert (row["number"], row["status"], row["scope"], row["reporters"]) == (1, "active", "3号楼", 1)
    assert row["expected_end_at"] == "2026-11-23 07:00:00+00:00"  # as the tickets' times: str() of the stored UTC
    [ticket] = json.loads(_huiyin(database, "ledger", "--json").stdout)  # without --incidents: the tickets
    assert (ticket["number"], ticket["reporters"]) == (1, ["周哥"])
