"""A database's schema, reflected into the typed model (:mod:`yamlbase.structure.model`), on SQLAlchemy's inspector.

The one reflection of yamlbase: ``check``, ``diff``, ``generate-changelog`` and ``update-testing-rollback`` reflect
whole schemas with :func:`reflect`; the captures that roll back drops (:mod:`yamlbase.runtime.capture`) reflect
the few objects a change destroys with :func:`tables`, :func:`view` and :func:`sequences`. Values are as the
database states them (types compiled for its dialect, defaults as text), so two schemas reflected from the same
dialect compare exactly. Tables are read with the inspector's multi-table methods (one query per kind where the
dialect has them), as ``MetaData.reflect`` does.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.engine.reflection import Inspector

from yamlbase.structure.model import (
    CheckConstraint,
    Column,
    Computed,
    Enum,
    ForeignKey,
    Identity,
    Index,
    PrimaryKey,
    Routine,
    Schema,
    Sequence,
    Table,
    UniqueConstraint,
    View,
)

# yamlbase's, Liquibase's and Alembic's own tables (and Alembic's batch-mode leftovers): never part of a schema.
BOOKKEEPING = re.compile(r"databasechangelog.*|yamlbase_.*|alembic_version|_alembic_tmp_.*", re.IGNORECASE)
MYSQL = ("mysql", "mariadb")


def reflect(
    connection: Connection,
    *,
    include: str | None = None,
    exclude: str | None = None,
    schema: str | None = None,
    routines: bool = False,
) -> Schema:
    """The schema ``schema`` (the connection's default one when None) of the database: its tables, views,
    sequences and (PostgreSQL) enum types; with ``routines``, its stored procedures and functions too (which
    models cannot declare, so ``check`` and ``diff-changelog`` leave them out; ``update-testing-rollback`` asks).

    ``include`` and ``exclude`` are regular expressions that an object's whole name must match (case-insensitive),
    as Liquibase's ``--include-objects`` / ``--exclude-objects``; bookkeeping tables are never included.
    Sequences that belong to a column (PostgreSQL's ``SERIAL`` and identity sequences) are part of that column's
    default, not objects of their own.
    """
    wanted = _name_filter(include, exclude)
    inspector = sa.inspect(connection)
    dialect = connection.dialect
    table_names = [n for n in inspector.get_table_names(schema=schema) if wanted(n)]
    view_names = [n for n in inspector.get_view_names(schema=schema) if wanted(n)]
    sequence_names = (
        [n for n in inspector.get_sequence_names(schema=schema) if wanted(n)] if dialect.supports_sequences else []
    )
    owned = _owned_sequences(connection, schema) if dialect.name == "postgresql" else set()
    return Schema(
        dialect=dialect.name,
        tables=tables(inspector, dialect, schema, table_names, connection=connection),
        views={_key(schema, n): view(connection, schema, n, inspector=inspector) for n in sorted(view_names, key=str)},
        sequences=sequences(connection, schema, [n for n in sequence_names if n not in owned]),
        enums={k: e for k, e in enums(connection, schema).items() if wanted(e.name)},
        routines={k: r for k, r in stored_routines(connection, schema).items() if wanted(r.name)} if routines else {},
    )


def _name_filter(include: str | None, exclude: str | None) -> Any:
    included = re.compile(include, re.IGNORECASE) if include else None
    excluded = re.compile(exclude, re.IGNORECASE) if exclude else None

    def wanted(name: str) -> bool:
        if BOOKKEEPING.fullmatch(name):
            return False
        if included is not None and not included.fullmatch(name):
            return False
        return excluded is None or not excluded.fullmatch(name)

    return wanted


def _key(schema: str | None, name: str) -> str:
    return f"{schema}.{name}" if schema else name


def _optional(method: Any, *args: Any, **kw: Any) -> Any:
    """A reflection some dialects do not implement (check constraints, comments): None where they do not."""
    try:
        return method(*args, **kw)
    except NotImplementedError:
        return None


def type_sql(type_: Any, dialect: sa.Dialect) -> str:
    """A reflected type as SQL text for ``dialect``; "" for a column declared without a type (SQLite) or a type
    SQLAlchemy does not know."""
    try:
        return str(type_.compile(dialect=dialect))
    except sa.exc.CompileError:
        return ""


def _plain(options: dict[str, Any], dialect: sa.Dialect) -> tuple[tuple[str, Any], ...]:
    """Index dialect options worth restating: set, JSON-able, not a default, and not the predicate (``where``)."""
    defaults = {"postgresql_using": "btree"}
    found = []
    for k, v in sorted(options.items()):
        if k.endswith("_where") or v in (None, [], {}) or defaults.get(k) == v:
            continue
        if isinstance(v, str | int | bool):
            found.append((k, v))
        elif isinstance(v, list | tuple):
            found.append((k, tuple(v)))
        elif isinstance(v, dict):
            found.append((k, tuple(sorted(v.items()))))
    return tuple(found)


def _column(c: dict[str, Any], dialect: sa.Dialect) -> Column:
    identity = c.get("identity")
    computed = c.get("computed")
    default = c.get("default")
    if default is not None and str(default).strip().upper() == "NULL":
        default = None  # MySQL states DEFAULT NULL for a nullable column: the same as none
    return Column(
        name=c["name"],
        type=type_sql(c["type"], dialect),
        nullable=bool(c["nullable"]),
        default=None if default is None else str(default),
        autoincrement=c.get("autoincrement") is True,
        identity=Identity(
            always=bool(identity.get("always")), start=identity.get("start"), increment=identity.get("increment")
        )
        if identity
        else None,
        computed=Computed(sqltext=str(computed["sqltext"]), persisted=computed.get("persisted")) if computed else None,
        comment=c.get("comment") or None,
    )


def foreign_key(fk: dict[str, Any]) -> ForeignKey:
    """One foreign key as the inspector gives it, in the model."""
    options = fk.get("options") or {}
    return ForeignKey(
        columns=tuple(fk["constrained_columns"]),
        referred_table=fk["referred_table"],
        referred_columns=tuple(fk["referred_columns"]),
        name=fk.get("name"),
        referred_schema=fk.get("referred_schema"),
        ondelete=options.get("ondelete"),
        onupdate=options.get("onupdate"),
        deferrable=options.get("deferrable"),
        initially=options.get("initially"),
    )


def _index(ix: dict[str, Any], dialect: sa.Dialect) -> Index:
    options = ix.get("dialect_options") or {}
    where = next((v for k, v in options.items() if k.endswith("_where") and v is not None), None)
    expressions = ix.get("expressions")
    columns = expressions if expressions else ix["column_names"]
    return Index(
        name=ix["name"],
        columns=tuple(str(c) for c in columns),
        unique=bool(ix["unique"]),
        where=None if where is None else str(where),
        options=_plain(options, dialect),
    )


def tables(
    inspector: Inspector,
    dialect: sa.Dialect,
    schema: str | None,
    names: Iterable[str],
    *,
    connection: Connection | None = None,
) -> dict[str, Table]:
    """The tables ``names`` of ``schema``, keyed by :attr:`Table.key`, in name order (those that do not exist are
    left out). With ``connection`` on SQLite, expression indexes (which SQLAlchemy skips) are read too."""
    names = sorted(set(names))
    if not names:
        return {}
    kw: dict[str, Any] = {"schema": schema, "filter_names": names}
    with warnings.catch_warnings():
        # SQLite's expression indexes are read below, from their own text.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        columns = inspector.get_multi_columns(**kw)
        pks = inspector.get_multi_pk_constraint(**kw)
        fks = inspector.get_multi_foreign_keys(**kw)
        uniques = inspector.get_multi_unique_constraints(**kw)
        checks = _optional(inspector.get_multi_check_constraints, **kw) or {}
        indexes = inspector.get_multi_indexes(**kw)
        comments = _optional(inspector.get_multi_table_comment, **kw) or {} if dialect.supports_comments else {}
    result: dict[str, Table] = {}
    for name in names:
        key = (schema, name)
        if key not in columns:
            continue
        cols = tuple(_column(c, dialect) for c in columns[key])
        if connection is not None and any(c.computed is not None and not c.computed.sqltext for c in cols):
            cols = _sqlite_computed(connection, name, cols)
        pk = pks.get(key) or {}
        foreign_keys = tuple(foreign_key(fk) for fk in fks.get(key, []))
        unique = tuple(
            UniqueConstraint(columns=tuple(u["column_names"]), name=u.get("name")) for u in uniques.get(key, [])
        )
        fk_names = {fk.name for fk in foreign_keys if fk.name}
        fk_columns = {fk.columns for fk in foreign_keys}
        unique_names = {u.name for u in unique if u.name}
        real: list[Index] = []
        backing: list[Index] = []
        for ix in indexes.get(key, []):
            if not ix.get("name") or ix["name"].startswith("sqlite_autoindex"):
                continue
            index = _index(ix, dialect)
            # The index behind a unique constraint, or the one MySQL made for a foreign key (named after it, or
            # after its column when the key had no name): it comes and goes with its constraint.
            if (
                ix.get("duplicates_constraint")
                or index.name in unique_names
                or (
                    dialect.name in MYSQL
                    and not index.unique
                    and (index.name in fk_names or (index.columns in fk_columns and index.name == index.columns[0]))
                )
            ):
                backing.append(index)
            else:
                real.append(index)
        if connection is not None and dialect.name == "sqlite":
            real += _sqlite_expression_indexes(connection, name, {i.name for i in real + backing})
        comment = comments.get(key) or {}
        result[_key(schema, name)] = Table(
            name=name,
            schema=schema,
            columns=cols,
            primary_key=PrimaryKey(columns=tuple(pk["constrained_columns"]), name=pk.get("name"))
            if pk.get("constrained_columns")
            else None,
            unique_constraints=unique,
            foreign_keys=foreign_keys,
            checks=tuple(
                CheckConstraint(sqltext=str(ck["sqltext"]), name=ck.get("name")) for ck in checks.get(key, [])
            ),
            indexes=tuple(real),
            comment=comment.get("text") or None,
            constraint_indexes=tuple(backing),
        )
    return result


def _sqlite_computed(connection: Connection, table: str, columns: tuple[Column, ...]) -> tuple[Column, ...]:
    """SQLite's generated columns whose expression SQLAlchemy did not find (a type with a comma, as
    ``NUMERIC(12, 2)``, defeats it), read from the table's ``CREATE TABLE`` text."""
    sql = connection.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
    ).scalar()
    fixed = []
    for c in columns:
        if c.computed is not None and not c.computed.sqltext and sql:
            start = re.search(
                rf"(?:^|[(,\s])[\"`\[]?{re.escape(c.name)}[\"`\]]?\s(?:[^,()]|\([^()]*\))*?"
                r"\bGENERATED\s+ALWAYS\s+AS\s*(?=\()",
                sql,
                re.IGNORECASE,
            )
            found = _parenthesised(sql[start.end() :]) if start else None
            if found:
                c = replace(c, computed=replace(c.computed, sqltext=found[0].strip()))
        fixed.append(c)
    return tuple(fixed)


