"""SQLite's table recreation, made safe: what depends on the table, and foreign-key enforcement around it.

SQLite can only make most schema changes by building a new table, copying the rows, dropping the old table and
renaming the new one (Alembic's batch mode; https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of
Table Schema Changes"). What that procedure needs and Alembic leaves to its caller lives here:

- the table's own definition, where SQLAlchemy's reflection drops details (:func:`plan_recreation`);
- the indexes, views and triggers that depend on the table (steps 3, 8 and 9): ``DROP TABLE`` takes the table's triggers
  with it, and the final ``ALTER TABLE … RENAME`` refuses to run while any view or trigger names the dropped table;
- foreign-key enforcement (steps 1, 10 and 12): with ``PRAGMA foreign_keys=ON``, dropping a referenced table
  deletes its rows first, which cascades into (or fails on) the rows that reference it.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.operations.ops import AddColumnOp, DropColumnOp, MigrateOperation
from sqlalchemy.engine import Connection

# One token of SQL text: a comment or string literal (skipped), a quoted identifier, or a bare word.
_TOKEN = re.compile(
    r"""--[^\n]*|/\*.*?(?:\*/|$)|'(?:[^']|'')*'?"""
    r"""|"((?:[^"]|"")*)"?|\[([^\]]*)\]?|`((?:[^`]|``)*)`?|([A-Za-z_\x80-\U0010ffff][\w$\x80-\U0010ffff]*)""",
    re.DOTALL,
)


def identifiers(sql: str) -> set[str]:
    """Every identifier written in ``sql``, case-folded as SQLite compares them (quoted or not)."""
    names = set()
    for match in _TOKEN.finditer(sql):
        double, bracket, backtick, bare = match.groups()
        if double is not None:
            names.add(double.replace('""', '"').lower())
        elif backtick is not None:
            names.add(backtick.replace("``", "`").lower())
        elif bracket is not None or bare is not None:
            names.add((bracket if bracket is not None else bare).lower())
    return names


@dataclass(frozen=True)
class SchemaObject:
    """An index, view or trigger as SQLite stores it."""

    type: str  # "index", "view" or "trigger"
    name: str
    sql: str


@dataclass(frozen=True)
class Dependents:
    """The indexes, views and triggers that a recreation of one table would break or lose, in creation order.

    An index depends on its table. A view depends on the table if its text names the table or a dependent view; a
    trigger if it is defined on one of those or its body names one. Naming is judged on identifiers, so a column or
    alias that happens to share the table's name only costs a needless drop and re-create, never a lost object.
    """

    objects: list[SchemaObject] = field(default_factory=list)
    schema: str | None = None

    def drops(self, quote: Callable[[str], str]) -> list[str]:
        """Statements that remove them: triggers first, then views, latest first (a view may use an older one)."""
        prefix = f"{quote(self.schema)}." if self.schema else ""
        # Indexes go with the table.
        triggers = [o for o in self.objects if o.type == "trigger"]
        views = [o for o in reversed(self.objects) if o.type == "view"]
        return [f"DROP {o.type.upper()} {prefix}{quote(o.name)}" for o in triggers + views]

    def creates(self, quote: Callable[[str], str]) -> list[str]:
        """Their original statements: indexes, views, then triggers (a trigger may be defined on a view)."""
        ordered = [o for kind in ("index", "view", "trigger") for o in self.objects if o.type == kind]
        return [self._in_schema(o, quote) for o in ordered]

    def views(self) -> list[str]:
        return [o.name for o in self.objects if o.type == "view"]

    def _in_schema(self, obj: SchemaObject, quote: Callable[[str], str]) -> str:
        # sqlite_master keeps the statement without the schema ("CREATE VIEW v ..."): put an attached one back.
        if not self.schema:
            return obj.sql
        lead = re.match(r"CREATE (?:UNIQUE )?(?:INDEX|VIEW|TRIGGER) ", obj.sql)
        return f"{lead[0]}{quote(self.schema)}.{obj.sql[lead.end() :]}" if lead else obj.sql


def _schema_rows(connection: Connection, schema: str | None, quote: Callable[[str], str]) -> list[Any]:
    master = f"{quote(schema)}.sqlite_master" if schema else "sqlite_master"
    return list(
        connection.exec_driver_sql(
            f"SELECT type, name, tbl_name, sql FROM {master} WHERE sql IS NOT NULL ORDER BY rowid"
        ).all()
    )


