"""Evaluating preconditions against a database, and what ``onFail`` / ``onError`` / ``onSqlOutput`` make of it.

A check *passes*, *fails* (the database is not as required) or *errors* (it could not be evaluated: its SQL
failed, there is no database to ask). As in Liquibase: a block is an AND of its checks; ``and`` collects every
failure, ``or`` passes on the first check that passes, ``not`` fails if any nested check passes; an error ends
the evaluation at once. The database is reflected only here, and only for a changeSet that has preconditions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.engine.reflection import Inspector

from yamlbase.changelog import preconditions as pc
from yamlbase.changelog.filters import dbms_matches
from yamlbase.errors import PreconditionError

if TYPE_CHECKING:
    from yamlbase.changelog.model import ChangeSet
    from yamlbase.changelog.properties import Properties
    from yamlbase.runtime.sink import Sink

log = logging.getLogger("yamlbase")

Status = Literal["passed", "failed", "error"]


@dataclass(frozen=True)
class Outcome:
    """The result of evaluating preconditions: passed, or failed / error with the reasons."""

    status: Status
    reasons: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        return "; ".join(self.reasons)


class _Failed(Exception):
    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons


class _Errored(Exception):
    pass


@dataclass
class Probe:
    """What the checks may look at: the database (None when rendering SQL blind), the run's properties, and
    which changeSets have run. Reflection is cached for one evaluation only: changeSets change the schema."""

    dialect: str
    connection: Connection | None
    # The value of a changelog property (names are case-insensitive), or None when it is not defined.
    property_value: Callable[[str], str | None] = lambda _name: None
    executed: Callable[[str, str, str], bool] = lambda _path, _id, _author: False
    _inspector: Inspector | None = field(default=None, init=False, repr=False)

    @property
    def inspector(self) -> Inspector:
        if self.connection is None:
            raise _Errored("no database to check against (update-sql without a reachable --url)")
        if self._inspector is None:
            self._inspector = sa.inspect(self.connection)
        return self._inspector


def evaluate(items: tuple[pc.Node, ...], probe: Probe) -> Outcome:
    """Evaluate ``items`` as an AND. Leaves the connection with no transaction open (as Liquibase rolls back)."""
    try:
        _all(items, probe)
        return Outcome("passed")
    except _Failed as failed:
        return Outcome("failed", tuple(failed.reasons))
    except _Errored as errored:
        return Outcome("error", (str(errored),))
    finally:
        if probe.connection is not None and probe.connection.in_transaction():
            probe.connection.rollback()


def _all(items: tuple[pc.Node, ...], probe: Probe) -> None:
    reasons: list[str] = []
    for item in items:
        try:
            _node(item, probe)
        except _Failed as failed:
            reasons.extend(failed.reasons)
    if reasons:
        raise _Failed(reasons)


def _node(node: pc.Node, probe: Probe) -> None:
    if isinstance(node, pc.Leaf):
        try:
            reason = _leaf(node.check, probe)
        except _Errored as errored:
            raise _Errored(f"{node.check.name} at {node.location}: {errored}") from None
        except (sa.exc.SQLAlchemyError, NotImplementedError) as exc:
            cause = " ".join(str(getattr(exc, "orig", None) or exc).split())
            raise _Errored(f"{node.check.name} at {node.location}: {cause}") from None
        if reason is not None:
            raise _Failed([f"{reason} ({node.check.name} at {node.location})"])
    elif node.kind == "and":
        _all(node.items, probe)
    elif node.kind == "or":
        reasons: list[str] = []
        for item in node.items:
            try:
                _node(item, probe)
                return
            except _Failed as failed:
                reasons.extend(failed.reasons)
        # As in Liquibase, an empty ``or`` fails: nothing in it passed.
        raise _Failed([f"none of the alternatives passed: {' / '.join(reasons) or f'or at {node.location} is empty'}"])
    else:  # not
        for item in node.items:
            try:
                _node(item, probe)
            except _Failed:
                continue
            raise _Failed([f"not: {item.describe()} passed ({node.kind} at {node.location})"])


# --- the checks: each returns None when it passes, else why it failed ---------------------------------------


def _leaf(check: pc.Check, probe: Probe) -> str | None:
    handler = _HANDLERS[type(check)]
    return handler(check, probe)


def _schema(check: Any) -> str | None:
    return getattr(check, "schema_name", None) or getattr(check, "catalog_name", None)


def _find(name: str, names: list[str]) -> str | None:
    """``name`` as the database spells it: exact, else ignoring case (unquoted names fold on most databases)."""
    if name in names:
        return name
    folded = [n for n in names if n.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


def _qualified(schema: str | None, name: str) -> str:
    return f'"{schema}.{name}"' if schema else f'"{name}"'


def _table(probe: Probe, name: str, schema: str | None) -> str | None:
    return _find(name, probe.inspector.get_table_names(schema=schema))


def _names_equal(wanted: str, got: str | None) -> bool:
    return got is not None and got.casefold() == wanted.casefold()


def _columns(text: str) -> list[str]:
    return [c.strip().casefold() for c in text.split(",") if c.strip()]


def _table_exists(check: pc.TableExistsPrecondition, probe: Probe) -> str | None:
    if _table(probe, check.table_name, _schema(check)) is None:
        return f"table {_qualified(_schema(check), check.table_name)} does not exist"
    return None


def _column_exists(check: pc.ColumnExistsPrecondition, probe: Probe) -> str | None:
    schema = _schema(check)
    table = _table(probe, check.table_name, schema)
    if table is None:
        return f"table {_qualified(schema, check.table_name)} does not exist"
    names = [c["name"] for c in probe.inspector.get_columns(table, schema=schema)]
    if _find(check.column_name, names) is None:
        return f'column "{check.column_name}" does not exist in table {_qualified(schema, table)}'
    return None


def _view_exists(check: pc.ViewExistsPrecondition, probe: Probe) -> str | None:
    if _find(check.view_name, probe.inspector.get_view_names(schema=_schema(check))) is None:
        return f"view {_qualified(_schema(check), check.view_name)} does not exist"
    return None


def _per_table(
    probe: Probe, schema: str | None, table_name: str | None, one: str, many: str
) -> list[tuple[str, list[dict[str, Any]]]] | None:
    """(table, reflected items) for one table (``inspector.<one>``) or every table of the schema
    (``inspector.<many>``, one query where the dialect can); None when the named table does not exist."""
    inspector = probe.inspector
    if table_name is not None:
        table = _table(probe, table_name, schema)
        if table is None:
            return None
        found = getattr(inspector, one)(table, schema=schema)
        return [(table, found if isinstance(found, list) else [found])]
    every = getattr(inspector, many)(schema=schema)
    return [(key[1], found if isinstance(found, list) else [found]) for key, found in every.items()]


def _index_exists(check: pc.IndexExistsPrecondition, probe: Probe) -> str | None:
    schema = _schema(check)
    tables = _per_table(probe, schema, check.table_name, "get_indexes", "get_multi_indexes")
    what = f'index "{check.index_name}"' if check.index_name else "an index"
    if check.table_name:
        what += f" on {_qualified(schema, check.table_name)}"
    if check.column_names:
        what += f" ({check.column_names})"
    if tables is None:
        return f"{what} does not exist: no table {_qualified(schema, check.table_name or '')}"
    wanted = _columns(check.column_names) if check.column_names else None
    for _table_name, indexes in tables:
        for index in indexes:
            if check.index_name is not None and not _names_equal(check.index_name, index.get("name")):
                continue
            columns = [str(c).casefold() for c in index.get("column_names") or [] if c is not None]
            if wanted is not None and columns != wanted:
                continue
            return None
    return f"{what} does not exist"


def _sequence_exists(check: pc.SequenceExistsPrecondition, probe: Probe) -> str | None:
    schema = _schema(check)
    inspector = probe.inspector
    if not inspector.dialect.supports_sequences:
        return f'sequence "{check.sequence_name}" does not exist ({probe.dialect} has no sequences)'
    if _find(check.sequence_name, inspector.get_sequence_names(schema=schema)) is None:
        return f"sequence {_qualified(schema, check.sequence_name)} does not exist"
    return None


def _primary_key_exists(check: pc.PrimaryKeyExistsPrecondition, probe: Probe) -> str | None:
    schema = _schema(check)
    tables = _per_table(probe, schema, check.table_name, "get_pk_constraint", "get_multi_pk_constraint")
    what = f'primary key "{check.primary_key_name}"' if check.primary_key_name else "a primary key"
    if check.table_name:
        what += f" on {_qualified(schema, check.table_name)}"
    if tables is None:
        return f"{what} does not exist: no table {_qualified(schema, check.table_name or '')}"
    # MySQL/MariaDB name every primary key PRIMARY: on a given table, any primary key is the one meant.
    compare_name = check.primary_key_name is not None and not (
        check.table_name is not None and probe.dialect in ("mysql", "mariadb")
    )
    for _table_name, keys in tables:
        for key in keys:
            if not key.get("constrained_columns"):
                continue
            if compare_name and not _names_equal(check.primary_key_name or "", key.get("name")):
                continue
            return None
    return f"{what} does not exist"


def _foreign_key_exists(check: pc.ForeignKeyConstraintExistsPrecondition, probe: Probe) -> str | None:
    schema = _schema(check)
    table_name = check.foreign_key_table_name
    tables = _per_table(probe, schema, table_name, "get_foreign_keys", "get_multi_foreign_keys")
    what = f'foreign key "{check.foreign_key_name}"'
    if table_name:
        what += f" on {_qualified(schema, table_name)}"
    if tables is None:
        return f"{what} does not exist: no table {_qualified(schema, table_name or '')}"
    for _table_name, keys in tables:
        if any(_names_equal(check.foreign_key_name, key.get("name")) for key in keys):
            return None
    return f"{what} does not exist"


def _unique_constraint_exists(check: pc.UniqueConstraintExistsPrecondition, probe: Probe) -> str | None:
    schema = _schema(check)
    what = f'unique constraint "{check.constraint_name}"' if check.constraint_name else "a unique constraint"
    what += f" on {_qualified(schema, check.table_name)}"
    if check.column_names:
        what += f" ({check.column_names})"
    table = _table(probe, check.table_name, schema)
    if table is None:
        return f"{what} does not exist: no table {_qualified(schema, check.table_name)}"
    wanted = set(_columns(check.column_names)) if check.column_names else None
    for unique in probe.inspector.get_unique_constraints(table, schema=schema):
        if check.constraint_name and not _names_equal(check.constraint_name, unique.get("name")):
            continue
        if wanted is not None and {str(c).casefold() for c in unique.get("column_names") or []} != wanted:
            continue
        return None
    return f"{what} does not exist"


def _as_text(value: Any) -> str:
    """A query result as Liquibase's ``toString`` writes it (``true``, ``1.50``, ``3``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _sql_check(check: pc.SqlCheckPrecondition, probe: Probe) -> str | None:
    from yamlbase.runtime.sink import raw_text

    if probe.connection is None:
        raise _Errored("no database to run the query on (update-sql without a reachable --url)")
    sql = check.sql.strip()
    sql = sql[:-1] if sql.endswith(";") else sql  # Liquibase drops one trailing ';'
    result = probe.connection.execute(raw_text(sql))
    if not result.returns_rows:
        raise _Errored("the query returned no result set")
    rows = result.fetchmany(2)
    if len(rows) > 1:
        raise _Errored("the query returned more than one row")
    if not rows or rows[0][0] is None:
        return "the query returned no value"
    if len(rows[0]) > 1:
        raise _Errored("the query returned more than one column")
    got = _as_text(rows[0][0])
    if got != check.expected_result:
        return f"the query returned {got!r}, expected {check.expected_result!r}"
    return None


