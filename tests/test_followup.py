"""Follow-ups in residents' own words, reopening by words, thanks, merging only the same problem, and 合并."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.lifecycle import Status
from nlp.followup import Turn, read_follow_up
from storage.db import new_session
from storage.models import Ticket
from storage.tickets import Actor, active_reporters, all_tickets, open_ticket, ticket_events
from tests.chat import GROUP_G2, Chat

DRAIN = "3号楼2单元下水道堵了，一楼返水"


def ticket(chat: Chat, number: int) -> Ticket:
    with chat.session() as session:
        found = session.get(Ticket, number)
        assert found is not None
        return found


def count(chat: Chat) -> int:
    with chat.session() as session:
        return len(all_tickets(session))


def reporters(chat: Chat, number: int) -> list[str]:
    with chat.session() as session:
        return [r.member_name for r in active_reporters(session, number)]


@pytest.mark.parametrize(
    ("text", "turn"),
    [
        ("我反映的问题修好了吗", Turn.PROGRESS),
        ("我前面说的那个下水道的事情怎么样了", Turn.PROGRESS),
        ("三号楼那个下水道到底有没有人来弄啊", Turn.PROGRESS),
        ("咋个还莫得人来修哦", Turn.PROGRESS),
        ("路灯啥辰光来修", Turn.PROGRESS),
        ("有进展没有", Turn.PROGRESS),
        ("通个屁 我家一楼又冒上来了 还是堵的", Turn.NOT_FIXED),
        ("煤气那个味道还有啊", Turn.NOT_FIXED),
        ("根本没修好嘛", Turn.NOT_FIXED),
        ("白修了，一点没变", Turn.NOT_FIXED),
        ("修好了，谢谢王主任👍", Turn.THANKS),
        ("辛苦啦🙏", Turn.THANKS),
        ("今天天气怎么样", None),
        ("团购的菜到了吗", None),
        ("搞不懂这个", None),
        ("3号楼2单元下水道堵了", None),
        ("谢谢，不过还是有点味道", Turn.NOT_FIXED),  # not a clear thanks
        ("谢谢，什么时候来修啊？", Turn.PROGRESS),
    ],
)
def test_the_turn_is_read_from_how_residents_speak(text: str, turn: Turn | None) -> None:
    found = read_follow_up(text)
    assert (found.turn if found else None) is turn


def test_a_number_is_read_only_as_a_ticket_reference() -> None:
    assert read_follow_up("#12修好了吗").number == 12
    assert read_follow_up("3号楼的修好了吗").number is None
    assert read_follow_up("我第2次问了，修好了吗").number is None


def test_the_reporter_asking_in_plain_words_gets_the_status_of_their_ticket_and_nothing_opens(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    chat.say("王芳", "进度 1 已联系疏通公司，下午上门")
    for question in ("我反映的问题修好了吗", "我前面说的那个下水道的事情怎么样了", "到底有没有人来弄啊"):
        [reply] = chat.say("张阿姨", question)
        assert reply.text.startswith("@张阿姨 #1【给排水】3号楼2单元办理中，负责人 王芳。")
        assert "已联系疏通公司" in reply.text
    assert count(chat) == 1


def test_a_ticket_named_by_number_is_answered_whoever_asks(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    chat.say("刘姐", "5号楼门口路灯坏了", group=GROUP_G2)
    [reply] = chat.say("李叔", "#2修好了吗")
    assert reply.text.startswith("@李叔 #2【供电照明】5号楼")
    [unknown] = chat.say("李叔", "#9怎么样了")
    assert "没有找到 #9" in unknown.text
    assert count(chat) == 2


def test_several_fitting_tickets_are_listed_to_choose_from(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    chat.say("张阿姨", "2号楼门口垃圾好几天没人清运了")
    [reply] = chat.say("张阿姨", "我反映的问题都怎么样了")
    assert "您反映过 2 件" in reply.text and "#1" in reply.text and "#2" in reply.text
    [one] = chat.say("张阿姨", "垃圾的事有人管吗")
    assert one.text.startswith("@张阿姨 #2【环境卫生】")
    assert count(chat) == 2


def test_a_neighbour_naming_an_open_problem_joins_it_and_gets_its_status(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    [reply] = chat.say("孙大爷", "三号楼那个下水道到底有没有人来弄啊")
    assert "已有 2 位居民反映，#1" in reply.text
    assert reporters(chat, 1) == ["张阿姨", "孙大爷"]
    assert count(chat) == 1


def test_a_neighbour_finds_the_problem_of_their_grid_behind_many_newer_ones_of_another(chat: Chat) -> None:
    """Only the tickets of the message's grid are read: 201 newer open tickets elsewhere hide nothing."""
    chat.say("张阿姨", DRAIN)
    with new_session(chat.app.engine, chat.app.community_id) as session:
        for n in range(201):
            fields = {
                "category": "sanitation", "description": f"5号楼垃圾桶满了{n}", "location": "5号楼", "grid_id": "g2",
                "chat_id": GROUP_G2, "chat_name": GROUP_G2,
            }  # fmt: skip
            open_ticket(session, now=chat.clock.now(), reporter=Actor(f"r{n}", "居民"), fields=fields)
        session.commit()
    [reply] = chat.say("孙大爷", "三号楼那个下水道到底有没有人来弄啊")
    assert "已有 2 位居民反映，#1" in reply.text
    assert reporters(chat, 1) == ["张阿姨", "孙大爷"]


