"""A 街道's board: its overview at `/` (the three rates of each community side by side, the overdue tickets of
every community — 督办 — and the week's counts by category), and each community's own board at `/c/<id>/`.

The overview reads across communities (a session of no community) with aggregates and a `LIMIT`; each
community's board is `board.web.create_app` mounted under its path, reading its community only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

from board import texts
from board.stats import week_of
from board.web import HERE, TEMPLATES, create_app
from ledger.clock import Clock
from ledger.rates import Rates, format_rate
from ledger.supervision import lateness, names_in
from ledger.wording import format_time
from settings.secrets import BoardSecrets
from settings.street import Street
from storage.board_queries import rates_by_community
from storage.db import new_session
from storage.schema import ledger_exists
from storage.street_queries import overdue_by_community, overdue_tickets, received_by_category

if TYPE_CHECKING:
    from bot.app import Huiyin

OVERDUE_SHOWN = 100
"""The longest overdue tickets the overview lists; the count above it covers all."""


@dataclass(frozen=True)
class CommunityRow:
    id: str
    name: str
    path: str
    received: int
    response_rate: str
    resolution_rate: str
    satisfaction_rate: str
    overdue: int


@dataclass(frozen=True)
class OverdueRow:
    number: int
    community: str
    path: str
    category: str
    place: str
    owner: str
    late: str


def community_path(community_id: str) -> str:
    return f"/c/{community_id}"


def create_street_app(
    street: Street, engine: Engine, clock: Clock, secrets: BoardSecrets, *, bots: Mapping[str, Huiyin] | None = None
) -> FastAPI:
    """The 街道's overview and every community's board under it, over `engine` (a read-only one); `bots` (each
    community's app, by id) enable Open311 POST on the communities' boards."""
    app = FastAPI(title=f"回音 Huiyin · {street.info.name}", docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for settings in street.communities:
        community, path = settings.community.id, community_path(settings.community.id)
        bot = (bots or {}).get(community)
        app.mount(path, create_app(settings, engine, clock, secrets, bot=bot, base=path, street_url="/"))

    @app.get("/", response_class=HTMLResponse, summary="The 街道's overview")
    def overview() -> HTMLResponse:
        now = clock.now().astimezone(street.tz)
        period = week_of(now.date(), street.tz)
        rows, overdue, total, categories = [], [], 0, []
        if ledger_exists(engine):
            with new_session(engine) as session:
                rates = rates_by_community(session, period, now)
                counts = overdue_by_community(session, now)
                listed = overdue_tickets(session, now, limit=OVERDUE_SHOWN)
                by_category = received_by_category(session, period)
            rows = [_community_row(s.community.id, s.community.name, rates.get(s.community.id), counts)
                    for s in street.communities]  # fmt: skip
            names = names_in(street)
            overdue = [
                OverdueRow(
                    t.number, names.community(t.community_id), f"{community_path(t.community_id)}/tickets/{t.number}",
                    names.category(t.community_id, t.category), t.location or texts.NO_PLACE,
                    names.owner(t) or texts.NO_OWNER, lateness(now - t.due_at),
                )
                for t in listed
            ]  # fmt: skip
            total = sum(counts.values())
            categories = [(_category_name(street, c), n) for c, n in by_category.most_common()]
        html = TEMPLATES.get_template("street.html").render(
            title=texts.STREET_TITLE, community=street.info.name, base="", updated=format_time(now, street.tz),
            week=texts.WEEK_LABEL.format(start=period.start, end=period.end - dt.timedelta(days=1)),
            rows=rows, overdue=overdue, overdue_total=total, categories=categories,
        )  # fmt: skip
        return HTMLResponse(html)

    return app


def _community_row(community_id: str, name: str, rates: Rates | None, overdue: dict[str, int]) -> CommunityRow:
    rates = rates or Rates(0, 0, 0, 0, 0, 0, 0, 0)
    return CommunityRow(
        community_id, name, community_path(community_id), rates.received, format_rate(rates.response_rate),
        format_rate(rates.resolution_rate), format_rate(rates.satisfaction_rate), overdue.get(community_id, 0),
    )  # fmt: skip


def _category_name(street: Street, category_id: str) -> str:
    """The name the first community that has the category gives it."""
    for settings in street.communities:
        category = settings.category(category_id)
        if category is not None:
            return category.name
    return category_id
