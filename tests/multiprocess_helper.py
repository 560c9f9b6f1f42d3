"""One bot process of tests/test_multiprocess.py and bench/failover.py, run as `python -m tests.multiprocess_helper`.

    sender URL SCHEMA START [CHATS]     drain the outbox from time START (epoch seconds) until nothing is left;
                                        prints `sent <row text>` per message (CHATS: comma-separated owned chats)
    inbound URL SCHEMA START ID TEXT    handle one resident message (id ID) at START, duplicate window on;
                                        prints `queued <n>`
    scheduler URL SCHEMA KEY RETRY      compete for leadership (lock KEY, retry every RETRY s) and run a `tick`
                                        job every second while leading; prints `leading`, `tick <fire time>`
                                        for each occurrence carried out, `dup <fire time>` for one refused

Every line is flushed at once, so the parent reads them as they come (and after a SIGKILL).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
import time
from pathlib import Path

from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.app import Huiyin
from bot.outbox import OutboxSender
from jobs.scheduler import JobSpec, new_scheduler, start_jobs
from ledger.clock import SystemClock
from ledger.messages import Incoming, Outgoing
from nlp.trained import configured_classifier
from settings import load_settings
from storage.db import make_engine, new_session
from storage.leader import Leadership
from storage.messages import pending
from storage.models import JobRun

REPO = Path(__file__).resolve().parent.parent
TICK = "tick"


def say(line: str) -> None:
    print(line, flush=True)


def wait_until(start: float) -> None:
    time.sleep(max(0.0, start - time.time()))


class PrintingTransport:
    """Sends by printing; a little slow, so two senders' turns interleave."""

    def send(self, outgoing: Outgoing) -> None:
        time.sleep(0.002)
        say(f"sent {outgoing.text}")


def run_sender(url: str, schema: str, start: float, chats: str = "") -> None:
    settings = load_settings(REPO / "config.yaml")
    engine = make_engine(url, search_path=schema)
    owned = set(chats.split(",")) if chats else None
    sender = OutboxSender(engine, PrintingTransport(), SystemClock(settings.tz), chats=owned, recover_in_flight=False)
    wait_until(start)
    while True:
        sender.drain()
        with new_session(engine) as session:
            if not pending(session, limit=1, chats=owned):
                break
        time.sleep(0.01)
    say("done")


def run_inbound(url: str, schema: str, start: float, message_id: str, text: str) -> None:
    settings = load_settings(REPO / "config.yaml")
    engine = make_engine(url, search_path=schema)
    clock = SystemClock(settings.tz)
    app = Huiyin(settings, engine, configured_classifier(settings), clock)
    app.duplicate_window = dt.timedelta(seconds=settings.inbound.duplicate_window_seconds)
    group = settings.groups[0].name
    incoming = Incoming(message_id, group, group, "wxid_zhang", "张阿姨", text, clock.now())
    wait_until(start)
    say(f"queued {app.handle(incoming)}")


class FireTimeExecutor(DebugExecutor):
    """Runs each job in the scheduler's thread, telling it the fire time it runs for (the latest, coalesced)."""

    fire: dt.datetime | None = None

    def _do_submit_job(self, job, run_times):
        FireTimeExecutor.fire = run_times[-1]
        super()._do_submit_job(job, run_times)


class TickRunner:
    """Stands in for `JobRunner`: the `tick` job records one job_run row per fire time, so an occurrence carried
    out twice (by two processes) is refused by the unique key and printed as `dup`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def run(self, now: dt.datetime, jobs: tuple[str, ...]) -> int:
        assert FireTimeExecutor.fire is not None
        fired = FireTimeExecutor.fire.astimezone(dt.UTC)
        try:
            with new_session(self.engine) as session:
                session.add(
                    JobRun(job=TICK, period=fired.isoformat(), due_at=fired, ran_at=now, output=str(os.getpid()))
                )
                session.commit()
        except IntegrityError:
            say(f"dup {fired.isoformat()}")
            return 0
        say(f"tick {fired.isoformat()}")
        return 1


def run_scheduler(url: str, schema: str, key: str, retry: str) -> None:
    settings = load_settings(REPO / "config.yaml")
    engine = make_engine(url, search_path=schema)
    clock = SystemClock(settings.tz)
    first = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
    specs = [JobSpec(TICK, IntervalTrigger(seconds=1, start_date=first, timezone=dt.UTC), None)]
    scheduler = new_scheduler(settings, engine, BackgroundScheduler, executor=FireTimeExecutor())
    watch = start_jobs(
        scheduler,
        settings,
        TickRunner(engine),  # type: ignore[arg-type]
        clock,
        leadership=Leadership(engine, int(key)),
        retry_seconds=float(retry),
        specs=specs,
    )
    say("started")
    announced = False
    while True:  # until killed
        if watch is not None and watch.leading and not announced:
            say("leading")
            announced = True
        threading.Event().wait(0.05)


def main(argv: list[str]) -> None:
    mode, url, schema, *rest = argv
    if mode == "sender":
        run_sender(url, schema, float(rest[0]), *rest[1:])
    elif mode == "inbound":
        run_inbound(url, schema, float(rest[0]), rest[1], rest[2])
    elif mode == "scheduler":
        run_scheduler(url, schema, rest[0], rest[1])
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
