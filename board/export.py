"""The ledger as a community keeps its paper 台账, for `huiyin export` and the board's download.

`taizhang_rows` is pure (tickets, then known incidents (`通知`), and what was read with them in, rows of cell
values out, one at a time);
`csv_chunks` and `write_xlsx` only format them as they come, so an export of any size runs in constant
memory (xlsx through openpyxl's write-only mode). Both neutralise every cell a spreadsheet would run as a
formula (residents write the descriptions and choose their own names): per OWASP's CSV-injection advice
such a cell gets a leading `'`, and in xlsx it is written as a string, never a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from copy import copy
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import Row

from board import texts
from board.views import Masker, duration_text
from ledger.incidents import scope_text
from ledger.lifecycle import Status
from ledger.wording import SOURCE_NAMES, STATUS_NAMES
from settings.models import Settings
from storage.board_queries import Details
from storage.incident_queries import IncidentDetails
from storage.incidents import IncidentStatus
from storage.models import Incident, Ticket

COLUMNS = (
    "序号", "编号", "类型", "反映时间", "反映人", "反映人数", "楼栋/网格", "问题类别", "问题描述", "责任人",
    "办结时限", "承诺办结", "办理情况", "办结时间", "用时", "满意度", "承办单位", "来源",
)  # fmt: skip
"""类型 is 工单 (a ticket) or 通知 (a known incident); 办结时限 is the deadline the category's SLA set; 承诺办结 the
day the cadre promised (承诺), if any; 承办单位 the partner unit the ticket is dispatched to (派单), empty when none;
来源 who found it: 居民反映 (a resident's report) or 主动发现 (a cadre's 上报).