def _dbms(check: pc.DbmsPrecondition, probe: Probe) -> str | None:
    if not dbms_matches(check.type, probe.dialect):
        return f"the database is {probe.dialect}, expected {check.type}"
    return None


def _running_as(check: pc.RunningAsPrecondition, probe: Probe) -> str | None:
    if probe.connection is None:
        raise _Errored("no database connection, so no user to compare")
    user = probe.connection.engine.url.username or ""
    user = user.split("@", 1)[0]  # Liquibase compares the name without @host
    if user.casefold() != check.username.casefold():
        return f"running as {user or '(no user)'}, expected {check.username}"
    return None


def _normal_path(path: str) -> str:
    path = path.replace("\\", "/").removeprefix("classpath:")
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def _changeset_executed(check: pc.ChangeSetExecutedPrecondition, probe: Probe) -> str | None:
    if not probe.executed(_normal_path(check.change_log_file), check.id, check.author):
        return f"changeSet {check.change_log_file}::{check.id}::{check.author} has not been run"
    return None


def _property_defined(check: pc.ChangeLogPropertyDefinedPrecondition, probe: Probe) -> str | None:
    value = probe.property_value(check.property)
    if value is None:
        return f'property "{check.property}" is not defined'
    if check.value is not None and value != check.value:
        return f'property "{check.property}" is {value!r}, expected {check.value!r}'
    return None


