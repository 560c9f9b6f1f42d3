"""The board's web app: the public wall, ticket pages, weekly statistics, the cadre view, downloads, Open311.

Pages are rendered on the server with Jinja2 and need no script and no outside asset. Every request asks
the ledger, through a read-only engine, for what it shows (`board.reader`, `storage.board_queries`): a page
of rows with its counts, one ticket, the week's figures counted by the database, or a download streamed
batch by batch. Only Open311's POST writes, through the bot.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine

from board import open311, texts
from board.export import csv_chunks, taizhang_rows, write_xlsx
from board.reader import MAX_NUMBER, LedgerReader
from board.stats import LedgerFigures, weekly_stats
from board.views import (
    PAGE_SIZE,
    RECENT,
    Filters,
    IncidentRow,
    TicketRow,
    counts,
    incident_row,
    incident_timeline,
    timeline,
    voice_entries,
)
from ledger.clock import Clock
from ledger.links import CadreLink, check_link
from ledger.wording import format_time
from settings.models import Cadre, Settings
from settings.secrets import BoardSecrets
from storage import incident_queries
from storage.board_queries import (
    Segment,
    Wall,
    announcements,
    export_batches,
    shown_publicly,
    voices,
    wall_counts,
    wall_page,
)
from storage.incidents import get_incident
from storage.tickets import get_ticket

if TYPE_CHECKING:
    from bot.app import Huiyin

HERE = Path(__file__).resolve().parent
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]), trim_blocks=True,
    lstrip_blocks=True,
)  # fmt: skip


FilterValue = Annotated[str, Query(max_length=64)]
After = Annotated[int | None, Query(ge=1, le=MAX_NUMBER, description="the last ticket of the previous page")]
XLSX_PIECE = 1 << 16
INCIDENTS_SHOWN = 50
"""The most active incidents, and the most recently ended ones, at the top of a wall."""
JOINS_SHOWN = 500
"""The most joins an incident's timeline reads (each is one resident; they are counted in runs)."""


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


MEDIA_TYPES = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.CSV: "text/csv; charset=utf-8",
}


