"""Comments on tables, views and columns: setTableRemarks, setColumnRemarks (and createView's remarks).

PostgreSQL and Oracle say ``COMMENT ON``; MySQL/MariaDB keep a comment in the table's or column's definition
(a column's comment restates its type, so ``columnDataType`` is required there, as in Liquibase); SQL Server keeps
it as the ``MS_Description`` extended property. SQLite has no comments: as Liquibase, yamlbase sets none there,
and says so (a warning when applying, a comment in ``update-sql``).
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from alembic.operations import ops
from pydantic import Field
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import DDLElement
from sqlalchemy.sql.compiler import DDLCompiler

from yamlbase.changes.base import Change, Message, NoInverse, PlanContext, Step, Unsupported, register
from yamlbase.dialects.types import to_sqlalchemy

Parent = Literal["table", "view"]


class CommentOnDDL(DDLElement):
    """``COMMENT ON TABLE|VIEW|COLUMN name IS 'text'`` (PostgreSQL, Oracle)."""

    def __init__(self, parent: Parent, schema: str | None, table: str, column: str | None, text: str) -> None:
        self.parent, self.schema, self.table, self.column, self.text = parent, schema, table, column, text


@compiles(CommentOnDDL)
def _comment_on(element: CommentOnDDL, compiler: DDLCompiler, **kw: Any) -> str:
    preparer = compiler.preparer
    name = preparer.quote(element.table)
    if element.schema:
        name = f"{preparer.quote_schema(element.schema)}.{name}"
    if element.column is not None:
        kind = "COLUMN"
        name = f"{name}.{preparer.quote(element.column)}"
    elif element.parent == "view" and compiler.dialect.name != "oracle":  # Oracle: COMMENT ON TABLE for views too
        kind = "VIEW"
    else:
        kind = "TABLE"
    literal = compiler.sql_compiler.render_literal_value(element.text, sa.String())
    return f"COMMENT ON {kind} {name} IS {literal}"


def _mssql_description(parent: Parent, schema: str | None, table: str, column: str | None, text: str) -> sa.TextClause:
    """Set ``MS_Description``: update the property where there is one, else add it (values bound)."""
    levels = f"@level0type = N'SCHEMA', @level0name = :schema, @level1type = N'{parent.upper()}', @level1name = :table"
    minor = "0"
    if column is not None:
        levels += ", @level2type = N'COLUMN', @level2name = :column"
        minor = "COLUMNPROPERTY(OBJECT_ID(:object), :column, 'ColumnId')"
    sql = (
        "IF EXISTS (SELECT 1 FROM sys.extended_properties WHERE major_id = OBJECT_ID(:object) "
        f"AND name = N'MS_Description' AND minor_id = {minor})\n"
        f"    EXEC sys.sp_updateextendedproperty @name = N'MS_Description', @value = :remarks, {levels}\n"
        "ELSE\n"
        f"    EXEC sys.sp_addextendedproperty @name = N'MS_Description', @value = :remarks, {levels}"
    )
    schema = schema or "dbo"
    quoted = ".".join("[" + part.replace("]", "]]") + "]" for part in (schema, table))
    params: list[sa.BindParameter[Any]] = [
        sa.bindparam("object", quoted, type_=sa.Unicode()),
        sa.bindparam("remarks", text, type_=sa.Unicode()),
        sa.bindparam("schema", schema, type_=sa.Unicode()),
        sa.bindparam("table", table, type_=sa.Unicode()),
    ]
    if column is not None:
        params.append(sa.bindparam("column", column, type_=sa.Unicode()))
    return sa.text(sql).bindparams(*params)


def remarks_steps(
    ctx: PlanContext,
    parent: Parent,
    schema: str | None,
    table: str,
    column: str | None,
    remarks: str | None,
    column_type: str | None = None,
) -> list[Step]:
    """The steps that set the comment of a table or view (``column`` None) or of one of its columns."""
    text = (remarks or "").strip()  # Liquibase trims the remarks (none is an empty comment)
    what = f"{parent} {table}" + (f" column {column}" if column is not None else "")
    if ctx.dialect == "sqlite":
        return [Message(f"SQLite has no comments: the remarks on {what} are not stored", "WARN")]
    if ctx.dialect == "mssql":
        return [ops.ExecuteSQLOp(_mssql_description(parent, schema, table, column, text))]
    if ctx.dialect in ("mysql", "mariadb"):
        if parent == "view":
            return [Message(f"{ctx.dialect} keeps no comments on views: the remarks on {what} are not stored", "WARN")]
        if column is None:
            return [ops.CreateTableCommentOp(table, text, schema=schema)]
        if not column_type:
            raise Unsupported(f"setColumnRemarks needs columnDataType on {ctx.dialect} (MODIFY restates the column)")
        type_ = to_sqlalchemy(column_type)
        # As Liquibase (which warns the same): MODIFY redefines the column from columnDataType alone.
        warning = Message(
            f"setColumnRemarks on {ctx.dialect} restates {what} as {column_type}: "
            "a NOT NULL, DEFAULT or AUTO_INCREMENT it had is lost",
            "WARN",
        )
        return [warning, ops.AlterColumnOp(table, column, schema=schema, modify_comment=text, existing_type=type_)]
    return [ops.ExecuteSQLOp(CommentOnDDL(parent, schema, table, column, text))]


@register
class SetTableRemarks(Change):
    """Sets the comment of a table."""

    name = "setTableRemarks"
    described_by = ("tableName",)
    catalog_name: str | None = None
    schema_name: str | None = None
    table_name: str = Field(description="the table")
    remarks: str | None = Field(None, description="the comment")

    def operations(self, ctx: PlanContext) -> list[Step]:
        return remarks_steps(ctx, "table", self.schema_name, self.table_name, None, self.remarks)

    def inverse(self, ctx: PlanContext) -> list[Change]:
        raise NoInverse("setTableRemarks cannot be rolled back automatically: the previous comment is unknown")


@register
class SetColumnRemarks(Change):
    """Sets the comment of a column (``columnDataType`` is required on MySQL/MariaDB)."""

    name = "setColumnRemarks"
    data_types = ("column_data_type",)
    described_by = ("columnName", "tableName")
    catalog_name: str | None = None
    schema_name: str | None = None
    table_name: str = Field(description="the column's table")
    column_name: str = Field(description="the column")
    remarks: str | None = Field(None, description="the comment")
    column_data_type: str | None = Field(None, description="the column's type (required by MySQL/MariaDB)")
    column_parent_type: Literal["TABLE", "VIEW"] | None = Field(None, description="TABLE (default) or VIEW")

    def operations(self, ctx: PlanContext) -> list[Step]:
        parent: Parent = "view" if self.column_parent_type == "VIEW" else "table"
        return remarks_steps(
            ctx, parent, self.schema_name, self.table_name, self.column_name, self.remarks, self.column_data_type
        )

    def inverse(self, ctx: PlanContext) -> list[Change]:
        raise NoInverse("setColumnRemarks cannot be rolled back automatically: the previous comment is unknown")
