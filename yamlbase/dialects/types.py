"""Liquibase type names (``varchar(50)``, ``decimal(10,2)``, ``java.sql.Types.INTEGER``, …) → SQLAlchemy types.

One table, ``TYPE_MAP``, is the single source of this fact. A name it does not know is passed to the
database verbatim, as Liquibase does.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine, UserDefinedType

_TYPE = re.compile(r"^\s*(?P<name>[A-Za-z_][\w .]*)(?:\((?P<args>[^)]*)\))?\s*(?P<rest>.*?)\s*$")


def _ints(args: list[str]) -> list[int]:
    return [int(a) for a in args if a.strip().isdigit()]


def _length(factory: Callable[..., TypeEngine]) -> Callable[[list[str]], TypeEngine]:
    def build(args: list[str]) -> TypeEngine:
        n = _ints(args[:1])
        return factory(n[0]) if n else factory()

    return build


def _numeric(args: list[str]) -> TypeEngine:
    return sa.Numeric(*_ints(args[:2]))


TYPE_MAP: dict[str, Callable[[list[str]], TypeEngine]] = {
    "int": lambda a: sa.Integer(),
    "integer": lambda a: sa.Integer(),
    "int4": lambda a: sa.Integer(),
    "mediumint": lambda a: sa.Integer(),
    "bigint": lambda a: sa.BigInteger(),
    "int8": lambda a: sa.BigInteger(),
    "long": lambda a: sa.BigInteger(),
    "smallint": lambda a: sa.SmallInteger(),
    "int2": lambda a: sa.SmallInteger(),
    "tinyint": lambda a: sa.SmallInteger(),
    "varchar": _length(sa.String),
    "varchar2": _length(sa.String),
    "character varying": _length(sa.String),
    "string": _length(sa.String),
    "nvarchar": _length(sa.Unicode),
    "char": _length(sa.CHAR),
    "character": _length(sa.CHAR),
    "nchar": _length(sa.NCHAR),
    "boolean": lambda a: sa.Boolean(),
    "bool": lambda a: sa.Boolean(),
    "bit": lambda a: sa.Boolean(),
    "date": lambda a: sa.Date(),
    "time": lambda a: sa.Time(),
    "datetime": lambda a: sa.DateTime(),
    "timestamp": lambda a: sa.TIMESTAMP(),
    "timestamp with time zone": lambda a: sa.TIMESTAMP(timezone=True),
    "timestamptz": lambda a: sa.TIMESTAMP(timezone=True),
    "timestamp without time zone": lambda a: sa.TIMESTAMP(),
    "decimal": _numeric,
    "numeric": _numeric,
    "number": _numeric,
    "currency": lambda a: sa.Numeric(18, 4),
    "float": lambda a: sa.Float(),
    "real": lambda a: sa.REAL(),
    "double": lambda a: sa.Double(),
    "double precision": lambda a: sa.Double(),
    "text": lambda a: sa.Text(),
    "clob": lambda a: sa.Text(),
    "longtext": lambda a: sa.Text(),
    "nclob": lambda a: sa.UnicodeText(),
    "blob": lambda a: sa.LargeBinary(),
    "longblob": lambda a: sa.LargeBinary(),
    "bytea": lambda a: sa.LargeBinary(),
    "binary": _length(sa.BINARY),
    "varbinary": _length(sa.VARBINARY),
    "uuid": lambda a: sa.Uuid(),
    "json": lambda a: sa.JSON(),
}


class Verbatim(UserDefinedType):
    """A type name yamlbase does not know, sent to the database exactly as written."""

    cache_ok = True

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def get_col_spec(self, **kw: object) -> str:
        return self.spec


def to_sqlalchemy(spec: str) -> TypeEngine:
    """The SQLAlchemy type for a Liquibase type string; unknown names become :class:`Verbatim`."""
    text = spec.strip()
    if text.lower().startswith("java.sql.types."):
        text = text[len("java.sql.types.") :]
    match = _TYPE.match(text)
    if match and not match["rest"]:
        factory = TYPE_MAP.get(" ".join(match["name"].lower().split()))  # "double  precision" too
        if factory is not None:
            args = [a.strip() for a in (match["args"] or "").split(",") if a.strip()]
            return factory(args)
    return Verbatim(spec.strip())
