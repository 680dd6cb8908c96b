"""Constraint and column-property change types: NOT NULL, defaults, auto-increment, data types, primary, foreign,
unique and check constraints.

Each renders through Alembic's operations (per-dialect ``ALTER``), inside :class:`Batch` on SQLite, which can only
recreate the table. What a database cannot express is refused with the reason, never rendered half-right.
"""

from __future__ import annotations

import decimal
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from pydantic import Field, field_validator, model_validator
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import AddConstraint, DDLElement
from sqlalchemy.sql.compiler import DDLCompiler
from sqlalchemy.types import TypeEngine

from yamlbase.changes.base import Batch, Change, NoInverse, ObjectRef, PlanContext, Step, Unsupported, register
from yamlbase.changes.captured import captured_table
from yamlbase.changes.column import ColumnConfig, Scalar
from yamlbase.dialects.types import to_sqlalchemy

MYSQL = ("mysql", "mariadb")
REFERENTIAL_ACTIONS = ("CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT", "NO ACTION")

# Clauses SQLAlchemy does not render after ADD CONSTRAINT (Oracle's ENABLE NOVALIDATE and DISABLE, MySQL's NOT
# ENFORCED, USING INDEX [TABLESPACE], SQL Server's ON filegroup) travel in the constraint's info, as (words, name):
# the name, if any, is quoted by the dialect.
CLAUSES = "yamlbase.clauses"
Clause = tuple[str, tuple[str, ...]]


def clauses(*items: Clause | None) -> dict[str, Any]:
    """Constraint keyword arguments carrying ``items`` (None items are left out)."""
    present = [item for item in items if item is not None]
    return {"info": {CLAUSES: present}} if present else {}


@compiles(AddConstraint)
def _add_constraint(element: AddConstraint, compiler: DDLCompiler, **kw: Any) -> str:
    sql: str = compiler.visit_add_constraint(element, **kw)
    for words, name in element.element.info.get(CLAUSES, ()):
        quoted = ".".join(compiler.preparer.quote(part) for part in name)
        sql += f" {words} {quoted}" if quoted else f" {words}"
    return sql


class ClusterTable(DDLElement):
    """PostgreSQL's ``CLUSTER t USING index``: order the table's rows by the index, as a clustered key asks."""

    def __init__(self, table: sa.TableClause, index: str) -> None:
        self.table, self.index = table, index


@compiles(ClusterTable)
def _cluster_table(element: ClusterTable, compiler: DDLCompiler, **kw: Any) -> str:
    return f"CLUSTER {compiler.preparer.format_table(element.table)} USING {compiler.preparer.quote(element.index)}"


def _index_clauses(
    ctx: PlanContext, tablespace: str | None, index: tuple[str | None, str | None]
) -> list[Clause | None]:
    """Where the index of a primary key or unique constraint goes: a named index (Oracle), a tablespace."""
    schema, name = index
    result: list[Clause | None] = []
    if name is not None:
        if ctx.dialect != "oracle":
            raise Unsupported(f"forIndexName is not supported on {ctx.dialect}")
        result.append(("USING INDEX", (schema, name) if schema else (name,)))
    if tablespace and ctx.dialect in ("postgresql", "oracle") and name is None:
        result.append(("USING INDEX TABLESPACE", (tablespace,)))
    elif tablespace and ctx.dialect == "mssql":
        result.append(("ON", (tablespace,)))
    # MySQL and SQLite have no tablespace for an index: as in Liquibase, the attribute has no effect there.
    return result


def names(text: str) -> list[str]:
    """The names of a comma-separated list (``columnNames: a, b``)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def _type(data_type: str | None) -> TypeEngine[Any] | None:
    return to_sqlalchemy(data_type) if data_type else None


def _on_table(ctx: PlanContext, table: str, schema: str | None, steps: list[Any], recreate: str = "auto") -> list[Step]:
    """Alembic operations on one table; on SQLite inside a batch (table recreation)."""
    if ctx.recreates_tables:
        return [Batch(table, schema, steps, recreate=recreate)]
    return list(steps)


def _need_type(data_type: str | None, ctx: PlanContext, why: str) -> None:
    if data_type is None:
        raise Unsupported(f"needs columnDataType on {ctx.dialect}: {why}")


def _need_connection(ctx: PlanContext, what: str, remedy: str = "") -> sa.Connection:
    if ctx.connection is None:
        raise ValueError(
            f"needs a database to read {what} from; it cannot be rendered for {ctx.dialect} without one{remedy}"
        )
    return ctx.connection


def _reflected_table(ctx: PlanContext, connection: sa.Connection, table: str, schema: str | None) -> sa.Table:
    inspector = sa.inspect(connection)
    if not inspector.has_table(table, schema=schema):
        raise ValueError(f"table {table} does not exist")
    return sa.Table(table, sa.MetaData(), schema=schema, autoload_with=connection, resolve_fks=False)


def _captured_column(ctx: PlanContext, change: Change, schema: str | None, table: str, column: str) -> dict[str, Any]:
    """The column as captured before ``change`` ran (raises :class:`NoInverse` saying why when it was not)."""
    found = [c for c in captured_table(ctx, change.name, schema, table)["columns"] if c["name"] == column]
    if not found or found[0].get("type") is None:
        raise NoInverse(f"{change.name} cannot be rolled back automatically: column {column} was not captured")
    return found[0]


def _mysql_restated(ctx: PlanContext, table: str, schema: str | None, column: str) -> dict[str, Any]:
    """What MySQL's MODIFY must restate to keep it: the column's nullability, default, comment, AUTO_INCREMENT.

    MODIFY redefines the whole column, so anything it does not repeat is lost (Liquibase loses it). With a database
    to read, yamlbase repeats it; without one (update-sql --dialect) the statement says what the change says.
    """
    if ctx.dialect not in MYSQL or ctx.connection is None:
        return {}
    inspector = sa.inspect(ctx.connection)
    if not inspector.has_table(table, schema=schema):
        return {}
    found = [c for c in inspector.get_columns(table, schema=schema) if c["name"] == column]
    if not found:
        return {}
    reflected = found[0]
    restated: dict[str, Any] = {"existing_nullable": bool(reflected["nullable"])}
    default = reflected.get("default")
    if default is not None and str(default).upper() != "NULL":
        restated["existing_server_default"] = sa.text(str(default))
    if reflected.get("comment"):
        restated["existing_comment"] = reflected["comment"]
    if reflected.get("autoincrement") is True:
        restated["existing_autoincrement"] = True
    return restated


class OracleModifyNotNull(DDLElement):
    """Oracle's ``ALTER TABLE t MODIFY c [CONSTRAINT n] NOT NULL [ENABLE NOVALIDATE]`` (a named NOT NULL)."""

    def __init__(self, table: sa.TableClause, column: str, name: str | None, validate: bool) -> None:
        self.table, self.column, self.constraint_name, self.validate = table, column, name, validate


