"""A 街道: several communities on one ledger. Each group belongs to one community, each community's cadres act on
its tickets only, the 街道's staff act on any and get the overdue list (督办). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from board import taizhang
from board.street import create_street_app
from bot import cli
from bot.app import Huiyin
from bot.outbox import OutboxSender
from bot.street import StreetApp
from jobs.runner import JobRunner
from jobs.scheduler import new_scheduler, run_job, start_street_jobs
from jobs.street import StreetRunner
from ledger.clock import ManualClock
from ledger.messages import Incoming, Outgoing
from nlp.trained import configured_classifier
from settings.loader import ConfigError
from settings.secrets import BoardSecrets
from settings.street import Street, load_street
from storage.db import make_engine, new_session
from storage.models import JobRun, Ticket, TicketEvent
from tests.chat import RecordingTransport
from tests.conftest import MONDAY_9AM

REPO = Path(__file__).resolve().parents[1]
STREET_FILE = REPO / "street" / "street.yaml"
XINGFULI_GROUP, MINZHU_GROUP = "1-3号楼业主群", "民主路1-3号楼业主群"


@pytest.fixture(scope="module")
def street() -> Street:
    return load_street(STREET_FILE)


class StreetChat:
    """Say something as someone in a group or in private, through the 街道's app, and see what was delivered."""

    def __init__(self, street: Street, engine: Engine, clock: ManualClock) -> None:
        apps = {s.community.id: Huiyin(s, engine, configured_classifier(s), clock) for s in street.communities}
        self.app = StreetApp(street, engine, clock, apps)
        self.app.prepare()
        self.clock = clock
        self.transport = RecordingTransport()
        self.sender = OutboxSender(engine, self.transport, clock)
        self._ids = itertools.count(1)

    def say(self, sender_id: str, name: str, text: str, *, group: str | None = None) -> list[Outgoing]:
        incoming = Incoming(
            message_id=f"street-{next(self._ids)}", chat_id=group or sender_id, chat_name=group or name,
            sender_id=sender_id, sender_name=name, text=text, timestamp=self.clock.now(), is_private=group is None,
        )  # fmt: skip
        before = len(self.transport.sent)
        self.app.handle(incoming)
        self.sender.drain()
        return self.transport.sent[before:]


@pytest.fixture
def chat(street: Street, engine: Engine) -> StreetChat:
    return StreetChat(street, engine, ManualClock(MONDAY_9AM))


def _tickets(engine: Engine) -> dict[int, Ticket]:
    with new_session(engine) as session:
        return {t.id: t for t in session.exec(select(Ticket))}


def test_the_sample_street_file_lists_two_communities_and_adds_its_staff_to_each(street: Street) -> None:
    assert [s.community.id for s in street.communities] == ["main", "minzhu"]
    assert [s.community.name for s in street.communities] == ["幸福里社区", "民主路社区"]
    for settings in street.communities:
        staff = settings.cadre_by_chat_id("wxid_zhaoke")
        assert staff is not None and staff.role == "street"
    assert street.community_of_group("", MINZHU_GROUP).community.id == "minzhu"
    assert street.community_of_group("", XINGFULI_GROUP).community.id == "main"


def test_each_group_reports_into_its_own_community(chat: StreetChat, engine: Engine) -> None:
    chat.say("wx_res_a", "张阿姨", "3号楼2单元下水道堵了，污水都冒出来了", group=XINGFULI_GROUP)
    chat.say("wx_res_b", "刘大爷", "2号楼楼道灯坏了好几天了，晚上黑漆漆的", group=MINZHU_GROUP)
    found = {(t.community_id, t.chat_name) for t in _tickets(engine).values()}
    assert found == {("main", XINGFULI_GROUP), ("minzhu", MINZHU_GROUP)}
    with new_session(engine) as session:
        events = {(e.community_id, e.ticket_id) for e in session.exec(select(TicketEvent))}
    assert {community for community, _ in events} == {"main", "minzhu"}
    assert all(_tickets(engine)[number].community_id == community for community, number in events)


