"""`huiyin board` starts the wall from the command line, on the configured ledger, on the port asked for."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from settings.models import Settings
from tests.board_ledger import REPO, free_port, replay


@contextmanager
def huiyin_board(url: str, cwd: Path) -> Iterator[tuple[str, httpx.Response]]:
    """`huiyin board` on `url` as a process: its base URL and its wall, once it answers; stopped afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": url,
        "HUIYIN_BOARD_SECRET": "",
        "HUIYIN_OPEN311_API_KEY": "",
    }
    board = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "--config", str(REPO / "config.yaml"), "board",
         "--port", str(port)],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # waiting for the process to bind its port
            try:
                wall = httpx.get(f"{base}/", timeout=5)
                break
            except httpx.TransportError:
                assert board.poll() is None, board.stderr.read() if board.stderr else ""
                assert time.monotonic() < deadline, "huiyin board did not start"
                time.sleep(0.2)
        yield base, wall
    finally:
        board.terminate()
        board.wait(timeout=20)


def test_huiyin_board_serves_the_wall_of_the_ledger(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'huiyin.db'}"
    replay(settings, url)
    with huiyin_board(url, tmp_path) as (base, wall):
        assert wall.status_code == 200 and "进度公示墙" in wall.text and 'href="/tickets/4"' in wall.text
        post = httpx.post(f"{base}/open311/v2/requests.json", data={"description": "x", "api_key": "k"})
        assert post.status_code == 403  # no key configured: the API is read-only


def test_huiyin_board_on_a_database_the_bot_never_ran_on_serves_an_empty_wall(tmp_path: Path) -> None:
    empty = tmp_path / "huiyin.db"
    empty.touch()
    with huiyin_board(f"sqlite:///{empty}", tmp_path) as (base, wall):
        assert wall.status_code == 200 and "进度公示墙" in wall.text and 'href="/tickets/' not in wall.text
        assert httpx.get(f"{base}/stats").status_code == 200
        assert httpx.get(f"{base}/open311/v2/requests.json").json() == []
    assert empty.stat().st_size == 0
