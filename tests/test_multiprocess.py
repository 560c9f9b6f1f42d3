"""Several bot processes on one ledger (one per WeChat account): real OS processes (tests/multiprocess_helper.py)
on a real PostgreSQL server. Each outbox row goes out once however many senders drain it; one message received
by two accounts is handled once; one process leads the scheduled jobs, and when it is killed another takes over
within seconds without carrying out any occurrence twice. On SQLite the one process always leads.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from jobs.runner import JobRunner
from jobs.scheduler import JobSpec, new_scheduler, start_jobs
from ledger.clock import SystemClock
from ledger.messages import Outgoing
from settings.models import Settings
from storage.db import make_engine, new_session
from storage.leader import Leadership
from storage.messages import claim, enqueue, pending
from storage.models import InboundFingerprint, InboundMessage, JobRun, OutboxMessage, Ticket
from storage.schema import init_schema
from tests.conftest import MONDAY_9AM, PG_ENV
from tests.helper_process import HelperProcess

TAKEOVER_LIMIT_S = 30.0
RETRY_S = 1.0


class Ledger:
    """A throw-away schema on the test server, for processes to share: `url` + `schema`, and an engine on it."""

    def __init__(self, url: str, schema: str, engine: Engine) -> None:
        self.url, self.schema, self.engine = url, schema, engine


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL variant skipped: set {PG_ENV} (CI sets it; .ci/run starts the server)")
    schema = f"huiyin_mp_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:
        admin.dispose()
        pytest.skip(f"PostgreSQL variant skipped: cannot reach {url}: {error.__class__.__name__}")
    engine = make_engine(url, search_path=schema)
    init_schema(engine)
    try:
        yield Ledger(url, schema, engine)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _queue_rows(engine: Engine, chats: list[str], count: int) -> None:
    with new_session(engine) as session:
        for i in range(count):
            chat = chats[i % len(chats)]
            enqueue(session, Outgoing(chat, f"row {i:04d} to {chat}", chat), now=MONDAY_9AM)
        session.commit()


def test_two_senders_draining_one_outbox_send_every_row_exactly_once(ledger: Ledger) -> None:
    _queue_rows(ledger.engine, ["g1", "g2", "g3"], 300)
    start = str(time.time() + 3)  # both import and connect first, then start together
    senders = [HelperProcess("sender", ledger.url, ledger.schema, start) for _ in range(2)]
    outputs = [[line[5:] for line in s.finish() if line.startswith("sent ")] for s in senders]
    sent = Counter(text for output in outputs for text in output)
    assert len(sent) == 300 and set(sent.values()) == {1}  # every row, none twice
    assert all(outputs), "both senders took part"
    with new_session(ledger.engine) as session:
        assert pending(session) == []
        assert {row.attempts for row in session.exec(select(OutboxMessage))} == {1}


def test_a_sender_given_its_chats_sends_only_theirs(ledger: Ledger) -> None:
    _queue_rows(ledger.engine, ["g1", "g2"], 40)
    start = str(time.time() + 2)
    g1, g2 = (
        HelperProcess("sender", ledger.url, ledger.schema, start, "g1"),
        HelperProcess("sender", ledger.url, ledger.schema, start, "g2"),
    )
    assert {line.split()[-1] for line in g1.finish() if line.startswith("sent ")} == {"g1"}
    assert {line.split()[-1] for line in g2.finish() if line.startswith("sent ")} == {"g2"}
    with new_session(ledger.engine) as session:
        assert pending(session) == []


def test_a_row_in_flight_is_not_claimed_by_a_second_sender(ledger: Ledger) -> None:
    _queue_rows(ledger.engine, ["g1"], 2)
    now = MONDAY_9AM
    with new_session(ledger.engine) as first, new_session(ledger.engine) as second:
        ids = [row.id for row in pending(first)]
        assert claim(first, ids, now=now) == ids  # locked FOR UPDATE until `first` commits
        assert claim(second, ids, now=now) == []  # skipped, not waited for: all or nothing
        first.commit()
        second.rollback()
        assert claim(second, ids, now=now) == []  # in flight now: not claimable
        assert pending(second, claimable_at=now) == []
        assert pending(second, claimable_at=now + dt.timedelta(minutes=3)) != []  # its sender must be dead


def test_one_message_received_by_two_accounts_is_handled_once(ledger: Ledger) -> None:
    start = str(time.time() + 8)  # loading the classifier takes a few seconds
    text_ = "3号楼2单元下水道堵了，一楼都返水了"
    accounts = [HelperProcess("inbound", ledger.url, ledger.schema, start, f"account{i}-msg", text_) for i in range(2)]
    queued = sorted(int(line.split()[1]) for a in accounts for line in a.finish(120) if line.startswith("queued"))
    assert len(queued) == 2 and queued[0] == 0 and queued[1] > 0  # one handled it, the other saw a repeat
    with new_session(ledger.engine) as session:
        assert len(list(session.exec(select(Ticket)))) == 1
        assert len(list(session.exec(select(InboundMessage)))) == 2  # both ids recorded: redeliveries stay no-ops
        assert len(list(session.exec(select(InboundFingerprint)))) == 1


def _ticks(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines if line.startswith("tick ")]


def test_a_killed_leader_is_replaced_within_seconds_and_no_occurrence_runs_twice(ledger: Ledger) -> None:
    key = str(random.randrange(1, 2**62))
    leader = HelperProcess("scheduler", ledger.url, ledger.schema, key, str(RETRY_S))
    standby = None
    try:
        leader.wait_for("leading", 30)
        standby = HelperProcess("scheduler", ledger.url, ledger.schema, key, str(RETRY_S))
        standby.wait_for("started", 30)
        for _ in range(3):
            leader.wait_for("tick ", 10)
        assert not any(line.startswith("leading") for line in standby.seen)
        killed_at = time.monotonic()
        leader.kill()
        standby.wait_for("leading", TAKEOVER_LIMIT_S)
        standby.wait_for("tick ", TAKEOVER_LIMIT_S - (time.monotonic() - killed_at))
        takeover = time.monotonic() - killed_at
        for _ in range(2):
            standby.wait_for("tick ", 10)
    finally:
        leader.kill()
        if standby is not None:
            standby.kill()
    assert takeover < TAKEOVER_LIMIT_S
    lines = leader.finish() + standby.finish()
    # The leader may be killed after carrying out an occurrence and before APScheduler stored its next fire
    # time (the helper runs jobs in the scheduler's thread, which widens that window): the standby then tries
    # that one occurrence again and the job-run key refuses it. Nothing else is tried twice, nothing done twice.
    dups = [line.split()[1] for line in standby.seen if line.startswith("dup ")]
    assert dups in ([], _ticks(leader.seen)[-1:])
    assert not [line for line in leader.seen if line.startswith("dup ")]
    ticks = _ticks(lines)
    assert len(ticks) == len(set(ticks))
    with new_session(ledger.engine) as session:
        runs = list(session.exec(select(JobRun).where(JobRun.job == "tick")))
    assert sorted(run.period for run in runs) == sorted(ticks)
    assert len({run.output for run in runs}) == 2  # both processes led, one after the other


def test_two_leaderships_on_one_key_one_leads_and_a_lost_connection_ends_the_lead(ledger: Ledger) -> None:
    key = random.randrange(1, 2**62)
    first, second = Leadership(ledger.engine, key), Leadership(ledger.engine, key)
    try:
        assert first.try_acquire() and not second.try_acquire()
        assert first.try_acquire() and first.held  # still held: checked on the server
        with ledger.engine.begin() as connection:  # the leader's session ends (server restart, network, admin)
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = :low"),
                {"low": key & 0xFFFF_FFFF},
            )
        assert not first.try_acquire() and not first.held  # it stops leading
        assert second.try_acquire()
    finally:
        first.release()
        second.release()


def test_on_sqlite_the_one_process_always_leads_and_runs_its_jobs(settings: Settings, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'huiyin.db'}")
    init_schema(engine)
    leadership = Leadership(engine)
    assert leadership.try_acquire() and leadership.held
    runs: list[dt.datetime] = []

    class Recording(JobRunner):
        def run(self, now: dt.datetime, jobs: Iterable[str] = ("sla",), *, since: dt.datetime | None = None) -> int:
            runs.append(now)
            return super().run(now, jobs, since=since)

    scheduler = new_scheduler(settings, engine, BackgroundScheduler)
    specs = [JobSpec("sla", IntervalTrigger(seconds=1, timezone=settings.tz), None)]
    watch = start_jobs(
        scheduler, settings, Recording(settings, engine), SystemClock(settings.tz), leadership=leadership, specs=specs
    )
    try:
        assert watch is not None and watch.leading
        deadline = time.monotonic() + 10
        while len(runs) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(runs) >= 2
    finally:
        scheduler.shutdown(wait=True)
    engine.dispose()
