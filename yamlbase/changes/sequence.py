"""Sequence change types: createSequence, alterSequence, renameSequence, dropSequence.

Sequences exist on PostgreSQL, MariaDB (10.3+), SQL Server and Oracle. SQLite and MySQL have none: these changes
are refused there rather than rendered as SQL the database would reject. Options follow Liquibase's
``CreateSequenceGenerator``/``AlterSequenceGenerator``: ``cacheSize: 0`` is NOCACHE on Oracle, NO CACHE on SQL
Server, CACHE 0 on MariaDB and CACHE 1 on PostgreSQL; ``ordered`` is Oracle's ORDER/NOORDER (ignored on MariaDB
and refused on PostgreSQL and SQL Server); ``dataType`` is refused on Oracle and MariaDB.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from pydantic import Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateSequence as CreateSequenceDDL
from sqlalchemy.schema import DDLElement
from sqlalchemy.schema import DropSequence as DropSequenceDDL
from sqlalchemy.sql.compiler import DDLCompiler

from yamlbase.changes.base import Change, NoInverse, ObjectRef, PlanContext, Step, Unsupported, qualified, register
from yamlbase.changes.captured import RecreateObject, SQLTypeText, captured_object
from yamlbase.dialects.types import to_sqlalchemy

Number = int | str

_NO_SEQUENCES = {"sqlite": "SQLite", "mysql": "MySQL"}


def require_sequences(change: str, ctx: PlanContext) -> None:
    """Refuse ``change`` on a database without sequences."""
    if ctx.dialect in _NO_SEQUENCES:
        raise Unsupported(
            f"{change} is not supported on {ctx.dialect}: {_NO_SEQUENCES[ctx.dialect]} has no sequences "
            "(MariaDB 10.3+, PostgreSQL, SQL Server and Oracle have them)"
        )


def _number(value: Number | None, attribute: str) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{attribute} must be a whole number, not {value!r}") from None


def _sequence_name(compiler: DDLCompiler, schema: str | None, name: str) -> str:
    return compiler.preparer.format_sequence(sa.Sequence(name, schema=schema))


class _SequenceOptions(Change):
    data_types = ("data_type",)
    catalog_name: str | None = None
    schema_name: str | None = None
    sequence_name: str = Field(description="name of the sequence")
    increment_by: Number | None = None
    min_value: Number | None = None
    max_value: Number | None = None
    cache_size: Number | None = None
    cycle: bool | None = None
    ordered: bool | None = Field(None, description="ORDER (Oracle)")
    data_type: str | None = Field(None, description="the sequence's type (AS …), e.g. bigint")

    @field_validator("increment_by", "min_value", "max_value", "cache_size", check_fields=False)
    @classmethod
    def _whole(cls, value: Number | None, info: ValidationInfo) -> Number | None:
        _number(value, to_camel(info.field_name or ""))  # refused when the changelog is read: its line is known
        return value

    def _check(self, ctx: PlanContext) -> None:
        require_sequences(self.name, ctx)
        if self.ordered is not None and ctx.dialect in ("postgresql", "mssql"):
            raise Unsupported(f"{self.name}: ordered is not supported on {ctx.dialect}")
        if self.data_type is not None and ctx.dialect in ("oracle", "mariadb"):
            raise Unsupported(f"{self.name}: dataType is not supported on {ctx.dialect}")

    def _cache(self, dialect: str) -> tuple[int | None, str]:
        """(CACHE n for SQLAlchemy, or the words that say "no cache" on ``dialect``)."""
        cache = _number(self.cache_size, "cacheSize")
        if cache != 0:
            return cache, ""
        return {"postgresql": (1, ""), "mariadb": (0, ""), "oracle": (None, " NOCACHE"), "mssql": (None, " NO CACHE")}[
            dialect
        ]


class SequenceDDLWith(DDLElement):
    """SQLAlchemy's CREATE/DROP SEQUENCE followed by words it has no option for (NOCACHE, CASCADE)."""

    def __init__(self, ddl: CreateSequenceDDL | DropSequenceDDL, suffix: str) -> None:
        self.ddl, self.suffix = ddl, suffix


