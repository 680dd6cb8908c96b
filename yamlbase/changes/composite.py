"""Changes made of several steps on existing data: addLookupTable, mergeColumns."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from pydantic import Field

from yamlbase.changes.base import Batch, Change, NoInverse, PlanContext, Step, register
from yamlbase.dialects.types import to_sqlalchemy


@register
class AddLookupTable(Change):
    """Creates a table of the distinct values of a column and makes the column a foreign key to it.

    As Liquibase: the new table gets the non-null distinct values, a NOT NULL primary key on its column, and the
    existing column a foreign key named ``constraintName`` (default ``FK_<EXISTING>_<NEW>``, upper case).
    """

    name = "addLookupTable"
    data_types = ("new_column_data_type",)
    described_by = ("constraintName", "existingColumnName", "existingTableName", "newColumnName", "newTableName")
    existing_table_catalog_name: str | None = None
    existing_table_schema_name: str | None = None
    existing_table_name: str = Field(description="the table holding the values")
    existing_column_name: str = Field(description="the column holding the values")
    new_table_catalog_name: str | None = None
    new_table_schema_name: str | None = None
    new_table_name: str = Field(description="the lookup table to create")
    new_column_name: str = Field(description="the lookup table's column")
    new_column_data_type: str | None = Field(None, description="its type (else the existing column's)")
    constraint_name: str | None = Field(None, description="the foreign key's name")

    def final_constraint_name(self) -> str:
        if self.constraint_name:
            return self.constraint_name
        # Liquibase writes its default name unquoted: PostgreSQL folds it to lower case, Oracle keeps it upper.
        return sa.sql.quoted_name(f"FK_{self.existing_table_name}_{self.new_table_name}".upper(), quote=False)

    def _column_type(self, ctx: PlanContext) -> sa.types.TypeEngine[Any]:
        if self.new_column_data_type:
            return to_sqlalchemy(self.new_column_data_type)
        if ctx.connection is not None:
            # Liquibase copies the type with CREATE TABLE … AS SELECT; here the existing column's type is read.
            inspector = sa.inspect(ctx.connection)
            schema = self.existing_table_schema_name
            if inspector.has_table(self.existing_table_name, schema=schema):
                for column in inspector.get_columns(self.existing_table_name, schema=schema):
                    if column["name"] == self.existing_column_name:
                        return column["type"]  # type: ignore[no-any-return]
            raise ValueError(f"addLookupTable: column {self.existing_table_name}.{self.existing_column_name} not found")
        raise ValueError("addLookupTable needs newColumnDataType when the SQL is rendered without a database")

    def operations(self, ctx: PlanContext) -> list[Step]:
        new_schema, old_schema = self.new_table_schema_name, self.existing_table_schema_name
        create = ops.CreateTableOp(
            self.new_table_name,
            [
                sa.Column(self.new_column_name, self._column_type(ctx), nullable=False, autoincrement=False),
                sa.PrimaryKeyConstraint(self.new_column_name),
            ],
            schema=new_schema,
        )
        new_table = sa.table(self.new_table_name, sa.column(self.new_column_name), schema=new_schema)
        old_column = sa.column(self.existing_column_name)
        sa.table(self.existing_table_name, old_column, schema=old_schema)  # the column's FROM
        fill = new_table.insert().from_select(
            [self.new_column_name], sa.select(old_column).distinct().where(old_column.is_not(None))
        )
        add_fk = ops.CreateForeignKeyOp(
            self.final_constraint_name(),
            self.existing_table_name,
            self.new_table_name,
            [self.existing_column_name],
            [self.new_column_name],
            source_schema=old_schema,
            referent_schema=new_schema,
        )
        steps: list[Step] = [create, ops.ExecuteSQLOp(fill)]
        if ctx.recreates_tables:  # SQLite adds a foreign key only by recreating the table
            steps.append(Batch(self.existing_table_name, old_schema, [add_fk], recreate="always"))
        else:
            steps.append(add_fk)
        return steps

    def inverse(self, ctx: PlanContext) -> list[Change]:
        # Liquibase: dropForeignKeyConstraint + dropTable. Built from the same steps as those changes would be.
        return [_DropLookup.model_validate(self.model_dump(by_alias=True))]


class _DropLookup(AddLookupTable):
    """The inverse of addLookupTable: drop its foreign key, then its table (Liquibase's two inverse changes)."""

    name = "addLookupTable (rollback)"  # not registered: only ever made by AddLookupTable.inverse

    def operations(self, ctx: PlanContext) -> list[Step]:
        old_schema = self.existing_table_schema_name
        fk_name = self.final_constraint_name()
        drop_fk = ops.DropConstraintOp(fk_name, self.existing_table_name, type_="foreignkey", schema=old_schema)
        steps: list[Step] = []
        if ctx.recreates_tables:
            steps.append(Batch(self.existing_table_name, old_schema, [drop_fk], recreate="always"))
        else:
            steps.append(drop_fk)
        if ctx.dialect in ("mysql", "mariadb") and self._has_index(ctx, fk_name):
            # MySQL made an index for the foreign key, and keeps it when the key is dropped.
            steps.append(ops.DropIndexOp(fk_name, table_name=self.existing_table_name, schema=old_schema))
        steps.append(ops.DropTableOp(self.new_table_name, schema=self.new_table_schema_name))
        return steps

    def _has_index(self, ctx: PlanContext, name: str) -> bool:
        if ctx.connection is None:
            return False
        inspector = sa.inspect(ctx.connection)
        indexes = inspector.get_indexes(self.existing_table_name, schema=self.existing_table_schema_name)
        return any(ix["name"] == name for ix in indexes)

    def inverse(self, ctx: PlanContext) -> list[Change]:
        raise NoInverse("the undo of addLookupTable has no inverse")


@register
class MergeColumns(Change):
    """Joins two columns into a new one (``column1 || joinString || column2``) and drops the two."""

    name = "mergeColumns"
    data_types = ("final_column_type",)
    described_by = ("column1Name", "column2Name", "finalColumnName", "tableName")
    catalog_name: str | None = None
    schema_name: str | None = None
    table_name: str = Field(description="the table")
    column1_name: str = Field(alias="column1Name", description="the first column")
    join_string: str | None = Field(None, description="put between the two values (may be empty)")
    column2_name: str = Field(alias="column2Name", description="the second column")
    final_column_name: str = Field(description="the new column")
    final_column_type: str = Field(description="the new column's type")

    def operations(self, ctx: PlanContext) -> list[Step]:
        schema = self.schema_name
        final_type = to_sqlalchemy(self.final_column_type)
        add = ops.AddColumnOp(self.table_name, sa.Column(self.final_column_name, final_type), schema=schema)
        table = sa.table(
            self.table_name,
            sa.column(self.column1_name, sa.String()),
            sa.column(self.column2_name, sa.String()),
            sa.column(self.final_column_name, final_type),
            schema=schema,
        )
        # String concatenation in the dialect's words (||, CONCAT(), +); the join string is a bound value.
        glue = sa.literal(self.join_string or "", sa.String())
        joined = table.c[self.column1_name] + glue + table.c[self.column2_name]
        update = table.update().values({self.final_column_name: joined})
        drops = [ops.DropColumnOp(self.table_name, c, schema=schema) for c in (self.column1_name, self.column2_name)]
        steps: list[Step] = [add, ops.ExecuteSQLOp(update)]
        if ctx.recreates_tables:
            steps.append(Batch(self.table_name, schema, list(drops)))
        else:
            steps += drops
        return steps

    def inverse(self, ctx: PlanContext) -> list[Change]:
        raise NoInverse("mergeColumns cannot be rolled back automatically: the two columns' values are gone")
