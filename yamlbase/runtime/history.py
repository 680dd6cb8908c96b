"""DATABASECHANGELOG: what ran, in Liquibase's exact layout, read in one query."""

from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, Dialect

from yamlbase import __version__
from yamlbase.dialects import capabilities
from yamlbase.runtime.sink import Sink

LIQUIBASE_COLUMN = f"yamlbase {__version__}"[:20]


@dataclass
class HistoryRow:
    id: str
    author: str
    filename: str
    date_executed: dt.datetime | None
    order_executed: int
    exec_type: str
    md5sum: str | None
    description: str | None
    comments: str | None
    tag: str | None
    liquibase: str | None
    contexts: str | None
    labels: str | None
    deployment_id: str | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.filename, self.id, self.author)

    @property
    def identifier(self) -> str:
        return f"{self.filename}::{self.id}::{self.author}"


def _name(dialect: str, name: str) -> str:
    return name if capabilities(dialect).upper_case_history else name.lower()


def _bounded(text: str, length: int) -> str:
    return text if len(text) <= length else f"{text[: length - 1]}…"


def new_deployment_id() -> str:
    """Ten digits from the clock, as Liquibase makes them."""
    return str(int(time.time() * 1000))[-10:]


class HistoryTable:
    """The ``DATABASECHANGELOG`` table for one dialect (lower-case names on PostgreSQL, as Liquibase)."""

    def __init__(self, dialect: str, schema: str | None = None) -> None:
        n = lambda s: _name(dialect, s)  # noqa: E731
        self.table = sa.Table(
            n("DATABASECHANGELOG"),
            sa.MetaData(),
            sa.Column(n("ID"), sa.String(255), nullable=False),
            sa.Column(n("AUTHOR"), sa.String(255), nullable=False),
            sa.Column(n("FILENAME"), sa.String(255), nullable=False),
            sa.Column(n("DATEEXECUTED"), sa.DateTime(), nullable=False),
            sa.Column(n("ORDEREXECUTED"), sa.Integer(), nullable=False),
            sa.Column(n("EXECTYPE"), sa.String(10), nullable=False),
            sa.Column(n("MD5SUM"), sa.String(35)),
            sa.Column(n("DESCRIPTION"), sa.String(255)),
            sa.Column(n("COMMENTS"), sa.String(255)),
            sa.Column(n("TAG"), sa.String(255)),
            sa.Column(n("LIQUIBASE"), sa.String(20)),
            sa.Column(n("CONTEXTS"), sa.String(255)),
            sa.Column(n("LABELS"), sa.String(255)),
            sa.Column(n("DEPLOYMENT_ID"), sa.String(10)),
            schema=schema,
        )
        self.c = {col.name.upper(): col for col in self.table.columns}

    def exists(self, connection: Connection) -> bool:
        return sa.inspect(connection).has_table(self.table.name, schema=self.table.schema)

    def create(self, sink: Sink) -> None:
        sink.execute(sa.schema.CreateTable(self.table))

    def read(self, connection: Connection) -> list[HistoryRow]:
        """Every row, in execution order (one query)."""
        c = self.c
        query = sa.select(*self.table.columns).order_by(c["ORDEREXECUTED"], c["DATEEXECUTED"])
        return [HistoryRow(*row) for row in connection.execute(query)]

    def insert(self, sink: Sink, values: dict[str, Any]) -> None:
        row = {self.c[k].name: v for k, v in values.items()}
        if sink.online and len(row) == len(self.c) - 1 and self.c["DATEEXECUTED"].name not in row:
            # One statement for every row, its values bound: SQLAlchemy compiles it once per run.
            sink.execute(self._insert, row)
            return
        row.setdefault(self.c["DATEEXECUTED"].name, sa.func.current_timestamp())
        sink.execute(self.table.insert().values(**row))

    @functools.cached_property
    def _insert(self) -> sa.Insert:
        return self.table.insert().values({self.c["DATEEXECUTED"].name: sa.func.current_timestamp()})

    def rerun(self, sink: Sink, key: tuple[str, str, str], values: dict[str, Any]) -> None:
        """Record that an applied changeSet ran again (runAlways, runOnChange): its row is updated, as in Liquibase."""
        row = {self.c[k].name: v for k, v in values.items() if k not in ("ID", "AUTHOR", "FILENAME")}
        row.setdefault(self.c["DATEEXECUTED"].name, sa.func.current_timestamp())
        sink.execute(self.table.update().where(self._where(key)).values(**row))

    def _where(self, key: tuple[str, str, str]) -> Any:
        filename, id_, author = key
        return sa.and_(self.c["ID"] == id_, self.c["AUTHOR"] == author, self.c["FILENAME"] == filename)

    def delete(self, sink: Sink, key: tuple[str, str, str]) -> None:
        sink.execute(self.table.delete().where(self._where(key)))

    def set_tag(self, sink: Sink, key: tuple[str, str, str], tag: str | None) -> None:
        sink.execute(self.table.update().where(self._where(key)).values({self.c["TAG"].name: tag}))

    def set_checksum(self, sink: Sink, key: tuple[str, str, str], checksum: str) -> None:
        sink.execute(self.table.update().where(self._where(key)).values({self.c["MD5SUM"].name: checksum}))

    def set_filename(self, sink: Sink, key: tuple[str, str, str], filename: str) -> None:
        sink.execute(self.table.update().where(self._where(key)).values({self.c["FILENAME"].name: filename}))


