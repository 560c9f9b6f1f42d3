"""A neighbour joining a ticket (`storage.tickets.join_ticket`), alone: its wall time and its statements.

Every report that duplicates an open ticket joins it (a fifth of the realistic mix's messages), so a join's round
trips to the server weigh in what PostgreSQL ingest costs. On a fresh ledger (a throw-away PostgreSQL schema, or a
temporary SQLite file) with `--tickets` open tickets, `--batches` transactions each join `BATCH` newcomers to
those tickets in turn, as a burst handled in batches does; prints the median wall time of one join over the
batches (the first `WARM` left out: statements not yet prepared) and the statements one join runs.

    .venv/bin/python bench/joins.py [--database postgresql|sqlite] [--postgres-url URL] [--batches 40] [--by-number]

`--by-number` times what a report does instead, from the number its candidate query found, in one run, batch by
batch alternately: the ticket read and then joined (`get_ticket`, `join_ticket`: a report until `join_found`), and
`storage.tickets.join_found`, which needs no read first on PostgreSQL.

The ingest figures of a whole mix (bench/ingest.py) move by more than a join's share from one run to the next on
a shared machine; this is how to compare two builds' joins (run each build's copy alternately).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import event  # noqa: E402

from bench.ingest import POSTGRES_URL, Database  # noqa: E402
from ledger.lifecycle import Status  # noqa: E402
from storage.db import make_engine, new_session  # noqa: E402
from storage.models import Ticket  # noqa: E402
from storage.schema import init_schema  # noqa: E402
from storage.tickets import Actor, get_ticket, join_found, join_ticket, open_ticket  # noqa: E402

BATCH = 32
WARM = 5
NOW = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
FIELDS = {
    "category": "drainage", "description": "3号楼2单元下水道堵了", "location": "3号楼2单元", "grid_id": "g1",
    "chat_id": "1-3号楼业主群", "chat_name": "1-3号楼业主群", "urgent": False, "confidence": 0.9,
}  # fmt: skip


def measure(url: str, tickets: int, batches: int, by_number: bool = False) -> dict[str, tuple[float, float]]:
    """Median seconds of one join, and statements per join, on the ledger at `url`, by way of joining: `loaded`
    (the ticket read before the clock starts), or with `by_number`, `read` and `found` in alternate batches."""
    engine = make_engine(url)
    init_schema(engine, "c1")
    with new_session(engine, "c1") as session:
        resident = Actor("r0", "居民")
        numbers = [open_ticket(session, now=NOW, reporter=resident, fields=FIELDS).id for _ in range(tickets)]
        session.commit()
    ways = ("read", "found") if by_number else ("loaded",)
    times: dict[str, list[float]] = {way: [] for way in ways}
    statements = dict.fromkeys(ways, 0)
    for batch in range(batches):
        way = ways[batch % len(ways)]

        def count(*_args: object, way: str = way) -> None:
            statements[way] += 1

        with new_session(engine, "c1") as session:
            picked = [numbers[(batch * BATCH + n) % tickets] for n in range(BATCH)]
            loaded = [session.get(Ticket, number) for number in picked] if way == "loaded" else []
            event.listen(engine, "before_cursor_execute", count)
            began = time.perf_counter()
            for n, number in enumerate(picked):
                neighbour = Actor(f"m{batch}-{n}", "邻居")
                if way == "found":
                    join_found(session, number, Status.NEW.value, neighbour, now=NOW, note="我家也是")
                else:
                    ticket = loaded[n] if loaded else get_ticket(session, number)
                    join_ticket(session, ticket, neighbour, now=NOW, note="我家也是")
            times[way].append((time.perf_counter() - began) / BATCH)
            event.remove(engine, "before_cursor_execute", count)
            session.commit()
    engine.dispose()
    return {
        way: (statistics.median(times[way][WARM:]), statements[way] / (len(times[way]) * BATCH)) for way in ways
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--tickets", type=int, default=50)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--by-number", action="store_true", help="a report's join: read then join, and join_found")
    args = parser.parse_args()
    if args.batches <= 2 * WARM:
        parser.error(f"--batches must be more than {2 * WARM}")
    with Database(args.database, args.postgres_url).ledger() as url:
        measured = measure(url, args.tickets, args.batches, args.by_number)
    figures = " ".join(
        f"{way}_median_us={seconds * 1e6:.0f} {way}_statements_per_join={statements:.2f}"
        for way, (seconds, statements) in measured.items()
    )
    print(f"joins: database={args.database} {figures}")


if __name__ == "__main__":
    main()
