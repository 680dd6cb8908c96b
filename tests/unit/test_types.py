"""Liquibase type names → SQLAlchemy types → the DDL each database gets (no database needed).

The dialects are the ones ``update-sql`` renders with (``TextSink``), so these are the types users see.
Expectations are what is *right* for each database (Liquibase's own mapping where SQLAlchemy's default would be
wrong or lossy); where yamlbase differs today the case is a strict xfail naming the bug.
"""

from __future__ import annotations

import functools
import io
import re
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from yamlbase.dialects import DIALECT_NAMES
from yamlbase.dialects.types import TYPE_MAP, Verbatim, to_sqlalchemy
from yamlbase.runtime.sink import TextSink

DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb", "mssql", "oracle")


@functools.cache
def dialect(name: str) -> Dialect:
    """The dialect ``update-sql --dialect name`` compiles with."""
    return TextSink(name, io.StringIO()).operations.migration_context.dialect


def ddl(spec: str, dialect_name: str) -> str:
    return to_sqlalchemy(spec).compile(dialect=dialect(dialect_name))


def on_all(sql: str) -> dict[str, str]:
    return dict.fromkeys(DIALECTS, sql)


def per_dialect(sqlite: str, postgresql: str, mysql: str, mariadb: str, mssql: str, oracle: str) -> dict[str, str]:
    return {
        "sqlite": sqlite,
        "postgresql": postgresql,
        "mysql": mysql,
        "mariadb": mariadb,
        "mssql": mssql,
        "oracle": oracle,
    }


