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
    """LOCKEDBY: who holds the lock, as ``host (pid=… start=… boot=… pidns=… [container=…] run=…)``.

    The shape of Liquibase's ``host (ip)``, within its 255 characters; what follows the host tells this process
    from a later one that got the same pid (a restarted container's PID 1): see :func:`judge_holder`."""
    me = Process.current()
    fields = f"pid={me.pid} start={me.start} boot={me.boot} pidns={me.pidns}"
    if me.container:
        fields += f" container={me.container}"
    tail = f" ({fields} run={RUN_ID})"
    return socket.gethostname()[: 255 - len(tail)] + tail


@dataclass(frozen=True)
class Process:
    """What tells one process from another with the same pid on the same host name. ``start`` is its start
    time in clock ticks since boot (/proc/<pid>/stat), ``boot`` the kernel's boot id, ``pidns`` the inode of
    its PID namespace, ``container`` a container id where one shows (Docker, Podman, Kubernetes' pod). Values
    that cannot be read are empty."""

    host: str
    pid: int
    start: str = ""
    boot: str = ""
    pidns: str = ""
    container: str = ""

    @classmethod
    def current(cls) -> Process:
        return cls(
            socket.gethostname(), os.getpid(), _start_time(os.getpid()), _boot_id(), _pid_namespace(), _container_id()
        )


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as file:
            return file.read()
    except OSError:
        return ""


def _start_time(pid: int) -> str:
    """Field 22 of /proc/<pid>/stat (after the parenthesised command, which may hold spaces): ticks since boot."""
    stat = _read(f"/proc/{pid}/stat")
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


def _boot_id() -> str:
    return _read("/proc/sys/kernel/random/boot_id").strip().replace("-", "")[:12]


def _pid_namespace() -> str:
    try:
        link = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return ""
    return link.partition("[")[2].rstrip("]")


# What names a container across its restarts, from the paths its runtime mounts into it: Docker's
# /var/lib/docker/containers/<id>/hostname, Podman's overlay-containers/<id>/, the kubelet's
# pods/<pod uid>/containers/<name>/ (termination-log: a restarted container keeps pod and name, its siblings
# in the pod have other names); else from a cgroup v1 path (or v2 without a cgroup namespace).
_CONTAINER = re.compile(
    r"/pods/(?P<pod>[0-9a-f-]{36})/containers/(?P<name>[^/\s]+)/"
    r"|/containers/(?P<id>[0-9a-f]{64})/|(?:docker|libpod|cri-containerd|crio)[-/](?P<cgroup>[0-9a-f]{64})"
)


def _container_id() -> str:
    """12 hex digits naming this process's container, the same after the container restarts; empty outside one."""
    for source in ("/proc/self/mountinfo", "/proc/self/cgroup"):
        match = _CONTAINER.search(_read(source))
        if match and match["pod"]:
            return hashlib.sha256(f"{match['pod']}/{match['name']}".encode()).hexdigest()[:12]
        if match:
            return (match["id"] or match["cgroup"])[:12]
    return ""


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
                            "taking over DATABASECHANGELOGLOCK from %s (held since %s): that process is gone (%s)",
                            held.locked_by,
                            held.granted,
                            self._judge(held, advisory is True)[1],
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
        return self._judge(held, advisory_free)[0] is True

    def _judge(self, held: LockState, advisory_free: bool) -> tuple[bool | None, str]:
        """Whether the row's holder is gone (True), running (False) or beyond judging (None), and why."""
        holder = parse_owner(held.locked_by)
        if holder is None:  # not a yamlbase holder (Liquibase, a hand-made lock): never judged
            return None, "not a yamlbase process"
        if self.advisory.supported:
            return (True, "its connection is gone") if advisory_free else (False, "its connection is open")
        return judge_holder(holder, Process.current())

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
        gone, _ = self._judge(held, advisory_free=False)
        return None if gone is None else not gone


# LOCKEDBY as yamlbase writes it: ``host (pid=1 start=… boot=… pidns=… [container=…] run=…)``; before the
# identity was recorded, ``host pid=1 run=…`` (still read, judged by the pid alone).
_OWNER = re.compile(r"^(?P<host>\S+) \((?P<fields>(?:[a-z]+=[0-9a-f]+ )*run=[0-9a-f]+)\)$")
_OLD_OWNER = re.compile(r"^(?P<host>\S+) pid=(?P<pid>\d+) run=[0-9a-f]+$")


def parse_owner(locked_by: str | None) -> Process | None:
    """The holder of a LOCKEDBY value written by yamlbase (what it recorded of itself), else None."""
    text = locked_by or ""
    old = _OLD_OWNER.match(text)
    if old:
        return Process(old["host"], int(old["pid"]))
    match = _OWNER.match(text)
    if match is None:
        return None
    fields = dict(item.split("=", 1) for item in match["fields"].split())
    if not fields.get("pid", "").isdigit():
        return None
    return Process(
        match["host"],
        int(fields["pid"]),
        fields.get("start", ""),
        fields.get("boot", ""),
        fields.get("pidns", ""),
        fields.get("container", ""),
    )


def judge_holder(holder: Process, me: Process) -> tuple[bool | None, str]:
    """Whether ``holder`` (as recorded in LOCKEDBY) is gone (True), still running (False) or cannot be judged
    from ``me`` (None), with the reason. Only a holder on this host name is judged; a live one is never judged
    gone: a pid is taken as the holder's only when its start time (and boot) match what the holder recorded.

    - another boot id: the machine restarted since, which ended every process of the earlier boot;
    - the same PID namespace: gone if no process has its pid, or the one that has it started at another time;
    - another PID namespace of the same container (which restarted: its name stays, its namespace is new): gone
      if the holder was PID 1 of its namespace and started before this namespace's PID 1 did, since a
      container runs one namespace at a time. Without a container id, another namespace is not judged (it may
      be a sibling's, still running); nor is anything else.
    """
    if holder.host != me.host:
        return None, "it runs on another host"
    if not holder.start:  # written before the identity was recorded: the pid alone, as then
        if holder.pid == me.pid or _process_exists(holder.pid):
            return False, f"process {holder.pid} exists"
        return True, f"process {holder.pid} no longer exists"
    if holder.boot and me.boot and holder.boot != me.boot:
        return True, "the machine has restarted since (another boot id)"
    if holder.pidns == me.pidns:
        if holder.pid == me.pid:
            if holder.start == me.start:
                return False, "it is this process"
            return True, f"pid {holder.pid} is now this process, started later"
        if not _process_exists(holder.pid):
            return True, f"process {holder.pid} no longer exists"
        now = _start_time(holder.pid)
        if now and now != holder.start:
            return True, f"pid {holder.pid} is now another process, started at another time"
        return False, f"process {holder.pid} is running"
    if not holder.container or holder.container != me.container:
        return None, "it runs in another PID namespace" + (" and container" if holder.container else "")
    init = _namespace_init_start(me.pidns)
    if holder.pid == 1 and init and int(holder.start) < int(init):
        return True, "it was PID 1 of an earlier run of this container (another PID namespace, started before this one)"
    return None, "it runs in another PID namespace"


def _namespace_init_start(pidns: str) -> str:
    """The start time of PID 1 of this process's PID namespace, where /proc shows that namespace, else empty."""
    try:
        if os.readlink("/proc/1/ns/pid").partition("[")[2].rstrip("]") != pidns:
            return ""  # /proc is another namespace's (a PID namespace without its own /proc)
    except OSError:
        return ""
    return _start_time(1)


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
