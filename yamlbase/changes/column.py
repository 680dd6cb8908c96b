"""Column definitions (shared by createTable and addColumn) and the column change types."""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from pydantic import Field
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import DDLElement
from sqlalchemy.sql.compiler import DDLCompiler

from yamlbase.changes.base import Batch, Change, Model, ObjectRef, PlanContext, Step, Unsupported, register
from yamlbase.changes.captured import RecreateColumns, captured_table
from yamlbase.dialects.types import to_sqlalchemy

Scalar = str | bool | int | float


def next_value_sql(sequence: str, dialect: str) -> str:
    """The next value of ``sequence`` in ``dialect``'s words."""
    if dialect == "postgresql":
        return f"nextval('{sequence}')"
    if dialect == "oracle":
        return f"{sequence}.NEXTVAL"
    if dialect in ("mssql", "mariadb"):
        return f"NEXT VALUE FOR {sequence}"
    raise Unsupported(f"defaultValueSequenceNext: {dialect} has no sequences")


class ColumnConstraints(Model):
    """The ``constraints`` block of a column."""

    nullable: bool | None = Field(None, description="false adds NOT NULL")
    not_null_constraint_name: str | None = None
    primary_key: bool | None = Field(None, description="the column is (part of) the primary key")
    primary_key_name: str | None = None
    primary_key_tablespace: str | None = None
    unique: bool | None = None
    unique_constraint_name: str | None = None
    references: str | None = Field(None, description='foreign key target as "table(column)"')
    referenced_table_name: str | None = None
    referenced_column_names: str | None = None
    referenced_table_schema_name: str | None = None
    referenced_table_catalog_name: str | None = None
    foreign_key_name: str | None = None
    delete_cascade: bool | None = None
    deferrable: bool | None = None
    initially_deferred: bool | None = None
    check_constraint: str | None = None
    validate_nullable: bool | None = None
    validate_unique: bool | None = None
    validate_primary_key: bool | None = None
    validate_foreign_key: bool | None = None


