"""One function per command. The CLI is a thin layer over these; they are the Python API too."""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import re
import shlex
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.engine.url import URL

from yamlbase import DISTRIBUTION
from yamlbase.changelog import ChangeLog, ChangeSet, Selection, filters, parse_changelog
from yamlbase.changelog.search_path import SearchPathLike
from yamlbase.changes import Change
from yamlbase.changes.base import HaltRequested
from yamlbase.changes.captured import notes
from yamlbase.config import DEFAULT_LOCK_TIMEOUT
from yamlbase.dialects import DIALECT_NAMES, capabilities
from yamlbase.errors import (
    OUT_OF_MEMORY,
    ChangeLogError,
    ChangeLogStopped,
    ChecksumMismatchError,
    DatabaseError,
    IncompleteChangeSetError,
    Interrupted,
    MigrationError,
    RollbackImpossibleError,
    RollbackMismatchError,
    UsageError,
    YamlbaseError,
)
from yamlbase.runtime import capture, plan, preconditions
from yamlbase.runtime.history import (
    LIQUIBASE_COLUMN,
    CaptureTable,
    HistoryRow,
    HistoryTable,
    IncompleteTable,
    JournalRecord,
    JournalTable,
    new_deployment_id,
    rename_keyed_rows,
)
from yamlbase.runtime.journal import ChangeSetJournal, one_line, took_effect
from yamlbase.runtime.lock import (
    LOCK_TIMEOUT,
    WAIT_ANNOUNCED,
    ChangeLogLock,
    LockState,
    begin_immediate,
    set_busy_timeout,
)
from yamlbase.runtime.sink import AUTOCOMMIT, WRITES, ConnectionSink, Sink, TextSink

if TYPE_CHECKING:
    from yamlbase.structure.model import Difference, Schema

Report = Callable[[str], None]
log = logging.getLogger("yamlbase")

# What a command's database can be (the one home of that fact): a URL, as text or as a ``sqlalchemy.URL`` (its
# password used as it is); an ``Engine``, which yamlbase opens its connection from (and does not dispose); or a
# ``Connection``, used as given (see :func:`connect`).
Database = str | URL | Engine | Connection


class StopRequest:
    """Set by a signal handler (the CLI's); runs stop between changeSets, never in the middle of one."""

    signum: int | None = None

    @classmethod
    def check(cls, done: int) -> None:
        if cls.signum is not None:
            name = signal.Signals(cls.signum).name
            raise Interrupted(
                cls.signum,
                f"interrupted by {name} after {done} changeSet{'s' if done != 1 else ''}; the one in progress "
                "was finished first, and the lock was released",
            )


# The drivers yamlbase's extras install, for URLs that name no driver.
_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def _quiet(_: str) -> None:
    pass


# --- connections -------------------------------------------------------------------------------------


def parse_url(url: str | URL) -> URL:
    """A SQLAlchemy URL; plain ``postgresql://`` uses psycopg 3 (the driver yamlbase installs). A URL whose
    password would be misread (it holds an ``@``) is refused, with no part of the password in the message."""
    if isinstance(url, str) and _password_holds_at(url):
        raise UsageError(
            f"the database URL {_mask_password(url)!r} has an '@' in its password (or user name), so where the "
            f"password ends cannot be told; {_ENCODING_HINT}"
        )
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        hint = f"; {_ENCODING_HINT}" if _PASSWORD_START.match(str(url)) else ""
        raise UsageError(f"not a database URL: {_mask_password(str(url))!r}{hint}") from None
    if parsed.drivername in _DRIVERS:
        parsed = parsed.set(drivername=_DRIVERS[parsed.drivername])
    return parsed


_ENCODING_HINT = "write '@' as %40 and ':' as %3A in a password (urllib.parse.quote_plus(password) encodes a whole one)"
_SECRET_QUERY_KEYS = ("password", "passwd", "pwd")
# Where a URL's password starts: after a scheme, "://", a user name (it may hold '@', as Azure's "user@server")
# and ":".
_PASSWORD_START = re.compile(r"[^:/]*://[^:/]*:")
# Without "://" (a mistyped URL), no user name can be told apart: everything after the scheme is hidden.
_SCHEME = re.compile(r"[\w+.-]*:?/*")


def _password_holds_at(text: str) -> bool:
    """Whether ``text`` has a password followed by more than one '@': SQLAlchemy would end the password at the
    first one and read the rest of it as the host name (which a person then sees in messages)."""
    start = _PASSWORD_START.match(text)
    return start is not None and text.count("@", start.end()) > 1


def safe_url(url: Database) -> str:
    """The URL with its password hidden (also one given as a query parameter), for messages."""
    if isinstance(url, (Engine, Connection)):
        url = database_url(url)
    if isinstance(url, str) and _password_holds_at(url):
        return _mask_password(url)
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        return _mask_password(str(url))
    hidden = {k: "***" for k in parsed.query if k.lower() in _SECRET_QUERY_KEYS}
    return (
        parsed.update_query_dict(hidden).render_as_string(hide_password=True)
        if hidden
        else parsed.render_as_string(hide_password=True)
    )


def _mask_password(text: str) -> str:
    """Hide the password in a string that SQLAlchemy cannot (or must not) read: everything from the ':' after
    the user name up to the last '@', since a password may hold '@', ':' and '/' itself."""
    end = text.rfind("@")
    if end < 0:
        return text
    start = _PASSWORD_START.match(text) or _SCHEME.match(text)
    assert start is not None  # _SCHEME matches the empty string
    return f"{text[: start.end()]}***{text[end:]}" if start.end() < end else text


# What to install when a database's driver is missing (tests/unit/test_project.py holds it to pyproject.toml).
DRIVER_INSTALL_HINT = (
    f"pip install '{DISTRIBUTION}[postgresql]' for PostgreSQL, '{DISTRIBUTION}[mysql]' for MySQL/MariaDB"
)


def create_engine(url: str | URL) -> Engine:
    """An engine for ``url``. SQLite gets real transactions around DDL (pysqlite's default skips them)."""
    parsed = parse_url(url)
    try:
        engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool)
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise DatabaseError(f"no database driver for {safe_url(parsed)}: {exc}. {DRIVER_INSTALL_HINT}") from None
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        sa.event.listen(engine, "begin", _sqlite_begin)

    return engine


def database_url(database: Database) -> URL:
    """The URL of ``database``, password included: for connecting and choosing a dialect, never for messages."""
    if isinstance(database, Connection):
        return database.engine.url
    if isinstance(database, Engine):
        return database.url
    return parse_url(database)


@contextlib.contextmanager
def connect(url: Database, *, read_only: bool = False) -> Iterator[Connection]:
    """A connection to the database ``url`` names, or a :class:`DatabaseError` saying why there is none.

    A URL (text or ``sqlalchemy.URL``): yamlbase's own engine, disposed afterwards. An ``Engine``: one connection
    from it, closed afterwards (the engine is not disposed). A ``Connection``: that connection, left open, and no
    transaction yamlbase began is left open on it; yamlbase never commits or rolls back a transaction it did not
    begin, so a command that writes refuses a connection in a transaction, and one that only reads
    (``read_only``) reads inside it. A connection yamlbase did not set up itself gets, for a command that writes,
    what yamlbase's own engines have (see :func:`_working_settings`).
    """
    if isinstance(url, Connection):
        if url.closed:
            raise UsageError(f"the connection to {safe_url(url)} is closed")
        if url.in_transaction() and not read_only:
            raise UsageError(
                f"the connection to {safe_url(url)} is in a transaction: yamlbase runs each changeSet in a "
                "transaction of its own and does not commit or roll back the caller's; commit() or rollback() first"
            )
        with _working_settings(url, read_only):
            yield url
        return
    engine = url if isinstance(url, Engine) else create_engine(url)
    try:
        try:
            connection = engine.connect()
        except sa.exc.DBAPIError as exc:
            raise DatabaseError(f"cannot connect to {safe_url(url)}: {_db_message(exc)}") from None
        with connection, _working_settings(connection, read_only) if engine is url else contextlib.nullcontext():
            yield connection
    finally:
        if engine is not url:
            engine.dispose()