@compiles(OracleModifyNotNull)
def _oracle_modify_not_null(element: OracleModifyNotNull, compiler: DDLCompiler, **kw: Any) -> str:
    quote = compiler.preparer.quote
    named = f" CONSTRAINT {quote(element.constraint_name)}" if element.constraint_name else ""
    novalidate = "" if element.validate else " ENABLE NOVALIDATE"
    return (
        f"ALTER TABLE {compiler.preparer.format_table(element.table)} "
        f"MODIFY {quote(element.column)}{named} NOT NULL{novalidate}"
    )


class DropUnnamedPrimaryKey(DDLElement):
    """Drop a primary key whose name the changelog does not give: the database looks it up as the statement runs
    (PostgreSQL, SQL Server), so the preview and the run are the same statement, as in Liquibase."""

    def __init__(self, table: sa.TableClause) -> None:
        self.table = table


@compiles(DropUnnamedPrimaryKey, "postgresql")
def _drop_unnamed_primary_key_postgresql(element: DropUnnamedPrimaryKey, compiler: DDLCompiler, **kw: Any) -> str:
    table = compiler.preparer.format_table(element.table).replace("'", "''")
    if "$yamlbase$" in table:  # it would end the block's quoting
        raise ValueError("dropPrimaryKey without constraintName cannot name this table; give constraintName")
    regclass = f"'{table}'::regclass"
    return (
        "DO $yamlbase$\nDECLARE key_name name;\nBEGIN\n"
        f"  SELECT conname INTO STRICT key_name FROM pg_constraint WHERE conrelid = {regclass} AND contype = 'p';\n"
        f"  EXECUTE 'ALTER TABLE ' || {regclass}::text || ' DROP CONSTRAINT ' || quote_ident(key_name);\n"
        "END\n$yamlbase$"
    )


@compiles(DropUnnamedPrimaryKey, "mssql")
def _drop_unnamed_primary_key_mssql(element: DropUnnamedPrimaryKey, compiler: DDLCompiler, **kw: Any) -> str:
    table = compiler.preparer.format_table(element.table).replace("'", "''")
    return (
        "DECLARE @sql nvarchar(max)\n"
        f"SELECT @sql = N'ALTER TABLE {table} DROP CONSTRAINT ' + QUOTENAME(name) FROM sys.key_constraints\n"
        f"WHERE parent_object_id = OBJECT_ID(N'{table}') AND type = 'PK'\n"
        "EXEC sp_executesql @sql"
    )


class OracleDropPrimaryKey(DDLElement):
    """Oracle's ``ALTER TABLE t DROP PRIMARY KEY DROP|KEEP INDEX``."""

    def __init__(self, table: sa.TableClause, drop_index: bool) -> None:
        self.table, self.drop_index = table, drop_index


@compiles(OracleDropPrimaryKey)
def _oracle_drop_primary_key(element: OracleDropPrimaryKey, compiler: DDLCompiler, **kw: Any) -> str:
    index = "DROP INDEX" if element.drop_index else "KEEP INDEX"
    return f"ALTER TABLE {compiler.preparer.format_table(element.table)} DROP PRIMARY KEY {index}"


class MySQLAutoIncrementStart(DDLElement):
    """MySQL's ``ALTER TABLE t AUTO_INCREMENT = n``: where the next generated value starts."""

    def __init__(self, table: sa.TableClause, start: int) -> None:
        self.table, self.start = table, start


@compiles(MySQLAutoIncrementStart)
def _mysql_auto_increment_start(element: MySQLAutoIncrementStart, compiler: DDLCompiler, **kw: Any) -> str:
    return f"ALTER TABLE {compiler.preparer.format_table(element.table)} AUTO_INCREMENT = {int(element.start)}"


class MSSQLNamedDefault(DDLElement):
    """SQL Server's ``ALTER TABLE t ADD CONSTRAINT n DEFAULT x FOR c`` (a named default constraint)."""

    def __init__(self, table: sa.TableClause, column: str, name: str, default: Any) -> None:
        self.table, self.column, self.constraint_name, self.default = table, column, name, default


@compiles(MSSQLNamedDefault)
def _mssql_named_default(element: MSSQLNamedDefault, compiler: DDLCompiler, **kw: Any) -> str:
    quote = compiler.preparer.quote
    column = sa.Column(element.column, sa.Integer, server_default=element.default)
    default = compiler.get_column_default_string(column)
    return (
        f"ALTER TABLE {compiler.preparer.format_table(element.table)} ADD CONSTRAINT "
        f"{quote(element.constraint_name)} DEFAULT {default} FOR {quote(element.column)}"
    )


class _ColumnChange(Change):
    catalog_name: str | None = None
    schema_name: str | None = None
    table_name: str = Field(description="name of the table")
    column_name: str = Field(description="name of the column")

    def _table(self) -> sa.TableClause:
        return sa.table(self.table_name, schema=self.schema_name)


# --- data type, NOT NULL, defaults, auto-increment ----------------------------------------------------------------


