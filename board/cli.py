"""`huiyin board` (serve the wall) and `huiyin export` (write the 台账), wired into `bot.cli`.

Heavy imports (FastAPI, uvicorn, openpyxl) happen inside the commands, so the chat commands start fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from settings.models import Board, Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.engine import Engine


def day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD, e.g. 2026-11-23)") from None


def add_commands(commands: argparse._SubParsersAction) -> None:
    board = commands.add_parser("board", help="serve the public progress wall, cadre view and Open311 API")
    add_listen_options(board, "config.yaml")
    export = commands.add_parser("export", help="write the ledger as a paper-style 台账 (xlsx or csv)")
    add_export_options(export, "huiyin-taizhang-<today>.<format>")


def add_listen_options(parser: argparse.ArgumentParser, config: str) -> None:
    """A board command's options; `config` names the file whose `board:` section gives the defaults."""
    parser.add_argument("--host", help=f"address to listen on (default: board.host of {config})")
    parser.add_argument("--port", type=int, help=f"port to listen on (default: board.port of {config})")


def add_export_options(parser: argparse.ArgumentParser, default_out: str) -> None:
    """An export command's options; `default_out` describes the file written without `--out`."""
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    parser.add_argument("--from", dest="start", type=day, help="first day of reports (YYYY-MM-DD)")
    parser.add_argument("--to", dest="end", type=day, help="last day of reports (YYYY-MM-DD)")
    parser.add_argument("--out", help=f"file to write (default: {default_out})")
    parser.add_argument("--unmasked", action="store_true", help="show reporters' names and numbers in full")


def open_ledger(database_url: str, *, empty_ok: bool = False) -> Engine | int:
    """A read-only engine on the ledger for a command, or the exit code after one line on stderr saying why
    there is nothing to read: 2 for a database that cannot be read, 0 for one the bot never ran on (unless
    `empty_ok`: the board shows an empty wall until then). Never creates or changes anything."""
    from board.readonly import read_only_engine
    from storage import texts
    from storage.db import LedgerUnavailable
    from storage.schema import check_ledger

    try:
        engine = read_only_engine(database_url)
        found = check_ledger(engine)
    except LedgerUnavailable as error:
        print(error, file=sys.stderr)
        return 2
    if found or empty_ok:
        return engine
    print(texts.EMPTY_LEDGER, file=sys.stderr)
    return 0


def cmd_board(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    from board.web import create_app
    from bot.app import build_app
    from ledger.clock import SystemClock
    from settings.secrets import board_secrets

    engine = open_ledger(database_url, empty_ok=True)
    if isinstance(engine, int):
        return engine
    clock = SystemClock(settings.tz)
    secrets = board_secrets()
    bot = build_app(settings, database_url, clock)[0] if secrets.api_key else None
    app = create_app(settings, engine, clock, secrets, bot=bot)
    return serve(app, args, settings.board, settings.community.name, database_url)


def serve(app: FastAPI, args: argparse.Namespace, board: Board, name: str, database_url: str) -> int:
    """Serve a board until interrupted, at `--host`/`--port` or the configured `board:` address."""
    import uvicorn

    host, port = args.host or board.host, args.port or board.port
    print(f"回音看板 · {name}：http://{host}:{port}/ （数据：{database_url}）")
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    from board.export import day_bounds
    from board.taizhang import TaizhangExport, write_csv_export, write_xlsx_export

    if args.start and args.end and args.end < args.start:
        print("--to is before --from")
        return 2
    engine = open_ledger(database_url)
    if isinstance(engine, int):
        return engine
    now = dt.datetime.now(settings.tz)
    out = Path(args.out or f"huiyin-taizhang-{now.date().isoformat()}.{args.format}")
    start, end = day_bounds(args.start, args.end, settings.tz)
    export = TaizhangExport(database_url, settings, now, start, end, masked=not args.unmasked)
    with out.open("wb") as file:
        write = write_xlsx_export if args.format == "xlsx" else write_csv_export
        count = write(export, engine, file)
    print(f"{count} 条 → {out}")
    return 0


HANDLERS = {"board": cmd_board, "export": cmd_export}