@contextlib.contextmanager
def _working_settings(connection: Connection, read_only: bool) -> Iterator[None]:
    """A connection from an engine yamlbase did not create, set up as yamlbase's own for the duration, and put
    back as it was afterwards: no transaction yamlbase began left open, and for writing on SQLite real
    transactions around DDL (as :func:`create_engine` does: the driver's own transaction handling off,
    yamlbase's ``BEGIN`` instead). An engine with ``begin`` hooks of its own (SQLAlchemy's recipe for SQLite) is
    trusted to begin transactions."""
    callers = connection.in_transaction()  # only when read_only: then it is read in, and left open
    takes_over = not read_only and connection.dialect.name == "sqlite" and not len(connection.engine.dispatch.begin)
    if takes_over:
        driver = connection.connection.driver_connection
        isolation_level = driver.isolation_level
        busy_timeout = driver.execute("PRAGMA busy_timeout").fetchone()[0]  # _sqlite_begin sets it for the run
        driver.isolation_level = None  # no transaction is open, so this commits nothing
        sa.event.listen(connection, "begin", _sqlite_begin)
    try:
        yield
    finally:
        if not connection.closed:
            if connection.in_transaction() and not callers:  # reads yamlbase began (its writes are committed)
                connection.rollback()
            for key in (WRITES, AUTOCOMMIT, LOCK_TIMEOUT, WAIT_ANNOUNCED):
                connection.info.pop(key, None)
        if takes_over:
            sa.event.remove(connection, "begin", _sqlite_begin)
            driver.isolation_level = isolation_level
            driver.execute(f"PRAGMA busy_timeout = {int(busy_timeout)}")


def _sqlite_begin(connection: Connection) -> None:
    """SQLite with the driver's transaction handling off (:func:`create_engine`, :func:`_working_settings`):
    yamlbase's ``BEGIN``. A writing transaction takes the write lock up front (IMMEDIATE): a deferred one that
    later writes fails with "database is locked" at once instead of waiting. Reads stay deferred, so they do not
    queue behind writers."""
    # Every wait for another connection's lock (several instances may start together) lasts at most the run's
    # lock timeout; the wait for the write lock is announced.
    timeout = connection.info.get(LOCK_TIMEOUT, DEFAULT_LOCK_TIMEOUT)
    if connection.info.get(AUTOCOMMIT):
        set_busy_timeout(connection, timeout)
    elif connection.info.get(WRITES):
        begin_immediate(connection, timeout)
    else:
        set_busy_timeout(connection, timeout)
        connection.exec_driver_sql("BEGIN")


def _db_message(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return " ".join(str(orig if orig is not None else exc).split())


def _sqlite_file_missing(url: Database) -> bool:
    if isinstance(url, Connection):  # open, so it is there
        return False
    parsed = database_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    return database not in ("", ":memory:") and not database.startswith("file:") and not Path(database).exists()


def database_exists(url: Database) -> bool:
    """False for a SQLite file that does not exist (the commands that only read take it for an empty database and
    never create it), True for any other database."""
    return not _sqlite_file_missing(url)


def _require_database(url: Database) -> None:
    """Commands that only read or undo must not create an empty SQLite file for a mistyped URL."""
    if _sqlite_file_missing(url):
        raise DatabaseError(f"no database at {safe_url(url)}: nothing has been applied there")


# --- reading the changelog for a run ---------------------------------------------------------------------


Contexts = str | Iterable[str] | None


@dataclass
class _Source:
    """The changelog of a command with the run's selection; read once per database kind (``dbms`` filters
    changeSets while parsing, as in Liquibase, and a ``mysql://`` URL may turn out to reach MariaDB)."""

    path: str | os.PathLike[str]
    contexts: Contexts = None
    label_filter: str | None = None
    properties: Mapping[str, str] | None = None
    search_path: SearchPathLike | None = None
    _models: dict[str | None, ChangeLog] = field(default_factory=dict)

    def load(self, dbms: str | None) -> ChangeLog:
        if dbms not in self._models:
            contexts = self.contexts
            names = (
                filters.names(contexts)
                if isinstance(contexts, str)
                else frozenset(c.strip().lower() for c in contexts or () if c.strip())
            )
            selection = Selection(contexts=names, label_filter=(self.label_filter or "").strip() or None, dbms=dbms)
            self._models[dbms] = parse_changelog(
                self.path, selection=selection, properties=self.properties, search_path=self.search_path
            )
        return self._models[dbms]

    def for_url(self, url: Database) -> ChangeLog:
        """Parsed before connecting, so a bad changelog is reported whatever the database's state."""
        return self.load(database_url(url).get_backend_name())


# --- the shared run of an update or a rollback ------------------------------------------------------


@dataclass
class Target:
    """Where a command's statements go, and how the current state is read."""

    sink: Sink
    reader: Connection | None
    history: HistoryTable
    lock: ChangeLogLock

    @property
    def incomplete(self) -> IncompleteTable:
        return IncompleteTable(self.sink.dialect_name)

    @property
    def captures(self) -> CaptureTable:
        return CaptureTable(self.sink.dialect_name)

    @functools.cached_property
    def journal(self) -> JournalTable:
        return JournalTable(self.sink.dialect_name)

    def incomplete_records(self) -> dict[tuple[str, str, str], tuple[Any, ...]]:
        """changeSets that stopped part-way (databases without transactional DDL only)."""
        if self.reader is None or capabilities(self.sink.dialect_name).transactional_ddl:
            return {}
        return self.incomplete.read(self.reader)

    def rows(self) -> list[HistoryRow]:
        if self.reader is None or not self.history.exists(self.reader):
            return []
        return self.history.read(self.reader)

    def _tolerant(self, create: Callable[[Sink], None], done: Callable[[], bool]) -> None:
        """Run ``create`` in its own transaction; when it fails because another process just did the same
        (``done()`` is now true), carry on. Instances starting together must not fail each other."""
        try:
            with self.sink.transaction():
                create(self.sink)
        except sa.exc.DBAPIError:
            if not done():
                raise

    def ensure_lock_table(self) -> None:
        """Create DATABASECHANGELOGLOCK and its row if missing (rendered, when offline)."""
        reader = self.reader
        if reader is None or (not self.sink.online and not self.lock.exists(reader)):
            with self.sink.transaction():
                self.lock.create(self.sink)
                self.lock.reset(self.sink)
            return
        if not self.lock.exists(reader):
            self._tolerant(self.lock.create, lambda: self.lock.exists(reader))
        if self.lock.state(reader) is None:
            self._tolerant(self.lock.insert_row, lambda: self.lock.state(reader) is not None)

    def ensure_history_table(self) -> None:
        """Create DATABASECHANGELOG if missing; called under the lock, as Liquibase does."""
        reader = self.reader
        if reader is None:
            with self.sink.transaction():
                self.history.create(self.sink)
        elif not self.history.exists(reader):
            # Under the lock, but a tool that takes no lock (or an older yamlbase) may still race us.
            self._tolerant(self.history.create, lambda: self.history.exists(reader))

    @contextlib.contextmanager
    def locked(self, timeout: float) -> Iterator[None]:
        if self.reader is not None:
            self.reader.info[LOCK_TIMEOUT] = timeout  # also bounds each wait for SQLite's write lock
        self.ensure_lock_table()
        self.sink.comment("Lock Database")
        self.lock.acquire(self.sink, self.reader if self.sink.online else None, timeout)
        try:
            self.ensure_history_table()
            yield
        finally:
            self.sink.comment("Release Database Lock")
            with self.sink.transaction():
                self.lock.release(self.sink, self.reader if self.sink.online else None)


@contextlib.contextmanager
def _bookkeeping_errors(url: Database) -> Iterator[None]:
    """A database error outside a changeSet's statements (history, lock, reflection) said in one paragraph."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        statement = " ".join((exc.statement or "").split())
        where = f" (while running: {statement[:200]}{'…' if len(statement) > 200 else ''})" if statement else ""
        raise DatabaseError(f"database error on {safe_url(url)}: {_db_message(exc)}{where}") from exc


@contextlib.contextmanager
def _online(url: Database, *, read_only: bool = False) -> Iterator[Target]:
    with connect(url, read_only=read_only) as connection, _bookkeeping_errors(url):
        name = connection.dialect.name
        sink = ConnectionSink(connection)
        try:
            yield Target(sink, connection, HistoryTable(name), ChangeLogLock(name))
        finally:
            sink.detach()


@contextlib.contextmanager
def _preview(url: Database | None, dialect: str | None, out: TextIO) -> Iterator[Target]:
    """A text target. With a reachable ``url``, the database's state is read (never written)."""
    if url is None or _sqlite_file_missing(url):
        name = dialect or (database_url(url).get_backend_name() if url else "sqlite")
        with _shadow(name, None) as shadow:
            yield Target(TextSink(name, out, shadow=shadow), None, HistoryTable(name), ChangeLogLock(name))
        return
    with connect(url, read_only=True) as connection, _bookkeeping_errors(url):
        name = connection.dialect.name
        if dialect and dialect != name and not {dialect, name} <= {"mysql", "mariadb"}:
            raise UsageError(f"--dialect {dialect} does not match the database at {safe_url(url)} ({name})")
        with _shadow(name, connection) as shadow:
            yield Target(TextSink(name, out, shadow=shadow), connection, HistoryTable(name), ChangeLogLock(name))


@contextlib.contextmanager
def _shadow(dialect: str, source: Connection | None) -> Iterator[Connection | None]:
    """For SQLite previews: an in-memory copy of the schema, so table recreation can be rendered."""
    if dialect != "sqlite":
        yield None
        return
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as shadow:
            if source is not None:
                ddl = source.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
                    "ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END"
                ).scalars()
                for statement in ddl:
                    shadow.exec_driver_sql(statement)
                # AUTOINCREMENT's high-water marks: a recreation in the preview puts them back as update does.
                if shadow.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").first():
                    marks = [tuple(row) for row in source.exec_driver_sql("SELECT name, seq FROM sqlite_sequence")]
                    shadow.exec_driver_sql("DELETE FROM sqlite_sequence")
                    if marks:
                        shadow.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", marks)
                shadow.commit()
            yield shadow
    finally:
        engine.dispose()