def test_words_that_fit_no_ticket_get_a_line_on_how_to_report(chat: Chat) -> None:
    [reply] = chat.say("孙大爷", "我上次反映的那个事情怎么样了")
    assert "没找到您说的事项" in reply.text
    assert chat.say("孙大爷", "今天天气怎么样了") == []
    assert count(chat) == 0


def test_still_broken_after_resolution_reopens_the_reporters_ticket(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    chat.say("王芳", "办结 1 已疏通")
    replies = chat.say("张阿姨", "通个屁 我家一楼又冒上来了 还是堵的")
    assert "#1 居民反映没有解决，已重新办理" in replies[0].text
    reopened = ticket(chat, 1)
    assert reopened.status == Status.REOPENED
    with chat.session() as session:
        assert ticket_events(session, 1)[-1].note == "通个屁 我家一楼又冒上来了 还是堵的"
    assert count(chat) == 1


def test_still_broken_from_a_non_reporter_is_refused_with_how_to_report(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    chat.say("王芳", "办结 1 已疏通")
    [reply] = chat.say("孙大爷", "三号楼下水道还是堵的")
    assert "#1 已于" in reply.text and "另行登记" in reply.text
    assert ticket(chat, 1).status == Status.RESOLVED
    assert count(chat) == 1


def test_still_broken_after_the_follow_up_window_is_a_new_report(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    chat.say("王芳", "办结 1 已疏通")
    chat.clock.advance(dt.timedelta(days=8))
    chat.say("张阿姨", "3号楼2单元下水道又堵了，还是返水")
    assert ticket(chat, 1).status != Status.REOPENED
    assert count(chat) == 2


def test_an_urgent_ticket_reopened_by_words_alerts_again_at_once(chat: Chat) -> None:
    chat.say("张阿姨", "2号楼有煤气味，好浓！")
    chat.say("王芳", "办结 1 燃气公司已关阀检修")
    replies = chat.say("张阿姨", "煤气那个味道还有啊")
    assert ticket(chat, 1).status == Status.REOPENED and ticket(chat, 1).urgent
    alerted = {o.chat_id for o in replies if o.is_private}
    assert {"wxid_wangfang", "wxid_zhaomin", "wxid_chenjie"} <= alerted


def test_a_clear_thanks_after_resolution_answers_the_follow_up(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    chat.say("王芳", "办结 1 已疏通")
    [reply] = chat.say("张阿姨", "修好了，谢谢王主任👍")
    assert "记为「满意」" in reply.text
    closed = ticket(chat, 1)
    assert (closed.status, closed.rating) == (Status.CLOSED, "满意")


def test_thanks_is_not_taken_as_a_rating_before_resolution_or_from_a_neighbour(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    assert chat.say("张阿姨", "谢谢王主任👍") == []
    chat.say("王芳", "办结 1 已疏通")
    assert chat.say("孙大爷", "谢谢王主任👍") == []
    assert ticket(chat, 1).rating is None


def test_a_differently_worded_report_of_the_same_problem_joins_with_its_words_kept(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    [joined] = chat.say("李叔", "3栋2单元地漏往上冒污水，臭死了")
    assert "已有 2 位居民反映，#1" in joined.text
    [detail] = chat.private("王芳", "查 1")
    assert "李叔：3栋2单元地漏往上冒污水，臭死了" in detail.text


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2号楼消防通道被私家车堵死了", "2号楼楼道里有人飞线给电瓶车充电"),
        ("1号楼有很重的煤气味", "1号楼车棚拉了根电线给电瓶车充电"),
        ("1号楼电梯坏了一直不动", "1号楼家里没有暖气了，冻死了"),
    ],
)
def test_different_problems_of_one_building_stay_apart(chat: Chat, first: str, second: str) -> None:
    chat.say("张阿姨", first)
    chat.say("李叔", second)
    assert count(chat) == 2


COMMUNITY_GROUP = "幸福里社区居民群"  # covers both grids: a report without a place there could be any building


def test_merge_moves_the_reporters_and_tells_them_where_their_report_lives(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    chat.say("李叔", "下水道又堵了，臭死了", group=COMMUNITY_GROUP)  # no place: the bot cannot tell it is #1
    assert count(chat) == 2
    replies = chat.say("王芳", "合并 2 1", group=COMMUNITY_GROUP)
    assert replies[0].text == "@李叔 您反映的问题已并入 #1，由 王芳 负责，进展会在这里告诉您。"
    assert ticket(chat, 2).status == Status.MERGED
    assert reporters(chat, 1) == ["张阿姨", "李叔"]
    with chat.session() as session:
        notes = [e.note for e in ticket_events(session, 1) if e.action == "join"]
    assert notes == ["由 #2 并入：下水道又堵了，臭死了"]
    assert all("误报" not in o.text for o in replies)
    [elsewhere] = chat.say("张阿姨", "#2怎么样了")
    assert "已并入" in elsewhere.text


def test_merge_is_refused_politely(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    chat.say("李叔", "下水道又堵了，臭死了", group=COMMUNITY_GROUP)
    chat.say("刘姐", "5号楼门口路灯坏了", group=GROUP_G2)
    assert "居民可以发送「帮助」" in chat.say("张阿姨", "合并 2 1")[0].text
    assert "指令格式：合并" in chat.say("王芳", "合并 2")[0].text
    assert "没有找到 #9" in chat.say("王芳", "合并 9 1")[0].text
    assert "没有找到 #9" in chat.say("王芳", "合并 2 #9")[0].text
    assert "不能并入自己" in chat.say("王芳", "合并 2 2")[0].text
    assert "只有负责人" in chat.say("李军", "合并 2 1", group=GROUP_G2)[0].text  # neither is 李军's
    chat.say("王芳", "办结 1 已疏通")
    assert "只有未办结的事项可以合并" in chat.say("王芳", "合并 2 1")[0].text
    assert ticket(chat, 2).status == Status.ASSIGNED


def test_a_cadres_cancel_without_a_reason_calls_nobody_a_false_report(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    [reply] = chat.say("王芳", "撤销 1")
    assert "误报" not in reply.text and "#1 已撤销（王芳）" in reply.text


def test_asking_about_my_report_of_a_known_incident_gets_the_notice(chat: Chat) -> None:
    chat.say("王芳", "通知 3号楼 二次供水水箱清洗，期间停水 至 15:00")
    chat.say("张阿姨", "3号楼怎么停水了")
    [reply] = chat.say("张阿姨", "我反映的问题怎么样了")
    assert "#通知1" in reply.text
    assert count(chat) == 0