@register
class ModifyDataType(_ColumnChange):
    """Changes a column's data type (only the type: constraints are not restated)."""

    name = "modifyDataType"
    data_types = ("new_data_type",)
    described_by = ("columnName", "tableName")
    new_data_type: str = Field(min_length=1, description="the type to convert the column to")

    def operations(self, ctx: PlanContext) -> list[Step]:
        new_type = to_sqlalchemy(self.new_data_type)
        kw: dict[str, Any] = {}
        if ctx.dialect == "postgresql":
            # As Liquibase: convert the values explicitly, so int -> text and text -> int both work.
            from sqlalchemy.dialects import postgresql

            dialect = postgresql.dialect()
            column = dialect.identifier_preparer.quote(self.column_name)
            kw["postgresql_using"] = f"{column}::{new_type.compile(dialect=dialect)}"
        if ctx.dialect == "mssql":
            # ALTER COLUMN restates the type only, as in Liquibase; say NULL rather than leave it to the session.
            kw["existing_nullable"] = True
        # "Only the data type": with the column in view, MySQL's MODIFY keeps its NOT NULL, default and comment.
        kw |= _mysql_restated(ctx, self.table_name, self.schema_name, self.column_name)
        op = ops.AlterColumnOp(self.table_name, self.column_name, schema=self.schema_name, modify_type=new_type, **kw)
        return _on_table(ctx, self.table_name, self.schema_name, [op])

    def destroys(self) -> list[ObjectRef]:
        return [ObjectRef("columnType", self.schema_name, self.table_name, self.column_name)]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        # Beyond Liquibase: back to the type captured before the change ran, as the database stated it.
        column = _captured_column(ctx, self, self.schema_name, self.table_name, self.column_name)
        return [self.model_copy(update={"new_data_type": column["type"]})]


def _typed_value(value: str, type_: TypeEngine[Any] | None) -> Any:
    """``defaultNullValue`` (text in the changelog) as a value of the column's type, for binding."""
    if type_ is None:
        return value
    try:
        if isinstance(type_, sa.Boolean):
            return value.strip().lower() in ("true", "1", "t", "y", "yes")
        if isinstance(type_, sa.Integer):
            return int(value)
        if isinstance(type_, sa.Numeric):
            return decimal.Decimal(value)
    except (ValueError, decimal.InvalidOperation):
        raise Unsupported(f"defaultNullValue {value!r} is not a value of type {type_}") from None
    return value


@register
class AddNotNullConstraint(_ColumnChange):
    """Makes a column NOT NULL; ``defaultNullValue`` first replaces the NULLs it holds."""

    name = "addNotNullConstraint"
    data_types = ("column_data_type",)
    described_by = ("columnName", "constraintName", "tableName")
    column_data_type: str | None = Field(None, description="the column's current type (required by MySQL, SQL Server)")
    default_null_value: Scalar | None = Field(None, description="value written into the rows where the column is NULL")
    constraint_name: str | None = Field(None, description="name of the NOT NULL constraint (Oracle)")
    validate_: bool | None = Field(None, alias="validate", description="false: existing rows are not checked (Oracle)")

    def operations(self, ctx: PlanContext) -> list[Step]:
        if ctx.dialect in (*MYSQL, "mssql"):
            _need_type(self.column_data_type, ctx, "its ALTER restates the column's type")
        type_ = _type(self.column_data_type)
        steps: list[Step] = []
        fill = self.default_null_value
        if isinstance(fill, bool):  # as Liquibase reads it: the text of the YAML value
            fill = "true" if fill else "false"
        if fill is not None and str(fill).lower() != "null":
            table = sa.table(self.table_name, sa.column(self.column_name, type_), schema=self.schema_name)
            column = table.c[self.column_name]
            value = _typed_value(str(fill), type_)
            steps.append(ops.ExecuteSQLOp(table.update().where(column.is_(None)).values({self.column_name: value})))
        if ctx.dialect == "oracle" and (self.constraint_name or self.validate_ is False):
            validate = self.validate_ is not False
            ddl = OracleModifyNotNull(self._table(), self.column_name, self.constraint_name, validate)
            return [*steps, ops.ExecuteSQLOp(ddl)]
        op = ops.AlterColumnOp(
            self.table_name,
            self.column_name,
            schema=self.schema_name,
            modify_nullable=False,
            existing_type=type_,
            **_mysql_restated(ctx, self.table_name, self.schema_name, self.column_name),
        )
        return [*steps, *_on_table(ctx, self.table_name, self.schema_name, [op])]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [
            DropNotNullConstraint(
                catalogName=self.catalog_name,
                schemaName=self.schema_name,
                tableName=self.table_name,
                columnName=self.column_name,
                columnDataType=self.column_data_type,
            )
        ]


@register
class DropNotNullConstraint(_ColumnChange):
    """Makes a column nullable."""

    name = "dropNotNullConstraint"
    data_types = ("column_data_type",)
    described_by = ("columnName", "constraintName", "tableName")
    column_data_type: str | None = Field(None, description="the column's current type (required by MySQL, SQL Server)")
    constraint_name: str | None = Field(None, description="name of the NOT NULL constraint (Oracle)")

    def operations(self, ctx: PlanContext) -> list[Step]:
        if ctx.dialect in (*MYSQL, "mssql"):
            _need_type(self.column_data_type, ctx, "its ALTER restates the column's type")
        if ctx.dialect == "oracle" and self.constraint_name:
            return [ops.DropConstraintOp(self.constraint_name, self.table_name, schema=self.schema_name)]
        op = ops.AlterColumnOp(
            self.table_name,
            self.column_name,
            schema=self.schema_name,
            modify_nullable=True,
            existing_type=_type(self.column_data_type),
            **_mysql_restated(ctx, self.table_name, self.schema_name, self.column_name),
        )
        return _on_table(ctx, self.table_name, self.schema_name, [op])

    def inverse(self, ctx: PlanContext) -> list[Change]:
        # Liquibase rolls dropNotNullConstraint back with addNotNullConstraint (which cannot restore the NULLs).
        return [
            AddNotNullConstraint(
                catalogName=self.catalog_name,
                schemaName=self.schema_name,
                tableName=self.table_name,
                columnName=self.column_name,
                columnDataType=self.column_data_type,
                constraintName=self.constraint_name,
            )
        ]


