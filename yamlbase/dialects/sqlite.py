"""SQLite's table recreation, made safe: what depends on the table, and foreign-key enforcement around it.

SQLite can only make most schema changes by building a new table, copying the rows, dropping the old table and
renaming the new one (Alembic's batch mode; https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of
Table Schema Changes"). Two things that procedure needs and Alembic leaves to its caller live here:

- the views and triggers that depend on the table (steps 3, 8 and 9): ``DROP TABLE`` takes the table's triggers
  with it, and the final ``ALTER TABLE … RENAME`` refuses to run while any view or trigger names the dropped table;
- foreign-key enforcement (steps 1, 10 and 12): with ``PRAGMA foreign_keys=ON``, dropping a referenced table
  deletes its rows first, which cascades into (or fails on) the rows that reference it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
    """A view or trigger as SQLite stores it."""

    type: str  # "view" or "trigger"
    name: str
    sql: str


@dataclass(frozen=True)
class Dependents:
    """The views and triggers that a recreation of one table would break or lose, in creation order.

    A view depends on the table if its text names the table or a dependent view; a trigger if it is defined on one
    of those or its body names one. Naming is judged on identifiers, so a column or alias that happens to share the
    table's name only costs a needless drop and re-create, never a lost object.
    """

    objects: list[SchemaObject] = field(default_factory=list)
    schema: str | None = None

    def drops(self, quote: Callable[[str], str]) -> list[str]:
        """Statements that remove them: triggers first, then views, latest first (a view may use an older one)."""
        prefix = f"{quote(self.schema)}." if self.schema else ""
        triggers = [o for o in self.objects if o.type == "trigger"]
        views = [o for o in reversed(self.objects) if o.type == "view"]
        return [f"DROP {o.type.upper()} {prefix}{quote(o.name)}" for o in triggers + views]

    def creates(self, quote: Callable[[str], str]) -> list[str]:
        """Their original statements, views before triggers (a trigger may be defined on a view)."""
        ordered = [o for o in self.objects if o.type == "view"] + [o for o in self.objects if o.type == "trigger"]
        return [self._in_schema(o, quote) for o in ordered]

    def views(self) -> list[str]:
        return [o.name for o in self.objects if o.type == "view"]

    def _in_schema(self, obj: SchemaObject, quote: Callable[[str], str]) -> str:
        # sqlite_master keeps the statement without the schema ("CREATE VIEW v ..."): put an attached one back.
        if not self.schema:
            return obj.sql
        lead = f"CREATE {obj.type.upper()} "
        return obj.sql.replace(lead, f"{lead}{quote(self.schema)}.", 1) if obj.sql.startswith(lead) else obj.sql


def dependents(connection: Connection, table: str, schema: str | None, quote: Callable[[str], str]) -> Dependents:
    """The views and triggers of ``schema`` that depend on ``table`` (see :class:`Dependents`)."""
    master = f"{quote(schema)}.sqlite_master" if schema else "sqlite_master"
    rows = connection.exec_driver_sql(
        f"SELECT type, name, tbl_name, sql FROM {master} "
        "WHERE type IN ('view', 'trigger') AND sql IS NOT NULL ORDER BY rowid"
    ).all()
    found = [(SchemaObject(kind, name, sql), tbl_name.lower(), identifiers(sql)) for kind, name, tbl_name, sql in rows]
    names = {table.lower()}
    chosen: set[str] = set()
    grew = True
    while grew:  # a view on a dependent view depends too, whatever their order in sqlite_master
        grew = False
        for obj, on, used in found:
            key = f"{obj.type}:{obj.name.lower()}"
            if key not in chosen and (on in names or used & names):
                chosen.add(key)
                grew = True
                if obj.type == "view":
                    names.add(obj.name.lower())
    objects = [obj for obj, _, _ in found if f"{obj.type}:{obj.name.lower()}" in chosen]
    return Dependents(objects, schema)


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
    """Turn enforcement back on, once the transaction has ended."""
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
