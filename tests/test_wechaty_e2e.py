"""End to end through WeChat's real client: python-wechaty over gRPC to the loopback gateway on 127.0.0.1.

Nothing of wechaty is mocked. Errors inside the client's handlers are only logged, so every test waits on
the gateway side (what the bot sent) with a timeout. Rate limits, backoff and probes run on virtual time
(`gateway.harness.VirtualTime`): the configured limits hold, in a fraction of the real time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from gateway.harness import Stack, running, wait_until
from gateway.server import Gateway
from gateway.world import BOT_ID, Message, WireKind, resident_id
from ledger.messages import Outgoing
from settings.models import Connection, Outbound, Settings
from storage.db import new_session
from storage.directory import remember_members
from storage.messages import enqueue, failed_rows, pending
from storage.models import InboundMessage, OutboxMessage
from storage.tickets import all_tickets, get_ticket
from tests.conftest import MONDAY_9AM, REPO

pytestmark = pytest.mark.skipif(sys.version_info >= (3, 13), reason="python-wechaty 0.10 needs Python < 3.13")

G1 = "1-3号楼业主群"
G2 = "4-6号楼业主群"
WANGFANG = "wxid_wangfang"
TIMEOUT = 20.0


def run(coroutine) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 120))


def room_id(stack: Stack, topic: str) -> str:
    room = stack.gateway.world.room(topic)
    assert room is not None
    return room.id


def test_a_room_report_becomes_a_ticket_and_the_reply_mentions_resident_and_assignee(
    settings: Settings, engine: Engine
) -> None:
    async def scenario() -> None:
        async with running(settings, engine, MONDAY_9AM) as stack:
            stack.gateway.inject("张阿姨", "3号楼2单元下水道堵了，一楼都返水了", room=G1)
            [reply] = await stack.gateway.wait_sent(1, timeout=TIMEOUT)
            assert reply.conversation_id == room_id(stack, G1) and reply.room_topic == G1
            assert reply.mention_ids == (resident_id("张阿姨"), WANGFANG)
            assert reply.text.startswith("@张阿姨\u2005@王芳 收到，已登记 #1【给排水】3号楼2单元")
            assert reply.text.count("@张阿姨") == 1  # our own @-prefix is not doubled by Room.say
            await wait_until(lambda: stack.runner.own_messages >= 1, TIMEOUT, "the echo of the bot's reply")
            with new_session(engine) as session:
                [ticket] = all_tickets(session)
                assert (ticket.chat_id, ticket.chat_name, ticket.assignee_id) == (room_id(stack, G1), G1, "wangfang")
                senders = set(session.exec(select(InboundMessage.sender_id)))
            assert senders == {resident_id("张阿姨")}  # the bot's echoed message was skipped (is_self)

    run(scenario())


def test_a_cadre_command_through_wechat_moves_the_ticket(settings: Settings, engine: Engine) -> None:
    async def scenario() -> None:
        async with running(settings, engine, MONDAY_9AM) as stack:
            stack.gateway.inject("张阿姨", "3号楼2单元下水道堵了", room=G1)
            await stack.gateway.wait_sent(1, timeout=TIMEOUT)
            stack.gateway.inject("王芳", "@回音 接单 1", room=G1)
            [accepted] = await stack.gateway.wait_sent(1, after=1, timeout=TIMEOUT)
            assert accepted.text.endswith("#1 已由 王芳 签收，正在处理。")
            assert accepted.mention_ids == (resident_id("张阿姨"),)
            with new_session(engine) as session:
                assert get_ticket(session, 1).status == "accepted"

    run(scenario())


def test_a_private_message_is_answered_privately(settings: Settings, engine: Engine) -> None:
    async def scenario() -> None:
        async with running(settings, engine, MONDAY_9AM) as stack:
            stack.gateway.inject("张阿姨", "5号楼门口路灯坏了好几天了")
            [reply] = await stack.gateway.wait_sent(1, timeout=TIMEOUT)
            assert reply.conversation_id == resident_id("张阿姨") and reply.room_topic == ""
            assert "#1" in reply.text and reply.mention_ids == ()
            with new_session(engine) as session:
                [ticket] = all_tickets(session)
                assert ticket.chat_is_private and ticket.chat_id == resident_id("张阿姨")

    run(scenario())


def test_a_duplicate_delivery_changes_nothing(settings: Settings, engine: Engine) -> None:
    async def scenario() -> None:
        async with running(settings, engine, MONDAY_9AM, scale=1.0) as stack:  # the copy comes seconds later
            first = stack.gateway.inject("张阿姨", "3号楼2单元下水道堵了", room=G1)
            await stack.gateway.wait_sent(1, timeout=TIMEOUT)
            stack.gateway.inject("张阿姨", first.text, room=G1, message_id=first.id)  # same id again
            again = stack.gateway.inject("张阿姨", " 3号楼2单元下水道堵了", room=G1)  # a new id, seconds later
            stack.gateway.inject("张阿姨", "查询 1", room=G1)
            later = await stack.gateway.wait_sent(1, after=1, timeout=TIMEOUT)
            assert "#1" in later[0].text
            await wait_until(lambda: stack.runner.handled >= 3, TIMEOUT, "the report, its copy and the query")
            await wait_until(lambda: _all_sent(engine), TIMEOUT, "the outbox delivered")
            assert len(stack.gateway.world.sent) == 2
            with new_session(engine) as session:
                assert len(all_tickets(session)) == 1
                assert session.get(InboundMessage, again.id) is not None  # recorded, then recognised
                assert len(list(session.exec(select(OutboxMessage)))) == 2

    run(scenario())


def test_images_are_attached_to_the_open_report_or_answered_with_a_request_for_words(
    settings: Settings, engine: Engine
) -> None:
    async def scenario() -> None:
        async with running(settings, engine, MONDAY_9AM) as stack:
            stack.gateway.inject("张阿姨", "3号楼2单元下水道堵了", room=G1)
            await stack.gateway.wait_sent(1, timeout=TIMEOUT)
            stack.gateway.inject("张阿姨", "", room=G1, kind=WireKind.IMAGE)
            [attached] = await stack.gateway.wait_sent(1, after=1, timeout=TIMEOUT)
            assert attached.mention_ids == (resident_id("张阿姨"), WANGFANG)
            assert "收到您发的图片，已附在 #1【给排水】" in attached.text
            stack.gateway.inject("李叔", "", kind=WireKind.VOICE)
            [asked] = await stack.gateway.wait_sent(1, after=2, timeout=TIMEOUT)
            assert asked.conversation_id == resident_id("李叔")
            assert asked.text.startswith("请用文字描述问题") and "语音" in asked.text

    run(scenario())


def test_after_the_gateway_dies_the_bot_reconnects_and_delivers_the_queue_once_in_order(
    settings: Settings, engine: Engine
) -> None:
    slow = settings.model_copy(
        update={
            "outbound": Outbound(group_interval_seconds=30),
            "connection": Connection(outage_alert_minutes=0.05, probe_interval_seconds=5, silence_seconds=10),
        }
    )

    async def scenario() -> None:
        async with running(slow, engine, MONDAY_9AM, scale=0.1) as stack:
            stack.gateway.inject("张阿姨", "3号楼2单元楼道灯不亮了", room=G1)
            before = await stack.gateway.wait_sent(1, timeout=TIMEOUT)
            for name, place in (("李叔", "1号楼"), ("孙大爷", "2号楼")):
                stack.gateway.inject(name, f"{place}楼道灯不亮了", room=G1)
            await wait_until(lambda: stack.runner.handled >= 3, TIMEOUT, "three reports handled")
            await wait_until(lambda: _pending(engine) == 2, TIMEOUT, "the first reply marked sent")
            assert len(stack.gateway.world.sent) == 1  # the group's next reply must wait 30 s
            connections = stack.runner.supervisor.connections
            await stack.gateway.stop()
            await wait_until(lambda: stack.runner.supervisor.state != "online", TIMEOUT, "the loss noticed")
            down_at = stack.time.clock.now()
            outage = dt.timedelta(seconds=6)  # longer than outage_alert_minutes
            await wait_until(lambda: stack.time.clock.now() - down_at > outage, TIMEOUT, "a 6 s outage")
            await stack.restart_gateway()
            await stack.online()
            assert stack.runner.supervisor.connections > connections
            await wait_until(lambda: _all_sent(engine), TIMEOUT, "the outbox delivered")
            after = stack.gateway.world.sent
            alert = [s for s in after if s.conversation_id == "wxid_chenjie"]
            assert len(alert) == 1 and "与微信的连接中断了" in alert[0].text
            group = [s.text for s in before + after if s.room_topic == G1]
            numbers = [int(n) for text in group for n in re.findall(r"#(\d+)", text)]
            assert numbers == [1, 2, 3]  # each reply once, in order
            _assert_within_limits(engine, slow.outbound)

    run(scenario())


def test_a_burst_of_200_reports_is_answered_within_the_rate_merged_and_nothing_is_lost(
    settings: Settings, engine: Engine
) -> None:
    residents = [f"居民{n:03d}" for n in range(200)]

    async def scenario() -> None:
        async with running(settings, engine, MONDAY_9AM, scale=0.05) as stack:
            for n, name in enumerate(residents):
                stack.gateway.inject(name, f"{n % 3 + 1}号楼{n % 4 + 1}单元楼道灯不亮", room=G2)
            await wait_until(lambda: stack.runner.handled >= 200, 90, "200 reports handled")
            await wait_until(lambda: _all_sent(engine), 90, "the outbox delivered")
            sent = [s for s in stack.gateway.world.sent if s.room_topic == G2]
            mentioned = {m for s in sent for m in s.mention_ids}
            assert {resident_id(name) for name in residents} <= mentioned  # every report answered
            with new_session(engine) as session:
                rows = list(session.exec(select(OutboxMessage).where(OutboxMessage.chat_name == G2)))
            assert len(rows) == 200  # one reply per report, none dropped
            assert len(sent) < 200 and max(len(s.mention_ids) for s in sent) > 2  # replies were merged
            assert len(sent) == len({(r.chat_id, r.sent_at) for r in rows})
            _assert_within_limits(engine, settings.outbound)

    run(scenario())


def _pending(engine: Engine) -> int:
    with new_session(engine) as session:
        return len(pending(session))


def _all_sent(engine: Engine) -> bool:
    return _pending(engine) == 0


def _assert_within_limits(engine: Engine, limits: Outbound) -> None:
    """From the outbox's sent times: per chat at most one message per interval, at most per_minute a minute."""
    with new_session(engine) as session:
        rows = list(session.exec(select(OutboxMessage)))
    messages = sorted({(r.sent_at, r.chat_id) for r in rows if r.sent_at is not None})  # not the failed ones
    last: dict[str, dt.datetime] = {}
    for at, chat in messages:
        if chat in last:
            assert at - last[chat] >= dt.timedelta(seconds=limits.group_interval_seconds)
        last[chat] = at
        window = [a for a, _ in messages if at - dt.timedelta(minutes=1) < a <= at]
        assert len(window) <= limits.per_minute
    assert BOT_ID not in {r.chat_id for r in rows}