def _apply_changes(
    target: Target,
    cs: ChangeSet,
    changes: list[Change],
    *,
    capture_drops: bool = False,
    journal: ChangeSetJournal | None = None,
) -> dict[int, dict[str, Any]]:
    """Run ``changes`` for ``cs``; any failure becomes a :class:`MigrationError` naming the changeSet.

    With ``capture_drops`` (a live database), what each destructive change destroys is reflected just before
    it runs; returns those captures by the change's position. The statements go through ``journal`` if given.

    Where DDL commits as it runs (MySQL/MariaDB, Oracle), the error lists the statements that already
    took effect, since no rollback will undo them.
    """
    sink = target.sink
    sink.executed.clear()
    captured: dict[int, dict[str, Any]] = {}
    if journal is None and sink.online and not capabilities(sink.dialect_name).transactional_ddl:
        journal = ChangeSetJournal(sink.dialect_name)  # only to tell what took effect
    try:
        with sink.journaled(journal):
            for i, change in enumerate(changes):
                try:
                    if capture_drops and target.reader is not None and change.destroys():
                        seen = len(sink.executed)
                        captured[i] = capture.capture(target.reader, change.destroys())
                        del sink.executed[seen:]  # reading the schema took no effect worth reporting
                    sink.apply(change)
                except HaltRequested as exc:  # a ``stop`` change
                    raise ChangeLogStopped(cs.identifier, None, str(exc)) from None
                except sa.exc.DBAPIError as exc:
                    raise MigrationError(cs.identifier, exc.statement, _db_message(exc)) from exc
                except sa.exc.NoSuchTableError as exc:  # reflection for SQLite's table recreation found nothing
                    raise MigrationError(cs.identifier, None, f"{change.name}: table {exc} does not exist") from exc
                except MemoryError:
                    raise MigrationError(cs.identifier, None, f"{change.name}: {OUT_OF_MEMORY}") from None
                except Exception as exc:  # Alembic/SQLAlchemy refusing to build a statement: the changeSet's failure
                    raise MigrationError(cs.identifier, None, f"{change.name}: {exc}") from exc
            try:
                sink.verify_changeset()
            except ValueError as exc:
                raise MigrationError(cs.identifier, None, str(exc)) from exc
    except MigrationError as error:
        if journal is not None:
            # Reads changed nothing, and what did not commit was rolled back: those committed are listed.
            error.took_effect = journal.took_effect()
        raise
    return captured


def _adopt_moved_rows(target: Target, changelog: ChangeLog, rows: list[HistoryRow]) -> list[HistoryRow]:
    """Under the lock: give the history rows an older yamlbase wrote (FILENAME relative to the root changelog's
    folder) the FILENAME Liquibase's search path gives their changeSets, in one transaction, and say so; returns
    the rows as they are now. Offline, the UPDATE statements are rendered."""
    moved = plan.moved_rows(changelog, rows)
    if not moved:
        return rows
    sink, reader = target.sink, target.reader
    search = changelog.search_path.describe() if changelog.search_path is not None else "the working folder"
    lines = [f"{m.old} -> {m.new}" for m in moved]
    summary = (
        f"{len(moved)} history row{'s' if len(moved) != 1 else ''} written by an older yamlbase (FILENAME relative "
        f"to the root changelog's folder) renamed to Liquibase's FILENAME (relative to the search path {search})"
    )
    sink.comment("\n".join([summary, *lines]))
    others = [t.table for t in (target.captures, target.incomplete) if reader is not None and t.exists(reader)]
    with sink.transaction():
        for m in moved:
            target.history.set_filename(sink, m.row.key, m.changeset.path)
            for table in others:
                rename_keyed_rows(table, sink, m.row.key, m.changeset.path)
    if sink.online:
        log.warning("%s:\n  %s", summary, "\n  ".join(lines))
    return plan.renamed(rows, moved)


def _run_update(
    target: Target,
    changelog: ChangeLog,
    *,
    count: int | None,
    to_tag: str | None,
    lock_timeout: float,
    report: Report,
    sync: bool = False,
) -> list[ChangeSet]:
    """The run of ``update`` (and ``changelog-sync``): under the lock, the pending changeSets of ``changelog``,
    each with its history row. With ``sync``, nothing of a changeSet runs (neither its changes nor its
    preconditions) and its row is written as ``EXECUTED``, as Liquibase's changelog-sync does."""
    sink, history = target.sink, target.history
    with target.locked(lock_timeout):
        rows = _adopt_moved_rows(target, changelog, target.rows())
        applied = {row.key: row for row in rows}
        dbms = sink.dialect_name
        verdict = plan.check_checksums(changelog, applied, dbms)
        plan.raise_for_changed(verdict, dbms)
        for cs, row in verdict.refresh:
            with sink.transaction():
                history.set_checksum(sink, row.key, cs.checksum_for(dbms))
        todo = plan.pending(changelog, applied)
        if to_tag is not None:
            todo = plan.up_to_tag(todo, to_tag)
        if count is not None:
            todo = todo[:count]
        order = max((row.order_executed for row in rows), default=0)
        deployment = new_deployment_id()
        if sync:
            return _record_synced(target, todo, applied, order, deployment, report)
        refused = plan.inexpressible(todo, sink.dialect_name)
        if refused:  # before anything runs: the database could not do it as written
            raise ChangeLogError(refused)
        for cs in todo:  # what it is about to run only: an applied changeSet's doubts were said before it ran
            for warning in cs.warnings:
                log.warning("%s", warning)
        incomplete = target.incomplete_records()
        blocked = [cs for cs in todo if cs.key in incomplete]
        if blocked:
            raise IncompleteChangeSetError(_incomplete_message(blocked[0], incomplete[blocked[0].key]))
        # The journals of changeSets an earlier run was interrupted in (killed, its connection lost).
        journals: dict[tuple[str, str, str], JournalRecord] = {}
        reader = target.reader
        if sink.online and reader is not None and any(_journaled(dbms, cs) for cs in todo):
            journals = target.journal.read(reader)
            if not target.journal.present:  # made before any changeSet runs: making it commits
                target._tolerant(target.journal.create, lambda: target.journal.exists(reader))
        gate = preconditions.Gate(sink, target.reader, set(applied), changelog.properties)
        gate.check_changelog(changelog.preconditions)
        done: list[ChangeSet] = []
        for cs in todo:
            StopRequest.check(len(done))
            exec_type = "RERAN" if cs.key in applied else "EXECUTED"
            sink.comment(f"Changeset {cs.identifier}" + (f"\n{cs.comment}" if cs.comment else ""))
            interrupted = journals.get(cs.key)
            # An interrupted changeSet passed its preconditions when it started (what it did since may not).
            action = "run" if interrupted is not None else gate.check(cs)
            if action == "skip":
                continue
            order += 1
            if action == "mark_ran":
                with sink.transaction():
                    _record_run(target, cs, order, deployment, "MARK_RAN", existing=cs.key in applied)
                gate.ran.add(cs.key)
                continue
            # Only a live run captures what a change destroys, and only when no rollback block undoes it (nor
            # where an interrupted run may have destroyed it already).
            drops = sink.online and cs.rollback is None and interrupted is None
            journal = None
            if sink.online and _journaled(dbms, cs):
                journal = ChangeSetJournal(
                    dbms,
                    table=target.journal,
                    key=cs.key,
                    checksum=cs.checksum_for(dbms),
                    autocommit=not cs.run_in_transaction,
                    recorded=interrupted is not None,
                )
                if interrupted is not None:
                    journal.skip = _resume_point(target, cs, interrupted, changelog.selection)
            try:
                if cs.run_in_transaction or not sink.online:
                    with sink.transaction():
                        captured = _apply_changes(target, cs, cs.changes, capture_drops=drops, journal=journal)
                        _record_captures(target, cs, captured)
                        _record_run(target, cs, order, deployment, exec_type)
                        _forget_journal(target, journal)
                else:
                    with sink.autocommit():  # runInTransaction: false (CREATE INDEX CONCURRENTLY, VACUUM, …)
                        captured = _apply_changes(target, cs, cs.changes, capture_drops=drops, journal=journal)
                    with sink.transaction():
                        _record_captures(target, cs, captured)
                        _record_run(target, cs, order, deployment, exec_type)
                        _forget_journal(target, journal)
            except MigrationError as error:
                forget = journal is not None and journal.recorded
                if (error.took_effect or forget) and target.reader is not None:
                    # A person decides what follows a failure: the journal gives way to the record of it.
                    try:
                        with sink.transaction():
                            if error.took_effect:
                                target.incomplete.record(sink, target.reader, cs.key, error.took_effect, error.cause)
                            _forget_journal(target, journal)
                    except sa.exc.DBAPIError as exc:  # the failure is what the person must see first
                        raise DatabaseError(
                            f"{error}\n  recording this failure in YAMLBASE_INCOMPLETE failed too: {_db_message(exc)}"
                        ) from exc
                if cs.fail_on_error:
                    raise
                # failOnError: false — Liquibase logs it and goes on; the changeSet stays pending.
                order -= 1
                log.warning("%s failed and was left pending (failOnError: false): %s", cs.identifier, error)
                continue
            gate.ran.add(cs.key)
            done.append(cs)
            if interrupted is not None and journal is not None:
                log.warning("%s", _finished_message(cs, interrupted, journal))
            if sink.online:
                log.info("ran %s", cs.identifier, extra={"changeset": cs.identifier})
            report(cs.identifier)
    return done