INTEGER = on_all("INTEGER")
BIGINT = per_dialect("BIGINT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "NUMBER(19)")
SMALLINT = on_all("SMALLINT")
VARCHAR_30 = per_dialect("VARCHAR(30)", "VARCHAR(30)", "VARCHAR(30)", "VARCHAR(30)", "VARCHAR(30)", "VARCHAR2(30 CHAR)")
BOOLEAN = per_dialect("BOOLEAN", "BOOLEAN", "BOOL", "BOOL", "BIT", "BOOLEAN")
TIMESTAMP = per_dialect("TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP", "TIMESTAMP", "DATETIME2", "TIMESTAMP")
TIMESTAMP_TZ = per_dialect(
    "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP", "TIMESTAMP", "DATETIMEOFFSET", "TIMESTAMP WITH TIME ZONE"
)
DOUBLE = per_dialect("DOUBLE", "DOUBLE PRECISION", "DOUBLE", "DOUBLE", "DOUBLE PRECISION", "DOUBLE PRECISION")
NUMBER = per_dialect("NUMERIC", "NUMERIC", "NUMERIC", "NUMERIC", "NUMERIC", "NUMBER")
LONG_TEXT = per_dialect("TEXT", "TEXT", "LONGTEXT", "LONGTEXT", "VARCHAR(max)", "CLOB")
LONG_NTEXT = per_dialect("TEXT", "TEXT", "LONGTEXT", "LONGTEXT", "NVARCHAR(max)", "CLOB")
BLOB = per_dialect("BLOB", "BYTEA", "BLOB", "BLOB", "VARBINARY(max)", "BLOB")
LONG_BLOB = per_dialect("BLOB", "BYTEA", "LONGBLOB", "LONGBLOB", "VARBINARY(max)", "BLOB")

# spec → (SQLAlchemy type class, DDL per dialect). Every TYPE_MAP name appears at least once.
CASES: dict[str, tuple[type[sa.types.TypeEngine[Any]], dict[str, str]]] = {
    "int": (sa.Integer, INTEGER),
    "integer": (sa.Integer, INTEGER),
    "int4": (sa.Integer, INTEGER),
    "mediumint": (sa.Integer, INTEGER),
    "bigint": (sa.BigInteger, BIGINT),
    "int8": (sa.BigInteger, BIGINT),
    "long": (sa.BigInteger, BIGINT),
    "smallint": (sa.SmallInteger, SMALLINT),
    "int2": (sa.SmallInteger, SMALLINT),
    "tinyint": (sa.SmallInteger, SMALLINT),
    "varchar(30)": (sa.String, VARCHAR_30),
    "varchar2(30)": (sa.String, VARCHAR_30),
    "character varying(30)": (sa.String, VARCHAR_30),
    "string(30)": (sa.String, VARCHAR_30),
    "nvarchar(30)": (
        sa.Unicode,
        per_dialect("VARCHAR(30)", "VARCHAR(30)", "VARCHAR(30)", "VARCHAR(30)", "NVARCHAR(30)", "VARCHAR2(30 CHAR)"),
    ),
    "char(3)": (sa.CHAR, on_all("CHAR(3)")),
    "character(3)": (sa.CHAR, on_all("CHAR(3)")),
    "nchar(3)": (
        sa.NCHAR,
        per_dialect("NCHAR(3)", "NCHAR(3)", "NATIONAL CHAR(3)", "NATIONAL CHAR(3)", "NCHAR(3)", "NCHAR(3)"),
    ),
    "boolean": (sa.Boolean, BOOLEAN),
    "bool": (sa.Boolean, BOOLEAN),
    "bit": (sa.Boolean, BOOLEAN),
    "date": (sa.Date, on_all("DATE")),
    "time": (sa.Time, per_dialect("TIME", "TIME WITHOUT TIME ZONE", "TIME", "TIME", "TIME", "DATE")),
    "datetime": (
        sa.DateTime,
        per_dialect("DATETIME", "TIMESTAMP WITHOUT TIME ZONE", "DATETIME", "DATETIME", "DATETIME", "TIMESTAMP"),
    ),
    "timestamp": (sa.TIMESTAMP, TIMESTAMP),
    "timestamp without time zone": (sa.TIMESTAMP, TIMESTAMP),
    "timestamp with time zone": (sa.TIMESTAMP, TIMESTAMP_TZ),
    "timestamptz": (sa.TIMESTAMP, TIMESTAMP_TZ),
    "timestamp_with_timezone": (sa.TIMESTAMP, TIMESTAMP_TZ),  # java.sql.Types.TIMESTAMP_WITH_TIMEZONE
    "decimal": (sa.Numeric, on_all("NUMERIC")),
    # Oracle: NUMBER, as Liquibase renders number/numeric there; a bare NUMERIC has scale 0 on Oracle (integers)
    "numeric": (sa.Numeric, NUMBER),
    "number": (sa.Numeric, NUMBER),
    "decimal(10,2)": (sa.Numeric, on_all("NUMERIC(10, 2)")),
    "numeric(12, 4)": (
        sa.Numeric,
        per_dialect(
            "NUMERIC(12, 4)", "NUMERIC(12, 4)", "NUMERIC(12, 4)", "NUMERIC(12, 4)", "NUMERIC(12, 4)", "NUMBER(12, 4)"
        ),
    ),
    "number(5)": (
        sa.Numeric,
        per_dialect("NUMERIC(5)", "NUMERIC(5)", "NUMERIC(5)", "NUMERIC(5)", "NUMERIC(5)", "NUMBER(5)"),
    ),
    "currency": (sa.Numeric, on_all("NUMERIC(18, 4)")),
    "float": (sa.Float, on_all("FLOAT")),
    "real": (sa.REAL, on_all("REAL")),
    "double": (sa.Double, DOUBLE),
    "double precision": (sa.Double, DOUBLE),
    "text": (sa.Text, per_dialect("TEXT", "TEXT", "TEXT", "TEXT", "VARCHAR(max)", "CLOB")),
    "tinytext": (sa.Text, per_dialect("TEXT", "TEXT", "TINYTEXT", "TINYTEXT", "VARCHAR(max)", "CLOB")),
    "mediumtext": (sa.Text, per_dialect("TEXT", "TEXT", "MEDIUMTEXT", "MEDIUMTEXT", "VARCHAR(max)", "CLOB")),
    "clob": (sa.Text, LONG_TEXT),
    "longtext": (sa.Text, LONG_TEXT),
    "longvarchar": (sa.Text, LONG_TEXT),
    "nclob": (sa.UnicodeText, LONG_NTEXT),
    "longnvarchar": (sa.UnicodeText, LONG_NTEXT),
    "blob": (sa.LargeBinary, BLOB),
    "bytea": (sa.LargeBinary, BLOB),
    "tinyblob": (sa.LargeBinary, per_dialect("BLOB", "BYTEA", "TINYBLOB", "TINYBLOB", "VARBINARY(max)", "BLOB")),
    "mediumblob": (sa.LargeBinary, per_dialect("BLOB", "BYTEA", "MEDIUMBLOB", "MEDIUMBLOB", "VARBINARY(max)", "BLOB")),
    "longblob": (sa.LargeBinary, LONG_BLOB),
    "longvarbinary": (sa.LargeBinary, LONG_BLOB),
    "binary(16)": (
        sa.BINARY,
        per_dialect("BINARY(16)", "BYTEA", "BINARY(16)", "BINARY(16)", "BINARY(16)", "RAW(16)"),
    ),
    "varbinary(16)": (
        sa.VARBINARY,
        per_dialect("VARBINARY(16)", "BYTEA", "VARBINARY(16)", "VARBINARY(16)", "VARBINARY(16)", "RAW(16)"),
    ),
    "uuid": (sa.Uuid, per_dialect("CHAR(32)", "UUID", "CHAR(32)", "UUID", "UNIQUEIDENTIFIER", "CHAR(32)")),
    "json": (sa.JSON, per_dialect("JSON", "JSON", "JSON", "JSON", "NVARCHAR(max)", "JSON")),
}

# (spec, dialect) → "BUG: ..." for expectations yamlbase does not meet yet; each becomes a strict xfail.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _params() -> list[Any]:
    params = []
    for spec, (_, expected) in CASES.items():
        for name in DIALECTS:
            bug = KNOWN_BUGS.get((spec, name))
            marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
            params.append(pytest.param(spec, name, expected[name], id=f"{spec}-{name}", marks=marks))
    return params


def test_dialect_names_are_the_six_targets() -> None:
    assert DIALECT_NAMES == DIALECTS


def test_every_listed_name_has_a_case() -> None:
    covered = {re.sub(r"\(.*\)$", "", spec).strip() for spec in CASES}
    assert set(TYPE_MAP) <= covered, sorted(set(TYPE_MAP) - covered)


@pytest.mark.parametrize("spec", list(CASES))
def test_sqlalchemy_type(spec: str) -> None:
    expected_class, _ = CASES[spec]
    assert type(to_sqlalchemy(spec)) is expected_class


@pytest.mark.parametrize(("spec", "dialect_name", "expected"), _params())
def test_rendered_ddl(spec: str, dialect_name: str, expected: str) -> None:
    assert ddl(spec, dialect_name) == expected


# --- arguments: lengths, precision, scale --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "attributes"),
    [
        ("varchar(50)", {"length": 50}),
        ("VARCHAR2(4000)", {"length": 4000}),
        ("nvarchar(10)", {"length": 10}),
        ("char(1)", {"length": 1}),
        ("binary(16)", {"length": 16}),
        ("varchar", {"length": None}),
        ("decimal(10,2)", {"precision": 10, "scale": 2}),
        ("decimal( 10 , 2 )", {"precision": 10, "scale": 2}),
        ("numeric(7)", {"precision": 7, "scale": None}),
        ("number", {"precision": None, "scale": None}),
        ("currency", {"precision": 18, "scale": 4}),
        ("timestamp with time zone", {"timezone": True}),
        ("timestamp without time zone", {"timezone": False}),
        ("timestamp", {"timezone": False}),
    ],
)
def test_arguments_are_kept(spec: str, attributes: dict[str, Any]) -> None:
    type_ = to_sqlalchemy(spec)
    assert {name: getattr(type_, name) for name in attributes} == attributes


