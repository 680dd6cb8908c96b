"""Liquibase type names (``varchar(50)``, ``decimal(10,2)``, ``java.sql.Types.INTEGER``, …) → SQLAlchemy types.

One table, ``TYPE_MAP``, is the single source of this fact. Where a database needs another type than SQLAlchemy's
default for it (Liquibase's mapping: ``clob`` is LONGTEXT on MySQL, ``timestamp`` DATETIME2 on SQL Server, …), the
entry says so with a per-dialect variant (:meth:`~sqlalchemy.types.TypeEngine.with_variant`). A name it does not
know is passed to the database verbatim, as Liquibase does. The way back, a type as a database reports it to the
Liquibase name that builds it (:func:`liquibase_type`), is read off the same table.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, oracle, postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import TypeCompiler
from sqlalchemy.types import TypeEngine, UserDefinedType

Factory = Callable[[list[str]], TypeEngine[Any]]

_TYPE = re.compile(r"^\s*(?P<name>[A-Za-z_][\w .]*)(?:\((?P<args>[^)]*)\))?\s*(?P<rest>.*?)\s*$")
_JAVA_PREFIX = "java.sql.types."
_INTEGER = re.compile(r"[+-]?\d+")

# ``mysql=`` in a variant list stands for both: SQLAlchemy looks variants up by the exact dialect name.
_DIALECT_NAMES = {"mysql": ("mysql", "mariadb")}


# --- types SQLAlchemy lacks ---------------------------------------------------------------------------------


class _OracleTimestamp(oracle.TIMESTAMP):
    """Oracle's ``TIMESTAMP(p)``: SQLAlchemy's Oracle TIMESTAMP has no fractional-second precision."""

    def __init__(self, timezone: bool = False, precision: int | None = None) -> None:
        super().__init__(timezone=timezone)
        self.precision = precision


@compiles(_OracleTimestamp, "oracle")
def _oracle_timestamp(type_: _OracleTimestamp, compiler: TypeCompiler, **kw: Any) -> str:
    sql: str = compiler.visit_TIMESTAMP(type_, **kw)
    return sql if type_.precision is None else sql.replace("TIMESTAMP", f"TIMESTAMP({type_.precision})", 1)


class _SizedVarBinary(sa.VARBINARY):
    """VARBINARY where the database requires a length (MySQL/MariaDB)."""


class _SizedRaw(oracle.RAW):
    """Oracle's RAW, which always requires a length."""


@compiles(_SizedVarBinary)
@compiles(_SizedRaw)
def _refuse_without_length(type_: _SizedVarBinary | _SizedRaw, compiler: TypeCompiler, **kw: Any) -> str:
    # Refused like SQLAlchemy refuses a length-less VARCHAR on MySQL, rather than a TypeError or invalid DDL.
    name = type_.__visit_name__
    if type_.length is None:
        raise sa.exc.CompileError(f"{name} requires a length on dialect {compiler.dialect.name}")
    return getattr(compiler, f"visit_{name}")(type_, **kw)


# --- arguments and variants ---------------------------------------------------------------------------------


def _arg(args: list[str], i: int = 0) -> int | None:
    """The number that argument ``i`` starts with (30 for ``30 char``); None when absent or not a number."""
    match = _INTEGER.match(args[i]) if i < len(args) else None
    return int(match[0]) if match else None


def _vary(type_: TypeEngine[Any], **variants: TypeEngine[Any]) -> TypeEngine[Any]:
    """``type_`` with one variant per dialect keyword (``mysql=`` covers MariaDB too)."""
    for name, variant in variants.items():
        type_ = type_.with_variant(variant, *_DIALECT_NAMES.get(name, (name,)))
    return type_


def _plain(type_: Callable[[], TypeEngine[Any]], **variants: Callable[[], TypeEngine[Any]]) -> Factory:
    """A type without arguments (a display width such as ``int(11)`` is ignored), with per-dialect variants."""
    return lambda args: _vary(type_(), **{name: variant() for name, variant in variants.items()})


def _sized(type_: Callable[..., TypeEngine[Any]]) -> Factory:
    """A type with an optional length: ``varchar(30)``, Oracle's ``varchar2(30 char)``."""
    return lambda args: type_(_arg(args))


