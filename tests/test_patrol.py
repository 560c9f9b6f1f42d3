"""Patrol findings (巡查上报 / 随手拍): a cadre's `上报` opens a ticket residents do not see until `公开`.

Run on SQLite and (with HUIYIN_TEST_DATABASE_URL) PostgreSQL through the `chat` fixture's engine.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from board.web import create_app
from handlers.commands import COMMANDS, CommandName
from ledger.clock import ManualClock
from ledger.links import sign_link
from ledger.messages import MessageKind, Outgoing
from settings.models import Settings
from settings.secrets import BoardSecrets
from storage.models import Ticket
from storage.tickets import active_reporters, get_ticket
from tests.chat import GROUP_G1, Chat
from tests.conftest import MONDAY_9AM

WORK = "幸福里社区工作群"
RESIDENTS = {"1-3号楼业主群", "4-6号楼业主群", "幸福里社区居民群"}
SECRET = "patrol-secret"


def ticket(chat: Chat, number: int) -> Ticket:
    with chat.session() as session:
        found = get_ticket(session, number)
        assert found is not None
        session.expunge(found)
        return found


def in_residents_groups(sent: list[Outgoing]) -> list[Outgoing]:
    return [o for o in sent if not o.is_private and o.chat_name in RESIDENTS]


def test_a_patrol_report_is_assigned_by_the_rules_and_only_the_cadres_hear_of_it(chat: Chat) -> None:
    # Monday 9:00: 李军 (grid g2's cadre) finds a problem in grid g1, whose cadre on duty is 王芳.
    sent = chat.say("李军", "上报 3号楼 楼道堆放大量纸箱杂物，堵住消防通道", group=WORK)
    reply, told = sent
    assert reply.chat_name == WORK
    assert reply.text.startswith("@李军 已登记巡查 #1【停车与消防】3号楼，由今日值班 王芳 负责")
    assert "公开 1" in reply.text and reply.ticket_id == 1
    assert told.is_private and told.chat_id == "wxid_wangfang" and "李军 巡查上报 #1" in told.text
    found = ticket(chat, 1)
    assert (found.source, found.published_at, found.assignee_id) == ("patrol", None, "wangfang")
    assert (found.location, found.grid_id, found.chat_name) == ("3号楼", "g1", WORK)
    assert found.description == "楼道堆放大量纸箱杂物，堵住消防通道"
    assert found.resolution_due_at == MONDAY_9AM + dt.timedelta(hours=24, seconds=1)  # the category's limit
    with chat.session() as session:
        assert [r.member_name for r in active_reporters(session, 1)] == ["李军"]  # no resident
    # Progress before 公开 stays with the cadres: nothing reaches a residents' group.
    later = chat.say("王芳", "接单 1", group=WORK) + chat.private("王芳", "进度 1 已通知物业清理")
    assert in_residents_groups(later) == []
    assert any(o.chat_name == WORK and "#1 已由 王芳 签收" in o.text for o in later)
    assert any(o.chat_name == WORK and "#1 进展（王芳）：已通知物业清理" in o.text for o in later)


def test_self_handled_in_private_and_the_place_inside_the_words(chat: Chat) -> None:
    [reply] = chat.private("王芳", "上报 自办 5号楼东侧路灯不亮")
    assert reply.is_private and reply.text.startswith("已登记巡查 #1【供电照明】5号楼，由您自办。")
    found = ticket(chat, 1)
    assert (found.assignee_id, found.grid_id, found.chat_is_private) == ("wangfang", "g2", True)
    assert found.description == "5号楼东侧路灯不亮"


def test_a_residents_report_word_is_a_report_they_may_not_publish_and_malformed_gets_the_syntax(chat: Chat) -> None:
    [reported] = chat.texts("张阿姨", "上报 3号楼 井盖松动")
    assert "已登记 #1" in reported and ticket(chat, 1).source == "resident"
    chat.say("王芳", "上报 3号楼 井盖松动", group=WORK)
    assert ticket(chat, 2).source == "patrol"
    assert "「公开」是社区干部" in chat.texts("张阿姨", "公开 2")[0]
    usage = COMMANDS[CommandName.PATROL].usage
    assert chat.texts("王芳", "上报", group=WORK) == [f"@王芳 缺少说明。指令格式：{usage}"]
    assert chat.texts("王芳", "上报 3号楼", group=WORK) == [f"@王芳 请写明地点和问题。指令格式：{usage}"]
    assert ticket(chat, 2).published_at is None


def test_a_photo_before_or_after_the_report_is_attached(chat: Chat) -> None:
    chat.clock.advance(dt.timedelta(seconds=5))
    assert chat.deliver(chat.message("王芳", "", group=WORK, kind=MessageKind.IMAGE)) == []  # waits for a 上报
    [reply] = chat.say("王芳", "上报 自办 2号楼 单元门闭门器坏了", group=WORK, advance=dt.timedelta(minutes=2))
    assert "已附图片。" in reply.text
    # A photo right after the next 上报 goes with that one; the one before was taken by #1.
    [second, _] = chat.say("王芳", "上报 6号楼 井盖松动", group=WORK)
    assert "已附" not in second.text
    chat.clock.advance(dt.timedelta(seconds=30))
    [attached] = chat.deliver(chat.message("王芳", "", group=WORK, kind=MessageKind.IMAGE))
    assert attached.ticket_id == 2 and "图片已附在巡查 #2【公共设施】6号楼下。" in attached.text
    assert attached.mention_ids == ("wxid_wangfang", "wxid_lijun")  # the assignee sees it too
    # Long after, a photo goes with nothing and is not answered.
    chat.clock.advance(dt.timedelta(hours=1))
    assert chat.deliver(chat.message("王芳", "", group=WORK, kind=MessageKind.IMAGE)) == []


def test_publish_posts_once_and_later_progress_reaches_the_residents(chat: Chat) -> None:
    chat.say("李军", "上报 3号楼 楼道堆放大量纸箱杂物", group=WORK)
    assert "只有负责人" in chat.texts("李军", "公开 1", group=WORK)[0]  # 李军 is neither owner nor on duty of g1
    sent = chat.say("王芳", "公开 1", group=WORK)
    posts = in_residents_groups(sent)
    assert [o.chat_name for o in posts] == ["1-3号楼业主群", "幸福里社区居民群"]
    assert posts[0].text == (
        "#1【停车与消防】3号楼：网格员巡查发现「楼道堆放大量纸箱杂物」，由 王芳 负责，办结后在群里告知。"
    )
    assert posts[0].mention_ids == ()
    assert any(o.chat_name == WORK and "#1 已公开到：1-3号楼业主群、幸福里社区居民群" in o.text for o in sent)
    found = ticket(chat, 1)
    assert found.published_at is not None and (found.chat_name, found.chat_is_private) == (GROUP_G1, False)
    again = chat.texts("王芳", "公开 1", group=WORK)
    assert len(again) == 1 and "已于" in again[0] and "公开" in again[0]
    later = chat.say("王芳", "办结 1 已清理完毕", group=WORK)
    assert [o.chat_name for o in in_residents_groups(later)] == [GROUP_G1]
    assert "#1" in in_residents_groups(later)[0].text


def test_publish_refuses_a_residents_report(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    assert chat.texts("王芳", "公开 1", group=WORK) == ["@王芳 #1 是居民反映的事项，居民群里本来就能看到。"]


@pytest.fixture
def board(settings: Settings, chat: Chat):
    def client() -> TestClient:
        clock = ManualClock(chat.clock.now())
        return TestClient(create_app(settings, chat.app.engine, clock, BoardSecrets(SECRET, "key")))

    return client


def test_the_wall_and_open311_hide_an_unpublished_finding_and_the_cadre_view_shows_it(chat: Chat, board) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("王芳", "上报 1号楼 路面塌陷一个大坑", group=WORK)
    client = board()
    wall = client.get("/").text
    assert 'data-number="1"' in wall and 'data-number="2"' not in wall
    assert client.get("/tickets/2").status_code == 404
    assert client.get("/open311/v2/requests/2.json").status_code == 404
    listed = [r["service_request_id"] for r in client.get("/open311/v2/requests.json").json()]
    assert "1" in listed and "2" not in listed
    by_id = client.get("/open311/v2/requests.json?service_request_id=1,2").json()
    assert [r["service_request_id"] for r in by_id] == ["1"]
    token = sign_link(SECRET, "wangfang", MONDAY_9AM.replace(year=2027))
    cadre_view = client.get(f"/cadre/{token}").text
    assert 'data-number="2"' in cadre_view and "路面塌陷一个大坑" in cadre_view
    assert client.get(f"/cadre/{token}/tickets/2").status_code == 200
    assert "路面塌陷" in client.get("/export.csv").content.decode("utf-8-sig")  # the 台账 lists it

    chat.say("王芳", "公开 2", group=WORK)
    client = board()
    assert 'data-number="2"' in client.get("/").text
    page = client.get("/tickets/2").text
    assert "网格员巡查发现「路面塌陷一个大坑」" in page  # what the residents' group saw
    assert client.get("/open311/v2/requests/2.json").status_code == 200
    assert "2" in [r["service_request_id"] for r in client.get("/open311/v2/requests.json").json()]


def test_a_residents_report_never_disappears_into_an_unpublished_finding(chat: Chat) -> None:
    chat.say("王芳", "上报 3号楼2单元 下水道堵了，一楼返水", group=WORK)
    [reply] = chat.texts("张阿姨", "3号楼2单元下水道堵了，一楼往上返水")
    assert "已登记 #2" in reply
    chat.say("王芳", "公开 1", group=WORK)
    [joined] = chat.texts("李叔", "3号楼2单元下水道又堵了，返水")
    assert "已有 2 位居民反映" in joined


def test_a_findings_resolution_asks_nobody_to_rate_and_residents_digests_leave_it_out(chat: Chat) -> None:
    from jobs.runner import JobRunner

    chat.say("王芳", "上报 自办 1号楼 东门口井盖松动", group=WORK)
    chat.say("张阿姨", "3号楼2单元下水道堵了，一楼返水")
    [resolved] = chat.texts("王芳", "办结 1 已加固井盖", group=WORK)
    assert resolved == "@王芳 #1 已办结（王芳）：已加固井盖"
    runner = JobRunner(chat.app.settings, chat.app.engine)
    monday = MONDAY_9AM + dt.timedelta(days=7)
    runner.run_until(chat.clock, chat.clock.now(), monday, chat.sender.drain)
    digests = {o.chat_name: o.text for o in chat.transport.sent if "回音周报" in o.text}
    assert "收到 2 件" in digests[WORK] and "主动发现 1 件" in digests[WORK]
    assert "收到 1 件" in digests[GROUP_G1] and "井盖" not in digests[GROUP_G1]
    no_follow_up = [o for o in chat.transport.sent if "评价 1" in o.text or "#1 办结后" in o.text]  # 回访, close
    assert no_follow_up == []
