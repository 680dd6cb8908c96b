"""A comparable picture of a database schema, by SQLAlchemy reflection (for verification and rollback checks)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

HISTORY_TABLES = {"databasechangelog", "databasechangeloglock", "yamlbase_incomplete"}


def _type_name(type_: Any) -> str:
    """The generic family of a reflected type, so that INTEGER on SQLite equals int4 on PostgreSQL."""
    try:
        python = type_.python_type
    except NotImplementedError:
        return type(type_).__name__.lower()
    name = python.__name__
    length = getattr(type_, "length", None)
    return f"{name}({length})" if name == "str" and length else name


def snapshot(connection: Connection, schema: str | None = None) -> dict[str, Any]:
    """Tables (bookkeeping excluded) with columns, primary key, foreign keys, unique constraints, indexes, column
    defaults and the names of check constraints."""
    inspector = sa.inspect(connection)
    result: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names(schema=schema)):
        if table.lower() in HISTORY_TABLES or table.startswith("_alembic_tmp_"):
            continue
        reflected = inspector.get_columns(table, schema=schema)
        columns = {c["name"]: {"type": _type_name(c["type"]), "nullable": bool(c["nullable"])} for c in reflected}
        # The default as the database states it (comparable within one database, not across databases).
        defaults = {
            c["name"]: str(c["default"])
            for c in reflected
            if c.get("default") is not None and str(c["default"]).upper() != "NULL"
        }
        checks = sorted(str(ck["name"]) for ck in inspector.get_check_constraints(table, schema=schema))
        pk = inspector.get_pk_constraint(table, schema=schema)
        fks = sorted(
            (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
            for fk in inspector.get_foreign_keys(table, schema=schema)
        )
        uniques = sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table, schema=schema))
        fk_columns = {tuple(fk[0]) for fk in fks}
        mysql = connection.dialect.name in ("mysql", "mariadb")
        indexes = sorted(
            (ix["name"], tuple(str(c) for c in ix["column_names"]), bool(ix["unique"]))
            for ix in inspector.get_indexes(table, schema=schema)
            # MySQL and SQLite show the index behind a unique constraint as an index too, and MySQL makes
            # one for each foreign key: neither is a schema object of its own.
            if not ix.get("duplicates_constraint")
            and not (ix["name"] or "").startswith("sqlite_autoindex")
            and not (mysql and not ix["unique"] and tuple(ix["column_names"]) in fk_columns)
        )
        result[table] = {
            "columns": columns,
            "primary_key": tuple(pk.get("constrained_columns") or ()),
            "foreign_keys": fks,
            "unique": uniques,
            "indexes": indexes,
            "defaults": defaults,
            "checks": checks,
        }
    return result
