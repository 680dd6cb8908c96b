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
LONG_TEXT = per_dialect("TEXT", "TEXT", "LONGTEXT", "LONGTEXT", "VARCHAR(max)", "CLOB")
BLOB = per_dialect("BLOB", "BYTEA", "BLOB", "BLOB", "VARBINARY(max)", "BLOB")

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
    "decimal": (sa.Numeric, on_all("NUMERIC")),
    "numeric": (sa.Numeric, on_all("NUMERIC")),
    "number": (sa.Numeric, per_dialect("NUMERIC", "NUMERIC", "NUMERIC", "NUMERIC", "NUMERIC", "NUMBER")),
    "decimal(10,2)": (sa.Numeric, on_all("NUMERIC(10, 2)")),
    "numeric(12, 4)": (sa.Numeric, on_all("NUMERIC(12, 4)")),
    "number(5)": (sa.Numeric, on_all("NUMERIC(5)")),
    "currency": (sa.Numeric, on_all("NUMERIC(18, 4)")),
    "float": (sa.Float, on_all("FLOAT")),
    "real": (sa.REAL, on_all("REAL")),
    "double": (sa.Double, DOUBLE),
    "double precision": (sa.Double, DOUBLE),
    "text": (sa.Text, per_dialect("TEXT", "TEXT", "TEXT", "TEXT", "VARCHAR(max)", "CLOB")),
    "clob": (sa.Text, LONG_TEXT),
    "longtext": (sa.Text, LONG_TEXT),
    "nclob": (sa.UnicodeText, per_dialect("TEXT", "TEXT", "LONGTEXT", "LONGTEXT", "NVARCHAR(max)", "CLOB")),
    "blob": (sa.LargeBinary, BLOB),
    "bytea": (sa.LargeBinary, BLOB),
    "longblob": (sa.LargeBinary, per_dialect("BLOB", "BYTEA", "LONGBLOB", "LONGBLOB", "VARBINARY(max)", "BLOB")),
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

MSSQL_OFFLINE = (
    "BUG: update-sql for SQL Server renders types for a pre-2008 server: date/time become DATETIME, text/clob TEXT, "
    "nclob NTEXT, blob IMAGE (TextSink configures Alembic's dialect with no server version and "
    "deprecate_large_types=None; set them for a current SQL Server)"
)
MSSQL_TIMESTAMP = (
    "BUG: 'timestamp' on SQL Server renders TIMESTAMP, which there is a rowversion, not a date-time; Liquibase "
    "renders DATETIME2 (DATETIMEOFFSET with a time zone). types.py TYPE_MAP maps it to sa.TIMESTAMP with no variant"
)
MYSQL_LONG = (
    "BUG: clob/longtext/nclob/longblob on MySQL/MariaDB render TEXT/BLOB (64 KB) instead of LONGTEXT/LONGBLOB "
    "(Liquibase's mapping), truncating data; types.py TYPE_MAP maps them to plain sa.Text/sa.LargeBinary"
)
NO_BINARY = (
    "BUG: binary/varbinary render BINARY/VARBINARY on PostgreSQL and Oracle, which have no such types "
    "(BYTEA; RAW(n)); types.py TYPE_MAP needs dialect variants"
)

KNOWN_BUGS: dict[tuple[str, str], str] = {
    ("date", "mssql"): MSSQL_OFFLINE,
    ("time", "mssql"): MSSQL_OFFLINE,
    ("text", "mssql"): MSSQL_OFFLINE,
    ("clob", "mssql"): MSSQL_OFFLINE,
    ("longtext", "mssql"): MSSQL_OFFLINE,
    ("nclob", "mssql"): MSSQL_OFFLINE,
    ("blob", "mssql"): MSSQL_OFFLINE,
    ("bytea", "mssql"): MSSQL_OFFLINE,
    ("longblob", "mssql"): MSSQL_OFFLINE,
    ("timestamp", "mssql"): MSSQL_TIMESTAMP,
    ("timestamp without time zone", "mssql"): MSSQL_TIMESTAMP,
    ("timestamp with time zone", "mssql"): MSSQL_TIMESTAMP,
    ("timestamptz", "mssql"): MSSQL_TIMESTAMP,
    ("clob", "mysql"): MYSQL_LONG,
    ("clob", "mariadb"): MYSQL_LONG,
    ("longtext", "mysql"): MYSQL_LONG,
    ("longtext", "mariadb"): MYSQL_LONG,
    ("nclob", "mysql"): MYSQL_LONG,
    ("nclob", "mariadb"): MYSQL_LONG,
    ("longblob", "mysql"): MYSQL_LONG,
    ("longblob", "mariadb"): MYSQL_LONG,
    ("binary(16)", "postgresql"): NO_BINARY,
    ("binary(16)", "oracle"): NO_BINARY,
    ("varbinary(16)", "postgresql"): NO_BINARY,
    ("varbinary(16)", "oracle"): NO_BINARY,
    ("time", "oracle"): (
        "BUG: 'time' on Oracle renders TIME, a type Oracle does not have (Liquibase renders DATE); "
        "types.py TYPE_MAP needs an Oracle variant"
    ),
    ("datetime", "oracle"): (
        "BUG: 'datetime' on Oracle renders DATE, which drops fractional seconds (Liquibase renders TIMESTAMP); "
        "types.py TYPE_MAP maps it to sa.DateTime, whose Oracle form is DATE"
    ),
    ("number", "oracle"): (
        "BUG: 'number' on Oracle renders NUMERIC, which Oracle reads as NUMBER(38,0) (integers only) instead of its "
        "own NUMBER (Liquibase keeps NUMBER); types.py TYPE_MAP maps it to sa.Numeric"
    ),
}


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