def test_a_silent_connection_is_found_by_the_ding_probe_and_replaced(settings: Settings, engine: Engine) -> None:
    async def scenario() -> None:
        async with running(settings, engine, MONDAY_9AM, heartbeat_seconds=0.2) as stack:
            connections = stack.runner.supervisor.connections
            stack.gateway.freeze()  # the TCP connection stays open; no heartbeat, no event, no answer to ding
            await wait_until(lambda: stack.runner.supervisor.state != "online", TIMEOUT, "the silence noticed")
            assert stack.gateway.service.dings >= 1
            stack.gateway.thaw()
            await stack.online()
            assert stack.runner.supervisor.connections > connections
            stack.gateway.inject("张阿姨", "3号楼2单元下水道堵了", room=G1)
            [reply] = await stack.gateway.wait_sent(1, timeout=TIMEOUT)
            assert "#1" in reply.text

    run(scenario())


def test_an_urgent_report_reaches_the_cadres_group_by_name_and_the_cadres_privately(
    settings: Settings, engine: Engine
) -> None:
    async def scenario() -> None:
        async with running(settings, engine, MONDAY_9AM) as stack:
            stack.gateway.inject("张阿姨", "2号楼有煤气味，好浓！", room=G1)
            sent = await stack.gateway.wait_sent(5, timeout=TIMEOUT)
            assert sent[0].room_topic == G1 and "不要开关电器，开窗通风，到户外打电话" in sent[0].text
            cadres_room = room_id(stack, "幸福里社区工作群")  # config names the group; the room id is WeChat's
            assert cadres_room in {s.conversation_id for s in sent}
            assert {"wxid_wangfang", "wxid_zhaomin", "wxid_chenjie"} <= {s.conversation_id for s in sent}

    run(scenario())