def test_a_cadre_cannot_act_on_another_communitys_ticket_and_the_street_staff_can(
    chat: StreetChat, engine: Engine
) -> None:
    chat.say("wx_res_b", "刘大爷", "2号楼楼道灯坏了好几天了，晚上黑漆漆的", group=MINZHU_GROUP)
    (number,) = _tickets(engine)
    before = _tickets(engine)[number]
    # 幸福里's secretary may act on any ticket of 幸福里, and on none of 民主路's
    for text in (f"接单 {number}", f"办结 {number} 已修好", f"查 {number}"):
        replies = chat.say("wxid_chenjie", "陈洁", text)
        assert replies and all(f"#{number}" in r.text or "没有" in r.text for r in replies)
        assert "刘大爷" not in " ".join(r.text for r in replies)
    after = _tickets(engine)[number]
    assert (after.status, after.assignee_id, after.updated_at) == (before.status, before.assignee_id, before.updated_at)
    # 民主路's own secretary may
    replies = chat.say("wxid_mz_chenjie", "陈洁", f"接单 {number}")
    assert _tickets(engine)[number].status == "accepted", [r.text for r in replies]
    # the 街道's staff may act on it too, though no community lists them as a cadre
    chat.say("wxid_zhaoke", "赵科长", f"进度 {number} 街道已协调供电所，明天上午更换")
    with new_session(engine) as session:
        events = session.exec(select(TicketEvent).where(TicketEvent.ticket_id == number)).all()
    last = max(events, key=lambda event: event.id)
    assert (last.action, last.actor_id, last.community_id) == ("progress", "zhaoke", "minzhu")


def test_a_residents_query_of_another_communitys_ticket_finds_nothing(chat: StreetChat, engine: Engine) -> None:
    chat.say("wx_res_b", "刘大爷", "2号楼楼道灯坏了好几天了，晚上黑漆漆的", group=MINZHU_GROUP)
    (number,) = _tickets(engine)
    replies = chat.say("wx_res_a", "张阿姨", f"查 {number}", group=XINGFULI_GROUP)
    assert replies and "楼道灯" not in replies[0].text and "刘" not in replies[0].text


def test_the_street_staff_get_the_overdue_list_of_every_community(chat: StreetChat, engine: Engine) -> None:
    chat.say("wx_res_a", "张阿姨", "3号楼2单元下水道堵了，污水都冒出来了", group=XINGFULI_GROUP)
    chat.say("wx_res_b", "刘大爷", "2号楼楼道灯坏了好几天了，晚上黑漆漆的", group=MINZHU_GROUP)
    (quiet,) = chat.say("wxid_zhaoke", "赵科长", "督办")
    assert "没有逾期" in quiet.text and quiet.is_private and quiet.chat_id == "wxid_zhaoke"
    chat.clock.advance(dt.timedelta(days=4))
    (listed,) = chat.say("wxid_zhaoke", "赵科长", "督办")
    lines = listed.text.splitlines()
    assert "逾期未办结 2 件" in lines[0] and "幸福里社区 1 件" in lines[0] and "民主路社区 1 件" in lines[0]
    assert any("幸福里社区【给排水】" in line for line in lines[1:])
    assert any("民主路社区【供电照明】" in line for line in lines[1:])
    assert all(len(line) <= 60 for line in lines)


def test_a_private_message_of_a_resident_goes_to_the_community_they_last_wrote_in(
    chat: StreetChat, engine: Engine
) -> None:
    chat.say("wx_res_b", "刘大爷", "大家早上好", group=MINZHU_GROUP)
    chat.say("wx_res_b", "刘大爷", "5号楼门口井盖松动了，踩上去晃")
    (ticket,) = _tickets(engine).values()
    assert ticket.community_id == "minzhu" and ticket.chat_is_private