class ColumnConfig(Model):
    """A column as Liquibase describes it: name, type, value/default variants, constraints."""

    data_types = ("type",)

    name: str = Field(description="column name")
    type: str | None = Field(None, min_length=1, description="Liquibase type name, e.g. varchar(50), int, timestamp")
    value: Scalar | None = None
    value_numeric: int | float | str | None = None
    value_boolean: bool | str | None = None
    value_date: str | None = None
    value_computed: str | None = None
    default_value: Scalar | None = Field(None, description="default as a literal")
    default_value_numeric: int | float | str | None = None
    default_value_boolean: bool | str | None = None
    default_value_date: str | None = None
    default_value_computed: str | None = Field(None, description="default as an SQL expression")
    default_value_sequence_next: str | None = None
    default_value_constraint_name: str | None = None
    auto_increment: bool | None = None
    start_with: int | None = None
    increment_by: int | None = None
    generation_type: str | None = None
    default_on_null: bool | None = None
    remarks: str | None = Field(None, description="column comment")
    descending: bool | None = None
    computed: bool | None = None
    encoding: str | None = None
    position: int | None = None
    after_column: str | None = None
    before_column: str | None = None
    constraints: ColumnConstraints | None = None

    def has_default(self) -> bool:
        return any(
            v is not None
            for v in (
                self.default_value,
                self.default_value_numeric,
                self.default_value_boolean,
                self.default_value_date,
                self.default_value_computed,
                self.default_value_sequence_next,
            )
        )

    def server_default(self, ctx: PlanContext) -> Any:
        """The SQLAlchemy ``server_default`` for this column's ``defaultValue*`` attributes."""
        if self.default_value_computed is not None:
            return sa.text(self.default_value_computed)
        if self.default_value_sequence_next is not None:
            return sa.text(next_value_sql(self.default_value_sequence_next, ctx.dialect))
        if self.default_value_boolean is not None:
            value = self.default_value_boolean
            truth = value if isinstance(value, bool) else str(value).lower() in ("true", "1", "t", "yes")
            return sa.true() if truth else sa.false()
        if self.default_value_numeric is not None:
            return sa.text(str(self.default_value_numeric))
        if self.default_value_date is not None:
            return str(self.default_value_date)
        if self.default_value is not None:
            if isinstance(self.default_value, bool):
                return sa.true() if self.default_value else sa.false()
            if isinstance(self.default_value, int | float):
                return sa.text(str(self.default_value))
            return self.default_value
        return None

    def insert_value(self) -> Any:
        """The value of ``value``/``valueNumeric``/``valueBoolean``/``valueDate``/``valueComputed``, if any."""
        if self.value_computed is not None:
            return sa.text(self.value_computed)
        if self.value_boolean is not None:
            v = self.value_boolean
            return v if isinstance(v, bool) else str(v).lower() in ("true", "1", "t", "yes")
        for value in (self.value_numeric, self.value_date, self.value):
            if value is not None:
                return value
        return None

    def sa_type(self, ctx: PlanContext) -> sa.types.TypeEngine:
        type_ = to_sqlalchemy(self.type or "varchar(255)")
        # SQLite auto-increments only an INTEGER PRIMARY KEY (the rowid alias), whatever its width.
        if self.auto_increment and ctx.dialect == "sqlite" and isinstance(type_, sa.Integer):
            return sa.Integer()
        return type_

    def to_column(self, ctx: PlanContext) -> sa.Column[Any]:
        """The SQLAlchemy column; its key and reference constraints come from :func:`constraints_for`."""
        c = self.constraints
        primary = bool(c and c.primary_key)
        nullable = not primary and not (c is not None and c.nullable is False)
        args: list[Any] = []
        if self.auto_increment and ctx.dialect not in ("sqlite", "mysql", "mariadb"):
            always = (self.generation_type or "").strip().upper() == "ALWAYS"  # else BY DEFAULT, as Liquibase
            args.append(sa.Identity(always=always, start=self.start_with, increment=self.increment_by))
        column = sa.Column(
            self.name,
            self.sa_type(ctx),
            *args,
            nullable=nullable,
            server_default=self.server_default(ctx),
            comment=self.remarks,
            # Only an explicit autoIncrement: a plain integer key is no SERIAL / AUTO_INCREMENT / IDENTITY.
            autoincrement=bool(self.auto_increment),
        )
        return column


def _sqlite_cannot_add(col: ColumnConfig) -> bool:
    """SQLite's ADD COLUMN refuses a key, a NOT NULL column without default, and a non-constant default."""
    c = col.constraints
    not_null = c is not None and (c.nullable is False or bool(c.primary_key))
    return bool(
        (c is not None and (c.primary_key or c.unique))
        or (not_null and not col.has_default())
        or col.default_value_computed is not None
    )


def foreign_key_target(c: ColumnConstraints) -> tuple[str | None, str, list[str]] | None:
    """(schema, table, columns) referenced by a column's constraints, if any."""
    if c.references:
        table, _, rest = c.references.partition("(")
        cols = [x.strip() for x in rest.rstrip(")").split(",") if x.strip()]
        schema, _, name = table.strip().rpartition(".")
        return (schema or c.referenced_table_schema_name), name, cols
    if c.referenced_table_name:
        cols = [x.strip() for x in (c.referenced_column_names or "").split(",") if x.strip()]
        return c.referenced_table_schema_name, c.referenced_table_name, cols
    return None


