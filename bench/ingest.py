"""End-to-end ingest: messages per second through the whole app with 5 and with 500 open tickets (same run).

A report is compared with the open tickets it may duplicate (`handlers/reports._duplicate`) and a follow-up
with the sender's and the grid's tickets (`handlers/followup`), so what a report costs could grow with the
ledger. This replays the realistic mix of `nlp/data/round2_holdout.csv` and `tests/data/groupchat_holdout.csv`
(reports, questions, chatter, emergencies in a real group's proportions), each message from its own resident
in the two residents' groups, on a fresh SQLite ledger seeded with N open tickets of varied problems and
places; it times `app.handle` alone (the outbox is not drained) and prints the medians of `--rounds` rounds.

    python bench/ingest.py            # 5 vs 500 open tickets
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.app import build_app  # noqa: E402
from ledger.clock import ManualClock  # noqa: E402
from ledger.messages import Incoming, MessageKind  # noqa: E402
from settings.loader import load_settings  # noqa: E402
from storage.db import new_session  # noqa: E402
from storage.tickets import Actor, open_ticket  # noqa: E402

MIXES = (REPO / "nlp" / "data" / "round2_holdout.csv", REPO / "tests" / "data" / "groupchat_holdout.csv")
GROUPS = ("1-3号楼业主群", "4-6号楼业主群")
PROBLEMS = (
    ("drainage", "下水道堵了，一楼返水"), ("power", "楼道灯不亮"), ("facilities", "电梯坏了停在三楼"),
    ("sanitation", "垃圾桶满了没人清运"), ("parking_fire", "消防通道被车堵了"), ("noise_dispute", "楼上装修太吵"),
    ("greening", "树枝断了挂在半空"), ("security", "单元门口有可疑的人转悠"),
)  # fmt: skip
START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def texts() -> list[str]:
    found = []
    for path in MIXES:
        with path.open(encoding="utf-8") as file:
            found += [row["text"] for row in csv.DictReader(file) if row["text"].strip()]
    return found


def seed(engine, count: int) -> None:
    """`count` open tickets spread over buildings 1-6 and the problems above, all within the merge window."""
    with new_session(engine) as session:
        for number in range(count):
            category, text = PROBLEMS[number % len(PROBLEMS)]
            building = f"{number % 6 + 1}号楼{number % 4 + 1}单元"
            grid = "g1" if number % 6 < 3 else "g2"
            open_ticket(
                session, now=START - dt.timedelta(minutes=count - number), reporter=Actor(f"seed{number}", "居民"),
                assignee_id="wangfang" if grid == "g1" else "lijun",
                fields={"category": category, "description": f"{building}{text}", "location": building,
                        "grid_id": grid, "chat_id": GROUPS[grid == "g2"], "chat_name": GROUPS[grid == "g2"]},
            )  # fmt: skip
        session.commit()


def _message(n: int, text: str) -> Incoming:
    group = GROUPS[n % 2]
    return Incoming(
        message_id=f"m{n}", chat_id=group, chat_name=group, sender_id=f"r{n}", sender_name=f"居民{n}", text=text,
        timestamp=START, kind=MessageKind.TEXT, is_private=False,
    )


def one_round(messages: list[str], open_tickets: int) -> tuple[float, float]:
    """Messages per second of `app.handle` over `messages` with `open_tickets` open tickets: by the wall clock,
    and by the process's CPU time (steadier on a shared machine; it leaves out waiting for the disk)."""
    settings = load_settings(REPO / "config.yaml")
    with tempfile.TemporaryDirectory() as directory:
        clock = ManualClock(START)
        app, engine = build_app(settings, f"sqlite:///{directory}/bench.db", clock)
        seed(engine, open_tickets)
        incoming = [_message(n, text) for n, text in enumerate(messages)]
        began, began_cpu = time.perf_counter(), time.process_time()
        for message in incoming:
            clock.advance(dt.timedelta(seconds=1))
            app.handle(message)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
        engine.dispose()
    return len(messages) / elapsed, len(messages) / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--few", type=int, default=5)
    parser.add_argument("--many", type=int, default=500)
    args = parser.parse_args()
    messages = texts()
    few, many = [], []
    for _ in range(args.rounds):  # interleaved, so machine noise hits both alike
        few.append(one_round(messages, args.few))
        many.append(one_round(messages, args.many))
    print(f"messages per round: {len(messages)}")
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


if __name__ == "__main__":
    main()
