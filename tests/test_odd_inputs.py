"""Inputs that used to reach an apology, a traceback or a job that fails every minute, through the whole app."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from settings.limits import CHAT_ID_LENGTH, DISPLAY_NAME_LENGTH
from storage.models import InboundMessage, Member, OutboxMessage, Ticket, TicketEvent, TicketReporter
from tests.chat import GROUP_G1, Chat

APOLOGY = "出了问题"


def test_a_commitment_more_than_a_year_ahead_is_refused_and_a_year_is_fine(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    assert chat.texts("王芳", "承诺 1 9999-12-31") == [
        "@王芳 9999年12月31日（周五） 太远了，承诺办结的日期请定在一年之内（最晚 2027年11月23日（周二））。"
    ]
    assert chat.texts("王芳", "承诺 1 2027-11-24")[0].startswith("@王芳 2027年11月24日（周三） 太远了")
    with chat.session() as session:
        assert session.get(Ticket, 1).commitment_date is None
    assert chat.texts("王芳", "承诺 1 2027-11-23") == ["@张阿姨 #1 王芳 承诺于 2027年11月23日（周二） 前办结。"]


def test_a_swap_beyond_sixty_days_is_refused_politely(chat: Chat) -> None:
    assert chat.texts("王芳", "换班 9999-12-31 @李军") == [
        "@王芳 9999年12月31日（周五） 太远了，换班只能换 60 天之内的班（最晚 2027年1月22日（周五））；"
        "更长的安排请联系书记调整排班表。"
    ]
    # 60 days ahead is Friday 22 January: 王芳 works g1's weekday shift, so it can be swapped.
    assert chat.texts("王芳", "换班 2027-01-22 @李军") == ["已换班：2027年1月22日（周五） 王芳 的班由 李军 接替。"]


def test_a_display_name_longer_than_any_column_is_clipped_and_the_person_is_answered(chat: Chat) -> None:
    long_name = "张" + "阿" * 299
    [opened] = chat.say(long_name, "3号楼2单元下水道堵了")
    assert "已登记 #1" in opened.text and APOLOGY not in opened.text
    assert chat.texts(long_name, "撤销 1")[0].endswith("#1 已按您的要求撤销。")
    [private] = chat.private(long_name, "我家楼上装修太吵了，晚上十点还在砸墙，我住5号楼")
    assert "已登记 #2" in private.text
    with chat.session() as session:
        assert [len(m.name) for m in session.exec(select(Member))] == [DISPLAY_NAME_LENGTH]
        assert all(len(m.id) <= CHAT_ID_LENGTH for m in session.exec(select(Member)))
        assert {len(r.member_name) for r in session.exec(select(TicketReporter))} == {DISPLAY_NAME_LENGTH}
        assert max(len(e.actor_name) for e in session.exec(select(TicketEvent))) == DISPLAY_NAME_LENGTH
        assert len(session.get(Ticket, 2).chat_name) == CHAT_ID_LENGTH
        assert max(len(o.chat_name) for o in session.exec(select(OutboxMessage))) == CHAT_ID_LENGTH
        assert max(len(m.sender_id) for m in session.exec(select(InboundMessage))) == CHAT_ID_LENGTH


def test_a_ticket_number_of_thousands_of_digits_gets_the_syntax_not_an_apology(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    digits = "9" * 5000
    assert chat.texts("王芳", f"接单 {digits}") == ["@王芳 事项编号应是数字，如 12。指令格式：接单 编号（例：接单 12）"]
    assert chat.texts("张阿姨", f"查询 {digits}")[0].startswith("@张阿姨 事项编号应是数字，如 12。")
    assert chat.texts("王芳", "接单 " + "0" * 5000 + "1") == ["@张阿姨 #1 已由 王芳 签收，正在处理。"]


def test_lone_surrogates_in_text_or_name_are_stored_and_answered(chat: Chat) -> None:
    [opened] = chat.say("张阿姨\ud800", "3号楼2单元下水道堵了\udcff")
    assert "已登记 #1" in opened.text
    assert chat.texts("李叔", "\ud83d\ude00\ud800") == []  # a joined pair and a lone one: chatter, no apology
    with chat.session() as session:
        assert session.get(Ticket, 1).description == "3号楼2单元下水道堵了\ufffd"
        assert [m.name for m in session.exec(select(Member).order_by(Member.first_seen_at))] == ["张阿姨\ufffd", "李叔"]
        assert session.exec(select(InboundMessage.text).where(InboundMessage.sender_id == "resident:李叔")).one() == (
            "😀\ufffd"
        )


def test_a_message_the_ledger_cannot_record_is_apologised_for_not_raised(chat: Chat, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise RuntimeError("the ledger refused the row")

    monkeypatch.setattr("bot.app.record_inbound_all", refuse)  # the message's ids
    monkeypatch.setattr("bot.app.record_inbound", refuse)  # the apology's
    assert chat.say("张阿姨", "3号楼2单元下水道堵了") == []  # logged; the apology could not be recorded either
    monkeypatch.undo()
    redelivered = chat.message("张阿姨", "3号楼2单元下水道堵了")
    assert "已登记 #1" in chat.deliver(redelivered)[0].text
    assert chat.deliver(redelivered) == []  # and a redelivery of that one changes nothing


def test_an_apology_keeps_the_message_id_so_a_redelivery_does_not_fail_again(chat: Chat, monkeypatch) -> None:
    monkeypatch.setattr("bot.app.remember_members", lambda *args, **kwargs: 1 / 0)
    message = chat.message("张阿姨", "3号楼2单元下水道堵了", group=GROUP_G1)
    chat.clock.advance(dt.timedelta(seconds=1))
    [apology] = chat.deliver(message)
    assert APOLOGY in apology.text
    monkeypatch.undo()
    assert chat.deliver(message) == []