def rename_keyed_rows(table: sa.Table, sink: Sink, key: tuple[str, str, str], filename: str) -> None:
    """Give the row of ``key`` in a yamlbase table keyed by (FILENAME, ID, AUTHOR) the FILENAME ``filename``."""
    c = {col.name.upper(): col for col in table.columns}
    old, id_, author = key
    where = sa.and_(c["FILENAME"] == old, c["ID"] == id_, c["AUTHOR"] == author)
    sink.execute(table.update().where(where).values({c["FILENAME"].name: filename}))


class IncompleteTable:
    """``YAMLBASE_INCOMPLETE``: changeSets that failed part-way on a database whose DDL commits as it runs.

    Not a Liquibase table (Liquibase has no such record; it would re-run the changeSet blindly). While a
    changeSet is listed here, ``update`` refuses to run it and says what took effect and how to go on.
    What is kept of a failure is bounded (MySQL's TEXT holds 65,535 bytes, up to 4 a character), so that
    recording one never fails; the person is shown the whole error when it happens.
    """

    STATEMENT_LENGTH = 1000
    STATEMENTS_LENGTH = 15000
    ERROR_LENGTH = 4000

    def __init__(self, dialect: str, schema: str | None = None) -> None:
        n = lambda s: _name(dialect, s)  # noqa: E731
        self.table = sa.Table(
            n("YAMLBASE_INCOMPLETE"),
            sa.MetaData(),
            sa.Column(n("FILENAME"), sa.String(255), nullable=False),
            sa.Column(n("ID"), sa.String(255), nullable=False),
            sa.Column(n("AUTHOR"), sa.String(255), nullable=False),
            sa.Column(n("DATEFAILED"), sa.DateTime(), nullable=False),
            sa.Column(n("STATEMENTS"), sa.Text(), nullable=False),
            sa.Column(n("ERROR"), sa.Text()),
            schema=schema,
        )
        self.c = {col.name.upper(): col for col in self.table.columns}

    def exists(self, connection: Connection) -> bool:
        return sa.inspect(connection).has_table(self.table.name, schema=self.table.schema)

    def read(self, connection: Connection) -> dict[tuple[str, str, str], tuple[Any, ...]]:
        """(path, id, author) → (date failed, statements that took effect, error)."""
        if not self.exists(connection):
            return {}
        c = self.c
        query = sa.select(c["FILENAME"], c["ID"], c["AUTHOR"], c["DATEFAILED"], c["STATEMENTS"], c["ERROR"])
        return {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in connection.execute(query)}

    def record(
        self, sink: Sink, connection: Connection, key: tuple[str, str, str], statements: list[str], error: str
    ) -> None:
        if not self.exists(connection):
            sink.execute(sa.schema.CreateTable(self.table))
        self.forget(sink, connection, key)
        filename, id_, author = key
        c = self.c
        sink.execute(
            self.table.insert().values(
                {
                    c["FILENAME"].name: filename,
                    c["ID"].name: id_,
                    c["AUTHOR"].name: author,
                    c["DATEFAILED"].name: sa.func.current_timestamp(),
                    c["STATEMENTS"].name: self._statements(statements),
                    c["ERROR"].name: _bounded(error, self.ERROR_LENGTH),
                }
            )
        )

    def _statements(self, statements: list[str]) -> str:
        """``statements`` one a line, each and all of them bounded."""
        kept: list[str] = []
        size = 0
        for i, statement in enumerate(statements):
            line = _bounded(" ".join(statement.split()), self.STATEMENT_LENGTH)
            if size + len(line) > self.STATEMENTS_LENGTH:
                kept.append(f"… and {len(statements) - i} more")
                break
            kept.append(line)
            size += len(line) + 2
        return ";\n".join(kept)

    def forget(self, sink: Sink, connection: Connection, key: tuple[str, str, str]) -> None:
        if self.exists(connection):
            filename, id_, author = key
            c = self.c
            sink.execute(self.table.delete().where(c["FILENAME"] == filename, c["ID"] == id_, c["AUTHOR"] == author))


