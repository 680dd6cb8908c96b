"""Where planned statements go: a live connection, or SQL text. One code path for both (DESIGN principle 1).

Both sinks drive an ``alembic.operations.Operations``; Alembic's own ``_exec`` then either executes each
statement or writes it to the output buffer, so ``update-sql`` prints exactly what ``update`` runs.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.operations.ops import AlterColumnOp, DropColumnOp, DropConstraintOp, DropIndexOp, MigrateOperation
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from yamlbase.changes.base import Batch, Change, Halt, HaltRequested, Message, PlanContext, RawSQL, Rows, Step
from yamlbase.dialects import sqlite

if TYPE_CHECKING:
    from yamlbase.runtime.journal import ChangeSetJournal

# Where an ``output`` change's message goes when its target is a log level (Liquibase's names).
_LOG_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "SEVERE": logging.ERROR,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
}
OUTPUT_LOG = logging.getLogger("yamlbase.output")

# Connection.info flag: the transaction being begun will write (SQLite then begins IMMEDIATE).
WRITES = "yamlbase.writes"
# Connection.info flag: statements commit as they run (runInTransaction: false); SQLite then begins nothing.
AUTOCOMMIT = "yamlbase.autocommit"


def raw_text(sql: str) -> sa.TextClause:
    """SQL written by the user as a ``text()`` with no bind parameters: ``:name`` stays literal."""
    return sa.text(sql.replace(":", "\\:"))


class Sink:
    """Runs or renders steps and bookkeeping statements for one dialect."""

    online: bool
    operations: Operations
    # Statements sent to the database since the caller last cleared it (online only).
    executed: list[str]

    @property
    def dialect_name(self) -> str:
        return self.operations.migration_context.dialect.name

    @property
    def context(self) -> PlanContext:
        return PlanContext(self.dialect_name, self.reflection)

    def apply(self, change: Change) -> None:
        """Apply (or render) every step of ``change``."""
        for step in change.operations(self.context):
            self.run(step)

    def run(self, step: Step) -> None:
        """Apply one step of a change."""
        if isinstance(step, RawSQL):
            self.operations.execute(raw_text(step.sql))
        elif isinstance(step, Batch):
            self._recreate(step)
        elif isinstance(step, DropColumnOp) and self.dialect_name in ("mysql", "mariadb"):
            # MySQL refuses to drop a column a foreign key uses; PostgreSQL drops such constraints with it.
            for fk in self._dependents_of_dropped_columns(step.table_name, step.schema, [step], "foreign_keys"):
                self.operations.invoke(DropConstraintOp(fk, step.table_name, type_="foreignkey", schema=step.schema))
            self.operations.invoke(step)
        elif isinstance(step, MigrateOperation):
            self.operations.invoke(step)
        elif isinstance(step, Message):
            self.say(step)
        elif isinstance(step, Halt):
            raise HaltRequested(step.message)
        elif isinstance(step, Rows):
            self.run_rows(step)
        else:  # pragma: no cover - a programming error, not user input
            raise TypeError(f"not a step: {step!r}")

    def _recreate(self, step: Batch) -> None:
        """Alembic's batch mode, as SQLite's own procedure for table schema changes has it: what depends on the
        table is captured first, dropped before the copy and re-created after it (yamlbase.dialects.sqlite)."""
        plan = sqlite.Recreation()
        if self.reflection is not None:
            plan = sqlite.plan_recreation(
                self.reflection,
                step.table_name,
                step.schema,
                self._quote,
                dropped=[op.column_name for op in step.operations if isinstance(op, DropColumnOp)],
                renames=any(isinstance(op, AlterColumnOp) and op.modify_name for op in step.operations),
                checks=step.table_args,
                shaped=step.copy_from,
            )
        # SQLite refuses to drop an indexed column; other databases drop such indexes with it.
        for index in plan.doomed_indexes:
            self.operations.invoke(DropIndexOp(index, table_name=step.table_name, schema=step.schema))
        dropped_here = {op.index_name for op in step.operations if isinstance(op, DropIndexOp)}
        kept = sqlite.Dependents(
            [o for o in plan.dependents.objects if not (o.type == "index" and o.name in dropped_here)],
            step.schema,
        )
        # resolve_fks=False: a foreign key may point at a table that does not exist (yet, or any more).
        with self.operations.batch_alter_table(
            step.table_name,
            schema=step.schema,
            recreate=step.recreate,
            reflect_kwargs={"resolve_fks": False},
            **plan.batch_options(),
        ) as batch:
            for op in step.operations:
                batch.invoke(op)
            recreating = self._recreates(batch.impl)
            touched = {op.column_name for op in step.operations if isinstance(op, (DropColumnOp, AlterColumnOp))}
            for op in plan.regenerate(step.table_name, step.schema, touched) if recreating else []:
                batch.invoke(op)
            for sql in kept.drops(self._quote) if recreating else []:  # before the copy, which runs as the block ends
                self.run(RawSQL(sql))
        if recreating:
            for sql in kept.creates(self._quote):
                self.run(RawSQL(sql))
            for statement in plan.restore_sequence(step.table_name, step.schema):
                self.operations.execute(statement)
            self._check_views(kept.views(), step.schema)

    def _recreates(self, batch: Any) -> bool:
        """Whether Alembic's batch (a ``BatchOperationsImpl``) will recreate its table rather than ALTER it."""
        return bool(
            batch.recreate == "always"
            or (batch.recreate == "auto" and self.operations.impl.requires_recreate_in_batch(batch))
        )

    def _quote(self, name: str) -> str:
        return str(self.operations.migration_context.dialect.identifier_preparer.quote(name))

    def _check_views(self, views: list[str], schema: str | None) -> None:
        """Where the statements ran: each re-created view still works (SQLite checks views only when used)."""

    def run_rows(self, step: Rows) -> None:
        """Bulk data: batches of rows online, one statement per row in SQL output."""
        raise NotImplementedError

    @property
    def reflection(self) -> Connection | None:
        """A connection showing the schema as it is at this point of the plan, if there is one."""
        return None

    def _dependents_of_dropped_columns(
        self, table: str, schema: str | None, operations: list[MigrateOperation], kind: str
    ) -> list[str]:
        """Names of the ``indexes`` or ``foreign_keys`` of ``table`` that use a column ``operations`` drop."""
        dropped = {op.column_name for op in operations if isinstance(op, DropColumnOp)}
        if not dropped or self.reflection is None:
            return []
        inspector = sa.inspect(self.reflection)
        if not inspector.has_table(table, schema=schema):
            return []
        if kind == "indexes":
            found = [(ix["name"], ix["column_names"]) for ix in inspector.get_indexes(table, schema=schema)]
        else:
            found = [(fk["name"], fk["constrained_columns"]) for fk in inspector.get_foreign_keys(table, schema=schema)]
        return [name for name, columns in found if name and dropped & {c for c in columns if c}]

    def execute(self, statement: sa.Executable, parameters: dict[str, Any] | None = None) -> Any:
        """Run (or print) a bookkeeping statement; online, returns the result. ``parameters`` (online only)
        are bound to the statement's own."""
        raise NotImplementedError

    def comment(self, text: str) -> None:
        """A comment in SQL output; nothing online."""

    def say(self, message: Message) -> None:
        """Online: write ``message`` to its target; in SQL output: a comment."""

    def verify_changeset(self) -> None:
        """Checks a changeSet must pass before it commits; raises ValueError saying what is wrong."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    @contextlib.contextmanager
    def autocommit(self) -> Iterator[None]:
        """Each statement commits as it runs (a changeSet with ``runInTransaction: false``)."""
        yield

    @contextlib.contextmanager
    def journaled(self, journal: ChangeSetJournal | None) -> Iterator[None]:
        """Statements run in the block go through ``journal`` (online only; None: as they are)."""
        yield


class ConnectionSink(Sink):
    """Executes on a live connection; each :meth:`transaction` commits or rolls back as a whole."""

    online = True

    def __init__(self, connection: Connection, *, quiet: bool = False) -> None:
        self.connection = connection
        # The SQLite preview's shadow replays changes silently: their messages are the preview's comments.
        self.quiet = quiet
        self.operations = Operations(MigrationContext.configure(connection=connection))
        self.executed = []
        # SQLite with foreign keys enforced: off for each transaction (as SQLite's table recreation needs), so
        # the rows breaking a foreign key are counted before the first step and checked before the commit.
        self._foreign_keys_suspended = False
        self._violations_before: Counter[tuple[str, str]] | None = None
        self._journal: ChangeSetJournal | None = None
        self._hooks: list[tuple[str, Any]] = []
        sa.event.listen(connection, "after_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.executed.append(statement)
        if self._journal is not None:
            self._journal.after()

    @contextlib.contextmanager
    def journaled(self, journal: ChangeSetJournal | None) -> Iterator[None]:
        if journal is None:
            yield
            return
        if not self._hooks:  # set once, until detach()
            # The dialect's hooks around the DBAPI call: the only place that sees every statement just before it
            # runs, and can keep one from running.
            self._hooks = [("do_execute", self._before), ("do_executemany", self._before)]
            self._hooks.append(("do_execute_no_params", self._before_no_params))
            for name, hook in self._hooks:
                sa.event.listen(self.connection.dialect, name, hook)
        self._journal = journal
        try:
            yield
        finally:
            self._journal = None

    def _before(self, _cursor: Any, statement: str, _parameters: Any, context: Any) -> bool:
        """True (the statement is taken as done) for one of this connection's that the journal skips."""
        if self._journal is None or context.root_connection is not self.connection:
            return False  # the dialect may serve other connections (an application's engine)
        return self._journal.before(self.connection.connection.dbapi_connection, context.dialect, statement)

    def _before_no_params(self, cursor: Any, statement: str, context: Any) -> bool:
        return self._before(cursor, statement, None, context)

    def detach(self) -> None:
        """Stop listening to the connection (which may be an application's, used after yamlbase is done)."""
        sa.event.remove(self.connection, "after_cursor_execute", self._record)
        for name, hook in self._hooks:
            sa.event.remove(self.connection.dialect, name, hook)
        self._hooks = []

    def execute(self, statement: sa.Executable, parameters: dict[str, Any] | None = None) -> Any:
        return self.connection.execute(statement, parameters)

    def run_rows(self, step: Rows) -> None:
        """``executemany`` per batch of rows: one round trip per batch, never per row (PostgreSQL: ``COPY``)."""
        # COPY bypasses the journal's hooks.
        if step.copy_into is not None and self.dialect_name == "postgresql" and self._journal is None:
            driver = self.connection.connection.driver_connection
            if type(driver).__module__.partition(".")[0] == "psycopg":  # psycopg 3 (psycopg2 has no cursor.copy)
                self._copy(step, step.copy_into[0], step.copy_into[1], driver)
                return
        batch: list[dict[str, Any]] = []
        for row in step.rows():
            if isinstance(row, sa.Executable):
                if batch:
                    self.connection.execute(step.statement, batch)
                    batch = []
                self.connection.execute(row)
                continue
            batch.append(row)
            if len(batch) >= step.batch_size:
                self.connection.execute(step.statement, batch)
                batch = []
        if batch:
            self.connection.execute(step.statement, batch)

    def _copy(self, step: Rows, table: sa.TableClause, columns: list[str], driver: Any) -> None:
        """PostgreSQL's ``COPY … FROM STDIN`` for plain rows; a row holding SQL expressions runs on its own."""
        preparer = self.connection.dialect.identifier_preparer
        names = ", ".join(preparer.quote(c) for c in columns)
        sql = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
        rows = iter(step.rows())
        # The first row is read before COPY starts: preparing the rows may query the connection (reflection),
        # which it cannot do once it is busy copying.
        first = next(rows, None)
        while first is not None:
            if isinstance(first, sa.Executable):
                self.connection.execute(first)
                first = next(rows, None)
                continue
            self.executed.append(sql)
            with driver.cursor() as cursor, cursor.copy(sql) as copy:
                copy.write_row(list(first.values()))
                first = None
                for row in rows:
                    if isinstance(row, sa.Executable):
                        first = row
                        break
                    copy.write_row(list(row.values()))

    @property
    def reflection(self) -> Connection | None:
        return self.connection

    def say(self, message: Message) -> None:
        if self.quiet:
            return
        target = message.target.upper()
        if target in ("STDOUT", "STDERR"):
            print(message.text, file=sys.stdout if target == "STDOUT" else sys.stderr, flush=True)
        else:
            OUTPUT_LOG.log(_LOG_LEVELS.get(target, logging.WARNING), "%s", message.text)

    def run(self, step: Step) -> None:
        if self._foreign_keys_suspended and self._violations_before is None:
            self._violations_before = sqlite.foreign_key_violations(self.connection)
        super().run(step)

    def _check_views(self, views: list[str], schema: str | None) -> None:
        prefix = f"{self._quote(schema)}." if schema else ""
        for view in views:
            try:
                self.connection.exec_driver_sql(f"SELECT * FROM {prefix}{self._quote(view)} LIMIT 0")
            except sa.exc.DBAPIError as exc:
                raise ValueError(
                    f"view {view} no longer works once its table is recreated ({exc.orig}); "
                    "drop or redefine the view before this change"
                ) from None

    def verify_changeset(self) -> None:
        if self._violations_before is not None:
            try:
                after = sqlite.foreign_key_violations(self.connection)
            except sa.exc.DBAPIError as exc:  # "foreign key mismatch": a reference SQLite cannot check at all
                raise ValueError(f"PRAGMA foreign_key_check failed: {exc.orig}") from None
            message = sqlite.new_violations_message(self._violations_before, after)
            if message:
                raise ValueError(message)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self.connection.in_transaction():
            self.connection.commit()
        self.connection.info[WRITES] = True
        try:
            with self._foreign_keys_off(), self.connection.begin():
                yield
        finally:
            self.connection.info[WRITES] = False

    @contextlib.contextmanager
    def autocommit(self) -> Iterator[None]:
        connection = self.connection
        if connection.in_transaction():
            connection.commit()
        isolation_level = connection.get_execution_options().get("isolation_level", connection.default_isolation_level)
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.info[AUTOCOMMIT] = True
        try:
            with self._foreign_keys_off():
                yield
        finally:
            connection.info[AUTOCOMMIT] = False
            if connection.in_transaction():
                connection.commit()
            connection.execution_options(isolation_level=isolation_level)  # as it was (an application's, maybe)

    @contextlib.contextmanager
    def _foreign_keys_off(self) -> Iterator[None]:
        """On SQLite that enforces foreign keys: enforcement off until the block ends (it can only change outside a
        transaction), so that recreating a referenced table does not delete the rows that reference it."""
        suspended = self.dialect_name == "sqlite" and sqlite.suspend_foreign_keys(self.connection)
        self._foreign_keys_suspended, self._violations_before = suspended, None
        try:
            yield
        finally:
            self._foreign_keys_suspended, self._violations_before = False, None
            if suspended:
                sqlite.restore_foreign_keys(self.connection)