def _record_synced(
    target: Target,
    todo: list[ChangeSet],
    applied: Mapping[tuple[str, str, str], HistoryRow],
    order: int,
    deployment: str,
    report: Report,
) -> list[ChangeSet]:
    """``changelog-sync``'s part of the run: each pending changeSet recorded as run (``EXECUTED``, its tag
    included), in a transaction of its own, without running it; a record that it stopped part-way is dropped."""
    sink = target.sink
    done: list[ChangeSet] = []
    for cs in todo:
        StopRequest.check(len(done))
        order += 1
        sink.comment(f"Changeset {cs.identifier} recorded as run")
        with sink.transaction():
            _record_run(target, cs, order, deployment, "EXECUTED", existing=cs.key in applied)
            if target.reader is not None:
                target.incomplete.forget(sink, target.reader, cs.key)
        done.append(cs)
        if sink.online:
            log.info("recorded %s as run", cs.identifier, extra={"changeset": cs.identifier})
        report(cs.identifier)
    return done


def _journaled(dialect: str, cs: ChangeSet) -> bool:
    """Whether statements of ``cs`` may commit as they run on ``dialect``: then it keeps a journal."""
    return not (cs.run_in_transaction and capabilities(dialect).transactional_ddl)


def _forget_journal(target: Target, journal: ChangeSetJournal | None) -> None:
    if journal is not None and journal.recorded and journal.key is not None:
        target.journal.forget(target.sink, journal.key)


def _planned_writes(target: Target, cs: ChangeSet) -> list[str]:
    """The statements that write which ``cs`` runs now, none of them run (the reads its plan needs are)."""
    sink = target.sink
    assert isinstance(sink, ConnectionSink)
    planned = ChangeSetJournal(sink.dialect_name, skip=sys.maxsize)
    quiet, sink.quiet = sink.quiet, True  # its messages are for when it runs
    try:
        _apply_changes(target, cs, cs.changes, journal=planned)
    except MigrationError:
        pass  # as far as it can be planned
    finally:
        sink.quiet = quiet
        if sink.connection.in_transaction():
            sink.connection.rollback()
    return planned.writes


def _resume_point(target: Target, cs: ChangeSet, record: JournalRecord, selection: Selection) -> int:
    """How many statements of the interrupted ``cs`` took effect, its journal and the structure of the database
    say; raises :class:`IncompleteChangeSetError` with the ways out where that cannot be told."""
    assert target.reader is not None
    writes = _planned_writes(target, cs)
    index = record.index
    dbms = target.sink.dialect_name
    same = index < len(writes) and one_line(writes[index])[: JournalTable.STATEMENT_LENGTH] == record.statement
    if record.checksum not in (None, cs.checksum_for(dbms)):
        why = "the changeSet was edited since"
    elif not same:
        why = "the changeSet would now run other statements than it did then"
    else:
        took = took_effect(target.reader, writes[index])
        if took is not None:
            return index + took
        why = "whether it took effect cannot be told from the database's structure"
    raise IncompleteChangeSetError(_interrupted_message(cs, writes if same else [], record, why, selection))


def _shown(statement: str, limit: int = 300) -> str:
    text = one_line(statement)
    return text if len(text) <= limit else f"{text[:limit]}…"


def _interrupted_message(
    cs: ChangeSet, writes: list[str], record: JournalRecord, why: str, selection: Selection
) -> str:
    index = record.index
    if writes:
        states = lambda i: "took effect" if i < index else "was running" if i == index else "did not run"  # noqa: E731
        listed = [f"    {i + 1}. {states(i)}: {_shown(statement)}" for i, statement in enumerate(writes)]
    else:
        earlier = f"the {index} before it took effect, " if index else ""
        listed = [f"    {index + 1}. was running ({earlier}none after it ran): {_shown(record.statement)}"]
    options = [*(("--contexts", ",".join(sorted(selection.contexts))) if selection.contexts else ())]
    options += [*(("--label-filter", selection.label_filter) if selection.label_filter else ())]
    suffix = "".join(f" {shlex.quote(option)}" for option in options)
    return (
        f"changeSet {cs.identifier} was interrupted part-way in an earlier run (killed, or its connection lost) "
        f"after some of its statements had committed: statement {index + 1} was running then, and {why}. Its "
        "statements:\n" + "\n".join(listed) + "\nNothing was run. Either finish by hand what did not take effect "
        f"(statement {index + 1} if it did not, and those after it), then run `yamlbase mark-next-changeset-ran"
        f"{suffix}`; or undo by hand what took effect (statement {index + 1} too if it did), then run "
        "`yamlbase clear-incomplete` (update then runs the whole changeSet again)."
    )


def _finished_message(cs: ChangeSet, record: JournalRecord, resumed: ChangeSetJournal) -> str:
    skipped = resumed.writes[: resumed.skip]
    verdict = "had taken effect" if resumed.skip > record.index else "had not taken effect"
    text = (
        f"changeSet {cs.identifier} had been interrupted part-way in an earlier run: statement {record.index + 1}, "
        f"which was running then, {verdict} (the database's structure shows it). "
    )
    if skipped:
        text += "These statements of it had taken effect, and were not run again:" + "".join(
            f"\n    {i + 1}. {_shown(statement)}" for i, statement in enumerate(skipped)
        )
        text += f"\nThe rest ran from statement {resumed.skip + 1}, "
    else:
        text += "It ran from its first statement, "
    return text + "and the changeSet is recorded as run."


def _record_captures(target: Target, cs: ChangeSet, captured: Any) -> None:
    """Store what the changeSet's destructive changes were seen to destroy, beside its history row."""
    if captured and target.reader is not None:
        target.captures.record(target.sink, target.reader, cs.key, capture.to_json(captured))


def _record_run(
    target: Target, cs: ChangeSet, order: int, deployment: str, exec_type: str, *, existing: bool = False
) -> None:
    values = {
        "ID": cs.id,
        "AUTHOR": cs.author,
        "FILENAME": cs.path,
        "ORDEREXECUTED": order,
        "EXECTYPE": exec_type,
        "MD5SUM": cs.checksum_for(target.sink.dialect_name),
        "DESCRIPTION": cs.description(),
        "COMMENTS": (cs.comment or "")[:255],
        "TAG": cs.tag,
        "CONTEXTS": cs.contexts_column,
        "LABELS": cs.labels_column,
        "LIQUIBASE": LIQUIBASE_COLUMN,
        "DEPLOYMENT_ID": deployment,
    }
    if exec_type == "RERAN" or existing:
        target.history.rerun(target.sink, cs.key, values)
    else:
        target.history.insert(target.sink, values)


def _incomplete_message(cs: ChangeSet, record: tuple[Any, ...]) -> str:
    failed, statements, error = record
    done = "\n".join(f"    {line}" for line in statements.split(";\n"))
    return (
        f"changeSet {cs.identifier} stopped part-way on {failed} ({error}), and this database cannot roll DDL "
        f"back; these statements of it took effect:\n{done}\n"
        "Nothing was run. Either undo them by hand and run `yamlbase clear-incomplete` (update then runs the "
        "whole changeSet again), or finish the rest by hand and run `yamlbase mark-next-changeset-ran`."
    )