def constraints_for(
    table_name: str, schema: str | None, columns: list[ColumnConfig], ctx: PlanContext, *, adding: bool = True
) -> list[sa.Constraint]:
    """Table-level constraints declared on columns: one primary key, uniques, foreign keys, checks. ``adding``:
    they are added to an existing table (SQLite's recreation must name an unnamed unique constraint); a new
    table's stay as written, unnamed where no name is given, as Liquibase and ``create_all`` make them."""
    result: list[sa.Constraint] = []
    pk = [col for col in columns if col.constraints and col.constraints.primary_key]
    if pk:
        names = [col.constraints.primary_key_name for col in pk if col.constraints.primary_key_name]  # type: ignore[union-attr]
        result.append(sa.PrimaryKeyConstraint(*(col.name for col in pk), name=names[0] if names else None))
    for col in columns:
        c = col.constraints
        if c is None:
            continue
        if c.unique:
            name = c.unique_constraint_name
            if name is None and adding and ctx.recreates_tables:  # Alembic's recreation must name what it adds
                name = f"uq_{table_name}_{col.name}"
            result.append(sa.UniqueConstraint(col.name, name=name))
        target = foreign_key_target(c)
        if target is not None:
            ref_schema, ref_table, ref_cols = target
            prefix = f"{ref_schema}.{ref_table}" if ref_schema else ref_table
            result.append(
                sa.ForeignKeyConstraint(
                    [col.name],
                    [f"{prefix}.{rc}" for rc in ref_cols],
                    name=c.foreign_key_name,
                    ondelete="CASCADE" if c.delete_cascade else None,
                    deferrable=c.deferrable,
                    initially="DEFERRED" if c.initially_deferred else None,
                )
            )
        if c.check_constraint:
            result.append(sa.CheckConstraint(sa.text(c.check_constraint)))
    return result


def constraint_ops(
    table: str, schema: str | None, columns: list[ColumnConfig], ctx: PlanContext
) -> list[ops.MigrateOperation]:
    """The constraints of :func:`constraints_for`, as ALTER operations on an existing table."""
    metadata = sa.MetaData()
    constraints = constraints_for(table, schema, columns, ctx)
    sa.Table(table, metadata, *(sa.Column(c.name, sa.Integer) for c in columns), *constraints, schema=schema)
    for constraint in constraints:
        if isinstance(constraint, sa.ForeignKeyConstraint):  # Alembic resolves the target: give it a stub
            for element in constraint.elements:
                *ref_schema, ref_table, ref_col = element.target_fullname.split(".")
                key = ".".join([*ref_schema, ref_table])
                stub = metadata.tables.get(key)
                if stub is None:
                    stub = sa.Table(ref_table, metadata, schema=".".join(ref_schema) or None)
                if ref_col not in stub.c:
                    stub.append_column(sa.Column(ref_col, sa.Integer))
    return [ops.AddConstraintOp.from_constraint(c) for c in constraints]


class ColumnItem(Model):
    """A ``- column:`` entry of a ``columns`` list."""

    column: ColumnConfig


class ColumnName(Model):
    """A column named in a list (``dropColumn``, ``createIndex``)."""

    name: str
    descending: bool | None = None
    computed: bool | None = None
    type: str | None = None


class ColumnNameItem(Model):
    column: ColumnName


class RenameColumnDDL(DDLElement):
    """``ALTER TABLE t RENAME COLUMN a TO b``, in each dialect's quoting."""

    def __init__(self, table: sa.TableClause, old: str, new: str) -> None:
        self.table, self.old, self.new = table, old, new


@compiles(RenameColumnDDL)
def _rename_column(element: RenameColumnDDL, compiler: DDLCompiler, **kw: Any) -> str:
    quote = compiler.preparer.quote
    return (
        f"ALTER TABLE {compiler.preparer.format_table(element.table)} "
        f"RENAME COLUMN {quote(element.old)} TO {quote(element.new)}"
    )


class _TableChange(Change):
    catalog_name: str | None = None
    schema_name: str | None = None
    table_name: str = Field(description="name of the table")


