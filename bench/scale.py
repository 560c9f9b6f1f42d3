"""A 街道's ledger at scale on PostgreSQL: 100 communities and 1M tickets (the issue's benchmark).

    .venv/bin/python bench/scale.py [--quick] [--reuse] [--postgres-url URL] [--samples 30] [--rounds 7]
                                    [--skip-ingest] [--skip-failover] [--skip-exports]

Seeds a PostgreSQL database (`huiyin_scale`, `--quick`: `huiyin_scale_quick`) on the server `--postgres-url` names
(default `$HUIYIN_TEST_DATABASE_URL` or postgresql://postgres@127.0.0.1:5432/test) with COPY, as
bench/board_scale.py seeds (its `generate`): `--tickets` tickets (1,000,000; `--quick`: 100,000) reported over two
years, spread over `--communities` communities `c001`… (100; `--quick`: 10) configured as the sample community,
with their reporters, events and outbox rows and `community_id` on every scoped row; the measured community `c001`
gets `--open` more tickets still open (10,000: a backlog for the per-minute checks). `--reuse` keeps a database
seeded before with the same figures (seeding 1M takes minutes); without it the database is made afresh.

Then it prints, for `c001` (the sample config with `community.id: c001`):

- each board page's and Open311 call's p50/p99 and the board's peak RSS (bench/board_scale.py's child process),
  and the 街道 overview's pages when `board/street.py` has a `create_street_app` (else it says so);
- the calendar jobs as `jobs.runner.JobRunner` composes them at their latest fire time before the bench's now
  (weekly digest, daily report, shift handover) and `huiyin digest`'s `digest_text`; the per-minute checks (sla,
  follow_up, triage, incident) as `JobRunner.run` does them each minute, after one catch-up run that carries out
  what the backlog made due (timed once and shown apart). Medians (and max) of `--rounds` runs, in a child process
  with its peak RSS;
- `huiyin export` csv and xlsx of `c001` (time, peak RSS, rows), and the whole ledger (every community, 1M rows)
  written by the same code (`export_batches`, `taizhang_rows`, `write_csv`/`write_xlsx`) on a session for no
  community, since `huiyin export` has no option to export across communities;
- end-to-end ingest msg/s with 1 and 4 worker processes on PostgreSQL (`bench/ingest.py --database postgresql
  --workers 1,4 --ceiling`, the last line of its output is JSON; with the classifier alone in 1 and 4 processes,
  the ratio this machine gives the app's own Python) and the leader failover time (`bench/failover.py`); a
  figure a subprocess fails to give is printed as its error and counted as nan.

The last line is `scale: tickets=<n> page_p99_ms=<max over pages> digest_s=<s> ingest_1=<msg/s> ingest_4=<msg/s>
failover_s=<s>`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.board_scale import (  # noqa: E402
    CONFIG,
    NOW,
    SECRET,
    as_community,
    child_export,
    child_pages,
    community_config,
    community_ids,
    ledger_rows,
    postgres_url,
    seed_postgresql,
    time_pages,
)
from settings import load_settings  # noqa: E402

WORK = REPO / "data" / "bench"
CHECKS = ("sla", "follow_up", "triage", "incident")
CALENDAR = ("digest", "daily", "handover")
NAN = float("nan")


# Seeding --------------------------------------------------------------------------------------------------------


def seeded_tickets(url: str) -> int | None:
    """How many tickets the database at `url` holds; None when there is no such database or ledger."""
    import psycopg
    from sqlalchemy import make_url

    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(plain, connect_timeout=5) as connection:
            return connection.execute("SELECT count(*) FROM ticket").fetchone()[0]
    except psycopg.Error:
        return None


def seed(args: argparse.Namespace) -> tuple[str, float | None]:
    """The seeded database's URL and the seconds seeding took (None: an earlier seed reused)."""
    url = postgres_url(args.postgres_url, args.database_name)
    wanted = args.tickets + args.open
    if args.reuse and seeded_tickets(url) == wanted:
        print(f"reusing {args.database_name}: {wanted} tickets", file=sys.stderr, flush=True)
        return url, None
    started = time.perf_counter()
    rows = ledger_rows(load_settings(CONFIG), args.tickets, community_ids(args.communities), args.open)
    seed_postgresql(rows, args.postgres_url, args.database_name)
    seconds = time.perf_counter() - started
    print(f"seeded {wanted} tickets in {seconds:.0f} s", file=sys.stderr, flush=True)
    return url, seconds