def _run_rollback(
    target: Target,
    changelog: ChangeLog,
    select: Callable[[list[HistoryRow]], list[HistoryRow]],
    *,
    lock_timeout: float,
    report: Report,
) -> list[HistoryRow]:
    sink = target.sink
    with target.locked(lock_timeout):
        rows = select(_adopt_moved_rows(target, changelog, target.rows()))
        by_key = changelog.by_key()
        selection = changelog.selection
        # Rows whose changeSet the run's contexts or labels leave out are not undone (as Liquibase).
        rows = [
            row
            for row in rows
            if row.key not in by_key or by_key[row.key].selected_by(selection.contexts, selection.label_filter)
        ]
        reader = target.reader
        stored = target.captures.read(reader, [row.key for row in rows]) if reader is not None else {}
        captures = {key: capture.from_json(text) for key, text in stored.items()}
        steps = plan.rollback_plan(changelog, rows, sink.context, captures)
        for done, (row, cs, changes) in enumerate(steps):
            StopRequest.check(done)
            sink.comment("\n".join([f"Rolling Back ChangeSet: {row.identifier}", *notes(changes)]))
            with sink.transaction():
                _apply_changes(target, cs, changes)
                target.history.delete(sink, row.key)
                if row.key in stored:
                    target.captures.forget(sink, row.key)
            if sink.online:
                log.info("rolled back %s", row.identifier, extra={"changeset": row.identifier})
            report(row.identifier)
    return rows


def _selector(tag: str | None, count: int | None) -> Callable[[list[HistoryRow]], list[HistoryRow]]:
    if (tag is None) == (count is None):
        raise UsageError("give exactly one of --tag or a count")
    if tag is not None:
        return lambda rows: plan.rows_after_tag(rows, tag)
    assert count is not None
    if count < 0:
        raise UsageError("the count must not be negative")
    return lambda rows: plan.last_rows(rows, count)


# --- the commands --------------------------------------------------------------------------------------


def validate(
    changelog: str | os.PathLike[str],
    *,
    dialect: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPathLike | None = None,
    url: Database | None = None,
) -> ChangeLog:
    """Parse and validate the changelog; raises ChangeLogError listing every problem. With ``dialect``, also
    every change that database cannot express. With ``url``, the database's history too: applied changeSets
    edited since they ran raise :class:`ChecksumMismatchError` naming each (as ``update`` would refuse them);
    a SQLite file that does not exist has no history, and is not created. The model's ``warnings`` list what
    looks wrong without being an error (a type name that seems a typo)."""
    _check_dialect(dialect)
    source = _Source(changelog, properties=properties, search_path=search_path)
    model = source.load(dialect)
    if dialect is not None:
        refused = plan.inexpressible(model.changesets, dialect)
        if refused:
            raise ChangeLogError(refused)
    if url is not None:
        source.for_url(url)  # the changelog as that database reads it is valid too, before connecting
        if not _sqlite_file_missing(url):
            with _online(url, read_only=True) as target:
                dbms = target.sink.dialect_name
                loaded = source.load(dbms)
                rows = target.rows()
                applied = {row.key: row for row in plan.renamed(rows, plan.moved_rows(loaded, rows))}
                verdict = plan.check_checksums(loaded, applied, dbms)
            try:
                plan.raise_for_changed(
                    verdict, dbms, heading=f"changeSets changed after they were applied to {safe_url(url)}"
                )
            except ChecksumMismatchError as error:
                error.warnings = model.warnings
                raise
    return model


def schema(output_file: str | os.PathLike[str] | None = None) -> str:
    """The changelog JSON Schema of this yamlbase version (its ``$id`` and ``$comment`` name the version), for
    editors; with ``output_file``, also written to that file (folders created as needed). Returns the text."""
    from yamlbase.changelog.validate import schema_path

    text = schema_path().read_text(encoding="utf-8")
    if output_file is not None:
        target = Path(output_file)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise YamlbaseError(f"cannot write the schema to {target}: {exc.strerror or exc}") from None
    return text


def update(
    url: Database,
    changelog: str | os.PathLike[str],
    *,
    count: int | None = None,
    to_tag: str | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    report: Report = _quiet,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPathLike | None = None,
) -> list[ChangeSet]:
    """Apply pending changeSets (all, the next ``count``, or up to ``to_tag``); returns those applied.

    ``contexts`` and ``label_filter`` select changeSets as Liquibase's ``--contexts`` / ``--label-filter`` do;
    ``properties`` are ``${name}`` values (``-D``).
    """
    source = _Source(changelog, contexts, label_filter, properties, search_path=search_path)
    model = source.for_url(url)
    for warning in model.property_warnings:  # before the checksums, which they may explain
        log.warning("%s", warning)
    with _online(url) as target:
        model = source.load(target.sink.dialect_name)
        return _run_update(target, model, count=count, to_tag=to_tag, lock_timeout=lock_timeout, report=report)


def update_sql(
    url: Database | None,
    changelog: str | os.PathLike[str],
    *,
    dialect: str | None = None,
    count: int | None = None,
    to_tag: str | None = None,
    out: TextIO | None = None,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPathLike | None = None,
) -> str:
    """The SQL ``update`` would run, bookkeeping included. With no ``url``, as for an empty ``dialect`` database."""
    source = _Source(changelog, contexts, label_filter, properties, search_path=search_path)
    return _update_script(url, source, "Update Database Script", dialect=dialect, count=count, to_tag=to_tag, out=out)


def _update_script(
    url: Database | None,
    source: _Source,
    heading: str,
    *,
    dialect: str | None,
    count: int | None,
    to_tag: str | None,
    out: TextIO | None,
    sync: bool = False,
) -> str:
    """The script of an update's run loop (``sync``: changelog-sync's), rendered under ``heading``; the text, or
    "" when written to ``out``."""
    _check_dialect(dialect)
    # Read before connecting (a bad changelog is reported whatever the database); once, in the usual case.
    source.load(dialect or (database_url(url).get_backend_name() if url else "sqlite"))
    buffer = out or io.StringIO()
    with _preview(url, dialect, buffer) as target:
        model = source.load(target.sink.dialect_name)
        target.sink.comment(f"{heading}\nChange Log: {model.path}\nDialect: {target.sink.dialect_name}")
        _run_update(target, model, count=count, to_tag=to_tag, lock_timeout=0, report=_quiet, sync=sync)
    return buffer.getvalue() if out is None else ""


def changelog_sync(
    url: Database,
    changelog: str | os.PathLike[str],
    *,
    to_tag: str | None = None,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPathLike | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    report: Report = _quiet,
) -> list[ChangeSet]:
    """Record the pending changeSets (all, or up to the one tagging ``to_tag``) as run without running them;
    returns those recorded. How a database built otherwise (``create_all``, Alembic, by hand) is adopted. Under
    the lock, refused like ``update`` when applied changeSets were edited; preconditions are not evaluated."""
    source = _Source(changelog, contexts, label_filter, properties, search_path=search_path)
    model = source.for_url(url)
    with _online(url) as target:
        model = source.load(target.sink.dialect_name)
        return _run_update(
            target, model, count=None, to_tag=to_tag, lock_timeout=lock_timeout, report=report, sync=True
        )


def changelog_sync_sql(
    url: Database | None,
    changelog: str | os.PathLike[str],
    *,
    dialect: str | None = None,
    to_tag: str | None = None,
    out: TextIO | None = None,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPathLike | None = None,
) -> str:
    """The SQL ``changelog-sync`` would run (lock, history rows), changing nothing. With no ``url``, as for an
    empty ``dialect`` database."""
    source = _Source(changelog, contexts, label_filter, properties, search_path=search_path)
    heading = "Changelog Sync Script: records changeSets as run without running them"
    return _update_script(url, source, heading, dialect=dialect, count=None, to_tag=to_tag, out=out, sync=True)


def rollback(
    url: Database,
    changelog: str | os.PathLike[str],
    *,
    tag: str | None = None,
    count: int | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    report: Report = _quiet,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPathLike | None = None,
) -> list[HistoryRow]:
    """Undo changeSets applied after ``tag`` (or the last ``count``), newest first; returns the rows undone."""
    select = _selector(tag, count)
    source = _Source(changelog, contexts, label_filter, properties, search_path=search_path)
    model = source.for_url(url)
    _require_database(url)
    with _online(url) as target:
        model = source.load(target.sink.dialect_name)
        return _run_rollback(target, model, select, lock_timeout=lock_timeout, report=report)