@pytest.mark.xfail(
    strict=True,
    reason="BUG: 'varbinary' without a length crashes MySQL compilation with a TypeError (uncaught by "
    "commands._apply_changes, so a traceback) instead of a CompileError like 'varchar'; types.py should refuse it",
)
@pytest.mark.parametrize("dialect_name", ["mysql", "mariadb"])
def test_varbinary_without_length_is_refused_cleanly(dialect_name: str) -> None:
    with pytest.raises(sa.exc.CompileError):
        ddl("varbinary", dialect_name)


PRECISION_DROPPED = (
    "BUG: fractional-second precision is dropped (timestamp(3) → TIMESTAMP; on MySQL/MariaDB DATETIME(6) → DATETIME "
    "keeps no fraction at all); types.py TYPE_MAP's date-time factories ignore their argument"
)


@pytest.mark.xfail(strict=True, reason=PRECISION_DROPPED)
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
    ],
)
def test_fractional_second_precision_is_kept(spec: str, dialect_name: str, expected: str) -> None:
    assert ddl(spec, dialect_name) == expected


@pytest.mark.xfail(
    strict=True,
    reason="BUG: Oracle's 'varchar2(30 char)' loses its length (types._ints keeps only all-digit arguments), "
    "rendering VARCHAR2 (invalid) on Oracle and VARCHAR(max) on SQL Server",
)
@pytest.mark.parametrize(
    ("dialect_name", "expected"),
    [("oracle", "VARCHAR2(30 CHAR)"), ("postgresql", "VARCHAR(30)"), ("mysql", "VARCHAR(30)")],
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


@pytest.mark.xfail(
    strict=True,
    reason="BUG: java.sql.Types names Liquibase knows but TYPE_MAP lacks (TIMESTAMP_WITH_TIMEZONE, LONGVARCHAR, "
    "LONGNVARCHAR, LONGVARBINARY) are sent verbatim *with* the Java prefix, which no database accepts "
    "(types.to_sqlalchemy returns Verbatim(spec) with the prefix still on)",
)
@pytest.mark.parametrize(
    ("spec", "dialect_name", "expected"),
    [
        ("java.sql.Types.TIMESTAMP_WITH_TIMEZONE", "postgresql", "TIMESTAMP WITH TIME ZONE"),
        ("java.sql.Types.TIMESTAMP_WITH_TIMEZONE", "oracle", "TIMESTAMP WITH TIME ZONE"),
        ("java.sql.Types.LONGVARCHAR", "postgresql", "TEXT"),
        ("java.sql.Types.LONGNVARCHAR", "postgresql", "TEXT"),
        ("java.sql.Types.LONGVARBINARY", "postgresql", "BYTEA"),
    ],
)
def test_java_sql_types_that_liquibase_knows(spec: str, dialect_name: str, expected: str) -> None:
    assert ddl(spec, dialect_name) == expected


@pytest.mark.xfail(
    strict=True,
    reason="BUG: MySQL text names that Liquibase maps everywhere (tinytext, mediumtext → TEXT) are sent verbatim, "
    "invalid on PostgreSQL/Oracle/SQL Server; types.py TYPE_MAP lacks them",
)
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


def test_verbatim_types_in_a_table() -> None:
    table = sa.Table("t", sa.MetaData(), sa.Column("shape", to_sqlalchemy("geometry(Point, 4326)")))
    assert str(sa.schema.CreateTable(table).compile(dialect=dialect("postgresql"))).strip() == (
        "CREATE TABLE t (\n\tshape geometry(Point, 4326)\n)"
    )
