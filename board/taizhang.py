"""The 台账 as `huiyin export` and `huiyin street export` write it (`TaizhangExport`), and a large csv of it written by
two processes, each reading and wording half of the tickets.

Most of an export's time is the bot's own Python (reading rows, wording them, masking names and numbers), which
runs on one core: a 街道's ledger of a million tickets took over a minute. From `SPLIT_FROM` tickets a csv is
cut at its middle ticket (`storage.board_queries.export_middle`): a second process reads the later half into a
file of its own while this one writes the first half, then the later half is copied after it, and the incidents
last. The rows are the same, in the same order and numbered the same, as one process writes them (tests say so);
each process holds one batch at a time, and the later half waits on disk, not in memory.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy.engine import Engine
from sqlmodel import Session

from board.export import (
    COLUMNS,
    STREET_COLUMNS,
    STREET_WIDTHS,
    WIDTHS,
    Cell,
    street_taizhang_rows,
    taizhang_rows,
    write_csv,
    write_xlsx,
)
from board.reader import LedgerReader
from board.readonly import read_only_engine
from board.views import Masker
from settings.models import Settings
from settings.street import Street
from storage import incident_queries
from storage.board_queries import export_batches, export_middle

SPLIT_FROM = 50_000
"""Tickets from which a csv export is written by two processes (below, starting one costs more than it saves)."""


@dataclass(frozen=True)
class TaizhangExport:
    """A 台账 as `huiyin export` asks for it (the community of `settings`; with `every_community`, every
    community's tickets in its words) or `huiyin street export` (`street`: each community's rows in its own words,
    a 社区 column first): all another process needs to write a part of it."""

    database_url: str
    settings: Settings
    now: dt.datetime
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    masked: bool = True
    every_community: bool = False
    street: Street | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return STREET_COLUMNS if self.street is not None else COLUMNS

    @property
    def widths(self) -> tuple[int, ...]:
        return STREET_WIDTHS if self.street is not None else WIDTHS

    def reader(self, engine: Engine) -> LedgerReader:
        every = self.every_community or self.street is not None
        return LedgerReader(self.settings, engine, every_community=every)

    def rows(
        self, session: Session, masker: Masker, *, after: int = 0, up_to: int | None = None, first: int = 1,
        tickets: bool = True, incidents: bool = True,
    ) -> Iterator[list[Cell]]:  # fmt: skip
        """The rows of the tickets numbered above `after` up to `up_to` (with `tickets`), then of the incidents
        (with `incidents`), numbered from `first`."""
        span = {"start": self.start, "end": self.end}
        batches = export_batches(session, now=self.now, after=after, up_to=up_to, **span) if tickets else ()
        found = incident_queries.export_batches(session, **span) if incidents else ()
        if self.street is not None:
            return street_taizhang_rows(self.street.communities, batches, masker, found, first)
        return taizhang_rows(self.settings, batches, masker, found, first)


def write_xlsx_export(export: TaizhangExport, engine: Engine, out: IO[bytes]) -> int:
    """`export` as a workbook written to `out` (one process); the number of rows written."""
    reader = export.reader(engine)
    with reader.session() as session:
        masker = reader.masker(session, masked=export.masked)
        return write_xlsx(export.rows(session, masker), out, export.columns, export.widths)


def write_csv_export(export: TaizhangExport, engine: Engine, out: IO[bytes], *, split_from: int | None = None) -> int:
    """`export` written to `out` (by two processes from `split_from` tickets, default `SPLIT_FROM`); the number of
    rows written."""
    reader = export.reader(engine)
    least = SPLIT_FROM if split_from is None else split_from
    with reader.session() as session:
        masker = reader.masker(session, masked=export.masked)
        middle = export_middle(session, start=export.start, end=export.end, now=export.now, least=least)
        if middle is None:
            return write_csv(export.rows(session, masker), out, export.columns)
        up_to, first_half = middle
        spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no copy of this one's connections
        with tempfile.TemporaryDirectory() as directory, ProcessPoolExecutor(1, mp_context=spawn) as pool:
            later = Path(directory) / "later.csv"
            second_half = pool.submit(_write_later_half, export, up_to, first_half + 1, later)
            count = write_csv(export.rows(session, masker, up_to=up_to, incidents=False), out, export.columns)
            count += second_half.result()
            with later.open("rb") as part:
                shutil.copyfileobj(part, out)
            incidents = export.rows(session, masker, first=count + 1, tickets=False)
            return count + write_csv(incidents, out, export.columns, head=False)


def _write_later_half(export: TaizhangExport, after: int, first: int, path: Path) -> int:
    """In the second process: the rows of the tickets numbered above `after`, numbered from `first`, written to
    `path` without the csv's head; how many."""
    engine = read_only_engine(export.database_url)
    try:
        reader = export.reader(engine)
        with reader.session() as session, path.open("wb") as file:
            masker = reader.masker(session, masked=export.masked)
            rows = export.rows(session, masker, after=after, first=first, incidents=False)
            return write_csv(rows, file, export.columns, head=False)
    finally:
        engine.dispose()