def update_testing_rollback(
    url: Database,
    changelog: str | os.PathLike[str],
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    report: Report = _quiet,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPathLike | None = None,
) -> list[ChangeSet]:
    """Apply each pending changeSet, roll it back, compare the reflected schema with the one before it, and apply
    it again; returns those applied. A rollback that leaves another schema raises :class:`RollbackMismatchError`
    naming the changeSet and each difference (that changeSet is then left rolled back)."""
    from yamlbase.structure.compare import compare
    from yamlbase.structure.reflect import reflect

    source = _Source(changelog, contexts, label_filter, properties, search_path=search_path)
    model = source.for_url(url)  # changeSets for another dbms are left out, as by update
    done: list[ChangeSet] = []
    with _online(url) as target:
        reader = target.reader
        assert reader is not None
        model = source.load(target.sink.dialect_name)

        def picture() -> Schema:
            """The whole schema: tables in detail, views, sequences, enum types and stored routines."""
            return reflect(reader, routines=True)

        def apply_next() -> list[ChangeSet]:
            return _run_update(target, model, count=1, to_tag=None, lock_timeout=lock_timeout, report=_quiet)

        while True:
            before = picture()
            applied = apply_next()
            if not applied:
                return done
            cs = applied[0]
            last = lambda rows: plan.last_rows(rows, 1)  # noqa: E731
            try:
                _run_rollback(target, model, last, lock_timeout=lock_timeout, report=_quiet)
            except RollbackImpossibleError as error:
                raise RollbackImpossibleError(
                    f"changeSet {cs.identifier} was applied and has no rollback; {error}"
                ) from None
            # What applying and rolling back changed: the differences from the schema before to the one after.
            lines = [d.explain() for d in compare(before, picture())]
            if lines:
                raise RollbackMismatchError(
                    f"changeSet {cs.identifier} ({cs.location}): after its rollback the schema is not what it was "
                    "before it:\n" + "\n".join(f"  {line}" for line in lines) + "\nThe changeSet is left rolled "
                    "back; fix its rollback block (or the changes it undoes) and run update-testing-rollback again."
                )
            apply_next()
            report(cs.identifier)
            done.append(cs)


def rollback_sql(
    url: Database,
    changelog: str | os.PathLike[str],
    *,
    tag: str | None = None,
    count: int | None = None,
    out: TextIO | None = None,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPathLike | None = None,
) -> str:
    """The SQL ``rollback`` would run; reads the history from ``url`` and changes nothing."""
    select = _selector(tag, count)
    source = _Source(changelog, contexts, label_filter, properties, search_path=search_path)
    model = source.for_url(url)
    buffer = out or io.StringIO()
    _require_database(url)
    with _preview(url, None, buffer) as target:
        model = source.load(target.sink.dialect_name)
        target.sink.comment(f"Rollback Database Script\nChange Log: {model.path}")
        _run_rollback(target, model, select, lock_timeout=0, report=_quiet)
    return buffer.getvalue() if out is None else ""


class Pending(list[ChangeSet]):
    """The changeSets ``update`` would apply, in order; ``changed`` lists the applied ones edited since they ran
    (:class:`yamlbase.runtime.plan.EditedChangeSet`), which make ``update`` refuse to run anything; ``moved`` the
    history rows an older yamlbase wrote that ``update`` renames first (:class:`yamlbase.runtime.plan.MovedRow`)."""

    def __init__(
        self,
        changesets: Iterable[ChangeSet] = (),
        changed: Iterable[plan.EditedChangeSet] = (),
        moved: Iterable[plan.MovedRow] = (),
    ) -> None:
        super().__init__(changesets)
        self.changed = list(changed)
        self.moved = list(moved)


def status(
    url: Database,
    changelog: str | os.PathLike[str],
    *,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPathLike | None = None,
) -> Pending:
    """The changeSets ``update`` would apply (a list), in ``.changed`` the applied changeSets edited since
    they ran, judged as ``update`` judges them (``validCheckSum``, ``runOnChange``), and in ``.moved`` the history
    rows of an older yamlbase that ``update`` would rename to Liquibase's FILENAME."""
    source = _Source(changelog, contexts, label_filter, properties, search_path=search_path)
    model = source.for_url(url)
    if _sqlite_file_missing(url):
        return Pending(plan.pending(model, {}))
    with _online(url, read_only=True) as target:
        dbms = target.sink.dialect_name
        model = source.load(dbms)
        rows = target.rows()
        moved = plan.moved_rows(model, rows)
        applied = {row.key: row for row in plan.renamed(rows, moved)}
        edited = plan.check_checksums(model, applied, dbms).edited(dbms)
        return Pending(plan.pending(model, applied), edited, moved)


def history(url: Database) -> list[HistoryRow]:
    """What ran, in execution order."""
    if _sqlite_file_missing(url):
        return []
    with _online(url, read_only=True) as target:
        return target.rows()


def tag(url: Database, name: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, force: bool = False) -> HistoryRow:
    """Tag the current state: sets TAG on the most recently executed changeSet's row.

    Refused (:class:`YamlbaseError`, nothing changed) when some row already carries ``name``, or the last row
    carries another tag. With ``force``, the tag moves: taken off the rows that carry it and set on the last
    row, replacing the tag it had."""
    _require_database(url)
    with _online(url) as target, target.locked(lock_timeout):
        rows = target.rows()
        if not rows:
            raise YamlbaseError("nothing has been applied yet, so there is nothing to tag")
        last = rows[-1]
        holders = [row for row in rows if row.tag == name]
        if holders == [last]:
            return last  # already so: nothing to do, nothing replaced
        if not force:
            if holders:
                raise YamlbaseError(
                    f'tag "{name}" already exists, on {holders[-1].identifier}; nothing was changed '
                    f"(--force moves it to the last changeSet, {last.identifier})"
                )
            if last.tag is not None:
                raise YamlbaseError(
                    f'the last changeSet, {last.identifier}, already carries tag "{last.tag}"; nothing was changed '
                    f'(--force replaces it with "{name}")'
                )
        with target.sink.transaction():
            for row in holders:
                target.history.set_tag(target.sink, row.key, None)
            target.history.set_tag(target.sink, last.key, name)
        last.tag = name
        return last


def tag_exists(url: Database, name: str) -> bool:
    """Whether some history row carries tag ``name``."""
    return any(row.tag == name for row in history(url))


def release_locks(url: Database) -> None:
    """Unconditionally release DATABASECHANGELOGLOCK (for a lock left by a process that is gone)."""
    _require_database(url)
    with _online(url) as target:
        if target.reader is not None and target.lock.exists(target.reader):
            with target.sink.transaction():
                target.lock.release(target.sink)


def list_locks(url: Database) -> LockState | None:
    """The lock row's state (with whether its holder is still alive, where that can be told), or None
    when the lock table does not exist."""
    if _sqlite_file_missing(url):
        return None
    with _online(url, read_only=True) as target:
        if target.reader is None or not target.lock.exists(target.reader):
            return None
        state = target.lock.state(target.reader)
        if state is not None:
            state.alive = target.lock.holder_alive(target.reader, state)
        return state


def mark_next_changeset_ran(
    url: Database,
    changelog: str | os.PathLike[str],
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPathLike | None = None,
) -> ChangeSet | None:
    """Record the next pending changeSet as run (EXECTYPE MARK_RAN) without running it; returns it, or None."""
    source = _Source(changelog, contexts, label_filter, properties, search_path=search_path)
    source.for_url(url)
    _require_database(url)
    with _online(url) as target, target.locked(lock_timeout):
        model = source.load(target.sink.dialect_name)
        rows = target.rows()
        todo = plan.pending(model, {row.key: row for row in rows})
        if not todo:
            return None
        cs = todo[0]
        with target.sink.transaction():
            order = max((row.order_executed for row in rows), default=0) + 1
            _record_run(target, cs, order, new_deployment_id(), "MARK_RAN")
            if target.reader is not None:
                target.incomplete.forget(target.sink, target.reader, cs.key)
                if cs.key in target.journal.read(target.reader):
                    target.journal.forget(target.sink, cs.key)
        return cs