def _binary(type_: type[sa.BINARY] | type[sa.VARBINARY], mysql_type: type[sa.VARBINARY] | None = None) -> Factory:
    """BINARY/VARBINARY(n): BYTEA on PostgreSQL and RAW(n) on Oracle, which have no such types."""

    def build(args: list[str]) -> TypeEngine[Any]:
        n = _arg(args)
        variants: dict[str, TypeEngine[Any]] = {"postgresql": postgresql.BYTEA(), "oracle": _SizedRaw(n)}
        if mysql_type is not None:
            variants["mysql"] = mysql_type(n)
        return _vary(type_(n), **variants)

    return build


def _numeric(args: list[str]) -> TypeEngine[Any]:
    return sa.Numeric(_arg(args), _arg(args, 1))


def _number(args: list[str]) -> TypeEngine[Any]:
    """NUMBER(p,s) on Oracle: a bare NUMERIC there has scale 0, integers only."""
    precision, scale = _arg(args), _arg(args, 1)
    return _vary(sa.Numeric(precision, scale), oracle=oracle.NUMBER(precision, scale, asdecimal=True))


def _time(args: list[str]) -> TypeEngine[Any]:
    p = _arg(args)
    return _vary(
        sa.Time(),
        postgresql=postgresql.TIME(precision=p),
        mysql=mysql.TIME(fsp=p),
        mssql=mssql.TIME(precision=p),
        oracle=oracle.DATE(),  # Oracle has no TIME; Liquibase uses DATE, which has a time of day
    )


def _datetime(args: list[str]) -> TypeEngine[Any]:
    p = _arg(args)
    return _vary(
        sa.DateTime(),
        postgresql=postgresql.TIMESTAMP(precision=p),
        mysql=mysql.DATETIME(fsp=p),
        oracle=_OracleTimestamp(precision=p),  # Oracle's DATE has no fractional seconds
    )


def _timestamp(timezone: bool) -> Factory:
    def build(args: list[str]) -> TypeEngine[Any]:
        p = _arg(args)
        return _vary(
            sa.TIMESTAMP(timezone=timezone),
            postgresql=postgresql.TIMESTAMP(timezone=timezone, precision=p),
            mysql=mysql.TIMESTAMP(timezone=timezone, fsp=p),
            # TIMESTAMP is a row version on SQL Server, not a date-time
            mssql=mssql.DATETIMEOFFSET(precision=p) if timezone else mssql.DATETIME2(precision=p),
            oracle=_OracleTimestamp(timezone=timezone, precision=p),
        )

    return build


# --- the table ----------------------------------------------------------------------------------------------