_SQLITE_INDEX = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s", re.IGNORECASE)


def _sqlite_expression_indexes(connection: Connection, table: str, known: set[str | None]) -> list[Index]:
    """SQLite's expression indexes, read from their ``CREATE INDEX`` text (SQLAlchemy skips them)."""
    rows = connection.execute(
        sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"),
        {"t": table},
    ).all()
    found = []
    for name, sql in rows:
        match = _SQLITE_INDEX.match(sql)
        if name in known or not match:
            continue
        parts = _parenthesised(sql)
        if parts is None:
            continue
        inside, rest = parts
        where = re.match(r"\s*WHERE\s+(.*?)\s*$", rest, re.IGNORECASE | re.DOTALL)
        found.append(
            Index(
                name=name,
                columns=tuple(_split_top_level(inside)),
                unique=bool(match.group(1)),
                where=where.group(1) if where else None,
            )
        )
    return found


def _parenthesised(sql: str) -> tuple[str, str] | None:
    """The text inside the first top-level parentheses of ``sql`` and what follows them (quotes respected)."""
    depth, start, quote = 0, -1, None
    for i, ch in enumerate(sql):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"`[":
            quote = "]" if ch == "[" else ch
        elif ch == "(":
            if depth == 0:
                start = i + 1
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return sql[start:i], sql[i + 1 :]
    return None


