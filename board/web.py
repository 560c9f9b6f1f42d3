"""The board's web app: the public wall, ticket pages, weekly statistics, the cadre view, downloads, Open311.

Pages are rendered on the server with Jinja2 and need no script and no outside asset. Every request
reads a fresh snapshot through a read-only engine; only Open311's POST writes, through the bot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine

from board import open311, texts
from board.export import taizhang_rows, to_csv, to_xlsx
from board.snapshot import LedgerSnapshot, load_snapshot
from board.stats import weekly_stats
from board.views import Filters, Masker, TicketRow, ticket_row, timeline, wall_rows
from ledger.clock import Clock
from ledger.links import CadreLink, check_link
from ledger.wording import format_time
from settings.models import Cadre, Settings
from settings.secrets import BoardSecrets

if TYPE_CHECKING:
    from bot.app import Huiyin

HERE = Path(__file__).resolve().parent
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]), trim_blocks=True,
    lstrip_blocks=True,
)  # fmt: skip


FilterValue = Annotated[str, Query(max_length=64)]


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

    def now(self) -> dt.datetime:
        return self.clock.now().astimezone(self.settings.tz)

    def snapshot(self) -> LedgerSnapshot:
        return load_snapshot(self.engine)

    def page(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        now = self.now()
        html = TEMPLATES.get_template(template).render(
            community=self.settings.community.name, updated=format_time(now, self.settings.tz), **values
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


def create_app(
    settings: Settings, engine: Engine, clock: Clock, secrets: BoardSecrets, *, bot: Huiyin | None = None
) -> FastAPI:
    """The board over `engine` (give it a read-only one); `bot` (a `Huiyin`) enables Open311 POST."""
    board = Board(settings, engine, clock)
    # No /docs or /redoc: FastAPI serves them from a CDN, and the board must work inside a closed network.
    app = FastAPI(title=f"回音 Huiyin · {settings.community.name}", version="1.0", docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(
        open311.make_router(
            open311.Open311Deps(
                settings=settings,
                snapshot=board.snapshot,
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
    def wall(grid: FilterValue = "", category: FilterValue = "", status: FilterValue = "") -> HTMLResponse:
        filters = board.filters(grid, category, status)
        snapshot = board.snapshot()
        rows = wall_rows(settings, snapshot, board.now(), filters, Masker(settings, snapshot.resident_names))
        return board.page(
            "wall.html", title=texts.WALL_TITLE, rows=rows, filters=filters, options=board.filter_options(),
            counts=_counts(rows), export_query=filters.query(), link_prefix="",
        )  # fmt: skip

    @app.get("/tickets/{number}", response_class=HTMLResponse, summary="A ticket and its public timeline")
    def ticket_page(number: int) -> HTMLResponse:
        return _ticket_page(board, number, masked=True, link_prefix="")

    @app.get("/stats", response_class=HTMLResponse, summary="Weekly statistics")
    def stats(week: dt.date | None = None) -> HTMLResponse:
        day = week or board.now().date()
        if not dt.date(2000, 1, 1) <= day <= dt.date(2999, 12, 31):
            return board.page("error.html", 400, title=texts.BAD_REQUEST_TITLE, message=texts.BAD_REQUEST)
        snapshot = board.snapshot()
        weekly = weekly_stats(settings, list(snapshot.facts.values()), day, board.now())
        previous = weekly.period.start.date() - dt.timedelta(days=7)
        following = weekly.period.end.date()
        return board.page(
            "stats.html", title=texts.STATS_TITLE, stats=weekly, previous=previous.isoformat(),
            following=following.isoformat() if following <= board.now().date() else "",
        )  # fmt: skip

    @app.get("/export.{fmt}", summary="The ledger (台账) of the selected filters, names and numbers masked")
    def export(
        fmt: ExportFormat, grid: FilterValue = "", category: FilterValue = "", status: FilterValue = ""
    ) -> Response:
        filters = board.filters(grid, category, status)
        snapshot = board.snapshot()
        masker = Masker(settings, snapshot.resident_names)
        now = board.now()
        rows = taizhang_rows(
            settings, snapshot, masker,
            include=lambda t: filters.matches(ticket_row(settings, snapshot, t, now, masker)),
        )  # fmt: skip
        body = to_xlsx(rows) if fmt is ExportFormat.XLSX else to_csv(rows)
        name = texts.EXPORT_FILENAME.format(today=now.date().isoformat(), ext=fmt.value)
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(body, media_type=MEDIA_TYPES[fmt], headers=disposition)

    @app.get("/cadre/{token}", response_class=HTMLResponse, summary="A cadre's view (signed, expiring link)")
    def cadre_view(token: str) -> HTMLResponse:
        cadre = _cadre_of(board, secrets, token)
        if isinstance(cadre, HTMLResponse):
            return cadre
        snapshot = board.snapshot()
        masker = Masker(settings, snapshot.resident_names, masked=False)
        rows = wall_rows(settings, snapshot, board.now(), Filters(), masker)
        queue = [r for r in rows if r.is_open and r.owner_id == cadre.id]
        return board.page(
            "cadre.html",
            unmasked=True, title=texts.CADRE_TITLE.format(cadre=cadre.name), cadre=cadre, queue=queue, rows=rows,
            counts=_counts(rows), link_prefix=f"/cadre/{token}",
        )  # fmt: skip

    @app.get("/cadre/{token}/tickets/{number}", response_class=HTMLResponse, summary="A ticket, unmasked")
    def cadre_ticket(token: str, number: int) -> HTMLResponse:
        cadre = _cadre_of(board, secrets, token)
        if isinstance(cadre, HTMLResponse):
            return cadre
        return _ticket_page(board, number, masked=False, link_prefix=f"/cadre/{token}")

    return app


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body"))
    return f"{where}: {error.get('msg', 'invalid')}"


def _counts(rows: list[TicketRow]) -> dict[str, int]:
    return {
        "open": sum(r.is_open for r in rows),
        "overdue": sum(r.overdue for r in rows),
        "resolved": sum(not r.is_open for r in rows),
    }


def _ticket_page(board: Board, number: int, *, masked: bool, link_prefix: str) -> HTMLResponse:
    snapshot = board.snapshot()
    ticket = next((t for t in snapshot.tickets if t.id == number), None)
    if ticket is None:
        return board.page("error.html", 404, title=texts.NOT_FOUND_TITLE, message=texts.NOT_FOUND.format(number=number))
    masker = Masker(board.settings, snapshot.resident_names, masked=masked)
    row = ticket_row(board.settings, snapshot, ticket, board.now(), masker)
    return board.page(
        "ticket.html",
        unmasked=not masked, title=f"#{row.number} {row.category}", row=row,
        timeline=timeline(board.settings, snapshot, ticket, masker), link_prefix=link_prefix,
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