def _count(probe: Probe, table_name: str, schema: str | None, limit: int | None = None) -> int:
    table = _table(probe, table_name, schema)
    if table is None:
        raise _Errored(f"table {_qualified(schema, table_name)} does not exist")
    assert probe.connection is not None  # _table reflected through it
    source = sa.table(table, schema=schema)
    if limit is not None:
        inner = sa.select(sa.literal_column("1")).select_from(source).limit(limit).subquery()
        return int(probe.connection.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one())
    return int(probe.connection.execute(sa.select(sa.func.count()).select_from(source)).scalar_one())


def _row_count(check: pc.RowCountPrecondition, probe: Probe) -> str | None:
    found = _count(probe, check.table_name, _schema(check))
    if found != check.expected_rows:
        return f"table {_qualified(_schema(check), check.table_name)} has {found} rows, expected {check.expected_rows}"
    return None


def _table_is_empty(check: pc.TableIsEmptyPrecondition, probe: Probe) -> str | None:
    if _count(probe, check.table_name, _schema(check), limit=1):
        return f"table {_qualified(_schema(check), check.table_name)} is not empty"
    return None


_HANDLERS: dict[type[pc.Check], Callable[[Any, Probe], str | None]] = {
    pc.TableExistsPrecondition: _table_exists,
    pc.ColumnExistsPrecondition: _column_exists,
    pc.ViewExistsPrecondition: _view_exists,
    pc.IndexExistsPrecondition: _index_exists,
    pc.SequenceExistsPrecondition: _sequence_exists,
    pc.PrimaryKeyExistsPrecondition: _primary_key_exists,
    pc.ForeignKeyConstraintExistsPrecondition: _foreign_key_exists,
    pc.UniqueConstraintExistsPrecondition: _unique_constraint_exists,
    pc.SqlCheckPrecondition: _sql_check,
    pc.DbmsPrecondition: _dbms,
    pc.RunningAsPrecondition: _running_as,
    pc.ChangeSetExecutedPrecondition: _changeset_executed,
    pc.ChangeLogPropertyDefinedPrecondition: _property_defined,
    pc.RowCountPrecondition: _row_count,
    pc.TableIsEmptyPrecondition: _table_is_empty,
}


