"""Structure rebuilt from what was captured before a destructive change ran (see :mod:`yamlbase.runtime.capture`).

These changes are the generated inverses of ``dropTable``, ``dropColumn`` and ``dropIndex`` (and of the other
destructive types that capture). They are not in the changelog language (not in ``REGISTRY``): they exist
only in rollback plans. Types are restated as the SQL text the database reported, so the structure comes
back exactly, on the database it was captured from. The data a drop removed is not restored.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.types import UserDefinedType

from yamlbase.changes.base import Batch, Change, NoInverse, PlanContext, Step, qualified

Table = dict[str, Any]


class SQLTypeText(UserDefinedType):  # type: ignore[type-arg]
    """A column type restated as the SQL the database reported for it (``character varying(50)``, ``INT(11)``)."""

    cache_ok = True

    def __init__(self, sql: str) -> None:
        self.sql = sql

    def get_col_spec(self, **kw: Any) -> str:
        return self.sql


def captured_table(ctx: PlanContext, change: str, schema: str | None, table: str | None, index: str = "") -> Table:
    """The table ``change`` destroyed (or destroyed part of), as captured before it ran; raises :class:`NoInverse`
    saying why when there is no capture. With no ``table``, the one that held ``index``."""
    what = qualified(schema, table) if table else f"index {index}"
    if ctx.captured is None:
        raise NoInverse(
            f"{change} on {what} cannot be rolled back automatically: its structure was not captured when it ran "
            "(it ran under Liquibase or an older yamlbase, was marked as run, or is not applied yet); "
            "add a rollback block"
        )
    tables: dict[str, Table] = ctx.captured.get("tables", {})
    if table is None:
        found = [
            t for t in tables.values() if t["schema"] == schema and any(ix["name"] == index for ix in t["indexes"])
        ]
        if found:
            return found[0]
    elif qualified(schema, table) in tables:
        return tables[qualified(schema, table)]
    raise NoInverse(f"{change} on {what} cannot be rolled back automatically: it did not exist when {change} ran")


def table(schema: str | None, name: str, columns: list[str]) -> Table:
    """A captured table with nothing but column names (to hang one constraint on)."""
    return {
        "schema": schema,
        "name": name,
        "comment": None,
        "columns": [{"name": c} for c in columns],
        "primary_key": None,
        "foreign_keys": [],
        "unique": [],
        "checks": [],
        "indexes": [],
    }


def _column(c: dict[str, Any], dialect: str) -> sa.Column[Any]:
    if c["type"] is None:
        raise ValueError(f"the type of column {c['name']} could not be captured")
    type_sql, default = c["type"], c["default"]
    args: list[Any] = []
    if dialect == "postgresql" and c["autoincrement"] and (default or "").startswith("nextval("):
        # A SERIAL column: its sequence went with it, so it comes back as SERIAL (which makes a new one).
        serial = {"INTEGER": "SERIAL", "BIGINT": "BIGSERIAL", "SMALLINT": "SMALLSERIAL"}
        type_sql, default = serial.get(type_sql.upper(), type_sql), None
    if c["identity"]:
        args.append(sa.Identity(**{k: v for k, v in c["identity"].items() if v is not None}))
    if c["autoincrement"] and dialect in ("mysql", "mariadb"):
        # SQLAlchemy says AUTO_INCREMENT only for an Integer column it chose itself: the attribute is restated.
        type_sql += " AUTO_INCREMENT"
    if c["computed"]:
        args.append(sa.Computed(sa.text(c["computed"]["sqltext"]), persisted=c["computed"]["persisted"]))
        default = None
    return sa.Column(
        c["name"],
        SQLTypeText(type_sql),
        *args,
        nullable=c["nullable"],
        server_default=None if default is None else sa.text(default),
        comment=c["comment"],
        # An Identity says it all; otherwise SQLAlchemy must not add SERIAL / AUTO_INCREMENT of its own.
        autoincrement="auto" if c["identity"] else False,
    )


def _touches(columns: list[str | None], names: set[str] | None) -> bool:
    return names is None or bool(names & {c for c in columns if c})


def _constraints(t: Table, dialect: str, names: set[str] | None = None) -> list[sa.Constraint]:
    """The table's keys and constraints (only those on a column of ``names``, when given)."""
    result: list[sa.Constraint] = []
    pk = t["primary_key"]
    if pk and _touches(pk["columns"], names) and (names is None or set(pk["columns"]) <= names):
        # MySQL calls every primary key PRIMARY and takes no name for it.
        name = None if dialect in ("mysql", "mariadb") else pk["name"]
        result.append(sa.PrimaryKeyConstraint(*pk["columns"], name=name))
    for u in t["unique"]:
        if _touches(u["columns"], names):
            result.append(sa.UniqueConstraint(*u["columns"], name=u["name"]))
    for fk in t["foreign_keys"]:
        if _touches(fk["columns"], names):
            prefix = qualified(fk["referred_schema"], fk["referred_table"])
            result.append(
                sa.ForeignKeyConstraint(
                    fk["columns"],
                    [f"{prefix}.{c}" for c in fk["referred_columns"]],
                    name=fk["name"],
                    ondelete=fk["ondelete"],
                    onupdate=fk["onupdate"],
                    deferrable=fk["deferrable"],
                    initially=fk["initially"],
                )
            )
    for ck in t["checks"]:
        # A check names no columns: the one that mentions a dropped column went with it.
        if names is None or any(re.search(rf"\b{re.escape(n)}\b", ck["sqltext"]) for n in names):
            result.append(sa.CheckConstraint(sa.text(ck["sqltext"]), name=ck["name"]))
    return result


