"""Index change types: createIndex, dropIndex."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from pydantic import Field

from yamlbase.changes.base import Change, ObjectRef, PlanContext, Step, Unsupported, register
from yamlbase.changes.captured import RecreateIndex, captured_table
from yamlbase.changes.column import ColumnNameItem


@register
class CreateIndex(Change):
    """Creates an index (``unique`` for a unique index) on one or more columns."""

    name = "createIndex"
    described_by = ("indexName", "tableName")
    catalog_name: str | None = None
    schema_name: str | None = None
    table_name: str
    index_name: str = Field(description="name of the new index")
    unique: bool | None = None
    tablespace: str | None = None
    clustered: bool | None = None
    associated_with: str | None = None
    columns: list[ColumnNameItem] = Field(min_length=1)

    def operations(self, ctx: PlanContext) -> list[Step]:
        cols: list[Any] = []
        for item in self.columns:
            col = item.column
            if col.computed:
                # MySQL reads a bare expression as a column prefix: a functional key part needs parentheses.
                cols.append(sa.text(f"({col.name})" if ctx.dialect == "mysql" else col.name))
            elif col.descending:
                cols.append(sa.column(col.name).desc())
            else:
                cols.append(col.name)
        return [
            ops.CreateIndexOp(self.index_name, self.table_name, cols, schema=self.schema_name, unique=bool(self.unique))
        ]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [
            DropIndex(
                catalogName=self.catalog_name,
                schemaName=self.schema_name,
                tableName=self.table_name,
                indexName=self.index_name,
            )
        ]


@register
class DropIndex(Change):
    """Drops an index."""

    name = "dropIndex"
    described_by = ("indexName", "tableName")
    catalog_name: str | None = None
    schema_name: str | None = None
    table_name: str | None = Field(None, description="the index's table (required by MySQL)")
    index_name: str
    associated_with: str | None = None

    def operations(self, ctx: PlanContext) -> list[Step]:
        if self.table_name is None and ctx.dialect in ("mysql", "mariadb", "mssql"):
            raise Unsupported(f"dropIndex needs tableName on {ctx.dialect} (DROP INDEX … ON table)")
        return [ops.DropIndexOp(self.index_name, table_name=self.table_name, schema=self.schema_name)]

    def destroys(self) -> list[ObjectRef]:
        return [ObjectRef("index", self.schema_name, self.table_name, self.index_name)]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        table = captured_table(ctx, self.name, self.schema_name, self.table_name, self.index_name)
        return [RecreateIndex(table=table, index=self.index_name)]