# --- what the outcome means for the run ------------------------------------------------------------------


Action = Literal["run", "skip", "mark_ran"]


@dataclass(frozen=True)
class Decision:
    """What to do with a changeSet (or the changelog) after its preconditions: run it, skip it (it stays
    pending), or record it as MARK_RAN; ``comment`` is for the SQL output of update-sql."""

    action: Action
    comment: str | None = None


def decide(
    block: pc.Preconditions, probe: Probe, *, online: bool, subject: str, changelog_level: bool = False
) -> Decision:
    """Apply ``onFail`` / ``onError`` (and, rendering SQL, ``onSqlOutput``) to the outcome of ``block``.

    Raises :class:`PreconditionError` for HALT. ``subject`` names what is guarded (``changeSet path::id::author``).
    At changelog level only HALT and WARN mean something; Liquibase halts on the others, and so does this.
    """
    if not online and block.on_sql_output == "IGNORE":
        listed = "\n".join(f"  {item.describe()}" for item in block.items)
        return Decision(
            "run",
            f"Preconditions not checked in update-sql (onSqlOutput IGNORE; onFail {block.on_fail}, "
            f"onError {block.on_error}):\n{listed}",
        )
    if not online and block.on_sql_output == "FAIL":
        outcome = Outcome("failed", ("preconditions cannot be checked in update-sql (onSqlOutput FAIL)",))
    else:
        outcome = evaluate(block.items, probe)
    if outcome.status == "passed":
        return Decision("run", None if online else "Preconditions passed (onSqlOutput TEST)")
    failed = outcome.status == "failed"
    option = block.on_fail if failed else block.on_error
    custom = block.options.on_fail_message if failed else block.options.on_error_message
    what = "failed" if failed else "could not be checked"
    detail = f"{custom}: {outcome.message}" if custom else outcome.message
    if option == "HALT" or (changelog_level and option in ("CONTINUE", "MARK_RAN")):
        setting = "onFail" if failed else "onError"
        raise PreconditionError(f"{subject}: preconditions {what} ({setting} {option}): {detail}")
    text = f"{subject}: preconditions {what}: {detail}"
    if option == "WARN":
        log.warning(f"{text}; {'continuing' if changelog_level else 'running it'} anyway (WARN)")
        return Decision("run", f"WARNING: {text}; {'continued' if changelog_level else 'run'} anyway (WARN)")
    if option == "CONTINUE":
        log.warning(f"{text}; skipped, it stays pending (CONTINUE)")
        return Decision("skip", f"{text}; skipped, it stays pending (CONTINUE)")
    log.warning(f"{text}; marked as ran without running it (MARK_RAN)")
    return Decision("mark_ran", f"{text}; marked as ran (MARK_RAN)")


