"""DATABASECHANGELOG: what ran, in Liquibase's exact layout, read in one query."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

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
        row.setdefault(self.c["DATEEXECUTED"].name, sa.func.current_timestamp())
        sink.execute(self.table.insert().values(**row))

    def _where(self, key: tuple[str, str, str]) -> Any:
        filename, id_, author = key
        return sa.and_(self.c["ID"] == id_, self.c["AUTHOR"] == author, self.c["FILENAME"] == filename)

    def delete(self, sink: Sink, key: tuple[str, str, str]) -> None:
        sink.execute(self.table.delete().where(self._where(key)))

    def set_tag(self, sink: Sink, key: tuple[str, str, str], tag: str) -> None:
        sink.execute(self.table.update().where(self._where(key)).values({self.c["TAG"].name: tag}))

    def set_checksum(self, sink: Sink, key: tuple[str, str, str], checksum: str) -> None:
        sink.execute(self.table.update().where(self._where(key)).values({self.c["MD5SUM"].name: checksum}))