# The jobs (in a child process) ----------------------------------------------------------------------------------


def _timed(action: Callable[[], object], rounds: int) -> list[float]:
    timings = []
    for _ in range(rounds):
        before = time.perf_counter()
        action()
        timings.append(time.perf_counter() - before)
    return timings


def latest_fire(job: str, settings: Any) -> dt.datetime:
    """The latest instant at or before the bench's now at which calendar job `job` fires."""
    from jobs import calendar
    from jobs.handover import changes_between

    start = NOW - dt.timedelta(days=8)
    if job == "handover":
        return changes_between(settings, start, NOW)[-1]
    trigger = calendar.digest_trigger(settings) if job == "digest" else calendar.daily_trigger(settings)
    return calendar.fires_between(trigger, start, NOW)[-1]


def measure_jobs(url: str, config: Path, rounds: int) -> dict[str, Any]:
    """Run in the child process: the calendar jobs composed and the per-minute checks run, seconds per round."""
    from jobs.runner import JobRunner
    from storage.db import make_engine

    settings = load_settings(config)
    runner = JobRunner(settings, make_engine(url))
    result: dict[str, Any] = {"calendar": {}, "checks": {}, "catch_up": {}}
    for job in CALENDAR:
        at = latest_fire(job, settings)
        found = runner.occurrences(at, (job,))
        assert found, f"{job} at {at} composes nothing (carried out before?)"
        result["calendar"][job] = _timed(lambda job=job, at=at: runner.occurrences(at, (job,)), rounds)
    result["calendar"]["digest_text"] = _timed(lambda: runner.digest_text(NOW), rounds)
    for job in CHECKS:  # the backlog's due steps, once; then what each minute costs
        before = time.perf_counter()
        carried = runner.run(NOW, (job,))
        result["catch_up"][job] = {"seconds": time.perf_counter() - before, "carried_out": carried}
    for job in CHECKS:
        result["checks"][job] = _timed(lambda job=job: runner.run(NOW, (job,)), rounds)
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


# The whole ledger's export (in a child process) -----------------------------------------------------------------


def export_whole(url: str, config: Path, fmt: str, out: Path) -> dict[str, Any]:
    """Run in the child process: every community's tickets and incidents written as `huiyin export` writes one
    community's (`board.taizhang`: a csv by two processes from `SPLIT_FROM` tickets), on a session for no
    community; seconds, the peak RSS of this process and of the one it started, and the rows."""
    from board.readonly import read_only_engine
    from board.taizhang import TaizhangExport, write_csv_export, write_xlsx_export

    started = time.perf_counter()
    export = TaizhangExport(url, load_settings(config), NOW, every_community=True)
    with out.open("wb") as file:
        count = (write_xlsx_export if fmt == "xlsx" else write_csv_export)(export, read_only_engine(url), file)
    out.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    peaks = [resource.getrusage(who).ru_maxrss / 1024 for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return {"seconds": seconds, "rss_mb": max(peaks), "rows": count}


# The 街道 overview (in a child process) --------------------------------------------------------------------------


def street_available() -> bool:
    """Whether the 街道's board (board/street.py, being built alongside) is there to measure."""
    return importlib.util.find_spec("board.street") is not None and hasattr(
        importlib.import_module("board.street"), "create_street_app"
    )


def measure_street(url: str, config: Path, samples: int, communities: int) -> dict[str, Any]:
    """Run in the child process: the 街道's board (`board.street.create_street_app`) over every seeded community
    configured as `config`'s: its overview, and the measured community's wall mounted under it."""
    from fastapi.testclient import TestClient

    from board.readonly import read_only_engine
    from board.street import community_path, create_street_app
    from ledger.clock import ManualClock
    from settings.models import Board
    from settings.secrets import BoardSecrets
    from settings.street import Street, StreetInfo

    settings = load_settings(config)
    every = tuple(as_community(settings, community) for community in community_ids(communities))
    street = Street(StreetInfo(id="bench", name="基准街道"), every, (), dt.time(17, 30), Board())
    app = create_street_app(street, read_only_engine(url), ManualClock(NOW), BoardSecrets(SECRET, "key"))
    mounted = community_path(settings.community.id) + "/"
    pages = [("street overview /", ["/"]), (f"street {mounted} (a community's wall)", [mounted])]
    results = time_pages(TestClient(app), pages, samples)
    return {"pages": results, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _child(flag: str, *extra: str) -> dict[str, Any]:
    """This script with `flag` in a child process of its own; the JSON it prints."""
    child = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), flag, *extra], cwd=REPO, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if child.returncode != 0:
        raise RuntimeError(
            child.stderr.strip().splitlines()[-1] if child.stderr.strip() else f"exit {child.returncode}"
        )
    return json.loads(child.stdout.strip().splitlines()[-1])


