"""Two bot accounts on one ledger (issue 15), with the real python-wechaty client against loopback gateways.

Each account has its own gateway (a puppet service per WeChat account, as in production) whose world knows
the rooms that account is in; both runners run in this one test process on one event loop and one virtual
clock. 1-3号楼业主群 has account A only, 4-6号楼业主群 account B only, 幸福里社区居民群 both.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from gateway.harness import Stack, VirtualTime, running, wait_until
from gateway.world import BOT_ID, WireKind, World, resident_id
from ledger.messages import Outgoing
from settings.models import Settings
from settings.rules import config_problems
from storage.db import new_session
from storage.messages import enqueue, pending
from storage.models import InboundMessage
from storage.tickets import all_tickets
from tests.conftest import MONDAY_9AM, _postgres_engine

pytestmark = pytest.mark.skipif(sys.version_info >= (3, 13), reason="python-wechaty 0.10 needs Python < 3.13")

BOT_A, BOT_B = BOT_ID, "wxid_huiyin_bot_b"
G1, G2, SHARED = "1-3号楼业主群", "4-6号楼业主群", "幸福里社区居民群"
TIMEOUT = 20.0


def run(coroutine) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 120))


def with_accounts(settings: Settings, *accounts: str) -> Settings:
    community = settings.community.model_copy(update={"bot_accounts": list(accounts)})
    return settings.model_copy(update={"community": community})


def world_of(settings: Settings, bot_id: str, bot_name: str, *, leaves: str, other: tuple[str, str]) -> World:
    """The community as account `bot_id` sees it: not in room `leaves`; the other account is in the shared room."""
    world = World(settings, bot_id=bot_id, bot_name=bot_name)
    room = world.room(leaves)
    assert room is not None
    room.member_ids.remove(bot_id)
    other_id, other_name = other
    world.person(other_name, other_id)
    shared = world.room(SHARED)
    assert shared is not None
    shared.member_ids.append(other_id)
    return world


def room_id(stack: Stack, topic: str) -> str:
    room = stack.gateway.world.room(topic)
    assert room is not None
    return room.id


def _pending(engine: Engine) -> int:
    with new_session(engine) as session:
        return len(pending(session))


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    yield from _postgres_engine()


def test_bot_accounts_are_configured_in_community_and_may_not_be_a_cadre(settings: Settings) -> None:
    assert settings.community.bot_accounts == []
    assert not list(config_problems(with_accounts(settings, BOT_A, BOT_B)))
    [problem] = config_problems(with_accounts(settings, BOT_B, "wxid_wangfang"))
    assert problem.loc == ("community", "bot_accounts", 1) and "王芳" in problem.message


def test_two_accounts_on_one_ledger_each_send_for_their_own_rooms_and_ignore_each_other(
    settings: Settings, pg_engine: Engine
) -> None:
    """PostgreSQL only (skipped without it): the shared ledger several processes need."""
    both = with_accounts(settings, BOT_A, BOT_B)
    world_a = world_of(both, BOT_A, "回音", leaves=G2, other=(BOT_B, "回音二号"))
    world_b = world_of(both, BOT_B, "回音二号", leaves=G1, other=(BOT_A, "回音"))
    clock = VirtualTime(MONDAY_9AM)
    engine = pg_engine

    async def scenario() -> None:
        async with (
            running(both, engine, MONDAY_9AM, world=world_a, time=clock) as a,
            running(both, engine, MONDAY_9AM, world=world_b, time=clock) as b,
        ):
            # What each process owns: its rooms by id and topic, and its friends (here: everyone its puppet knows).
            assert a.runner.chats is not None and b.runner.chats is not None
            assert {G1, room_id(a, G1), SHARED, "wxid_wangfang"} <= a.runner.chats
            assert not {G2, room_id(a, G2)} & a.runner.chats
            assert {G2, room_id(b, G2), SHARED} <= b.runner.chats and not {G1, room_id(b, G1)} & b.runner.chats

            # A report in A's room is answered by A only; one in B's room by B only.
            a.gateway.inject("张阿姨", "3号楼2单元下水道堵了，一楼都返水了", room=G1)
            [reply_a] = await a.gateway.wait_sent(1, timeout=TIMEOUT)
            assert reply_a.room_topic == G1 and "#1" in reply_a.text
            b.gateway.inject("刘大姐", "5号楼1单元楼道灯不亮了", room=G2)
            [reply_b] = await b.gateway.wait_sent(1, timeout=TIMEOUT)
            assert reply_b.room_topic == G2 and "#2" in reply_b.text

            # Rows another process queued (the board's Open311 API), by room name: each goes from its room's account.
            with new_session(engine) as session:
                for topic in (G1, G2):
                    enqueue(session, Outgoing(topic, f"BOARD-{topic} 已受理", topic), now=clock.clock.now())
                session.commit()
            # A private message to B is answered by B (A does not know this resident at all).
            b.gateway.inject("孙大爷", "", kind=WireKind.VOICE)
            await wait_until(lambda: _pending(engine) == 0, TIMEOUT, "the outbox delivered")
            sent_a, sent_b = list(a.gateway.world.sent), list(b.gateway.world.sent)
            assert {s.room_topic for s in sent_a} == {G1} and {s.room_topic for s in sent_b} == {G2, ""}
            assert [s.conversation_id for s in sent_b if not s.room_topic] == [resident_id("孙大爷")]
            assert any(f"BOARD-{G1}" in s.text for s in sent_a) and any(f"BOARD-{G2}" in s.text for s in sent_b)

            # A report in the room both are in reaches both accounts: handled once, answered once, by either.
            for stack in (a, b):
                stack.gateway.inject(
                    "李叔", "幸福里东门的路灯坏了，晚上一片黑", room=SHARED, sender_id=resident_id("李叔")
                )
            await wait_until(
                lambda: _pending(engine) == 0 and a.runner.handled + b.runner.handled >= 4, TIMEOUT, "both"
            )
            await asyncio.sleep(0.2)
            shared = [s for s in a.gateway.world.sent + b.gateway.world.sent if s.room_topic == SHARED]
            [answer] = shared
            assert "#3" in answer.text
            # That reply, echoed by the other account's puppet as a message of the sending account, is no report.
            sender, other = (a, b) if answer in a.gateway.world.sent else (b, a)
            sender_id = sender.gateway.world.bot_id
            other.gateway.inject(sender.gateway.world.contacts[sender_id].name, answer.text, room=SHARED,
                                 sender_id=sender_id)  # fmt: skip
            # And account B repeating a resident's words in A's room (a forwarded message) is no report either.
            a.gateway.inject("回音二号", "4号楼电梯坏了，困人了", room=SHARED, sender_id=BOT_B)
            await wait_until(
                lambda: a.runner.other_accounts_messages + b.runner.other_accounts_messages >= 2, TIMEOUT, "the echoes"
            )
            await asyncio.sleep(0.2)
            with new_session(engine) as session:
                assert len(all_tickets(session)) == 3
                senders = set(session.exec(select(InboundMessage.sender_id)))
            assert not {BOT_A, BOT_B} & senders
            assert _pending(engine) == 0

    run(scenario())


def test_one_account_sends_for_every_chat_and_ignores_a_listed_other_account(
    settings: Settings, engine: Engine
) -> None:
    """On SQLite (and PostgreSQL): with no other account listed, nothing changes; listed, the other's messages are
    dropped before they become an `Incoming`."""

    async def scenario() -> None:
        async with running(with_accounts(settings, BOT_A), engine, MONDAY_9AM) as alone:  # only itself listed
            assert alone.runner.chats is None and alone.runner.outbox.chats is None
            with new_session(engine) as session:
                for topic in (G1, G2, SHARED):
                    enqueue(session, Outgoing(topic, f"NOTICE-{topic}", topic), now=alone.time.clock.now())
                enqueue(
                    session,
                    Outgoing("wxid_chenjie", "NOTICE-private", "陈洁", is_private=True),
                    now=alone.time.clock.now(),
                )
                session.commit()
            alone.runner.outbox.wake.set()
            sent = await alone.gateway.wait_sent(4, timeout=TIMEOUT)
            assert {s.room_topic for s in sent} == {G1, G2, SHARED, ""}

    run(scenario())

    listed = with_accounts(settings, BOT_A, BOT_B)
    world = world_of(listed, BOT_A, "回音", leaves=G2, other=(BOT_B, "回音二号"))

    async def filtered() -> None:
        async with running(listed, engine, MONDAY_9AM, world=world) as stack:
            stack.gateway.inject("回音二号", "3号楼2单元下水道堵了", room=SHARED, sender_id=BOT_B)
            stack.gateway.inject("回音二号", "查询 1", sender_id=BOT_B)  # privately, too
            stack.gateway.inject("张阿姨", "3号楼2单元下水道堵了", room=G1)
            await stack.gateway.wait_sent(1, timeout=TIMEOUT)
            await wait_until(lambda: stack.runner.other_accounts_messages >= 2, TIMEOUT, "B's messages dropped")
            assert stack.runner.handled == 1
            # A row to a room no running account is in waits (listed by `huiyin outbox`), it is not tried.
            with new_session(engine) as session:
                enqueue(session, Outgoing(G2, "ORPHAN", G2), now=stack.time.clock.now())
                session.commit()
                senders = set(session.exec(select(InboundMessage.sender_id)))
            assert senders == {resident_id("张阿姨")}
            stack.runner.outbox.wake.set()
            await asyncio.sleep(0.3)
            with new_session(engine) as session:
                [waiting] = pending(session)
            assert waiting.text == "ORPHAN" and waiting.attempts == 0
            assert all(s.room_topic != G2 for s in stack.gateway.world.sent)

    run(filtered())