def test_a_batch_across_communities_goes_to_each_communitys_app_in_order(chat: StreetChat, engine: Engine) -> None:
    """What the wechaty inbox hands over at once: runs of one community's group messages in one transaction of its
    app, a private message alone after the ones before it (刘大爷's private report follows his group message)."""
    said = (
        ("wx_res_a", "张阿姨", "3号楼2单元下水道堵了，污水都冒出来了", XINGFULI_GROUP),
        ("wx_res_c", "老孙", "1号楼门口的路灯坏了", XINGFULI_GROUP),
        ("wx_res_b", "刘大爷", "大家早上好", MINZHU_GROUP),
        ("wx_res_b", "刘大爷", "5号楼门口井盖松动了，踩上去晃", None),
        ("wx_res_d", "周姐", "2号楼楼道灯坏了好几天了，晚上黑漆漆的", MINZHU_GROUP),
    )
    batch = [
        Incoming(
            message_id=f"batch-{n}", chat_id=group or sender, chat_name=group or name, sender_id=sender,
            sender_name=name, text=text, timestamp=chat.clock.now(), is_private=group is None,
        )
        for n, (sender, name, text, group) in enumerate(said)
    ]  # fmt: skip
    queued = chat.app.handle_batch(batch)
    assert len(queued) == len(batch) and queued[2] == 0 and all(queued[n] >= 1 for n in (0, 1, 3, 4))
    found = sorted((t.community_id, t.chat_is_private, t.description[:5]) for t in _tickets(engine).values())
    assert found == [
        ("main", False, "1号楼门口"), ("main", False, "3号楼2单"), ("minzhu", False, "2号楼楼道"),
        ("minzhu", True, "5号楼门口"),
    ]  # fmt: skip
    assert chat.app.handle_batch(batch) == [0] * len(batch)  # a redelivery of it all changes nothing


def _street_file(tmp_path: Path, text: str, communities: dict[str, str]) -> Path:
    for name, body in communities.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    path = tmp_path / "street.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _community(identifier: str, group: str, chat_id: str = "wx_sec") -> str:
    return f"""community: {{id: {identifier}, name: {identifier}社区}}
grids: [{{id: g1, name: 第一网格}}]
cadres: [{{id: sec, name: 书记, chat_id: {chat_id}, role: secretary}}]
groups: [{{name: {group}, grids: [g1]}}]
categories: [{{id: other, name: 其他, keywords: [坏了]}}]
"""


def test_what_two_files_claim_at_once_is_reported_at_the_street_files_line(tmp_path: Path) -> None:
    path = _street_file(
        tmp_path,
        "street: {id: s, name: 测试街道}\ncommunities:\n  - a.yaml\n  - b.yaml\n  - c.yaml\nstaff:\n"
        "  - {id: zk, name: 赵科长, chat_id: wx_a}\n",
        {
            "a.yaml": _community("a", "一号群", "wx_a"), "b.yaml": _community("a", "二号群", "wx_b"),
            "c.yaml": _community("c", "一号群", "wx_c"),
        },
    )  # fmt: skip
    with pytest.raises(ConfigError) as error:
        load_street(path)
    assert error.value.problems == [
        f"{path}:4: communities[1]: 社区 id 'a' 已经是 a.yaml 的了（每个社区的 community.id 要不同）",
        f"{path}:5: communities[2]: 群 '一号群' 已经属于社区 'a'（一个群只能属于一个社区）",
        f"{path}:7: staff[0].chat_id: chat_id 'wx_a' 已经是社区 'a' 的干部（街道工作人员和社区干部请用不同的微信号）",
    ]