A known incident's row: 编号 `通知3`, its start as 反映时间, no names but the number of residents who reported
it (反映人数), its range as the place, the notice as the description, its author as 责任人, its expected end
as 办结时限, and when a cadre ended it (恢复) as 办结时间; no 承办单位 or 来源."""
WIDTHS = (6, 8, 6, 17, 16, 8, 18, 12, 40, 8, 17, 11, 40, 17, 12, 9, 14, 9)
TICKET_KIND = "工单"
INCIDENT_KIND = "通知"
INCIDENT_NUMBER = "通知{number}"
INCIDENT_ACTIVE = "进行中"
INCIDENT_ENDED = "已恢复"
SHEET_TITLE = "问题台账"
PROGRESS_NOTE = "{status}：{note}"
PLACE_AND_GRID = "{place} / {grid}"
TIME_FORMAT = "%Y-%m-%d %H:%M"
CSV_CHUNK_ROWS = 500
"""Rows per piece of a streamed csv."""

Cell = str | int
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
"""What a spreadsheet may take as the start of a formula (OWASP's list, plus the full-width forms)."""


def _local(instant: dt.datetime | None, tz: dt.tzinfo) -> str:
    return instant.astimezone(tz).strftime(TIME_FORMAT) if instant else ""


def day_bounds(
    start: dt.date | None, end: dt.date | None, tz: dt.tzinfo
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The instants [from, until) of the local days `start` to `end`, inclusive (None: unbounded)."""
    since = dt.datetime.combine(start, dt.time(), tzinfo=tz) if start else None
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz) if end else None
    return since, until


def taizhang_rows(
    settings: Settings, batches: Iterable[tuple[Sequence[Ticket | Row[Any]], Details]], masker: Masker,
    incidents: Iterable[tuple[Sequence[Incident], IncidentDetails]] = (),
) -> Iterator[list[Cell]]:  # fmt: skip
    """One row per ticket, in the order given, then one per incident (with its count of reporters), numbered
    from 1 (序号)."""
    tz = settings.tz
    categories = {c.id: c for c in settings.categories}  # looked up once per row: a dict, not a scan
    grids = {g.id: g for g in settings.grids}
    cadres = {c.id: c for c in settings.cadres}
    units = {u.id: u.name for u in settings.units}
    number = 0
    for tickets, details in batches:
        for ticket in tickets:
            number += 1
            status = Status(ticket.status)
            category = categories.get(ticket.category)
            grid = grids.get(ticket.grid_id)
            owner = cadres.get(ticket.assignee_id)
            hidden = masker.hides(ticket)
            reporters = [] if hidden else details.reporters.get(ticket.id, [])
            note = None if hidden else details.notes.get(ticket.id)
            finished = ticket.resolved_at or ticket.closed_at
            place = ticket.location or ""
            where = (
                PLACE_AND_GRID.format(place=place, grid=grid.name) if grid and place else (grid.name if grid else place)
            )
            yield [
                number, ticket.id, TICKET_KIND, _local(ticket.created_at, tz),
                "、".join(masker.name(r) for r in reporters), len(details.reporters.get(ticket.id, ())),
                where, category.name if category else ticket.category,
                texts.PRIVATE_REPORT if hidden else masker.text(ticket.description),
                owner.name if owner else "", _local(ticket.resolution_due_at, tz),
                ticket.commitment_date.isoformat() if ticket.commitment_date else "",
                _progress(status, masker.text(note.text) if note else None),
                _local(finished, tz), duration_text(finished - ticket.created_at) if finished else "",
                ticket.rating or "", units.get(ticket.unit_id, ticket.unit_id or ""),
                SOURCE_NAMES.get(ticket.source, ticket.source),
            ]  # fmt: skip
    for found, known in incidents:
        for incident in found:
            number += 1
            category = categories.get(incident.category)
            ended = incident.ended_at if incident.status == IncidentStatus.ENDED.value else None
            note = known.end_notes.get(incident.id or 0)
            state = PROGRESS_NOTE.format(status=INCIDENT_ENDED, note=masker.text(note)) if note else INCIDENT_ENDED
            state = state if ended else INCIDENT_ACTIVE
            yield [
                number, INCIDENT_NUMBER.format(number=incident.id), INCIDENT_KIND, _local(incident.starts_at, tz), "",
                known.reporters.get(incident.id or 0, 0), scope_text(settings, incident),
                category.name if category else incident.category, masker.text(incident.text), incident.author_name,
                _local(incident.expected_end_at, tz), "", state, _local(ended, tz),
                duration_text(ended - incident.starts_at) if ended else "", "", "", "",
            ]  # fmt: skip


def _progress(status: Status, note: str | None) -> str:
    """办理情况: the status, with the latest note a cadre wrote when there is one."""
    return PROGRESS_NOTE.format(status=STATUS_NAMES[status], note=note) if note else STATUS_NAMES[status]


def neutralised(cell: Cell) -> Cell:
    """`cell`, with a leading `'` if a spreadsheet would otherwise read it as a formula."""
    return "'" + cell if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell


def _safe_row(row: Sequence[Cell]) -> list[Cell]:
    return [neutralised(cell) for cell in row]


def write_xlsx(rows: Iterable[Sequence[Cell]], out: str | IO[bytes]) -> int:
    """A workbook with a bold, frozen header row and column widths fit for printing; text is never a formula.

    Written row by row (openpyxl's write-only mode); every cell's style is a copy of one made once. The
    number of rows written is returned."""
    book = Workbook(write_only=True)
    sheet: WriteOnlyWorksheet = book.create_sheet(SHEET_TITLE)
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    heading = WriteOnlyCell(sheet)
    heading.font = Font(bold=True)
    heading.fill = PatternFill("solid", fgColor="DDEBF7")
    heading.alignment = Alignment(horizontal="center", vertical="center")
    body = WriteOnlyCell(sheet)
    body.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.append([_styled(sheet, value, heading) for value in COLUMNS])
    count = 0
    for row in rows:
        sheet.append([_styled(sheet, value, body) for value in _safe_row(row)])
        count += 1
    book.save(out)
    return count


def _styled(sheet: WriteOnlyWorksheet, value: Cell, like: WriteOnlyCell) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value)
    cell._style = copy(like._style)  # the style ids `like` registered once, instead of registering per cell
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl stores any value starting with `=` as a formula otherwise
    return cell


def to_xlsx(rows: Iterable[Sequence[Cell]]) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(rows, buffer)
    return buffer.getvalue()


def csv_chunks(rows: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    """The csv in pieces of `CSV_CHUNK_ROWS` rows: UTF-8 with a byte-order mark first, so Excel on a community
    office PC shows the Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    for index, row in enumerate(rows, start=1):
        writer.writerow(_safe_row(row))
        if index % CSV_CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_csv(rows: Iterable[Sequence[Cell]], out: IO[bytes]) -> int:
    """The csv written to `out` piece by piece; the number of rows written is returned."""
    count = 0

    def counted() -> Iterator[Sequence[Cell]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    for piece in csv_chunks(counted()):
        out.write(piece)
    return count


def to_csv(rows: Iterable[Sequence[Cell]]) -> bytes:
    return b"".join(csv_chunks(rows))
