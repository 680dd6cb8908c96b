"""A comparable picture of a database schema, by SQLAlchemy reflection (for verification and rollback checks)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

HISTORY_TABLES = {
    "databasechangelog",
    "databasechangeloglock",
    "yamlbase_incomplete",
    "yamlbase_journal",
    "yamlbase_rollback",
}


def _type_name(type_: Any) -> str:
    """The generic family of a reflected type, so that INTEGER on SQLite equals int4 on PostgreSQL."""
    try:
        python = type_.python_type
    except NotImplementedError:
        return type(type_).__name__.lower()
    name = python.__name__
    length = getattr(type_, "length", None)
    return f"{name}({length})" if name == "str" and length else name


def snapshot(connection: Connection, schema: str | None = None, *, details: bool = False) -> dict[str, Any]:
    """Tables (bookkeeping excluded) with columns, primary key, foreign keys, unique constraints, indexes, column
    defaults and the names of check constraints.

    With ``details``, also what an exact restore must bring back: each column's default, comment and
    auto-increment, constraint names, foreign key actions, check constraints and the table comment.
    """
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
            "checks": sorted(str(ck["name"]) for ck in inspector.get_check_constraints(table, schema=schema)),
        }
        if details:  # (its "checks" holds each check's name and condition)
            result[table].update(_details(inspector, connection.dialect, table, schema))
    return result


def _normal_sql(text: str | None) -> str | None:
    return " ".join(text.lower().split()) if text else None


def _sequences(connection: Connection, schema: str | None) -> dict[str, Any]:
    """Each sequence's settings, where the database can tell them (its name alone elsewhere)."""
    inspector = sa.inspect(connection)
    names = sorted(inspector.get_sequence_names(schema=schema)) if connection.dialect.supports_sequences else []
    result: dict[str, Any] = {}
    for name in names:
        if connection.dialect.name == "postgresql":
            row = connection.execute(
                sa.text(
                    "SELECT start_value, increment_by, min_value, max_value, cache_size, cycle FROM pg_sequences "
                    "WHERE sequencename = :name AND schemaname = coalesce(:schema, current_schema())"
                ),
                {"name": name, "schema": schema},
            ).one()
        elif connection.dialect.name in ("mysql", "mariadb"):
            table = sa.table(name, schema=schema)
            columns = ("start_value", "increment", "minimum_value", "maximum_value", "cache_size", "cycle_option")
            row = connection.execute(sa.select(*(sa.column(c) for c in columns)).select_from(table)).one()
        else:
            row = ()
        result[name] = tuple(int(v) for v in row)
    return result


def _routines(connection: Connection, schema: str | None) -> list[str]:
    """Names of stored procedures and functions (PostgreSQL, MySQL/MariaDB)."""
    current = {"postgresql": "current_schema()", "mysql": "database()", "mariadb": "database()"}
    if connection.dialect.name not in current:
        return []
    sql = (
        "SELECT routine_name FROM information_schema.routines "
        f"WHERE routine_schema = coalesce(:schema, {current[connection.dialect.name]})"
    )
    return sorted(str(name) for name in connection.execute(sa.text(sql), {"schema": schema}).scalars())


def _comments(connection: Connection, schema: str | None) -> dict[str, Any]:
    """Table and column comments that are set (empty ones count as none)."""
    if not connection.dialect.supports_comments:
        return {}
    inspector = sa.inspect(connection)
    result: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names(schema=schema)):
        if table.lower() in HISTORY_TABLES:
            continue
        found: dict[str, Any] = {}
        comment = inspector.get_table_comment(table, schema=schema).get("text")
        if comment:
            found["table"] = comment
        columns = {c["name"]: c.get("comment") for c in inspector.get_columns(table, schema=schema) if c.get("comment")}
        if columns:
            found["columns"] = columns
        if found:
            result[table] = found
    return result


def snapshot_objects(connection: Connection, schema: str | None = None) -> dict[str, Any]:
    """What :func:`snapshot` leaves out: views (name → normalised definition), sequences (name → start,
    increment, min, max, cache, cycle), stored routines, and table/column comments."""
    inspector = sa.inspect(connection)
    views = {
        name: _normal_sql(inspector.get_view_definition(name, schema=schema))
        for name in sorted(inspector.get_view_names(schema=schema))
    }
    return {
        "views": views,
        "sequences": _sequences(connection, schema),
        "routines": _routines(connection, schema),
        "comments": _comments(connection, schema),
    }


def _details(inspector: Any, dialect: Any, table: str, schema: str | None) -> dict[str, Any]:
    def optional(method: Any) -> Any:
        try:
            return method(table, schema=schema)
        except NotImplementedError:
            return None

    columns = {
        c["name"]: {
            "default": None if c.get("default") is None else str(c["default"]),
            "comment": c.get("comment"),
            "autoincrement": c.get("autoincrement") is True or bool(c.get("identity")),
        }
        for c in inspector.get_columns(table, schema=schema)
    }
    fks = sorted(
        (fk.get("name") or "", tuple(fk["constrained_columns"]), sorted((fk.get("options") or {}).items()))
        for fk in inspector.get_foreign_keys(table, schema=schema)
    )
    comment = optional(inspector.get_table_comment) if dialect.supports_comments else None
    return {
        "column_details": columns,
        "primary_key_name": inspector.get_pk_constraint(table, schema=schema).get("name"),
        "foreign_key_details": fks,
        "unique_names": sorted(u.get("name") or "" for u in inspector.get_unique_constraints(table, schema=schema)),
        "checks": sorted(
            (ck.get("name") or "", str(ck["sqltext"])) for ck in optional(inspector.get_check_constraints) or []
        ),
        "comment": (comment or {}).get("text"),
    }


def difference(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """How two snapshots differ, one line per table or table property (empty when they are equal)."""
    lines = [f"table {t}: gone" for t in sorted(set(before) - set(after))]
    lines += [f"table {t}: new" for t in sorted(set(after) - set(before))]
    for table in sorted(set(before) & set(after)):
        was, now = before[table], after[table]
        for key in sorted(set(was) | set(now)):
            if key in ("columns", "column_details") and isinstance(was.get(key), dict):
                old, new = was.get(key) or {}, now.get(key) or {}
                for column in sorted(set(old) | set(new)):
                    if column not in new:
                        lines += [f"table {table}, column {column}: gone (was {old[column]})"] * (key == "columns")
                    elif column not in old:
                        lines += [f"table {table}, column {column}: new ({new[column]})"] * (key == "columns")
                    elif old[column] != new[column]:
                        lines.append(f"table {table}, column {column}: was {old[column]}, is {new[column]}")
            elif was.get(key) != now.get(key):
                lines.append(f"table {table}, {key.replace('_', ' ')}: was {was.get(key)}, is {now.get(key)}")
    return lines