@dataclass
class Board:
    settings: Settings
    engine: Engine
    clock: Clock
    base: str = ""
    """The path the board is served under: empty for a community's own board, `/c/<id>` in a 街道's."""
    street_url: str = ""
    """The 街道's overview, linked from every page of a community's board in a 街道's (empty: none)."""

    def __post_init__(self) -> None:
        self.reader = LedgerReader(self.settings, self.engine)

    def now(self) -> dt.datetime:
        return self.clock.now().astimezone(self.settings.tz)

    def page(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        now = self.now()
        html = TEMPLATES.get_template(template).render(
            community=self.settings.community.name, updated=format_time(now, self.settings.tz), base=self.base,
            street_url=self.street_url, **values,
        )
        return HTMLResponse(html, status_code=status)

    def filters(self, grid: str, category: str, status: str) -> Filters:
        """The filters asked for, with unknown values dropped."""
        return Filters(
            grid=grid if self.settings.grid(grid) else "",
            category=category if self.settings.category(category) else "",
            status=status if status in texts.STATUS_FILTERS else "",
        )

    def filter_options(self) -> dict[str, list[tuple[str, str]]]:
        return {
            "grids": [(g.id, g.name) for g in self.settings.grids],
            "categories": [(c.id, c.name) for c in self.settings.categories],
            "statuses": list(texts.STATUS_FILTERS.items()),
        }

    def wall(self, wall: Wall, after: int | None, *, masked: bool) -> tuple[list[TicketRow], int | None]:
        """A page of the wall's rows and the number to continue after (None: the last page)."""
        if not self.reader.ready():
            return [], None
        with self.reader.session() as session:
            tickets = wall_page(session, wall, after=after, limit=PAGE_SIZE + 1)
            shown = tickets[:PAGE_SIZE]
            rows = self.reader.rows(session, shown, wall.now, self.reader.masker(session, masked=masked))
        return rows, shown[-1].id if len(tickets) > PAGE_SIZE else None

    def incidents(self, filters: Filters, now: dt.datetime, *, masked: bool) -> dict[str, list[IncidentRow]]:
        """The incidents at the top of a wall: `active` ones, and `recent` ones (ended or past their expected end
        within `RECENT`), newest first, as the filters select them."""
        shown: dict[str, list[IncidentRow]] = {"active": [], "recent": []}
        if not self.reader.ready():
            return shown
        scope = filters.incidents(self.settings)
        with self.reader.session() as session:
            found = {
                "active": incident_queries.active_page(session, now, scope, limit=INCIDENTS_SHOWN)
                if filters.shows_active_incidents
                else [],
                "recent": incident_queries.recent_page(session, now, now - RECENT, scope, limit=INCIDENTS_SHOWN)
                if filters.shows_ended_incidents
                else [],
            }
            ids = [i.id for incidents in found.values() for i in incidents if i.id is not None]
            reporters = incident_queries.reporter_counts(session, ids)
            masker = self.reader.masker(session, masked=masked)
            for key, incidents in found.items():
                shown[key] = [
                    incident_row(self.settings, i, reporters.get(i.id or 0, 0), now, masker) for i in incidents
                ]
        return shown

    def counts(self, wall: Wall) -> dict[str, int]:
        if not self.reader.ready():
            return counts({})
        with self.reader.session() as session:
            return counts(wall_counts(session, wall))

    def taizhang(self, filters: Filters, now: dt.datetime) -> Iterator[list[Any]]:
        """The download's rows, read batch by batch while they are written out."""
        if not self.reader.ready():
            return
        with self.reader.session() as session:
            batches = export_batches(
                session, grid=filters.grid, category=filters.category, status=filters.status, now=now
            )
            incidents = incident_queries.export_batches(
                session, scope=filters.incidents(self.settings), status=filters.status
            )
            yield from taizhang_rows(self.settings, batches, self.reader.masker(session), incidents)


def create_app(
    settings: Settings, engine: Engine, clock: Clock, secrets: BoardSecrets, *, bot: Huiyin | None = None,
    base: str = "", street_url: str = "",
) -> FastAPI:
    """The board over `engine` (give it a read-only one); `bot` (a `Huiyin`) enables Open311 POST. `base` is the
    path it is mounted at in a 街道's board (`/c/<id>`): its pages link under it, and to `street_url`."""
    board = Board(settings, engine, clock, base, street_url)
    # No /docs or /redoc: FastAPI serves them from a CDN, and the board must work inside a closed network.
    app = FastAPI(title=f"回音 Huiyin · {settings.community.name}", version="1.0", docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(
        open311.make_router(
            open311.Open311Deps(
                settings=settings,
                reader=board.reader,
                now=board.now,
                api_key=secrets.api_key,
                bot=bot,
                board_url=settings.board.url,
            )
        )
    )

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> Response:
        """Open311 answers bad parameters with 400 and its error list; pages with a short 400 page."""
        if request.url.path.startswith(open311.PREFIX):
            fmt = open311.format_of_path(request.url.path)
            return open311.error_response(fmt, 400, "; ".join(_describe(e) for e in error.errors()))
        return board.page("error.html", 400, title=texts.BAD_REQUEST_TITLE, message=texts.BAD_REQUEST)

    @app.get("/", response_class=HTMLResponse, summary="The public wall")
    def wall(
        grid: FilterValue = "", category: FilterValue = "", status: FilterValue = "", after: After = None
    ) -> HTMLResponse:
        filters = board.filters(grid, category, status)
        wall = filters.wall(board.now())
        rows, next_after = board.wall(wall, after, masked=True)
        return board.page(
            "wall.html", title=texts.WALL_TITLE, rows=rows, filters=filters, options=board.filter_options(),
            counts=board.counts(wall), export_query=filters.query(), link_prefix=board.base,
            first_page=after is not None,
            incidents=board.incidents(filters, wall.now, masked=True),
            first_query=filters.query(), next_query=filters.query(after=next_after) if next_after else "",
        )  # fmt: skip

    @app.get("/tickets/{number}", response_class=HTMLResponse, summary="A ticket and its public timeline")
    def ticket_page(number: int) -> HTMLResponse:
        return _ticket_page(board, number, masked=True, link_prefix=board.base)

    @app.get("/incidents/{number}", response_class=HTMLResponse, summary="A known incident (通知) and its timeline")
    def incident_page(number: int) -> HTMLResponse:
        return _incident_page(board, number, masked=True, link_prefix=board.base)

    @app.get("/stats", response_class=HTMLResponse, summary="Weekly statistics")
    def stats(week: dt.date | None = None) -> HTMLResponse:
        now = board.now()
        day = week or now.date()
        if not dt.date(2000, 1, 1) <= day <= dt.date(2999, 12, 31):
            return board.page("error.html", 400, title=texts.BAD_REQUEST_TITLE, message=texts.BAD_REQUEST)
        with board.reader.session() as session:
            weekly = weekly_stats(settings, LedgerFigures(session) if board.reader.ready() else [], day, now)
        previous = weekly.period.start.date() - dt.timedelta(days=7)
        following = weekly.period.end.date()
        return board.page(
            "stats.html", title=texts.STATS_TITLE, stats=weekly, previous=previous.isoformat(),
            following=following.isoformat() if following <= now.date() else "",
        )  # fmt: skip

    @app.get("/export.{fmt}", summary="The ledger (台账) of the selected filters, names and numbers masked")
    def export(
        fmt: ExportFormat, grid: FilterValue = "", category: FilterValue = "", status: FilterValue = ""
    ) -> Response:
        filters = board.filters(grid, category, status)
        now = board.now()
        name = texts.EXPORT_FILENAME.format(today=now.date().isoformat(), ext=fmt.value)
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        if fmt is ExportFormat.CSV:
            body = csv_chunks(board.taizhang(filters, now))
        else:
            file = tempfile.TemporaryFile()  # a zip is written whole before it can be read: on disk, not in memory
            write_xlsx(board.taizhang(filters, now), file)
            file.seek(0)
            body = _pieces(file)
        return StreamingResponse(body, media_type=MEDIA_TYPES[fmt], headers=disposition)

    @app.get("/cadre/{token}", response_class=HTMLResponse, summary="A cadre's view (signed, expiring link)")
    def cadre_view(token: str, after: After = None) -> HTMLResponse:
        cadre = _cadre_of(board, secrets, token)
        if isinstance(cadre, HTMLResponse):
            return cadre
        now = board.now()
        wall = Filters().wall(now, public=False)  # patrol findings not made public yet too
        rows, next_after = board.wall(wall, after, masked=False)
        mine = Wall(
            now=now, since=now - RECENT, segments=(Segment.OVERDUE, Segment.OPEN), assignee_id=cadre.id, public=False
        )
        queue, _ = board.wall(mine, None, masked=False)
        return board.page(
            "cadre.html",
            unmasked=True, title=texts.CADRE_TITLE.format(cadre=cadre.name), cadre=cadre, queue=queue,
            queue_count=board.counts(mine)["open"], rows=rows, counts=board.counts(wall),
            incidents=board.incidents(Filters(), now, masked=False),
            link_prefix=f"{board.base}/cadre/{token}", first_page=after is not None,
            next_query=Filters().query(after=next_after) if next_after else "",
        )  # fmt: skip

    @app.get("/cadre/{token}/tickets/{number}", response_class=HTMLResponse, summary="A ticket, unmasked")
    def cadre_ticket(token: str, number: int) -> HTMLResponse:
        cadre = _cadre_of(board, secrets, token)
        if isinstance(cadre, HTMLResponse):
            return cadre
        return _ticket_page(board, number, masked=False, link_prefix=f"{board.base}/cadre/{token}")

    @app.get("/cadre/{token}/incidents/{number}", response_class=HTMLResponse, summary="A known incident, for a cadre")
    def cadre_incident(token: str, number: int) -> HTMLResponse:
        cadre = _cadre_of(board, secrets, token)
        if isinstance(cadre, HTMLResponse):
            return cadre
        return _incident_page(board, number, masked=False, link_prefix=f"{board.base}/cadre/{token}")

    return app


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body"))
    return f"{where}: {error.get('msg', 'invalid')}"


def _pieces(file: IO[bytes]) -> Iterator[bytes]:
    with file:
        while piece := file.read(XLSX_PIECE):
            yield piece


def _ticket_page(board: Board, number: int, *, masked: bool, link_prefix: str) -> HTMLResponse:
    with board.reader.session() as session:
        ready = board.reader.ready() and 1 <= number <= MAX_NUMBER
        ticket = get_ticket(session, number) if ready else None
        if ticket is None or (masked and not shown_publicly(ticket)):  # a patrol finding before 公开: cadres only
            message = texts.NOT_FOUND.format(number=number)
            return board.page("error.html", 404, title=texts.NOT_FOUND_TITLE, message=message)
        masker = board.reader.masker(session, masked=masked)
        [row] = board.reader.rows(session, [ticket], board.now(), masker)
        seen = [] if masker.hides(ticket) else announcements(session, ticket)
        said = [] if masker.hides(ticket) else voices(session, ticket)
    return board.page(
        "ticket.html",
        unmasked=not masked, title=f"#{row.number} {row.category}", row=row,
        timeline=timeline(board.settings, ticket, seen, masker), link_prefix=link_prefix,
        voices=voice_entries(board.settings, ticket, said, masker),
    )  # fmt: skip


def _incident_page(board: Board, number: int, *, masked: bool, link_prefix: str) -> HTMLResponse:
    with board.reader.session() as session:
        ready = board.reader.ready() and 1 <= number <= MAX_NUMBER
        incident = get_incident(session, number) if ready else None
        if incident is None or incident.id is None:
            message = texts.INCIDENT_NOT_FOUND.format(number=number)
            return board.page("error.html", 404, title=texts.NOT_FOUND_TITLE, message=message)
        now = board.now()
        masker = board.reader.masker(session, masked=masked)
        count = incident_queries.reporter_counts(session, [incident.id]).get(incident.id, 0)
        row = incident_row(board.settings, incident, count, now, masker)
        found = incident_queries.history(session, incident.id, limit=JOINS_SHOWN)
        entries = incident_timeline(board.settings, found, masker)
    more = found.joins - found.shown_joins
    title = texts.INCIDENT_TITLE.format(number=row.number, scope=row.scope, category=row.category)
    return board.page(
        "incident.html",
        unmasked=not masked, title=title,
        incident=row, timeline=entries, link_prefix=link_prefix,
        more=texts.INCIDENT_MORE_JOINS.format(count=more) if more > 0 else "",
    )  # fmt: skip


def _cadre_of(board: Board, secrets: BoardSecrets, token: str) -> Cadre | HTMLResponse:
    """The cadre a link was signed for, or the 403 page saying why it is refused."""
    if secrets.link_secret is None:
        reason = "disabled"
    else:
        checked = check_link(secrets.link_secret, token, board.now())
        if isinstance(checked, CadreLink):
            cadre = board.settings.cadre(checked.cadre_id)
            if cadre is not None:
                return cadre
            reason = "unknown_cadre"
        else:
            reason = checked.value
    return board.page(
        "forbidden.html", 403, title=texts.FORBIDDEN_TITLE, message=texts.FORBIDDEN_REASONS[reason],
        hint=texts.FORBIDDEN_HINT,
    )  # fmt: skip