@compiles(SequenceDDLWith)
def _sequence_ddl_with(element: SequenceDDLWith, compiler: DDLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.ddl, **kw)) + element.suffix


@register
class CreateSequence(_SequenceOptions):
    """Creates a sequence."""

    name = "createSequence"
    described_by = ("sequenceName",)
    start_value: Number | None = None

    @field_validator("start_value")
    @classmethod
    def _whole_start(cls, value: Number | None) -> Number | None:
        _number(value, "startValue")
        return value

    def operations(self, ctx: PlanContext) -> list[Step]:
        self._check(ctx)
        cache, no_cache = self._cache(ctx.dialect)
        kw: dict[str, Any] = {}
        if self.ordered is not None and ctx.dialect == "oracle":
            kw["oracle_order"] = self.ordered
        sequence = sa.Sequence(
            self.sequence_name,
            schema=self.schema_name,
            start=_number(self.start_value, "startValue"),
            increment=_number(self.increment_by, "incrementBy"),
            minvalue=_number(self.min_value, "minValue"),
            maxvalue=_number(self.max_value, "maxValue"),
            cache=cache,
            cycle=True if self.cycle else None,  # Liquibase says nothing for cycle: false (the default)
            data_type=to_sqlalchemy(self.data_type) if self.data_type else None,
            **kw,
        )
        # As Liquibase on PostgreSQL (9.5+): IF NOT EXISTS.
        create = CreateSequenceDDL(sequence, if_not_exists=ctx.dialect == "postgresql")
        return [ops.ExecuteSQLOp(SequenceDDLWith(create, no_cache) if no_cache else create)]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [
            DropSequence(catalogName=self.catalog_name, schemaName=self.schema_name, sequenceName=self.sequence_name)
        ]


class AlterSequenceDDL(DDLElement):
    """``ALTER SEQUENCE name …`` with Liquibase's clauses in each dialect's words."""

    def __init__(self, schema: str | None, name: str, clauses: dict[str, Any]) -> None:
        self.schema, self.name, self.clauses = schema, name, clauses


@compiles(AlterSequenceDDL)
def _alter_sequence(element: AlterSequenceDDL, compiler: DDLCompiler, **kw: Any) -> str:
    dialect = compiler.dialect.name
    c = element.clauses
    parts = [f"ALTER SEQUENCE {_sequence_name(compiler, element.schema, element.name)}"]
    if c["data_type"] is not None:
        parts.append(f"AS {compiler.type_compiler.process(c['data_type'])}")
    for key, words in (("increment", "INCREMENT BY"), ("minvalue", "MINVALUE"), ("maxvalue", "MAXVALUE")):
        if c[key] is not None:
            parts.append(f"{words} {c[key]}")
    if c["ordered"] is not None:
        parts.append("ORDER" if c["ordered"] else "NOORDER")
    if c["cache"] is not None:
        parts.append(f"CACHE {c['cache']}")
    parts.append(c["no_cache"].strip())
    if c["cycle"] is not None:
        no_cycle = "NOCYCLE" if dialect in ("oracle", "mariadb") else "NO CYCLE"
        parts.append("CYCLE" if c["cycle"] else no_cycle)
    return " ".join(p for p in parts if p)


@register
class AlterSequence(_SequenceOptions):
    """Changes a sequence's increment, bounds, cache, cycle or order."""

    name = "alterSequence"
    described_by = ("sequenceName",)

    def operations(self, ctx: PlanContext) -> list[Step]:
        self._check(ctx)
        if self.data_type is not None and ctx.dialect == "mssql":
            raise Unsupported("alterSequence: dataType is not supported on mssql (ALTER SEQUENCE cannot change it)")
        if self.ordered is not None and ctx.dialect == "mariadb":
            raise Unsupported("alterSequence: ordered is not supported on mariadb")
        cache, no_cache = self._cache(ctx.dialect)
        clauses = {
            "data_type": to_sqlalchemy(self.data_type) if self.data_type else None,
            "increment": _number(self.increment_by, "incrementBy"),
            "minvalue": _number(self.min_value, "minValue"),
            "maxvalue": _number(self.max_value, "maxValue"),
            "ordered": self.ordered,
            "cache": cache,
            "no_cache": no_cache,
            "cycle": self.cycle,
        }
        if all(v is None or v == "" for v in clauses.values()):
            raise Unsupported("alterSequence changes nothing: give incrementBy, minValue, maxValue, cacheSize, cycle…")
        return [ops.ExecuteSQLOp(AlterSequenceDDL(self.schema_name, self.sequence_name, clauses))]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        raise NoInverse("alterSequence cannot be rolled back automatically: the previous settings are unknown")


