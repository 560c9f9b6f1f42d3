"""The ledger as a community keeps its paper 台账, for `huiyin export` and the board's download.

`taizhang_rows` is pure (tickets, then known incidents (`通知`), and what was read with them in, rows of cell
values out, one at a time);
`csv_chunks` and `write_xlsx` only format them as they come, so an export of any size runs in constant
memory (the xlsx package streamed into its zip, see `write_xlsx`). Both neutralise every cell a spreadsheet would
run as a formula (residents write the descriptions and choose their own names): per OWASP's CSV-injection advice
such a cell gets a leading `'`, and in xlsx it is written as a string, never a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

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
STREET_COLUMNS = ("社区", *COLUMNS)
"""A 街道's 台账 (`huiyin street export`): every community's rows, each with its community's name first."""
STREET_WIDTHS = (12, *WIDTHS)
TICKET_KIND = "工单"
INCIDENT_KIND = "通知"
INCIDENT_NUMBER = "通知{number}"
INCIDENT_ACTIVE = "进行中"
INCIDENT_ENDED = "已恢复"
SHEET_TITLE = "问题台账"
PROGRESS_NOTE = "{status}：{note}"
PLACE_AND_GRID = "{place} / {grid}"
CSV_CHUNK_ROWS = 500
"""Rows per piece of a streamed csv."""

