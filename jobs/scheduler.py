"""APScheduler 3.x wiring: persistent jobs in the ledger's database, each calling `JobRunner.run` for one job.

Choices, deliberately:

- `SQLAlchemyJobStore` on the ledger's engine (table `apscheduler_jobs`): the next fire time of every job
  survives a restart, so APScheduler itself knows what was missed while the bot was down.
- `coalesce=True`: however many fire times were missed, a job runs once on restart (the sla and follow-up
  checks are state-based, so one run catches up on everything; the digest posts the latest missed week).
- `misfire_grace_time` per job, equal to the grace in `jobs.calendar`: no limit (None) for the checks,
  `handover_grace_minutes` for handovers, six hours for the daily report, a week for the digest.
- one worker thread: jobs share the ledger and run one at a time.
- jobs already in the store are kept, not replaced, at start: replacing would recompute the next fire time
  from now and silently drop a missed run. A job whose trigger changed in config is rescheduled.

Whatever runs, `job_run`'s unique key makes each occurrence happen once (a second restart sends nothing).
The stored jobs reference `run_job` by name, so the runner they use is registered at start.

Several bot processes on one PostgreSQL ledger (one per WeChat account): only the leader runs jobs
(`storage.leader.Leadership`, an advisory lock). Every process starts its scheduler paused; `LeaderWatch` asks
for the lock every `LEADER_RETRY_SECONDS` and resumes the scheduler when it gets it (after bringing the stored
jobs in line with the config: only the leader writes the job store), and pauses it when the lock is lost. A
paused scheduler neither runs nor advances jobs, so a standby that takes over finds the store exactly as the
dead leader left it: what came due meanwhile runs once (coalesced, within its grace), nothing the leader
already ran runs again. A job already running when the lock is lost is let finish rather than skipped: its
next fire time is already advanced in the store, so skipping it would lose the occurrence, and the job-run
key keeps it once if the new leader races it. On SQLite the process always leads.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN, SchedulerEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy.engine import Engine

from jobs import calendar
from jobs.runner import JobRunner
from ledger.clock import Clock
from settings.models import Settings
from storage.leader import Leadership

log = logging.getLogger(__name__)

JOBSTORE_TABLE = "apscheduler_jobs"
PREFIX_SEPARATOR = "/"
"""Between a 街道's community (or the 街道) and the job in a stored job's id: `minzhu/digest`."""
# How often a standby asks for the leader's lock, and a leader checks it still holds it (seconds). A standby
# takes over within this (plus the time the server needs to notice a dead leader: at once for a killed process).
LEADER_RETRY_SECONDS = 5.0
START_ATTEMPTS = 3


@dataclass(frozen=True)
class JobSpec:
    name: str
    trigger: BaseTrigger
    misfire_grace: dt.timedelta | None


class Runs(Protocol):
    """What carries a job out: a community's `JobRunner`, or the 街道's own (jobs/street.py)."""

    def run(self, now: dt.datetime, jobs: Iterable[str], *, since: dt.datetime | None = None) -> int: ...


@dataclass
class _Registered:
    runners: Mapping[str, Runs]
    """By job-id prefix: `""` for a single community (ids `sla`, `digest` …); in a 街道 each community's id and
    the 街道's (`minzhu/sla`, `street:qinlinglu/overdue`)."""
    clock: Clock
    after_run: Callable[[], object]


_registered: _Registered | None = None
_lock = threading.Lock()


def job_specs(settings: Settings) -> list[JobSpec]:
    specs = [
        JobSpec("sla", calendar.check_trigger(settings), None),
        JobSpec("follow_up", calendar.check_trigger(settings), None),
        JobSpec("triage", calendar.check_trigger(settings), None),
        JobSpec("incident", calendar.check_trigger(settings), None),
        JobSpec("daily", calendar.daily_trigger(settings), calendar.DAILY_GRACE),
        JobSpec("digest", calendar.digest_trigger(settings), calendar.DIGEST_GRACE),
    ]
    handover = calendar.handover_trigger(settings)
    if handover is not None:
        specs.append(JobSpec("handover", handover, calendar.handover_grace(settings)))
    return specs


def run_job(name: str) -> None:
    """What every stored job calls: run job `name` at the clock's now, then `after_run` (e.g. drain)."""
    registered = _registered
    if registered is None:
        raise RuntimeError("no job runner registered; start the scheduler with start_jobs()")
    prefix, _, job = name.rpartition(PREFIX_SEPARATOR)
    with _lock:
        if registered.runners[prefix].run(registered.clock.now(), (job,)):
            registered.after_run()


def new_scheduler(
    settings: Settings,
    engine: Engine,
    scheduler_class: type[BaseScheduler] = BackgroundScheduler,
    executor: BaseExecutor | None = None,
) -> BaseScheduler:
    """A scheduler keeping its jobs in the ledger's database, in the community's timezone.

    `scheduler_class` and `executor` let tests drive APScheduler's own job processing in their thread."""
    return scheduler_class(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)},
        executors={"default": executor or ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=settings.tz,
    )


def start_jobs(
    scheduler: BaseScheduler,
    settings: Settings,
    runner: JobRunner,
    clock: Clock,
    after_run: Callable[[], object] = lambda: None,
    *,
    leadership: Leadership | None = None,
    retry_seconds: float = LEADER_RETRY_SECONDS,
    specs: list[JobSpec] | None = None,
) -> LeaderWatch | None:
    """Register the runner and start `scheduler` paused; then, if this process leads, add the jobs the store
    does not know yet and let missed ones run.

    Without `leadership` the process simply leads (one process: the console, the tests). With it, a
    `LeaderWatch` (returned, stopped with the scheduler's shutdown) resumes the scheduler while the lock is held.
    `specs` replaces the configured jobs (the multi-process tests and bench/failover.py use fast triggers)."""
    wanted = specs if specs is not None else job_specs(settings)
    return _start(scheduler, {"": runner}, wanted, clock, after_run, leadership=leadership, retry_seconds=retry_seconds)