@register
class AddColumn(_TableChange):
    """Adds one or more columns to an existing table."""

    name = "addColumn"
    described_by = ("tableName",)
    columns: list[ColumnItem] = Field(min_length=1)

    def operations(self, ctx: PlanContext) -> list[Step]:
        cols = [item.column for item in self.columns]
        steps: list[ops.MigrateOperation] = []
        for col in cols:
            steps.append(ops.AddColumnOp(self.table_name, col.to_column(ctx), schema=self.schema_name))
        steps.extend(constraint_ops(self.table_name, self.schema_name, cols, ctx))
        result: list[Step] = list(steps)
        if ctx.recreates_tables and (len(steps) > len(cols) or any(_sqlite_cannot_add(c) for c in cols)):
            result = [Batch(self.table_name, self.schema_name, steps, recreate="always")]
        # ``value`` and friends fill the new column in existing rows (a bound value, never spliced into SQL).
        table = sa.table(self.table_name, *(sa.column(c.name, c.sa_type(ctx)) for c in cols), schema=self.schema_name)
        for col in cols:
            value = col.insert_value()
            if value is not None:
                result.append(ops.ExecuteSQLOp(table.update().values({col.name: value})))
        return result

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [
            DropColumn(
                catalogName=self.catalog_name,
                schemaName=self.schema_name,
                tableName=self.table_name,
                columns=[ColumnNameItem(column=ColumnName(name=item.column.name)) for item in self.columns],
            )
        ]


@register
class DropColumn(_TableChange):
    """Drops one column (``columnName``) or several (``columns``)."""

    name = "dropColumn"
    described_by = ("columnName", "tableName")
    column_name: str | None = Field(None, description="the column to drop")
    columns: list[ColumnNameItem] | None = Field(None, description="several columns to drop")

    def column_names(self) -> list[str]:
        names = [self.column_name] if self.column_name else []
        return names + [item.column.name for item in self.columns or []]

    def operations(self, ctx: PlanContext) -> list[Step]:
        drops = [ops.DropColumnOp(self.table_name, n, schema=self.schema_name) for n in self.column_names()]
        if ctx.recreates_tables:
            return [Batch(self.table_name, self.schema_name, list(drops))]
        return list(drops)

    def destroys(self) -> list[ObjectRef]:
        return [ObjectRef("column", self.schema_name, self.table_name, n) for n in self.column_names()]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        table = captured_table(ctx, self.name, self.schema_name, self.table_name)
        return [RecreateColumns(table=table, columns=self.column_names())]


@register
class RenameColumn(_TableChange):
    """Renames a column."""

    name = "renameColumn"
    data_types = ("column_data_type",)
    described_by = ("newColumnName", "oldColumnName", "tableName")
    old_column_name: str
    new_column_name: str
    column_data_type: str | None = Field(None, description="the column's type (required by MySQL)")
    remarks: str | None = None

    def operations(self, ctx: PlanContext) -> list[Step]:
        if ctx.dialect in ("mysql", "mariadb") or (ctx.dialect == "sqlite" and sqlite3.sqlite_version_info >= (3, 25)):
            # RENAME COLUMN (MySQL 8, MariaDB 10.5.2) keeps the column's definition; Alembic's CHANGE would
            # restate it from columnDataType alone and lose NOT NULL, DEFAULT and AUTO_INCREMENT. SQLite's (3.25)
            # also rewrites the indexes, views and triggers that name the column, which a recreation cannot.
            table = sa.table(self.table_name, schema=self.schema_name)
            return [ops.ExecuteSQLOp(RenameColumnDDL(table, self.old_column_name, self.new_column_name))]
        op = ops.AlterColumnOp(
            self.table_name,
            self.old_column_name,
            schema=self.schema_name,
            modify_name=self.new_column_name,
            existing_type=to_sqlalchemy(self.column_data_type) if self.column_data_type else None,
        )
        if ctx.recreates_tables:
            return [Batch(self.table_name, self.schema_name, [op])]
        return [op]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [
            self.model_copy(update={"old_column_name": self.new_column_name, "new_column_name": self.old_column_name})
        ]
