"""DATABASECHANGELOGLOCK: one row, taken by an atomic conditional UPDATE whose row count decides."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import socket
import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from yamlbase.dialects import capabilities
from yamlbase.errors import LockError
from yamlbase.runtime.sink import Sink

RUN_ID = uuid.uuid4().hex[:8]
log = logging.getLogger("yamlbase")
# Connection.info: the run's lock timeout (seconds), which also bounds each wait for SQLite's write lock.
LOCK_TIMEOUT = "yamlbase.lock_timeout"
# Connection.info flag: this connection has already said that it waits for SQLite's write lock.
WAIT_ANNOUNCED = "yamlbase.wait_announced"
# How long one attempt at SQLite's write lock may wait inside the driver before yamlbase looks at the clock.
SQLITE_ATTEMPT = 0.25


def lock_owner() -> str:
    """LOCKEDBY: who holds the lock (host, pid and this run's id)."""
    return f"{socket.gethostname()} pid={os.getpid()} run={RUN_ID}"[:255]


@dataclass
class LockState:
    locked: bool
    granted: dt.datetime | None
    locked_by: str | None
    # Whether the holder is still running, where yamlbase can tell (its own holders); else None.
    alive: bool | None = None


class ChangeLogLock:
    """The ``DATABASECHANGELOGLOCK`` table and the operations on its single row (ID = 1)."""

    def __init__(self, dialect: str, schema: str | None = None) -> None:
        upper = capabilities(dialect).upper_case_history
        n = (lambda s: s) if upper else str.lower
        self.table = sa.Table(
            n("DATABASECHANGELOGLOCK"),
            sa.MetaData(),
            sa.Column(n("ID"), sa.Integer(), nullable=False, autoincrement=False),
            sa.Column(n("LOCKED"), sa.Boolean(create_constraint=False), nullable=False),
            sa.Column(n("LOCKGRANTED"), sa.DateTime()),
            sa.Column(n("LOCKEDBY"), sa.String(255)),
            sa.PrimaryKeyConstraint(n("ID"), name=n("PK_DATABASECHANGELOGLOCK")),
            schema=schema,
        )
        self.id, self.locked, self.granted, self.by = self.table.columns
        self.advisory = AdvisoryLock(dialect)

    def exists(self, connection: Connection) -> bool:
        return sa.inspect(connection).has_table(self.table.name, schema=self.table.schema)

    def create(self, sink: Sink) -> None:
        sink.execute(sa.schema.CreateTable(self.table))

    def insert_row(self, sink: Sink) -> None:
        """The single row, unlocked."""
        sink.execute(self.table.insert().values({self.id.name: 1, self.locked.name: False}))

    def reset(self, sink: Sink) -> None:
        """Liquibase's initialisation: exactly one row, unlocked."""
        sink.execute(self.table.delete())
        self.insert_row(sink)

    def state(self, connection: Connection) -> LockState | None:
        row = connection.execute(sa.select(self.locked, self.granted, self.by).where(self.id == 1)).first()
        return LockState(bool(row[0]), row[1], row[2]) if row else None

    def try_acquire(self, sink: Sink, *, taking_over: str | None = None) -> bool:
        """One atomic attempt: a conditional UPDATE whose row count decides. With ``taking_over``, the
        condition is that this (stale) holder still has it. Offline the statement is rendered and True."""
        condition = self.by == taking_over if taking_over is not None else self.locked == sa.false()
        statement = (
            self.table.update()
            .where(self.id == 1, condition)
            .values(
                {
                    self.locked.name: True,
                    self.granted.name: sa.func.current_timestamp(),
                    self.by.name: lock_owner(),
                }
            )
        )
        result = sink.execute(statement)
        return result is None or result.rowcount == 1

    def acquire(self, sink: Sink, connection: Connection | None, timeout: float) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; raises :class:`LockError` naming the holder.

        A row held by a yamlbase process that is gone is taken over, with a warning: on PostgreSQL and
        MySQL/MariaDB every holder also holds a session-level advisory lock, which the server frees when
        the holder's connection dies; on SQLite a holder on this host whose process no longer exists.
        A holder yamlbase cannot judge (Liquibase, another host) is waited for.
        """
        if connection is None:  # rendering: the statement, no waiting
            self.try_acquire(sink)
            return
        deadline = time.monotonic() + timeout
        announced = False
        while True:
            with sink.transaction():
                advisory = self.advisory.try_take(connection)
                if advisory is not False:
                    if self.try_acquire(sink):
                        return
                    held = self.state(connection)
                    if held is not None and held.locked and self._is_stale(held, advisory is True):
                        log.warning(
                            "taking over DATABASECHANGELOGLOCK from %s (held since %s): that process is gone",
                            held.locked_by,
                            held.granted,
                        )
                        if self.try_acquire(sink, taking_over=held.locked_by or ""):
                            return
                    if advisory is True:  # hold the advisory lock only together with the row
                        self.advisory.release(connection)
                held = self.state(connection)
            if time.monotonic() >= deadline:
                break
            if not announced:
                holder = f"{held.locked_by} since {held.granted}" if held else "another process"
                log.warning("waiting up to %gs for DATABASECHANGELOGLOCK, held by %s", timeout, holder)
                announced = True
            time.sleep(min(0.5, max(0.02, deadline - time.monotonic())))
        holder = f"{held.locked_by} since {held.granted}" if held else "another process"
        raise LockError(
            f"DATABASECHANGELOGLOCK is held by {holder}; waited {timeout:g}s. If that process is gone, "
            "run `yamlbase release-locks`."
        )

    def _is_stale(self, held: LockState, advisory_free: bool) -> bool:
        owner = parse_owner(held.locked_by)
        if owner is None:  # not a yamlbase holder (Liquibase, a hand-made lock): never judged
            return False
        if self.advisory.supported:
            return advisory_free
        host, pid = owner
        return host == socket.gethostname() and pid != os.getpid() and not _process_exists(pid)

    def release(self, sink: Sink, connection: Connection | None = None) -> None:
        sink.execute(
            self.table.update()
            .where(self.id == 1)
            .values({self.locked.name: False, self.granted.name: None, self.by.name: None})
        )
        if connection is not None:
            self.advisory.release(connection)

    def holder_alive(self, connection: Connection, held: LockState) -> bool | None:
        """Whether the row's holder is still running: True/False where yamlbase can tell, else None."""
        if not held.locked or parse_owner(held.locked_by) is None:
            return None
        if self.advisory.supported:
            free = self.advisory.try_take(connection)
            if free:
                self.advisory.release(connection)
            return not free
        return not self._is_stale(held, advisory_free=False)


_OWNER = re.compile(r"^(?P<host>\S+) pid=(?P<pid>\d+) run=[0-9a-f]+$")


def parse_owner(locked_by: str | None) -> tuple[str, int] | None:
    """(host, pid) of a LOCKEDBY value written by yamlbase, else None."""
    match = _OWNER.match(locked_by or "")
    return (match["host"], int(match["pid"])) if match else None


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, but another user's
        return True
    return True


class AdvisoryLock:
    """A session-level advisory lock beside the row: the server frees it when the holder's connection dies."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.supported = dialect in ("postgresql", "mysql", "mariadb")

    def _name(self, connection: Connection) -> str:
        database = connection.exec_driver_sql("SELECT DATABASE()").scalar() or ""
        return f"yamlbase.{database}"[:64]

    def try_take(self, connection: Connection) -> bool | None:
        """True when taken (or already ours), False when another session holds it, None when unsupported."""
        if self.dialect == "postgresql":
            return bool(connection.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar())
        if self.dialect in ("mysql", "mariadb"):
            got = connection.execute(sa.text("SELECT GET_LOCK(:n, 0)"), {"n": self._name(connection)}).scalar()
            return got == 1
        return None

    def release(self, connection: Connection) -> None:
        # PostgreSQL advisory locks stack: release every level this session took.
        if self.dialect == "postgresql":
            while connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY}).scalar():
                pass
        elif self.dialect in ("mysql", "mariadb"):
            connection.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": self._name(connection)})


# One key for every yamlbase on a database (PostgreSQL scopes advisory locks to the current database).
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"yamlbase DATABASECHANGELOGLOCK").digest()[:8], "big", signed=True)


# --- SQLite's write lock ----------------------------------------------------------------------------------------
# SQLite has one writer at a time. sqlite3's own busy timeout waits for it silently, so yamlbase takes the write
# lock itself where its writing transactions begin (BEGIN IMMEDIATE), in short attempts: the wait can be announced
# and ends after the run's lock timeout.


def set_busy_timeout(connection: Connection, seconds: float) -> None:
    """How long the connection's statements wait for a lock another SQLite connection holds."""
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    dbapi.execute(f"PRAGMA busy_timeout = {max(0, int(seconds * 1000))}")


def begin_immediate(connection: Connection, timeout: float) -> None:
    """``BEGIN IMMEDIATE`` on a SQLite connection: take the database's write lock, waiting up to ``timeout``
    seconds while another connection holds it (with a warning, once per connection, when the wait starts).
    Raises :class:`LockError` naming the database file when the lock does not come in time."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            set_busy_timeout(connection, min(SQLITE_ATTEMPT, deadline - time.monotonic()))
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except sa.exc.OperationalError as exc:
                if not _sqlite_busy(exc.orig):
                    raise
            database = connection.engine.url.database or "the database"
            if time.monotonic() >= deadline:
                raise LockError(
                    f"the SQLite database {database} is locked: another connection holds its write lock; gave up "
                    f"after {timeout:g}s (--lock-timeout)"
                ) from None
            if not connection.info.get(WAIT_ANNOUNCED):
                connection.info[WAIT_ANNOUNCED] = True
                log.warning(
                    "waiting up to %gs for the SQLite database %s: another connection holds its write lock",
                    timeout,
                    database,
                )
    finally:
        # The transaction's own statements (its COMMIT waits for readers to finish) wait as long as the run allows.
        set_busy_timeout(connection, timeout)


def _sqlite_busy(error: BaseException | None) -> bool:
    """SQLITE_BUSY (also its extended codes): another connection holds the lock."""
    code = getattr(error, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return int(code) & 0xFF == 5
    return "database is locked" in str(error)
