"""The board at scale: p50/p99 of every page and Open311 call, and the 台账 exports' time and peak memory.

    .venv/bin/python bench/board_scale.py [--tickets 100000 | --quick] [--database sqlite|postgresql|both]
                                          [--postgres-url URL] [--communities 1] [--samples 30] [--skip-exports]

For each database it seeds a fresh ledger — a SQLite file under data/bench/, or a fresh PostgreSQL database
`huiyin_board_bench` on the server `--postgres-url` names (default `$HUIYIN_TEST_DATABASE_URL` or
postgresql://postgres@127.0.0.1:5432/test) — with bulk inserts, not through the bot: `--tickets` tickets
(`--quick`: 10,000) reported over two years up to Saturday 2026-11-28 12:00 (fewer than 20 a day spread
over more time), in the sample community's categories, grids and groups, by a pool of residents (one per 20
tickets) who sometimes write phone numbers and names into their reports; their reporters, events (create,
assign, accept, progress notes, resolve, rate, close, return, cancel, join) and outbox rows (receipts and
notices to the ticket's group, alerts to cadres in private). About 1% of old tickets are still open.
With `--communities N` the tickets are spread over N communities `c001`… (a 街道's ledger), each configured
as the sample community, with `community_id` on every scoped row; the board measured is `c001`'s (the sample
config with `community.id: c001`). bench/scale.py imports the seeding and measuring pieces.

Then, in a child process (so its peak RSS is the board's alone), the board of `board.web.create_app` on a
read-only engine answers each page through FastAPI's TestClient until `--samples` answers or 20 s per page:
the wall (unfiltered, overdue, one grid, the next page), a ticket, the weekly statistics (this week and
eight weeks ago), a cadre's view and ticket, and Open311's services, requests (JSON, XML, open ones) and
one request. Each export (`huiyin export --format csv|xlsx`, the measured community's whole ledger, masked) runs
as its own `huiyin` process; its time and peak RSS (ru_maxrss from wait4) are reported. One table is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import make_url  # noqa: E402

from settings import load_settings  # noqa: E402
from settings.limits import DEFAULT_COMMUNITY_ID  # noqa: E402
from settings.models import Settings  # noqa: E402

CONFIG = REPO / "config.yaml"
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SPAN_DAYS = 730
PG_DATABASE = "huiyin_board_bench"
SECRET = "bench-secret"
PAGE_SECONDS = 20.0
UTC = dt.UTC

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉梅兰红建国志文斌"
SUFFIXES = ("阿姨", "叔", "师傅", "大爷", "姐", "先生", "女士", "奶奶", "老师")
PROBLEMS = (
    "下水道堵了，污水都冒出来了", "楼道灯不亮了，晚上看不见", "电梯坏了，停在三楼不动", "垃圾桶满了没人清运",
    "单元门禁坏了，关不上", "门口路灯坏了", "消防通道被车堵了", "楼上漏水，天花板都湿了", "晚上广场舞噪音太大",
    "树枝挡住窗户了，需要修剪", "井盖松了，走上去咣当响", "自来水发黄，有异味",
)  # fmt: skip
NOTES = (
    "已联系物业，师傅电话{phone}，明天上午上门", "已派人查看，材料到了就修", "已疏通，请大家别往下水道扔杂物",
    "已更换灯泡", "已联系电梯维保公司，维修中", "已清运完毕",
)  # fmt: skip
OPEN_STATUSES = ("new", "assigned", "accepted", "in_progress", "reopened", "transferred")


# Seeding ----------------------------------------------------------------------------------------------------


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _name(rng: random.Random) -> str:
    surname = rng.choice(SURNAMES)
    if rng.random() < 0.5:
        return surname + rng.choice(SUFFIXES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _naive(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)


def _status(rng: random.Random, age_days: float) -> str:
    roll = rng.random()
    if age_days < 1:
        table = (("new", 0.1), ("assigned", 0.4), ("accepted", 0.2), ("in_progress", 0.1), ("resolved", 0.15))
    elif age_days < 7:
        table = (("assigned", 0.08), ("accepted", 0.1), ("in_progress", 0.05), ("reopened", 0.02), ("resolved", 0.25),
                 ("closed", 0.4), ("returned", 0.05))  # fmt: skip
    else:
        table = (("accepted", 0.006), ("in_progress", 0.006), ("resolved", 0.04), ("closed", 0.878),
                 ("returned", 0.03))  # fmt: skip
    for status, share in table:
        roll -= share
        if roll < 0:
            return status
    return "cancelled"


@dataclass
class _Ticket:
    """What the event and outbox rows of one ticket share; `ids` counts rows per table across tickets."""

    number: int
    community: str
    chat_id: str
    chat_name: str
    private: bool
    cadre_chat: str
    cadre_name: str
    reporter: tuple[str, str]
    ids: dict[str, int]

    def event(
        self, at: dt.datetime, actor: tuple[str, str], action: str, before: str | None, after: str,
        changes: dict[str, Any], note: str = "",
    ) -> tuple[str, tuple[Any, ...]]:  # fmt: skip
        self.ids["ticket_event"] += 1
        return "ticket_event", (self.ids["ticket_event"], self.community, self.number, _naive(at), actor[0], actor[1],
                                action, before, after, json.dumps(changes, ensure_ascii=False), note)  # fmt: skip

    def notice(self, at: dt.datetime, words: str, *, to_cadre: bool = False) -> tuple[str, tuple[Any, ...]]:
        self.ids["outbox"] += 1
        chat = (self.cadre_chat, self.cadre_name) if to_cadre else (self.chat_id, self.chat_name)
        mentions, names = ([], []) if to_cadre else ([self.reporter[0]], [self.reporter[1]])
        return "outbox", (
            self.ids["outbox"], chat[0], chat[1], words, json.dumps(mentions), json.dumps(names),
            to_cadre or self.private, self.number, _naive(at), _naive(at + dt.timedelta(seconds=2)), 1,
        )  # fmt: skip


def community_ids(count: int) -> list[str]:
    """`c001` … the ids of `count` communities of one 街道's ledger."""
    return [f"c{index:03d}" for index in range(1, count + 1)]


