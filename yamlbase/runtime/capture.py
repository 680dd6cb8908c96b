"""What a destructive change is about to destroy, reflected just before it runs, as JSON (rollbacks beyond Liquibase).

The JSON of one change (``capture()``) is::

    {"format": 1, "dialect": "postgresql",
     "tables": {"[schema.]name": TABLE, …},      # every table an object of the change belongs to
     "views": {"[schema.]name": {"schema", "name", "definition" (as the database reports it: SQLite's
               CREATE VIEW, PostgreSQL's query, MySQL's SHOW CREATE VIEW), "options" (PostgreSQL's
               check_option=…, security_barrier=…), "comment"}, …},
     "sequences": {"[schema.]name": SEQUENCE, …},  # only when the change drops a sequence
     "procedures": {"[schema.]name": {"schema", "name", "definitions" (each a whole CREATE statement, as
                    PostgreSQL's pg_get_functiondef or MySQL's SHOW CREATE PROCEDURE give it)}, …},
     "referencing": {"[schema.]name": [FOREIGN KEY + "table", "schema"], …}}  # foreign keys to a table that
                                                                           # ``DROP … CASCADE`` drops with it

    TABLE = {"schema", "name", "comment",
             "columns": [{"name", "type" (SQL text for this dialect), "nullable", "default" (SQL text),
                          "autoincrement", "identity" ({"always", "start", "increment"} or null),
                          "computed" ({"sqltext", "persisted"} or null), "comment"}, …],
             "primary_key": {"name", "columns"} or null,
             "foreign_keys": [{"name", "columns", "referred_schema", "referred_table", "referred_columns",
                               "ondelete", "onupdate", "deferrable", "initially"}, …],
             "unique": [{"name", "columns"}, …],
             "checks": [{"name", "sqltext"}, …],
             "indexes": [{"name", "columns", "expressions", "unique", "constraint" (it backs a unique
                          constraint or, on MySQL, a foreign key), "options"}, …]}

    SEQUENCE = {"schema", "name", "defaults" (PostgreSQL: the column defaults that use it, which DROP SEQUENCE …
                CASCADE drops: {"schema", "table", "column", "default"}), "owned_by" ({"schema", "table",
                "column"} or null), "data_type" (PostgreSQL) or null, "start", "increment", "min", "max",
                "cache", "cycle", "restart" (null when it would start at its start value, else {"value", "used"}:
                on PostgreSQL its last_value and is_called — the last value given out or cached, ``used``, or
                the value it was restarted at; on MariaDB the first value not cached, to go on from, or its
                bound, ``used``, when it had run out, and "round", its cycle_count)} or
               {"schema", "name", "unsupported": reason} where yamlbase cannot read a sequence's settings

One capture per change, keyed by the change's position in its changeSet, is stored in ``YAMLBASE_ROLLBACK``
(:class:`yamlbase.runtime.history.CaptureTable`) in the transaction that records the changeSet.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.engine.reflection import Inspector

from yamlbase.changes.base import ObjectRef, qualified
from yamlbase.structure import reflect
from yamlbase.structure.model import ForeignKey, Index, Table

FORMAT = 1

# Kinds of object that live in a table: capturing one captures its whole table.
TABLE_KINDS = frozenset(
    {
        "table",
        "column",
        "index",
        "primaryKey",
        "foreignKey",
        "uniqueConstraint",
        "checkConstraint",
        "notNull",
        "default",
        "columnType",
    }
)
# Where DROP TABLE … CASCADE also drops the foreign keys of other tables that reference the table.
CASCADE_DROPS_REFERENCES = frozenset({"postgresql", "oracle"})


def capture(connection: Connection, refs: Iterable[ObjectRef]) -> dict[str, Any]:
    """Reflect the objects ``refs`` name (and, for table-level objects, their whole table) as a JSON document.

    An object that does not exist is left out: the change will fail on it anyway, or there is nothing to restore.
    """
    inspector = sa.inspect(connection)
    dialect = connection.dialect
    result: dict[str, Any] = {"format": FORMAT, "dialect": dialect.name, "tables": {}, "views": {}, "referencing": {}}
    for ref in refs:
        if ref.kind in TABLE_KINDS:
            table = ref.name if ref.kind == "table" else ref.table
            if table is None and ref.kind == "index":
                table = _table_of_index(inspector, ref.schema, ref.name)
            key = qualified(ref.schema, table) if table else None
            if key and key not in result["tables"] and inspector.has_table(table, schema=ref.schema):
                result["tables"][key] = reflect_table(connection, ref.schema, table)  # type: ignore[arg-type]
        elif ref.kind == "view":
            if ref.name in inspector.get_view_names(schema=ref.schema):
                result["views"][qualified(ref.schema, ref.name)] = reflect_view(connection, ref.schema, ref.name)
        elif ref.kind == "sequence":
            sequence = reflect_sequence(connection, ref.schema, ref.name)
            if sequence is not None:
                result.setdefault("sequences", {})[qualified(ref.schema, ref.name)] = sequence
        elif ref.kind == "procedure":
            procedure = reflect_procedure(connection, ref.schema, ref.name)
            if procedure is not None:
                result.setdefault("procedures", {})[qualified(ref.schema, ref.name)] = procedure
        elif ref.kind == "referencingForeignKeys":
            if dialect.name in CASCADE_DROPS_REFERENCES:
                result["referencing"][qualified(ref.schema, ref.name)] = _referencing(inspector, ref.schema, ref.name)
        else:
            raise ValueError(f"cannot capture an object of kind {ref.kind!r}")
    return result


def to_json(captures: dict[int, dict[str, Any]]) -> str:
    """The text stored for one changeSet: each change's capture under its position in the changeSet."""
    return json.dumps({str(i): c for i, c in sorted(captures.items())}, sort_keys=True, default=str)


