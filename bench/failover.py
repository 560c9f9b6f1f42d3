"""Scheduler failover between bot processes on one PostgreSQL ledger: how long the jobs stop when the leader dies.

Starts a leader and a standby (`tests/multiprocess_helper.py scheduler`: the real `start_jobs` + `Leadership`,
with a job firing every second) on a throw-away schema, SIGKILLs the leader once it runs jobs, and times until
the standby carries out its first job. Prints `failover_s=<seconds>` (and the retry interval used), then checks
that no occurrence was carried out twice.

    .venv/bin/python bench/failover.py [--url postgresql://postgres@127.0.0.1:5432/test] [--retry 5] [--runs 1]

The figure is at most the retry interval (a standby asks for the lock every `--retry` seconds, default the
bot's `LEADER_RETRY_SECONDS`) plus the wait for the job's next whole-second fire time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402

from jobs.scheduler import LEADER_RETRY_SECONDS  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.schema import init_schema  # noqa: E402
from tests.helper_process import HelperProcess  # noqa: E402


def one_failover(url: str, schema: str, retry: float, key: int) -> float:
    leader = HelperProcess("scheduler", url, schema, str(key), str(retry))
    standby = None
    try:
        leader.wait_for("leading", 60)
        standby = HelperProcess("scheduler", url, schema, str(key), str(retry))
        standby.wait_for("started", 60)
        leader.wait_for("tick ", 10)
        leader.wait_for("tick ", 10)
        killed = time.monotonic()
        leader.kill()
        standby.wait_for("tick ", 60 + retry)
        return standby.last_at - killed
    finally:
        leader.kill()
        if standby is not None:
            standby.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_url = os.environ.get("HUIYIN_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--url", default=default_url)
    parser.add_argument("--retry", type=float, default=LEADER_RETRY_SECONDS, help="standby retry interval (s)")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    admin = make_engine(args.url)
    schema = f"huiyin_failover_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(args.url, search_path=schema)
    try:
        init_schema(engine)
        figures = []
        for run in range(args.runs):
            if run:  # each run starts on an empty job store (job_run keeps every run's occurrences)
                with engine.begin() as connection:
                    connection.execute(text("DELETE FROM apscheduler_jobs"))
            figures.append(one_failover(args.url, schema, args.retry, int(uuid.uuid4().int % 2**62)))
        with engine.connect() as connection:
            runs = connection.execute(text("SELECT count(*), count(DISTINCT period) FROM job_run")).one()
        print(f"retry_s={args.retry:g} runs={args.runs} job_runs={runs[0]} distinct_periods={runs[1]}")
        print(f"failover_s={statistics.median(figures):.2f}" + (f" (max {max(figures):.2f})" if args.runs > 1 else ""))
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
