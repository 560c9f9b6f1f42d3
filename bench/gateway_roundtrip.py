"""Round trip through the real wechaty client and the loopback gateway: inject a report → its reply arrives.

    .venv/bin/python bench/gateway_roundtrip.py [--messages 200] [--burst 200]

1. Round trip: messages one after another (each waits for its reply) from different residents into one
   group; the outbound limits are relaxed so the figure is the transport and the handling, not the
   3-second pacing. Prints median, p90, p99 and max in milliseconds.
2. Burst: `--burst` reports at once into one group with the configured limits on virtual time; prints how
   many replies, how many WeChat messages they became, the largest merge, and the virtual time needed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gateway.harness import running, wait_until  # noqa: E402
from settings import load_settings  # noqa: E402
from settings.models import Outbound, Settings  # noqa: E402
from storage.db import make_engine, new_session  # noqa: E402
from storage.messages import pending  # noqa: E402

START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
GROUP = "1-3号楼业主群"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def roundtrip(settings: Settings, count: int, database: Path) -> list[float]:
    relaxed = settings.model_copy(
        update={"outbound": Outbound(group_interval_seconds=0.001, per_minute=1_000_000, daily_cap=1_000_000)}
    )
    engine = make_engine(f"sqlite:///{database}")
    times: list[float] = []
    async with running(relaxed, engine, START, scale=1.0) as stack:
        for n in range(count):
            after = len(stack.gateway.world.sent)
            began = time.perf_counter()
            stack.gateway.inject(f"测速居民{n:04d}", f"{n % 6 + 1}号楼{n % 4 + 1}单元楼道灯不亮", room=GROUP)
            await stack.gateway.wait_sent(1, after=after, timeout=30)
            times.append((time.perf_counter() - began) * 1000)
    engine.dispose()
    return times


async def burst(settings: Settings, count: int, database: Path) -> dict[str, float]:
    engine = make_engine(f"sqlite:///{database}")
    began = time.perf_counter()
    async with running(settings, engine, START, scale=0.05) as stack:
        start = stack.time.clock.now()
        for n in range(count):
            stack.gateway.inject(f"突发居民{n:04d}", f"{n % 3 + 1}号楼{n % 4 + 1}单元楼道灯不亮", room=GROUP)
        await wait_until(lambda: stack.runner.handled >= count, 300, "all reports handled")

        def drained() -> bool:
            with new_session(engine) as session:
                return not pending(session)

        await wait_until(drained, 300, "the outbox drained")
        sent = [s for s in stack.gateway.world.sent if s.room_topic == GROUP]
        figures = {
            "replies": stack.runner.outbox.delivered_rows,
            "messages": len(sent),
            "largest merge (mentions)": max(len(s.mention_ids) for s in sent),
            "virtual seconds": (stack.time.clock.now() - start).total_seconds(),
            "real seconds": time.perf_counter() - began,
        }
    engine.dispose()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--burst", type=int, default=200)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # wechaty logs every message at INFO; the figures are what this prints
    settings = load_settings(REPO / "config.yaml")
    with tempfile.TemporaryDirectory() as scratch:
        times = asyncio.run(roundtrip(settings, args.messages, Path(scratch) / "roundtrip.db"))
        print(f"round trip inject → reply, {len(times)} messages one after another (ms):")
        print(
            f"  median {statistics.median(times):.1f}  p90 {percentile(times, 0.9):.1f}  "
            f"p99 {percentile(times, 0.99):.1f}  max {max(times):.1f}"
        )
        if args.burst:
            figures = asyncio.run(burst(settings, args.burst, Path(scratch) / "burst.db"))
            limits = settings.outbound
            print(
                f"burst of {args.burst} reports in one group, limits {limits.group_interval_seconds:g} s/group, "
                f"{limits.per_minute}/min, merge ≤ {limits.merge_max}:"
            )
            for name, value in figures.items():
                print(f"  {name}: {value:g}" if isinstance(value, float) else f"  {name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