@register
class AddDefaultValue(_ColumnChange):
    """Gives a column a default: exactly one of the ``defaultValue*`` attributes."""

    name = "addDefaultValue"
    data_types = ("column_data_type",)
    described_by = ("columnName", "defaultValueConstraintName", "tableName")
    column_data_type: str | None = Field(None, description="the column's current type")
    default_value: Scalar | None = Field(None, description="default as a literal")
    default_value_numeric: int | float | str | None = None
    default_value_boolean: bool | str | None = None
    default_value_date: str | None = None
    default_value_computed: str | None = Field(None, description="default as an SQL expression")
    default_value_sequence_next: str | None = Field(None, description="default: the next value of this sequence")
    default_value_constraint_name: str | None = Field(None, description="name of the default constraint (SQL Server)")

    @model_validator(mode="after")
    def _one_default(self) -> AddDefaultValue:
        given = [
            v
            for v in (
                self.default_value,
                self.default_value_numeric,
                self.default_value_boolean,
                self.default_value_date,
                self.default_value_computed,
                self.default_value_sequence_next,
            )
            if v is not None
        ]
        if len(given) != 1:
            raise ValueError("needs exactly one defaultValue* attribute")
        return self

    def operations(self, ctx: PlanContext) -> list[Step]:
        config = ColumnConfig.model_validate(
            {
                k: v
                for k, v in self.model_dump(by_alias=True).items()
                if k.startswith("defaultValue") and k != "defaultValueConstraintName"
            }
            | {"name": self.column_name, "type": self.column_data_type}
        )
        default = config.server_default(ctx)
        if ctx.dialect in MYSQL and isinstance(default, sa.TextClause) and self.default_value_numeric is None:
            # MySQL's ALTER COLUMN … SET DEFAULT takes a literal or a parenthesised expression.
            text = default.text.strip()
            if not text.startswith("(") and not (text.startswith("'") and text.endswith("'")):
                default = sa.text(f"({text})")
        if ctx.dialect == "mssql" and self.default_value_constraint_name:
            ddl = MSSQLNamedDefault(self._table(), self.column_name, self.default_value_constraint_name, default)
            return [ops.ExecuteSQLOp(ddl)]
        # Without existing_type on MySQL: with a date type Alembic would restate the whole column (CHANGE).
        existing = None if ctx.dialect in MYSQL else _type(self.column_data_type)
        op = ops.AlterColumnOp(
            self.table_name,
            self.column_name,
            schema=self.schema_name,
            modify_server_default=default,
            existing_type=existing,
        )
        return _on_table(ctx, self.table_name, self.schema_name, [op])

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [
            DropDefaultValue(
                catalogName=self.catalog_name,
                schemaName=self.schema_name,
                tableName=self.table_name,
                columnName=self.column_name,
                columnDataType=self.column_data_type,
            )
        ]


@register
class DropDefaultValue(_ColumnChange):
    """Removes a column's default."""

    name = "dropDefaultValue"
    data_types = ("column_data_type",)
    described_by = ("columnName", "tableName")
    column_data_type: str | None = Field(None, description="the column's type")

    def operations(self, ctx: PlanContext) -> list[Step]:
        existing = None if ctx.dialect in MYSQL else _type(self.column_data_type)
        op = ops.AlterColumnOp(
            self.table_name,
            self.column_name,
            schema=self.schema_name,
            modify_server_default=None,
            existing_type=existing,
        )
        return _on_table(ctx, self.table_name, self.schema_name, [op])

    def destroys(self) -> list[ObjectRef]:
        return [ObjectRef("default", self.schema_name, self.table_name, self.column_name)]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        # Beyond Liquibase: the default captured before the change ran, as the database stated it.
        default = _captured_column(ctx, self, self.schema_name, self.table_name, self.column_name)["default"]
        if default is None:
            return []  # there was none to drop
        return [
            AddDefaultValue(
                catalogName=self.catalog_name,
                schemaName=self.schema_name,
                tableName=self.table_name,
                columnName=self.column_name,
                columnDataType=self.column_data_type,
                defaultValueComputed=default,
            )
        ]


@register
class AddAutoIncrement(_ColumnChange):
    """Makes an existing column generate its values (AUTO_INCREMENT, a sequence default, SQLite's rowid)."""

    name = "addAutoIncrement"
    data_types = ("column_data_type",)
    described_by = ("columnName", "tableName")
    column_data_type: str | None = Field(None, description="the column's current type (required by MySQL)")
    start_with: int | None = Field(None, description="the first generated value")
    increment_by: int | None = Field(None, description="the step between generated values")
    default_on_null: bool | None = None
    generation_type: str | None = None

    def operations(self, ctx: PlanContext) -> list[Step]:
        if ctx.dialect in ("mssql", "oracle"):
            raise Unsupported(
                f"not supported on {ctx.dialect}: "
                "an existing column cannot be made an identity column there (as in Liquibase)"
            )
        if (self.default_on_null or self.generation_type) and ctx.dialect != "postgresql":
            raise Unsupported(f"defaultOnNull and generationType have no meaning on {ctx.dialect}")
        if ctx.dialect == "postgresql":
            return self._postgresql()
        if ctx.dialect in MYSQL:
            _need_type(self.column_data_type, ctx, "MODIFY restates the column's type")
            if self.increment_by not in (None, 1):
                raise Unsupported(f"{ctx.dialect} cannot increment a column by {self.increment_by}")
            restated = _mysql_restated(ctx, self.table_name, self.schema_name, self.column_name)
            restated.pop("existing_server_default", None)  # a generated column has no default of its own
            steps: list[Step] = [
                ops.AlterColumnOp(
                    self.table_name,
                    self.column_name,
                    schema=self.schema_name,
                    existing_type=_type(self.column_data_type),
                    modify_nullable=False,
                    autoincrement=True,
                    **restated,
                )
            ]
            if self.start_with is not None:
                steps.append(ops.ExecuteSQLOp(MySQLAutoIncrementStart(self._table(), self.start_with)))
            return steps
        return self._sqlite(ctx)

    def _postgresql(self) -> list[Step]:
        # As Liquibase: a sequence <table>_<column>_seq, NOT NULL, and the sequence's next value as the default.
        sequence = f"{self.table_name}_{self.column_name}_seq"
        from sqlalchemy.dialects import postgresql

        preparer = postgresql.dialect().identifier_preparer
        if not (preparer._requires_quotes(self.table_name) or preparer._requires_quotes(self.column_name)):
            sequence = sequence.lower()
        seq = sa.Sequence(sequence, start=self.start_with, increment=self.increment_by, schema=self.schema_name)
        qualified = preparer.format_sequence(seq)
        nextval = sa.text("nextval('{}')".format(qualified.replace("'", "''")))
        return [
            ops.ExecuteSQLOp(sa.schema.CreateSequence(seq)),
            ops.AlterColumnOp(self.table_name, self.column_name, schema=self.schema_name, modify_nullable=False),
            ops.AlterColumnOp(
                self.table_name, self.column_name, schema=self.schema_name, modify_server_default=nextval
            ),
        ]

    def _sqlite(self, ctx: PlanContext) -> list[Step]:
        # SQLite generates values only for the INTEGER PRIMARY KEY (the rowid): make the column exactly that.
        if self.start_with is not None or self.increment_by not in (None, 1):
            raise Unsupported("SQLite's rowid cannot start elsewhere or step by other than 1")
        connection = _need_connection(ctx, "the table's primary key")
        table = _reflected_table(ctx, connection, self.table_name, self.schema_name)
        primary = [c.name for c in table.primary_key.columns]
        if primary and primary != [self.column_name]:
            raise ValueError(
                f"SQLite auto-increments only a table's single INTEGER PRIMARY KEY, and the "
                f"primary key of {self.table_name} is ({', '.join(primary)})"
            )
        steps: list[Any] = [
            ops.AlterColumnOp(self.table_name, self.column_name, schema=self.schema_name, modify_type=sa.Integer())
        ]
        if not primary:
            steps.append(ops.CreatePrimaryKeyOp(f"pk_{self.table_name}", self.table_name, [self.column_name]))
        return [Batch(self.table_name, self.schema_name, steps, recreate="always")]