class Gate:
    """Checks preConditions during an update: the changelog's blocks once, then each changeSet's before it runs.
    Decisions that update-sql should show are written to the sink as comments."""

    def __init__(
        self,
        sink: Sink,
        reader: Connection | None,
        ran: set[tuple[str, str, str]],
        properties: Properties | None = None,
    ) -> None:
        self.sink = sink
        self.reader = reader
        self.ran = ran  # (path, id, author) in the history or run so far, for changeSetExecuted
        self.properties = properties  # what changeLogPropertyDefined sees

    def _probe(self, file: str) -> Probe:
        known = self.properties

        def value(name: str) -> str | None:
            return known.lookup(name, file) if known is not None else None

        return Probe(self.sink.dialect_name, self.reader, value, lambda *key: key in self.ran)

    def _decide(self, block: pc.Preconditions, subject: str, changelog_level: bool = False) -> Action:
        decision = decide(
            block, self._probe(block.file), online=self.sink.online, subject=subject, changelog_level=changelog_level
        )
        if decision.comment:
            self.sink.comment(decision.comment)
        return decision.action

    def check_changelog(self, blocks: list[pc.Preconditions]) -> None:
        """Raises :class:`PreconditionError` unless every changelog-level block passes (or only warns)."""
        for block in blocks:
            self._decide(block, f"changelog {block.file}", changelog_level=True)

    def check(self, cs: ChangeSet) -> Action:
        """Whether to run ``cs``, skip it, or record it as MARK_RAN; raises for HALT."""
        if cs.preconditions is None:
            return "run"
        return self._decide(cs.preconditions, f"changeSet {cs.identifier}")