def test_a_broken_community_file_keeps_its_own_file_and_line(tmp_path: Path) -> None:
    broken = _community("b", "二号群").replace("role: secretary", "role: boss")
    path = _street_file(
        tmp_path, "street: {id: s, name: 测试街道}\ncommunities: [a.yaml, b.yaml, c.yaml]\n",
        {"a.yaml": _community("a", "一号群"), "b.yaml": broken},
    )  # fmt: skip
    with pytest.raises(ConfigError) as error:
        load_street(path)
    problems = error.value.problems
    bad = tmp_path / "b.yaml"
    assert problems[0] == f"{path}:2: communities[1]: 社区配置文件 {bad} 有 1 处错误（见下面以 {bad} 开头的行）"
    assert problems[1].startswith(f"{bad}:3: cadres[0].role: 'boss' 不是可选的值")
    assert problems[2] == f"{path}:2: communities[2]: {tmp_path / 'c.yaml'}: 找不到这个文件"


def test_an_unknown_key_in_the_street_file_is_named_with_its_line(tmp_path: Path) -> None:
    text = "street: {id: s, name: 测试街道}\ncommunities: [a.yaml]\nstaf: []\n"
    path = _street_file(tmp_path, text, {"a.yaml": _community("a", "一号群")})
    with pytest.raises(ConfigError) as error:
        load_street(path)
    assert error.value.problems == [f"{path}:3: staf: 不认识这个键，是不是想写 'staff'？"]


def test_the_daily_overdue_list_goes_to_every_staff_member_once_a_day(chat: StreetChat, engine: Engine) -> None:
    chat.say("wx_res_b", "刘大爷", "2号楼楼道灯坏了好几天了，晚上黑漆漆的", group=MINZHU_GROUP)
    runner = StreetRunner(chat.app.street, engine)
    chat.clock.advance(dt.timedelta(days=3, hours=8, minutes=31))  # Thursday 17:31, the deadline long past
    assert runner.run(chat.clock.now()) == 1
    assert runner.run(chat.clock.now() + dt.timedelta(minutes=5)) == 0
    chat.sender.drain()
    (sent,) = [o for o in chat.transport.sent if o.chat_id == "wxid_zhaoke"]
    assert sent.is_private and "逾期未办结 1 件：民主路社区 1 件" in sent.text
    with new_session(engine) as session:
        (run,) = session.exec(select(JobRun).where(JobRun.job == "overdue")).all()
    assert (run.community_id, run.period, run.sent) == ("street:qinlinglu", "2026-11-26", 1)


def test_one_scheduler_runs_every_communitys_jobs_and_the_streets(chat: StreetChat, engine: Engine) -> None:
    street = chat.app.street
    runners = [JobRunner(s, engine) for s in street.communities]
    scheduler = new_scheduler(street.communities[0], engine)
    start_street_jobs(scheduler, runners, StreetRunner(street, engine), chat.clock)
    try:
        ids = {job.id for job in scheduler.get_jobs()}
        assert {"main/sla", "main/digest", "minzhu/sla", "minzhu/daily", "street:qinlinglu/overdue"} <= ids
        chat.clock.advance(dt.timedelta(days=3, hours=9, minutes=1))  # 18:01: the daily report too
        run_job("street:qinlinglu/overdue")
        run_job("minzhu/daily")
    finally:
        scheduler.shutdown(wait=False)
    with new_session(engine) as session:
        runs = {(r.community_id, r.job) for r in session.exec(select(JobRun))}
    assert runs == {("street:qinlinglu", "overdue"), ("minzhu", "daily")}