Cell = str | int
XLSX_COMPRESSION = 6
"""zlib's level for the xlsx package (openpyxl's)."""
HEADING_STYLE = 1
"""The header row's cell style in `XLSX_PARTS`' styles: bold on a light blue fill, centred."""
BODY_STYLE = 2
"""The other rows' cell style: wrapped, aligned to the top."""
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_OPENXML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_LETTERS = [chr(ord("A") + index) for index in range(len(STREET_COLUMNS))]
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_PARTS = {
    "[Content_Types].xml": (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_OPENXML}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OPENXML}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_OPENXML}.styles+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'{_XML}<Relationships xmlns="{_RELATIONSHIPS}"><Relationship Id="rId1" '
        f'Type="{_DOCUMENT}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_DOCUMENT}"><sheets>'
        f'<sheet name="{SHEET_TITLE}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'{_XML}<Relationships xmlns="{_RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{_DOCUMENT}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_DOCUMENT}/styles" Target="styles.xml"/></Relationships>'
    ),
    "xl/styles.xml": (
        f'{_XML}<styleSheet xmlns="{_MAIN}"><fonts count="2">'
        '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
        '</fill><fill><patternFill patternType="solid"><fgColor rgb="00DDEBF7"/></patternFill></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" '
        'applyAlignment="1"><alignment horizontal="center" vertical="center"/></xf>'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
        '<alignment vertical="top" wrapText="1"/></xf></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    ),
}
"""The parts of the xlsx package besides its sheet: content types, relationships, the workbook, the styles."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
"""What a spreadsheet may take as the start of a formula (OWASP's list, plus the full-width forms)."""


def _local(instant: dt.datetime | None, tz: dt.tzinfo) -> str:
    """`instant` in `tz` as `2026-11-28 09:05`, without strftime (three of these in every row of an export)."""
    if not instant:
        return ""
    t = instant.astimezone(tz)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"


def day_bounds(
    start: dt.date | None, end: dt.date | None, tz: dt.tzinfo
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The instants [from, until) of the local days `start` to `end`, inclusive (None: unbounded)."""
    since = dt.datetime.combine(start, dt.time(), tzinfo=tz) if start else None
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz) if end else None
    return since, until


def taizhang_rows(
    settings: Settings, batches: Iterable[tuple[Sequence[Ticket | Row[Any]], Details]], masker: Masker,
    incidents: Iterable[tuple[Sequence[Incident], IncidentDetails]] = (), first: int = 1,
) -> Iterator[list[Cell]]:  # fmt: skip
    """One row per ticket, in the order given, then one per incident (with its count of reporters), numbered
    from `first` (序号)."""
    rows = _Rows(settings, masker)
    number = first - 1
    for tickets, details in batches:
        for ticket in tickets:
            number += 1
            yield rows.ticket(number, ticket, details)
    for found, known in incidents:
        for incident in found:
            number += 1
            yield rows.incident(number, incident, known)


def street_taizhang_rows(
    communities: Sequence[Settings], batches: Iterable[tuple[Sequence[Row[Any]], Details]], masker: Masker,
    incidents: Iterable[tuple[Sequence[Incident], IncidentDetails]] = (), first: int = 1,
) -> Iterator[list[Cell]]:  # fmt: skip
    """A 街道's 台账 (`STREET_COLUMNS`): the rows of every community's tickets and incidents read in one pass (a
    session of no community), each named and worded by its own community's config; rows of a community the 街道
    file does not list are left out."""
    makers = {s.community.id: (s.community.name, _Rows(s, masker)) for s in communities}
    number = first - 1
    for tickets, details in batches:
        for ticket in tickets:
            if (found := makers.get(ticket.community_id)) is not None:
                number += 1
                yield [found[0], *found[1].ticket(number, ticket, details)]
    for listed, known in incidents:
        for incident in listed:
            if (found := makers.get(incident.community_id)) is not None:
                number += 1
                yield [found[0], *found[1].incident(number, incident, known)]


class _Rows:
    """A community's 台账 rows, in the words of its config (categories, grids, cadres, units) and time zone."""

    def __init__(self, settings: Settings, masker: Masker) -> None:
        self.settings, self.masker, self.tz = settings, masker, settings.tz
        self.categories = {c.id: c for c in settings.categories}  # looked up once per row: a dict, not a scan
        self.grids = {g.id: g for g in settings.grids}
        self.cadres = {c.id: c for c in settings.cadres}
        self.units = {u.id: u.name for u in settings.units}

    def ticket(self, number: int, ticket: Ticket | Row[Any], details: Details) -> list[Cell]:
        masker, tz = self.masker, self.tz
        status = Status(ticket.status)
        category = self.categories.get(ticket.category)
        grid = self.grids.get(ticket.grid_id)
        owner = self.cadres.get(ticket.assignee_id)
        hidden = masker.hides(ticket)
        reporters = [] if hidden else details.reporters.get(ticket.id, [])
        note = None if hidden else details.notes.get(ticket.id)
        finished = ticket.resolved_at or ticket.closed_at
        place = ticket.location or ""
        where = PLACE_AND_GRID.format(place=place, grid=grid.name) if grid and place else (grid.name if grid else place)
        return [
            number, ticket.id, TICKET_KIND, _local(ticket.created_at, tz),
            "、".join(masker.name(r) for r in reporters), len(details.reporters.get(ticket.id, ())),
            where, category.name if category else ticket.category,
            texts.PRIVATE_REPORT if hidden else masker.text(ticket.description),
            owner.name if owner else "", _local(ticket.resolution_due_at, tz),
            ticket.commitment_date.isoformat() if ticket.commitment_date else "",
            _progress(status, masker.text(note.text) if note else None),
            _local(finished, tz), duration_text(finished - ticket.created_at) if finished else "",
            ticket.rating or "", self.units.get(ticket.unit_id, ticket.unit_id or ""),
            SOURCE_NAMES.get(ticket.source, ticket.source),
        ]  # fmt: skip

    def incident(self, number: int, incident: Incident, known: IncidentDetails) -> list[Cell]:
        masker, tz = self.masker, self.tz
        category = self.categories.get(incident.category)
        ended = incident.ended_at if incident.status == IncidentStatus.ENDED.value else None
        note = known.end_notes.get(incident.id or 0)
        state = PROGRESS_NOTE.format(status=INCIDENT_ENDED, note=masker.text(note)) if note else INCIDENT_ENDED
        state = state if ended else INCIDENT_ACTIVE
        return [
            number, INCIDENT_NUMBER.format(number=incident.id), INCIDENT_KIND, _local(incident.starts_at, tz), "",
            known.reporters.get(incident.id or 0, 0), scope_text(self.settings, incident),
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
    """`neutralised` of every cell, inlined: it runs for every cell of an export."""
    return ["'" + c if c.__class__ is str and c.startswith(FORMULA_STARTS) else c for c in row]


def write_xlsx(
    rows: Iterable[Sequence[Cell]], out: str | IO[bytes], columns: Sequence[str] = COLUMNS,
    widths: Sequence[int] = WIDTHS,
) -> int:  # fmt: skip
    """A workbook with a bold, frozen header row and column widths fit for printing; text is never a formula.

    The package is written here, part by part, and its sheet row by row as inline strings: what openpyxl's
    write-only mode writes, at a tenth of its cost per cell (a cell object, a style lookup and an XML element
    each), which was most of an export's time. Characters XML cannot hold (control characters other than tab
    and line breaks) are left out. The number of rows written is returned."""
    count = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=XLSX_COMPRESSION) as package:
        for name, part in XLSX_PARTS.items():
            package.writestr(name, part)
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_sheet_head(widths).encode())
            pending = [_xlsx_row(1, columns, HEADING_STYLE)]
            for count, row in enumerate(rows, start=1):
                pending.append(_xlsx_row(count + 1, _safe_row(row), BODY_STYLE))
                if len(pending) >= CSV_CHUNK_ROWS:
                    sheet.write("".join(pending).encode())
                    pending.clear()
            pending.append("</sheetData></worksheet>")
            sheet.write("".join(pending).encode())
    return count


def _sheet_head(column_widths: Sequence[int]) -> str:
    widths = "".join(
        f'<col min="{index}" max="{index}" width="{width}" customWidth="1"/>'
        for index, width in enumerate(column_widths, start=1)
    )
    return (
        f'{_XML}<worksheet xmlns="{_MAIN}"><sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{widths}</cols><sheetData>'
    )


def _xlsx_row(number: int, row: Sequence[Cell], style: int) -> str:
    """One `<row>`: numbers as numbers, text as inline strings, an empty cell styled but without a value."""
    cells = []
    for letter, value in zip(_LETTERS, row, strict=False):
        where = f'<c r="{letter}{number}" s="{style}"'
        if isinstance(value, str):
            if value:
                text = _NOT_XML.sub("", value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                text = text.replace("\r", "&#13;")  # a parser reads a bare carriage return as a line feed
                cells.append(f'{where} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
            else:
                cells.append(where + "/>")
        else:
            cells.append(f"{where}><v>{value}</v></c>")
    return f'<row r="{number}">{"".join(cells)}</row>'


def to_xlsx(rows: Iterable[Sequence[Cell]]) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(rows, buffer)
    return buffer.getvalue()


def csv_chunks(
    rows: Iterable[Sequence[Cell]], columns: Sequence[str] = COLUMNS, *, head: bool = True
) -> Iterator[bytes]:
    """The csv in pieces of `CSV_CHUNK_ROWS` rows: UTF-8 with a byte-order mark first, so Excel on a community
    office PC shows the Chinese correctly, and the column names (without `head`: the rows alone, a part of a csv
    begun elsewhere)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if head:
        buffer.write("\ufeff")
        writer.writerow(columns)
    for index, row in enumerate(rows, start=1):
        writer.writerow(_safe_row(row))
        if index % CSV_CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_csv(
    rows: Iterable[Sequence[Cell]], out: IO[bytes], columns: Sequence[str] = COLUMNS, *, head: bool = True
) -> int:
    """The csv written to `out` piece by piece (`csv_chunks`); the number of rows written is returned."""
    count = 0

    def counted() -> Iterator[Sequence[Cell]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    for piece in csv_chunks(counted(), columns, head=head):
        out.write(piece)
    return count


def to_csv(rows: Iterable[Sequence[Cell]]) -> bytes:
    return b"".join(csv_chunks(rows))