# Names are lower case, words single-spaced; ``java.sql.Types.X`` is looked up as ``x``.
TYPE_MAP: dict[str, Factory] = {
    "int": _plain(sa.Integer),
    "integer": _plain(sa.Integer),
    "int4": _plain(sa.Integer),
    "mediumint": _plain(sa.Integer),
    "bigint": _plain(sa.BigInteger),
    "int8": _plain(sa.BigInteger),
    "long": _plain(sa.BigInteger),
    "smallint": _plain(sa.SmallInteger),
    "int2": _plain(sa.SmallInteger),
    "tinyint": _plain(sa.SmallInteger),
    "varchar": _sized(sa.String),
    "varchar2": _sized(sa.String),
    "character varying": _sized(sa.String),
    "string": _sized(sa.String),
    "nvarchar": _sized(sa.Unicode),
    "char": _sized(sa.CHAR),
    "character": _sized(sa.CHAR),
    "nchar": _sized(sa.NCHAR),
    "boolean": _plain(sa.Boolean),
    "bool": _plain(sa.Boolean),
    "bit": _plain(sa.Boolean),
    "date": _plain(sa.Date),
    "time": _time,
    "datetime": _datetime,
    "timestamp": _timestamp(timezone=False),
    "timestamp without time zone": _timestamp(timezone=False),
    "timestamp with time zone": _timestamp(timezone=True),
    "timestamptz": _timestamp(timezone=True),
    "timestamp_with_timezone": _timestamp(timezone=True),
    "decimal": _numeric,
    "numeric": _number,
    "number": _number,
    "currency": lambda args: sa.Numeric(18, 4),
    "float": _plain(sa.Float),
    "real": _plain(sa.REAL),
    "double": _plain(sa.Double),
    "double precision": _plain(sa.Double),
    "text": _plain(sa.Text),
    "tinytext": _plain(sa.Text, mysql=mysql.TINYTEXT),
    "mediumtext": _plain(sa.Text, mysql=mysql.MEDIUMTEXT),
    "clob": _plain(sa.Text, mysql=mysql.LONGTEXT),
    "longtext": _plain(sa.Text, mysql=mysql.LONGTEXT),
    "longvarchar": _plain(sa.Text, mysql=mysql.LONGTEXT),
    "nclob": _plain(sa.UnicodeText, mysql=mysql.LONGTEXT),
    "longnvarchar": _plain(sa.UnicodeText, mysql=mysql.LONGTEXT),
    "blob": _plain(sa.LargeBinary),
    "bytea": _plain(sa.LargeBinary),
    "tinyblob": _plain(sa.LargeBinary, mysql=mysql.TINYBLOB),
    "mediumblob": _plain(sa.LargeBinary, mysql=mysql.MEDIUMBLOB),
    "longblob": _plain(sa.LargeBinary, mysql=mysql.LONGBLOB),
    "longvarbinary": _plain(sa.LargeBinary, mysql=mysql.LONGBLOB),
    "binary": _binary(sa.BINARY),
    "varbinary": _binary(sa.VARBINARY, mysql_type=_SizedVarBinary),
    "uuid": _plain(sa.Uuid),
    "json": _plain(sa.JSON),
}


class Verbatim(UserDefinedType):
    """A type name yamlbase does not know, sent to the database exactly as written."""

    cache_ok = True

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def get_col_spec(self, **kw: object) -> str:
        return self.spec


def to_sqlalchemy(spec: str) -> TypeEngine[Any]:
    """The SQLAlchemy type for a Liquibase type string; unknown names become :class:`Verbatim`.

    The words after the arguments belong to the name: ``timestamp(3) with time zone``.
    """
    text = spec.strip()
    if text.lower().startswith(_JAVA_PREFIX):
        text = text[len(_JAVA_PREFIX) :]  # a Java name, never SQL: unknown ones go out without the prefix
    match = _TYPE.match(text)
    if match:
        factory = TYPE_MAP.get(" ".join(f"{match['name']} {match['rest']}".lower().split()))
        if factory is not None:
            args = [a.strip() for a in (match["args"] or "").split(",") if a.strip()]
            return factory(args)
    return Verbatim(text)


# --- typos ------------------------------------------------------------------------------------------------

# Types the databases know beyond those the table translates, so never taken for a typo of one: the names
# SQLAlchemy's dialects reflect (``citext``, ``jsonb``, ``inet``, ``datetime2``, ``year``, …) and a few they do
# not report: PostgreSQL's serials and geometric types, PostGIS's.
_NATIVE_EXTRA = (
    *("serial", "smallserial", "bigserial", "serial2", "serial4", "serial8", "float4", "float8", "bpchar"),
    *("varbit", "timetz", "point", "line", "lseg", "box", "path", "polygon", "circle", "pg_lsn"),
    *("geometry", "geography"),
)
# How alike a name must be to a known one to be called a typo of it: "strnig" is "string" (0.83), "jsn" "json"
# (0.86); "state" is not "date" (0.67), nor "itn" "int" (0.67).
_TYPO_CUTOFF = 0.75


@functools.cache
def _native_names() -> frozenset[str]:
    from sqlalchemy.dialects import sqlite

    names: set[str] = set(_NATIVE_EXTRA)
    for module in (postgresql.base, mysql.base, sqlite.base, mssql.base, oracle.base):
        names.update(name.lower() for name in getattr(module, "ischema_names", {}))
    return frozenset(names)