@dataclass
class JournalRecord:
    """What the journal of a changeSet that was interrupted says: statement ``index`` (0-based, counting the
    statements that write) was running, every one before it took effect, none after it ran."""

    checksum: str | None
    index: int
    statement: str


class JournalTable:
    """``YAMLBASE_JOURNAL``: which statement of a changeSet is running, where statements commit as they run.

    Not a Liquibase table. A changeSet's row is written just before each of its statements that commits (the
    commit writes it with everything before the statement), and deleted in the transaction of its history row;
    so a row left behind says exactly how far an interrupted changeSet got (:mod:`yamlbase.runtime.journal`).
    """

    # The statement text kept: enough to tell it from the others of its changeSet.
    STATEMENT_LENGTH = 2000

    def __init__(self, dialect: str, schema: str | None = None) -> None:
        n = lambda s: _name(dialect, s)  # noqa: E731
        self.table = sa.Table(
            n("YAMLBASE_JOURNAL"),
            sa.MetaData(),
            sa.Column(n("FILENAME"), sa.String(255), nullable=False),
            sa.Column(n("ID"), sa.String(255), nullable=False),
            sa.Column(n("AUTHOR"), sa.String(255), nullable=False),
            sa.Column(n("MD5SUM"), sa.String(35)),
            sa.Column(n("STATEMENTINDEX"), sa.Integer(), nullable=False),
            sa.Column(n("STATEMENT"), sa.Text(), nullable=False),
            sa.Column(n("DATEUPDATED"), sa.DateTime(), nullable=False),
            schema=schema,
        )
        self.c = {col.name.upper(): col for col in self.table.columns}
        # Whether the table exists, once :meth:`read` has looked (or :meth:`create` made it).
        self.present: bool | None = None
        self._compiled: dict[tuple[str, bool], tuple[str, tuple[str, ...] | None]] = {}

    def exists(self, connection: Connection) -> bool:
        return sa.inspect(connection).has_table(self.table.name, schema=self.table.schema)

    def create(self, sink: Sink) -> None:
        sink.execute(sa.schema.CreateTable(self.table))
        self.present = True

    def read(self, connection: Connection) -> dict[tuple[str, str, str], JournalRecord]:
        """(path, id, author) → the journal of each changeSet that was interrupted (one query)."""
        self.present = self.exists(connection)
        if not self.present:
            return {}
        c = self.c
        query = sa.select(c["FILENAME"], c["ID"], c["AUTHOR"], c["MD5SUM"], c["STATEMENTINDEX"], c["STATEMENT"])
        return {(r[0], r[1], r[2]): JournalRecord(r[3], r[4], r[5]) for r in connection.execute(query)}

    # Bound by name (not by column: a SET clause reserves the column names for itself).
    def _key(self) -> Any:
        c = self.c
        return sa.and_(
            c["FILENAME"] == sa.bindparam("j_filename"),
            c["ID"] == sa.bindparam("j_id"),
            c["AUTHOR"] == sa.bindparam("j_author"),
        )

    @functools.cached_property
    def _started(self) -> sa.Insert:
        c = self.c
        return self.table.insert().values(
            {
                c["FILENAME"].name: sa.bindparam("j_filename"),
                c["ID"].name: sa.bindparam("j_id"),
                c["AUTHOR"].name: sa.bindparam("j_author"),
                c["MD5SUM"].name: sa.bindparam("j_checksum"),
                c["STATEMENTINDEX"].name: sa.bindparam("j_index"),
                c["STATEMENT"].name: sa.bindparam("j_statement"),
                c["DATEUPDATED"].name: sa.func.current_timestamp(),
            }
        )

    @functools.cached_property
    def _advanced(self) -> sa.Update:
        c = self.c
        values = {
            c["STATEMENTINDEX"].name: sa.bindparam("j_index"),
            c["STATEMENT"].name: sa.bindparam("j_statement"),
            c["DATEUPDATED"].name: sa.func.current_timestamp(),
        }
        return self.table.update().where(self._key()).values(values)

    @functools.cached_property
    def _forgotten(self) -> sa.Delete:
        return self.table.delete().where(self._key())

    def write(
        self, dialect: Dialect, first: bool, key: tuple[str, str, str], checksum: str | None, index: int, text: str
    ) -> tuple[str, Any]:
        """The SQL and parameters, for the DBAPI of ``dialect``, that set the row of changeSet ``key`` to say that
        statement ``index`` (``text``) is running: made (``first``), or changed. Compiled once per run."""
        if (dialect.name, first) not in self._compiled:
            compiled = (self._started if first else self._advanced).compile(dialect=dialect)
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            self._compiled[dialect.name, first] = (compiled.string, order)
        sql, order = self._compiled[dialect.name, first]
        filename, id_, author = key
        params = {"j_filename": filename, "j_id": id_, "j_author": author, "j_index": index}
        params["j_statement"] = text[: self.STATEMENT_LENGTH]
        if first:
            params["j_checksum"] = checksum
        return sql, ([params[name] for name in order] if order is not None else params)

    def forget(self, sink: Sink, key: tuple[str, str, str]) -> None:
        filename, id_, author = key
        sink.execute(self._forgotten, {"j_filename": filename, "j_id": id_, "j_author": author})


