"""`huiyin street …`: run, check and show a 街道 (several communities on one ledger; settings/street.py).

    huiyin street --street street/street.yaml check     # the 街道 file and every community file
    huiyin street run [--transport wechaty]              # one process per bot account, all on one PostgreSQL
    huiyin street board [--host --port]                  # the overview at /, each community at /c/<id>/
    huiyin street overdue                                # the 督办 list as the staff get it
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path

from apscheduler.schedulers.base import BaseScheduler

from board.cli import add_export_options, add_listen_options
from bot.console import HELP, ConsoleSession, ConsoleTransport, lenient_stdin
from bot.outbox import OutboxSender, RetryPolicy, SharedDrain, poll
from bot.street import StreetApp, build_street_app
from bot.wechaty_serve import serve_wechaty
from jobs.runner import JobRunner
from jobs.scheduler import new_scheduler, start_street_jobs
from jobs.street import StreetRunner, overdue_message
from ledger.clock import SystemClock
from settings import ConfigError
from settings.environment import Environment
from settings.street import Street, load_street
from settings.texts import CONFIG_ERRORS
from storage.leader import Leadership

STREET_VARIABLE = "HUIYIN_STREET"


def add_commands(commands: argparse._SubParsersAction) -> None:
    street = commands.add_parser("street", help="a 街道: several communities on one ledger (see street/street.yaml)")
    street.add_argument(
        "--street", dest="street_file", help=f"the 街道 file (default: ${STREET_VARIABLE} or street.yaml)"
    )
    actions = street.add_subparsers(dest="street_command", required=True)
    run = actions.add_parser("run", help="answer every community's groups (console, or one WeChat account)")
    run.add_argument("--transport", choices=["console", "wechaty"], help="override the first community's transport")
    board = actions.add_parser("board", help="serve the 街道's overview and each community's board")
    add_listen_options(board, "the 街道 file")
    actions.add_parser("check", help="check the 街道 file and every community file, starting nothing")
    export = actions.add_parser("export", help="write every community's 台账 in one file, a 社区 column first")
    add_export_options(export, "huiyin-taizhang-<街道 id>-<today>.<format>")
    actions.add_parser("overdue", help="print the overdue list (督办) of every community")


def cmd_street(args: argparse.Namespace, environment: Environment) -> int:
    path = Path(args.street_file or os.environ.get(STREET_VARIABLE) or "street.yaml")
    try:
        street = load_street(path)
    except ConfigError as error:
        print(f"{CONFIG_ERRORS.format(path=path)}\n{error}", file=sys.stderr)
        return 2
    if args.street_command == "check":
        names = "、".join(s.community.name for s in street.communities)
        print(f"{path}：没有发现错误（{street.info.name}：{names}；街道工作人员 {len(street.staff)} 位）。")
        return 0
    return STREET_HANDLERS[args.street_command](args, street, environment)


def _run(args: argparse.Namespace, street: Street, environment: Environment) -> int:
    clock = SystemClock(street.tz)
    database_url = environment.database_url
    app, engine = build_street_app(street, database_url, clock)
    if (args.transport or app.settings.transport) == "wechaty":
        banner = f"回音 · {street.info.name}（数据：{database_url}）"
        return serve_wechaty(app, environment, lambda after_run: _start_jobs(app, clock, after_run), banner)
    settings = app.settings
    sender = SharedDrain(OutboxSender(engine, ConsoleTransport(print), clock, RetryPolicy.of(settings)))
    session = ConsoleSession(settings, app, sender, clock, print, id_prefix=f"console-{dt.datetime.now():%Y%m%d%H%M%S}")
    names = "、".join(s.community.name for s in street.communities)
    print(f"回音 · {street.info.name}（{names}；数据：{database_url}）")
    print(HELP.format(groups="、".join(g.name for g in settings.groups)))
    lenient_stdin()
    scheduler = _start_jobs(app, clock, sender.drain)
    sender.drain()
    polling = poll(sender.drain, settings.outbound.poll_seconds)
    try:
        return session.interact()
    finally:
        polling.set()
        scheduler.shutdown(wait=False)


def _start_jobs(app: StreetApp, clock: SystemClock, after_run: Callable[[], object]) -> BaseScheduler:
    """Every community's jobs and the 街道's, run by whichever process leads (storage/leader.py)."""
    scheduler = new_scheduler(app.settings, app.engine)
    runners = [JobRunner(settings, app.engine) for settings in app.street.communities]
    start_street_jobs(
        scheduler, runners, StreetRunner(app.street, app.engine), clock, after_run=after_run,
        leadership=Leadership(app.engine),
    )  # fmt: skip
    return scheduler


def _board(args: argparse.Namespace, street: Street, environment: Environment) -> int:
    from board.cli import open_ledger, serve
    from board.street import create_street_app
    from settings.secrets import board_secrets

    database_url = environment.database_url
    engine = open_ledger(database_url, empty_ok=True)
    if isinstance(engine, int):
        return engine
    clock, secrets = SystemClock(street.tz), board_secrets()
    bots = build_street_app(street, database_url, clock)[0].apps if secrets.api_key else None  # Open311 POST
    app = create_street_app(street, engine, clock, secrets, bots=bots)
    return serve(app, args, street.board, street.info.name, database_url)


def _overdue(args: argparse.Namespace, street: Street, environment: Environment) -> int:
    from board.cli import open_ledger

    engine = open_ledger(environment.database_url)
    if isinstance(engine, int):
        return engine
    print(overdue_message(street, engine, SystemClock(street.tz).now()))
    return 0


def _export(args: argparse.Namespace, street: Street, environment: Environment) -> int:
    """The 街道's 台账: every community's tickets and incidents by number, read in one pass, a 社区 column first."""
    from board.cli import open_ledger
    from board.export import day_bounds
    from board.taizhang import TaizhangExport, write_csv_export, write_xlsx_export

    if args.start and args.end and args.end < args.start:
        print("--to is before --from")
        return 2
    engine = open_ledger(environment.database_url)
    if isinstance(engine, int):
        return engine
    now = dt.datetime.now(street.tz)
    out = Path(args.out or f"huiyin-taizhang-{street.info.id}-{now.date().isoformat()}.{args.format}")
    start, end = day_bounds(args.start, args.end, street.tz)
    export = TaizhangExport(
        environment.database_url, street.as_one(), now, start, end, masked=not args.unmasked, street=street
    )
    with out.open("wb") as file:
        write = write_xlsx_export if args.format == "xlsx" else write_csv_export
        count = write(export, engine, file)
    print(f"{count} 条 → {out}")
    return 0


STREET_HANDLERS = {"run": _run, "board": _board, "overdue": _overdue, "export": _export}
