"""Driving one `python -m tests.multiprocess_helper` process from outside: its output lines, waited for by prefix.

Shared by tests/test_multiprocess.py and bench/failover.py, which start real OS processes on one ledger.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class HelperProcess:
    """One helper process; `seen` keeps every line read, `last_at` when (monotonic) the last awaited one came."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.multiprocess_helper", *args],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.seen: list[str] = []
        self.last_at = 0.0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, prefix: str, timeout: float) -> str:
        """The first line (from now) starting with `prefix`; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                at, line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if line.startswith(prefix):
                self.last_at = at
                return line
        raise AssertionError(f"no {prefix!r} line within {timeout} s; saw {self.seen[-5:]}")

    def finish(self, timeout: float = 60) -> list[str]:
        """Wait for the process to end; every line it printed."""
        self.process.wait(timeout=timeout)
        time.sleep(0.1)
        while not self.lines.empty():
            self.seen.append(self.lines.get()[1])
        return self.seen

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
