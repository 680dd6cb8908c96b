"""The two references ``check`` and ``diff-changelog`` compare: the schema a changelog builds and the schema models
declare, each built on a private scratch database and reflected from it.

Both sides go through the same kind of database (in-memory SQLite by default; ``dev_url`` for a scratch database
of the production dialect, as Atlas's dev database), so types and defaults are spelled by that database on both
sides and nothing differs that it would not tell apart. A ``dev_url`` database must be empty, and is left empty.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from yamlbase.errors import DatabaseError, UsageError
from yamlbase.structure.model import Schema
from yamlbase.structure.reflect import reflect, stored_routines

if TYPE_CHECKING:
    from yamlbase.changelog.search_path import SearchPathLike


def changelog_schema(
    changelog: str | os.PathLike[str],
    *,
    dev_url: str | sa.URL | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPathLike | None = None,
    contexts: str | Iterable[str] | None = None,
    label_filter: str | None = None,
) -> Schema:
    """The schema ``changelog`` builds: every changeSet (those ``contexts`` and ``label_filter`` select, as for
    ``update``) replayed on a scratch database (in-memory SQLite, or the empty database ``dev_url``, emptied
    again afterwards), then reflected."""
    from yamlbase import commands

    with scratch(dev_url) as connection:
        commands.update(
            connection,
            changelog,
            properties=properties,
            contexts=contexts,
            label_filter=label_filter,
            search_path=search_path,
        )
        return reflect(connection)


def models_schema(
    metadata: sa.MetaData,
    *,
    dialect: str = "sqlite",
    dev_url: str | sa.URL | None = None,
) -> Schema:
    """The schema ``metadata`` declares, as ``metadata.create_all`` builds it on a scratch database of ``dialect``
    (in-memory SQLite, or the empty database ``dev_url``, whose dialect wins; emptied again afterwards)."""
    if dev_url is None and dialect != "sqlite":
        raise UsageError(
            f"the models' schema on {dialect} needs a scratch database of it: give --dev-url (an empty database "
            "yamlbase may create objects in and empties again)"
        )
    with scratch(dev_url) as connection:
        with connection.begin():
            metadata.create_all(connection)
        return reflect(connection)


@contextlib.contextmanager
def scratch(dev_url: str | sa.URL | None = None) -> Iterator[Connection]:
    """A connection to an empty database: a private in-memory SQLite one, or ``dev_url``, which must be empty
    (a :class:`UsageError` when it is not) and is emptied again on the way out, whatever happened."""
    from yamlbase import commands

    with commands.connect(dev_url or "sqlite://") as connection:
        if dev_url is not None:
            found = _objects(connection)
            if found:
                shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
                raise UsageError(
                    f"--dev-url {commands.safe_url(dev_url)} is not empty ({shown}): it must be a scratch database "
                    "that yamlbase may fill and empty again, never one whose contents matter"
                )
        try:
            yield connection
        finally:
            if connection.in_transaction():
                connection.rollback()
            if dev_url is not None:
                _empty(connection)


def _objects(connection: Connection) -> list[str]:
    """Everything in the connection's default schema (bookkeeping tables included), as ``kind name``."""
    inspector = sa.inspect(connection)
    dialect = connection.dialect
    found = [f"table {n}" for n in inspector.get_table_names()]
    found += [f"view {n}" for n in inspector.get_view_names()]
    if dialect.supports_sequences:
        found += [f"sequence {n}" for n in inspector.get_sequence_names()]
    found += [f"type {n}" for n in _types(connection)]
    found += [f"{r.kind.lower()} {r.name}" for r in stored_routines(connection).values()]
    if connection.in_transaction():
        connection.rollback()
    return found


def _types(connection: Connection) -> list[str]:
    if connection.dialect.name != "postgresql":
        return []
    return list(
        connection.execute(
            sa.text(
                "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                "WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd', 'c') "
                "AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid AND c.relkind <> 'c')"
            )
        ).scalars()
    )


def _empty(connection: Connection) -> None:
    """Drop everything in the connection's default schema (views, tables, sequences, types, routines)."""
    dialect = connection.dialect
    q = dialect.identifier_preparer.quote
    cascade = " CASCADE" if dialect.name == "postgresql" else ""
    try:
        if dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")  # (outside a transaction, or it does nothing)
            connection.commit()
        with connection.begin():
            if dialect.name in ("mysql", "mariadb"):
                connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
            inspector = sa.inspect(connection)
            views = inspector.get_view_names()
            tables = inspector.get_table_names()
            sequences = inspector.get_sequence_names() if dialect.supports_sequences else []
            for name in views:
                connection.exec_driver_sql(f"DROP VIEW IF EXISTS {q(name)}{cascade}")
            for name in tables:
                connection.exec_driver_sql(f"DROP TABLE IF EXISTS {q(name)}{cascade}")
            for name in sequences:
                connection.exec_driver_sql(f"DROP SEQUENCE IF EXISTS {q(name)}{cascade}")
            for name in _types(connection):
                connection.exec_driver_sql(f"DROP TYPE IF EXISTS {q(name)} CASCADE")
            for routine in stored_routines(connection).values():
                connection.exec_driver_sql(f"DROP {routine.kind} IF EXISTS {q(routine.name)}{cascade}")
            if dialect.name in ("mysql", "mariadb"):
                connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
    except sa.exc.DBAPIError as exc:
        raise DatabaseError(f"could not empty the scratch database again: {exc.orig}") from None
