"""The board asks the database for what it shows: the same rows, order, counts and figures as computing them from
every ticket, on a generated ledger of a few thousand tickets (SQLite, and PostgreSQL with HUIYIN_TEST_DATABASE_URL).

The references here are the definitions the board used before it queried: every ticket's row built by
`board.views.ticket_row`, filtered and sorted in Python; the rates by `ledger.rates` over `ticket_facts`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import bindparam, event
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from board.export import COLUMNS
from board.reader import LedgerReader
from board.stats import FactFigures, LedgerFigures, week_of, weekly_stats
from board.views import Filters, Masker, TicketRow, ticket_row
from board.web import create_app
from ledger.clock import ManualClock
from ledger.links import sign_link
from ledger.privacy import mask_text
from ledger.rates import Period
from settings.models import Settings
from settings.secrets import BoardSecrets
from storage import board_queries
from storage.board_queries import BATCH, details
from storage.db import new_session
from storage.tickets import all_tickets, ticket_facts
from tests.board_ledger import GENERATED_NOW, seed_generated

TICKETS = 2500
SECRET = "queries-secret"


@pytest.fixture
def ledger(settings: Settings, engine: Engine) -> Engine:
    seed_generated(settings, engine, TICKETS, days=60)
    return engine


def _all_rows(settings: Settings, engine: Engine, now: dt.datetime, *, masked: bool = True) -> list[TicketRow]:
    reader = LedgerReader(settings, engine)
    with reader.session() as session:
        tickets = all_tickets(session)
        found = details(session, [t.id for t in tickets])
        masker = reader.masker(session, masked=masked)
        return [ticket_row(settings, t, found, now, masker) for t in tickets]


def _reference_wall(rows: list[TicketRow], filters: Filters) -> list[int]:
    """The wall as it was computed from every ticket: open (overdue first, then oldest), then recent (newest)."""
    by_status = {"open": lambda r: r.is_open, "overdue": lambda r: r.overdue, "resolved": lambda r: not r.is_open}
    shown = [
        r for r in rows
        if (r.is_open or r.recent) and (not filters.grid or r.grid_id == filters.grid)
        and (not filters.category or r.category_id == filters.category)
        and (not filters.status or by_status[filters.status](r))
    ]  # fmt: skip
    open_rows = sorted((r for r in shown if r.is_open), key=lambda r: (not r.overdue, r.created_at))
    done = sorted((r for r in shown if not r.is_open), key=lambda r: r.created_at, reverse=True)
    return [r.number for r in open_rows + done]


def _pages(client: TestClient, path: str) -> Iterator[str]:
    """Each page of a paged list, following its 下一页 links."""
    while True:
        page = client.get(path)
        assert page.status_code == 200
        yield page.text
        found = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        if found is None:
            return
        path = found[1].replace("&amp;", "&")


def _numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="ticket[^"]*" data-number="(\d+)"', html)]


@pytest.mark.parametrize("query", ["", "status=overdue", "status=open", "status=resolved", "grid=g2&category=power"])
def test_the_wall_pages_through_the_same_rows_in_the_same_order(settings: Settings, ledger: Engine, query: str) -> None:
    client = TestClient(create_app(settings, ledger, ManualClock(GENERATED_NOW), BoardSecrets(None, None)))
    filters = Filters(**dict(part.split("=") for part in query.split("&") if part))
    expected = _reference_wall(_all_rows(settings, ledger, GENERATED_NOW), filters)
    pages = list(_pages(client, f"/?{query}"))
    assert [n for page in pages for n in _numbers(page)] == expected
    assert len(pages) == -(-len(expected) // 100) or (expected == [] and len(pages) == 1)
    summary = re.sub(r"<[^>]+>", "", re.search(r'<p class="summary">(.*?)</p>', pages[0])[1])
    rows = {r.number: r for r in _all_rows(settings, ledger, GENERATED_NOW)}
    shown = [rows[n] for n in expected]
    open_count, overdue = sum(r.is_open for r in shown), sum(r.overdue for r in shown)
    assert summary == f"办理中 {open_count} 件，其中超期 {overdue} 件；近7天办结 {len(shown) - open_count} 件。"


def test_the_first_wall_page_is_the_start_of_the_whole_wall(settings: Settings, ledger: Engine) -> None:
    client = TestClient(create_app(settings, ledger, ManualClock(GENERATED_NOW), BoardSecrets(None, None)))
    expected = _reference_wall(_all_rows(settings, ledger, GENERATED_NOW), Filters())
    assert len(expected) > 200  # the generated ledger has more than two pages open or recently ended
    html = client.get("/").text
    assert _numbers(html) == expected[:100] and 'rel="next"' in html and "第一页" not in html
    second = client.get(f"/?after={expected[99]}").text
    assert _numbers(second) == expected[100:200] and "第一页" in second
    assert client.get("/?after=0").status_code == 400


def test_the_cadre_view_lists_their_open_tickets_and_pages_through_all(settings: Settings, ledger: Engine) -> None:
    client = TestClient(create_app(settings, ledger, ManualClock(GENERATED_NOW), BoardSecrets(SECRET, None)))
    token = sign_link(SECRET, "lijun", GENERATED_NOW + dt.timedelta(hours=1))
    rows = _all_rows(settings, ledger, GENERATED_NOW, masked=False)
    expected = _reference_wall(rows, Filters())
    pages = list(_pages(client, f"/cadre/{token}"))
    queue = pages[0].partition("全部事项")[0]
    mine = [n for n in expected if next(r for r in rows if r.number == n).is_open and
            next(r for r in rows if r.number == n).owner_id == "lijun"]  # fmt: skip
    assert _numbers(queue) == mine[:100] and f"我的待办（{len(mine)}）" in queue
    listed = [re.findall(r'/tickets/(\d+)"', page.partition("全部事项")[2]) for page in pages]
    assert [int(n) for numbers in listed for n in numbers] == expected and len(pages) > 1


def test_export_filters_and_order_match_the_rows(settings: Settings, ledger: Engine) -> None:
    client = TestClient(create_app(settings, ledger, ManualClock(GENERATED_NOW), BoardSecrets(None, None)))
    rows = _all_rows(settings, ledger, GENERATED_NOW)
    checks = {
        "": lambda r: True, "status=open": lambda r: r.is_open, "status=overdue": lambda r: r.overdue,
        "status=resolved&grid=g1": lambda r: not r.is_open and r.grid_id == "g1",
        "category=drainage": lambda r: r.category_id == "drainage",
    }  # fmt: skip
    for query, include in checks.items():
        table = list(csv.reader(io.StringIO(client.get(f"/export.csv?{query}").content.decode("utf-8-sig"))))
        assert [int(r[1]) for r in table[1:]] == [r.number for r in rows if include(r)], query
        assert [int(r[0]) for r in table[1:]] == list(range(1, len(table)))
        by_number = {r.number: r for r in rows}
        description = COLUMNS.index("问题描述")
        assert all(r[description] == by_number[int(r[1])].description for r in table[1:])  # the same masked text


def test_open311_pages_match_the_newest_first_order(settings: Settings, ledger: Engine) -> None:
    client = TestClient(create_app(settings, ledger, ManualClock(GENERATED_NOW), BoardSecrets(None, "k")))
    with new_session(ledger) as session:
        tickets = all_tickets(session)
    window = [t for t in tickets if GENERATED_NOW - dt.timedelta(days=90) <= t.created_at <= GENERATED_NOW]
    newest = [t.id for t in sorted(window, key=lambda t: t.created_at, reverse=True)]
    pages = [client.get(f"/open311/v2/requests.json?page={p}&page_size=40").json() for p in range(1, 4)]
    assert [int(r["service_request_id"]) for page in pages for r in page] == newest[:120]
    open_ones = client.get("/open311/v2/requests.json?status=open&page_size=1000").json()
    assert {r["status"] for r in open_ones} == {"open"}
    assert len(open_ones) == sum(t.status in board_queries.OPEN for t in window)


def _statements(engine: Engine) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(_connection, _cursor, statement, parameters, _context, _many) -> None:
        seen.append((statement, len(parameters) if isinstance(parameters, dict | list | tuple) else 0))

    return seen


def test_no_query_binds_more_than_a_batch_of_ids(settings: Settings, ledger: Engine) -> None:
    seen = _statements(ledger)
    client = TestClient(create_app(settings, ledger, ManualClock(GENERATED_NOW), BoardSecrets(None, None)))
    ids = ",".join(str(n) for n in range(1, TICKETS + 1))
    assert len(client.get(f"/open311/v2/requests.json?service_request_id={ids}&page=2&page_size=1000").json()) == 1000
    assert len(client.get("/export.csv").content.splitlines()) == TICKETS + 1
    assert seen and max(count for _, count in seen) <= BATCH + 10
    assert not [s for s, _ in seen if "FROM ticket_event" in s and "IN" not in s]  # never every event at once


def test_masking_with_the_names_in_a_text_is_masking_with_every_name(settings: Settings) -> None:
    rng = random.Random(5)
    surnames, ends = "王李张刘陈赵钱孙周8", ["阿姨", "叔", "", "小梅", "1", "师傅"]
    names = {s + e for s in surnames for e in ends} | {"8", "钱小梅", "38"}
    masker = Masker(settings, names)
    pieces = [*names, "3号楼", "电话13812345678", "138 1234 5678", "，", "楼道灯不亮", "8楼"]
    pieces += ["身份证110105199001011234"]
    pieces += ["钱", "小梅", "1", "阿"]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12)))
        assert masker.text(text) == mask_text(text, masker.names), text


def test_the_rates_counted_in_sql_agree_with_the_definitions(settings: Settings, ledger: Engine) -> None:
    """`LedgerFigures` (SQL) against `FactFigures` (ledger.rates over every ticket's facts), week by week."""
    with new_session(ledger) as session:
        facts, sql = FactFigures(ticket_facts(session)), LedgerFigures(session)
        weeks = [week_of((GENERATED_NOW - dt.timedelta(weeks=back)).date(), settings.tz) for back in range(12)]
        weeks += [Period(GENERATED_NOW - dt.timedelta(days=400), GENERATED_NOW)]  # a long period: every path
        for period in weeks:
            for now in (None, GENERATED_NOW, period.start + dt.timedelta(days=3, hours=5)):
                assert sql.rates(period, now) == facts.rates(period, now), (period, now)
            assert sql.received_by(period) == facts.received_by(period)
        assert sql.received(weeks) == facts.received(weeks)
        assert sql.median_first_response(weeks) == facts.median_first_response(weeks)
        day = GENERATED_NOW.date()
        for back in range(0, 60, 7):
            when, now = day - dt.timedelta(days=back), GENERATED_NOW
            assert weekly_stats(settings, sql, when, now) == weekly_stats(settings, facts, when, now)
        total = facts.rates(weeks[0], GENERATED_NOW)
        assert sum(r.received for r in total.values()) > 100 and sum(r.overdue for r in total.values()) > 0
        assert sum(r.rated for r in total.values()) > 0 and None in facts.rates(weeks[0], GENERATED_NOW)


def _dispatch_some(settings: Settings, engine: Engine) -> None:
    """Give about a third of the generated tickets a partner unit with its own limits, answered or not, on time or
    late, and a tenth the source `patrol`; a few keep the first answer of a unit that handed them back (退单)."""
    rng = random.Random(14)
    units = [u.id for u in settings.units]
    updates = []
    with new_session(engine) as session:
        tickets = all_tickets(session)
    for ticket in tickets:
        values = {"id": ticket.id, "source": "patrol" if rng.random() < 0.1 else "resident", "unit_id": None,
                  "dispatched_at": None, "unit_response_due_at": None, "unit_resolution_due_at": None,
                  "unit_first_response_at": None}  # fmt: skip
        roll = rng.random()
        if roll < 0.35:
            dispatched = ticket.created_at + dt.timedelta(minutes=rng.uniform(1, 600))
            answered = dispatched + dt.timedelta(minutes=rng.uniform(1, 60))
            values.update(
                unit_id=rng.choice(units), dispatched_at=dispatched,
                unit_response_due_at=dispatched + dt.timedelta(minutes=30),
                unit_resolution_due_at=dispatched + dt.timedelta(hours=rng.choice((24, 48, 72))),
                unit_first_response_at=answered if rng.random() < 0.8 else None,
            )  # fmt: skip
        elif roll < 0.4:  # handed back with 退单: the unit is taken off, its first answer stays
            values["unit_first_response_at"] = ticket.created_at + dt.timedelta(minutes=5)
        updates.append(values)
    table = SQLModel.metadata.tables["ticket"]
    with engine.begin() as connection:
        statement = table.update().where(table.c.id == bindparam("key"))
        connection.execute(statement, [{**{k: v for k, v in u.items() if k != "id"}, "key": u["id"]} for u in updates])


def test_the_unit_rates_and_sources_counted_in_sql_agree_with_the_definitions(
    settings: Settings, ledger: Engine
) -> None:
    """`rates_by_unit` and `received_by_source` (SQL) against `compute_unit_rates` and `by_source` over the facts."""
    _dispatch_some(settings, ledger)
    with new_session(ledger) as session:
        facts, sql = FactFigures(ticket_facts(session)), LedgerFigures(session)
        weeks = [week_of((GENERATED_NOW - dt.timedelta(weeks=back)).date(), settings.tz) for back in range(10)]
        weeks += [Period(GENERATED_NOW - dt.timedelta(days=400), GENERATED_NOW)]
        for period in weeks:
            for now in (None, GENERATED_NOW, period.start + dt.timedelta(days=3, hours=5)):
                assert sql.unit_rates(period, now) == facts.unit_rates(period, now), (period, now)
            assert sql.received_by_source(period) == facts.received_by_source(period)
        for back in range(0, 60, 7):
            when, now = GENERATED_NOW.date() - dt.timedelta(days=back), GENERATED_NOW
            assert weekly_stats(settings, sql, when, now) == weekly_stats(settings, facts, when, now)
        every = facts.unit_rates(weeks[-1], GENERATED_NOW)
        assert set(every) == {u.id for u in settings.units}
        assert all(r.dispatched and r.response_counted > r.responded_in_time > 0 for r in every.values())
        assert all(r.due > r.resolved > 0 and r.overdue > 0 for r in every.values())
        assert 0 < facts.received_by_source(weeks[-1])["patrol"] < facts.received_by_source(weeks[-1])["resident"]
