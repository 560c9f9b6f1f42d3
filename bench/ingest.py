"""End-to-end ingest: messages per second through the whole app, with 5 and with 500 open tickets (same run), and
with several bot processes writing one PostgreSQL ledger.

A report is compared with the open tickets it may duplicate (`handlers/reports._duplicate`) and a follow-up
with the sender's and the grid's tickets (`handlers/followup`), so what a report costs could grow with the
ledger. This replays the realistic mix of `nlp/data/round2_holdout.csv` and `tests/data/groupchat_holdout.csv`
(reports, questions, chatter, emergencies in a real group's proportions), each message from its own resident
in the two residents' groups, on a fresh ledger seeded with N open tickets of varied problems and places; it
times the app alone (the outbox is not drained) and prints the medians of `--rounds` rounds.

The messages come as a burst, faster than one process handles them, and are handed over as the wechaty transport
hands over what waits in its inbox (`bot.inbox.Inbox`): up to `--batch` (default `BATCH_LIMIT`, 32) at a time, each
batch in one transaction (`Huiyin.handle_batch`). `--batch 1` hands them one by one to `app.handle`, each in its
own transaction, as when messages come one at a time. Each message is handled at its own instant of the mix
(`Paced`: one second apart), whichever way it is handed over.

`--workers 1,4` also splits a stream across that many worker processes, each with its own `build_app` on the same
ledger (seeded with `--many` open tickets) and its own senders, message ids and chats (groups of the same names, so
of the same grids), started together through a barrier;
it reports the wall-clock messages per second of the whole stream for each count, and the ratio of the last count
to the first. The stream is the mix once per worker of the largest count (4 copies for `1,4`, each message its own
resident's, as four groups of the same buildings would say it), handled alike by every count: split four ways, one
mix lasts half a second, in which the processes' start and the last batches' imbalance weigh as much as the work.
A PostgreSQL ledger is a throw-away schema on `--postgres-url` (default `$HUIYIN_TEST_DATABASE_URL`, else
postgresql://postgres@127.0.0.1:5432/test), dropped afterwards; a SQLite ledger is a temporary file.

    python bench/ingest.py                                          # SQLite: 5 vs 500 open tickets
    python bench/ingest.py --batch 1                                # each message in its own transaction
    python bench/ingest.py --database postgresql --workers 1,4      # PostgreSQL, plus 1 and 4 bot processes
    python bench/ingest.py --database postgresql --workers 1,4 --ceiling   # and the classifier alone in 1 and 4
    python bench/ingest.py --database postgresql --synchronous-commit off   # without waiting for each commit's
                                                                    # WAL flush (the disk's share of a message)

Each app first handles a warm-up (`WARMUP`: other group-chat messages, none of the mix) as another community
of the same ledger, sharing its engine and classifier: what a bot that has been running has (SQLAlchemy's compiled
statements, the classifier's per-word cache) without touching the measured community's tickets, which the
community filter keeps apart. `--cold` times a freshly started app instead.

`--ceiling` also runs, in each round and for each worker count, the same split of the stream through the classifier
alone (`classified_round`: `configured_classifier`, warmed up alike, no database and no server; the stream
`CLASSIFIED_REPEATS` times over, which lasts about as long as a worker round): how much faster
several processes run the app's own Python on this machine at that moment, the ceiling of the workers' ratio. Two
cores do not give two processes twice the work of one when each walks large dictionaries (the classifier's
weights, jieba's, SQLAlchemy's): they share the caches and the memory bus.

`--closed N` adds a ledger's history before the open tickets: N tickets of the same problems and places, created and
closed over the year before the merge window. A report or a follow-up must cost the same beside them: the candidate
queries read open tickets of the window and recent resolutions, never the history.

The output ends with one JSON line: {"database", "batch", "closed", "open_5", "open_500", "yardstick_s", "ingest_1",
"ingest_4", "ratio"} (the keys follow `--few`, `--many` and `--workers`): medians of wall-clock messages per second;
`yardstick_s`, the seconds a fixed pure-Python loop took (`yardstick`: the machine's speed, for comparing machines);
`ingest_N` only with `--workers`; `ratio` is the last worker count's figure over the first's with `--workers`, else
open_500 / open_5. With `--workers`, `ratio_paired` is the median over the rounds of each round's ratio: the counts of
one round run minutes apart at most, where the machine's speed (`yardstick_s`) can drift by half over a run. With
`--ceiling`, `ceiling_ratio_paired` is the same median for the classifier alone.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import timeit
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import make_url, text, update  # noqa: E402

from bot.app import Huiyin, build_app  # noqa: E402
from bot.inbox import BATCH_LIMIT  # noqa: E402
from ledger.clock import ManualClock  # noqa: E402
from ledger.lifecycle import Status  # noqa: E402
from ledger.messages import Incoming, MessageKind  # noqa: E402
from nlp.trained import configured_classifier  # noqa: E402
from settings.loader import load_settings  # noqa: E402
from settings.models import Settings  # noqa: E402
from storage.db import make_engine, new_session  # noqa: E402
from storage.models import Ticket  # noqa: E402
from storage.tickets import Actor, open_ticket  # noqa: E402

WARMUP = (REPO / "tests" / "data" / "groupchat.csv", REPO / "nlp" / "data" / "community_mixed.csv")
MIXES = (REPO / "nlp" / "data" / "round2_holdout.csv", REPO / "tests" / "data" / "groupchat_holdout.csv")
GROUPS = ("1-3号楼业主群", "4-6号楼业主群")
PROBLEMS = (
    ("drainage", "下水道堵了，一楼返水"), ("power", "楼道灯不亮"), ("facilities", "电梯坏了停在三楼"),
    ("sanitation", "垃圾桶满了没人清运"), ("parking_fire", "消防通道被车堵了"), ("noise_dispute", "楼上装修太吵"),
    ("greening", "树枝断了挂在半空"), ("security", "单元门口有可疑的人转悠"),
)  # fmt: skip
START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
CONFIG = REPO / "config.yaml"
POSTGRES_URL = os.environ.get("HUIYIN_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"


def texts(paths: tuple[Path, ...] = MIXES) -> list[str]:
    found = []
    for path in paths:
        with path.open(encoding="utf-8") as file:
            found += [row["text"] for row in csv.DictReader(file) if row["text"].strip()]
    return found


def seed(engine, count: int, community_id: str | None = None, closed: int = 0) -> None:
    """`count` open tickets spread over buildings 1-6 and the problems above, all within the merge window; before
    them, `closed` tickets of the same problems and places closed over the year before (a ledger's history)."""
    year = dt.timedelta(days=365)
    with new_session(engine, community_id) as session:
        for number in range(closed):
            _seed_ticket(session, number, START - year + number * (year - dt.timedelta(days=30)) / max(closed, 1))
        session.flush()
        ended = START - dt.timedelta(days=30)
        c = Ticket.__table__.c
        session.execute(
            update(Ticket).where(c.created_at < ended)
            .values(status=Status.CLOSED.value, resolved_at=c.created_at, closed_at=c.created_at)
        )  # fmt: skip
        for number in range(count):
            _seed_ticket(session, number, START - dt.timedelta(minutes=count - number))
        session.commit()


def _seed_ticket(session, number: int, now: dt.datetime) -> None:
    category, text = PROBLEMS[number % len(PROBLEMS)]
    building = f"{number % 6 + 1}号楼{number % 4 + 1}单元"
    grid = "g1" if number % 6 < 3 else "g2"
    open_ticket(
        session, now=now, reporter=Actor(f"seed{number}", "居民"), assignee_id="wangfang" if grid == "g1" else "lijun",
        fields={"category": category, "description": f"{building}{text}", "location": building, "grid_id": grid,
                "chat_id": GROUPS[grid == "g2"], "chat_name": GROUPS[grid == "g2"]},
    )  # fmt: skip


def _message(n: int, text: str, worker: str = "") -> Incoming:
    """Message `n` of the mix, from its own resident; `worker` keeps the ids, senders and chats (groups of the same
    name and grids, as several WeChat groups of one building) of processes apart."""
    group = GROUPS[n % 2]
    return Incoming(
        message_id=f"{worker}m{n}", chat_id=f"{worker}{group}", chat_name=group, sender_id=f"{worker}r{n}",
        sender_name=f"居民{worker}{n}", text=text, timestamp=START, kind=MessageKind.TEXT, is_private=False,
    )  # fmt: skip


@dataclass(frozen=True)
class Database:
    """Where the ledgers of the bench are made: `sqlite` files, or schemas of the PostgreSQL server at `postgres_url`
    (whose sessions commit with `synchronous_commit`)."""

    kind: str = "sqlite"
    postgres_url: str = POSTGRES_URL
    synchronous_commit: str = "on"

    @contextmanager
    def ledger(self) -> Iterator[str]:
        """The URL of a fresh, empty ledger, removed afterwards."""
        if self.kind == "sqlite":
            with tempfile.TemporaryDirectory() as directory:
                yield f"sqlite:///{directory}/bench.db"
            return
        schema = f"bench_ingest_{uuid.uuid4().hex[:12]}"
        admin = make_engine(self.postgres_url)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            options = f"-csearch_path={schema} -csynchronous_commit={self.synchronous_commit}"
            yield make_url(self.postgres_url).update_query_dict({"options": options}).render_as_string(False)
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


class Paced:
    """A clock that gives each message its own instant of the mix: the next of `instants` at each reading (the app
    reads the clock once per message, in `handle` and in `handle_batch` alike; a batch handled again one by one
    reads it again, and stays at the last instant once they are used up)."""

    def __init__(self, instants: Iterable[dt.datetime]) -> None:
        self._instants = iter(instants)
        self._last = START

    def now(self) -> dt.datetime:
        self._last = next(self._instants, self._last)
        return self._last


def feed(app: Huiyin, incoming: list[Incoming], batch: int) -> None:
    """Hand `incoming` to `app` as a transport under a burst does: up to `batch` messages at a time
    (`bot.inbox.Inbox`, one transaction each), or one by one (`batch` 1: `handle_batch` hands a lone message to
    `app.handle`)."""
    for first in range(0, len(incoming), batch):
        app.handle_batch(incoming[first : first + batch])


def warm_up(app: Huiyin, worker: str = "") -> None:
    """Handle the warm-up messages as community `warmup` on `app`'s engine and classifier (see the docstring)."""
    community = app.settings.community.model_copy(update={"id": f"warmup{worker}"})
    settings = app.settings.model_copy(update={"community": community})
    warm = Huiyin(settings, app.engine, app.classifier, ManualClock(START))
    warm.prepare()
    for n, said in enumerate(texts(WARMUP)):
        warm.handle(_message(n, said, f"warm{worker}-"))


def prepared(settings: Settings, url: str, open_tickets: int, closed: int = 0) -> None:
    """Migrate and seed the ledger at `url` (as the first start of the bot would, plus the open tickets). PostgreSQL
    then gathers the tables' statistics, as its autovacuum does within a minute of such a change on a running
    ledger: without them the planner takes the seeded tables for empty and picks other indexes."""
    app, engine = build_app(settings, url, ManualClock(START))
    seed(engine, open_tickets, app.community_id, closed)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    engine.dispose()


def one_round(
    settings: Settings, messages: list[str], open_tickets: int, database: Database, *, cold: bool, batch: int,
    closed: int = 0,
) -> tuple[float, float]:  # fmt: skip
    """Messages per second of `app.handle` over `messages` with `open_tickets` open tickets: by the wall clock,
    and by the process's CPU time (steadier on a shared machine; it leaves out waiting for the disk, and the
    PostgreSQL server's work)."""
    with database.ledger() as url:
        prepared(settings, url, open_tickets, closed)
        app, engine = build_app(settings, url, ManualClock(START))
        if not cold:
            warm_up(app)
        incoming = [_message(n, text) for n, text in enumerate(messages)]
        app.clock = Paced(START + dt.timedelta(seconds=n + 1) for n in range(len(incoming)))
        began, began_cpu = time.perf_counter(), time.process_time()
        feed(app, incoming, batch)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
        engine.dispose()
    return len(messages) / elapsed, len(messages) / cpu


def _worker(worker: int, mix: list[tuple[int, str]], start, results, url: str, cold: bool, batch: int) -> None:
    """One bot process, started afresh as a bot is (not forked from the bench, whose memory its first garbage
    collections would copy): its own app on the shared ledger; handles `mix` once all workers are ready."""
    app, engine = build_app(load_settings(CONFIG), url, ManualClock(START))
    if not cold:
        warm_up(app, str(worker))
    incoming = [_message(n, text, f"w{worker}-") for n, text in mix]
    app.clock = Paced(START + dt.timedelta(seconds=n + 1) for n, _ in mix)  # the mix's own pace, in any process
    start.wait()
    began, began_cpu = time.perf_counter(), time.process_time()  # perf_counter: the same clock in every process
    feed(app, incoming, batch)
    results.put((began, time.perf_counter(), len(incoming), time.process_time() - began_cpu))
    engine.dispose()


def workers_round(
    settings: Settings,
    messages: list[str],
    workers: int,
    open_tickets: int,
    database: Database,
    *,
    cold: bool,
    batch: int,
    closed: int = 0,
) -> tuple[float, float]:
    """Wall-clock messages per second of `messages` split across `workers` processes on one ledger, and the
    workers' CPU time per message in milliseconds (the PostgreSQL server's not included)."""
    with database.ledger() as url:
        prepared(settings, url, open_tickets, closed)
        finished = _split(messages, workers, _worker, url, cold, batch)
    began, ended, handled = min(f[0] for f in finished), max(f[1] for f in finished), sum(f[2] for f in finished)
    return handled / (ended - began), 1000 * sum(f[3] for f in finished) / handled


def _split(messages: list[str], workers: int, target, *extra) -> list[tuple[float, float, int, float]]:
    """Run `target(index, share, barrier, results, *extra)` in `workers` freshly spawned processes, each with every
    `workers`-th of `messages` (numbered), released together by the barrier; what each put in `results`: when it
    began and ended (`perf_counter`), how many it handled, its CPU seconds."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(workers), context.Queue()
    numbered = list(enumerate(messages))
    processes = [
        context.Process(target=target, args=(index, numbered[index::workers], start, results, *extra))
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    finished = [results.get() for _ in processes]
    for process in processes:
        process.join()
    return finished


def _classifier_worker(worker: int, mix: list[tuple[int, str]], start, results) -> None:
    """`_worker` without the app: the configured classifier, warmed up on the same messages, classifies `mix`."""
    classifier = configured_classifier(load_settings(CONFIG))
    for said in texts(WARMUP):
        classifier.classify(said)
    start.wait()
    began, began_cpu = time.perf_counter(), time.process_time()
    for _, said in mix:
        classifier.classify(said)
    results.put((began, time.perf_counter(), len(mix), time.process_time() - began_cpu))


def classified_round(messages: list[str], workers: int) -> float:
    """Wall-clock messages per second of the classifier alone over `messages` split across `workers` processes as
    `workers_round` splits them: what the machine gives that many processes of the app's own Python, no database."""
    finished = _split(messages, workers, _classifier_worker)
    return sum(f[2] for f in finished) / (max(f[1] for f in finished) - min(f[0] for f in finished))


CLASSIFIED_REPEATS = 8
"""The classifier alone goes over the stream this many times: about as long as a worker round, not a tenth of it."""


def _paired(by_count: dict[int, list[float]], first: int, last: int) -> list[float]:
    """Each round's figure for `last` workers over its figure for `first`."""
    return [mine / theirs for mine, theirs in zip(by_count[last], by_count[first], strict=True)]


def yardstick() -> float:
    """Seconds a fixed pure-Python loop of `YARDSTICK_STEPS` additions takes here, the best of 3: how fast this
    machine runs Python at the time, so that figures taken on different machines can be set side by side."""

    def loop() -> int:
        total = 0
        for number in range(YARDSTICK_STEPS):
            total += number
        return total

    return min(timeit.repeat(loop, number=1, repeat=3))


YARDSTICK_STEPS = 5_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--few", type=int, default=5)
    parser.add_argument("--many", type=int, default=500)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--synchronous-commit", choices=("on", "off"), default="on", help="PostgreSQL sessions'")
    parser.add_argument("--workers", type=lambda value: [int(n) for n in value.split(",")], default=[])
    parser.add_argument("--cold", action="store_true", help="time freshly started apps (no warm-up)")
    parser.add_argument("--ceiling", action="store_true", help="with --workers: the classifier alone too")
    parser.add_argument("--closed", type=int, default=0, help="closed tickets of the year before (a ledger's history)")
    parser.add_argument(
        "--batch",
        type=int,
        default=BATCH_LIMIT,
        help=f"messages per transaction (default {BATCH_LIMIT}, the "
        "transport's limit under a burst; 1: each message in its own, as when they come one at a time)",
    )
    args = parser.parse_args()
    database = Database(args.database, args.postgres_url, args.synchronous_commit)
    settings = load_settings(CONFIG)
    messages = texts()
    few, many, by_workers = [], [], {count: [] for count in args.workers}
    classified: dict[int, list[float]] = {count: [] for count in args.workers if args.ceiling}
    stream = messages * max(args.workers, default=1)
    for _ in range(args.rounds):  # interleaved, so machine noise hits all alike
        kind = {"cold": args.cold, "batch": args.batch, "closed": args.closed}
        few.append(one_round(settings, messages, args.few, database, **kind))
        many.append(one_round(settings, messages, args.many, database, **kind))
        for count in args.workers:
            by_workers[count].append(workers_round(settings, stream, count, args.many, database, **kind))
        for count in classified:
            classified[count].append(classified_round(stream * CLASSIFIED_REPEATS, count))
    committing = f" (synchronous_commit {args.synchronous_commit})" if args.database == "postgresql" else ""
    warm = "cold: freshly started apps" if args.cold else f"warmed up with {len(texts(WARMUP))} other messages"
    batching = "one message per transaction" if args.batch == 1 else f"up to {args.batch} messages per transaction"
    history = f"; {args.closed} closed tickets of the year before" if args.closed else ""
    print(f"database: {args.database}{committing}; messages per round: {len(messages)}; {batching}; {warm}{history}")
    machine = yardstick()
    print(f"machine: a loop of {YARDSTICK_STEPS:,} Python additions took {machine:.2f} s (best of 3, after the rounds)")
    medians = {}
    for label, rounds in ((f"{args.few} open", few), (f"{args.many} open", many)):
        wall, cpu = statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds)
        medians[label] = (wall, cpu)
        shown = " ".join(f"{r[0]:.0f}/{r[1]:.0f}" for r in rounds)
        print(f"{label:>9}: wall/cpu msg/s {shown}  medians {wall:.0f} / {cpu:.0f}")
    (few_wall, few_cpu), (many_wall, many_cpu) = medians.values()
    print(
        f"ingest: few_wall={few_wall:.0f} many_wall={many_wall:.0f} few_cpu={few_cpu:.0f} many_cpu={many_cpu:.0f} "
        f"ratio_cpu={many_cpu / few_cpu:.2f}"
    )
    summary: dict[str, object] = {
        "database": args.database,
        "batch": args.batch,
        "closed": args.closed,
        f"open_{args.few}": round(few_wall),
        f"open_{args.many}": round(many_wall),
        "yardstick_s": round(machine, 2),
    }
    ratio = many_wall / few_wall
    if args.workers:
        walls = {count: statistics.median(r[0] for r in rounds) for count, rounds in by_workers.items()}
        for count, rounds in by_workers.items():
            shown = " ".join(f"{r[0]:.0f}" for r in rounds)
            cpu = statistics.median(r[1] for r in rounds)
            print(
                f"{count:>2} workers ({args.many} open, {len(stream)} messages): wall msg/s {shown}  "
                f"median {walls[count]:.0f}  (workers' cpu {cpu:.2f} ms/msg)"
            )
            summary[f"ingest_{count}"] = round(walls[count])
        first, last = args.workers[0], args.workers[-1]
        ratio = walls[last] / walls[first]
        walls_by_round = {count: [r[0] for r in rounds] for count, rounds in by_workers.items()}
        paired = _paired(walls_by_round, first, last)
        summary["ratio_paired"] = round(statistics.median(paired), 2)
        shown = " ".join(f"{r:.2f}" for r in paired)
        print(f"workers: {last} vs {first}: ratio {ratio:.2f} (of the medians); each round's {shown}, "
              f"median {summary['ratio_paired']:.2f}")
        if classified:
            for count, rounds in classified.items():
                shown = " ".join(f"{r:.0f}" for r in rounds)
                print(f"{count:>2} processes classifying alone (no database): msg/s {shown}  "
                      f"median {statistics.median(rounds):.0f}")
            ceiling = _paired(classified, first, last)
            summary["ceiling_ratio_paired"] = round(statistics.median(ceiling), 2)
            shown = " ".join(f"{r:.2f}" for r in ceiling)
            print(f"ceiling: {last} vs {first} processes classifying alone: each round's {shown}, "
                  f"median {summary['ceiling_ratio_paired']:.2f}")
    summary["ratio"] = round(ratio, 2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
