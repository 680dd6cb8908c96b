"""Where planned statements go: a live connection, or SQL text. One code path for both (DESIGN principle 1).

Both sinks drive an ``alembic.operations.Operations``; Alembic's own ``_exec`` then either executes each
statement or writes it to the output buffer, so ``update-sql`` prints exactly what ``update`` runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, TextIO

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.operations.ops import DropColumnOp, DropConstraintOp, DropIndexOp, MigrateOperation
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from yamlbase.changes.base import Batch, Change, PlanContext, RawSQL, Step

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
            # SQLite refuses to drop an indexed column; other databases drop such indexes with it.
            doomed = self._dependents_of_dropped_columns(step.table_name, step.schema, step.operations, "indexes")
            for index in doomed:
                self.operations.invoke(DropIndexOp(index, table_name=step.table_name, schema=step.schema))
            options = self._batch_options(step, doomed)
            if step.copy_from is not None:  # the change shaped the table to copy itself
                options["copy_from"] = step.copy_from
            # resolve_fks=False: a foreign key may point at a table that does not exist (yet, or any more).
            with self.operations.batch_alter_table(
                step.table_name,
                schema=step.schema,
                recreate=step.recreate,
                reflect_kwargs={"resolve_fks": False},
                **options,
            ) as batch:
                for op in step.operations:
                    batch.invoke(op)
        elif isinstance(step, DropColumnOp) and self.dialect_name in ("mysql", "mariadb"):
            # MySQL refuses to drop a column a foreign key uses; PostgreSQL drops such constraints with it.
            for fk in self._dependents_of_dropped_columns(step.table_name, step.schema, [step], "foreign_keys"):
                self.operations.invoke(DropConstraintOp(fk, step.table_name, type_="foreignkey", schema=step.schema))
            self.operations.invoke(step)
        elif isinstance(step, MigrateOperation):
            self.operations.invoke(step)
        else:  # pragma: no cover - a programming error, not user input
            raise TypeError(f"not a step: {step!r}")

    def _batch_options(self, step: Batch, doomed_indexes: list[str]) -> dict[str, Any]:
        return {}

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

    def execute(self, statement: sa.Executable) -> Any:
        """Run (or print) a bookkeeping statement; online, returns the result."""
        raise NotImplementedError

    def comment(self, text: str) -> None:
        """A comment in SQL output; nothing online."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    @contextlib.contextmanager
    def autocommit(self) -> Iterator[None]:
        """Each statement commits as it runs (a changeSet with ``runInTransaction: false``)."""
        yield


class ConnectionSink(Sink):
    """Executes on a live connection; each :meth:`transaction` commits or rolls back as a whole."""

    online = True

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.operations = Operations(MigrationContext.configure(connection=connection))
        self.executed = []

        @sa.event.listens_for(connection, "after_cursor_execute")
        def _record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            self.executed.append(statement)

    def execute(self, statement: sa.Executable) -> Any:
        return self.connection.execute(statement)

    @property
    def reflection(self) -> Connection | None:
        return self.connection

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self.connection.in_transaction():
            self.connection.commit()
        self.connection.info[WRITES] = True
        try:
            with self.connection.begin():
                yield
        finally:
            self.connection.info[WRITES] = False

    @contextlib.contextmanager
    def autocommit(self) -> Iterator[None]:
        connection = self.connection
        if connection.in_transaction():
            connection.commit()
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.info[AUTOCOMMIT] = True
        try:
            yield
        finally:
            connection.info[AUTOCOMMIT] = False
            if connection.in_transaction():
                connection.commit()
            connection.execution_options(isolation_level=connection.default_isolation_level)


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
        self.shadow = ConnectionSink(shadow) if shadow is not None else None
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

    def apply(self, change: Change) -> None:
        super().apply(change)
        if self.shadow is not None:
            # A statement the shadow cannot run (SQL for another database) only costs later previews detail.
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self.shadow.apply(change)

    def _batch_options(self, step: Batch, doomed_indexes: list[str]) -> dict[str, Any]:
        if self.shadow is None:
            return {}
        table = sa.Table(
            step.table_name,
            sa.MetaData(),
            schema=step.schema,
            autoload_with=self.shadow.connection,
            resolve_fks=False,
        )
        for index in [ix for ix in table.indexes if ix.name in doomed_indexes]:
            table.indexes.discard(index)
        return {"copy_from": table}

    def execute(self, statement: sa.Executable) -> Any:
        self.operations.execute(statement)
        return None

    def comment(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.out.write(f"-- {line}\n".replace("-- \n", "--\n"))
        self.out.write("\n")