def test_huiyin_run_with_the_wechaty_transport_serves_the_gateway(settings: Settings, tmp_path: Path) -> None:
    async def scenario() -> None:
        gateway = Gateway(settings, control_port=None)
        await gateway.start()
        environment = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'huiyin.db'}",
            "WECHATY_PUPPET_SERVICE_ENDPOINT": gateway.endpoint,
            "WECHATY_PUPPET_SERVICE_TOKEN": "huiyin-test",
        }
        command = [
            sys.executable,
            "-m",
            "bot.cli",
            "--env-file",
            str(tmp_path / "none.env"),
            "run",
            "--transport",
            "wechaty",
        ]
        bot = await asyncio.create_subprocess_exec(
            *command, cwd=REPO, env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            await wait_until(lambda: bool(gateway.service.streams), 60, "the bot's event stream")
            gateway.inject("张阿姨", "3号楼2单元下水道堵了", room=G1)
            [reply] = await gateway.wait_sent(1, timeout=TIMEOUT)
            assert "#1" in reply.text and reply.mention_ids[0] == resident_id("张阿姨")
        finally:
            bot.terminate()
            await bot.communicate()
            await gateway.stop()

    run(scenario())


def test_poison_rows_and_a_gateway_restart_in_a_500_message_conversation_block_nothing(
    settings: Settings, engine: Engine
) -> None:
    """Unreachable mentions are dropped (the text goes), a reply nobody can receive fails after its tries with one
    alert to the secretary, and every other reply of 500 arrives, in order and within the limits, across a
    gateway restart."""
    limits = Outbound(group_interval_seconds=3, per_minute=30, daily_cap=5000, max_attempts=4, poll_seconds=2)
    relaxed = settings.model_copy(
        # The only connection loss here is the staged restart, noticed as the stream ends: a probe (ding) unanswered
        # for 100 virtual seconds (2 real ones at this scale) on a loaded machine dropped the connection once more,
        # and the messages in flight with it. 3,000 virtual seconds are the minute the waits below allow.
        update={"outbound": limits, "connection": Connection(outage_alert_minutes=600, ding_timeout_seconds=3000)}
    )
    names = ["Tom Lee" if n == 7 else f"居民{n:03d}" for n in range(500)]  # a name with a space, replied to in merges
    rooms = {name: (G1 if n % 2 else G2) for n, name in enumerate(names)}
    ghost, left = "wxid_open311_ghost", "离群的人"

    async def scenario() -> None:
        async with running(relaxed, engine, MONDAY_9AM, scale=0.02) as stack:
            stack.gateway.inject(left, "2号楼3单元楼道灯不亮", room=G1)
            await stack.gateway.wait_sent(1, timeout=TIMEOUT)
            stack.gateway.world.room(G1).member_ids.remove(resident_id(left))  # they left the group since
            for n, name in enumerate(names[:250]):
                stack.gateway.inject(name, f"{n % 3 + 1}号楼{n % 4 + 1}单元楼道灯不亮", room=rooms[name])
            await wait_until(lambda: stack.runner.handled >= 251, 60, "the first 250 reports handled")
            with new_session(engine) as session:  # written by another process, e.g. the board's Open311 API
                remember_members(session, [(ghost, "Ghost Lee", stack.time.clock.now(), None)])  # a made-up contact
                g1 = room_id(stack, G1)
                for outgoing in (
                    Outgoing(g1, f"@Ghost Lee @{names[1]} POISON-A 已受理", G1, (ghost, resident_id(names[1]))),
                    Outgoing(g1, f"@{left} POISON-B 已受理", G1, (resident_id(left),)),
                    Outgoing(ghost, "POISON-C 您的报修已受理", "Ghost Lee", is_private=True),
                ):
                    enqueue(session, outgoing, now=stack.time.clock.now())
                session.commit()
            assert _pending(engine) > 0  # the restart comes while replies wait
            before = list(stack.gateway.world.sent)
            await stack.gateway.stop()
            await wait_until(lambda: stack.runner.supervisor.state != "online", TIMEOUT, "the loss noticed")
            await stack.restart_gateway()
            await stack.online()
            for n, name in enumerate(names[250:], start=250):
                stack.gateway.inject(name, f"{n % 3 + 1}号楼{n % 4 + 1}单元楼道灯不亮", room=rooms[name])
            await wait_until(lambda: stack.runner.handled >= 501, 60, "all 500 reports handled")
            await wait_until(lambda: _all_sent(engine), 60, "the outbox delivered or given up on")
            sent = before + list(stack.gateway.world.sent)

        with new_session(engine) as session:  # the order replies were queued in (handling runs concurrently)
            rows = list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))
        for topic in (G1, G2):
            in_room = [s for s in sent if s.room_topic == topic]
            first_seen = list(dict.fromkeys(m for s in in_room for m in s.mention_ids if m.startswith("wxid_r")))
            queued = [r.mention_ids[0] for r in rows if r.chat_name == topic and "POISON" not in r.text]
            expected = [m for m in dict.fromkeys(queued) if m != resident_id(left)]
            assert len(expected) == sum(rooms[name] == topic for name in names)
            assert [m for m in first_seen if m in expected] == expected  # every reply arrived, in order
        mentioned = [m for s in sent for m in set(s.mention_ids) if m.startswith("wxid_r")]
        repeated = {m for m in mentioned if mentioned.count(m) > 1} - {resident_id(names[1])}
        assert len(repeated) <= limits.merge_max  # at most the one message in flight at the restart, again
        [poison_a] = [s for s in sent if "POISON-A" in s.text]
        assert ghost not in poison_a.mention_ids and "@Ghost Lee " in poison_a.text
        [poison_b] = [s for s in sent if "POISON-B" in s.text]
        assert resident_id(left) not in poison_b.mention_ids and f"@{left} " in poison_b.text
        garbled = [
            s.text for s in sent if s.room_topic and "Lee" in s.text.replace("@Tom Lee", "").replace("@Ghost Lee", "")
        ]
        assert not garbled, garbled[:2]
        assert any(resident_id("Tom Lee") in s.mention_ids and "@Tom Lee\u2005" in s.text for s in sent)
        alerts = [s for s in sent if s.conversation_id == "wxid_chenjie"]
        assert len(alerts) == 1 and "POISON-C" in alerts[0].text and "试了 4 次" in alerts[0].text
        with new_session(engine) as session:
            [failed] = failed_rows(session)
        assert failed.chat_id == ghost and failed.attempts == 4 and failed.last_error
        _assert_within_limits(engine, limits)

    run(scenario())


