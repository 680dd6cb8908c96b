"""One function per command. The CLI is a thin layer over these; they are the Python API too."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import signal
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.engine.url import URL

from yamlbase import DISTRIBUTION
from yamlbase.changelog import ChangeLog, ChangeSet, Selection, filters, parse_changelog
from yamlbase.changes import Change
from yamlbase.changes.base import HaltRequested
from yamlbase.changes.captured import notes
from yamlbase.config import DEFAULT_LOCK_TIMEOUT
from yamlbase.dialects import DIALECT_NAMES, capabilities
from yamlbase.errors import (
    ChangeLogError,
    ChangeLogStopped,
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
    new_deployment_id,
)
from yamlbase.runtime.lock import ChangeLogLock, LockState
from yamlbase.runtime.sink import AUTOCOMMIT, WRITES, ConnectionSink, Sink, TextSink

Report = Callable[[str], None]
log = logging.getLogger("yamlbase")


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


def parse_url(url: str) -> URL:
    """A SQLAlchemy URL; plain ``postgresql://`` uses psycopg 3 (the driver yamlbase installs)."""
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        raise UsageError(f"not a database URL: {_mask_password(url)!r}") from None
    if parsed.drivername in _DRIVERS:
        parsed = parsed.set(drivername=_DRIVERS[parsed.drivername])
    return parsed


_SECRET_QUERY_KEYS = ("password", "passwd", "pwd")


def safe_url(url: str | URL) -> str:
    """The URL with its password hidden (also one given as a query parameter), for messages."""
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
    """Hide ``:password@`` in a string that is not a valid URL (so SQLAlchemy cannot do it)."""
    return re.sub(r"(^|//)([^:/@]*):[^@]*@", r"\1\2:***@", text)


# What to install when a database's driver is missing (tests/unit/test_project.py holds it to pyproject.toml).
DRIVER_INSTALL_HINT = (
    f"pip install '{DISTRIBUTION}[postgresql]' for PostgreSQL, '{DISTRIBUTION}[mysql]' for MySQL/MariaDB"
)


def create_engine(url: str) -> Engine:
    """An engine for ``url``. SQLite gets real transactions around DDL (pysqlite's default skips them)."""
    parsed = parse_url(url)
    # SQLite: wait for a busy database rather than fail at once (several instances may start together).
    connect_args = {"timeout": 60} if parsed.get_backend_name() == "sqlite" else {}
    try:
        engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool, connect_args=connect_args)
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise DatabaseError(f"no database driver for {safe_url(parsed)}: {exc}. {DRIVER_INSTALL_HINT}") from None
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # A writing transaction takes the write lock up front (IMMEDIATE): a deferred one that later
            # writes fails with "database is locked" at once instead of waiting. Reads stay deferred, so
            # they do not queue behind writers.
            if not conn.info.get(AUTOCOMMIT):
                conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get(WRITES) else "BEGIN")

    return engine


@contextlib.contextmanager
def connect(url: str) -> Iterator[Connection]:
    """A connection to ``url``, or a :class:`DatabaseError` saying why there is none."""
    engine = create_engine(url)
    try:
        try:
            connection = engine.connect()
        except sa.exc.DBAPIError as exc:
            raise DatabaseError(f"cannot connect to {safe_url(url)}: {_db_message(exc)}") from None
        with connection:
            yield connection
    finally:
        engine.dispose()


