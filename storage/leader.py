"""Which of several bot processes on one ledger is the leader (the one that runs the scheduled jobs).

On PostgreSQL the leader is the process holding a session-level advisory lock (`pg_try_advisory_lock`) on a
connection of its own, kept out of the engine's pool. The lock lives as long as that connection: when the
leader dies (even SIGKILL) the server closes its session and the lock is free at once for a standby's next
`try_acquire`. The connection asks the server to probe the client with TCP keepalives, so a leader whose host
vanishes without closing the socket loses the lock within about `KEEPALIVE_*` seconds as well.

A leader checks at every `try_acquire` that its connection is still alive; a lost connection (the server
restarted, the session was terminated, the network went) means the lock is gone: `held` turns False and the
caller must stop leading. SQLite is one process by design: there the process is always the leader.

Pure I/O, no scheduling: `jobs/scheduler.py` decides what a leader does.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

LEADER_LOCK_KEY = 0x48_75_69_79_6E_4A_6F_62  # "HuiyinJob": the key every `huiyin run` process competes for
# Server-side TCP keepalive for the lock's session: idle seconds, probe interval, probes (≈ 10 + 3 × 5 s).
KEEPALIVE_IDLE = 10
KEEPALIVE_INTERVAL = 5
KEEPALIVE_COUNT = 3


class Leadership:
    """`try_acquire()` → whether this process leads now (takes the lock if free, checks it if held);
    `held` → the last answer; `release()` → give the lock up (and close its connection)."""

    def __init__(self, engine: Engine, key: int = LEADER_LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self.always = engine.dialect.name != "postgresql"
        self._connection: Connection | None = None
        self._held = self.always
        self._lock = threading.Lock()

    @property
    def held(self) -> bool:
        return self._held

    def try_acquire(self) -> bool:
        """Lead if possible: True while the lock is held (checked on the server), False when another process
        holds it or the database cannot be reached. Never raises for a lost or refused connection."""
        if self.always:
            return True
        with self._lock:
            try:
                if self._held:
                    self._held = self._still_held()
                    if not self._held:
                        log.error("leadership lost: the lock's connection or lock is gone; this process stops leading")
                        self._close()
                    return self._held
                if self._connection is None:
                    self._connection = self._connect()
                got = self._connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
                self._held = bool(got)
            except Exception as error:
                log.warning("leadership: cannot reach the database (%s: %s)", type(error).__name__, error)
                self._held = False
                self._close()
            return self._held

    def release(self) -> None:
        """Stop leading: unlock and close the connection (closing alone would release the lock too)."""
        if self.always:
            return
        with self._lock:
            if self._held and self._connection is not None:
                try:
                    self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
                except Exception:
                    log.debug("leadership: unlocking failed; closing the connection releases the lock", exc_info=True)
            self._held = False
            self._close()

    def _connect(self) -> Connection:
        """A connection outside the pool (so nothing else ever uses it, and closing it really closes it), in
        autocommit (the lock is not tied to a transaction, and no transaction stays open)."""
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        connection.detach()
        for name, value in (
            ("tcp_keepalives_idle", KEEPALIVE_IDLE),
            ("tcp_keepalives_interval", KEEPALIVE_INTERVAL),
            ("tcp_keepalives_count", KEEPALIVE_COUNT),
        ):
            connection.execute(text(f"SET {name} = {int(value)}"))
        return connection

    def _still_held(self) -> bool:
        assert self._connection is not None
        # A bigint advisory key shows in pg_locks as its high (classid) and low (objid) 32 bits, objsubid 1.
        query = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
            " AND objsubid = 1 AND classid::bigint = :high AND objid::bigint = :low"
        )
        unsigned = self.key & 0xFFFF_FFFF_FFFF_FFFF
        return bool(self._connection.execute(query, {"high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF}).scalar())

    def _close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                log.debug("leadership: closing the lock's connection failed", exc_info=True)
            self._connection = None
