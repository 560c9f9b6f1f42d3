"""议题 and 立项: agenda candidates from many households or a recurring place, and tickets marked by a cadre."""

from __future__ import annotations

import datetime as dt

from ledger.agenda import candidates
from ledger.lifecycle import Action, Status
from storage.tickets import get_ticket, ledger_fields, rebuild_ticket, ticket_events
from tests.chat import GROUP_G2, Chat
from tests.conftest import MONDAY_9AM
from tests.test_jobs_support import view

CADRES_GROUP = "幸福里社区工作群"


def test_many_households_and_a_recurring_place_are_candidates(settings) -> None:
    households = (("r:1", "甲"), ("r:2", "乙"), ("r:3", "丙"))
    views = [
        view(1, reporters=households),
        *(
            view(n, category="sanitation", location="东门", status=Status.CLOSED,
                 created_at=MONDAY_9AM - dt.timedelta(days=n))
            for n in (2, 3, 4)
        ),
        view(5, reporters=households[:2]),
        view(6, category="sanitation", location="东门", status=Status.CANCELLED),
        view(7, category="power", location="西门", created_at=MONDAY_9AM - dt.timedelta(days=40), status=Status.CLOSED),
        view(8, category="power", location="西门", status=Status.CLOSED),
        view(9, category="power", location="西门", status=Status.CLOSED),
    ]
    found = candidates(settings, views, MONDAY_9AM + dt.timedelta(hours=1))
    assert [(c.kind, c.numbers) for c in found] == [("households", (1,)), ("recurring", (2, 3, 4))]
    assert found[1].line == "· 东门【环境卫生】30 天内反映 3 次（#2、#3、#4）"


def test_a_cadre_marks_a_ticket_and_it_is_listed_until_resolved(chat: Chat) -> None:
    chat.say("刘姐", "5号楼门口路灯坏了", group=GROUP_G2)
    assert chat.texts("赵敏", "议题", group=CADRES_GROUP) == [
        "@赵敏 目前没有议事候选。多户反映或同一地点反复出现的问题会自动列入；干部可发送「立项 编号」。"
    ]
    assert chat.texts("赵敏", "立项 1", group=CADRES_GROUP) == [
        "@赵敏 #1 已立项为议事议题（赵敏），办结前每周通报都会列出。"
    ]
    assert chat.texts("赵敏", "立项 1", group=CADRES_GROUP) == ["@赵敏 #1 已经立项。"]
    listed = chat.texts("赵敏", "议题", group=CADRES_GROUP)
    assert listed == ["@赵敏 当前议事候选：\n· #1【供电照明】5号楼 已立项，已分派"]
    with chat.session() as session:
        ticket = get_ticket(session, 1)
        events = ticket_events(session, 1)
        assert ticket.agenda is True and events[-1].action == Action.AGENDA.value
        assert events[-1].changes == {"agenda": True}
        assert rebuild_ticket(events) == ledger_fields(ticket)
    chat.say("李军", "办结 1 已换灯泡", group=GROUP_G2)
    assert chat.texts("赵敏", "议题", group=CADRES_GROUP)[0].startswith("@赵敏 目前没有议事候选")


def test_residents_cannot_mark_and_closed_tickets_cannot_be_marked(chat: Chat) -> None:
    chat.say("刘姐", "5号楼门口路灯坏了", group=GROUP_G2)
    assert "是社区干部办理事项用的指令" in chat.texts("刘姐", "立项 1", group=GROUP_G2)[0]
    chat.say("李军", "办结 1 已换灯泡", group=GROUP_G2)
    assert chat.texts("李军", "立项 1", group=GROUP_G2) == ["@李军 #1 当前状态是「已办结」，只有未办结的事项可以立项。"]
    assert chat.texts("李军", "立项 99", group=GROUP_G2)[0].startswith("@李军 没有找到 #99")
