"""`huiyin` command line: run (console chat), replay (scripted chat → transcript), ledger (print the ledger)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.app import Huiyin
from bot.console import HELP, ConsoleSession, ConsoleTransport
from bot.outbox import OutboxSender
from handlers.texts import STATUS_NAMES
from ledger.clock import ManualClock, SystemClock
from ledger.lifecycle import Status
from nlp.keyword_classifier import KeywordClassifier
from settings import ConfigError, load_settings
from settings.environment import load_environment
from settings.models import Settings
from storage.db import make_engine, new_session
from storage.tickets import active_reporters, all_tickets, ledger_fields

log = logging.getLogger("huiyin")


def _build(settings: Settings, database_url: str, clock) -> tuple[Huiyin, object]:
    engine = make_engine(database_url)
    app = Huiyin(settings, engine, KeywordClassifier(settings), clock)
    app.prepare()
    return app, engine


def cmd_run(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    clock = SystemClock(settings.tz)
    app, engine = _build(settings, database_url, clock)
    sender = OutboxSender(engine, ConsoleTransport(print), clock)
    session = ConsoleSession(settings, app, sender, clock, print, id_prefix=f"console-{dt.datetime.now():%Y%m%d%H%M%S}")
    print(f"回音 · {settings.community.name}（数据：{database_url}）")
    print(HELP.format(groups="、".join(g.name for g in settings.groups)))
    sender.drain()
    while True:
        try:
            line = input(f"[{session.current.chat}] {session.current.name}> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if session.feed_line(line) is False:
            return 0


def cmd_replay(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    start = dt.datetime.now(settings.tz).replace(second=0, microsecond=0)
    clock = ManualClock(start)
    app, engine = _build(settings, args.database_url or "sqlite://", clock)
    sender = OutboxSender(engine, ConsoleTransport(print), clock)
    session = ConsoleSession(settings, app, sender, clock, print, echo=True, id_prefix=f"replay-{Path(args.file).stem}")
    with open(args.file, encoding="utf-8") as script:
        session.feed(script)
    return 0


def ledger_rows(settings: Settings, engine) -> list[dict]:
    with new_session(engine) as session:
        rows = []
        for ticket in all_tickets(session):
            row = {"number": ticket.id, **ledger_fields(ticket)}
            row["reporters"] = [r.member_name for r in active_reporters(session, ticket.id)]
            rows.append(row)
        return rows


def cmd_ledger(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    engine = make_engine(database_url)
    rows = ledger_rows(settings, engine)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return 0
    if not rows:
        print("台账为空。")
        return 0
    for row in rows:
        category = settings.category(row["category"])
        assignee = settings.cadre(row["assignee_id"]) if row["assignee_id"] else None
        created = row["created_at"].astimezone(settings.tz).strftime("%m-%d %H:%M")
        print(
            f"#{row['number']:<4} {STATUS_NAMES[Status(row['status'])]:<5} "
            f"{category.name if category else row['category']:<7} {row['location'] or '—':<10} "
            f"{assignee.name if assignee else '—':<4} {created}  {'、'.join(row['reporters'])}  {row['description']}"
        )
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="huiyin", description="回音：让居民的每个问题都有回音")
    main.add_argument("--config", help="community config (default: $HUIYIN_CONFIG or config.yaml)")
    main.add_argument("--env-file", default=".env", help="secrets and DATABASE_URL (default: .env)")
    main.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    commands = main.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="chat with the bot in the terminal (console transport)")
    replay = commands.add_parser("replay", help="run a scripted conversation and print the transcript")
    replay.add_argument("file")
    replay.add_argument("--database-url", help="ledger for the replay (default: a fresh in-memory one)")
    ledger = commands.add_parser("ledger", help="print the ledger")
    ledger.add_argument("--json", action="store_true")
    return main


HANDLERS = {"run": cmd_run, "replay": cmd_replay, "ledger": cmd_ledger}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    environment = load_environment(args.env_file)
    config_path = Path(args.config) if args.config else environment.config_path
    try:
        settings = load_settings(config_path)
    except ConfigError as error:
        print(f"config error in {config_path}:\n{error}", file=sys.stderr)
        return 2
    return HANDLERS[args.command](args, settings, environment.database_url)


if __name__ == "__main__":
    sys.exit(main())