# Ingest and failover --------------------------------------------------------------------------------------------

INGEST_KEYS = ("ingest_1", "ingest_4", "ratio", "ratio_paired", "ceiling_ratio_paired")
"""What `ingest` reads of bench/ingest.py's JSON line."""


def ingest(server_url: str) -> dict[str, float]:
    """bench/ingest.py on PostgreSQL with 1 and 4 workers, and the classifier alone in 1 and 4 processes (the
    machine's ceiling for their ratio): its last line's JSON; nan for what it does not give."""
    command = [
        sys.executable, str(REPO / "bench" / "ingest.py"), "--database", "postgresql", "--workers", "1,4", "--ceiling",
    ]  # fmt: skip
    env = {**os.environ, "HUIYIN_TEST_DATABASE_URL": server_url}
    process = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    lines = process.stdout.strip().splitlines()
    try:
        found = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        error = (process.stderr.strip().splitlines() or [f"exit {process.returncode}"])[-1]
        print(f"ingest: bench/ingest.py gave no JSON line (exit {process.returncode}): {error}", flush=True)
        return dict.fromkeys(INGEST_KEYS, NAN)
    return {key: float(found.get(key, NAN)) for key in INGEST_KEYS}


def failover(server_url: str) -> float:
    """bench/failover.py's `failover_s=`; nan when it gives none."""
    command = [sys.executable, str(REPO / "bench" / "failover.py"), "--url", server_url]
    process = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    found = re.search(r"failover_s=([0-9.]+)", process.stdout)
    if found is None:
        error = (process.stderr.strip().splitlines() or [f"exit {process.returncode}"])[-1]
        print(f"failover: bench/failover.py gave no failover_s (exit {process.returncode}): {error}", flush=True)
        return NAN
    return float(found[1])


# Report ---------------------------------------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _table(header: list[str], lines: list[list[str]]) -> None:
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    print("| " + " | ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    for line in lines:
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) + " |")


def _pages_lines(pages: dict[str, list[float]]) -> list[list[str]]:
    return [
        [name, f"{statistics.median(t):.1f}", f"{_percentile(t, 0.99):.1f}", str(len(t))] for name, t in pages.items()
    ]