# --- primary keys ---------------------------------------------------------------------------------------------------


class _TableConstraintChange(Change):
    catalog_name: str | None = None
    schema_name: str | None = None
    table_name: str = Field(description="name of the table")

    def _table(self) -> sa.TableClause:
        return sa.table(self.table_name, schema=self.schema_name)


def _unsupported(ctx: PlanContext, **attributes: Any) -> None:
    """Refuse attributes this dialect (or yamlbase) cannot honour, rather than ignore them."""
    for attribute, value in attributes.items():
        if value:
            raise Unsupported(f"{attribute} is not supported on {ctx.dialect}")


@register
class AddPrimaryKey(_TableConstraintChange):
    """Makes one or more existing columns the table's primary key."""

    name = "addPrimaryKey"
    described_by = ("constraintName", "forIndexName", "tableName")
    column_names: str = Field(min_length=1, description="the key's columns, comma-separated")
    constraint_name: str | None = Field(None, description="name of the primary key constraint")
    tablespace: str | None = None
    clustered: bool | None = Field(None, description="a clustered index (SQL Server)")
    for_index_name: str | None = None
    for_index_schema_name: str | None = None
    for_index_catalog_name: str | None = None
    validate_: bool | None = Field(None, alias="validate", description="false: existing rows are not checked (Oracle)")

    def operations(self, ctx: PlanContext) -> list[Step]:
        index = _index_clauses(ctx, self.tablespace, (self.for_index_schema_name, self.for_index_name))
        novalidate = ("ENABLE NOVALIDATE", ()) if ctx.dialect == "oracle" and self.validate_ is False else None
        kw: dict[str, Any] = clauses(*index, novalidate)
        if ctx.dialect == "mssql" and self.clustered is not None:
            kw["mssql_clustered"] = self.clustered
        elif self.clustered and ctx.dialect != "postgresql":
            raise Unsupported(f"clustered is not supported on {ctx.dialect}")
        name = self.constraint_name
        if name is None and ctx.recreates_tables:  # Alembic's table recreation must name what it adds
            name = f"pk_{self.table_name}"
        op = ops.CreatePrimaryKeyOp(name, self.table_name, names(self.column_names), schema=self.schema_name, **kw)
        steps = _on_table(ctx, self.table_name, self.schema_name, [op], recreate="always")
        if self.clustered and ctx.dialect == "postgresql":  # as Liquibase: order the rows by the key once
            if name is None:
                raise Unsupported("clustered needs constraintName on postgresql (CLUSTER … USING names the key)")
            steps.append(ops.ExecuteSQLOp(ClusterTable(self._table(), name)))
        return steps

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [
            DropPrimaryKey(
                catalogName=self.catalog_name,
                schemaName=self.schema_name,
                tableName=self.table_name,
                constraintName=self.constraint_name,
                dropIndex=False if self.for_index_name is not None else None,
            )
        ]


@register
class DropPrimaryKey(_TableConstraintChange):
    """Drops a table's primary key."""

    name = "dropPrimaryKey"
    described_by = ("constraintName", "tableName")
    constraint_name: str | None = Field(None, description="name of the primary key (required where it cannot be found)")
    drop_index: bool | None = Field(None, description="false keeps the key's index (Oracle)")

    def operations(self, ctx: PlanContext) -> list[Step]:
        if ctx.dialect == "oracle":
            return [ops.ExecuteSQLOp(OracleDropPrimaryKey(self._table(), self.drop_index is not False))]
        if ctx.dialect in MYSQL:  # DROP PRIMARY KEY: MySQL's primary key has no name of its own
            op = ops.DropConstraintOp(self.constraint_name, self.table_name, type_="primary", schema=self.schema_name)
            return [op]
        if ctx.recreates_tables:
            return self._sqlite(ctx)
        if self.constraint_name is None:
            return [ops.ExecuteSQLOp(DropUnnamedPrimaryKey(self._table()))]
        return [ops.DropConstraintOp(self.constraint_name, self.table_name, type_="primary", schema=self.schema_name)]

    def _sqlite(self, ctx: PlanContext) -> list[Step]:
        connection = _need_connection(ctx, "the primary key")
        table = _reflected_table(ctx, connection, self.table_name, self.schema_name)
        columns = [c.name for c in table.primary_key.columns]
        if not columns:
            raise ValueError(f"table {self.table_name} has no primary key")
        steps: list[Any] = []
        name = table.primary_key.name
        if not name:
            # Alembic's batch mode drops constraints by name: name the reflected key first, then drop it.
            name = f"pk_{self.table_name}"
            steps.append(ops.CreatePrimaryKeyOp(name, self.table_name, columns))
        steps.append(ops.DropConstraintOp(name, self.table_name, type_="primary"))
        return [Batch(self.table_name, self.schema_name, steps, recreate="always")]

    def destroys(self) -> list[ObjectRef]:
        return [ObjectRef("primaryKey", self.schema_name, self.table_name, self.constraint_name or "")]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        # Beyond Liquibase: the key captured before the change ran.
        key = captured_table(ctx, self.name, self.schema_name, self.table_name)["primary_key"]
        if not key or not key["columns"]:
            return []  # there was none to drop
        return [
            AddPrimaryKey(
                catalogName=self.catalog_name,
                schemaName=self.schema_name,
                tableName=self.table_name,
                columnNames=", ".join(key["columns"]),
                # MySQL calls every primary key PRIMARY and takes no name for it.
                constraintName=None if ctx.dialect in MYSQL else key["name"],
            )
        ]