def dependents(
    rows: list[Any], table: str, schema: str | None, *, indexes: bool = True, dropped: Iterable[str] = ()
) -> Dependents:
    """The indexes (unless ``indexes`` is false), views and triggers that depend on ``table``.

    ``rows`` are ``(type, name, tbl_name, sql)`` of ``sqlite_master``. An index on a ``dropped`` column is left out:
    it goes with the column, as on PostgreSQL and MySQL.
    """
    found = [(SchemaObject(kind, name, sql), tbl_name.lower(), identifiers(sql)) for kind, name, tbl_name, sql in rows]
    names = {table.lower()}
    gone = {c.lower() for c in dropped}
    chosen: set[str] = set()
    grew = True
    while grew:  # a view on a dependent view depends too, whatever their order in sqlite_master
        grew = False
        for obj, on, used in found:
            key = f"{obj.type}:{obj.name.lower()}"
            if key in chosen or obj.type not in ("view", "trigger"):
                continue
            if on in names or used & names:
                chosen.add(key)
                grew = True
                if obj.type == "view":
                    names.add(obj.name.lower())
    objects = [
        obj
        for obj, on, used in found
        if f"{obj.type}:{obj.name.lower()}" in chosen
        or (indexes and obj.type == "index" and on == table.lower() and not used & gone)
    ]
    return Dependents(objects, schema)


def doomed_indexes(rows: list[Any], table: str, dropped: Iterable[str]) -> list[str]:
    """Indexes of ``table`` that use a ``dropped`` column, expressions and WHERE clauses included."""
    gone = {c.lower() for c in dropped}
    return [
        name
        for kind, name, on, sql in rows
        if kind == "index" and on.lower() == table.lower() and identifiers(sql) & gone
    ]


@dataclass
class Recreation:
    """What Alembic's batch mode needs beside its own reflection to rebuild a table without losing anything."""

    copy_from: sa.Table | None = None
    table_args: list[sa.CheckConstraint] = field(default_factory=list)
    table_kwargs: dict[str, Any] = field(default_factory=dict)
    doomed_indexes: list[str] = field(default_factory=list)
    dependents: Dependents = field(default_factory=Dependents)
    sequence: int | None = None  # AUTOINCREMENT's high-water mark, which DROP TABLE forgets
    # Generated columns, in table order: (name, type, expression, stored). SQLite refuses to INSERT into them.
    generated: list[tuple[str, Any, str, bool]] = field(default_factory=list)
    column_order: list[str] = field(default_factory=list)

    def batch_options(self) -> dict[str, Any]:
        if self.copy_from is None:
            return {}
        return {"copy_from": self.copy_from, "table_args": tuple(self.table_args), "table_kwargs": self.table_kwargs}

    def regenerate(self, table: str, schema: str | None, touched: set[str]) -> list[MigrateOperation]:
        """Batch operations that keep generated columns out of the copy: each is dropped and added back in its
        place, so Alembic's ``INSERT … SELECT`` leaves it to SQLite to compute. Columns the change itself drops or
        alters are left to the change."""
        result: list[MigrateOperation] = []
        generated = {name for name, *_ in self.generated}
        for name, type_, expression, stored in self.generated:
            if name in touched:
                continue
            at = self.column_order.index(name)
            before = [c for c in self.column_order[:at] if c not in touched or c in generated]
            after = [c for c in self.column_order[at + 1 :] if c not in touched or c in generated]
            place = {"insert_after": before[-1]} if before else {"insert_before": after[0]} if after else {}
            column = sa.Column(name, type_, sa.Computed(sa.text(expression), persisted=stored))
            result.append(DropColumnOp(table, name, schema=schema))
            result.append(AddColumnOp(table, column, schema=schema, **place))
        return result

    def restore_sequence(self, table: str, schema: str | None) -> list[sa.Executable]:
        if self.sequence is None:
            return []
        sequence = sa.table(
            "sqlite_sequence", sa.column("name", sa.String), sa.column("seq", sa.Integer), schema=schema
        )
        return [
            sequence.delete().where(sequence.c.name == table),
            sequence.insert().values(name=table, seq=self.sequence),
        ]


