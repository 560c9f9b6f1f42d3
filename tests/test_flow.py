"""The whole loop through the app: residents report, the rota assigns, cadres act, residents rate."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.messages import MessageKind
from storage.models import Ticket
from storage.tickets import active_reporters, all_tickets
from tests.chat import GROUP_G1, GROUP_G2, Chat

NIGHT = dt.timedelta(hours=12)  # Monday 09:00 → 21:00, the Monday night shift (lijun)


def ticket(chat: Chat, number: int) -> Ticket:
    with chat.session() as session:
        found = session.get(Ticket, number)
        assert found is not None
        return found


def test_a_report_becomes_a_ticket_assigned_to_the_grid_on_duty_and_answered_publicly(chat: Chat) -> None:
    [reply] = chat.say("张阿姨", "3号楼2单元下水道堵了，一楼都返水了😭")
    assert reply.text == "@张阿姨 @王芳 收到，已登记 #1【给排水】3号楼2单元，由今日值班 王芳 负责，1小时内回复。"
    assert reply.chat_id == GROUP_G1 and not reply.is_private
    assert reply.mention_ids == ("resident:张阿姨", "wxid_wangfang")
    saved = ticket(chat, 1)
    assert (saved.status, saved.category, saved.grid_id, saved.assignee_id) == (
        "assigned",
        "drainage",
        "g1",
        "wangfang",
    )


def test_the_night_shift_and_the_weekend_shift_take_reports(chat: Chat) -> None:
    [night] = chat.say("张阿姨", "3号楼楼道灯不亮了", advance=NIGHT)
    assert "由社区值班 李军 负责" in night.text
    saturday = dt.timedelta(days=4, hours=14)  # Monday 21:00 → Saturday 11:00
    [weekend] = chat.say("刘姐", "5号楼电梯坏了", group=GROUP_G2, advance=saturday)
    assert "由社区值班 赵敏 负责" in weekend.text


@pytest.mark.parametrize("text", ["早上好🌞", "收到", "谢谢王主任！", "👍👍", "[图片]", "我也是", "好的"])
def test_chatter_opens_nothing_and_gets_no_reply(chat: Chat, text: str) -> None:
    assert chat.say("张阿姨", text) == []
    with chat.session() as session:
        assert all_tickets(session) == []


def test_images_and_voice_without_text_open_nothing(chat: Chat) -> None:
    image = chat.message("张阿姨", "", kind=MessageKind.IMAGE)
    assert chat.deliver(image) == []


def test_an_urgent_report_gets_the_hazards_advice_and_alerts_duty_leader_and_secretary(chat: Chat) -> None:
    replies = chat.say("张阿姨", "2号楼有煤气味，好浓！")
    public = replies[0]
    assert public.chat_id == GROUP_G1
    assert "不要开关电器，开窗通风，到户外打电话" in public.text and "96777" in public.text
    assert "#1" in public.text and "陈洁" in public.text and "赵敏" in public.text
    privately = {o.chat_id for o in replies if o.is_private}
    assert privately == {"wxid_wangfang", "wxid_zhaomin", "wxid_chenjie"}
    assert any(o.chat_name == "幸福里社区工作群" for o in replies)
    opened = ticket(chat, 1)
    assert opened.urgent is True
    assert opened.response_due_at - opened.created_at == dt.timedelta(minutes=10)


def test_the_same_problem_again_joins_the_ticket_as_a_co_reporter(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    [joined] = chat.say("李叔", "3号楼2单元下水道又堵了，臭死了")
    [third] = chat.say("王阿婆", "三号楼2单元下水道堵住了")
    assert joined.text == "@李叔 已有 2 位居民反映，#1【给排水】3号楼2单元 正在处理，负责人 王芳。"
    assert third.text.startswith("@王阿婆 已有 3 位居民反映，#1")
    again, nudge = chat.say("张阿姨", "3号楼2单元下水道还是堵着")
    assert again.text == "@张阿姨 #1【给排水】3号楼2单元已分派，负责人 王芳。"
    assert nudge.is_private and nudge.chat_name == "王芳" and "还是堵着" in nudge.text
    with chat.session() as session:
        assert len(all_tickets(session)) == 1
        assert [r.member_name for r in active_reporters(session, 1)] == ["张阿姨", "李叔", "王阿婆"]


def test_outside_the_merge_window_a_new_ticket_opens(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    [reply] = chat.say("李叔", "3号楼2单元下水道堵了", advance=dt.timedelta(hours=73))
    assert "已登记 #2" in reply.text


def test_a_whole_lifecycle_is_announced_to_the_reporters(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("李叔", "3号楼2单元下水道又堵了")
    assert chat.texts("王芳", "接单 1") == ["@张阿姨 @李叔 #1 已由 王芳 签收，正在处理。"]
    assert chat.texts("王芳", "承诺 1 11月25日") == ["@张阿姨 @李叔 #1 王芳 承诺于 11月25日（周三） 前办结。"]
    assert chat.texts("王芳", "进度 1 已联系疏通公司，下午上门") == [
        "@张阿姨 @李叔 #1 进展（王芳）：已联系疏通公司，下午上门"
    ]
    [resolved] = chat.texts("王芳", "办结 1 已疏通")
    assert resolved.startswith("@张阿姨 @李叔 #1 已办结（王芳）：已疏通\n请回复「评价 1 满意")
    assert chat.texts("张阿姨", "评价 1 满意") == ["@张阿姨 #1 已收到您的评价「满意」，谢谢！此事项已关闭。"]
    saved = ticket(chat, 1)
    assert saved.status == "closed" and saved.rating == "满意" and saved.commitment_date == dt.date(2026, 11, 25)
    assert saved.first_response_at is not None and saved.resolved_at is not None and saved.closed_at is not None


def test_not_fixed_reopens_with_a_new_deadline_and_tells_the_assignee(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("王芳", "办结 1 已疏通")
    [reopened] = chat.say("张阿姨", "没修好 1", advance=dt.timedelta(hours=5))
    assert reopened.text == "@张阿姨 @王芳 @赵敏 #1 居民反映没有解决，已重新办理，负责人 王芳。"
    assert {"wxid_wangfang", "wxid_zhaomin"} <= set(reopened.mention_ids)  # the assignee and the grid leader
    saved = ticket(chat, 1)
    assert saved.status == "reopened" and saved.resolved_at is None
    assert saved.resolution_due_at == chat.clock.now() + dt.timedelta(hours=48)


def test_dissatisfied_reopens(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("王芳", "办结 1 已疏通")
    [reply] = chat.say("张阿姨", "评价 1 2")
    assert "评价为不满意，已重新办理" in reply.text
    assert ticket(chat, 1).status == "reopened"


def test_transfer_return_and_withdraw(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    [moved] = chat.say("王芳", "转派 1 @李军")
    assert moved.text == "@张阿姨 @李军 #1 已由 王芳 转派给 李军 负责。" and "wxid_lijun" in moved.mention_ids
    assert chat.texts("李军", "接单 1") == ["@张阿姨 #1 已由 李军 签收，正在处理。"]
    assert chat.texts("李军", "退回 1 属于自来水公司管网，已报 96116")[0].endswith(
        "已退回（李军）：属于自来水公司管网，已报 96116"
    )
    chat.say("刘姐", "5号楼门口路灯坏了", group=GROUP_G2)
    assert chat.texts("刘姐", "撤销 2", group=GROUP_G2) == ["@刘姐 @李军 #2 已按您的要求撤销。"]
    assert [ticket(chat, n).status for n in (1, 2)] == ["returned", "cancelled"]


def test_a_co_reporter_who_withdraws_leaves_the_ticket_open(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("李叔", "3号楼2单元下水道又堵了")
    assert "已撤回您对 #1 的反映" in chat.texts("李叔", "撤销 1")[0]
    assert ticket(chat, 1).status == "assigned"


def test_cadre_commands_work_in_private_and_announce_in_the_group(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    replies = chat.private("王芳", "接单 1")
    assert [(o.chat_id, o.is_private) for o in replies] == [(GROUP_G1, False), ("wxid_wangfang", True)]
    [queue] = chat.private("王芳", "我的")
    assert queue.text.startswith("王芳，您有 1 件未办结：\n#1【给排水】3号楼2单元已签收")


def test_a_private_report_is_answered_in_private(chat: Chat) -> None:
    [reply] = chat.private("张阿姨", "我家楼上装修太吵了，晚上十点还在砸墙，我住5号楼")
    assert reply.is_private and reply.chat_id == "resident:张阿姨" and "已登记 #1" in reply.text
    told, confirmed = chat.say("李军", "接单 1", group=GROUP_G2)
    assert told.is_private and told.chat_id == "resident:张阿姨" and told.text == "#1 已由 李军 签收，正在处理。"
    assert confirmed.chat_id == GROUP_G2 and confirmed.text == "@李军 #1 已由 李军 签收，正在处理。"


def test_duty_and_swap(chat: Chat) -> None:
    [duty] = chat.say("王芳", "值班")
    assert duty.text == "现在值班（11月23日 09:00）：\n第一网格：王芳（网格值班）"
    [swapped] = chat.say("王芳", "换班 11月24日 @李军")
    assert swapped.text == "已换班：11月24日（周二） 王芳 的班由 李军 接替。"
    [report] = chat.say("张阿姨", "3号楼楼道灯不亮了", advance=dt.timedelta(days=1))
    assert "由今日值班 李军 负责" in report.text
    assert chat.texts("王芳", "换班 11月29日 @李军") == ["@王芳 您在 11月29日（周日） 没有值班，无需换班。"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("接单", "@王芳 缺少事项编号。指令格式：接单 编号"),
        ("进度 1", "@王芳 缺少说明。指令格式：进度 编号 说明"),
        ("转派 1", "@王芳 请 @ 要交接的人。指令格式：转派 编号 @某人"),
        ("接单 99", "@王芳 没有找到 #99，请核对编号。"),
        ("承诺 1 下辈子", "@王芳 没看懂日期「下辈子」"),
        ("承诺 1 11月1日", "@王芳 11月1日（周日） 已经过去，请给一个今天或以后的日期。"),
        ("转派 1 @张三", "@王芳 没有找到社区干部「张三」"),
        ("评价 1 还行吧", "@王芳 评价请用 满意 / 基本满意 / 不满意，或 1-5 分。"),
    ],
)
def test_a_bad_command_gets_its_syntax_or_a_clear_answer(chat: Chat, text: str, expected: str) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    [reply] = chat.say("王芳", text)
    assert reply.text.startswith(expected)
    assert ticket(chat, 1).status == "assigned"


def test_full_width_and_extra_spaces_are_understood(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    assert chat.texts("王芳", "接单　＃１ ") == ["@张阿姨 #1 已由 王芳 签收，正在处理。"]


def test_illegal_transitions_are_refused_with_the_state(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("王芳", "办结 1 已疏通")
    assert chat.texts("王芳", "接单 1") == ["@王芳 #1 当前状态是「已办结」，不能签收。"]
    assert chat.texts("张阿姨", "撤销 1") == ["@张阿姨 #1 当前状态是「已办结」，不能撤销。"]
    chat.say("张阿姨", "评价 1 满意")
    assert chat.texts("张阿姨", "评价 1 满意") == ["@张阿姨 #1 已收到评价并关闭，谢谢您的反馈！"]
    assert chat.texts("张阿姨", "没修好 1")[0].startswith("@张阿姨 @王芳 @赵敏 #1 居民反映没有解决，已重新办理")


def test_authorisation_is_refused_politely(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    assert chat.texts("李叔", "接单 1")[0].startswith("@李叔 抱歉，「接单」是社区干部办理事项用的指令。")
    refused = "@李军 抱歉，#1 由 王芳 负责，只有负责人、当班人员、网格长或书记可以办结。"  # 李军 is on duty for g2
    assert chat.texts("李军", "办结 1 好了")[0] == refused
    assert chat.texts("李叔", "评价 1 满意")[0] == "@李叔 抱歉，只有 #1 的反映人可以评价。"
    assert chat.texts("李叔", "没修好 1")[0] == "@李叔 抱歉，只有 #1 的反映人可以重新办理。"
    assert chat.texts("李叔", "撤销 1")[0] == "@李叔 抱歉，只有 #1 的反映人可以撤销。"
    assert chat.texts("赵敏", "接单 1") == ["@张阿姨 #1 已由 赵敏 签收，正在处理。"]  # the grid leader may
    assert ticket(chat, 1).status == "accepted"


def test_queries_mask_nothing_private_and_show_progress(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("王芳", "进度 1 已联系疏通公司")
    [public] = chat.say("李叔", "查询 1")
    assert (
        public.text
        == "@李叔 #1【给排水】3号楼2单元办理中，负责人 王芳，登记于 11月23日 09:00。最新进展：已联系疏通公司"
    )
    assert "张阿姨" not in public.text.removeprefix("@李叔")
    [detail] = chat.private("王芳", "查 1")
    assert "反映人：张阿姨" in detail.text and "响应时限：11月23日 10:00" in detail.text
    [mine] = chat.say("张阿姨", "我的反映")
    assert mine.text.startswith("@张阿姨 您最近反映的事项：\n#1【给排水】")


def test_help_differs_for_cadres_and_residents(chat: Chat) -> None:
    [resident] = chat.say("张阿姨", "帮助")
    [cadre] = chat.say("王芳", "帮助")
    assert "接单" not in resident.text and "评价 编号" in resident.text
    assert "接单 编号" in cadre.text and "换班 日期 @某人" in cadre.text


def test_cadres_chatting_in_the_group_open_nothing(chat: Chat) -> None:
    assert chat.say("王芳", "大家好，3号楼明天上午停水检修") == []


@pytest.mark.parametrize(
    "text",
    ["", " ", "\x00\x01", "#" * 5000, "接单 99999999999999999999999", "评价", "查询 -1", "😀" * 300, "@", "[图片]x"],
)
def test_nothing_a_resident_types_crashes_the_bot(chat: Chat, text: str) -> None:
    replies = chat.say("张阿姨", text)
    assert all("出了问题" not in o.text for o in replies)


def test_a_category_that_pauses_outside_shifts_promises_a_time_within_working_hours(chat: Chat) -> None:
    friday_evening = dt.timedelta(days=4, hours=9)  # Monday 09:00 → Friday 18:00
    [reply] = chat.say("张阿姨", "我家老人的低保年审材料交了一个月了还没消息，3号楼的", advance=friday_evening)
    assert reply.text.endswith("工作时间内，11月30日 10:30前回复。")  # g1 works Mon–Fri 08:30–17:30; 2 h SLA
    assert ticket(chat, 1).response_due_at == dt.datetime(2026, 11, 30, 2, 30, tzinfo=dt.UTC)


def test_a_swap_into_the_past_is_refused(chat: Chat) -> None:
    assert chat.texts("王芳", "换班 11月20日 @李军") == ["@王芳 11月20日（周五） 已经过去，请给一个今天或以后的日期。"]


def test_show_in_a_residents_group_posts_only_what_the_wall_shows_and_the_details_go_privately(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了，张阿姨家电话13812345678")
    chat.say("王芳", "进度 1 已联系张阿姨，师傅电话13987654321")
    public, private = chat.say("王芳", "查 1")
    assert (public.chat_id, public.is_private, private.chat_id, private.is_private) == (
        GROUP_G1, False, "wxid_wangfang", True
    )
    assert public.text == (
        "@王芳 #1【给排水】办理中\n地点：3号楼2单元\n内容：3号楼2单元下水道堵了，张**家电话138****5678\n"
        "反映人：张**\n负责人：王芳\n登记：11月23日 09:00\n办结时限：11月25日 09:00\n"
        "最新进展：已联系张**，师傅电话139****4321\n完整信息已私信发给您。"
    )
    assert "反映人：张阿姨" in private.text and "13812345678" in private.text


def test_show_of_a_privately_reported_ticket_in_a_group_shows_no_text_at_all(chat: Chat) -> None:
    chat.private("张阿姨", "我家楼上装修太吵了，晚上十点还在砸墙，我住5号楼")
    public, private = chat.say("李军", "查 1", group=GROUP_G2)
    assert public.text == (
        "@李军 #1【噪音与邻里纠纷】已分派\n地点：5号楼\n（私聊反映的事项，群里不显示内容。）\n完整信息已私信发给您。"
    )
    assert private.is_private and "内容：我家楼上装修太吵了" in private.text and "反映人：张阿姨" in private.text


def test_show_in_private_and_in_the_cadres_group_keeps_the_full_details(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    [private] = chat.private("王芳", "查 1")
    [cadres] = chat.say("王芳", "查 1", group="幸福里社区工作群")
    for reply in (private, cadres):
        assert "内容：3号楼2单元下水道堵了" in reply.text and "反映人：张阿姨" in reply.text