# --- foreign keys ---------------------------------------------------------------------------------------------------


def _action(value: str | None) -> str | None:
    if value is None:
        return None
    action = " ".join(value.upper().split())
    if action not in REFERENTIAL_ACTIONS:
        raise ValueError(f"must be one of {', '.join(REFERENTIAL_ACTIONS)}, not {value!r}")
    return action


@register
class AddForeignKeyConstraint(Change):
    """Adds a foreign key from columns of one table to columns of another."""

    name = "addForeignKeyConstraint"
    described_by = ("baseTableName", "constraintName", "referencedTableName")
    base_table_catalog_name: str | None = None
    base_table_schema_name: str | None = None
    base_table_name: str = Field(description="the table holding the foreign key")
    base_column_names: str = Field(min_length=1, description="the referencing columns, comma-separated")
    referenced_table_catalog_name: str | None = None
    referenced_table_schema_name: str | None = None
    referenced_table_name: str = Field(description="the referenced table")
    referenced_column_names: str = Field(min_length=1, description="the referenced columns, comma-separated")
    constraint_name: str = Field(description="name of the foreign key")
    on_delete: str | None = Field(None, description="CASCADE, SET NULL, SET DEFAULT, RESTRICT or NO ACTION")
    on_update: str | None = Field(None, description="CASCADE, SET NULL, SET DEFAULT, RESTRICT or NO ACTION")
    delete_cascade: bool | None = Field(None, description="deprecated: true means onDelete CASCADE")
    deferrable: bool | None = None
    initially_deferred: bool | None = None
    validate_: bool | None = Field(None, alias="validate", description="false: existing rows are not checked")
    references_unique_column: bool | None = Field(None, description="deprecated, ignored")

    @field_validator("on_delete", "on_update")
    @classmethod
    def _normal_action(cls, value: str | None) -> str | None:
        return _action(value)

    def _ondelete(self) -> str | None:
        # As Liquibase's setters (deleteCascade is set after onDelete): true without onDelete is CASCADE, and any
        # other deleteCascade clears onDelete.
        if self.delete_cascade is None:
            return self.on_delete
        return "CASCADE" if self.delete_cascade and self.on_delete is None else None

    def operations(self, ctx: PlanContext) -> list[Step]:
        base, referenced = names(self.base_column_names), names(self.referenced_column_names)
        if len(base) != len(referenced):
            raise Unsupported(f"{len(base)} baseColumnNames but {len(referenced)} referencedColumnNames")
        ondelete, onupdate = self._ondelete(), self.on_update
        if ctx.dialect in (*MYSQL, "mssql"):
            _unsupported(ctx, deferrable=self.deferrable, initiallyDeferred=self.initially_deferred)
        if ctx.dialect in MYSQL and "SET DEFAULT" in (ondelete, onupdate):
            raise Unsupported(f"{ctx.dialect} (InnoDB) refuses SET DEFAULT actions")
        if ctx.dialect == "oracle":
            if onupdate not in (None, "NO ACTION", "RESTRICT"):
                raise Unsupported(f"Oracle has no ON UPDATE {onupdate}")
            if ondelete == "SET DEFAULT":
                raise Unsupported("Oracle has no ON DELETE SET DEFAULT")
            # Oracle says neither RESTRICT nor NO ACTION: its default behaviour is theirs.
            onupdate = None
            ondelete = None if ondelete in ("NO ACTION", "RESTRICT") else ondelete
        if ctx.dialect == "mssql":  # T-SQL has NO ACTION, which is what RESTRICT asks for
            onupdate = None if onupdate == "RESTRICT" else onupdate
            ondelete = None if ondelete == "RESTRICT" else ondelete
        kw: dict[str, Any] = {}
        if self.validate_ is False and ctx.dialect == "postgresql":
            kw["postgresql_not_valid"] = True
        if self.validate_ is False and ctx.dialect == "oracle":
            kw |= clauses(("ENABLE NOVALIDATE", ()))
        op = ops.CreateForeignKeyOp(
            self.constraint_name,
            self.base_table_name,
            self.referenced_table_name,
            base,
            referenced,
            onupdate=onupdate,
            ondelete=ondelete,
            deferrable=True if self.deferrable else None,
            initially="DEFERRED" if self.initially_deferred else None,
            source_schema=self.base_table_schema_name,
            referent_schema=self.referenced_table_schema_name,
            **kw,
        )
        return _on_table(ctx, self.base_table_name, self.base_table_schema_name, [op], recreate="always")

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [
            DropForeignKeyConstraint(
                baseTableCatalogName=self.base_table_catalog_name,
                baseTableSchemaName=self.base_table_schema_name,
                baseTableName=self.base_table_name,
                constraintName=self.constraint_name,
            )
        ]


