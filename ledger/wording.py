"""Wording that every layer above the ledger shares: status names, mentions, times and places as chat shows them.

Handlers and jobs both write chat messages; what they must say alike lives here, below both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ledger.lifecycle import Status
from ledger.messages import Outgoing
from settings.models import Settings, Unit

STATUS_NAMES: dict[Status, str] = {
    Status.NEW: "待分派",
    Status.ASSIGNED: "已分派",
    Status.ACCEPTED: "已签收",
    Status.IN_PROGRESS: "办理中",
    Status.RESOLVED: "已办结",
    Status.CLOSED: "已关闭",
    Status.REOPENED: "重新办理",
    Status.TRANSFERRED: "已转派",
    Status.RETURNED: "已退回",
    Status.CANCELLED: "已撤销",
    Status.MERGED: "已并入",
}

SOURCE_NAMES: dict[str, str] = {"resident": "居民反映", "patrol": "主动发现"}
"""Who found a ticket (`Ticket.source`), as the digest, the statistics page and the 台账 name it."""

NO_PLACE = ""

# Agenda candidates (议事), as the digest and 议题 list them
AGENDA_FLAGGED = "· #{number}【{category}】{place} 已立项，{status}"
AGENDA_HOUSEHOLDS = "· #{number}【{category}】{place} {households} 户反映"
AGENDA_RECURRING = "· {place}【{category}】{days} 天内反映 {count} 次（{numbers}）"
LIST_SEPARATOR = "、"
# A notice (通知) for the whole community
INCIDENT_SCOPE_ALL = "全社区"
# 督办: the 街道's overdue list (ledger/supervision.py), in private to its staff
OVERDUE_HEADING = "【{street}督办】{time}，逾期未办结 {total} 件"
OVERDUE_NONE = "【{street}督办】{time}，各社区没有逾期未办结的问题 👍"
OVERDUE_BY_COMMUNITY = "{community} {count} 件"
OVERDUE_LINE = "#{number} {community}【{category}】{place}{owner}，逾期{late}"
OVERDUE_OWNER = "，{name}负责"
OVERDUE_MORE = "……另有 {more} 件，见街道看板 {url}"
OVERDUE_DAYS = "{days}天"
OVERDUE_HOURS = "{hours}小时"
OVERDUE_LESS_THAN_AN_HOUR = "不到1小时"


def mention_prefix(names: Iterable[str]) -> str:
    """`@张阿姨 @王芳 ` for the people a message addresses (empty when none)."""
    unique = list(dict.fromkeys(n for n in names if n))
    return "".join(f"@{name} " for name in unique)


def format_time(instant: dt.datetime | None, tz: dt.tzinfo) -> str:
    if instant is None:
        return "—"
    local = instant.astimezone(tz)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def place_text(location: str | None) -> str:
    return location or NO_PLACE


def unit_messages(settings: Settings, unit: Unit, text: str, ticket_id: int | None) -> list[Outgoing]:
    """`text` to a partner unit: in its group, mentioning its members; to each member privately when it has none."""
    group = settings.group(unit.group, unit.group) if unit.group is not None else None
    if group is None:
        return [Outgoing(m.chat_id, text, m.name, is_private=True, ticket_id=ticket_id) for m in unit.members]
    ids = tuple(m.chat_id for m in unit.members)
    prefixed = mention_prefix(m.name for m in unit.members) + text
    return [Outgoing(group.id or group.name, prefixed, group.name, ids, ticket_id=ticket_id)]