def _split_top_level(text: str) -> list[str]:
    parts, depth, quote, current = [], 0, None, ""
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"`[":
            quote = "]" if ch == "[" else ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    parts.append(current.strip())
    return [p.strip('"') if re.fullmatch(r'"[^"]+"', p) else p for p in parts if p]


_VIEW_OPTION = re.compile(r"^\w+=\w+$")


def view(connection: Connection, schema: str | None, name: str, *, inspector: Inspector | None = None) -> View:
    """A view's definition as the database reports it, with PostgreSQL's view options and its comment."""
    inspector = inspector or sa.inspect(connection)
    dialect = connection.dialect
    options: list[str] = []
    if dialect.name == "postgresql":
        found = connection.execute(
            sa.text(
                "SELECT c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relname = :name AND n.nspname = coalesce(:schema, current_schema())"
            ),
            {"name": name, "schema": schema},
        ).scalar()
        options = [str(o) for o in found or [] if _VIEW_OPTION.match(str(o))]
    comment = _optional(inspector.get_table_comment, name, schema=schema) if dialect.supports_comments else None
    return View(
        name=name,
        schema=schema,
        definition=str(inspector.get_view_definition(name, schema=schema)),
        options=tuple(options),
        comment=(comment or {}).get("text") or None,
    )


