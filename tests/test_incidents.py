"""Notices and known incidents (通知 / 恢复 / 关联): one announcement answers a hundred reports.

The whole-loop tests run on SQLite and PostgreSQL (the `chat` fixture); the matching rules are pure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlmodel import select

from handlers import texts
from handlers.commands import COMMANDS, CommandName
from ledger.incidents import ReportFacts, matching_incident
from ledger.lifecycle import Status
from storage.incidents import incident_reporters
from storage.models import Incident, IncidentEvent, Ticket
from tests.chat import GROUP_G1, GROUP_G2, Chat

ALL_GROUP = "幸福里社区居民群"
CADRES_GROUP = "幸福里社区工作群"
KNOWN = "已知情况：#通知"


def _tickets(chat: Chat) -> list[Ticket]:
    with chat.session() as session:
        return list(session.exec(select(Ticket).order_by(Ticket.id)).all())


def _known(replies) -> bool:
    return len(replies) == 1 and KNOWN in replies[0].text


def _posted_to(replies) -> list[str]:
    return [r.chat_name for r in replies if r.text.startswith("📢")]


# --- ranges ----------------------------------------------------------------------------------------------------


def test_a_building_notice_is_posted_to_the_groups_covering_it_and_its_reports_join_it(chat: Chat) -> None:
    posted = chat.say("王芳", "通知 3号楼 停水：今天9:00-15:00水箱清洗 至 15:00")
    assert _posted_to(posted) == [GROUP_G1, ALL_GROUP]  # not 4-6号楼, not the cadres' group
    assert posted[0].text.startswith("📢 #通知1 3号楼停水：今天9:00-15:00水箱清洗，预计15:00恢复")
    for name, text, group in [
        ("张阿姨", "怎么停水了", GROUP_G1),
        ("李叔", "3栋停水了？", GROUP_G1),
        ("刘奶奶", "水呢？？", GROUP_G1),
        ("赵大爷", "3号楼2单元没水了，啥时候来水啊", GROUP_G1),
        ("吴阿姨", "三号楼怎么没水了", ALL_GROUP),
        ("孙姐", "怎么没水了", ALL_GROUP),  # no place, in a group covering 3号楼's grid
    ]:
        replies = chat.say(name, text, group=group)
        assert _known(replies), (text, [r.text for r in replies])
        assert replies[0].chat_name == group
    assert _tickets(chat) == []
    with chat.session() as session:
        assert len(incident_reporters(session, 1)) == 6


def test_a_building_notice_leaves_other_buildings_alone(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 停水 至 15:00")
    assert not _known(chat.say("刘姐", "5号楼怎么停水了", group=ALL_GROUP))
    assert not _known(chat.say("小何", "家里停水了，水龙头一滴都没有", group=GROUP_G2))
    assert not _known(chat.say("周哥", "2号楼1单元下水道堵了，污水往外冒"))  # other problem, same category
    assert len(_tickets(chat)) >= 1


def test_a_grid_notice(chat: Chat) -> None:
    posted = chat.say("李军", "通知 第二网格 停电检修 至 12:00", group=GROUP_G2)
    assert _posted_to(posted) == [GROUP_G2, ALL_GROUP]
    assert _known(chat.say("刘姐", "5号楼怎么停电了", group=GROUP_G2))
    assert _known(chat.say("小何", "怎么又停电了", group=ALL_GROUP))  # 幸福里 covers 第二网格 too
    assert not _known(chat.say("张阿姨", "2号楼怎么停电了"))  # 第一网格


def test_a_notice_for_everyone(chat: Chat) -> None:
    posted = chat.say("陈洁", "通知 全部 停水：市政管网维修 至 18:00", group=CADRES_GROUP)
    assert _posted_to(posted) == [GROUP_G1, GROUP_G2, ALL_GROUP]
    assert posted[-1].chat_name == CADRES_GROUP and "已发布 #通知1" in posted[-1].text
    assert _known(chat.say("张阿姨", "怎么停水了"))
    assert _known(chat.say("刘姐", "6号楼没水了", group=GROUP_G2))
    assert not _known(chat.say("周哥", "2号楼楼道灯不亮了"))  # another category


def test_overlapping_notices_the_most_specific_then_the_newest_answers(chat: Chat) -> None:
    chat.say("陈洁", "通知 全部 停水：市政管网维修")
    chat.say("王芳", "通知 3号楼 停水：水箱清洗")
    chat.say("王芳", "通知 第一网格 停水：二次供水检修")
    assert "#通知2 3号楼" in chat.say("张阿姨", "3号楼怎么没水了")[0].text
    assert "#通知3 第一网格" in chat.say("李叔", "2号楼怎么没水了")[0].text
    assert "#通知1 全社区" in chat.say("刘姐", "5号楼怎么没水了", group=GROUP_G2)[0].text
    chat.say("王芳", "通知 3号楼 停水：水管抢修")
    assert "#通知4 3号楼" in chat.say("小陈", "3号楼2单元停水了")[0].text


def test_after_the_expected_end_reports_open_tickets(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 停水 至 10:00")
    assert _known(chat.say("张阿姨", "3号楼怎么没水了"))
    chat.clock.advance(dt.timedelta(hours=1, minutes=5))
    replies = chat.say("李叔", "3号楼家里一滴水都没有，停了一上午了")
    assert not _known(replies)
    assert len(_tickets(chat)) == 1


def test_tomorrow_and_the_notice_line(chat: Chat) -> None:
    posted = chat.say("王芳", "通知 3栋 停电：配电房检修 至 明天9:00")
    assert "#通知1 3号楼停电：配电房检修，预计明天9:00恢复" in posted[0].text


def test_urgent_messages_never_join_an_incident(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 停电：配电房检修")
    replies = chat.say("张阿姨", "3号楼电梯停电困了个人，快来救人")
    assert not any(KNOWN in r.text for r in replies)
    assert _tickets(chat)[0].urgent


# --- who may, and how -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "word"), [("通知 3号楼 停水", "通知"), ("恢复 1", "恢复"), ("关联 1 1", "关联")])
def test_residents_get_the_cadre_only_refusal(chat: Chat, text: str, word: str) -> None:
    assert chat.texts("张阿姨", text) == ["@张阿姨 " + texts.CADRE_ONLY.format(word=word)]
    with chat.session() as session:
        assert session.exec(select(Incident)).all() == []


def _syntax(name: CommandName, problem: str = "") -> str:
    return "@王芳 " + problem + texts.SYNTAX.format(usage=COMMANDS[name].usage)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("通知", _syntax(CommandName.NOTICE, texts.SYNTAX_PROBLEMS["missing_argument"])),
        ("通知 3号楼", _syntax(CommandName.NOTICE)),
        ("通知 3号楼 停水 至 25:00", _syntax(CommandName.NOTICE)),
        (
            "通知 火星 停水",
            "@王芳 " + texts.NOTICE_UNKNOWN_SCOPE.format(grids="第一网格、第二网格")
            + texts.SYNTAX.format(usage=COMMANDS[CommandName.NOTICE].usage),
        ),
        ("通知 99号楼 停水", None),
        ("恢复", _syntax(CommandName.RESTORE, texts.SYNTAX_PROBLEMS["missing_ticket"])),
        ("恢复 通知", _syntax(CommandName.RESTORE, texts.SYNTAX_PROBLEMS["bad_ticket"])),
        ("恢复 7", "@王芳 " + texts.NOTICE_UNKNOWN.format(number=7)),
        ("关联 1", _syntax(CommandName.LINK, texts.SYNTAX_PROBLEMS["missing_argument"])),
        ("关联 1 通知", _syntax(CommandName.LINK)),
        ("通知 3号楼 停水 至 8:00", "@王芳 " + texts.NOTICE_END_PAST.format(time="8:00")),
    ],
)
def test_malformed_commands_get_the_syntax(chat: Chat, text: str, expected: str | None) -> None:
    replies = chat.texts("王芳", text)
    assert len(replies) == 1
    if expected is not None:
        assert replies == [expected]
    with chat.session() as session:
        assert session.exec(select(Incident)).all() == []


# --- 恢复, 关联, and after ------------------------------------------------------------------------------------


def test_restore_tells_every_reporter_once_in_each_group(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 停水 至 15:00")
    chat.say("张阿姨", "怎么停水了")
    chat.say("张阿姨", "怎么还没来水")  # twice: mentioned once
    chat.say("李叔", "3号楼没水了")
    chat.say("吴阿姨", "3号楼怎么没水了", group=ALL_GROUP)
    replies = chat.say("王芳", "恢复 #通知1 已恢复供水")
    assert [r.chat_name for r in replies] == [GROUP_G1, ALL_GROUP]
    g1, everyone = replies
    assert g1.text == "@张阿姨 @李叔 ✅ #通知1 3号楼停水 已恢复。已恢复供水。如仍有问题请直接在群里说。"
    assert g1.mention_ids == ("resident:张阿姨", "resident:李叔")
    assert everyone.text.startswith("@吴阿姨 ✅") and everyone.mention_ids == ("resident:吴阿姨",)
    assert chat.texts("王芳", "恢复 1")[0].startswith("@王芳 #通知1 已于")
    # Ended: the same words open a ticket again.
    assert not _known(chat.say("刘奶奶", "3号楼怎么没水了"))
    with chat.session() as session:
        actions = [e.action for e in session.exec(select(IncidentEvent).order_by(IncidentEvent.id)).all()]
    assert actions == ["open", "join", "join", "join", "end"]


def test_restore_from_private_confirms_to_the_cadre(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 停水")
    chat.say("张阿姨", "怎么停水了")
    replies = chat.private("王芳", "恢复 1")
    assert [r.chat_name for r in replies] == [GROUP_G1, ALL_GROUP, "王芳"]
    assert replies[-1].is_private and "已通知 1 位" in replies[-1].text


def test_link_moves_a_tickets_reporters_to_the_notice_and_closes_it(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼家里停水了，一滴水都没有")
    chat.say("李叔", "3号楼也没水了")
    [ticket] = _tickets(chat)
    chat.say("王芳", "通知 3号楼 停水：水箱清洗")
    replies = chat.say("王芳", "关联 1 通知1")
    assert len(replies) == 1 and replies[0].chat_name == GROUP_G1
    assert "#1 已并入 #通知1 3号楼停水：水箱清洗" in replies[0].text
    assert set(replies[0].mention_ids) >= {"resident:张阿姨", "resident:李叔"}
    [ticket] = _tickets(chat)
    assert ticket.status == Status.MERGED.value
    not_open = texts.NOTICE_LINK_NOT_OPEN.format(ticket=1, status="已并入")
    assert chat.texts("王芳", "关联 1 1") == ["@王芳 " + not_open]
    restored = chat.say("王芳", "恢复 1")
    assert restored[0].text.startswith("@张阿姨 @李叔 ✅")


def test_still_not_back_after_restore_opens_a_ticket(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 停水 至 15:00")
    chat.say("李叔", "怎么停水了")
    chat.say("王芳", "恢复 1")
    replies = chat.say("李叔", "还是没水啊", advance=dt.timedelta(minutes=20))
    assert "收到，已登记 #1" in replies[0].text
    [ticket] = _tickets(chat)
    assert ticket.category == "drainage"


# --- matching, pure -------------------------------------------------------------------------------------------

T0 = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)
BUILDINGS = {"1号楼": "g1", "2号楼": "g1", "3号楼": "g1", "5号楼": "g2"}


@dataclass
class _Incident:
    id: int
    scope_kind: str
    scope_value: str
    category: str = "drainage"
    starts_at: dt.datetime = T0
    expected_end_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None


def _report(location=None, grid=None, groups=("g1",), at=T0 + dt.timedelta(minutes=5), category="drainage"):
    return ReportFacts(frozenset({category}), location, grid, tuple(groups), at)


def test_matching_rules() -> None:
    building = _Incident(1, "building", "3号楼")
    assert matching_incident([building], _report("3号楼2单元", "g1"), BUILDINGS) is building
    assert matching_incident([building], _report("13号楼", None), BUILDINGS) is None
    assert matching_incident([building], _report("2号楼", "g1"), BUILDINGS) is None
    assert matching_incident([building], _report(groups=("g1", "g2")), BUILDINGS) is building
    assert matching_incident([building], _report(groups=("g2",)), BUILDINGS) is None
    assert matching_incident([building], _report("3号楼", "g1", category="power"), BUILDINGS) is None
    grid = _Incident(2, "grid", "g2")
    assert matching_incident([grid], _report("5号楼", "g2"), BUILDINGS) is grid
    assert matching_incident([grid], _report("3号楼", "g1", groups=("g1", "g2")), BUILDINGS) is None
    assert matching_incident([grid], _report(groups=("g1", "g2")), BUILDINGS) is grid
    everywhere = _Incident(3, "all", "")
    assert matching_incident([everywhere], _report(groups=()), BUILDINGS) is everywhere
    assert matching_incident([everywhere, grid, building], _report("3号楼", "g1"), BUILDINGS) is building
    newer = _Incident(4, "building", "3号楼", starts_at=T0 + dt.timedelta(minutes=1))
    assert matching_incident([building, newer], _report("3号楼", "g1"), BUILDINGS) is newer


def test_matching_time() -> None:
    ends = _Incident(1, "all", "", expected_end_at=T0 + dt.timedelta(hours=1))
    assert matching_incident([ends], _report(at=T0 - dt.timedelta(minutes=1)), BUILDINGS) is None
    assert matching_incident([ends], _report(at=T0 + dt.timedelta(minutes=59)), BUILDINGS) is ends
    assert matching_incident([ends], _report(at=T0 + dt.timedelta(hours=1)), BUILDINGS) is None
    ended = _Incident(2, "all", "", ended_at=T0 + dt.timedelta(minutes=2))
    assert matching_incident([ended], _report(), BUILDINGS) is None
