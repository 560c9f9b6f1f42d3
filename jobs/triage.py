"""Triage timeouts: a held message (P7) nobody decided within its first-response limit is opened after all.

A lost report is worse than a false one. The ticket is opened quietly: nothing is said in the group (the
classifier was unsure, and a cadre may still find it is chatter); the cadre on duty for its grid now owns it and
is told privately. Its time limits run from the moment it is opened. One occurrence per item (`P7`), so it
happens once; an item a cadre decided meanwhile is left alone when the occurrence is carried out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from jobs import texts
from jobs.common import private
from jobs.model import Occurrence, TriageOpening
from ledger.deadlines import describe_minutes, resolution_due, response_due, shift_windows
from ledger.rota import on_duty
from ledger.wording import place_text
from settings.models import RotaOverride, Settings
from storage.models import TriageItem

JOB = "triage"


def due(
    settings: Settings, items: Sequence[TriageItem], now: dt.datetime, overrides: Sequence[RotaOverride] = ()
) -> list[Occurrence]:
    """An opening for every undecided item whose first-response limit has passed at `now`."""
    return [_opening(settings, item, now, overrides) for item in items if _undecided(item, until=now)]


def next_at(items: Sequence[TriageItem], after: dt.datetime) -> dt.datetime | None:
    """The first limit of an undecided item strictly after `after` (the replay's next stop)."""
    return min((i.response_due_at for i in items if i.decision is None and i.response_due_at > after), default=None)


def _undecided(item: TriageItem, *, until: dt.datetime) -> bool:
    return item.decision is None and item.response_due_at <= until


def _opening(settings: Settings, item: TriageItem, now: dt.datetime, overrides: Sequence[RotaOverride]) -> Occurrence:
    assert item.id is not None
    category = settings.category(item.category) or settings.fallback_category
    windows = shift_windows(settings, category, item.grid_id)
    duty = on_duty(settings, item.grid_id, now, overrides)
    limit = describe_minutes(category.first_response_minutes)
    fields = {
        "category": category.id, "description": item.text, "location": item.location, "grid_id": item.grid_id,
        "chat_id": item.chat_id, "chat_name": item.chat_name, "chat_is_private": item.chat_is_private,
        "urgent": False, "confidence": item.confidence, "response_due_at": response_due(category, now, windows),
        "resolution_due_at": resolution_due(category, now, windows),
    }  # fmt: skip
    notice_fields = {
        "item": str(item.id), "limit": limit, "category": category.name, "place": place_text(item.location),
        "chat": texts.TRIAGE_PRIVATE_CHAT if item.chat_is_private else item.chat_name, "sender": item.sender_name,
        "text": item.text,
    }  # fmt: skip
    opening = TriageOpening(
        item.id, fields, duty.cadre.id, texts.EVENT_TRIAGE_TIMED_OUT.format(item=item.id, limit=limit),
        private(duty.cadre, texts.TRIAGE_TIMED_OUT), notice_fields,
    )
    return Occurrence(JOB, f"P{item.id}", item.response_due_at, openings=(opening,))