class RenameSequenceDDL(DDLElement):
    """A sequence's rename in each dialect's words."""

    def __init__(self, schema: str | None, old: str, new: str) -> None:
        self.schema, self.old, self.new = schema, old, new


@compiles(RenameSequenceDDL)
def _rename_sequence(element: RenameSequenceDDL, compiler: DDLCompiler, **kw: Any) -> str:
    dialect = compiler.dialect.name
    old = _sequence_name(compiler, element.schema, element.old)
    if dialect == "mariadb":
        return f"RENAME TABLE {old} TO {_sequence_name(compiler, element.schema, element.new)}"
    if dialect == "mssql":
        return f"EXEC sp_rename '{old.replace(chr(39), chr(39) * 2)}', {compiler.preparer.quote(element.new)}"
    if dialect == "oracle":
        return f"RENAME {old} TO {compiler.preparer.quote(element.new)}"
    return f"ALTER SEQUENCE {old} RENAME TO {compiler.preparer.quote(element.new)}"


@register
class RenameSequence(Change):
    """Renames a sequence."""

    name = "renameSequence"
    described_by = ("newSequenceName", "oldSequenceName")
    catalog_name: str | None = None
    schema_name: str | None = None
    old_sequence_name: str = Field(description="the sequence's current name")
    new_sequence_name: str = Field(description="the sequence's new name")

    def operations(self, ctx: PlanContext) -> list[Step]:
        require_sequences(self.name, ctx)
        if ctx.dialect == "oracle" and self.schema_name:
            raise Unsupported("renameSequence: schemaName is not supported on oracle (RENAME works in the own schema)")
        return [ops.ExecuteSQLOp(RenameSequenceDDL(self.schema_name, self.old_sequence_name, self.new_sequence_name))]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [
            self.model_copy(
                update={"old_sequence_name": self.new_sequence_name, "new_sequence_name": self.old_sequence_name}
            )
        ]


@register
class DropSequence(Change):
    """Drops a sequence."""

    name = "dropSequence"
    described_by = ("sequenceName",)
    catalog_name: str | None = None
    schema_name: str | None = None
    sequence_name: str = Field(description="the sequence to drop")

    def operations(self, ctx: PlanContext) -> list[Step]:
        require_sequences(self.name, ctx)
        drop = DropSequenceDDL(sa.Sequence(self.sequence_name, schema=self.schema_name))
        # As Liquibase on PostgreSQL: CASCADE (column defaults that use the sequence go with it).
        return [ops.ExecuteSQLOp(SequenceDDLWith(drop, " CASCADE") if ctx.dialect == "postgresql" else drop)]

    def destroys(self) -> list[ObjectRef]:
        return [ObjectRef("sequence", self.schema_name, None, self.sequence_name)]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        # Beyond Liquibase (which cannot): the sequence comes back with the settings captured before the drop.
        found = captured_object(ctx, self.name, "sequences", "sequence", self.schema_name, self.sequence_name)
        return [RecreateSequence(captured=found)]


class RestartSequenceDDL(DDLElement):
    """Puts a new sequence where a dropped one stood: after ``value`` (``used``), or going on from it; on MariaDB
    in its ``round`` of cycles."""

    def __init__(self, schema: str | None, name: str, value: int, *, used: bool, round: int = 0) -> None:
        self.schema, self.name, self.value, self.used, self.round = schema, name, value, used, round


