"""Table change types: createTable, dropTable, renameTable."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from pydantic import Field
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateTable as CreateTableDDL
from sqlalchemy.schema import DDLElement
from sqlalchemy.sql.compiler import DDLCompiler

from yamlbase.changes.base import Change, ObjectRef, PlanContext, Step, qualified, register
from yamlbase.changes.captured import RecreateTable, captured_table
from yamlbase.changes.column import ColumnItem, constraints_for


@register
class CreateTable(Change):
    """Creates a table with its columns and their constraints."""

    name = "createTable"
    described_by = ("tableName",)
    catalog_name: str | None = None
    schema_name: str | None = None
    table_name: str = Field(description="name of the new table")
    tablespace: str | None = None
    remarks: str | None = Field(None, description="table comment")
    if_not_exists: bool | None = None
    columns: list[ColumnItem] = Field(min_length=1)

    def operations(self, ctx: PlanContext) -> list[Step]:
        cols = [item.column for item in self.columns]
        items: list[Any] = [col.to_column(ctx) for col in cols]
        items += constraints_for(self.table_name, self.schema_name, cols, ctx, adding=False)
        kw: dict[str, Any] = {}
        if self.if_not_exists:
            kw["if_not_exists"] = True
        return [ops.CreateTableOp(self.table_name, items, schema=self.schema_name, comment=self.remarks, **kw)]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [DropTable(catalogName=self.catalog_name, schemaName=self.schema_name, tableName=self.table_name)]


@compiles(CreateTableDDL, "mssql")
def _create_table_if_not_exists_mssql(element: CreateTableDDL, compiler: DDLCompiler, **kw: Any) -> str:
    """T-SQL has no CREATE TABLE IF NOT EXISTS: guard the statement with OBJECT_ID instead."""
    if not getattr(element, "if_not_exists", False):
        return compiler.visit_create_table(element, **kw)
    element.if_not_exists = False
    try:
        sql = compiler.visit_create_table(element, **kw).strip()
    finally:
        element.if_not_exists = True
    table = element.element
    name = f"{table.schema}.{table.name}" if table.schema else table.name
    return f"IF OBJECT_ID(N'{name.replace(chr(39), chr(39) * 2)}', N'U') IS NULL\n{sql}"


class DropTableCascade(DDLElement):
    """``DROP TABLE … CASCADE`` in each dialect's words (SQLAlchemy's DropTable has no cascade)."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table


@compiles(DropTableCascade)
def _drop_cascade(element: DropTableCascade, compiler: DDLCompiler, **kw: Any) -> str:
    name = compiler.preparer.format_table(element.table)
    suffix = {
        "postgresql": " CASCADE",
        "oracle": " CASCADE CONSTRAINTS",
        "mysql": " CASCADE",
        "mariadb": " CASCADE",
    }
    return f"DROP TABLE {name}{suffix.get(compiler.dialect.name, '')}"


@register
class DropTable(Change):
    """Drops a table; ``cascadeConstraints`` also drops what depends on it."""

    name = "dropTable"
    described_by = ("tableName",)
    catalog_name: str | None = None
    schema_name: str | None = None
    table_name: str = Field(description="the table to drop")
    cascade_constraints: bool | None = None

    def operations(self, ctx: PlanContext) -> list[Step]:
        if self.cascade_constraints:
            table = sa.Table(self.table_name, sa.MetaData(), schema=self.schema_name)
            return [ops.ExecuteSQLOp(DropTableCascade(table))]
        return [ops.DropTableOp(self.table_name, schema=self.schema_name)]

    def destroys(self) -> list[ObjectRef]:
        table = [ObjectRef("table", self.schema_name, None, self.table_name)]
        if self.cascade_constraints:
            table.append(ObjectRef("referencingForeignKeys", self.schema_name, None, self.table_name))
        return table

    def inverse(self, ctx: PlanContext) -> list[Change]:
        table = captured_table(ctx, self.name, self.schema_name, self.table_name)
        assert ctx.captured is not None  # captured_table says why otherwise
        referencing = ctx.captured.get("referencing", {}).get(qualified(self.schema_name, self.table_name), [])
        return [RecreateTable(table=table, referencing=referencing)]


@register
class RenameTable(Change):
    """Renames a table."""

    name = "renameTable"
    described_by = ("newTableName", "oldTableName")
    catalog_name: str | None = None
    schema_name: str | None = None
    old_table_name: str
    new_table_name: str

    def operations(self, ctx: PlanContext) -> list[Step]:
        return [ops.RenameTableOp(self.old_table_name, self.new_table_name, schema=self.schema_name)]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [self.model_copy(update={"old_table_name": self.new_table_name, "new_table_name": self.old_table_name})]