class TextSink(Sink):
    """Renders SQL text for ``dialect_name`` without a server.

    SQLite's table recreation needs the current shape of the table; a private in-memory SQLite
    database (the *shadow*) replays every step so that shape can be reflected at any point.
    """

    online = False

    def __init__(self, dialect_name: str, out: TextIO, *, shadow: Connection | None = None) -> None:
        self.out = out
        self.executed = []
        self.operations = Operations(
            MigrationContext.configure(
                dialect_name=dialect_name,
                opts={"as_sql": True, "output_buffer": out, "literal_binds": True},
                # As Alembic's offline mode: with no bind parameters, '%' in a name must not be doubled.
                dialect_opts={"paramstyle": "named"},
            )
        )
        self.shadow = ConnectionSink(shadow, quiet=True) if shadow is not None else None
        dialect = self.operations.migration_context.dialect
        if dialect.name == "mssql":
            # No server to ask: render for a current SQL Server (VARCHAR(max), DATETIME2, schema dbo).
            dialect.server_version_info = (16, 0)
            dialect.deprecate_large_types = True
            dialect.default_schema_name = "dbo"

    @property
    def reflection(self) -> Connection | None:
        return self.shadow.connection if self.shadow is not None else None

    def run(self, step: Step) -> None:
        if isinstance(step, RawSQL):
            # Written out as the user wrote it: compiling it as text() would double '%' for pyformat drivers.
            impl = self.operations.impl
            sql = step.sql.strip()
            # A terminator after a trailing "-- comment" would be commented out: give it its own line.
            last_line = sql.rsplit("\n", 1)[-1]
            own_line = "\n" if "--" in last_line and impl.command_terminator else ""
            impl.static_output(sql + own_line + impl.command_terminator)
            if getattr(impl, "batch_separator", None):
                impl.static_output(impl.batch_separator)
        else:
            super().run(step)
        if self.shadow is not None:
            # Step by step, so that a later step of the same change (a table recreation) sees what earlier ones
            # did. A statement the shadow cannot run (SQL for another database) only costs later previews detail.
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                if not isinstance(step, Rows):  # the shadow shows the schema: loading data there is wasted
                    self.shadow.run(step)

    def run_rows(self, step: Rows) -> None:
        # Rendered here rather than by Alembic, which turns every tab into spaces (inside string literals too).
        impl = self.operations.impl
        separator = getattr(impl, "batch_separator", None)
        for row in step.rows():
            statement = row if isinstance(row, sa.Executable) else step.row_statement(row)
            compiled = statement.compile(dialect=impl.dialect, compile_kwargs={"literal_binds": True})
            impl.static_output(str(compiled).strip() + impl.command_terminator)
            if separator:
                impl.static_output(separator)

    def execute(self, statement: sa.Executable, parameters: dict[str, Any] | None = None) -> Any:
        self.operations.execute(statement)
        return None

    def say(self, message: Message) -> None:
        self.comment(message.text)

    def comment(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.out.write(f"-- {line}\n".replace("-- \n", "--\n"))
        self.out.write("\n")
