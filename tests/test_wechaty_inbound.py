"""What the WeChat path adds before and around handling: duplicate deliveries, attachments, conversions."""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import replace

import pytest

from bot.wechaty_transport.supervisor import backoff_seconds, outage_worth_reporting
from ledger.dedup import Earlier, duplicate_of
from ledger.messages import MessageKind
from storage.db import new_session
from storage.tickets import all_tickets
from tests.chat import GROUP_G1, Chat
from tests.conftest import MONDAY_9AM

WINDOW = dt.timedelta(seconds=30)


def test_the_same_text_from_the_same_sender_within_the_window_is_a_duplicate(chat: Chat) -> None:
    incoming = chat.message("张阿姨", "3号楼 下水道堵了")
    earlier = [Earlier("m1", "3号楼下水道堵了", MONDAY_9AM), Earlier("m2", "3号楼  下水道堵了 ", MONDAY_9AM)]
    now = MONDAY_9AM + dt.timedelta(seconds=5)
    assert duplicate_of(incoming, earlier[1:], now=now, window=WINDOW) == "m2"  # whitespace does not count
    assert duplicate_of(incoming, earlier[:1], now=now, window=WINDOW) is None  # different text
    assert duplicate_of(incoming, earlier, now=now + WINDOW, window=WINDOW) is None  # too late
    assert duplicate_of(incoming, [Earlier(incoming.message_id, incoming.text, now)], now=now, window=WINDOW) is None
    image = replace(incoming, kind=MessageKind.IMAGE, text="")
    assert duplicate_of(image, [Earlier("m3", "", now)], now=now, window=WINDOW) is None
    assert duplicate_of(incoming, earlier[1:], now=now, window=dt.timedelta(0)) is None


def test_the_app_drops_a_redelivery_under_a_new_id_only_when_the_window_is_on(chat: Chat) -> None:
    chat.app.duplicate_window = WINDOW
    assert chat.say("张阿姨", "3号楼2单元下水道堵了")
    assert chat.say("张阿姨", "3号楼2单元下水道堵了", advance=dt.timedelta(seconds=3)) == []
    assert chat.say("张阿姨", "3号楼2单元下水道堵了", advance=dt.timedelta(seconds=40))  # a real repeat
    chat.app.duplicate_window = dt.timedelta(0)
    assert chat.say("张阿姨", "3号楼2单元下水道堵了", advance=dt.timedelta(seconds=1))
    with chat.session() as session:
        assert len(all_tickets(session)) == 1


def test_a_photo_after_a_report_is_attached_and_the_assignee_is_mentioned(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    [attached] = chat.deliver(chat.message("张阿姨", "", kind=MessageKind.IMAGE))
    assert attached.text == "@张阿姨 @王芳 收到您发的图片，已附在 #1【给排水】3号楼2单元下，负责人 王芳 会一并查看。"
    assert attached.mention_ids == ("resident:张阿姨", "wxid_wangfang") and attached.ticket_id == 1


def test_attachments_without_an_open_report(chat: Chat) -> None:
    assert chat.deliver(chat.message("李叔", "", kind=MessageKind.IMAGE)) == []  # a photo in a group is chatter
    [asked] = chat.deliver(chat.message("李叔", "", group="私聊", kind=MessageKind.FILE))
    assert asked.is_private and asked.text.startswith("请用文字描述问题") and "文件" in asked.text
    assert chat.deliver(chat.message("王芳", "", kind=MessageKind.IMAGE)) == []  # cadres are not asked
    assert chat.deliver(chat.message("李叔", "", group="私聊", kind=MessageKind.OTHER)) == []  # stickers: nothing


def test_an_old_or_closed_report_takes_no_attachment(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.clock.advance(dt.timedelta(hours=73))
    assert chat.deliver(chat.message("张阿姨", "", kind=MessageKind.LINK, group=GROUP_G1)) == []
    with new_session(chat.app.engine) as session:
        assert len(all_tickets(session)) == 1


def test_reconnect_backoff_doubles_up_to_the_maximum() -> None:
    assert [backoff_seconds(n, 1.0, 60.0) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff_seconds(10_000, 1.0, 60.0) == 60


def test_only_an_outage_longer_than_configured_is_reported() -> None:
    assert outage_worth_reporting(MONDAY_9AM, MONDAY_9AM + dt.timedelta(minutes=6), 5)
    assert not outage_worth_reporting(MONDAY_9AM, MONDAY_9AM + dt.timedelta(minutes=5), 5)
    assert not outage_worth_reporting(None, MONDAY_9AM, 5)


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="python-wechaty 0.10 needs Python < 3.13")
def test_wechaty_message_types_map_to_kinds_and_timestamps_to_aware_times() -> None:
    from bot.wechaty_transport.compat import load_wechaty

    load_wechaty()
    from wechaty_puppet import MessageType

    from bot.wechaty_transport.transport import kind_of, sent_at

    assert kind_of(MessageType.MESSAGE_TYPE_TEXT) is MessageKind.TEXT
    assert kind_of(MessageType.MESSAGE_TYPE_IMAGE) is MessageKind.IMAGE
    assert kind_of(MessageType.MESSAGE_TYPE_AUDIO) is MessageKind.VOICE
    assert kind_of(MessageType.MESSAGE_TYPE_ATTACHMENT) is MessageKind.FILE
    assert kind_of(MessageType.MESSAGE_TYPE_URL) is MessageKind.LINK
    assert kind_of(MessageType.MESSAGE_TYPE_MINI_PROGRAM) is MessageKind.MINI_PROGRAM
    assert kind_of(MessageType.MESSAGE_TYPE_EMOTICON) is MessageKind.OTHER
    assert sent_at(1_795_400_000) == sent_at(1_795_400_000_000) == dt.datetime(2026, 11, 23, 2, 13, 20, tzinfo=dt.UTC)