def from_json(text: str) -> dict[int, dict[str, Any]]:
    return {int(i): c for i, c in json.loads(text).items()}


def _table_of_index(inspector: Inspector, schema: str | None, index: str) -> str | None:
    """The table an index belongs to, for a ``dropIndex`` that does not name it (PostgreSQL, SQLite)."""
    for table in inspector.get_table_names(schema=schema):
        if any(ix["name"] == index for ix in inspector.get_indexes(table, schema=schema)):
            return table
    return None


def _referencing(inspector: Inspector, schema: str | None, table: str) -> list[dict[str, Any]]:
    """The foreign keys of other tables that reference ``table`` (one query where the dialect allows)."""
    found = []
    for (fk_schema, fk_table), fks in inspector.get_multi_foreign_keys(schema=schema).items():
        for fk in fks:
            if fk["referred_table"] == table and fk_table != table and fk.get("referred_schema") in (None, schema):
                found.append({"table": fk_table, "schema": fk_schema, **_foreign_key(reflect.foreign_key(fk))})
    return found


def _foreign_key(fk: ForeignKey) -> dict[str, Any]:
    return {
        "name": fk.name,
        "columns": list(fk.columns),
        "referred_schema": fk.referred_schema,
        "referred_table": fk.referred_table,
        "referred_columns": list(fk.referred_columns),
        "ondelete": fk.ondelete,
        "onupdate": fk.onupdate,
        "deferrable": fk.deferrable,
        "initially": fk.initially,
    }


def _index(ix: Index, t: Table, dialect: sa.Dialect, *, constraint: bool) -> dict[str, Any]:
    names = {c.name for c in t.columns}
    expressions = any(c not in names for c in ix.columns)
    options: dict[str, Any] = {k: list(v) if isinstance(v, tuple) else v for k, v in ix.options}
    if ix.where is not None and dialect.name == "postgresql":
        options["postgresql_where"] = ix.where
    return {
        "name": ix.name,
        "columns": [c if c in names else None for c in ix.columns],
        "expressions": list(ix.columns) if expressions else None,
        "unique": ix.unique,
        "constraint": constraint,
        "options": options,
    }