UNIT_GROUP = "幸福里物业维修群"


async def _reported_with_a_photo(stack: Stack) -> Message:
    """张阿姨 reports a leak in her group and sends a photo after it (attached to her ticket, #1): the photo."""
    stack.gateway.inject("张阿姨", "3号楼2单元楼道的水管漏水了，地上全是水", room=G1)
    await stack.gateway.wait_sent(1, timeout=TIMEOUT)
    photo = stack.gateway.inject("张阿姨", "", room=G1, kind=WireKind.IMAGE)
    await stack.gateway.wait_sent(1, after=1, timeout=TIMEOUT)
    return photo


def test_a_dispatch_forwards_the_residents_photo_to_the_units_group(settings: Settings, engine: Engine) -> None:
    """The real client forwards the photo (MessagePayload, MessageImage, MessageSendFile): the unit's room gets the
    order, then the resident's own photo."""

    async def scenario() -> None:
        async with running(settings, engine, MONDAY_9AM) as stack:
            photo = await _reported_with_a_photo(stack)
            stack.gateway.inject("王芳", "派单 1 物业", room=G1)
            await stack.gateway.wait_sent(3, after=2, timeout=TIMEOUT)
            to_unit = [s for s in stack.gateway.world.sent if s.conversation_id == room_id(stack, UNIT_GROUP)]
            order, forwarded = to_unit
            assert "派单 #1【给排水】" in order.text and "附现场图片 1 张，随后转发。" in order.text
            assert (forwarded.kind, forwarded.forwarded_from, forwarded.text) == (WireKind.IMAGE, photo.id, "")
            assert forwarded.seq > order.seq and forwarded.room_topic == UNIT_GROUP
            await wait_until(lambda: _all_sent(engine), TIMEOUT, "the outbox delivered")
            with new_session(engine) as session:
                rows = list(session.exec(select(OutboxMessage).where(OutboxMessage.forward_message_id == photo.id)))
            assert [(row.attempts, row.last_error, row.failed_at is None) for row in rows] == [(1, None, True)]

    run(scenario())


