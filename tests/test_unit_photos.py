"""The photos attached to a ticket follow its dispatch order to the partner unit, as forwards of the originals.

Chat tests run on SQLite and PostgreSQL (conftest's `engine`), with the sample config: 幸福里物业 (short 物业, group
幸福里物业维修群, member 张师傅) and, in some tests, WATER (no group: its member 钱工 is written to privately).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from handlers import texts
from handlers.units import MAX_FORWARDED_PHOTOS, forwards, photos_line
from ledger.clock import ManualClock
from ledger.messages import MessageKind, Outgoing
from settings.models import Settings
from storage.messages import attachments
from storage.models import OutboxMessage
from tests.chat import GROUP_G1, GROUP_G2, Chat
from tests.test_units import LEAK, UNIT_GROUP, _chat_with_water, auto_dispatching_chat

WORK_GROUP = "幸福里社区工作群"
PHOTOS = [MessageKind.IMAGE.value]


def _photo(chat: Chat, name: str, *, group: str = GROUP_G1, kind: MessageKind = MessageKind.IMAGE) -> tuple:
    """`name` sends a photo (or another attachment) in `group`: its message id and the replies."""
    chat.clock.advance(dt.timedelta(seconds=5))
    incoming = chat.message(name, "[图片]", group=group, kind=kind)
    return incoming.message_id, chat.deliver(incoming)


def _forwarded(replies: list[Outgoing]) -> list[str]:
    return [o.forward_message_id for o in replies if o.forward_message_id is not None]


def test_the_residents_photos_follow_the_order_to_the_units_group(chat: Chat) -> None:
    chat.say("张阿姨", LEAK)
    first, [attached] = _photo(chat, "张阿姨")
    assert "收到您发的图片，已附在 #1" in attached.text
    second, _ = _photo(chat, "张阿姨")
    public, order, *photos = chat.say("王芳", "派单 1 物业")
    assert public.chat_name == GROUP_G1 and order.chat_name == UNIT_GROUP
    masked = "居民反映：「3号楼2单元楼道的水管漏水了，地上全是水，我电话138****5678」\n"
    assert masked + "附现场图片 2 张，随后转发。\n请于" in order.text
    assert [p.forward_message_id for p in photos] == [first, second]
    for index, photo in enumerate(photos, 1):
        assert (photo.chat_id, photo.chat_name, photo.is_private, photo.mention_ids, photo.ticket_id) == (
            order.chat_id, UNIT_GROUP, False, (), 1,
        )  # fmt: skip
        assert photo.text == f"#1 的第 {index} 张现场图片已无法转发（原图已过期），如需查看请向 王芳 索取。"


def test_without_photos_the_order_goes_alone_and_says_nothing_of_photos(chat: Chat) -> None:
    chat.say("张阿姨", LEAK)
    _photo(chat, "张阿姨", kind=MessageKind.VOICE)  # attached, but only photos and videos are forwarded
    _public, order = chat.say("王芳", "派单 1 物业")
    assert "图片" not in order.text and order.forward_message_id is None
    assert "居民反映：「3号楼2单元楼道的水管漏水了，地上全是水，我电话138****5678」\n请于" in order.text


def test_at_most_nine_photos_follow_and_the_order_says_how_many_there_are(chat: Chat) -> None:
    chat.say("张阿姨", LEAK)
    sent = [_photo(chat, "张阿姨")[0] for _ in range(MAX_FORWARDED_PHOTOS + 2)]
    _public, order, *photos = chat.say("王芳", "派单 1 物业")
    assert "附现场图片 11 张，随后转发前 9 张，其余可向 王芳 索取。\n" in order.text
    assert _forwarded(photos) == sent[:MAX_FORWARDED_PHOTOS]
    assert len(photos) == MAX_FORWARDED_PHOTOS


def test_only_the_dispatched_tickets_photos_follow_it(chat: Chat) -> None:
    chat.say("张阿姨", LEAK)
    chat.say("李叔", "5号楼门口路灯坏了好几天了", group=GROUP_G2)
    mine, _ = _photo(chat, "张阿姨")
    theirs, _ = _photo(chat, "李叔", group=GROUP_G2)
    _photo(chat, "王大爷")  # no report of his: attached to nothing
    with chat.session() as session:
        assert attachments(session, 2, PHOTOS) == [theirs]
    _public, order, *photos = chat.say("王芳", "派单 1 物业")
    assert _forwarded(photos) == [mine] and "附现场图片 1 张" in order.text


def test_a_patrol_findings_photo_follows_its_dispatch(chat: Chat) -> None:
    photo, replies = _photo(chat, "王芳", group=WORK_GROUP)
    assert replies == []  # waits for the 上报
    [opened] = chat.say("王芳", "上报 1号楼 东门口井盖松动，踩上去会晃", group=WORK_GROUP)
    assert "已附图片" in opened.text
    number = int(opened.text.split("#")[1].split("【")[0])
    later, [attached] = _photo(chat, "王芳", group=WORK_GROUP)
    assert f"巡查 #{number}" in attached.text
    _public, order, *photos = chat.say("王芳", f"派单 {number} 物业", group=WORK_GROUP)
    assert order.chat_name == UNIT_GROUP and _forwarded(photos) == [photo, later]


def test_a_merged_duplicates_photos_follow_the_ticket_it_joined(chat: Chat) -> None:
    chat.say("张阿姨", LEAK)
    chat.say("李叔", "2号楼一楼楼道灯坏了", group=GROUP_G1)
    theirs, _ = _photo(chat, "李叔")
    with chat.session() as session:
        assert attachments(session, 2, PHOTOS) == [theirs]
    [merged] = chat.say("王芳", "合并 2 1")
    assert "#1" in merged.text
    with chat.session() as session:
        assert (attachments(session, 1, PHOTOS), attachments(session, 2, PHOTOS)) == ([theirs], [])
    _public, _order, *photos = chat.say("王芳", "派单 1 物业")
    assert _forwarded(photos) == [theirs]


def test_a_unit_without_a_group_gets_the_photos_privately_after_each_order(
    settings: Settings, engine: Engine, clock: ManualClock
) -> None:
    chat = _chat_with_water(settings, engine, clock)
    chat.say("张阿姨", LEAK)
    photo, _ = _photo(chat, "张阿姨")
    _public, order, forwarded = chat.say("王芳", "派单 1 自来水")
    assert (order.chat_id, order.is_private) == ("wxid_qiangong", True)
    assert (forwarded.chat_id, forwarded.is_private, forwarded.forward_message_id) == ("wxid_qiangong", True, photo)


def test_a_redispatch_sends_the_photos_to_the_new_unit(chat: Chat) -> None:
    chat.say("张阿姨", LEAK)
    photo, _ = _photo(chat, "张阿姨")
    chat.say("王芳", "派单 1 物业")
    replies = chat.say("王芳", "改派 1 供水")
    [forwarded] = [o for o in replies if o.forward_message_id is not None]
    assert (forwarded.chat_name, forwarded.forward_message_id) == ("幸福里供水抢修群", photo)


def test_the_forwards_are_queued_and_read_back_from_the_outbox(chat: Chat) -> None:
    chat.say("张阿姨", LEAK)
    photo, _ = _photo(chat, "张阿姨")
    chat.say("王芳", "派单 1 物业")
    with chat.session() as session:
        assert attachments(session, 1, PHOTOS) == [photo]
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
    assert [row.forward_message_id for row in rows[-2:]] == [None, photo]
    assert rows[-1].sent_at is not None and rows[-1].chat_name == UNIT_GROUP


def test_a_photo_after_the_dispatch_follows_to_the_unit_named_by_its_ticket(chat: Chat) -> None:
    chat.say("张阿姨", LEAK)
    before, _ = _photo(chat, "张阿姨")
    chat.say("王芳", "派单 1 物业")
    after, [attached, line, forwarded] = _photo(chat, "张阿姨")
    assert attached.chat_name == GROUP_G1 and "已附在 #1" in attached.text
    assert (line.chat_name, line.forward_message_id) == (UNIT_GROUP, None)
    assert line.text == "@张师傅 #1 补充现场图片（第 2 张），随后转发。"
    assert (forwarded.chat_id, forwarded.forward_message_id) == (line.chat_id, after)
    assert forwarded.text == "#1 的第 2 张现场图片已无法转发（原图已过期），如需查看请向 王芳 索取。"
    _voice, [only] = _photo(chat, "张阿姨", kind=MessageKind.VOICE)  # not a photo: the unit is not told
    assert only.chat_name == GROUP_G1
    chat.say("张师傅", "退单 1 不归物业管", group=UNIT_GROUP)
    _late, [alone] = _photo(chat, "张阿姨")  # handed back: with no unit now
    assert alone.chat_name == GROUP_G1 and before != after


def test_an_auto_dispatched_reports_photos_follow_as_they_come_up_to_the_cap(
    settings: Settings, engine: Engine, clock: ManualClock
) -> None:
    chat = auto_dispatching_chat(settings, engine, clock)
    replies = chat.say("张阿姨", "3号楼2单元下水道堵了，一楼返水")
    [order] = [o for o in replies if o.chat_name == UNIT_GROUP]
    assert "图片" not in order.text
    forwarded = []
    for _ in range(MAX_FORWARDED_PHOTOS + 1):
        photo, replies = _photo(chat, "张阿姨")
        forwarded.append((photo, _forwarded(replies)))
    assert all(sent == [photo] for photo, sent in forwarded[:MAX_FORWARDED_PHOTOS])
    assert forwarded[-1][1] == []


# The pure parts.


def test_photos_line_says_none_all_or_the_first_of_them() -> None:
    assert photos_line(0, "王芳") == ""
    assert photos_line(3, "王芳") == texts.UNIT_ORDER_PHOTOS.format(count=3)
    assert photos_line(9, "王芳") == "附现场图片 9 张，随后转发。\n"
    assert photos_line(10, "王芳") == "附现场图片 10 张，随后转发前 9 张，其余可向 王芳 索取。\n"
    assert photos_line(3, "王芳", limit=2) == "附现场图片 3 张，随后转发前 2 张，其余可向 王芳 索取。\n"


def test_forwards_follow_each_order_to_its_chat() -> None:
    orders = [
        Outgoing("wx_a", "派单 #3", "甲", is_private=True, ticket_id=3),
        Outgoing("wx_b", "派单 #3", "乙", is_private=True, ticket_id=3),
    ]
    made = forwards(orders, [("m1", "没了1"), ("m2", "没了2")])
    assert [(o.chat_id, o.forward_message_id, o.text, o.is_private, o.ticket_id) for o in made] == [
        ("wx_a", "m1", "没了1", True, 3), ("wx_a", "m2", "没了2", True, 3),
        ("wx_b", "m1", "没了1", True, 3), ("wx_b", "m2", "没了2", True, 3),
    ]  # fmt: skip
    assert forwards(orders, []) == []
