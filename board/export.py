"""The ledger as a community keeps its paper 台账, for `huiyin export` and the board's download.

`taizhang_rows` is pure (a snapshot in, rows of cell values out); `to_xlsx` and `to_csv` only format them,
and neutralise every cell a spreadsheet would run as a formula (residents write the descriptions and choose
their own names): per OWASP's CSV-injection advice such a cell gets a leading `'`, and in xlsx it is
written as a string, never a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from board import texts
from board.snapshot import LedgerSnapshot
from board.views import Masker, duration_text
from ledger.lifecycle import Status
from ledger.wording import STATUS_NAMES
from settings.models import Settings
from storage.models import Ticket

COLUMNS = (
    "序号", "编号", "反映时间", "反映人", "楼栋/网格", "问题类别", "问题描述", "责任人", "办结时限", "承诺办结",
    "办理情况", "办结时间", "用时", "满意度",
)  # fmt: skip
"""办结时限 is the deadline the category's SLA set; 承诺办结 the day the cadre promised (承诺), if any."""
WIDTHS = (6, 7, 17, 16, 18, 12, 40, 8, 17, 11, 40, 17, 12, 9)
SHEET_TITLE = "问题台账"
PROGRESS_NOTE = "{status}：{note}"
PLACE_AND_GRID = "{place} / {grid}"
TIME_FORMAT = "%Y-%m-%d %H:%M"

Cell = str | int
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
"""What a spreadsheet may take as the start of a formula (OWASP's list, plus the full-width forms)."""


def _local(instant: dt.datetime | None, tz: dt.tzinfo) -> str:
    return instant.astimezone(tz).strftime(TIME_FORMAT) if instant else ""


def _in_range(ticket: Ticket, tz: dt.tzinfo, start: dt.date | None, end: dt.date | None) -> bool:
    day = ticket.created_at.astimezone(tz).date()
    return (start is None or day >= start) and (end is None or day <= end)


def taizhang_rows(
    settings: Settings,
    snapshot: LedgerSnapshot,
    masker: Masker,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    include: Callable[[Ticket], bool] = lambda _ticket: True,
) -> list[list[Cell]]:
    """One row per ticket created from `start` to `end` (local dates, inclusive) that `include` accepts."""
    tz = settings.tz
    rows: list[list[Cell]] = []
    for ticket in snapshot.tickets:
        if not (_in_range(ticket, tz, start, end) and include(ticket)):
            continue
        status = Status(ticket.status)
        category = settings.category(ticket.category)
        grid = settings.grid(ticket.grid_id)
        owner = settings.cadre(ticket.assignee_id) if ticket.assignee_id else None
        hidden = masker.hides(ticket)
        reporters = [] if hidden else snapshot.reporters.get(ticket.id, [])
        note = None if hidden else snapshot.latest_note(ticket.id)
        finished = ticket.resolved_at or ticket.closed_at
        place = ticket.location or ""
        rows.append([
            len(rows) + 1, ticket.id, _local(ticket.created_at, tz),
            "、".join(masker.name(r.member_name) for r in reporters if r.active),
            PLACE_AND_GRID.format(place=place, grid=grid.name) if grid and place else (grid.name if grid else place),
            category.name if category else ticket.category,
            texts.PRIVATE_REPORT if hidden else masker.text(ticket.description),
            owner.name if owner else "", _local(ticket.resolution_due_at, tz),
            ticket.commitment_date.isoformat() if ticket.commitment_date else "",
            _progress(status, masker.text(note.text) if note else None),
            _local(finished, tz), duration_text(finished - ticket.created_at) if finished else "", ticket.rating or "",
        ])  # fmt: skip
    return rows


def _progress(status: Status, note: str | None) -> str:
    """办理情况: the status, with the latest note a cadre wrote when there is one."""
    return PROGRESS_NOTE.format(status=STATUS_NAMES[status], note=note) if note else STATUS_NAMES[status]


def neutralised(cell: Cell) -> Cell:
    """`cell`, with a leading `'` if a spreadsheet would otherwise read it as a formula."""
    return "'" + cell if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell


def _safe_row(row: Sequence[Cell]) -> list[Cell]:
    return [neutralised(cell) for cell in row]


def to_xlsx(rows: Sequence[Sequence[Cell]]) -> bytes:
    """A workbook with a bold, frozen header row and column widths fit for printing; text is never a formula."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(_safe_row(row))
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl stores any value starting with `=` as a formula otherwise
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_csv(rows: Sequence[Sequence[Cell]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel on a community office PC shows the Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(map(_safe_row, rows))
    return buffer.getvalue().encode("utf-8-sig")