def clear_incomplete(url: Database, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> list[str]:
    """Forget that changeSets stopped part-way (their statements were undone by hand), or were interrupted
    part-way (their journals); returns their names."""
    _require_database(url)
    with _online(url) as target, target.locked(lock_timeout):
        records = target.incomplete.read(target.reader) if target.reader is not None else {}
        journals = target.journal.read(target.reader) if target.reader is not None else {}
        with target.sink.transaction():
            for key in records:
                target.incomplete.forget(target.sink, target.reader, key)  # type: ignore[arg-type]
            for key in journals:
                target.journal.forget(target.sink, key)
        return ["::".join(key) for key in {**records, **journals}]


def check(
    changelog: str | os.PathLike[str],
    *,
    models: str | sa.MetaData,
    dev_url: str | URL | None = None,
    against_url: Database | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPathLike | None = None,
    contexts: Contexts = None,
    label_filter: str | None = None,
) -> list[Difference]:
    """How the schema the changelog builds differs from the one the models declare (empty: in sync).

    ``models`` is a ``MetaData`` or ``MODULE[:ATTR]`` (:func:`yamlbase.structure.models.load_metadata`). The
    changelog is replayed on a scratch database (in-memory SQLite, or the empty ``dev_url``) and the models are
    created on one of the same dialect; with ``against_url``, the models are compared with that live database
    instead (read only). Renames the models declare (``info={"renamed_from": ...}``) are renames, not drop + add.
    """
    from yamlbase.structure.compare import compare
    from yamlbase.structure.models import rename_hints

    metadata = _metadata(models)
    old, new = _models_and_reference(
        changelog,
        metadata,
        dev_url,
        against_url,
        properties=properties,
        contexts=contexts,
        label_filter=label_filter,
        search_path=search_path,
    )
    return compare(old, new, renames=rename_hints(metadata))


def _metadata(models: str | sa.MetaData, *, empty_ok: bool = False) -> sa.MetaData:
    """The models' ``MetaData`` (``MODULE[:ATTR]`` imported); a :class:`UsageError` when it holds no tables,
    unless ``empty_ok``."""
    from yamlbase.structure.models import load_metadata

    metadata = load_metadata(models) if isinstance(models, str) else models
    if not metadata.tables and not empty_ok:
        raise UsageError(f"{_no_tables(models)}: were the modules that declare them imported{_imported_hint(models)}?")
    return metadata


def _no_tables(models: str | sa.MetaData) -> str:
    return f"{models if isinstance(models, str) else 'the models'} hold no tables"


def _imported_hint(models: str | sa.MetaData) -> str:
    """What to look at when models hold no tables: for ``MODULE:ATTR``, that naming the metadata is not enough."""
    if isinstance(models, str):
        return " (MODULE:ATTR names the metadata; the models must be imported with it)"
    return ""


def _models_and_reference(
    changelog: str | os.PathLike[str],
    metadata: sa.MetaData,
    dev_url: str | URL | None,
    against_url: Database | None,
    *,
    properties: Mapping[str, str] | None,
    contexts: Contexts,
    label_filter: str | None,
    missing_ok: bool = False,
    search_path: SearchPathLike | None = None,
) -> tuple[Schema, Schema]:
    """(the reference: the schema the changelog builds, or the live ``against_url``; the models' schema, created
    on a scratch database of the same dialect). With ``missing_ok``, a changelog that does not exist yet builds
    nothing."""
    from yamlbase.structure import reference
    from yamlbase.structure.model import Schema
    from yamlbase.structure.reflect import reflect

    if against_url is not None:
        _require_database(against_url)
        with connect(against_url, read_only=True) as connection:
            old = reflect(connection)
        dialect = old.dialect
        if dev_url is None and dialect != "sqlite":
            raise UsageError(
                f"--against-url is a {dialect} database: the models are created on a scratch database of the same "
                f"dialect to compare them exactly; give --dev-url (an empty {dialect} database)"
            )
    elif missing_ok and not Path(changelog).exists():
        old = Schema(database_url(dev_url).get_backend_name() if dev_url is not None else "sqlite")
        dialect = old.dialect
    else:
        old = reference.changelog_schema(
            changelog,
            dev_url=dev_url,
            properties=properties,
            contexts=contexts,
            label_filter=label_filter,
            search_path=search_path,
        )
        dialect = old.dialect
    new = reference.models_schema(metadata, dialect=dialect, dev_url=dev_url)
    if new.dialect != old.dialect and not {new.dialect, old.dialect} <= {"mysql", "mariadb"}:
        raise UsageError(f"--dev-url is a {new.dialect} database, --against-url a {old.dialect} one: use one dialect")
    return old, new


def diff(reference_url: Database, url: Database) -> list[Difference]:
    """How the database ``url`` differs from ``reference_url``: the differences that would make it like the
    reference (empty: the same schema). Both are only read."""
    from yamlbase.structure.compare import compare
    from yamlbase.structure.reflect import reflect

    _require_database(reference_url)
    _require_database(url)
    with connect(reference_url, read_only=True) as connection:
        reference = reflect(connection)
    with connect(url, read_only=True) as connection:
        target = reflect(connection)
    return compare(target, reference)


def _check_dialect(dialect: str | None) -> None:
    if dialect is not None and dialect not in DIALECT_NAMES:
        raise UsageError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECT_NAMES)}")


# --- changelogs from schemas: diff-changelog, generate-changelog -----------------------------------------------


def default_author() -> str:
    """The author of generated changeSets when none is given: git's ``user.name``, else the login name."""
    import getpass
    import subprocess

    try:
        done = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True, timeout=5, check=False)
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "yamlbase"


@dataclass
class DiffChangelogResult:
    """What ``diff-changelog`` did: the file written (None when there was nothing to do), the ids of the
    changeSets written, the number of tables the models (or the reference database) hold, the ids of the
    destructive changeSets, and the changeSets themselves (``{"changeSet": {...}}`` entries)."""

    path: Path | None
    changesets: list[str]
    tables: int
    destructive: list[str]
    entries: list[dict[str, Any]] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)


def diff_changelog(
    changelog: str | os.PathLike[str],
    *,
    models: str | sa.MetaData | None = None,
    reference_url: Database | None = None,
    url: Database | None = None,
    message: str | None = None,
    author: str | None = None,
    output_file: str | os.PathLike[str] | None = None,
    dev_url: str | URL | None = None,
    against_url: Database | None = None,
    renames: Mapping[str, str] | None = None,
    properties: Mapping[str, str] | None = None,
    contexts: Contexts = None,
    label_filter: str | None = None,
    now: Any = None,
    search_path: SearchPathLike | None = None,
) -> DiffChangelogResult:
    """Write the changeSets that take the schema the changelog builds to the one the ``models`` declare (as
    :func:`check` compares them: the changelog replayed on a scratch database, or the live ``against_url``); or,
    with ``reference_url``, those that make the database ``url`` like ``reference_url`` (as Liquibase's).

    ``renames`` (``old=new``, tables or ``table.column``) add to the models' ``renamed_from`` hints. With
    ``output_file``: a new file, which the root changelog includes (an ``include`` is added unless an
    ``includeAll`` already reads it); without it, the changeSets are appended to the root changelog (created when
    missing). Nothing is written when there is nothing to do. ``now`` (a ``datetime``, UTC by default) makes the
    ids. Models that hold no tables are refused when they would drop what the changelog builds.
    """
    import datetime as dt

    from yamlbase.structure import generate
    from yamlbase.structure.compare import compare
    from yamlbase.structure.models import rename_hints
    from yamlbase.structure.reflect import reflect

    root = Path(changelog)
    if (models is None) == (reference_url is None):
        raise UsageError("give --models MODULE[:ATTR], or --reference-url with --url (the database to change)")
    hints = dict(renames or {})
    if reference_url is not None:
        if url is None:
            raise UsageError("--reference-url needs --url: the database the changeSets are to change")
        _require_database(reference_url)
        _require_database(url)
        with connect(reference_url, read_only=True) as connection:
            new = reflect(connection)
        with connect(url, read_only=True) as connection:
            old = reflect(connection)
        tables = len(new.tables)
    else:
        assert models is not None
        metadata = _metadata(models, empty_ok=True)
        hints = rename_hints(metadata) | hints
        old, new = _models_and_reference(
            root,
            metadata,
            dev_url,
            against_url,
            properties=properties,
            contexts=contexts,
            label_filter=label_filter,
            missing_ok=True,
            search_path=search_path,
        )
        tables = len(metadata.tables)
    differences = compare(old, new, renames=hints)
    if not differences:
        return DiffChangelogResult(None, [], tables, [])
    if models is not None and tables == 0:
        raise UsageError(
            f"{_no_tables(models)}, and the changelog builds {len(old.tables)}: nothing was written (were the "
            f"modules that declare the models imported{_imported_hint(models)}?)"
        )
    moment = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    target = Path(output_file) if output_file is not None else root
    if output_file is not None and target.exists():
        raise UsageError(f"--output-file {target} exists: diff-changelog writes a new file (name another one)")
    first = _next_number(root, moment.strftime("%Y%m%d%H%M%S"), properties, search_path)
    entries = generate.changesets(
        differences, old=old, new=new, author=author or default_author(), message=message, now=moment, first=first
    )
    if output_file is not None:
        _write_new_changelog(target, generate.to_yaml(entries))
        _include_from_root(root, target, entries, properties, search_path)
    else:
        _append_to_changelog(root, entries, properties, search_path)
    ids = [e["changeSet"]["id"] for e in entries]
    return DiffChangelogResult(target, ids, tables, generate.destructive(entries), entries, differences)