@register
class DropForeignKeyConstraint(Change):
    """Drops a foreign key by name."""

    name = "dropForeignKeyConstraint"
    described_by = ("baseTableName", "constraintName")
    base_table_catalog_name: str | None = None
    base_table_schema_name: str | None = None
    base_table_name: str = Field(description="the table holding the foreign key")
    constraint_name: str = Field(description="name of the foreign key")

    def operations(self, ctx: PlanContext) -> list[Step]:
        op = ops.DropConstraintOp(
            self.constraint_name, self.base_table_name, type_="foreignkey", schema=self.base_table_schema_name
        )
        if ctx.dialect in MYSQL:
            return [op, *_implicit_index(ctx, self.base_table_name, self.base_table_schema_name, self.constraint_name)]
        return _on_table(ctx, self.base_table_name, self.base_table_schema_name, [op], recreate="always")

    def destroys(self) -> list[ObjectRef]:
        return [ObjectRef("foreignKey", self.base_table_schema_name, self.base_table_name, self.constraint_name)]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        # Beyond Liquibase: the key captured before the change ran.
        table = captured_table(ctx, self.name, self.base_table_schema_name, self.base_table_name)
        found = [fk for fk in table["foreign_keys"] if fk["name"] == self.constraint_name]
        if not found:
            return []  # there was none to drop
        return [_restored_foreign_key(self.base_table_catalog_name, table, found[0])]


def _restored_foreign_key(catalog: str | None, table: dict[str, Any], fk: dict[str, Any]) -> AddForeignKeyConstraint:
    """The captured foreign key ``fk`` of ``table`` as the change that adds it again."""
    initially = (fk.get("initially") or "").upper()
    return AddForeignKeyConstraint(
        baseTableCatalogName=catalog,
        baseTableSchemaName=table["schema"],
        baseTableName=table["name"],
        baseColumnNames=", ".join(fk["columns"]),
        referencedTableSchemaName=fk["referred_schema"],
        referencedTableName=fk["referred_table"],
        referencedColumnNames=", ".join(fk["referred_columns"]),
        # SQLite's keys may have no name: one is made up, as for every constraint its table recreation adds.
        constraintName=fk["name"] or f"fk_{table['name']}_{'_'.join(fk['columns'])}",
        onDelete=fk.get("ondelete"),
        onUpdate=fk.get("onupdate"),
        deferrable=True if fk.get("deferrable") else None,
        initiallyDeferred=True if initially == "DEFERRED" else None,
    )


def _implicit_index(ctx: PlanContext, table: str, schema: str | None, constraint: str) -> list[Step]:
    """MySQL's index made for a foreign key, dropped with the key where nothing else needs it.

    MySQL creates it, named after the key, when no index serves the key's columns; it stays behind when the key is
    dropped, so the schema would not return to what it was before the key. Only seen with a connection.
    """
    if ctx.connection is None:
        return []
    inspector = sa.inspect(ctx.connection)
    if not inspector.has_table(table, schema=schema):
        return []
    keys = inspector.get_foreign_keys(table, schema=schema)
    dropped = [fk for fk in keys if fk["name"] == constraint]
    others = [fk["constrained_columns"] for fk in keys if fk["name"] != constraint]
    for index in inspector.get_indexes(table, schema=schema):
        columns = list(index["column_names"])
        if (
            index["name"] == constraint
            and not index["unique"]
            and any(fk["constrained_columns"] == columns for fk in dropped)
            and not any(columns[: len(other)] == other for other in others)
        ):
            return [ops.DropIndexOp(constraint, table_name=table, schema=schema)]
    return []


@register
class DropAllForeignKeyConstraints(Change):
    """Drops every foreign key of a table, as the database has them when the change runs."""

    name = "dropAllForeignKeyConstraints"
    described_by = ("baseTableName",)
    base_table_catalog_name: str | None = None
    base_table_schema_name: str | None = None
    base_table_name: str = Field(description="the table whose foreign keys are dropped")

    def operations(self, ctx: PlanContext) -> list[Step]:
        connection = _need_connection(ctx, "the table's foreign keys")
        table, schema = self.base_table_name, self.base_table_schema_name
        if not sa.inspect(connection).has_table(table, schema=schema):
            raise ValueError(f"table {table} does not exist")
        keys = sa.inspect(connection).get_foreign_keys(table, schema=schema)
        if not keys:
            return []
        if ctx.recreates_tables:
            # SQLite's foreign keys are often unnamed: recreate the table from a copy that has none.
            copy = _reflected_table(ctx, connection, table, schema)
            for fk in list(copy.foreign_key_constraints):
                copy.constraints.discard(fk)
                for element in fk.elements:
                    element.parent.foreign_keys.discard(element)
            return [Batch(table, schema, [], recreate="always", copy_from=copy)]
        unnamed = [fk for fk in keys if not fk.get("name")]
        if unnamed:  # pragma: no cover - server databases name every constraint
            raise ValueError(f"{table} has a foreign key without a name")
        steps: list[Step] = []
        for fk in keys:
            steps.append(ops.DropConstraintOp(fk["name"], table, type_="foreignkey", schema=schema))
        if ctx.dialect in MYSQL:  # once no key is left, no index is needed by one
            names_ = {fk["name"] for fk in keys}
            for index in sa.inspect(connection).get_indexes(table, schema=schema):
                if index["name"] in names_ and not index["unique"]:
                    steps.append(ops.DropIndexOp(index["name"], table_name=table, schema=schema))
        return steps

    def destroys(self) -> list[ObjectRef]:
        return [ObjectRef("foreignKey", self.base_table_schema_name, self.base_table_name, "")]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        # Beyond Liquibase: every key captured before the change ran.
        table = captured_table(ctx, self.name, self.base_table_schema_name, self.base_table_name)
        return [_restored_foreign_key(self.base_table_catalog_name, table, fk) for fk in table["foreign_keys"]]


# --- unique and check constraints -----------------------------------------------------------------------------------