def plan_recreation(
    connection: Connection,
    table: str,
    schema: str | None,
    quote: Callable[[str], str],
    *,
    dropped: Iterable[str] = (),
    renames: bool = False,
    shaped: sa.Table | None = None,
    checks: Iterable[sa.CheckConstraint] = (),
) -> Recreation:
    """Reflect ``table`` for its recreation, repairing what SQLAlchemy's SQLite reflection leaves out.

    Reflection loses a column's COLLATE, a column-level foreign key's name and ON DELETE/ON UPDATE, AUTOINCREMENT
    (and the sequence's high-water mark) and, when Alembic reflects by itself, unnamed CHECK constraints (a table
    given as ``copy_from`` keeps them); indexes on expressions are skipped, descending or collated index columns
    lose their order and collation. Indexes are therefore re-created from their own statements after the copy —
    unless columns are renamed, where those statements would name the old columns and Alembic's reflected copies
    are kept. CHECK constraints on a ``dropped`` column go with it, as on PostgreSQL.

    A change that shapes the table to copy itself passes it as ``shaped`` (reflected, with something removed); it is
    repaired the same way. ``checks`` are CHECK constraints the new table must have beside the table's own; one the
    table already has is not repeated.
    """
    rows = _schema_rows(connection, schema, quote)
    gone = {c.lower() for c in dropped}
    with warnings.catch_warnings():
        # Indexes on expressions are re-created from their statements below, not from reflection.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        reflected = (
            shaped
            if shaped is not None
            else sa.Table(table, sa.MetaData(), schema=schema, autoload_with=connection, resolve_fks=False)
        )
    create = next((sql for kind, name, _, sql in rows if kind == "table" and name.lower() == table.lower()), "")
    columns = _column_definitions(create)
    for column in reflected.columns:
        collation = columns.get(column.name.lower(), {}).get("collate")
        if collation and hasattr(column.type, "collation") and not column.type.collation:
            column.type.collation = collation
    _repair_foreign_keys(connection, reflected, columns, quote)
    for check in [c for c in reflected.constraints if isinstance(c, sa.CheckConstraint)]:
        if identifiers(str(check.sqltext)) & gone:
            reflected.constraints.discard(check)
    result = Recreation(reflected, doomed_indexes=doomed_indexes(rows, table, dropped))
    present = {_normal(str(c.sqltext)) for c in reflected.constraints if isinstance(c, sa.CheckConstraint)}
    result.table_args = [c for c in checks if _normal(str(c.sqltext)) not in present]
    result.column_order = [c.name for c in reflected.columns]
    for column in reflected.columns:
        expression = columns.get(column.name.lower(), {}).get("generated")
        if column.computed is not None and expression:
            result.generated.append((column.name, column.type, expression, bool(column.computed.persisted)))
    if "autoincrement" in {t.lower() for t in _tokens(create)}:
        result.table_kwargs["sqlite_autoincrement"] = True
        seq = sa.table("sqlite_sequence", sa.column("name", sa.String), sa.column("seq", sa.Integer), schema=schema)
        result.sequence = connection.execute(sa.select(seq.c.seq).where(seq.c.name == table)).scalar()
    for index in list(reflected.indexes):
        if not renames or index.name in result.doomed_indexes:
            reflected.indexes.discard(index)
    result.dependents = dependents(rows, table, schema, indexes=not renames, dropped=dropped)
    return result


# One token of a CREATE TABLE statement: comments dropped, strings and quoted names whole, words, punctuation.
_PART = re.compile(
    r"""(--[^\n]*|/\*.*?(?:\*/|$))|('(?:[^']|'')*'|"(?:[^"]|"")*"|\[[^\]]*\]|`(?:[^`]|``)*`|[\w$\x80-\U0010ffff]+|\S)""",
    re.DOTALL,
)


def _normal(sql: str) -> str:
    """SQL text compared token by token, case aside."""
    return " ".join(_tokens(sql)).lower()


def _tokens(sql: str) -> list[str]:
    return [m[2] for m in _PART.finditer(sql) if m[2]]


def _spans(sql: str) -> list[tuple[str, int]]:
    """Tokens with where each starts in ``sql``."""
    return [(m[2], m.start()) for m in _PART.finditer(sql) if m[2]]


def _unquote(token: str) -> str:
    if token[:1] in '"`' and len(token) > 1:
        return token[1:-1].replace(token[0] * 2, token[0])
    if token[:1] == "[":
        return token[1:-1]
    return token