def table_json(t: Table, dialect: sa.Dialect) -> dict[str, Any]:
    """One reflected table as described in this module's docstring."""
    typeless = "" if dialect.name == "sqlite" else None  # a type SQLAlchemy does not know is stored as null
    return {
        "schema": t.schema,
        "name": t.name,
        "comment": t.comment,
        "columns": [
            {
                "name": c.name,
                "type": c.type or typeless,
                "nullable": c.nullable,
                "default": c.default,
                "autoincrement": c.autoincrement,
                "identity": dataclasses.asdict(c.identity) if c.identity else None,
                "computed": dataclasses.asdict(c.computed) if c.computed else None,
                "comment": c.comment,
            }
            for c in t.columns
        ],
        "primary_key": {"name": t.primary_key.name, "columns": list(t.primary_key.columns)} if t.primary_key else None,
        "foreign_keys": [_foreign_key(fk) for fk in t.foreign_keys],
        "unique": [{"name": u.name, "columns": list(u.columns)} for u in t.unique_constraints],
        "checks": [{"name": ck.name, "sqltext": ck.sqltext} for ck in t.checks],
        "indexes": [_index(ix, t, dialect, constraint=False) for ix in t.indexes]
        + [_index(ix, t, dialect, constraint=True) for ix in t.constraint_indexes],
    }


def reflect_table(connection: Connection, schema: str | None, name: str) -> dict[str, Any]:
    """One table as described in this module's docstring (reflected by :func:`yamlbase.structure.reflect.tables`)."""
    found = reflect.tables(sa.inspect(connection), connection.dialect, schema, [name], connection=connection)
    return table_json(found[qualified(schema, name)], connection.dialect)


def reflect_view(connection: Connection, schema: str | None, name: str) -> dict[str, Any]:
    """A view's definition as the database reports it, with PostgreSQL's view options and its comment."""
    v = reflect.view(connection, schema, name)
    return {
        "schema": v.schema,
        "name": v.name,
        "definition": v.definition,
        "options": list(v.options),
        "comment": v.comment,
    }


def reflect_sequence(connection: Connection, schema: str | None, name: str) -> dict[str, Any] | None:
    """A sequence's settings (:func:`yamlbase.structure.reflect.sequences`) and where it stood (None when there is
    no such sequence)."""
    dialect = connection.dialect
    found: dict[str, Any] = {"schema": schema, "name": name}
    if dialect.name not in ("postgresql", "mysql", "mariadb"):
        if dialect.supports_sequences and name in sa.inspect(connection).get_sequence_names(schema=schema):
            return {**found, "unsupported": f"yamlbase cannot read a sequence's settings on {dialect.name}"}
        return None
    settings = reflect.sequences(connection, schema, [name]).get(qualified(schema, name))
    if settings is None:
        return None
    found.update(
        data_type=settings.data_type,
        start=settings.start,
        increment=settings.increment,
        min=settings.min_value,
        max=settings.max_value,
        cache=settings.cache,
        cycle=settings.cycle,
    )
    start, increment = int(settings.start or 0), int(settings.increment or 1)
    sequence = sa.table(name, schema=schema)
    if dialect.name == "postgresql":
        # Where it stands, read from the sequence itself (pg_sequences shows no value for one not read since it
        # was created or restarted): is_called says whether last_value was given out (or cached) already.
        last, called = connection.execute(
            sa.select(sa.column("last_value"), sa.column("is_called")).select_from(sequence)
        ).one()
        return {
            **found,
            "restart": None if not called and int(last) == start else {"value": int(last), "used": bool(called)},
            **_sequence_users(connection, schema, name),
        }
    following, rounds = (
        int(v)
        for v in connection.execute(
            sa.select(sa.column("next_not_cached_value"), sa.column("cycle_count")).select_from(sequence)
        ).one()
    )
    low, high = int(settings.min_value or 0), int(settings.max_value or 0)
    return {
        **found,
        # Values a connection had cached are not known: it goes on from the first one not cached; past its
        # bound it had run out, and its bound is marked as used. A cycling one says how often it went round.
        "restart": None
        if following == start and not rounds
        else {"value": following, "used": False, "round": rounds}
        if low <= following <= high
        else {"value": high if increment > 0 else low, "used": True, "round": rounds},
    }


