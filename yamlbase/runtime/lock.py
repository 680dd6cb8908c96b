"""DATABASECHANGELOGLOCK: one row, taken by an atomic conditional UPDATE whose row count decides."""

from __future__ import annotations

import datetime as dt
import os
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


def lock_owner() -> str:
    """LOCKEDBY: who holds the lock (host, pid and this run's id)."""
    return f"{socket.gethostname()} pid={os.getpid()} run={RUN_ID}"[:255]


@dataclass
class LockState:
    locked: bool
    granted: dt.datetime | None
    locked_by: str | None


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

    def try_acquire(self, sink: Sink) -> bool:
        """One atomic attempt. Online, True when this process now holds the lock; offline, rendered."""
        statement = (
            self.table.update()
            .where(self.id == 1, self.locked == sa.false())
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
        """Take the lock, waiting up to ``timeout`` seconds; raises :class:`LockError` naming the holder."""
        deadline = time.monotonic() + timeout
        while True:
            with sink.transaction():
                if self.try_acquire(sink):
                    return
            if time.monotonic() >= deadline or connection is None:
                break
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
        held = self.state(connection) if connection is not None else None
        holder = f"{held.locked_by} since {held.granted}" if held else "another process"
        raise LockError(
            f"DATABASECHANGELOGLOCK is held by {holder}; waited {timeout:g}s. If that process is gone, "
            "run `yamlbase release-locks`."
        )

    def release(self, sink: Sink) -> None:
        sink.execute(
            self.table.update()
            .where(self.id == 1)
            .values({self.locked.name: False, self.granted.name: None, self.by.name: None})
        )