@pytest.mark.parametrize(
    ("spec", "dialect_name", "expected"),
    [
        ("int(11)", "mysql", "INTEGER"),  # a display width, not a size: MySQL 8 deprecates it
        ("bigint(20)", "mysql", "BIGINT"),
        ("  Int  ", "postgresql", "INTEGER"),
        ("VARCHAR(50)", "postgresql", "VARCHAR(50)"),
        ("Decimal(10, 2)", "oracle", "NUMERIC(10, 2)"),
        ("double  precision", "postgresql", "DOUBLE PRECISION"),
        ("TIMESTAMP WITH TIME ZONE", "postgresql", "TIMESTAMP WITH TIME ZONE"),
        ("varchar", "postgresql", "VARCHAR"),
        ("varchar", "mssql", "VARCHAR(max)"),
        ("nvarchar", "mssql", "NVARCHAR(max)"),
    ],
)
def test_spelling_and_arguments(spec: str, dialect_name: str, expected: str) -> None:
    assert ddl(spec, dialect_name) == expected


@pytest.mark.parametrize("dialect_name", ["mysql", "mariadb"])
def test_varchar_without_length_is_refused_where_the_database_needs_one(dialect_name: str) -> None:
    with pytest.raises(sa.exc.CompileError, match=f"VARCHAR requires a length on dialect {dialect_name}"):
        ddl("varchar", dialect_name)


@pytest.mark.parametrize("dialect_name", ["mysql", "mariadb"])
def test_varbinary_without_length_is_refused_cleanly(dialect_name: str) -> None:
    with pytest.raises(sa.exc.CompileError, match=f"VARBINARY requires a length on dialect {dialect_name}"):
        ddl("varbinary", dialect_name)


