"""`huiyin` command line: run (console chat), replay (scripted chat → transcript), ledger (print the ledger)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from apscheduler.schedulers.base import BaseScheduler

from board.cli import HANDLERS as BOARD_HANDLERS
from board.cli import add_commands as add_board_commands
from board.cli import open_ledger
from bot.app import build_app
from bot.console import HELP, ConsoleSession, ConsoleTransport, lenient_stdin
from bot.outbox import OutboxSender, RetryPolicy, SharedDrain, poll
from bot.street_cli import add_commands as add_street_commands
from bot.street_cli import cmd_street
from bot.wechaty_serve import serve_wechaty
from handlers.texts import STATUS_NAMES
from jobs.incidents import facts_of
from jobs.runner import JobRunner
from jobs.scheduler import new_scheduler, start_jobs
from ledger.clock import ManualClock, SystemClock
from ledger.incidents import scope_text
from ledger.lifecycle import Status
from nlp.evaluation import evaluate, format_report
from nlp.learned import LearnedClassifier
from nlp.lexicon import Lexicon
from nlp.trained import configured_classifier, read_chatter, save, train_intent_model
from nlp.training import DEFAULT_COST, cross_validate, read_labelled, train
from nlp.weighted import format_explanation
from settings import ConfigError, load_settings
from settings.check import run_check
from settings.environment import load_environment
from settings.models import Settings
from settings.texts import CONFIG_ERRORS
from storage.db import new_session
from storage.examples import training_rows
from storage.incidents import IncidentStatus, all_incidents
from storage.leader import Leadership
from storage.tickets import active_reporters, all_tickets, ledger_fields

log = logging.getLogger("huiyin")


def cmd_run(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    if (getattr(args, "transport", None) or settings.transport) == "wechaty":
        return cmd_run_wechaty(args, settings, database_url)
    clock = SystemClock(settings.tz)
    app, engine = build_app(settings, database_url, clock)
    sender = SharedDrain(OutboxSender(engine, ConsoleTransport(print), clock, RetryPolicy.of(settings)))
    session = ConsoleSession(settings, app, sender, clock, print, id_prefix=f"console-{dt.datetime.now():%Y%m%d%H%M%S}")
    print(f"回音 · {settings.community.name}（数据：{database_url}）")
    print(HELP.format(groups="、".join(g.name for g in settings.groups)))
    session.show_on_duty()
    lenient_stdin()
    scheduler = new_scheduler(settings, engine)
    start_jobs(
        scheduler, settings, JobRunner(settings, engine), clock, after_run=sender.drain, leadership=Leadership(engine)
    )
    sender.drain()
    polling = poll(sender.drain, settings.outbound.poll_seconds)  # replies the board's process queued
    try:
        return session.interact()
    finally:
        polling.set()
        scheduler.shutdown(wait=False)


def cmd_replay(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    script = _read_script(args.file)
    if script is None:
        return 2
    start = dt.datetime.now(settings.tz).replace(second=0, microsecond=0)
    clock = ManualClock(start)
    app, engine = build_app(settings, args.database_url or "sqlite://", clock)
    sender = OutboxSender(engine, ConsoleTransport(print), clock)
    session = ConsoleSession(
        settings, app, sender, clock, print, echo=True, id_prefix=f"replay-{Path(args.file).stem}",
        jobs=JobRunner(settings, engine),
    )
    session.feed(io.StringIO(script, newline=None))
    return 0


def _read_script(path: str) -> str | None:
    """The replay script's text, or None after one line on stderr saying why it cannot be read."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        print(f"huiyin replay: 找不到脚本 {path}", file=sys.stderr)
        return None
    except OSError as error:
        print(f"huiyin replay: 读不了脚本 {path}：{error.strerror or error}", file=sys.stderr)
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        print(f"huiyin replay: 脚本 {path} 第 {line} 行不是 UTF-8 编码，请另存为 UTF-8 后再试", file=sys.stderr)
        return None