def _column_definitions(create: str) -> dict[str, dict[str, str]]:
    """Per column (lower-cased name): its ``collate``, the ``constraint`` name, ``deferrable`` and ``initially`` of
    its REFERENCES clause, and the expression it is ``generated`` from (as written)."""
    tokens = _spans(create)
    opening = next((i for i, (token, _) in enumerate(tokens) if token == "("), None)
    if opening is None:
        return {}
    definitions: list[list[tuple[str, int]]] = [[]]
    depth = 0
    for token, at in tokens[opening:]:
        depth += token == "("
        depth -= token == ")"
        if depth == 1 and token == ",":
            definitions.append([])
        elif depth >= 1 and not (depth == 1 and token == "("):
            definitions[-1].append((token, at))
    result: dict[str, dict[str, str]] = {}
    for spans in definitions:
        words = [token for token, _ in spans]
        if not words or words[0].upper() in ("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"):
            continue
        upper = [w.upper() for w in words]
        facts = {}
        for i, word in enumerate(upper[:-1]):
            if word == "COLLATE":
                facts["collate"] = _unquote(words[i + 1])
            elif word == "CONSTRAINT" and i + 2 < len(words) and upper[i + 2] == "REFERENCES":
                facts["constraint"] = _unquote(words[i + 1])
            elif word == "DEFERRABLE" and (i == 0 or upper[i - 1] != "NOT"):
                facts["deferrable"] = "DEFERRABLE"
            elif word == "INITIALLY":
                facts["initially"] = upper[i + 1]
            elif word == "AS" and words[i + 1] == "(":  # a generated column: [GENERATED ALWAYS] AS (expr)
                close = _closing(words, i + 1)
                facts["generated"] = create[spans[i + 1][1] + 1 : spans[close][1]].strip()
        result[_unquote(words[0]).lower()] = facts
    return result


def _closing(tokens: list[str], opening: int) -> int:
    """Where the parenthesis at ``opening`` closes."""
    depth = 0
    for at in range(opening, len(tokens)):
        depth += tokens[at] == "("
        depth -= tokens[at] == ")"
        if depth == 0:
            return at
    return len(tokens) - 1


def _repair_foreign_keys(
    connection: Connection, table: sa.Table, columns: dict[str, dict[str, str]], quote: Callable[[str], str]
) -> None:
    """Names and ON DELETE / ON UPDATE of foreign keys, from ``PRAGMA foreign_key_list`` and column definitions."""
    prefix = f"{quote(table.schema)}." if table.schema else ""
    listed: dict[int, list[Any]] = {}
    for row in connection.exec_driver_sql(f"PRAGMA {prefix}foreign_key_list({quote(table.name)})"):
        listed.setdefault(row[0], []).append(row)
    actions = {
        tuple(r[3].lower() for r in sorted(rows, key=lambda r: r[1])): (rows[0][5], rows[0][6])
        for rows in listed.values()
    }
    for fk in table.foreign_key_constraints:
        constrained = tuple(c.lower() for c in fk.column_keys)
        on_update, on_delete = actions.get(constrained, ("NO ACTION", "NO ACTION"))
        if fk.onupdate is None and on_update != "NO ACTION":
            fk.onupdate = on_update
        if fk.ondelete is None and on_delete != "NO ACTION":
            fk.ondelete = on_delete
        if len(constrained) == 1:  # a column-level REFERENCES clause, which reflection reads no further
            facts = columns.get(constrained[0], {})
            fk.name = fk.name or facts.get("constraint")
            if fk.deferrable is None and facts.get("deferrable"):
                fk.deferrable = True
                fk.initially = fk.initially or facts.get("initially")


# --- foreign-key enforcement ---------------------------------------------------------------------------------


def _driver(connection: Connection) -> Any:
    # PRAGMA foreign_keys only takes effect outside a transaction; through SQLAlchemy, any statement would
    # begin one first.
    return connection.connection.driver_connection


def suspend_foreign_keys(connection: Connection) -> bool:
    """Turn foreign-key enforcement off before a transaction begins; True if it was on (and must come back)."""
    driver = _driver(connection)
    if not driver.execute("PRAGMA foreign_keys").fetchone()[0]:
        return False
    driver.execute("PRAGMA foreign_keys = OFF")
    return True


def restore_foreign_keys(connection: Connection) -> None:
    """Turn enforcement back on, once the transaction has ended (on a connection that died, there is none)."""
    with contextlib.suppress(sqlite3.Error):
        _driver(connection).execute("PRAGMA foreign_keys = ON")


def foreign_key_violations(connection: Connection) -> Counter[tuple[str, str]]:
    """How many rows break a foreign key, per (table, referenced table): ``PRAGMA foreign_key_check``."""
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    return Counter((str(row[0]), str(row[2])) for row in rows)


def new_violations_message(before: Counter[tuple[str, str]], after: Counter[tuple[str, str]]) -> str | None:
    """Why the changeSet must not commit, if it left rows that break a foreign key; None if it did not."""
    added = after - before
    if not added:
        return None
    found = "; ".join(
        f"{count} row(s) of {table} reference missing {parent} rows" for (table, parent), count in sorted(added.items())
    )
    return f"foreign key violations (PRAGMA foreign_key_check): {found}"