def test_a_photo_that_expired_is_replaced_by_a_note_and_holds_nothing_up(settings: Settings, engine: Engine) -> None:
    """The puppet can no longer fetch the photo: the unit still has the order, gets a line saying so in the photo's
    place, and what was queued after it goes; the row is sent after one try, not retried nor failed."""

    async def scenario() -> None:
        async with running(settings, engine, MONDAY_9AM) as stack:
            photo = await _reported_with_a_photo(stack)
            stack.gateway.world.expired.add(photo.id)
            stack.gateway.inject("王芳", "派单 1 物业", room=G1)
            stack.gateway.inject("张师傅", "接单 1", room=UNIT_GROUP, sender_id="wxid_zhangshifu")
            unit_room = room_id(stack, UNIT_GROUP)

            def to_unit() -> list:
                return [s for s in stack.gateway.world.sent if s.conversation_id == unit_room]

            await wait_until(lambda: len(to_unit()) >= 3, TIMEOUT, "the order, the note and the 接单 answer")
            await wait_until(lambda: _all_sent(engine), TIMEOUT, "the outbox delivered")
            assert [s.kind for s in to_unit()] == [WireKind.TEXT] * 3
            # The order and its photo's note are addressed to the room by its configured name, the 接单 answer by the
            # room's id: the planner keeps the order of each, not of one against the other.
            order, note = [s for s in to_unit() if "告知居民" not in s.text]
            assert "附现场图片 1 张" in order.text
            assert note.text == "#1 的第 1 张现场图片已无法转发（原图已过期），如需查看请向 王芳 索取。"
            assert note.seq > order.seq
            with new_session(engine) as session:
                [row] = session.exec(select(OutboxMessage).where(OutboxMessage.forward_message_id == photo.id))
            assert (row.attempts, row.last_error, row.failed_at, row.sent_at is not None) == (1, None, None, True)

    run(scenario())