def as_community(settings: Settings, community_id: str) -> Settings:
    """The sample community's settings under another `community.id` (every seeded community is configured alike)."""
    return settings.model_copy(update={"community": settings.community.model_copy(update={"id": community_id})})


def directory_rows(settings: Settings, community_id: str) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The directory tables' rows of one community, as `storage.directory.sync_directory` writes them."""
    for grid in settings.grids:
        yield "grid", (community_id, grid.id, grid.name, json.dumps(list(grid.buildings), ensure_ascii=False))
    for cadre in settings.cadres:
        yield "cadre", (community_id, cadre.id, cadre.name, cadre.chat_id, cadre.role.value, json.dumps(cadre.grids))
    for group in settings.groups:
        grids = json.dumps(list(group.grids), ensure_ascii=False)
        yield "chat_group", (community_id, group.name, group.id, group.kind.value, grids)


@dataclass
class _Ledger:
    """What every ticket of a seeded ledger draws on: the config, the residents, the running row ids."""

    settings: Settings
    rng: random.Random
    members: list[tuple[str, str]]
    groups: dict[str, str]
    owners: dict[str, Any]
    ids: dict[str, int]


def generate(
    settings: Settings, tickets: int, seed: int = 1, days: float | None = None,
    communities: Sequence[str] = (DEFAULT_COMMUNITY_ID,), open_tickets: int = 0,
) -> Iterator[tuple[str, tuple[Any, ...]]]:  # fmt: skip
    """(table, row) for every row of the ledger, tickets in id order; datetimes naive UTC as the ledger keeps them.

    The tickets are reported over `days` up to `NOW` (default: two years, or 20 a day if that is longer), ticket
    `n` in community `communities[(n - 1) % len(communities)]`, each community configured as `settings`. Then
    the first community gets `open_tickets` more tickets, all still open, reported over the last 60 days (a
    backlog: the per-minute checks' worst case)."""
    rng = random.Random(seed)
    members = [(f"wxid_m{i}", _name(rng)) for i in range(max(300, tickets // 20))]
    for member_id, name in members:
        yield "member", (member_id, name, _naive(NOW - dt.timedelta(days=SPAN_DAYS + 1)))
    groups = {grid.id: next(g.name for g in settings.groups if g.grids == [grid.id]) for grid in settings.grids}
    owners = {grid.id: next(c for c in settings.cadres if c.grids == [grid.id]) for grid in settings.grids}
    ledger = _Ledger(settings, rng, members, groups, owners, {"ticket_reporter": 0, "ticket_event": 0, "outbox": 0})
    span = dt.timedelta(days=days or max(SPAN_DAYS, tickets / 20 / len(communities)))
    for number in range(1, tickets + 1):
        created = NOW - span + span * ((number - 1) / tickets) + dt.timedelta(seconds=rng.randrange(60))
        created = min(created, NOW - dt.timedelta(minutes=1))
        status = _status(rng, (NOW - created).total_seconds() / 86400)
        yield from _ticket_rows(ledger, number, communities[(number - 1) % len(communities)], created, status)
    backlog = dt.timedelta(days=60)
    for extra in range(open_tickets):
        created = NOW - backlog + backlog * (extra / open_tickets) + dt.timedelta(seconds=rng.randrange(60))
        status = rng.choices(("assigned", "accepted", "in_progress", "reopened"), (40, 35, 20, 5))[0]
        yield from _ticket_rows(ledger, tickets + 1 + extra, communities[0], min(created, NOW), status)


def _ticket_rows(
    ledger: _Ledger, number: int, community: str, created: dt.datetime, status: str
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The rows of one ticket in `status`: the ticket, its reporters, its events and the outbox rows it caused."""
    settings, rng, members, ids = ledger.settings, ledger.rng, ledger.members, ledger.ids
    category = rng.choice(settings.categories)
    grid = rng.choice(settings.grids)
    cadre = ledger.owners[grid.id]
    building = rng.choice(grid.buildings)
    location = f"{building}{rng.randrange(1, 5)}单元"
    reporters = [rng.choice(members) for _ in range(1 + (rng.random() < 0.2) + (rng.random() < 0.03))]
    reporters = list(dict.fromkeys(reporters))
    description = f"{location}{rng.choice(PROBLEMS)}"
    if rng.random() < 0.2:
        description += f"，电话{_phone(rng)}"
    if rng.random() < 0.1:
        description += f"，我是{reporters[0][1]}"
    private = rng.random() < 0.05
    chat_id = reporters[0][0] if private else ledger.groups[grid.id]
    chat_name = "私聊" if private else chat_id
    response_due = created + dt.timedelta(minutes=category.first_response_minutes)
    resolution_due = created + dt.timedelta(hours=category.resolution_hours)
    latest = NOW - dt.timedelta(seconds=1)
    first_response = None
    if status not in ("new", "cancelled"):
        first_response = min(created + dt.timedelta(minutes=rng.uniform(2, 1.5 * category.first_response_minutes)),
                             latest)  # fmt: skip
    resolved = closed = None
    if status in ("resolved", "closed"):
        resolved = min(created + dt.timedelta(hours=rng.uniform(0.5, 1.3 * category.resolution_hours)), latest)
        resolved = max(resolved, first_response or created)
    if status == "closed":
        closed = min(resolved + dt.timedelta(hours=rng.uniform(1, 72)), latest)
    if status in ("returned", "cancelled"):
        closed = min(created + dt.timedelta(hours=rng.uniform(0.5, 24)), latest)
    rating = None
    if status == "closed":
        rating = rng.choices(("满意", "基本满意", "不满意", None), (70, 20, 3, 7))[0]
    commitment = (created + dt.timedelta(days=2)).astimezone(settings.tz).date() if rng.random() < 0.1 else None
    updated = max(t for t in (created, first_response, resolved, closed) if t is not None)
    assignee = None if status == "new" else cadre.id
    yield "ticket", (
        number, community, status, category.id, description, location, grid.id, chat_id, chat_name, private,
        assignee, rng.random() < 0.03, 1.0, _naive(created), first_response and _naive(first_response),
        resolved and _naive(resolved), closed and _naive(closed), _naive(response_due), _naive(resolution_due),
        commitment, rating, rng.random() < 0.005, _naive(updated),
    )  # fmt: skip
    for index, (member_id, name) in enumerate(reporters):
        ids["ticket_reporter"] += 1
        active = index == 0 or rng.random() > 0.05
        yield "ticket_reporter", (ids["ticket_reporter"], community, number, member_id, name, _naive(created), active)

    ticket = _Ticket(number, community, chat_id, chat_name, private, cadre.chat_id, cadre.name, reporters[0], ids)
    event, notice = ticket.event, ticket.notice
    person = reporters[0]
    bot, worker = ("huiyin", "回音"), (cadre.chat_id, cadre.name)
    label = f"#{number}【{category.name}】{location}"
    fields = {"category": category.id, "description": description, "location": location, "grid_id": grid.id}
    yield event(created, person, "create", None, "new", {"status": "new", "created_at": created.isoformat(), **fields})
    yield notice(created, f"@{person[1]} 收到，已登记 {label}，由今日值班 {cadre.name} 负责。")
    yield notice(created, f"新事项 {label}：{description}", to_cadre=True)
    if status == "new":
        return
    yield event(created, bot, "assign", "new", "assigned", {"status": "assigned", "assignee_id": cadre.id})
    for extra in reporters[1:]:
        yield event(created + dt.timedelta(minutes=1), extra, "join", "assigned", "assigned", {})
    if status == "cancelled":
        yield event(closed, person, "cancel", "assigned", "cancelled", {"status": "cancelled"})
        return
    at = first_response or created
    if status == "returned":
        yield event(closed, worker, "return", "assigned", "returned", {"status": "returned"},
                    "属于城管执法范围，已移交街道综合执法队")  # fmt: skip
        yield notice(closed, f"@{person[1]} #{number} 已退回：属于城管执法范围，已移交街道综合执法队")
        return
    if status != "assigned":
        yield event(at, worker, "accept", "assigned", "accepted", {"status": "accepted"})
        yield notice(at, f"@{person[1]} #{number} 已由 {cadre.name} 签收，正在处理。")
    if status in ("in_progress", "resolved", "closed") and rng.random() < 0.4:
        note = rng.choice(NOTES).format(phone=_phone(rng))
        yield event(at + dt.timedelta(minutes=5), worker, "progress", "accepted", "in_progress", {}, note)
        yield notice(at + dt.timedelta(minutes=5), f"@{person[1]} #{number} 进度：{note}")
    if resolved is not None:
        note = rng.choice(NOTES).format(phone=_phone(rng))
        yield event(resolved, worker, "resolve", "accepted", "resolved", {"status": "resolved"}, note)
        yield notice(resolved, f"@{person[1]} #{number} 已办结（{cadre.name}）：{note}")
    if closed is not None:
        if rating is not None:
            yield event(closed, person, "rate", "resolved", "resolved", {"rating": rating})
        yield event(closed, bot if rating is None else person, "close", "resolved", "closed", {"status": "closed"})


DIRECTORY_COLUMNS = {
    "grid": ("community_id", "id", "name", "buildings"),
    "cadre": ("community_id", "id", "name", "chat_id", "role", "grids"),
    "chat_group": ("community_id", "name", "chat_id", "kind", "grids"),
}
"""The columns of `directory_rows`' tables."""
COLUMNS = {
    "member": ("id", "name", "first_seen_at"),
    "ticket": (
        "id", "community_id", "status", "category", "description", "location", "grid_id", "chat_id", "chat_name",
        "chat_is_private", "assignee_id", "urgent", "confidence", "created_at", "first_response_at", "resolved_at",
        "closed_at", "response_due_at", "resolution_due_at", "commitment_date", "rating", "agenda", "updated_at",
    ),
    "ticket_reporter": ("id", "community_id", "ticket_id", "member_id", "member_name", "joined_at", "active"),
    "ticket_event": ("id", "community_id", "ticket_id", "at", "actor_id", "actor_name", "action", "from_status",
                     "to_status", "changes", "note"),
    "outbox": ("id", "chat_id", "chat_name", "text", "mention_ids", "mention_names", "is_private", "ticket_id",
               "created_at", "sent_at", "attempts"),
}  # fmt: skip
"""The columns of `generate`'s tables, in the order of their foreign keys."""
TABLES = {**DIRECTORY_COLUMNS, **COLUMNS}

Rows = Iterable[tuple[str, tuple[Any, ...]]]


def ledger_rows(settings: Settings, tickets: int, communities: Sequence[str], open_tickets: int = 0) -> Rows:
    """Every row a seeded ledger gets: each community's directory, then `generate`'s rows."""
    for community in communities:
        yield from directory_rows(settings, community)
    yield from generate(settings, tickets, communities=communities, open_tickets=open_tickets)


def seed_sqlite(rows: Rows, path: Path) -> str:
    from storage.db import make_engine
    from storage.schema import init_schema

    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    init_schema(engine)
    engine.dispose()
    sqlite3.register_adapter(dt.datetime, lambda v: v.strftime("%Y-%m-%d %H:%M:%S.%f"))  # SQLAlchemy's format
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    batches: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES}

    def flush(table: str) -> None:
        columns = TABLES[table]
        connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", batches[table]
        )
        batches[table].clear()

    for table, row in rows:
        batches[table].append(row)
        if len(batches[table]) >= 20_000:
            flush(table)
    for table in TABLES:
        flush(table)
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()
    return url


def postgres_url(server_url: str, database: str) -> str:
    """The URL of `database` on the server of `server_url`."""
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def seed_postgresql(rows: Rows, server_url: str, database: str = PG_DATABASE) -> str:
    """A fresh `database` on the server of `server_url`, at the newest schema, filled with `rows` by COPY."""
    import psycopg

    server = make_url(server_url)
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {database}")
    url = postgres_url(server_url, database)
    from storage.db import make_engine
    from storage.schema import init_schema

    engine = make_engine(url)
    init_schema(engine)
    engine.dispose()
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as conn:
        with conn.cursor() as cursor:
            pending: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES}

            def flush(table: str) -> None:
                with cursor.copy(f"COPY {table} ({', '.join(TABLES[table])}) FROM STDIN") as copy:
                    for row in pending[table]:
                        copy.write_row(row)
                pending[table].clear()

            for table, row in rows:
                pending[table].append(row)
                if len(pending[table]) >= 50_000:
                    for each in TABLES:  # in the order of the foreign keys
                        flush(each)
            for table in TABLES:
                flush(table)
            for table in ("ticket", "ticket_reporter", "ticket_event", "outbox"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return url


def community_config(community_id: str, directory: Path) -> Path:
    """config.yaml with `community.id: <community_id>`, written to `directory`: the measured community's config
    file, for the child processes and `huiyin export`."""
    text = CONFIG.read_text(encoding="utf-8")
    assert "\ncommunity:\n" in text, "config.yaml has no top-level community: section"
    path = directory / f"config-{community_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace("\ncommunity:\n", f"\ncommunity:\n  id: {community_id}\n", 1), encoding="utf-8")
    return path


# Measuring --------------------------------------------------------------------------------------------------


def community_numbers(url: str, community_id: str) -> list[int]:
    """The ticket numbers of one community, in order."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        query = text("SELECT id FROM ticket WHERE community_id = :community ORDER BY id")
        numbers = list(connection.execute(query, {"community": community_id}).scalars())
    engine.dispose()
    return numbers


def _pages(numbers: list[int]) -> list[tuple[str, list[str]]]:
    from ledger.links import sign_link

    rng = random.Random(7)
    some = [rng.choice(numbers) for _ in range(50)]
    recent = [rng.choice(numbers[-max(1, len(numbers) // 100) :]) for _ in range(50)]
    token = sign_link(SECRET, "lijun", NOW + dt.timedelta(hours=24))
    eight_weeks = (NOW - dt.timedelta(weeks=8)).date().isoformat()
    api = "/open311/v2"
    return [
        ("wall /", ["/"]),
        ("wall ?status=overdue", ["/?status=overdue"]),
        ("wall ?grid=g2", ["/?grid=g2"]),
        ("wall next page", ["/?after=" + str(n) for n in recent]),
        ("ticket /tickets/N", [f"/tickets/{n}" for n in some]),
        ("stats /stats", ["/stats"]),
        ("stats 8 weeks ago", [f"/stats?week={eight_weeks}"]),
        ("cadre view", [f"/cadre/{token}"]),
        ("cadre ticket", [f"/cadre/{token}/tickets/{n}" for n in some]),
        ("open311 services.json", [f"{api}/services.json"]),
        ("open311 requests.json", [f"{api}/requests.json"]),
        ("open311 requests.xml", [f"{api}/requests.xml"]),
        ("open311 requests ?status=open", [f"{api}/requests.json?status=open"]),
        ("open311 requests page 50", [f"{api}/requests.json?page=50"]),
        ("open311 requests/{id}", [f"{api}/requests/{n}.json" for n in some]),
    ]


def time_pages(client: Any, pages: list[tuple[str, list[str]]], samples: int) -> dict[str, list[float]]:
    """Each page's latencies in ms through `client` (a TestClient): until `samples` answers or 20 s per page."""
    results: dict[str, list[float]] = {}
    for name, paths in pages:
        assert client.get(paths[0]).status_code == 200, (name, paths[0])  # warm: templates, caches, connections
        timings: list[float] = []
        started = time.perf_counter()
        while len(timings) < samples and (time.perf_counter() - started < PAGE_SECONDS or len(timings) < 3):
            path = paths[len(timings) % len(paths)]
            before = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - before) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        results[name] = timings
    return results


def measure_pages(url: str, config: Path, samples: int) -> dict[str, Any]:
    """Run in the child process: the board of `config`'s community answers each page; latencies in ms and this
    process's peak RSS."""
    from fastapi.testclient import TestClient

    from board.readonly import read_only_engine
    from board.web import create_app
    from ledger.clock import ManualClock
    from settings.secrets import BoardSecrets

    settings = load_settings(config)
    numbers = community_numbers(url, settings.community.id)
    app = create_app(settings, read_only_engine(url), ManualClock(NOW), BoardSecrets(SECRET, "key"))
    results = time_pages(TestClient(app), _pages(numbers), samples)
    return {"pages": results, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_export(url: str, config: Path, fmt: str, out: Path) -> tuple[float, float, int]:
    """`huiyin export` as its own process: seconds, peak RSS in MB, and its rows (from the line it prints)."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "bot.cli", "--config", str(config), "--env-file", os.devnull, "export",
               "--format", fmt, "--out", str(out)]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"export {fmt} failed: {process.stderr}")
    # This wrapper process has waited for no other child: RUSAGE_CHILDREN's peak is the export's own.
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, rss, int(process.stdout.split()[0])


def child_pages(url: str, config: Path, samples: int) -> dict[str, Any]:
    """`measure_pages` in a child process of its own (its peak RSS is the board's alone)."""
    child = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--pages-of", url, "--config", str(config),
         "--samples", str(samples)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if child.returncode != 0:
        raise RuntimeError(f"measuring the pages failed: {child.stderr}")
    return json.loads(child.stdout)


def child_export(url: str, config: Path, fmt: str, label: str) -> dict[str, Any]:
    """`run_export` in a fresh wrapper process, so RUSAGE_CHILDREN holds only that export's peak."""
    out = REPO / "data" / "bench" / f"taizhang-{label}.{fmt}"
    out.parent.mkdir(parents=True, exist_ok=True)
    wrapper = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--export-of", url, "--config", str(config), "--format", fmt,
         "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    out.unlink(missing_ok=True)
    if wrapper.returncode != 0:
        raise RuntimeError(f"export {fmt} failed: {wrapper.stderr}")
    return json.loads(wrapper.stdout)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def bench_database(settings: Settings, database: str, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    communities = community_ids(args.communities) if args.communities > 1 else [DEFAULT_COMMUNITY_ID]
    rows = ledger_rows(settings, args.tickets, communities)
    if database == "sqlite":
        url = seed_sqlite(rows, REPO / "data" / "bench" / f"board-{args.tickets}.db")
    else:
        url = seed_postgresql(rows, args.postgres_url)
    seeded = time.perf_counter() - started
    print(f"[{database}] seeded {args.tickets} tickets in {seeded:.0f} s", file=sys.stderr, flush=True)
    config = community_config(communities[0], REPO / "data" / "bench")
    result = child_pages(url, config, args.samples)
    result["seed_s"] = seeded
    result["exports"] = {}
    if not args.skip_exports:
        for fmt in ("csv", "xlsx"):
            result["exports"][fmt] = child_export(url, config, fmt, database)
            print(f"[{database}] export {fmt}: {result['exports'][fmt]}", file=sys.stderr, flush=True)
    return result


def print_table(tickets: int, results: dict[str, dict[str, Any]]) -> None:
    databases = list(results)
    header = ["what", *(f"{d} p50 / p99 ms" for d in databases)]
    lines = [header]
    names = list(next(iter(results.values()))["pages"])
    for name in names:
        cells = [name]
        for database in databases:
            timings = results[database]["pages"][name]
            cells.append(f"{statistics.median(timings):.1f} / {_percentile(timings, 0.99):.1f} (n={len(timings)})")
        lines.append(cells)
    lines.append(["board peak RSS", *(f"{results[d]['rss_mb']:.0f} MB" for d in databases)])
    for fmt in ("csv", "xlsx"):
        if all(fmt in results[d]["exports"] for d in databases):
            lines.append([f"huiyin export {fmt}", *(
                f"{results[d]['exports'][fmt]['seconds']:.1f} s, {results[d]['exports'][fmt]['rss_mb']:.0f} MB, "
                f"{results[d]['exports'][fmt]['rows']} rows" for d in databases
            )])  # fmt: skip
    lines.append(["seeding", *(f"{results[d]['seed_s']:.0f} s" for d in databases)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print(f"board_scale: {tickets} tickets, board at {NOW.isoformat()}")
    for index, line in enumerate(lines):
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) + " |")
        if index == 0:
            print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    page_p99 = max(_percentile(t, 0.99) for r in results.values() for t in r["pages"].values())
    print(f"board_scale: tickets={tickets} page_p99_ms={page_p99:.1f} "
          f"board_rss_mb={max(r['rss_mb'] for r in results.values()):.0f}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 tickets")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("HUIYIN_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--communities", type=int, default=1, help="spread the tickets over this many communities")
    parser.add_argument("--samples", type=int, default=30, help="answers per page (at most 20 s of them)")
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument("--pages-of", help=argparse.SUPPRESS)
    parser.add_argument("--export-of", help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, default=CONFIG, help=argparse.SUPPRESS)
    parser.add_argument("--format", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.tickets = 10_000
    if args.pages_of:
        print(json.dumps(measure_pages(args.pages_of, args.config, args.samples)))
        return 0
    if args.export_of:
        seconds, rss, rows = run_export(args.export_of, args.config, args.format, Path(args.out))
        print(json.dumps({"seconds": seconds, "rss_mb": rss, "rows": rows}))
        return 0
    settings = load_settings(CONFIG)
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    results = {database: bench_database(settings, database, args) for database in databases}
    print_table(args.tickets, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