@compiles(RestartSequenceDDL)
def _restart_sequence(element: RestartSequenceDDL, compiler: DDLCompiler, **kw: Any) -> str:
    name = _sequence_name(compiler, element.schema, element.name)
    value = int(element.value)
    if compiler.dialect.name == "postgresql":
        # setval takes the sequence as a regclass: its quoted name as text.
        text = "'" + name.replace("'", "''") + "'"
        return f"SELECT setval({text}, {value}, {'true' if element.used else 'false'})"
    if element.round:
        # MariaDB's SETVAL ignores a value behind the sequence's, unless it is for a later round of cycles.
        return f"SELECT SETVAL({name}, {value}, {int(element.used)}, {int(element.round)})"
    if element.used:
        return f"SELECT SETVAL({name}, {value}, 1)"
    return f"ALTER SEQUENCE {name} RESTART WITH {value}"


class SequenceOwnedByDDL(DDLElement):
    """``ALTER SEQUENCE name OWNED BY table.column`` (PostgreSQL)."""

    def __init__(self, schema: str | None, name: str, owner: dict[str, Any]) -> None:
        self.schema, self.name, self.owner = schema, name, owner


@compiles(SequenceOwnedByDDL)
def _sequence_owned_by(element: SequenceOwnedByDDL, compiler: DDLCompiler, **kw: Any) -> str:
    owner = element.owner
    table = compiler.preparer.format_table(sa.table(owner["table"], schema=owner["schema"]))
    column = compiler.preparer.quote(owner["column"])
    return f"ALTER SEQUENCE {_sequence_name(compiler, element.schema, element.name)} OWNED BY {table}.{column}"


class RecreateSequence(RecreateObject):
    """The inverse of ``dropSequence``: the sequence with the settings it had, and where it stood.

    It goes on after the last value it gave out, or with a cache after the last value cached (values cached but
    not used are skipped, as after a server restart): the database keeps no record of which of them were used.
    """

    name = "createSequence"

    def operations(self, ctx: PlanContext) -> list[Step]:
        require_sequences(self.name, ctx)
        c = self.captured
        data_type = c.get("data_type")
        sequence = sa.Sequence(
            c["name"],
            schema=c["schema"],
            start=c["start"],
            increment=c["increment"],
            minvalue=c["min"],
            maxvalue=c["max"],
            cache=c["cache"],
            cycle=True if c["cycle"] else None,  # NO CYCLE is the default, and MariaDB spells it NOCYCLE
            data_type=SQLTypeText(data_type) if data_type and ctx.dialect == "postgresql" else None,
        )
        steps: list[Step] = [ops.ExecuteSQLOp(CreateSequenceDDL(sequence))]
        restart = c.get("restart")
        if restart:
            steps.append(
                ops.ExecuteSQLOp(
                    RestartSequenceDDL(
                        c["schema"], c["name"], restart["value"], used=restart["used"], round=restart.get("round", 0)
                    )
                )
            )
        # PostgreSQL's DROP SEQUENCE … CASCADE took the column defaults that called it: they come back, and the
        # column that owned it owns it again.
        steps += [
            ops.AlterColumnOp(d["table"], d["column"], schema=d["schema"], modify_server_default=sa.text(d["default"]))
            for d in c.get("defaults") or []
        ]
        owner = c.get("owned_by")
        if owner:
            steps.append(ops.ExecuteSQLOp(SequenceOwnedByDDL(c["schema"], c["name"], owner)))
        return steps

    def note(self) -> str:
        where = qualified(self.captured["schema"], self.captured["name"])
        defaults = [f"{qualified(d['schema'], d['table'])}.{d['column']}" for d in self.captured.get("defaults") or []]
        uses = f"; the defaults of {', '.join(defaults)} call it again" if defaults else ""
        restart = self.captured.get("restart")
        c = self.captured
        bound = c["max"] if c["increment"] > 0 else c["min"]
        if not restart:
            at = f"it starts at its start value {c['start']}, where it stood"
        elif restart["used"] and restart["value"] == bound and not c["cycle"]:
            at = f"it had given out {bound}, its last value, and has run out again"
        elif restart["used"]:
            at = f"it goes on after {restart['value']}, the last value it had given out or cached"
        else:
            at = f"it goes on from {restart['value']}, the first value it had not given out or cached"
        return f"sequence {where} is recreated as captured before the drop; {at}{uses}"