@pytest.mark.parametrize("spec", ["binary", "varbinary"])
def test_raw_without_length_is_refused_on_oracle(spec: str) -> None:
    with pytest.raises(sa.exc.CompileError, match="RAW requires a length on dialect oracle"):
        ddl(spec, "oracle")


@pytest.mark.parametrize(
    ("dialect_name", "expected"),
    [("sqlite", "VARBINARY"), ("postgresql", "BYTEA"), ("mssql", "VARBINARY(max)")],
)
def test_varbinary_without_length_where_the_database_allows_it(dialect_name: str, expected: str) -> None:
    assert ddl("varbinary", dialect_name) == expected


@pytest.mark.parametrize(
    ("spec", "dialect_name", "expected"),
    [
        ("timestamp(3)", "postgresql", "TIMESTAMP(3) WITHOUT TIME ZONE"),
        ("timestamp(3)", "oracle", "TIMESTAMP(3)"),
        ("timestamp(6)", "mysql", "TIMESTAMP(6)"),
        ("timestamp(6)", "mariadb", "TIMESTAMP(6)"),
        ("datetime(6)", "mysql", "DATETIME(6)"),
        ("datetime(3)", "mariadb", "DATETIME(3)"),
        ("time(3)", "mysql", "TIME(3)"),
        ("time(3)", "postgresql", "TIME(3) WITHOUT TIME ZONE"),
        ("timestamp(3)", "mssql", "DATETIME2(3)"),
        ("datetime(3)", "postgresql", "TIMESTAMP(3) WITHOUT TIME ZONE"),
        ("datetime(3)", "oracle", "TIMESTAMP(3)"),
        ("datetime(3)", "mssql", "DATETIME"),  # DATETIME has a fixed 1/300 s there (Liquibase drops it too)
        ("time(3)", "mssql", "TIME(3)"),
        ("time(3)", "oracle", "DATE"),
        ("timestamp(3) with time zone", "postgresql", "TIMESTAMP(3) WITH TIME ZONE"),
        ("timestamp(3) with time zone", "oracle", "TIMESTAMP(3) WITH TIME ZONE"),
        ("timestamp(3) with time zone", "mssql", "DATETIMEOFFSET(3)"),
        ("timestamp(3) without time zone", "postgresql", "TIMESTAMP(3) WITHOUT TIME ZONE"),
        ("TIMESTAMPTZ(6)", "postgresql", "TIMESTAMP(6) WITH TIME ZONE"),
    ],
)
def test_fractional_second_precision_is_kept(spec: str, dialect_name: str, expected: str) -> None:
    assert ddl(spec, dialect_name) == expected


@pytest.mark.parametrize(
    ("dialect_name", "expected"),
    [
        ("oracle", "VARCHAR2(30 CHAR)"),
        ("postgresql", "VARCHAR(30)"),
        ("mysql", "VARCHAR(30)"),
        ("mssql", "VARCHAR(30)"),
    ],
)
def test_varchar2_with_char_semantics_keeps_its_length(dialect_name: str, expected: str) -> None:
    assert ddl("varchar2(30 char)", dialect_name) == expected


# --- java.sql.Types.* -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "dialect_name", "expected"),
    [
        ("java.sql.Types.INTEGER", "postgresql", "INTEGER"),
        ("java.sql.Types.BIGINT", "oracle", "NUMBER(19)"),
        ("JAVA.SQL.TYPES.SMALLINT", "mysql", "SMALLINT"),
        ("java.sql.Types.VARCHAR(20)", "oracle", "VARCHAR2(20 CHAR)"),
        ("java.sql.Types.NVARCHAR(5)", "mssql", "NVARCHAR(5)"),
        ("java.sql.Types.CHAR(2)", "sqlite", "CHAR(2)"),
        ("java.sql.Types.BOOLEAN", "mssql", "BIT"),
        ("java.sql.Types.DECIMAL(8,3)", "mysql", "NUMERIC(8, 3)"),
        ("java.sql.Types.DOUBLE", "postgresql", "DOUBLE PRECISION"),
        ("java.sql.Types.TIMESTAMP", "postgresql", "TIMESTAMP WITHOUT TIME ZONE"),
        ("java.sql.Types.DATE", "oracle", "DATE"),
        ("java.sql.Types.BLOB", "postgresql", "BYTEA"),
        ("java.sql.Types.CLOB", "oracle", "CLOB"),
    ],
)
def test_java_sql_types_prefix(spec: str, dialect_name: str, expected: str) -> None:
    assert ddl(spec, dialect_name) == expected