def cmd_digest(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    """The weekly digest exactly as it was posted (or as it would be posted now, if it was not)."""
    engine = open_ledger(database_url)
    if isinstance(engine, int):
        return engine
    try:
        print(JobRunner(settings, engine).digest_text(SystemClock(settings.tz).now(), args.week))
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    return 0


def ledger_rows(settings: Settings, engine) -> list[dict]:
    with new_session(engine, settings.community.id) as session:
        rows = []
        for ticket in all_tickets(session):
            row = {"number": ticket.id, **ledger_fields(ticket)}
            row["reporters"] = [r.member_name for r in active_reporters(session, ticket.id)]
            rows.append(row)
        return rows


INCIDENT_STATUS_NAMES = {IncidentStatus.ACTIVE.value: "进行中", IncidentStatus.ENDED.value: "已恢复"}


def incident_rows(settings: Settings, engine) -> list[dict]:
    """Every known incident (`通知`), oldest first, with how many residents reported it."""
    with new_session(engine, settings.community.id) as session:
        incidents = facts_of(session, all_incidents(session))
    return [
        {
            "number": i.number, "status": i.status, "scope_kind": i.scope_kind, "scope_value": i.scope_value,
            "scope": scope_text(settings, i), "category": i.category, "text": i.text, "starts_at": i.starts_at,
            "expected_end_at": i.expected_end_at, "ended_at": i.ended_at, "author_id": i.author_id,
            "author_name": i.author_name, "reporters": i.reporters,
        }
        for i in incidents
    ]  # fmt: skip


def _print_incidents(settings: Settings, engine, as_json: bool) -> int:
    rows = incident_rows(settings, engine)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return 0
    if not rows:
        print("没有通知。")
        return 0

    def when(value: dt.datetime | None) -> str:
        return value.astimezone(settings.tz).strftime("%m-%d %H:%M") if value else "—"

    for row in rows:
        category = settings.category(row["category"])
        print(
            f"#通知{row['number']:<4} {INCIDENT_STATUS_NAMES.get(row['status'], row['status']):<4} "
            f"{row['scope']:<6} {category.name if category else row['category']:<7} "
            f"开始 {when(row['starts_at'])}  预计 {when(row['expected_end_at'])}  恢复 {when(row['ended_at'])}  "
            f"{row['author_name']:<4} 居民 {row['reporters']} 人  {row['text']}"
        )
    return 0


def cmd_ledger(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    engine = open_ledger(database_url)
    if isinstance(engine, int):
        return engine
    if args.incidents:
        return _print_incidents(settings, engine, args.json)
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


def cmd_outbox(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    """Replies not delivered: waiting, being sent, and (`--failed` only these) given up on after their tries."""
    from bot.outbox import outbox_report

    engine = open_ledger(database_url)
    if isinstance(engine, int):
        return engine
    print(outbox_report(engine, settings.tz, failed_only=args.failed, as_json=args.json))
    return 0


def _classifier(args: argparse.Namespace, settings: Settings) -> LearnedClassifier:
    """What `huiyin run` reads messages with, or the same on the model file given by --model."""
    return configured_classifier(settings, args.model)


def cmd_train(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    """Categories from the labelled rows; intents from them (see `nlp.trained.row_intent`) and chatter lists (.txt)."""
    try:
        chatter = [line for path in args.files if path.endswith(".txt") for line in read_chatter(path)]
        rows = [row for path in args.files if not path.endswith(".txt") for row in read_labelled(path)]
        if args.cv:
            chosen = cross_validate(rows, folds=args.cv, jobs=args.jobs)
            print(f"{args.cv}-fold cross-validation (macro-F1 of the category on each held-out fold):")
            print(chosen.table())
            print(f"chosen: C {chosen.best:g}; training on all {len(rows)} rows")
            model = train(rows, cost=chosen.best)
        else:
            model = train(rows, cost=args.cost)
        intent = train_intent_model(Lexicon(settings), rows, chatter)
        save(args.out, model, intent)
    except (OSError, ValueError, KeyError) as error:
        print(f"huiyin train: {error}", file=sys.stderr)
        return 2
    print(f"learned {len(model.weights)} weighted words, {len(model.labels)} labels, {len(rows)} rows → {args.out}")
    print(
        f"intent model: {len(rows)} labelled rows and {len(chatter)} chatter lines added to the shipped data; "
        f"triage band {intent.triage_low}–{intent.triage_high}, urgent threshold {intent.urgent_threshold}"
    )
    for label in model.labels:
        index = model.labels.index(label)
        top = sorted(model.weights.items(), key=lambda item: -item[1][index])[:8]
        print(f"  {label}: " + " ".join(feature for feature, _ in top))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    try:
        result = evaluate(_classifier(args, settings), read_labelled(args.file))
    except (OSError, ValueError, KeyError) as error:
        print(f"huiyin eval: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else format_report(result))
    return 0


def cmd_examples(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    """Every 改类, 登记 and 忽略 in the ledger as a `text,label,intent` CSV for `huiyin train`."""
    engine = open_ledger(database_url)
    if isinstance(engine, int):
        return engine
    with new_session(engine, settings.community.id) as session:
        examples = training_rows(session)
    out = open(args.out, "w", encoding="utf-8", newline="") if args.out else sys.stdout
    try:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["text", "label", "intent"])
        writer.writerows([example.text, example.label, example.intent] for example in examples)
    finally:
        if args.out:
            out.close()
    counts = {word: sum(example.decision == word for example in examples) for word in ("改类", "登记", "忽略")}
    print(
        f"{len(examples)} examples exported ({', '.join(f'{word} {n}' for word, n in counts.items())})", file=sys.stderr
    )
    return 0


def cmd_explain(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    try:
        classifier = _classifier(args, settings)
    except (OSError, ValueError, KeyError) as error:
        print(f"huiyin explain: {error}", file=sys.stderr)
        return 2
    print(format_explanation(classifier.explain(args.text), settings))
    return 0


def cmd_run_wechaty(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    """Serve the community's WeChat groups through a Wechaty puppet service (token/endpoint from .env)."""
    environment = load_environment(args.env_file)
    clock = SystemClock(settings.tz)
    app, engine = build_app(settings, database_url, clock)

    def jobs(after_run: Callable[[], object]) -> BaseScheduler:
        # Several accounts (processes) may share one PostgreSQL ledger: only the leader runs the jobs.
        scheduler = new_scheduler(settings, engine)
        start_jobs(
            scheduler, settings, JobRunner(settings, engine), clock, after_run=after_run, leadership=Leadership(engine)
        )
        return scheduler

    return serve_wechaty(app, environment, jobs, f"回音 · {settings.community.name}（数据：{database_url}）")


def cmd_gateway(args: argparse.Namespace, settings: Settings, database_url: str) -> int:
    """The loopback puppet-service gateway: simulated rooms from the community config, a control API."""
    import asyncio

    from gateway.server import Gateway, serve

    community = load_settings(Path(args.community)) if args.community else settings
    gateway = Gateway(community, host=args.host, port=args.port, control_port=args.control_port)
    print(f"loopback gateway: WECHATY_PUPPET_SERVICE_ENDPOINT={args.host}:{args.port}, "
          f"control API http://{args.host}:{args.control_port}/ (POST /messages, GET /sent, GET /rooms)", flush=True)
    try:
        asyncio.run(serve(gateway))
    except KeyboardInterrupt:
        pass
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="huiyin", description="回音：让居民的每个问题都有回音")
    _add_common_options(main, config=None, env_file=".env", verbose=False)
    commands = main.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="chat with the bot in the terminal (console transport)")
    run.add_argument("--transport", choices=["console", "wechaty"], help="override config.yaml's transport")
    gateway = commands.add_parser("gateway", help="loopback Wechaty puppet-service gateway for tests and demos")
    gateway.add_argument("--host", default="127.0.0.1")
    gateway.add_argument("--port", type=int, default=8788, help="gRPC puppet-service port (default 8788)")
    gateway.add_argument("--control-port", type=int, default=8789, help="HTTP control API port (default 8789)")
    gateway.add_argument("--community", help="community config to simulate (default: --config)")
    replay = commands.add_parser("replay", help="run a scripted conversation and print the transcript")
    replay.add_argument("file")
    replay.add_argument("--database-url", help="ledger for the replay (default: a fresh in-memory one)")
    ledger = commands.add_parser("ledger", help="print the ledger")
    ledger.add_argument("--json", action="store_true")
    ledger.add_argument("--incidents", action="store_true", help="the known incidents (通知) instead of the tickets")
    digest = commands.add_parser("digest", help="print the weekly digest as posted (default: the last week)")
    digest.add_argument("--week", help="ISO week, e.g. 2026-W47")
    training = commands.add_parser(
        "train", help="learn categories (and intents) from labelled CSV files (text,label[,intent]) and chatter .txt"
    )
    training.add_argument("files", nargs="+", metavar="LABELLED.csv|CHATTER.txt")
    training.add_argument("--out", required=True, help="model file to write (JSON; config nlp.model may name it)")
    training.add_argument("--cost", type=float, default=DEFAULT_COST, metavar="C", help="the SVM's C (default 1)")
    training.add_argument("--cv", type=int, metavar="K", help="choose C by K-fold cross-validation (K ≥ 2)")
    training.add_argument("--jobs", type=int, default=1, help="processes for --cv")
    evaluation = commands.add_parser("eval", help="accuracy, macro-F1 and confusion on a labelled CSV")
    evaluation.add_argument("file", metavar="LABELLED.csv")
    evaluation.add_argument("--model", help="categories (and intents, if it has them) from this trained model")
    evaluation.add_argument("--json", action="store_true")
    examples = commands.add_parser("examples", help="export cadres' 改类, 登记 and 忽略 as labelled CSV for train")
    examples.add_argument("--out", help="CSV file to write (default: standard output)")
    explain = commands.add_parser("explain", help="why a message gets its intent and category")
    explain.add_argument("text")
    explain.add_argument("--model", help="categories (and intents, if it has them) from this trained model")
    outbox = commands.add_parser("outbox", help="replies not delivered yet, and those that failed")
    outbox.add_argument("--failed", action="store_true", help="only the replies given up on")
    outbox.add_argument("--json", action="store_true")
    add_board_commands(commands)
    add_street_commands(commands)
    commands.add_parser("check", help="check the config file and list every problem, starting nothing")
    for command in commands.choices.values():  # `huiyin run --config x.yaml` works as well as `huiyin --config …`
        _add_common_options(command, config=argparse.SUPPRESS, env_file=argparse.SUPPRESS, verbose=argparse.SUPPRESS)
    return main


def _add_common_options(parser: argparse.ArgumentParser, *, config: object, env_file: object, verbose: object) -> None:
    parser.add_argument("--config", default=config, help="community config (default: $HUIYIN_CONFIG or config.yaml)")
    parser.add_argument("--env-file", default=env_file, help="secrets and DATABASE_URL (default: .env)")
    parser.add_argument("-v", "--verbose", action="store_true", default=verbose, help="log debug details")


HANDLERS = {
    "gateway": cmd_gateway,
    "run": cmd_run, "replay": cmd_replay, "ledger": cmd_ledger, "outbox": cmd_outbox,
    "train": cmd_train, "eval": cmd_eval, "explain": cmd_explain, "examples": cmd_examples, "digest": cmd_digest,
    **BOARD_HANDLERS,
}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    environment = load_environment(args.env_file)
    if args.command == "street":  # a 街道 file lists its communities' config files
        return cmd_street(args, environment)
    config_path = Path(args.config) if args.config else environment.config_path
    if args.command == "check":  # reports warnings too, and opens no database
        return run_check(config_path)
    try:
        settings = load_settings(config_path)
    except ConfigError as error:
        print(f"{CONFIG_ERRORS.format(path=config_path)}\n{error}", file=sys.stderr)
        return 2
    try:
        return HANDLERS[args.command](args, settings, environment.database_url)
    except BrokenPipeError:
        # The reader stopped early (`huiyin ledger | head`): no traceback. Python's documented recipe
        # points stdout at devnull so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