def _seconds_lines(timings: dict[str, list[float]]) -> list[list[str]]:
    return [[name, f"{statistics.median(t):.3f}", f"{max(t):.3f}", str(len(t))] for name, t in timings.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 communities and 100,000 tickets")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=100)
    parser.add_argument("--open", type=int, default=10_000, help="open tickets added to the measured community")
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded before with the same figures")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("HUIYIN_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--samples", type=int, default=30, help="answers per page (at most 20 s of them)")
    parser.add_argument("--rounds", type=int, default=7, help="timed runs of each job")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-failover", action="store_true")
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument("--jobs-of", help=argparse.SUPPRESS)
    parser.add_argument("--street-of", help=argparse.SUPPRESS)
    parser.add_argument("--whole-export-of", help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, default=CONFIG, help=argparse.SUPPRESS)
    parser.add_argument("--format", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.jobs_of:
        print(json.dumps(measure_jobs(args.jobs_of, args.config, args.rounds)))
        return 0
    if args.street_of:
        print(json.dumps(measure_street(args.street_of, args.config, args.samples, args.communities)))
        return 0
    if args.whole_export_of:
        out = WORK / f"taizhang-whole.{args.format}"
        print(json.dumps(export_whole(args.whole_export_of, args.config, args.format, out)))
        return 0
    if args.quick:
        args.tickets, args.communities = 100_000, 10
    args.database_name = "huiyin_scale_quick" if args.quick else "huiyin_scale"
    return run(args)


def run(args: argparse.Namespace) -> int:
    url, seconds = seed(args)
    community = community_ids(args.communities)[0]
    config = community_config(community, WORK)
    tickets = args.tickets + args.open
    print(f"scale: {tickets} tickets in {args.communities} communities; measured community {community} "
          f"({args.tickets // args.communities + args.open} tickets, {args.open}+ open), now {NOW.isoformat()}; "
          f"seeding {'reused' if seconds is None else f'{seconds:.0f} s'}", flush=True)  # fmt: skip
    board = child_pages(url, config, args.samples)
    pages = dict(board["pages"])
    print(f"\nBoard and Open311 of {community} (ms), board peak RSS {board['rss_mb']:.0f} MB")
    _table(["page", "p50", "p99", "n"], _pages_lines(board["pages"]))
    if street_available():
        try:
            street = _child("--street-of", url, "--config", str(config), "--samples", str(args.samples),
                            "--communities", str(args.communities))  # fmt: skip
        except RuntimeError as error:
            print(f"\n街道 overview (board/street.py): not measured, it failed: {error}")
        else:
            pages.update(street["pages"])
            print(f"\n街道 overview (board/street.py, ms), peak RSS {street['rss_mb']:.0f} MB")
            _table(["page", "p50", "p99", "n"], _pages_lines(street["pages"]))
    else:
        print("\n街道 overview: not measured, board/street.py has no create_street_app yet")
    jobs = _child("--jobs-of", url, "--config", str(config), "--rounds", str(args.rounds))
    print(f"\nJobs of {community} (s, {args.rounds} rounds each), peak RSS {jobs['rss_mb']:.0f} MB")
    _table(["job", "median", "max", "n"], _seconds_lines({**jobs["calendar"], **jobs["checks"]}))
    catch_up = ", ".join(f"{job} {c['seconds']:.1f} s ({c['carried_out']} carried out)" for job, c in
                         jobs["catch_up"].items())  # fmt: skip
    print(f"catch-up run before the per-minute figures: {catch_up}")
    if not args.skip_exports:
        lines = []
        for fmt in ("csv", "xlsx"):
            own = child_export(url, config, fmt, "scale")
            lines.append([f"huiyin export {fmt} ({community})", f"{own['seconds']:.1f}", f"{own['rss_mb']:.0f}",
                          str(own["rows"])])  # fmt: skip
            whole = _child("--whole-export-of", url, "--config", str(config), "--format", fmt)
            lines.append([f"whole ledger {fmt} (all communities)", f"{whole['seconds']:.1f}",
                          f"{whole['rss_mb']:.0f}", str(whole["rows"])])  # fmt: skip
        print("\nExports")
        _table(["export", "seconds", "peak RSS MB", "rows"], lines)
    rates = dict.fromkeys(INGEST_KEYS, NAN) if args.skip_ingest else ingest(args.postgres_url)
    failover_s = NAN if args.skip_failover else failover(args.postgres_url)
    print(f"\ningest (PostgreSQL, msg/s): 1 worker {rates['ingest_1']:.1f}, 4 workers {rates['ingest_4']:.1f} "
          f"(ratio {rates['ratio']:.2f}, each round's median {rates['ratio_paired']:.2f}; the classifier alone in 4 "
          f"processes against 1, each round's median {rates['ceiling_ratio_paired']:.2f}); leader failover "
          f"{failover_s:.2f} s")  # fmt: skip
    page_p99 = max(_percentile(t, 0.99) for t in pages.values())
    digest_s = statistics.median(jobs["calendar"]["digest"])
    print(f"scale: tickets={tickets} page_p99_ms={page_p99:.1f} digest_s={digest_s:.3f} "
          f"ingest_1={rates['ingest_1']:.1f} ingest_4={rates['ingest_4']:.1f} failover_s={failover_s:.2f}")  # fmt: skip
    return 0 if not math.isnan(page_p99) else 1


if __name__ == "__main__":
    sys.exit(main())
