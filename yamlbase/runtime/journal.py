"""Where statements commit as they run (DDL on MySQL/MariaDB, any ``runInTransaction: false`` changeSet): which
statements of a changeSet took effect, and after an interruption, how far it got.

Before each statement of a changeSet that commits, :class:`ChangeSetJournal` writes the changeSet's row of
``YAMLBASE_JOURNAL`` (:class:`yamlbase.runtime.history.JournalTable`), saying "statement *i* is running", and
commits it with everything before the statement (the commit the statement itself would make first, on MySQL:
"Statements That Cause an Implicit Commit" commit the open transaction before they run). The changeSet's history
row is written in the transaction that deletes its journal row. So whenever a run is killed, the journal row
left behind says that every statement before *i* took effect, that none after it ran (statements that do not
commit since *i* were rolled back with their transaction), and that *i* was in flight; :func:`effect_of` and
:func:`took_effect` then tell from the database's structure whether *i* took effect, where that can be told.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.reflection import Inspector

from yamlbase.dialects import capabilities, commits_implicitly, first_word
from yamlbase.runtime.history import JournalTable

_READ_ONLY = re.compile(r"(SELECT|SHOW|DESCRIBE|DESC|EXPLAIN|PRAGMA)\b", re.IGNORECASE)


def reads_only(statement: str) -> bool:
    """Whether ``statement`` only reads (the reflection some changes need, a user's ``SELECT``): it changes
    nothing, so it neither took effect nor counts among a changeSet's statements."""
    return _READ_ONLY.match(statement, first_word(statement)) is not None


def one_line(statement: str) -> str:
    """``statement`` on one line, as the journal keeps it and messages show it."""
    return " ".join(statement.split())


class ChangeSetJournal:
    """The statements that write of one changeSet as they run on a database where some commit as they run.

    ``writes`` lists them in order (``skip`` first ones are not run: they took effect in an earlier run that was
    interrupted), ``took_effect()`` those that committed. With a ``table``, the changeSet's journal row is written
    before each one that commits (``recorded``: the row exists). ``autocommit``: each statement commits on its own
    (``runInTransaction: false``).
    """

    def __init__(
        self,
        dialect_name: str,
        *,
        table: JournalTable | None = None,
        key: tuple[str, str, str] | None = None,
        checksum: str | None = None,
        autocommit: bool = False,
        skip: int = 0,
        recorded: bool = False,
    ) -> None:
        self.dialect_name = dialect_name
        self.table = table
        self.key = key
        self.checksum = checksum
        self.autocommit = autocommit
        self.skip = skip
        self.recorded = recorded
        self.writes: list[str] = []
        self._durable = 0
        # Where the dialect's list of committing statements is known, an explicit commit before each of them:
        # the one the statement would make, made even when the statement fails before it runs (a syntax error
        # commits nothing), so that what took effect is known exactly.
        self._commit_first = not autocommit and capabilities(dialect_name).implicit_commit is not None
        self._commits: bool | None = None  # of the statement under way: None when it only reads

    def took_effect(self) -> list[str]:
        """The statements that took effect (committed, or done in the earlier run), in order."""
        return self.writes[: self._durable]

    def before(self, connection: Any, dialect: Dialect, statement: str) -> bool:
        """Called with the DBAPI ``connection`` just before ``statement`` runs; True when it must not run."""
        if reads_only(statement):
            self._commits = None
            return False
        index = len(self.writes)
        self.writes.append(statement)
        if index < self.skip:
            self._commits = True
            return True
        self._commits = self.autocommit or commits_implicitly(self.dialect_name, statement)
        if self._commits:
            if self.table is not None:
                self._write(connection, dialect, index, one_line(statement))
            if self._commit_first:
                connection.commit()
                self._durable = index
        return False

    def after(self) -> None:
        """Called when the statement :meth:`before` let through (or skipped) has run."""
        if self._commits:
            self._durable = len(self.writes)
        self._commits = None

    def _write(self, connection: Any, dialect: Dialect, index: int, statement: str) -> None:
        assert self.table is not None and self.key is not None
        sql, params = self.table.write(dialect, not self.recorded, self.key, self.checksum, index, statement)
        # On the DBAPI connection: SQLAlchemy's is in the middle of executing the statement.
        cursor = connection.cursor()
        try:
            cursor.execute(sql, params)
        finally:
            cursor.close()
        self.recorded = True


# --- what a statement does to the structure, and whether it did it ------------------------------------------

_ID = r'(?:`(?:[^`]|``)+`|"(?:[^"]|"")+"|\[[^\]]+\]|[^\s.,;()`"\[\]]+)'
_QUALIFIED = rf"{_ID}(?:\s*\.\s*{_ID})?"


def _name(group: str) -> str:
    return rf"(?P<{group}>{_QUALIFIED})"


@dataclass(frozen=True)
class Effect:
    """What a statement does to one object: ``kind`` (table, view, sequence, column, index, constraint) named
    ``name`` (in ``table`` for the last three) ``appears`` or disappears; ``was``: renamed from that name."""

    kind: str
    schema: str | None
    name: str
    appears: bool
    table: str | None = None
    was: str | None = None


_S = r"\s+"
_IF_NOT_EXISTS = r"(?:IF\s+NOT\s+EXISTS\s+)?"
_IF_EXISTS = r"(?:IF\s+EXISTS\s+)?"
# Each form: a pattern (from the statement's first word) and what it does, from its named groups.
_FORMS: list[tuple[re.Pattern[str], str, bool]] = [
    (re.compile(p, re.IGNORECASE | re.DOTALL), kind, appears)
    for p, kind, appears in [
        (rf"CREATE{_S}(?:GLOBAL{_S}|LOCAL{_S}|UNLOGGED{_S})?TABLE{_S}{_IF_NOT_EXISTS}{_name('name')}", "table", True),
        (rf"DROP{_S}TABLE{_S}{_IF_EXISTS}{_name('name')}\s*(?:;|$|CASCADE|RESTRICT)", "table", False),
        (
            rf"CREATE{_S}(?:UNIQUE{_S}|FULLTEXT{_S}|SPATIAL{_S})?INDEX{_S}(?:CONCURRENTLY{_S})?{_IF_NOT_EXISTS}"
            rf"(?P<name>{_ID}){_S}ON{_S}(?:ONLY{_S})?{_name('table')}",
            "index",
            True,
        ),
        (
            rf"DROP{_S}INDEX{_S}(?:CONCURRENTLY{_S})?{_IF_EXISTS}{_name('name')}(?:{_S}ON{_S}{_name('table')})?",
            "index",
            False,
        ),
        (
            rf"CREATE{_S}(?:(?:ALGORITHM|DEFINER|SQL{_S}SECURITY)\s*=?\s*\S+{_S})*VIEW{_S}{_IF_NOT_EXISTS}{_name('name')}",
            "view",
            True,
        ),
        (rf"DROP{_S}VIEW{_S}{_IF_EXISTS}{_name('name')}\s*(?:;|$|CASCADE|RESTRICT)", "view", False),
        (rf"CREATE{_S}SEQUENCE{_S}{_IF_NOT_EXISTS}{_name('name')}", "sequence", True),
        (rf"DROP{_S}SEQUENCE{_S}{_IF_EXISTS}{_name('name')}\s*(?:;|$|CASCADE|RESTRICT)", "sequence", False),
        (rf"RENAME{_S}TABLE{_S}{_name('was')}{_S}TO{_S}{_name('name')}\s*(?:;|$)", "table", True),
        (rf"ALTER{_S}INDEX{_S}{_IF_EXISTS}{_name('was')}{_S}RENAME{_S}TO{_S}{_name('name')}", "index", True),
    ]
]
_ALTER_TABLE = re.compile(rf"ALTER{_S}TABLE{_S}(?:ONLY{_S})?{_IF_EXISTS}{_name('table')}{_S}", re.IGNORECASE)
# The first clause of an ALTER TABLE (one is what yamlbase emits; MySQL's ALTER is atomic, so one tells).
_CLAUSES: list[tuple[re.Pattern[str], str, bool]] = [
    (re.compile(p, re.IGNORECASE | re.DOTALL), kind, appears)
    for p, kind, appears in [
        (rf"ADD{_S}CONSTRAINT{_S}(?P<name>{_ID})", "constraint", True),
        (
            rf"ADD{_S}(?:UNIQUE{_S}|FULLTEXT{_S}|SPATIAL{_S})?(?:INDEX|KEY){_S}{_IF_NOT_EXISTS}(?P<name>{_ID})",
            "index",
            True,
        ),
        (r"ADD\s+(?:PRIMARY|UNIQUE|FOREIGN|CHECK|PERIOD|SYSTEM)\b", "", True),  # unnamed: cannot be told
        (rf"ADD{_S}(?:COLUMN{_S})?{_IF_NOT_EXISTS}(?P<name>{_ID})", "column", True),
        (rf"DROP{_S}(?:CONSTRAINT|FOREIGN{_S}KEY|CHECK){_S}{_IF_EXISTS}(?P<name>{_ID})", "constraint", False),
        (rf"DROP{_S}(?:INDEX|KEY){_S}{_IF_EXISTS}(?P<name>{_ID})", "index", False),
        (r"DROP\s+(?:PRIMARY|DEFAULT|PERIOD|SYSTEM|PARTITION)\b", "", False),
        (rf"DROP{_S}(?:COLUMN{_S})?{_IF_EXISTS}(?P<name>{_ID})", "column", False),
        (rf"RENAME{_S}(?:COLUMN{_S})?(?P<was>{_ID}){_S}TO{_S}(?P<name>{_ID})", "column", True),
        (rf"RENAME{_S}(?:INDEX|KEY){_S}(?P<was>{_ID}){_S}TO{_S}(?P<name>{_ID})", "index", True),
        (rf"RENAME{_S}(?:TO{_S}|AS{_S})?{_name('name')}\s*(?:;|$)", "table", True),
        (rf"CHANGE{_S}(?:COLUMN{_S})?{_IF_EXISTS}(?P<was>{_ID}){_S}(?P<name>{_ID})", "column", True),
    ]
]


def _unquote(part: str, dialect_name: str) -> str:
    part = part.strip()
    if part[:1] in ('"', "`"):
        return part[1:-1].replace(part[0] * 2, part[0])
    if part[:1] == "[":
        return part[1:-1]
    # Unquoted names fold: to lower case on PostgreSQL, to upper case on Oracle.
    return part.lower() if dialect_name == "postgresql" else part.upper() if dialect_name == "oracle" else part


def _split(qualified: str, dialect_name: str) -> tuple[str | None, str]:
    parts = re.findall(_ID, qualified)
    names = [_unquote(p, dialect_name) for p in parts]
    return (names[0], names[1]) if len(names) == 2 else (None, names[-1])


def effect_of(statement: str, dialect_name: str) -> Effect | None:
    """What ``statement`` does to the database's structure, in the forms yamlbase (and most people) write; None
    when it is something else (a change of type, data, ``CREATE OR REPLACE``: nothing shows whether it ran)."""
    start = first_word(statement)
    if re.match(r"CREATE\s+OR\s+REPLACE\b", statement[start:], re.IGNORECASE):
        return None
    for pattern, kind, appears in _FORMS:
        found = pattern.match(statement, start)
        if found:
            groups = found.groupdict()
            schema, name = _split(groups["name"], dialect_name)
            table = _split(groups["table"], dialect_name) if groups.get("table") else None
            if table is not None:
                schema = table[0]
            was = _split(groups["was"], dialect_name)[1] if groups.get("was") else None
            if kind == "table" and was is not None:  # RENAME TABLE a TO b: a's schema
                schema = _split(groups["was"], dialect_name)[0]
            return Effect(kind, schema, name, appears, table[1] if table else None, was)
    altered = _ALTER_TABLE.match(statement, start)
    if altered is None:
        return None
    schema, table_name = _split(altered.group("table"), dialect_name)
    for pattern, kind, appears in _CLAUSES:
        found = pattern.match(statement, altered.end())
        if found:
            if not kind:
                return None
            groups = found.groupdict()
            name = _split(groups["name"], dialect_name)[1]
            was = _unquote(groups["was"], dialect_name) if groups.get("was") else None
            if kind == "column" and was is not None and was.lower() == name.lower():
                return None  # CHANGE c c …: a change of definition
            if kind == "table":
                return Effect("table", schema, name, True, None, table_name)
            return Effect(kind, schema, name, appears, table_name, was)
    return None


def took_effect(connection: Connection, statement: str) -> bool | None:
    """Whether ``statement`` (which was running when its run was interrupted) took effect, as the database's
    structure shows; None when that cannot be told."""
    effect = effect_of(statement, connection.dialect.name)
    if effect is None:
        return None
    inspector = sa.inspect(connection)
    try:
        now = _present(inspector, effect, effect.name)
        if now and effect.kind == "index" and _invalid_index(connection, effect.schema, effect.name):
            return None  # PostgreSQL's CREATE INDEX CONCURRENTLY, interrupted, leaves an index that is not one
        if effect.was is None:
            return None if now is None else now == effect.appears
        before = _present(inspector, effect, effect.was)
    except sa.exc.SQLAlchemyError:
        return None
    if now is None or before is None or now == before:
        return None
    return now


def _invalid_index(connection: Connection, schema: str | None, name: str) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    query = sa.text(
        "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = :name AND n.nspname = "
        "coalesce(:schema, current_schema())"
    )
    return bool(connection.execute(query, {"name": name, "schema": schema}).scalar())


def _present(inspector: Inspector, effect: Effect, name: str) -> bool | None:
    """Whether the object of ``effect`` called ``name`` exists; None when its table does not."""
    schema = effect.schema
    if effect.kind == "table":
        return bool(inspector.has_table(name, schema=schema))
    if effect.kind == "view":
        return name in inspector.get_view_names(schema=schema)
    if effect.kind == "sequence":
        return bool(inspector.has_sequence(name, schema=schema))
    wanted = name.casefold()
    if effect.table is None:  # an index named without its table (PostgreSQL): any table of the schema
        found = inspector.get_multi_indexes(schema=schema)
        return any((ix["name"] or "").casefold() == wanted for indexes in found.values() for ix in indexes)
    if not inspector.has_table(effect.table, schema=schema):
        return None
    names: list[str | None]
    if effect.kind == "column":
        names = [c["name"] for c in inspector.get_columns(effect.table, schema=schema)]
    elif effect.kind == "index":
        names = [ix["name"] for ix in inspector.get_indexes(effect.table, schema=schema)]
    else:  # not the indexes: MySQL keeps the one it made for a foreign key, under its name, when the key goes
        names = [fk["name"] for fk in inspector.get_foreign_keys(effect.table, schema=schema)]
        names += [u["name"] for u in inspector.get_unique_constraints(effect.table, schema=schema)]
        names += [ck["name"] for ck in inspector.get_check_constraints(effect.table, schema=schema)]
        names.append(inspector.get_pk_constraint(effect.table, schema=schema).get("name"))
    return any((n or "").casefold() == wanted for n in names)