@pytest.mark.parametrize(
    ("spec", "dialect_name", "expected"),
    [
        ("java.sql.Types.TIMESTAMP_WITH_TIMEZONE", "postgresql", "TIMESTAMP WITH TIME ZONE"),
        ("java.sql.Types.TIMESTAMP_WITH_TIMEZONE", "oracle", "TIMESTAMP WITH TIME ZONE"),
        ("java.sql.Types.LONGVARCHAR", "postgresql", "TEXT"),
        ("java.sql.Types.LONGNVARCHAR", "postgresql", "TEXT"),
        ("java.sql.Types.LONGVARBINARY", "postgresql", "BYTEA"),
        ("java.sql.Types.TIMESTAMP_WITH_TIMEZONE", "mssql", "DATETIMEOFFSET"),
        ("java.sql.Types.LONGVARCHAR", "mysql", "LONGTEXT"),
        ("java.sql.Types.LONGNVARCHAR", "mssql", "NVARCHAR(max)"),
        ("java.sql.Types.LONGVARBINARY", "mariadb", "LONGBLOB"),
        ("java.sql.Types.NCLOB", "mysql", "LONGTEXT"),
        ("java.sql.Types.NUMERIC(10,2)", "oracle", "NUMBER(10, 2)"),
        ("java.sql.Types.TINYINT", "postgresql", "SMALLINT"),
        ("java.sql.Types.REAL", "mysql", "REAL"),
        ("java.sql.Types.FLOAT", "oracle", "FLOAT"),
        ("java.sql.Types.TIME", "oracle", "DATE"),
        ("java.sql.Types.NCHAR(2)", "mssql", "NCHAR(2)"),
        ("java.sql.Types.BINARY(16)", "oracle", "RAW(16)"),
        ("java.sql.Types.VARBINARY(16)", "postgresql", "BYTEA"),
        ("java.sql.Types.LONGBLOB", "mysql", "LONGBLOB"),
    ],
)
def test_java_sql_types_that_liquibase_knows(spec: str, dialect_name: str, expected: str) -> None:
    assert ddl(spec, dialect_name) == expected


@pytest.mark.parametrize(
    ("spec", "dialect_name", "expected"),
    [
        ("tinytext", "postgresql", "TEXT"),
        ("mediumtext", "postgresql", "TEXT"),
        ("mediumtext", "oracle", "CLOB"),
    ],
)
def test_liquibase_text_aliases(spec: str, dialect_name: str, expected: str) -> None:
    assert ddl(spec, dialect_name) == expected


@pytest.mark.parametrize(
    ("spec", "dialect_name", "expected"),
    [
        ("number(10,2)", "oracle", "NUMBER(10, 2)"),
        ("NUMBER(38, 0)", "oracle", "NUMBER(38, 0)"),
        ("numeric(10,2)", "oracle", "NUMBER(10, 2)"),
        ("number(10,2)", "postgresql", "NUMERIC(10, 2)"),
        ("number(10,-2)", "oracle", "NUMBER(10, -2)"),
    ],
)
def test_oracle_number_keeps_precision_and_scale(spec: str, dialect_name: str, expected: str) -> None:
    assert ddl(spec, dialect_name) == expected


# --- unknown names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    ["geometry", "citext", "int unsigned", "ENUM('a','b')", "varchar(255) COLLATE utf8mb4_bin", "xml", "money"],
)
def test_unknown_names_are_passed_verbatim(spec: str) -> None:
    type_ = to_sqlalchemy(f"  {spec} ")
    assert isinstance(type_, Verbatim)
    assert type_.spec == spec
    assert {name: ddl(f"  {spec} ", name) for name in DIALECTS} == on_all(spec)


@pytest.mark.parametrize("spec", ["java.sql.Types.ARRAY", "java.sql.Types.OTHER"])
def test_unknown_java_sql_types_lose_the_java_prefix(spec: str) -> None:
    bare = spec.rsplit(".", 1)[1]
    assert {name: ddl(spec, name) for name in DIALECTS} == on_all(bare)


def test_verbatim_types_in_a_table() -> None:
    table = sa.Table("t", sa.MetaData(), sa.Column("shape", to_sqlalchemy("geometry(Point, 4326)")))
    assert str(sa.schema.CreateTable(table).compile(dialect=dialect("postgresql"))).strip() == (
        "CREATE TABLE t (\n\tshape geometry(Point, 4326)\n)"
    )
