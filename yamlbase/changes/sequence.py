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

from yamlbase.changes.base import Change, NoInverse, PlanContext, Step, Unsupported, register
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

    def inverse(self, ctx: PlanContext) -> list[Change]:
        raise NoInverse("dropSequence cannot be rolled back automatically: the sequence's definition is gone")
