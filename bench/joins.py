"""A neighbour joining a ticket (`storage.tickets.join_ticket`), alone: its wall time and its statements.

Every report that duplicates an open ticket joins it (a fifth of the realistic mix's messages), so a join's round
trips to the server weigh in what PostgreSQL ingest costs. On a fresh ledger (a throw-away PostgreSQL schema, or a
temporary SQLite file) with `--tickets` open tickets, `--batches` transactions each join `BATCH` newcomers to
those tickets in turn, as a burst handled in batches does; prints the median wall time of one join over the
batches (the first `WARM` left out: statements not yet prepared) and the statements one join runs.

    .venv/bin/python bench/joins.py [--database postgresql|sqlite] [--postgres-url URL] [--batches 40]

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
from storage.db import make_engine, new_session  # noqa: E402
from storage.models import Ticket  # noqa: E402
from storage.schema import init_schema  # noqa: E402
from storage.tickets import Actor, join_ticket, open_ticket  # noqa: E402

BATCH = 32
WARM = 5
NOW = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
FIELDS = {
    "category": "drainage", "description": "3号楼2单元下水道堵了", "location": "3号楼2单元", "grid_id": "g1",
    "chat_id": "1-3号楼业主群", "chat_name": "1-3号楼业主群", "urgent": False, "confidence": 0.9,
}  # fmt: skip


def measure(url: str, tickets: int, batches: int) -> tuple[float, float]:
    """Median seconds of one join, and statements per join, on the ledger at `url`."""
    engine = make_engine(url)
    init_schema(engine, "c1")
    with new_session(engine, "c1") as session:
        resident = Actor("r0", "居民")
        numbers = [open_ticket(session, now=NOW, reporter=resident, fields=FIELDS).id for _ in range(tickets)]
        session.commit()
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    times = []
    for batch in range(batches):
        with new_session(engine, "c1") as session:
            joined = [session.get(Ticket, numbers[(batch * BATCH + n) % tickets]) for n in range(BATCH)]
            event.listen(engine, "before_cursor_execute", count)
            began = time.perf_counter()
            for n, ticket in enumerate(joined):
                join_ticket(session, ticket, Actor(f"m{batch}-{n}", "邻居"), now=NOW, note="我家也是")
            times.append((time.perf_counter() - began) / BATCH)
            event.remove(engine, "before_cursor_execute", count)
            session.commit()
    engine.dispose()
    return statistics.median(times[WARM:]), statements / (batches * BATCH)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--tickets", type=int, default=50)
    parser.add_argument("--batches", type=int, default=40)
    args = parser.parse_args()
    if args.batches <= WARM:
        parser.error(f"--batches must be more than {WARM}")
    with Database(args.database, args.postgres_url).ledger() as url:
        seconds, statements = measure(url, args.tickets, args.batches)
    print(f"joins: database={args.database} median_us={seconds * 1e6:.0f} statements_per_join={statements:.2f}")


if __name__ == "__main__":
    main()