@register
class AddUniqueConstraint(_TableConstraintChange):
    """Adds a unique constraint over one or more columns."""

    name = "addUniqueConstraint"
    described_by = ("constraintName", "forIndexName", "tableName")
    column_names: str = Field(min_length=1, description="the constrained columns, comma-separated")
    constraint_name: str | None = Field(None, description="name of the unique constraint")
    tablespace: str | None = None
    clustered: bool | None = Field(None, description="a clustered index (SQL Server)")
    deferrable: bool | None = None
    initially_deferred: bool | None = None
    disabled: bool | None = Field(None, description="created disabled (Oracle)")
    validate_: bool | None = Field(None, alias="validate", description="false: existing rows are not checked (Oracle)")
    for_index_name: str | None = None
    for_index_schema_name: str | None = None
    for_index_catalog_name: str | None = None

    def operations(self, ctx: PlanContext) -> list[Step]:
        if ctx.dialect not in ("postgresql", "oracle", "sqlite"):
            _unsupported(ctx, deferrable=self.deferrable, initiallyDeferred=self.initially_deferred)
        if ctx.dialect != "oracle":
            _unsupported(ctx, disabled=self.disabled)
        if ctx.dialect != "mssql":
            _unsupported(ctx, clustered=self.clustered)
        columns = names(self.column_names)
        index = _index_clauses(ctx, self.tablespace, (self.for_index_schema_name, self.for_index_name))
        state = None
        if ctx.dialect == "oracle" and self.disabled:
            state = ("DISABLE", ())
        elif ctx.dialect == "oracle" and self.validate_ is False:
            state = ("ENABLE NOVALIDATE", ())
        kw: dict[str, Any] = clauses(*index, state)
        if self.deferrable:
            kw["deferrable"] = True
        if self.initially_deferred:
            kw["initially"] = "DEFERRED"
        if ctx.dialect == "mssql" and self.clustered is not None:
            kw["mssql_clustered"] = self.clustered
        name = self.constraint_name
        if name is None and ctx.recreates_tables:  # Alembic's table recreation must name what it adds
            name = f"uq_{self.table_name}_{'_'.join(columns)}"
        op = ops.CreateUniqueConstraintOp(name, self.table_name, columns, schema=self.schema_name, **kw)
        return _on_table(ctx, self.table_name, self.schema_name, [op], recreate="always")

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [
            DropUniqueConstraint(
                catalogName=self.catalog_name,
                schemaName=self.schema_name,
                tableName=self.table_name,
                constraintName=self.constraint_name,
                uniqueColumns=self.column_names,
            )
        ]


@register
class DropUniqueConstraint(_TableConstraintChange):
    """Drops a unique constraint by name."""

    name = "dropUniqueConstraint"
    described_by = ("constraintName", "tableName")
    constraint_name: str | None = Field(None, description="name of the unique constraint")
    unique_columns: str | None = Field(None, description="the constraint's columns (SAP SQL Anywhere)")

    def operations(self, ctx: PlanContext) -> list[Step]:
        if self.constraint_name is None:
            raise Unsupported("needs constraintName")
        op = ops.DropConstraintOp(self.constraint_name, self.table_name, type_="unique", schema=self.schema_name)
        return _on_table(ctx, self.table_name, self.schema_name, [op], recreate="always")

    def destroys(self) -> list[ObjectRef]:
        return [ObjectRef("uniqueConstraint", self.schema_name, self.table_name, self.constraint_name or "")]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        # Beyond Liquibase: the constraint captured before the change ran.
        table = captured_table(ctx, self.name, self.schema_name, self.table_name)
        found = [u for u in table["unique"] if u["name"] == self.constraint_name]
        if not found:
            return []  # there was none to drop
        return [
            AddUniqueConstraint(
                catalogName=self.catalog_name,
                schemaName=self.schema_name,
                tableName=self.table_name,
                columnNames=", ".join(found[0]["columns"]),
                constraintName=self.constraint_name,
            )
        ]


@register
class AddCheckConstraint(_TableConstraintChange):
    """Adds a CHECK constraint with the given SQL condition."""

    name = "addCheckConstraint"
    described_by = ("constraintName", "tableName")
    constraint_name: str = Field(description="name of the check constraint")
    constraint_body: str = Field(min_length=1, description="the SQL condition, e.g. qty > 0")
    disabled: bool | None = Field(None, description="created but not enforced (Oracle, MySQL)")
    validate_: bool | None = Field(None, alias="validate", description="false: existing rows are not checked")

    def operations(self, ctx: PlanContext) -> list[Step]:
        kw: dict[str, Any] = {}
        if self.disabled:
            if ctx.dialect == "oracle":
                kw |= clauses(("DISABLE", ()))
            elif ctx.dialect == "mysql":
                kw |= clauses(("NOT ENFORCED", ()))
            else:
                raise Unsupported(f"{ctx.dialect} cannot create a disabled check constraint")
        elif self.validate_ is False and ctx.dialect == "postgresql":
            kw["postgresql_not_valid"] = True
        elif self.validate_ is False and ctx.dialect == "oracle":
            kw |= clauses(("ENABLE NOVALIDATE", ()))
        op = ops.CreateCheckConstraintOp(
            self.constraint_name, self.table_name, sa.text(self.constraint_body), schema=self.schema_name, **kw
        )
        return _on_table(ctx, self.table_name, self.schema_name, [op], recreate="always")

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [
            DropCheckConstraint(
                catalogName=self.catalog_name,
                schemaName=self.schema_name,
                tableName=self.table_name,
                constraintName=self.constraint_name,
            )
        ]


@register
class DropCheckConstraint(_TableConstraintChange):
    """Drops a CHECK constraint by name."""

    name = "dropCheckConstraint"
    described_by = ("constraintName", "tableName")
    constraint_name: str = Field(description="name of the check constraint")

    def operations(self, ctx: PlanContext) -> list[Step]:
        op = ops.DropConstraintOp(self.constraint_name, self.table_name, type_="check", schema=self.schema_name)
        return _on_table(ctx, self.table_name, self.schema_name, [op], recreate="always")

    def destroys(self) -> list[ObjectRef]:
        return [ObjectRef("checkConstraint", self.schema_name, self.table_name, self.constraint_name)]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        # Beyond Liquibase: the condition captured before the change ran, as the database stated it.
        table = captured_table(ctx, self.name, self.schema_name, self.table_name)
        found = [ck for ck in table["checks"] if ck["name"] == self.constraint_name]
        if not found:
            return []  # there was none to drop
        return [
            AddCheckConstraint(
                catalogName=self.catalog_name,
                schemaName=self.schema_name,
                tableName=self.table_name,
                constraintName=self.constraint_name,
                constraintBody=found[0]["sqltext"],
            )
        ]