def _next_number(
    root: Path, stamp: str, properties: Mapping[str, str] | None, search_path: SearchPathLike | None
) -> int:
    """The first ``<n>`` of ids ``<stamp>-<n>`` no changeSet of the changelog has (a second run in the same
    second goes on from the first one's)."""
    if not root.exists():
        return 1
    try:
        model = parse_changelog(root, properties=properties, search_path=search_path)
    except ChangeLogError:
        return 1  # reported when it is appended to and read again
    taken = [int(cs.id.rpartition("-")[2]) for cs in model.changesets if re.fullmatch(rf"{stamp}-\d+", cs.id)]
    return max(taken, default=0) + 1


def _write_new_changelog(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise YamlbaseError(f"cannot write {path}: {exc.strerror or exc}") from None


def _reads(
    root: Path,
    written: Path,
    entries: list[dict[str, Any]],
    properties: Mapping[str, str] | None,
    search_path: SearchPathLike | None,
) -> bool:
    """Whether the changelog at ``root`` (valid, or a :class:`ChangeLogError`) holds every changeSet of
    ``entries``, read from the file ``written``."""
    model = parse_changelog(root, properties=properties, search_path=search_path)
    path = Path(os.path.relpath(written.resolve(), root.resolve().parent)).as_posix()
    found = {(cs.legacy_path or cs.path, cs.id, cs.author) for cs in model.changesets}  # relative to root's folder
    return all((path, e["changeSet"]["id"], e["changeSet"]["author"]) in found for e in entries)


def _include_from_root(
    root: Path,
    written: Path,
    entries: list[dict[str, Any]],
    properties: Mapping[str, str] | None,
    search_path: SearchPathLike | None,
) -> None:
    """Make the root changelog read ``written``: nothing to do when an ``includeAll`` already does, else an
    ``include`` appended (the root created when missing)."""
    relative = Path(os.path.relpath(written.resolve(), root.resolve().parent)).as_posix()
    include = {"include": {"file": relative, "relativeToChangelogFile": True}}
    if root.exists() and _reads(root, written, entries, properties, search_path):
        return
    _append_entries(root, [include], properties, search_path, check=(written, entries))


def _append_to_changelog(
    root: Path, entries: list[dict[str, Any]], properties: Mapping[str, str] | None, search_path: SearchPathLike | None
) -> None:
    _append_entries(root, entries, properties, search_path, check=(root, entries))


def _append_entries(
    root: Path,
    items: list[dict[str, Any]],
    properties: Mapping[str, str] | None,
    search_path: SearchPathLike | None,
    *,
    check: tuple[Path, list[dict[str, Any]]],
) -> None:
    """Append ``items`` to the ``databaseChangeLog`` list of the YAML changelog ``root`` (created when missing),
    keeping its text, comments and indentation; read it again afterwards, and put it back as it was when the
    result is not a valid changelog holding the changeSets of ``check`` (the file they are in, and them)."""
    import yaml

    from yamlbase.structure.generate import to_yaml

    if not root.exists():
        _write_new_changelog(root, to_yaml(items))
        return
    if root.suffix.lower() not in (".yaml", ".yml"):
        raise UsageError(
            f"{root} is not a YAML changelog: yamlbase appends only to YAML; give --output-file (a new YAML file, "
            "which you then include)"
        )
    original = root.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(original)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict) or "databaseChangeLog" not in data:
        raise UsageError(f"{root} has no databaseChangeLog list to append to; give --output-file")
    lines = original.splitlines()
    top = [i for i, line in enumerate(lines) if re.match(r"[^\s#-]", line)]  # keys at the left margin
    start = next(i for i in top if lines[i].startswith("databaseChangeLog"))
    if any(i > start for i in top):
        raise UsageError(f"{root}: databaseChangeLog is not its last key; give --output-file")
    head = lines[start].split(":", 1)[1].split("#", 1)[0].strip()
    items_text = to_yaml(items, document=False)
    if head in ("", "[]") and not data["databaseChangeLog"]:
        kept = [*lines[:start], "databaseChangeLog:"]
        text = "\n".join(kept) + "\n" + items_text
    elif head:
        raise UsageError(f"{root}: databaseChangeLog is written inline; give --output-file")
    else:
        indent = next(
            (len(line) - len(line.lstrip()) for line in lines[start + 1 :] if line.lstrip().startswith("- ")), 2
        )
        shift = indent - 2
        shifted = [
            (" " * shift + line if shift >= 0 else line[-shift:]) if line else line for line in items_text.splitlines()
        ]
        text = original.rstrip("\n") + "\n" + "\n".join(shifted) + "\n"
    root.write_text(text, encoding="utf-8")
    try:
        if not _reads(root, *check, properties, search_path):
            raise UsageError(f"{root}: the changeSets appended are not read back; give --output-file")
    except (ChangeLogError, UsageError):
        root.write_text(original, encoding="utf-8")
        raise


@dataclass
class GenerateChangelogResult:
    """What ``generate-changelog`` wrote: the changelog, its changeSet ids, the tables it creates, and the CSV
    files of their rows (``--data``)."""

    path: Path
    changesets: list[str]
    tables: list[str]
    data_files: list[Path] = field(default_factory=list)


def generate_changelog(
    url: Database,
    *,
    output_file: str | os.PathLike[str],
    data: bool = False,
    data_output_directory: str | os.PathLike[str] | None = None,
    include: str | None = None,
    exclude: str | None = None,
    author: str | None = None,
    now: Any = None,
) -> GenerateChangelogResult:
    """Write ``output_file`` (a new YAML changelog) that builds the schema of the database ``url`` (only read):
    its tables, keys, indexes, views, sequences and enum types, ordered so they run, each changeSet with its
    rollback. ``include`` / ``exclude`` are regexes an object's whole name must (not) match; yamlbase's,
    Liquibase's and Alembic's own tables are never included. With ``data``, each table's rows go to a CSV file
    (in ``data_output_directory``, else ``data/`` beside the changelog) loaded by a ``loadData`` changeSet."""
    import datetime as dt

    from yamlbase.structure import generate
    from yamlbase.structure.compare import compare
    from yamlbase.structure.model import Schema
    from yamlbase.structure.reflect import reflect

    target = Path(output_file)
    if target.exists():
        raise UsageError(f"{target} exists: generate-changelog writes a new changelog (give another --output-file)")
    if target.suffix.lower() not in (".yaml", ".yml"):
        raise UsageError(f"--output-file {target}: generate-changelog writes YAML (a .yaml or .yml file)")
    for option, pattern in (("--include-objects", include), ("--exclude-objects", exclude)):
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise UsageError(f"{option} {pattern!r} is not a regular expression: {exc}") from None
    _require_database(url)
    folder = Path(data_output_directory) if data_output_directory is not None else target.parent / "data"
    loads: dict[str, dict[str, Any]] = {}
    files: list[Path] = []
    with connect(url, read_only=True) as connection, _bookkeeping_errors(url):
        schema = reflect(connection, include=include, exclude=exclude)
        if data:
            for key, table in schema.tables.items():
                path = folder / f"{key}.csv"
                _export_rows(connection, table, path)
                files.append(path)
                relative = Path(os.path.relpath(path.resolve(), target.resolve().parent)).as_posix()
                loads[key] = generate.change(
                    "loadData",
                    schemaName=table.schema,
                    tableName=table.name,
                    file=relative,
                    relativeToChangelogFile=True,
                )
    empty = Schema(schema.dialect)
    moment = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    entries = generate.changesets(
        compare(empty, schema),
        old=empty,
        new=schema,
        author=author or default_author(),
        message=None,
        now=moment,
        rows=loads,
    )
    _write_new_changelog(target, generate.to_yaml(entries))
    return GenerateChangelogResult(target, [e["changeSet"]["id"] for e in entries], list(schema.tables), files)


def _export_rows(connection: Connection, table: Any, path: Path) -> None:
    """The rows of ``table`` as CSV, as loadData reads it (a header line; NULL for no value; generated columns
    left out), streamed."""
    import csv

    columns = [c.name for c in table.columns if c.computed is None]
    source = sa.table(table.name, *(sa.column(c) for c in columns), schema=table.schema)
    order = [source.c[c] for c in (table.primary_key.columns if table.primary_key else columns[:1])]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            result = connection.execution_options(stream_results=True).execute(sa.select(source).order_by(*order))
            for row in result:
                writer.writerow([_cell(v) for v in row])
    except OSError as exc:
        raise YamlbaseError(f"cannot write {path}: {exc.strerror or exc}") from None


def _cell(value: Any) -> str:
    """One value as loadData reads it back."""
    import base64
    import datetime as dt

    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)