class StreetJobs(Runs, Protocol):
    """The 街道's own jobs (jobs/street.py): their id prefix and specs, and what runs them."""

    prefix: str

    def specs(self) -> list[JobSpec]: ...


def start_street_jobs(
    scheduler: BaseScheduler,
    runners: Sequence[JobRunner],
    street: StreetJobs,
    clock: Clock,
    after_run: Callable[[], object] = lambda: None,
    *,
    leadership: Leadership | None = None,
) -> LeaderWatch | None:
    """`start_jobs` for a 街道: every community's jobs (ids prefixed with the community's id) and the 街道's
    own, in one scheduler, so the one leader runs them all."""
    registered: dict[str, Runs] = {runner.settings.community.id: runner for runner in runners}
    registered[street.prefix] = street
    wanted = [
        replace(spec, name=f"{runner.settings.community.id}{PREFIX_SEPARATOR}{spec.name}")
        for runner in runners
        for spec in job_specs(runner.settings)
    ] + [replace(spec, name=f"{street.prefix}{PREFIX_SEPARATOR}{spec.name}") for spec in street.specs()]
    return _start(scheduler, registered, wanted, clock, after_run, leadership=leadership)


def _start(
    scheduler: BaseScheduler,
    runners: Mapping[str, Runs],
    wanted: list[JobSpec],
    clock: Clock,
    after_run: Callable[[], object],
    *,
    leadership: Leadership | None,
    retry_seconds: float = LEADER_RETRY_SECONDS,
) -> LeaderWatch | None:
    global _registered
    _registered = _Registered(runners, clock, after_run)
    _start_paused(scheduler)
    if leadership is None:
        sync_jobs(scheduler, wanted)
        scheduler.resume()
        return None
    watch = LeaderWatch(scheduler, leadership, lambda: sync_jobs(scheduler, wanted), retry_seconds)
    scheduler.add_listener(watch.on_shutdown, EVENT_SCHEDULER_SHUTDOWN)
    watch.check()
    watch.start()
    return watch


def _start_paused(scheduler: BaseScheduler) -> None:
    """Processes started together on a fresh PostgreSQL ledger race to create the job store's table; the loser
    finds it there at the next try."""
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            scheduler.start(paused=True)
            return
        except Exception:
            if attempt == START_ATTEMPTS:
                raise
            log.warning("starting the scheduler failed (try %d); trying again", attempt, exc_info=True)
            time.sleep(0.5 * attempt)


def sync_jobs(scheduler: BaseScheduler, specs: list[JobSpec]) -> None:
    """Bring the stored jobs in line with `specs`: remove the unwanted, add the new, update grace and trigger.
    Jobs already stored are kept (their next fire time is what tells APScheduler what was missed)."""
    wanted = {spec.name: spec for spec in specs}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
    for spec in wanted.values():
        grace = None if spec.misfire_grace is None else int(spec.misfire_grace.total_seconds())
        existing = scheduler.get_job(spec.name)
        if existing is None:
            scheduler.add_job(
                run_job,
                spec.trigger,
                args=(spec.name,),
                id=spec.name,
                name=spec.name,
                misfire_grace_time=grace,
                coalesce=True,
                max_instances=1,
            )
            continue
        if existing.misfire_grace_time != grace:
            scheduler.modify_job(spec.name, misfire_grace_time=grace)
        if str(existing.trigger) != str(spec.trigger):
            log.info("job %s: trigger changed in config, rescheduled (%s)", spec.name, spec.trigger)
            scheduler.reschedule_job(spec.name, trigger=spec.trigger)


class LeaderWatch:
    """Runs `scheduler` only while `leadership` is held: `check()` now, then every `retry_seconds` on a daemon
    thread. On becoming leader: `on_acquired()` (bring the job store in line), then resume; on losing the lock:
    pause at once. `leading` is what this process does now."""

    def __init__(
        self, scheduler: BaseScheduler, leadership: Leadership, on_acquired: Callable[[], None], retry_seconds: float
    ) -> None:
        self.scheduler = scheduler
        self.leadership = leadership
        self.on_acquired = on_acquired
        self.retry_seconds = retry_seconds
        self.leading = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        held = self.leadership.try_acquire()
        if held and not self.leading:
            try:
                self.on_acquired()
            except Exception:
                log.exception("became leader but could not set up the jobs; giving the lead up and trying again")
                self.leadership.release()
                return False
            self.leading = True
            self.scheduler.resume()
            # Worth a warning where several processes share the lead; the only process (SQLite) always leads.
            (log.info if self.leadership.always else log.warning)("this process leads: it runs the scheduled jobs")
        elif self.leading and not held:
            self.leading = False
            self.scheduler.pause()
            log.error("leadership lost: scheduled jobs paused in this process (another process takes them over)")
        return self.leading

    def start(self) -> None:
        if self.leadership.always:
            return  # SQLite: nothing to watch

        def loop() -> None:
            while not self._stop.wait(self.retry_seconds):
                try:
                    self.check()
                except Exception:
                    log.exception("checking the leadership failed")

        self._thread = threading.Thread(target=loop, name="huiyin leader watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and give the lead up (another process takes over at its next try)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.retry_seconds + 5)
        self.leading = False
        self.leadership.release()

    def on_shutdown(self, _event: SchedulerEvent) -> None:
        self.stop()
