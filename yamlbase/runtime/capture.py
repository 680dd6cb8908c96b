"""What a destructive change is about to destroy, reflected just before it runs, as JSON (rollbacks beyond Liquibase).

The JSON of one change (``capture()``) is::

    {"format": 1, "dialect": "postgresql",
     "tables": {"[schema.]name": TABLE, …},      # every table an object of the change belongs to
     "views": {"[schema.]name": {"schema", "name", "definition"}, …},
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

One capture per change, keyed by the change's position in its changeSet, is stored in ``YAMLBASE_ROLLBACK``
(:class:`yamlbase.runtime.history.CaptureTable`) in the transaction that records the changeSet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.engine.reflection import Inspector

from yamlbase.changes.base import ObjectRef, qualified

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
                result["tables"][key] = reflect_table(inspector, dialect, ref.schema, table)  # type: ignore[arg-type]
        elif ref.kind == "view":
            if ref.name in inspector.get_view_names(schema=ref.schema):
                definition = inspector.get_view_definition(ref.name, schema=ref.schema)
                result["views"][qualified(ref.schema, ref.name)] = {
                    "schema": ref.schema,
                    "name": ref.name,
                    "definition": definition,
                }
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
                found.append({"table": fk_table, "schema": fk_schema, **_foreign_key(fk)})
    return found


def _foreign_key(fk: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": fk.get("name"),
        "columns": fk["constrained_columns"],
        "referred_schema": fk.get("referred_schema"),
        "referred_table": fk["referred_table"],
        "referred_columns": fk["referred_columns"],
        **{k: (fk.get("options") or {}).get(k) for k in ("ondelete", "onupdate", "deferrable", "initially")},
    }


def _optional(method: Any, *args: Any, **kw: Any) -> Any:
    """A reflection some dialects do not implement (check constraints, comments): None where they do not."""
    try:
        return method(*args, **kw)
    except NotImplementedError:
        return None


def _type_sql(type_: Any, dialect: sa.Dialect) -> str | None:
    try:
        return str(type_.compile(dialect=dialect))
    except sa.exc.CompileError:
        # SQLite: a column declared without a type reflects as NullType; elsewhere the type is unknown to us.
        return "" if dialect.name == "sqlite" else None


def _plain(options: dict[str, Any]) -> dict[str, Any]:
    """Dialect options worth restating: set, JSON-able, and not the default ones."""
    defaults = {"postgresql_using": "btree"}
    return {
        k: v
        for k, v in options.items()
        if v not in (None, [], {}) and defaults.get(k) != v and isinstance(v, str | int | bool | list | dict)
    }


def reflect_table(inspector: Inspector, dialect: sa.Dialect, schema: str | None, name: str) -> dict[str, Any]:
    """One table as described in this module's docstring."""
    columns = []
    for c in inspector.get_columns(name, schema=schema):
        identity = c.get("identity")
        computed = c.get("computed")
        default = c.get("default")
        columns.append(
            {
                "name": c["name"],
                "type": _type_sql(c["type"], dialect),
                "nullable": bool(c["nullable"]),
                "default": None if default is None else str(default),
                "autoincrement": c.get("autoincrement") is True,
                "identity": {k: identity.get(k) for k in ("always", "start", "increment")} if identity else None,
                "computed": {"sqltext": str(computed["sqltext"]), "persisted": computed.get("persisted")}
                if computed
                else None,
                "comment": c.get("comment"),
            }
        )
    pk = inspector.get_pk_constraint(name, schema=schema)
    foreign_keys = [_foreign_key(fk) for fk in inspector.get_foreign_keys(name, schema=schema)]
    unique = [
        {"name": u.get("name"), "columns": u["column_names"]}
        for u in inspector.get_unique_constraints(name, schema=schema)
    ]
    checks = [
        {"name": ck.get("name"), "sqltext": str(ck["sqltext"])}
        for ck in _optional(inspector.get_check_constraints, name, schema=schema) or []
    ]
    fk_names = {fk["name"] for fk in foreign_keys if fk["name"]}
    unique_names = {u["name"] for u in unique if u["name"]}
    mysql = dialect.name in ("mysql", "mariadb")
    indexes = [
        {
            "name": ix["name"],
            "columns": ix["column_names"],
            "expressions": ix.get("expressions"),
            "unique": bool(ix["unique"]),
            # The index behind a unique constraint, or the one MySQL made for a foreign key: it comes back
            # with its constraint and must not be created a second time.
            "constraint": bool(ix.get("duplicates_constraint"))
            or ix["name"] in unique_names
            or (mysql and ix["name"] in fk_names),
            "options": _plain(ix.get("dialect_options") or {}),
        }
        for ix in inspector.get_indexes(name, schema=schema)
        if ix.get("name") and not ix["name"].startswith("sqlite_autoindex")
    ]
    comment = _optional(inspector.get_table_comment, name, schema=schema) if dialect.supports_comments else None
    return {
        "schema": schema,
        "name": name,
        "comment": (comment or {}).get("text"),
        "columns": columns,
        "primary_key": {"name": pk.get("name"), "columns": pk["constrained_columns"]}
        if pk and pk.get("constrained_columns")
        else None,
        "foreign_keys": foreign_keys,
        "unique": unique,
        "checks": checks,
        "indexes": indexes,
    }