def _db_message(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return " ".join(str(orig if orig is not None else exc).split())


def _sqlite_file_missing(url: str) -> bool:
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    return database not in ("", ":memory:") and not database.startswith("file:") and not Path(database).exists()


def _require_database(url: str) -> None:
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
            self._models[dbms] = parse_changelog(self.path, selection=selection, properties=self.properties)
        return self._models[dbms]

    def for_url(self, url: str) -> ChangeLog:
        """Parsed before connecting, so a bad changelog is reported whatever the database's state."""
        return self.load(parse_url(url).get_backend_name())


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
def _bookkeeping_errors(url: str) -> Iterator[None]:
    """A database error outside a changeSet's statements (history, lock, reflection) said in one paragraph."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        statement = " ".join((exc.statement or "").split())
        where = f" (while running: {statement[:200]}{'…' if len(statement) > 200 else ''})" if statement else ""
        raise DatabaseError(f"database error on {safe_url(url)}: {_db_message(exc)}{where}") from exc


@contextlib.contextmanager
def _online(url: str) -> Iterator[Target]:
    with connect(url) as connection, _bookkeeping_errors(url):
        name = connection.dialect.name
        yield Target(ConnectionSink(connection), connection, HistoryTable(name), ChangeLogLock(name))


@contextlib.contextmanager
def _preview(url: str | None, dialect: str | None, out: TextIO) -> Iterator[Target]:
    """A text target. With a reachable ``url``, the database's state is read (never written)."""
    if url is None or _sqlite_file_missing(url):
        name = dialect or (parse_url(url).get_backend_name() if url else "sqlite")
        with _shadow(name, None) as shadow:
            yield Target(TextSink(name, out, shadow=shadow), None, HistoryTable(name), ChangeLogLock(name))
        return
    with connect(url) as connection, _bookkeeping_errors(url):
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


_READ_ONLY = re.compile(r"\s*(SELECT|SHOW|DESCRIBE|DESC|EXPLAIN|PRAGMA)\b", re.IGNORECASE)


def _apply_changes(
    target: Target, cs: ChangeSet, changes: list[Change], *, capture_drops: bool = False
) -> dict[int, dict[str, Any]]:
    """Run ``changes`` for ``cs``; any failure becomes a :class:`MigrationError` naming the changeSet.

    With ``capture_drops`` (a live database), what each destructive change destroys is reflected just before
    it runs; returns those captures by the change's position.

    Where DDL commits as it runs (MySQL/MariaDB, Oracle), the error lists the statements that already
    took effect, since no rollback will undo them.
    """
    sink = target.sink
    sink.executed.clear()
    captured: dict[int, dict[str, Any]] = {}
    try:
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
            except Exception as exc:  # Alembic/SQLAlchemy refusing to build a statement: the changeSet's failure
                raise MigrationError(cs.identifier, None, f"{change.name}: {exc}") from exc
        try:
            sink.verify_changeset()
        except ValueError as exc:
            raise MigrationError(cs.identifier, None, str(exc)) from exc
    except MigrationError as error:
        if sink.online and not capabilities(sink.dialect_name).transactional_ddl:
            # Reads (the reflection some changes need) changed nothing: only writes are listed.
            error.took_effect = [s for s in sink.executed if s != error.statement and not _READ_ONLY.match(s)]
        raise
    return captured


def _run_update(
    target: Target,
    changelog: ChangeLog,
    *,
    count: int | None,
    to_tag: str | None,
    lock_timeout: float,
    report: Report,
) -> list[ChangeSet]:
    sink, history = target.sink, target.history
    with target.locked(lock_timeout):
        rows = target.rows()
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
        refused = plan.inexpressible(todo, sink.dialect_name)
        if refused:  # before anything runs: the database could not do it as written
            raise ChangeLogError(refused)
        incomplete = target.incomplete_records()
        blocked = [cs for cs in todo if cs.key in incomplete]
        if blocked:
            raise IncompleteChangeSetError(_incomplete_message(blocked[0], incomplete[blocked[0].key]))
        order = max((row.order_executed for row in rows), default=0)
        deployment = new_deployment_id()
        gate = preconditions.Gate(sink, target.reader, set(applied), changelog.properties)
        gate.check_changelog(changelog.preconditions)
        done: list[ChangeSet] = []
        for cs in todo:
            StopRequest.check(len(done))
            exec_type = "RERAN" if cs.key in applied else "EXECUTED"
            sink.comment(f"Changeset {cs.identifier}" + (f"\n{cs.comment}" if cs.comment else ""))
            action = gate.check(cs)
            if action == "skip":
                continue
            order += 1
            if action == "mark_ran":
                with sink.transaction():
                    _record_run(target, cs, order, deployment, "MARK_RAN", existing=cs.key in applied)
                gate.ran.add(cs.key)
                continue
            # Only a live run captures what a change destroys, and only when no rollback block undoes it.
            drops = sink.online and cs.rollback is None
            try:
                if cs.run_in_transaction or not sink.online:
                    with sink.transaction():
                        captured = _apply_changes(target, cs, cs.changes, capture_drops=drops)
                        _record_captures(target, cs, captured)
                        _record_run(target, cs, order, deployment, exec_type)
                else:
                    with sink.autocommit():  # runInTransaction: false (CREATE INDEX CONCURRENTLY, VACUUM, …)
                        captured = _apply_changes(target, cs, cs.changes, capture_drops=drops)
                    with sink.transaction():
                        _record_captures(target, cs, captured)
                        _record_run(target, cs, order, deployment, exec_type)
            except MigrationError as error:
                if error.took_effect and target.reader is not None:
                    with sink.transaction():
                        target.incomplete.record(sink, target.reader, cs.key, error.took_effect, error.cause)
                if cs.fail_on_error:
                    raise
                # failOnError: false — Liquibase logs it and goes on; the changeSet stays pending.
                order -= 1
                log.warning("%s failed and was left pending (failOnError: false): %s", cs.identifier, error)
                continue
            gate.ran.add(cs.key)
            done.append(cs)
            report(cs.identifier)
    return done


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
        rows = select(target.rows())
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
) -> ChangeLog:
    """Parse and validate the changelog; raises ChangeLogError listing every problem. With ``dialect``, also
    every change that database cannot express."""
    _check_dialect(dialect)
    model = _Source(changelog, properties=properties).load(dialect)
    if dialect is not None:
        refused = plan.inexpressible(model.changesets, dialect)
        if refused:
            raise ChangeLogError(refused)
    return model


