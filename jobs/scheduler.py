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
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

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

log = logging.getLogger(__name__)

JOBSTORE_TABLE = "apscheduler_jobs"


@dataclass(frozen=True)
class JobSpec:
    name: str
    trigger: BaseTrigger
    misfire_grace: dt.timedelta | None


@dataclass
class _Registered:
    runner: JobRunner
    clock: Clock
    after_run: Callable[[], object]


_registered: _Registered | None = None
_lock = threading.Lock()


def job_specs(settings: Settings) -> list[JobSpec]:
    specs = [
        JobSpec("sla", calendar.check_trigger(settings), None),
        JobSpec("follow_up", calendar.check_trigger(settings), None),
        JobSpec("triage", calendar.check_trigger(settings), None),
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
    with _lock:
        if registered.runner.run(registered.clock.now(), (name,)):
            registered.after_run()


def new_scheduler(
    settings: Settings, engine: Engine, scheduler_class: type[BaseScheduler] = BackgroundScheduler,
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
    scheduler: BaseScheduler, settings: Settings, runner: JobRunner, clock: Clock,
    after_run: Callable[[], object] = lambda: None,
) -> None:
    """Register the runner, start `scheduler`, add the jobs it does not know yet and let missed ones run."""
    global _registered
    _registered = _Registered(runner, clock, after_run)
    scheduler.start(paused=True)
    wanted = {spec.name: spec for spec in job_specs(settings)}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
    for spec in wanted.values():
        grace = None if spec.misfire_grace is None else int(spec.misfire_grace.total_seconds())
        existing = scheduler.get_job(spec.name)
        if existing is None:
            scheduler.add_job(
                run_job, spec.trigger, args=(spec.name,), id=spec.name, name=spec.name, misfire_grace_time=grace,
                coalesce=True, max_instances=1,
            )
            continue
        if existing.misfire_grace_time != grace:
            scheduler.modify_job(spec.name, misfire_grace_time=grace)
        if str(existing.trigger) != str(spec.trigger):
            log.info("job %s: trigger changed in config, rescheduled (%s)", spec.name, spec.trigger)
            scheduler.reschedule_job(spec.name, trigger=spec.trigger)
    scheduler.resume()
