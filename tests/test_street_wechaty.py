"""A 街道 through WeChat's real client (python-wechaty over gRPC to the loopback gateway): one account in the
groups of two communities, each group's reports in its own community, the 街道's staff answered in private."""

from __future__ import annotations

import asyncio
import sys

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from gateway.harness import running
from settings.models import Settings
from settings.street import load_street
from storage.db import new_session
from storage.models import Ticket
from tests.conftest import MONDAY_9AM, REPO

pytestmark = pytest.mark.skipif(sys.version_info >= (3, 13), reason="python-wechaty 0.10 needs Python < 3.13")
TIMEOUT = 20.0


def test_one_account_serves_two_communities_groups_and_the_street_staff(settings: Settings, engine: Engine) -> None:
    street = load_street(REPO / "street" / "street.yaml")

    async def scenario() -> None:
        async with running(settings, engine, MONDAY_9AM, street=street) as stack:
            stack.gateway.inject("刘大爷", "2号楼楼道灯坏了好几天了，晚上黑漆漆的", room="民主路1-3号楼业主群")
            [first] = await stack.gateway.wait_sent(1, timeout=TIMEOUT)
            stack.gateway.inject("张阿姨", "3号楼2单元下水道堵了，一楼都返水了", room="1-3号楼业主群")
            [second] = await stack.gateway.wait_sent(1, after=1, timeout=TIMEOUT)
            assert first.room_topic == "民主路1-3号楼业主群" and "#1【供电照明】" in first.text
            assert second.room_topic == "1-3号楼业主群" and "#2【给排水】" in second.text
            stack.gateway.inject("赵科长", "督办")
            [overdue] = await stack.gateway.wait_sent(1, after=2, timeout=TIMEOUT)
            assert overdue.room_topic in (None, "") and overdue.text.startswith("【秦岭路街道督办】")
        with new_session(engine) as session:
            found = {(t.id, t.community_id) for t in session.exec(select(Ticket))}
        assert found == {(1, "minzhu"), (2, "main")}

    asyncio.run(asyncio.wait_for(scenario(), 120))