def sequences(connection: Connection, schema: str | None, names: Iterable[str]) -> dict[str, Sequence]:
    """The settings of the sequences ``names`` (those that exist), keyed by ``[schema.]name``: read from
    ``pg_sequences`` in one query on PostgreSQL, from each sequence on MariaDB; only the name elsewhere."""
    names = sorted(set(names))
    dialect = connection.dialect
    if not names or not dialect.supports_sequences:
        return {}
    result: dict[str, Sequence] = {}
    if dialect.name == "postgresql":
        rows = connection.execute(
            sa.text(
                "SELECT sequencename, data_type::text AS data_type, start_value, increment_by, min_value, "
                "max_value, cache_size, cycle FROM pg_sequences "
                "WHERE sequencename = ANY(:names) AND schemaname = coalesce(:schema, current_schema())"
            ),
            {"names": names, "schema": schema},
        ).mappings()
        for row in rows:
            result[_key(schema, row["sequencename"])] = Sequence(
                name=row["sequencename"],
                schema=schema,
                data_type=row["data_type"],
                start=int(row["start_value"]),
                increment=int(row["increment_by"]),
                min_value=int(row["min_value"]),
                max_value=int(row["max_value"]),
                cache=int(row["cache_size"]),
                cycle=bool(row["cycle"]),
            )
    else:
        existing = set(sa.inspect(connection).get_sequence_names(schema=schema))
        for name in names:
            if name not in existing:
                continue
            if dialect.name in MYSQL:
                columns = ("start_value", "increment", "minimum_value", "maximum_value", "cache_size", "cycle_option")
                row = (
                    connection.execute(
                        sa.select(*(sa.column(c) for c in columns)).select_from(sa.table(name, schema=schema))
                    )
                    .mappings()
                    .one()
                )
                result[_key(schema, name)] = Sequence(
                    name=name,
                    schema=schema,
                    start=int(row["start_value"]),
                    increment=int(row["increment"]),
                    min_value=int(row["minimum_value"]),
                    max_value=int(row["maximum_value"]),
                    cache=int(row["cache_size"]),
                    cycle=bool(row["cycle_option"]),
                )
            else:
                result[_key(schema, name)] = Sequence(name=name, schema=schema)
    return dict(sorted(result.items()))


def _owned_sequences(connection: Connection, schema: str | None) -> set[str]:
    """PostgreSQL: the sequences that belong to a column (``SERIAL``, identity, ``OWNED BY``)."""
    return set(
        connection.execute(
            sa.text(
                "SELECT s.relname FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace "
                "JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass "
                "AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
                "WHERE s.relkind = 'S' AND n.nspname = coalesce(:schema, current_schema())"
            ),
            {"schema": schema},
        ).scalars()
    )


def enums(connection: Connection, schema: str | None) -> dict[str, Enum]:
    """PostgreSQL's enum types of ``schema`` with their values in order (none elsewhere: MySQL's enums are
    column types)."""
    if connection.dialect.name != "postgresql":
        return {}
    rows = connection.execute(
        sa.text(
            "SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_type t "
            "JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = coalesce(:schema, current_schema()) GROUP BY t.typname ORDER BY t.typname"
        ),
        {"schema": schema},
    ).all()
    return {_key(schema, name): Enum(name=name, values=tuple(values), schema=schema) for name, values in rows}


def stored_routines(connection: Connection, schema: str | None = None) -> dict[str, Routine]:
    """The stored procedures and functions of ``schema`` (PostgreSQL, MySQL/MariaDB; none elsewhere), keyed by
    ``[schema.]name`` in name order (overloads of one name are one routine)."""
    current = {"postgresql": "current_schema()", "mysql": "database()", "mariadb": "database()"}
    if connection.dialect.name not in current:
        return {}
    rows = connection.execute(
        sa.text(
            "SELECT routine_name, routine_type FROM information_schema.routines "
            f"WHERE routine_schema = coalesce(:schema, {current[connection.dialect.name]}) ORDER BY routine_name"
        ),
        {"schema": schema},
    ).all()
    return {_key(schema, str(name)): Routine(name=str(name), kind=str(kind), schema=schema) for name, kind in rows}