class CaptureTable:
    """``YAMLBASE_ROLLBACK``: the structure destructive changes removed, captured just before they ran.

    Not a Liquibase table. One row per applied changeSet that destroyed something (and has no rollback block),
    written in the transaction of its history row and deleted with it, so ``rollback`` can recreate the
    structure. ``CAPTURED`` is the JSON of :func:`yamlbase.runtime.capture.to_json`.
    """

    def __init__(self, dialect: str, schema: str | None = None) -> None:
        n = lambda s: _name(dialect, s)  # noqa: E731
        self.table = sa.Table(
            n("YAMLBASE_ROLLBACK"),
            sa.MetaData(),
            sa.Column(n("FILENAME"), sa.String(255), nullable=False),
            sa.Column(n("ID"), sa.String(255), nullable=False),
            sa.Column(n("AUTHOR"), sa.String(255), nullable=False),
            sa.Column(n("DATECAPTURED"), sa.DateTime(), nullable=False),
            # MySQL's TEXT stops at 64 KiB: a wide table's description may not.
            sa.Column(n("CAPTURED"), sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")),
            schema=schema,
        )
        self.c = {col.name.upper(): col for col in self.table.columns}

    def exists(self, connection: Connection) -> bool:
        return sa.inspect(connection).has_table(self.table.name, schema=self.table.schema)

    def read(self, connection: Connection, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
        """(path, id, author) → captured JSON, for those of ``keys`` that have a capture (one query)."""
        if not keys or not self.exists(connection):
            return {}
        c = self.c
        wanted = set(keys)
        rows = connection.execute(sa.select(c["FILENAME"], c["ID"], c["AUTHOR"], c["CAPTURED"]))
        return {(r[0], r[1], r[2]): r[3] for r in rows if (r[0], r[1], r[2]) in wanted}

    def record(self, sink: Sink, connection: Connection, key: tuple[str, str, str], captured: str) -> None:
        if not self.exists(connection):
            sink.execute(sa.schema.CreateTable(self.table))
        else:
            self.forget(sink, key)
        filename, id_, author = key
        c = self.c
        sink.execute(
            self.table.insert().values(
                {
                    c["FILENAME"].name: filename,
                    c["ID"].name: id_,
                    c["AUTHOR"].name: author,
                    c["DATECAPTURED"].name: sa.func.current_timestamp(),
                    c["CAPTURED"].name: captured,
                }
            )
        )

    def forget(self, sink: Sink, key: tuple[str, str, str]) -> None:
        filename, id_, author = key
        c = self.c
        sink.execute(self.table.delete().where(c["FILENAME"] == filename, c["ID"] == id_, c["AUTHOR"] == author))