def test_the_street_board_shows_each_community_side_by_side_and_serves_each_under_its_path(
    chat: StreetChat, engine: Engine
) -> None:
    chat.say("wx_res_a", "张阿姨", "3号楼2单元下水道堵了，污水都冒出来了", group=XINGFULI_GROUP)
    chat.say("wx_res_b", "刘大爷", "2号楼楼道灯坏了好几天了，晚上黑漆漆的", group=MINZHU_GROUP)
    numbers = {t.community_id: t.id for t in _tickets(engine).values()}
    chat.say("wxid_mz_chenjie", "陈洁", f"接单 {numbers['minzhu']}")
    chat.clock.advance(dt.timedelta(days=3))
    client = TestClient(create_street_app(chat.app.street, engine, chat.clock, BoardSecrets(None, None)))
    overview = client.get("/")
    assert overview.status_code == 200
    page = overview.text
    rows = {row: page.split(f'data-community="{row}"')[1].split("</tr>")[0] for row in ("main", "minzhu")}
    assert ">幸福里社区</a>" in rows["main"] and ">民主路社区</a>" in rows["minzhu"]
    assert '<td data-label="本周反映">1</td>' in rows["main"]
    assert '<td data-label="当前超期">1</td>' in rows["minzhu"]
    assert "督办：超期未办结（2 件）" in page
    for community, number in numbers.items():
        assert f'href="/c/{community}/tickets/{number}"' in page
    assert "<td>给排水</td><td>1</td>" in page and "<td>供电照明</td><td>1</td>" in page
    wall = client.get("/c/minzhu/")
    assert wall.status_code == 200 and f"/c/minzhu/tickets/{numbers['minzhu']}" in wall.text
    assert f"#{numbers['main']}<" not in wall.text and 'href="/c/minzhu/static/board.css"' in wall.text
    assert client.get("/c/minzhu/static/board.css").status_code == 200
    assert client.get(f"/c/minzhu/tickets/{numbers['minzhu']}").status_code == 200
    assert client.get(f"/c/minzhu/tickets/{numbers['main']}").status_code == 404  # another community's ticket
    assert client.get("/c/main/stats").status_code == 200


def test_huiyin_street_check_and_overdue_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'street.db'}")
    assert cli.main(["--env-file", "/dev/null", "street", "--street", str(STREET_FILE), "check"]) == 0
    assert "秦岭路街道：幸福里社区、民主路社区" in capsys.readouterr().out
    broken = _street_file(tmp_path, "street: {id: s, name: 测试街道}\ncommunities: []\n", {})
    assert cli.main(["--env-file", "/dev/null", "street", "--street", str(broken), "check"]) == 2
    assert f"{broken}:2: communities: " in capsys.readouterr().err
    street = load_street(STREET_FILE)
    chat = StreetChat(street, make_engine(f"sqlite:///{tmp_path / 'street.db'}"), ManualClock(MONDAY_9AM))
    chat.say("wx_res_b", "刘大爷", "2号楼楼道灯坏了好几天了，晚上黑漆漆的", group=MINZHU_GROUP)
    assert cli.main(["--env-file", "/dev/null", "street", "--street", str(STREET_FILE), "overdue"]) == 0
    assert "逾期未办结 1 件：民主路社区 1 件" in capsys.readouterr().out  # by the real clock, long overdue
    chat.say("wx_res_a", "张阿姨", "3号楼2单元下水道堵了，污水都冒出来了", group=XINGFULI_GROUP)
    out = tmp_path / "street.csv"
    assert cli.main(["--env-file", "/dev/null", "street", "--street", str(STREET_FILE), "export", "--format", "csv",
                     "--out", str(out)]) == 0  # fmt: skip
    assert "2 条" in capsys.readouterr().out
    header, *rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert header[:3] == ["社区", "序号", "编号"]
    assert [(row[0], row[1], row[2]) for row in rows] == [("民主路社区", "1", "1"), ("幸福里社区", "2", "2")]
    assert rows[0][header.index("反映人")] == "刘**"
    monkeypatch.setattr(taizhang, "SPLIT_FROM", 2)  # the same csv, written by two processes
    halved = tmp_path / "halved.csv"
    assert cli.main(["--env-file", "/dev/null", "street", "--street", str(STREET_FILE), "export", "--format", "csv",
                     "--out", str(halved)]) == 0  # fmt: skip
    assert halved.read_bytes() == out.read_bytes()