def update(
    url: str,
    changelog: str | os.PathLike[str],
    *,
    count: int | None = None,
    to_tag: str | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    report: Report = _quiet,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> list[ChangeSet]:
    """Apply pending changeSets (all, the next ``count``, or up to ``to_tag``); returns those applied.

    ``contexts`` and ``label_filter`` select changeSets as Liquibase's ``--contexts`` / ``--label-filter`` do;
    ``properties`` are ``${name}`` values (``-D``).
    """
    source = _Source(changelog, contexts, label_filter, properties)
    model = source.for_url(url)
    with _online(url) as target:
        model = source.load(target.sink.dialect_name)
        return _run_update(target, model, count=count, to_tag=to_tag, lock_timeout=lock_timeout, report=report)


def update_sql(
    url: str | None,
    changelog: str | os.PathLike[str],
    *,
    dialect: str | None = None,
    count: int | None = None,
    to_tag: str | None = None,
    out: TextIO | None = None,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> str:
    """The SQL ``update`` would run, bookkeeping included. With no ``url``, as for an empty ``dialect`` database."""
    _check_dialect(dialect)
    source = _Source(changelog, contexts, label_filter, properties)
    # Read before connecting (a bad changelog is reported whatever the database); once, in the usual case.
    source.load(dialect or (parse_url(url).get_backend_name() if url else "sqlite"))
    buffer = out or io.StringIO()
    with _preview(url, dialect, buffer) as target:
        model = source.load(target.sink.dialect_name)
        target.sink.comment(f"Update Database Script\nChange Log: {model.path}\nDialect: {target.sink.dialect_name}")
        _run_update(target, model, count=count, to_tag=to_tag, lock_timeout=0, report=_quiet)
    return buffer.getvalue() if out is None else ""


def rollback(
    url: str,
    changelog: str | os.PathLike[str],
    *,
    tag: str | None = None,
    count: int | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    report: Report = _quiet,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> list[HistoryRow]:
    """Undo changeSets applied after ``tag`` (or the last ``count``), newest first; returns the rows undone."""
    select = _selector(tag, count)
    source = _Source(changelog, contexts, label_filter, properties)
    model = source.for_url(url)
    _require_database(url)
    with _online(url) as target:
        model = source.load(target.sink.dialect_name)
        return _run_rollback(target, model, select, lock_timeout=lock_timeout, report=report)


def update_testing_rollback(
    url: str,
    changelog: str | os.PathLike[str],
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    report: Report = _quiet,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> list[ChangeSet]:
    """Apply each pending changeSet, roll it back, compare the reflected schema with the one before it, and apply
    it again; returns those applied. A rollback that leaves another schema raises :class:`RollbackMismatchError`
    naming the changeSet and the difference (that changeSet is then left rolled back)."""
    from yamlbase.runtime.snapshot import difference, snapshot, snapshot_objects

    source = _Source(changelog, contexts, label_filter, properties)
    model = source.for_url(url)  # changeSets for another dbms are left out, as by update
    done: list[ChangeSet] = []
    with _online(url) as target:
        reader = target.reader
        assert reader is not None
        model = source.load(target.sink.dialect_name)

        def picture() -> tuple[dict[str, Any], dict[str, Any]]:
            """Tables in detail, and views, sequences, routines and comments."""
            return snapshot(reader, details=True), snapshot_objects(reader)

        def apply_next() -> list[ChangeSet]:
            return _run_update(target, model, count=1, to_tag=None, lock_timeout=lock_timeout, report=_quiet)

        while True:
            before, objects_before = picture()
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
            after, objects_after = picture()
            lines = difference(before, after) + [
                f"{kind}: was {objects_before[kind]}, is {objects_after[kind]}"
                for kind in sorted(objects_before)
                if objects_before[kind] != objects_after.get(kind)
            ]
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
    url: str,
    changelog: str | os.PathLike[str],
    *,
    tag: str | None = None,
    count: int | None = None,
    out: TextIO | None = None,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> str:
    """The SQL ``rollback`` would run; reads the history from ``url`` and changes nothing."""
    select = _selector(tag, count)
    source = _Source(changelog, contexts, label_filter, properties)
    model = source.for_url(url)
    buffer = out or io.StringIO()
    _require_database(url)
    with _preview(url, None, buffer) as target:
        model = source.load(target.sink.dialect_name)
        target.sink.comment(f"Rollback Database Script\nChange Log: {model.path}")
        _run_rollback(target, model, select, lock_timeout=0, report=_quiet)
    return buffer.getvalue() if out is None else ""


def status(
    url: str,
    changelog: str | os.PathLike[str],
    *,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> list[ChangeSet]:
    """The changeSets ``update`` would apply."""
    source = _Source(changelog, contexts, label_filter, properties)
    model = source.for_url(url)
    if _sqlite_file_missing(url):
        return plan.pending(model, {})
    with _online(url) as target:
        model = source.load(target.sink.dialect_name)
        return plan.pending(model, {row.key: row for row in target.rows()})


def history(url: str) -> list[HistoryRow]:
    """What ran, in execution order."""
    if _sqlite_file_missing(url):
        return []
    with _online(url) as target:
        return target.rows()


def tag(url: str, name: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> HistoryRow:
    """Tag the current state: sets TAG on the most recently executed changeSet's row."""
    _require_database(url)
    with _online(url) as target, target.locked(lock_timeout):
        rows = target.rows()
        if not rows:
            raise YamlbaseError("nothing has been applied yet, so there is nothing to tag")
        last = rows[-1]
        with target.sink.transaction():
            target.history.set_tag(target.sink, last.key, name)
        last.tag = name
        return last


def tag_exists(url: str, name: str) -> bool:
    """Whether some history row carries tag ``name``."""
    return any(row.tag == name for row in history(url))


def release_locks(url: str) -> None:
    """Unconditionally release DATABASECHANGELOGLOCK (for a lock left by a process that is gone)."""
    _require_database(url)
    with _online(url) as target:
        if target.reader is not None and target.lock.exists(target.reader):
            with target.sink.transaction():
                target.lock.release(target.sink)


def list_locks(url: str) -> LockState | None:
    """The lock row's state (with whether its holder is still alive, where that can be told), or None
    when the lock table does not exist."""
    if _sqlite_file_missing(url):
        return None
    with _online(url) as target:
        if target.reader is None or not target.lock.exists(target.reader):
            return None
        state = target.lock.state(target.reader)
        if state is not None:
            state.alive = target.lock.holder_alive(target.reader, state)
        return state


def mark_next_changeset_ran(
    url: str,
    changelog: str | os.PathLike[str],
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> ChangeSet | None:
    """Record the next pending changeSet as run (EXECTYPE MARK_RAN) without running it; returns it, or None."""
    source = _Source(changelog, contexts, label_filter, properties)
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
        return cs


def clear_incomplete(url: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> list[str]:
    """Forget that changeSets stopped part-way (their statements were undone by hand); returns their names."""
    _require_database(url)
    with _online(url) as target, target.locked(lock_timeout):
        records = target.incomplete.read(target.reader) if target.reader is not None else {}
        with target.sink.transaction():
            for key in records:
                target.incomplete.forget(target.sink, target.reader, key)  # type: ignore[arg-type]
        return ["::".join(key) for key in records]


def _check_dialect(dialect: str | None) -> None:
    if dialect is not None and dialect not in DIALECT_NAMES:
        raise UsageError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECT_NAMES)}")