def reflect_procedure(connection: Connection, schema: str | None, name: str) -> dict[str, Any] | None:
    """A stored procedure's ``CREATE`` statement (each overload's on PostgreSQL); None when there is none."""
    dialect = connection.dialect
    found: dict[str, Any] = {"schema": schema, "name": name}
    if dialect.name == "postgresql":
        definitions = connection.execute(
            sa.text(
                "SELECT pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE p.proname = :name AND p.prokind = 'p' AND n.nspname = coalesce(:schema, current_schema()) "
                "ORDER BY p.oid"
            ),
            {"name": name, "schema": schema},
        ).scalars()
        texts = [str(d) for d in definitions]
        return {**found, "definitions": texts} if texts else None
    if dialect.name in ("mysql", "mariadb"):
        exists = connection.execute(
            sa.text(
                "SELECT count(*) FROM information_schema.routines WHERE routine_type = 'PROCEDURE' "
                "AND routine_name = :name AND routine_schema = coalesce(:schema, database())"
            ),
            {"name": name, "schema": schema},
        ).scalar()
        if not exists:
            return None
        preparer = dialect.identifier_preparer
        quoted = f"{preparer.quote_schema(schema)}.{preparer.quote(name)}" if schema else preparer.quote(name)
        row = connection.exec_driver_sql(f"SHOW CREATE PROCEDURE {quoted}").mappings().one()
        text = row.get("Create Procedure")
        if text is None:
            return {**found, "unsupported": "the database did not show its text (SHOW CREATE PROCEDURE needs rights)"}
        return {**found, "definitions": [str(text)]}
    if dialect.name == "sqlite":
        return None
    return {**found, "unsupported": f"yamlbase cannot read a procedure's text on {dialect.name}"}


_SEQUENCE_OID = (
    "WITH seq AS (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'S' AND c.relname = :name AND n.nspname = coalesce(:schema, current_schema())) "
)


def _sequence_users(connection: Connection, schema: str | None, name: str) -> dict[str, Any]:
    """PostgreSQL: the column defaults that call the sequence, and the column that owns it (a table's schema is
    null when it is the current one)."""
    params = {"name": name, "schema": schema}
    defaults = connection.execute(
        sa.text(
            _SEQUENCE_OID + "SELECT nullif(n.nspname, current_schema()) AS schema, t.relname AS table, "
            "a.attname AS column, pg_get_expr(d.adbin, d.adrelid) AS default "
            "FROM pg_depend dep JOIN seq ON dep.refobjid = seq.oid AND dep.refclassid = 'pg_class'::regclass "
            "JOIN pg_attrdef d ON dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid "
            "JOIN pg_class t ON t.oid = d.adrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum ORDER BY 1, 2, 3"
        ),
        params,
    ).mappings()
    owner = (
        connection.execute(
            sa.text(
                _SEQUENCE_OID + "SELECT nullif(n.nspname, current_schema()) AS schema, t.relname AS table, "
                "a.attname AS column FROM pg_depend dep JOIN seq ON dep.objid = seq.oid "
                "AND dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass "
                "AND dep.deptype = 'a' JOIN pg_class t ON t.oid = dep.refobjid "
                "JOIN pg_namespace n ON n.oid = t.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = dep.refobjsubid"
            ),
            params,
        )
        .mappings()
        .first()
    )
    return {"defaults": [dict(d) for d in defaults], "owned_by": None if owner is None else dict(owner)}