@functools.cache
def likely_meant(spec: str) -> str | None:
    """The name in ``TYPE_MAP`` that ``spec`` is most likely a typo of (``strnig`` → ``string``), or None: for a
    type yamlbase or a database knows (parametrised or not: ``geometry(Point, 4326)``), and for a name close to
    none (a type of the user's own, such as an enum, which goes to the database as written)."""
    text = spec.strip()
    if text.lower().startswith(_JAVA_PREFIX):
        text = text[len(_JAVA_PREFIX) :]
    match = _TYPE.match(text)
    if match is None or "." in match["name"]:  # quoted, or qualified by a schema: the user's own type
        return None
    name = " ".join(f"{match['name']} {match['rest']}".lower().split())
    first = (
        match["name"].lower().split()[0]
    )  # "int unsigned", "text collate ...", "integer[]": the type is its first word
    known = _native_names()
    if any(word in TYPE_MAP or word in known for word in (name, " ".join(match["name"].lower().split()), first)):
        return None
    close = difflib.get_close_matches(first, list(TYPE_MAP), n=1, cutoff=_TYPO_CUTOFF)
    return close[0] if close else None


# --- the other way: a database's type back to a Liquibase name ---------------------------------------------------

# The Liquibase names a reflected type is written back as, most portable first: the first whose type on the
# database renders exactly as the database reported the column is the one generated changeSets use. ``datetime``
# comes before ``timestamp`` (MySQL's TIMESTAMP updates itself; DATETIME is the plain date-time everywhere).
_PORTABLE_NAMES = (
    *("int", "bigint", "smallint", "boolean", "varchar", "char", "nvarchar", "nchar", "text", "clob"),
    *("date", "time", "datetime", "timestamp", "timestamp with time zone", "decimal", "numeric"),
    *("float", "real", "double", "blob", "binary", "varbinary", "uuid", "json"),
    *("tinytext", "mediumtext", "longtext", "tinyblob", "mediumblob", "longblob"),
)
# Types a database reports otherwise than it is written: MySQL's BOOL is TINYINT(1).
_REPORTED_AS = {("mysql", "TINYINT(1)"): "boolean", ("mariadb", "TINYINT(1)"): "boolean"}
_INTEGER_NAMES = frozenset({"INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "MEDIUMINT"})


def _normal_sql(text: str) -> str:
    text = " ".join(text.upper().split())
    return re.sub(r"\s*([(),])\s*", r"\1", text)


@functools.cache
def _dialect(name: str) -> sa.engine.Dialect:
    return sa.engine.make_url(f"{name}://").get_dialect()()


@functools.cache
def liquibase_type(sql: str, dialect: str) -> str:
    """The Liquibase type name for a column type as ``dialect`` reports it (``VARCHAR(50)`` → ``varchar(50)``,
    PostgreSQL's ``TIMESTAMP WITHOUT TIME ZONE`` → ``datetime``): the name of ``TYPE_MAP`` whose type on that
    database is exactly the reported one, so the generated changelog builds the same column there and a portable
    one elsewhere. A type no name renders exactly (``MEDIUMINT``, ``INET``, an enum) is returned verbatim."""
    wanted = _normal_sql(sql)
    if (dialect, wanted) in _REPORTED_AS:
        return _REPORTED_AS[dialect, wanted]
    match = _TYPE.match(sql.strip())
    if match is None or dialect not in ("sqlite", "postgresql", "mysql", "mariadb", "mssql", "oracle"):
        return sql
    args = ",".join(a.strip() for a in (match["args"] or "").split(",") if a.strip())
    target = _dialect(dialect)
    attempts = [(f"{name}({args})" if args else name, wanted) for name in _PORTABLE_NAMES]
    if args and dialect in ("mysql", "mariadb") and _normal_sql(match["name"]) in _INTEGER_NAMES:
        # MySQL's display width (INTEGER(11)) is no part of the type: the plain name renders without it.
        attempts += [(name, _normal_sql(f"{match['name']} {match['rest']}")) for name in _PORTABLE_NAMES]
    for spec, reported in attempts:
        type_ = to_sqlalchemy(spec)
        if isinstance(type_, Verbatim):
            continue
        try:
            rendered = type_.compile(dialect=target)
        except sa.exc.CompileError:
            continue
        if _normal_sql(rendered) == reported:
            return spec
    return sql
