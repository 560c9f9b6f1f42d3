"""Serving an app's WeChat groups through a Wechaty puppet service until interrupted: `huiyin run` and
`huiyin street run` with `--transport wechaty` (python-wechaty is imported only here, when it is used)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from apscheduler.schedulers.base import BaseScheduler

from bot.app import Huiyin
from bot.street import StreetApp
from settings.environment import Environment

StartJobs = Callable[[Callable[[], object]], BaseScheduler]
"""Starts the app's jobs, given what to call after a job ran (wake the outbox); returns the scheduler."""


def serve_wechaty(app: Huiyin | StreetApp, environment: Environment, start_jobs: StartJobs, banner: str) -> int:
    """Run the transport and the jobs (`start_jobs`) until interrupted; 2 when the puppet service is not set."""
    from bot.wechaty_transport.runner import WechatyRunner

    try:
        runner = WechatyRunner(app, endpoint=environment.puppet_endpoint, token=environment.puppet_token)
    except ValueError as error:
        print(f"cannot start the wechaty transport: {error}", file=sys.stderr)
        return 2

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        scheduler = start_jobs(lambda: loop.call_soon_threadsafe(runner.outbox.wake.set))
        try:
            await runner.run()
        finally:
            scheduler.shutdown(wait=False)

    where = environment.puppet_endpoint or "the token's puppet service"
    print(f"{banner} · WeChat via {where}")
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    return 0