def _index_op(t: Table, ix: dict[str, Any]) -> ops.CreateIndexOp:
    expressions = ix["expressions"] or [None] * len(ix["columns"])
    cols = [c if c is not None else sa.text(e) for c, e in zip(ix["columns"], expressions, strict=False)]
    return ops.CreateIndexOp(ix["name"], t["name"], cols, schema=t["schema"], unique=ix["unique"], **ix["options"])


def _stubbed(t: Table, constraints: list[sa.Constraint]) -> None:
    """Put ``constraints`` on a stand-in of the table, with stand-ins of the tables they reference
    (Alembic builds ``ALTER TABLE … ADD CONSTRAINT`` from a constraint attached to a table)."""
    metadata = sa.MetaData()
    sa.Table(t["name"], metadata, *(sa.Column(c["name"], sa.Integer) for c in t["columns"]), schema=t["schema"])
    table = metadata.tables[qualified(t["schema"], t["name"])]
    for constraint in constraints:
        table.append_constraint(constraint)
        if isinstance(constraint, sa.ForeignKeyConstraint):
            for element in constraint.elements:
                *ref_schema, ref_table, ref_col = element.target_fullname.split(".")
                stub = metadata.tables.get(".".join([*ref_schema, ref_table]))
                if stub is None:
                    stub = sa.Table(ref_table, metadata, schema=".".join(ref_schema) or None)
                if ref_col not in stub.c:
                    stub.append_column(sa.Column(ref_col, sa.Integer))


class Recreate(Change):
    """Base of the generated inverses: ``table`` is the captured table they rebuild from."""

    table: Table

    def note(self) -> str:
        """What comes back without its data, said in ``rollback-sql`` output ("" when nothing held data)."""
        return ""


class RecreateTable(Recreate):
    """The inverse of ``dropTable``: the table with every column, key, constraint, index and comment."""

    name = "createTable"
    # Other tables' foreign keys to this one that a cascading drop removed (capture's "referencing").
    referencing: list[dict[str, Any]] = []

    def operations(self, ctx: PlanContext) -> list[Step]:
        t = self.table
        items: list[Any] = [_column(c, ctx.dialect) for c in t["columns"]] + _constraints(t, ctx.dialect)
        steps: list[Step] = [ops.CreateTableOp(t["name"], items, schema=t["schema"], comment=t["comment"])]
        steps += [_index_op(t, ix) for ix in t["indexes"] if not ix["constraint"]]
        for fk in self.referencing:
            other = table(fk["schema"], fk["table"], fk["columns"])
            constraints = _constraints({**other, "foreign_keys": [fk]}, ctx.dialect)
            _stubbed(other, constraints)
            steps += [ops.AddConstraintOp.from_constraint(c) for c in constraints]
        return steps

    def note(self) -> str:
        where = qualified(self.table["schema"], self.table["name"])
        return f"table {where} is recreated as captured before the drop; the rows it held are not restored"


class RecreateColumns(Recreate):
    """The inverse of ``dropColumn``: the columns, with the keys, constraints and indexes that went with them."""

    name = "addColumn"
    columns: list[str]

    def operations(self, ctx: PlanContext) -> list[Step]:
        t, names = self.table, set(self.columns)
        missing = names - {c["name"] for c in t["columns"]}
        if missing:
            raise ValueError(f"column {', '.join(sorted(missing))} was not in the captured table")
        schema, table = t["schema"], t["name"]
        steps: list[Any] = [
            ops.AddColumnOp(table, _column(c, ctx.dialect), schema=schema) for c in t["columns"] if c["name"] in names
        ]
        mysql = ctx.dialect in ("mysql", "mariadb")
        constraints = _constraints(t, ctx.dialect, names)
        indexes = [ix for ix in t["indexes"] if not ix["constraint"] and _touches(ix["columns"], names)]
        # MySQL keeps an index or unique key whose other columns survive (it only loses the dropped one):
        # it is dropped and created whole again.
        shrunk = [
            ix
            for ix in t["indexes"]
            if mysql
            and (ix["unique"] or not ix["constraint"])
            and _touches(ix["columns"], names)
            and set(ix["columns"]) - names
        ]
        after: list[Any] = [ops.DropIndexOp(ix["name"], table_name=table, schema=schema) for ix in shrunk]
        _stubbed(t, constraints)
        steps += after + [ops.AddConstraintOp.from_constraint(c) for c in constraints]
        result: list[Step] = list(steps)
        if ctx.recreates_tables:
            # Table recreation omits unnamed CHECK constraints (the drop lost them too): restate them all.
            unnamed = tuple(sa.CheckConstraint(sa.text(ck["sqltext"])) for ck in t["checks"] if not ck["name"])
            steps = [s for s in steps if not (isinstance(s, ops.CreateCheckConstraintOp) and not s.constraint_name)]
            result = [Batch(table, schema, steps, recreate="always", table_args=unnamed)]
        return result + [_index_op(t, ix) for ix in indexes]

    def note(self) -> str:
        where = qualified(self.table["schema"], self.table["name"])
        one = len(self.columns) == 1
        what = f"column{'' if one else 's'} {', '.join(self.columns)} of {where} {'is' if one else 'are'}"
        return (
            f"{what} recreated as captured before the drop; the values {'it' if one else 'they'} held are not restored"
        )


class RecreateIndex(Recreate):
    """The inverse of ``dropIndex``: the index as it was."""

    name = "createIndex"
    index: str

    def operations(self, ctx: PlanContext) -> list[Step]:
        found = [ix for ix in self.table["indexes"] if ix["name"] == self.index]
        if not found:
            raise ValueError(f"index {self.index} was not in the captured table")
        return [_index_op(self.table, found[0])]


def notes(changes: list[Change]) -> list[str]:
    """What a rollback plan restores without its data, for a comment in ``rollback-sql`` output."""
    return [note for c in changes if isinstance(c, Recreate) and (note := c.note())]
