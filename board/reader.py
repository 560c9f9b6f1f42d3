"""The board's way into the ledger: read-only sessions, the residents' names for masking, rows for a page.

The board never holds the ledger: each request asks `storage.board_queries` for what it shows. Only the
residents' names are kept between requests: reporter rows never change their name, so only rows added since
are read; members may be renamed, so their names are read again at each request (one column of one row per
resident), and the `Masker` is rebuilt only when the names changed.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlmodel import Session

from board.views import Masker, TicketRow, ticket_row
from settings.models import Settings
from storage.board_queries import details, member_names, reporter_names_after
from storage.db import new_session
from storage.models import Ticket
from storage.schema import ledger_exists

MAX_NUMBER = 2**31 - 1
"""The largest ticket number the ledger can hold (PostgreSQL's integer): larger ones are not looked up."""


class LedgerReader:
    def __init__(self, settings: Settings, engine: Engine, *, every_community: bool = False) -> None:
        """A reader of the community of `settings`, or (`every_community`) of every community of the ledger."""
        self.settings = settings
        self.engine = engine
        self.community_id = None if every_community else settings.community.id
        self._exists = False
        self._lock = threading.Lock()
        self._reporters_read = 0
        self._reporter_names: set[str] = set()
        self._names: frozenset[str] | None = None
        self._masker = Masker(settings, ())

    def ready(self) -> bool:
        """Whether the ledger's tables are there (the bot has run on this database): until then pages are empty."""
        if not self._exists:
            self._exists = ledger_exists(self.engine)
        return self._exists

    @contextmanager
    def session(self) -> Iterator[Session]:
        with new_session(self.engine, self.community_id) as session:
            yield session

    def masker(self, session: Session, *, masked: bool = True) -> Masker:
        """A public masker knowing every name residents have used (members' names and reporters'), or a cadre's."""
        if not masked:
            return Masker(self.settings, (), masked=False)
        if not self.ready():
            return self._masker
        with self._lock:
            self._reporters_read, added = reporter_names_after(session, self._reporters_read)
            self._reporter_names |= added
            names = frozenset(member_names(session)).union(self._reporter_names)
            if names != self._names:
                self._names, self._masker = names, Masker(self.settings, names)
            return self._masker

    def rows(self, session: Session, tickets: Sequence[Ticket], now: dt.datetime, masker: Masker) -> list[TicketRow]:
        found = details(session, [t.id for t in tickets])
        return [ticket_row(self.settings, ticket, found, now, masker) for ticket in tickets]
