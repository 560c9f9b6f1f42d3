"""A ticket as the pure job and agenda functions read it, and how it is named in chat."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ledger.lifecycle import Status
from ledger.wording import place_text
from settings.models import Settings


@dataclass(frozen=True, slots=True)
class TicketView:
    """One ticket as the jobs see it: its ledger fields plus when its current deadlines started."""

    number: int
    status: Status
    category: str
    location: str | None
    grid_id: str | None
    chat_id: str
    chat_name: str
    chat_is_private: bool
    assignee_id: str | None
    created_at: dt.datetime
    response_due_at: dt.datetime | None
    first_response_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    resolution_since: dt.datetime | None  # when the current resolution deadline was set (creation or reopening)
    resolved_at: dt.datetime | None
    commitment_date: dt.date | None
    committed_at: dt.datetime | None
    rating: str | None
    agenda: bool
    reporters: tuple[tuple[str, str], ...] = ()  # (member id, name) of the active reporters
    # 派单: the partner unit (config `units:`) it was dispatched to, when, the unit's own limits and its first answer
    unit_id: str | None = None
    dispatched_at: dt.datetime | None = None
    unit_response_due_at: dt.datetime | None = None
    unit_resolution_due_at: dt.datetime | None = None
    unit_first_response_at: dt.datetime | None = None
    source: str = "resident"  # or `patrol` (主动发现: a cadre's 上报)
    published_at: dt.datetime | None = None  # a patrol finding made public (公开)

    @property
    def seen_by_residents(self) -> bool:
        """Not a patrol finding the residents have not been told of (`公开`)."""
        return self.source != "patrol" or self.published_at is not None


def category_name(settings: Settings, view: TicketView) -> str:
    category = settings.category(view.category)
    return category.name if category else view.category


def place(view: TicketView) -> str:
    return place_text(view.location)
