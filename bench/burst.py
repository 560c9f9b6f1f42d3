"""A burst of reports of one known incident: `python bench/burst.py [--database-url URL] [--reports 500]`.

On a fresh ledger (a SQLite file in a temporary directory; with `--database-url`, a throw-away schema of that
PostgreSQL server, dropped afterwards) a cadre posts a notice for 3号楼 (`通知 3号楼 停水：水箱清洗 至 15:00`);
then `--reports` residents, each a different one, write that the water is off — wordings generated
combinatorially (`怎么停水了`, `3栋没水了？`, `水呢？？`, `咋个莫得水了`, with building and unit variants,
emoji, …) — across the two groups covering 3号楼 (`1-3号楼业主群`, `幸福里社区居民群`). Each message goes
through `Huiyin.handle` in process, as tests/chat.py does; msg/s is the handling alone.

The replies are then delivered by the sender production uses for WeChat, `bot.outbound.PacedOutbox`, with the
configured `outbound` limits (one message per group every `group_interval_seconds`, `per_minute`, `daily_cap`,
replies queued for one group merged up to `merge_max`), a fake `deliver` and a manual clock moved by the waits
the pacer asks for, so no real time passes. `--interval S` spreads the arrivals S simulated seconds apart and
lets the outbox send meanwhile (0, the default: the burst arrives at once, then the outbox drains).

Reported: tickets opened (must be 0), incident reporters (must be --reports), msg/s, outbox rows, WeChat
messages sent, rows per message by group, and the simulated minutes from the first report to the last send.
The last line: `burst: reports=… tickets=… msg_per_s=… rows=… wechat_messages=… minutes=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, text
from sqlmodel import select

from bot.app import Huiyin
from bot.outbound import Delivery, PacedOutbox
from ledger.clock import ManualClock
from ledger.messages import Incoming, MessageKind
from nlp.trained import configured_classifier
from settings import load_settings
from storage.db import make_engine, new_session
from storage.models import Incident, IncidentReporter, OutboxMessage, Ticket

REPO = Path(__file__).resolve().parent.parent
GROUPS = ("1-3号楼业主群", "幸福里社区居民群")
CADRE = "王芳"
NOTICE = "通知 3号楼 停水：水箱清洗 至 15:00"
START = (2026, 11, 24, 9, 0)  # a Tuesday morning, local time

# What a resident says: [place] + core + [tail]. A core naming no place is answered by the group's grids.
PLACES = ("", "", "3号楼", "3栋", "三号楼", "3号楼1单元", "3号楼2单元", "3号楼3单元", "3栋2单元", "我们3号楼")
CORES = (
    "怎么停水了", "没水了？", "水呢？？", "咋个莫得水了", "怎么又停水了", "停水了吗", "什么时候来水", "家里没水了",
    "水龙头一滴水都没有", "怎么没水了", "啥时候来水啊", "停水到几点", "还没来水吗", "没水了，咋回事",
)  # fmt: skip
TAILS = ("", "", "😭", "🙏", "！！", "，急着做饭", " 😡😡", "～", "？", "，谁知道")
SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
TITLES = ("阿姨", "叔", "大爷", "奶奶", "姐", "哥", "老师", "师傅", "婶", "小妹")


def wordings(count: int, seed: int) -> list[str]:
    """`count` resident messages, drawn without repeats from the place × core × tail combinations."""
    combos = [p + c + t for p, c, t in itertools.product(PLACES, CORES, TAILS)]
    combos = list(dict.fromkeys(combos))
    rng = random.Random(seed)
    rng.shuffle(combos)
    return [combos[i % len(combos)] for i in range(count)]


def residents(count: int) -> list[str]:
    names = [s + t for s, t in itertools.product(SURNAMES, TITLES)]
    names = [n for n in names if n not in ("王芳",)]
    if count > len(names):
        names += [f"居民{i}" for i in range(count - len(names))]
    return names[:count]


def incoming(settings, clock: ManualClock, number: int, name: str, group: str, words: str) -> Incoming:
    cadre = settings.cadre_by_name(name)
    sender = cadre.chat_id if cadre else f"resident:{name}"
    found = settings.group(group, group)
    return Incoming(
        message_id=f"burst-{number}", chat_id=(found.id or found.name) if found else group, chat_name=group,
        sender_id=sender, sender_name=name, text=words, timestamp=clock.now(), kind=MessageKind.TEXT,
    )  # fmt: skip


class FakeWeChat:
    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.sent: list[tuple[dt.datetime, Delivery]] = []

    async def deliver(self, delivery: Delivery) -> str:
        self.sent.append((self.clock.now(), delivery))
        return f"wx-{len(self.sent)}"


async def _drain_until(outbox: PacedOutbox, clock: ManualClock, until: dt.datetime | None) -> None:
    """Let the outbox send as simulated time passes, up to `until` (None: until nothing is left)."""
    while True:
        wait = await outbox.step()
        if wait is None:
            if until is not None and clock.now() < until:
                clock.set(until)
            return
        if wait <= dt.timedelta(0):
            continue
        target = clock.now() + wait
        if until is not None and target > until:
            clock.set(max(until, clock.now()))
            return
        clock.set(target)


async def burst(args: argparse.Namespace, engine, settings) -> dict[str, object]:
    tz = settings.tz
    clock = ManualClock(dt.datetime(*START, tzinfo=tz))
    app = Huiyin(settings, engine, configured_classifier(settings), clock)
    app.prepare()
    wechat = FakeWeChat(clock)
    outbox = PacedOutbox(engine, wechat.deliver, clock, settings.outbound, tz, sleep=lambda _s: asyncio.sleep(0))
    outbox.online.set()
    app.handle(incoming(settings, clock, 0, CADRE, GROUPS[0], NOTICE))
    await _drain_until(outbox, clock, None)  # the notice goes out before the burst
    notice_messages = len(wechat.sent)
    clock.advance(dt.timedelta(minutes=1))
    first = clock.now()
    messages = wordings(args.reports, args.seed)
    names = residents(args.reports)
    handling = 0.0
    said: dict[str, str] = {}
    interval = dt.timedelta(seconds=args.interval)
    for number, (name, words) in enumerate(zip(names, messages, strict=True), start=1):
        if args.interval:
            await _drain_until(outbox, clock, first + interval * (number - 1))
        group = GROUPS[number % len(GROUPS)]
        message = incoming(settings, clock, number, name, group, words)
        said[message.sender_id] = f"[{group}] {name}: {words}"
        started = time.perf_counter()
        app.handle(message)
        handling += time.perf_counter() - started
    await _drain_until(outbox, clock, None)
    with new_session(engine) as session:
        tickets = session.exec(select(func.count()).select_from(Ticket)).one()
        reporters = session.exec(select(func.count()).select_from(IncidentReporter)).one()
        incidents = session.exec(select(func.count()).select_from(Incident)).one()
        rows = session.exec(select(func.count()).select_from(OutboxMessage)).one()
        unsent = session.exec(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))  # type: ignore[union-attr]
        ).one()
        opened = [t.description for t in session.exec(select(Ticket)).all()]
        joined = set(session.exec(select(IncidentReporter.member_id)).all())
        mentioned = {m for r in session.exec(select(OutboxMessage)).all() for m in r.mention_ids}
    silent = [line for sender, line in said.items() if sender not in joined and sender not in mentioned]
    burst_sent = wechat.sent[notice_messages:]
    last = burst_sent[-1][0] if burst_sent else first
    per_group = Counter(d.outgoing.chat_name for _, d in burst_sent)
    longest = max((len(d.outgoing.text) for _, d in burst_sent), default=0)
    repeated = sum(1 for _, d in burst_sent if _repeats(d.body))
    return {
        "reports": args.reports, "tickets": tickets, "reporters": reporters, "incidents": incidents,
        "msg_per_s": args.reports / handling if handling else float("inf"), "rows": rows, "unsent": unsent,
        "wechat_messages": outbox.messages_sent, "notice_messages": notice_messages, "per_group": dict(per_group),
        "delivered_rows": outbox.delivered_rows, "minutes": (last - first).total_seconds() / 60, "longest": longest,
        "repeated_bodies": repeated, "opened": opened, "silent": silent,
        "sample": burst_sent[0][1].outgoing.text if burst_sent else "",
    }  # fmt: skip


def _repeats(body: str) -> bool:
    lines = [line for line in body.split("\n") if line]
    return len(lines) != len(set(lines))


def _engine(url: str | None):
    """A fresh ledger and a function that throws it away."""
    if url is None:
        directory = tempfile.TemporaryDirectory(prefix="huiyin-burst-")
        engine = make_engine(f"sqlite:///{Path(directory.name) / 'burst.db'}")

        def drop() -> None:
            engine.dispose()
            directory.cleanup()

        return engine, "sqlite", drop
    schema = f"huiyin_burst_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, search_path=schema)

    def drop_schema() -> None:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return engine, "postgresql", drop_schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "config.yaml"))
    parser.add_argument("--database-url", help="a PostgreSQL server (a throw-away schema); default: SQLite")
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--interval", type=float, default=0.0, help="simulated seconds between reports (default 0)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    settings = load_settings(Path(args.config))
    engine, kind, drop = _engine(args.database_url)
    try:
        result = asyncio.run(burst(args, engine, settings))
    finally:
        drop()
    limits = settings.outbound
    print(f"ledger: {kind}; outbound: one per group every {limits.group_interval_seconds:g}s, {limits.per_minute}/min, "
          f"cap {limits.daily_cap}/day, merge_max {limits.merge_max}; arrivals {args.interval:g}s apart")  # fmt: skip
    print(f"notice: {result['incidents']} incident, posted as {result['notice_messages']} WeChat messages")
    print(f"tickets opened: {result['tickets']}  incident reporters: {result['reporters']}")
    for description in result["opened"][:10]:  # type: ignore[index]
        print(f"  opened a ticket: {description}")
    silent = result["silent"]
    print(f"neither joined nor answered (no ticket, no reply): {len(silent)}")  # type: ignore[arg-type]
    for line in silent:  # type: ignore[union-attr]
        print(f"  {line}")
    print(f"outbox rows: {result['rows']} (unsent after the drain: {result['unsent']}); WeChat messages for the burst "
          f"by group: {result['per_group']}; rows per message {result['delivered_rows'] / max(result['wechat_messages'], 1):.1f}")  # noqa: E501  # fmt: skip
    print(f"longest message: {result['longest']} characters; merged messages repeating a line: "
          f"{result['repeated_bodies']}")  # fmt: skip
    print("first burst message: " + str(result["sample"]).replace("\n", " ⏎ ")[:300])
    print(
        f"burst: reports={result['reports']} tickets={result['tickets']} msg_per_s={result['msg_per_s']:.1f} "
        f"rows={result['rows']} wechat_messages={result['wechat_messages']} minutes={result['minutes']:.1f}"
    )
    return 0 if result["tickets"] == 0 and result["reporters"] == result["reports"] else 1


if __name__ == "__main__":
    sys.exit(main())
