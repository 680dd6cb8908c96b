"""Data change types: insert, update, delete, loadData, loadUpdateData and sqlFile, with Liquibase 4.28's semantics.

Values are always bound parameters, never spliced into SQL text: SQL output (``update-sql``) renders them as the
dialect's literals. ``where`` is SQL written by the user, as in Liquibase; its ``whereParams`` fill ``:name`` (a
quoted column name) and ``:value`` / ``?`` (a bound value) in order, as Liquibase's ``replacePredicatePlaceholders``.

CSV files are read as Liquibase's RFC 4180 reader does (``separator``, ``quotchar``, doubled quotes, no escape
character), streamed and sent in batches (``executemany``), never one round trip per row. A cell that is the word
``NULL`` (any case) is NULL; an empty cell is the column's ``defaultValue`` if it has one, else an empty string for
STRING columns and NULL for the others. A column's load type is its ``type`` (NUMERIC, BOOLEAN, DATE, DATETIME,
TIME, STRING, UUID, COMPUTED, SKIP, BLOB, CLOB, OTHER), else the type the table's column has in the database.

Where yamlbase differs on purpose: a NUMERIC cell that is no number, a DATE cell that is no ISO date and a BOOLEAN
cell that is no boolean are errors naming ``file:line`` and the column (Liquibase turns the first two into SQL
expressions spliced into the statement, and the third into false). ``loadUpdateData`` upserts with the
database's own statement (``ON CONFLICT … DO UPDATE`` on PostgreSQL and SQLite, ``ON DUPLICATE KEY UPDATE`` on
MySQL/MariaDB, ``MERGE`` on SQL Server and Oracle), which needs a primary key or unique constraint on the
``primaryKey`` columns, and it updates only the file's columns everywhere (Liquibase's SQLite ``INSERT OR REPLACE``
sets the table's other columns to NULL). Where ``update-sql`` has no database to ask (any but SQLite), a column
without ``type`` keeps its cell's text and an empty cell is NULL.

Checksums are Liquibase's: ``loadData``/``loadUpdateData`` hash the table name and the CSV bytes, ``sqlFile`` the
file as written (checked against Liquibase 4.28 on SQLite, with its stored MD5SUMs identical).

Automatic rollback, as Liquibase: ``loadUpdateData`` deletes the rows of its file by primary key; ``insert``,
``update``, ``delete``, ``loadData`` and ``sqlFile`` have none.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import csv
import dataclasses
import datetime as dt
import decimal
import gzip
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from pydantic import ConfigDict, Field, PrivateAttr
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable

from yamlbase.changes.base import Change, FileChange, Model, NoInverse, PlanContext, RawSQL, Rows, Step, register
from yamlbase.changes.column import ColumnConfig, next_value_sql
from yamlbase.changes.sql import dbms_matches, split_sql

if TYPE_CHECKING:
    from yamlbase.changelog.search_path import SearchPath

BATCH_SIZE = 1000


# --- values ------------------------------------------------------------------------------------------------------


class Value(sa.types.TypeDecorator[Any]):
    """A bound value of the type Python gives it: no cast in the SQL (the column decides), a literal of the
    value's own type in SQL output, and what each driver needs (SQLite takes no Decimal, dates as ISO text)."""

    impl = sa.types.NullType
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, uuid.UUID):
            return str(value)
        if dialect.name == "sqlite":
            if isinstance(value, decimal.Decimal):
                return int(value) if value == value.to_integral_value() else float(value)
            if isinstance(value, dt.datetime):
                return value.isoformat(" ")
            if isinstance(value, dt.date | dt.time):
                return value.isoformat()
        return value

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, uuid.UUID):
            value = str(value)
        if isinstance(value, bytes):
            return _bytes_literal(value, dialect.name)
        # the literal of the value's own type; the compiler escapes what the dialect needs after this (MySQL: \\)
        type_ = sa.literal(value).type.dialect_impl(dialect)
        processor = type_.literal_processor(dialect)
        if processor is None:
            raise ValueError(f"no SQL literal for {type(value).__name__} values in {dialect.name}")
        return str(processor(value))


def _bytes_literal(value: bytes, dialect: str) -> str:
    if dialect == "postgresql":
        return f"'\\x{value.hex()}'::bytea"
    if dialect == "oracle":
        return f"HEXTORAW('{value.hex().upper()}')"
    if dialect == "mssql":
        return f"0x{value.hex().upper()}"
    return f"X'{value.hex().upper()}'"


VALUE = Value()


def bound(value: Any, key: str | None = None) -> sa.BindParameter[Any]:
    """``value`` as a bound parameter (a literal in SQL output)."""
    return sa.bindparam(key, value, type_=VALUE, unique=key is None)


def _number(text: str) -> int | decimal.Decimal:
    """A number as Liquibase's ``valueNumeric`` takes it (``1``, ``-2.5``, ``1e3``); ValueError otherwise."""
    cleaned = text.strip()
    if cleaned.startswith("(") and cleaned.endswith(")"):
        cleaned = cleaned[1:-1].strip()
    try:
        number = decimal.Decimal(cleaned)
    except decimal.InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{text!r} is not a number")
    if re.fullmatch(r"[+-]?\d+", cleaned):
        return int(cleaned)
    return decimal.Decimal(format(number, "f"))  # 1e3 → 1000: a literal every database reads as exact


_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def _boolean(text: str) -> bool:
    """Liquibase's ``BooleanUtil.parseBoolean`` words (and integers: above 0 is true); ValueError otherwise."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    if re.fullmatch(r"[+-]?\d+", word):
        return int(word) > 0
    raise ValueError(f"{text!r} is not a boolean (true/false, t/f, yes/no, y/n, 1/0)")


def _moment(text: str, kind: str) -> dt.date | dt.datetime | dt.time:
    """An ISO date, date-time or time: ``2024-02-29``, ``2024-02-29T10:15:00`` / ``2024-02-29 10:15:00.5``,
    ``10:15:00``. ValueError otherwise."""
    cleaned = text.strip()
    try:
        if kind == "time" or re.fullmatch(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?", cleaned):
            return dt.time.fromisoformat(cleaned)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cleaned):
            day = dt.date.fromisoformat(cleaned)
            return dt.datetime(day.year, day.month, day.day) if kind == "datetime" else day
        return dt.datetime.fromisoformat(cleaned.replace("T", " ", 1))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO {kind} (YYYY-MM-DD, YYYY-MM-DDThh:mm:ss, hh:mm:ss)") from None


def _uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        raise ValueError(f"{text!r} is not a UUID") from None


def column_value(col: ColumnConfig) -> Any:
    """The value of ``value``/``valueNumeric``/``valueBoolean``/``valueDate``/``valueComputed``, bound (or an SQL
    expression for ``valueComputed``); None when the column has none (NULL)."""
    if col.value_computed is not None:
        return sa.text(col.value_computed.replace(":", "\\:"))
    if col.value_numeric is not None and isinstance(col.value_numeric, str):
        try:
            return bound(_number(col.value_numeric))
        except ValueError:  # Liquibase: a valueNumeric that is no number is an SQL expression
            return sa.text(col.value_numeric.replace(":", "\\:"))
    if col.value_date is not None:
        try:
            return bound(_moment(col.value_date, "date"))
        except ValueError:  # Liquibase: a valueDate that is no date is an SQL expression (NOW(), …)
            return sa.text(col.value_date.replace(":", "\\:"))
    return bound(col.insert_value())


class DataColumnConfig(ColumnConfig):
    """A column of insert/update: ColumnConfig's values, or the content of a file next to the changelog."""

    model_config = ConfigDict(title="column")

    value_sequence_next: str | None = Field(None, description="the next value of this sequence")
    value_sequence_current: str | None = Field(None, description="the current value of this sequence")
    value_blob_file: str | None = Field(
        None, description="a file (relative to this changelog) whose bytes are the value"
    )
    value_clob_file: str | None = Field(None, description="a file (next to this changelog) holding the text")


def _current_value_sql(sequence: str, dialect: str) -> str:
    """The current value of ``sequence`` in ``dialect``'s words."""
    if dialect == "postgresql":
        return f"currval('{sequence}')"
    if dialect == "oracle":
        return f"{sequence}.CURRVAL"
    if dialect == "mariadb":
        return f"PREVIOUS VALUE FOR {sequence}"
    if dialect == "mssql":
        return f"(SELECT current_value FROM sys.sequences WHERE name = '{sequence}')"
    raise ValueError(f"valueSequenceCurrent: {dialect} has no sequences")


class DataColumnItem(Model):
    column: DataColumnConfig


class _ValueFiles(Change):
    """A change whose column values may come from files (``valueBlobFile``/``valueClobFile``), which Liquibase
    reads relative to the changelog that names them."""

    _value_files: dict[str, Path] = PrivateAttr(default_factory=dict)

    def _columns(self) -> list[DataColumnConfig]:
        return [item.column for item in getattr(self, "columns", None) or []]

    def bind_files(self, changelog_folder: Path, search: SearchPath) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        for col in self._columns():
            for name in (col.value_blob_file, col.value_clob_file):
                if name is None:
                    continue
                try:
                    path = (changelog_folder / name).resolve()
                    found = path.is_file()
                except (OSError, ValueError) as exc:
                    problems.append(("columns", f"column {col.name}: not a valid path: {name!r} ({exc})"))
                    continue
                if not found:
                    problems.append(("columns", f"column {col.name}: file not found: {name}"))
                self._value_files[name] = path
        return problems

    def value_of(self, col: DataColumnConfig, dialect: str) -> Any:
        """The column's value, read from its file if it names one (bound, as every value), or a sequence's."""
        if col.value_sequence_next is not None:
            if dialect in ("sqlite", "mysql"):
                raise ValueError(f"valueSequenceNext: {dialect} has no sequences")
            return sa.text(next_value_sql(col.value_sequence_next, dialect))
        if col.value_sequence_current is not None:
            return sa.text(_current_value_sql(col.value_sequence_current, dialect))
        name = col.value_blob_file or col.value_clob_file
        if name is None:
            return column_value(col)
        path = self._value_files.get(name, Path(name))
        try:
            if col.value_blob_file is not None:
                return bound(path.read_bytes())
            return bound(path.read_text(encoding=col.encoding or "utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"column {col.name}: cannot read {name}: {exc}") from None


# --- where clauses -----------------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r":name|\?|:value")


class Where(sa.sql.expression.ColumnElement[bool]):
    """A ``where`` written by the user, its ``:name`` placeholders filled with quoted column names and its
    ``:value``/``?`` placeholders with bound values, in order (Liquibase's ``replacePredicatePlaceholders``)."""

    __visit_name__ = "yamlbase_where"
    inherit_cache = False

    type = sa.types.NullType()

    def __init__(self, text: str, names: list[str], values: list[Any]) -> None:
        self.text, self.names, self.values = text.strip(), names, values


@compiles(Where)
def _where(element: Where, compiler: SQLCompiler, **kw: Any) -> str:
    names, values = iter(element.names), iter(element.values)
    out: list[str] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(element.text):
        if match.group() == ":name":
            name = next(names, None)
            if name is None:
                continue  # no more names: the placeholder stays as written
            filler = compiler.preparer.quote(name)
        else:
            value = next(values, _NO_VALUE)
            if value is _NO_VALUE:
                continue
            filler = compiler.process(value, **kw)
        out.append(compiler.post_process_text(element.text[pos : match.start()]))
        out.append(filler)
        pos = match.end()
    out.append(compiler.post_process_text(element.text[pos:]))
    return "".join(out)


_NO_VALUE = object()


class WhereParam(Model):
    """A ``- param:`` of ``whereParams``: a column name (for ``:name``) and a value (for ``:value``)."""

    param: WhereParamColumn


class WhereParamColumn(ColumnConfig):
    model_config = ConfigDict(title="param")

    name: str | None = Field(None, description="column name put in place of :name")  # type: ignore[assignment]


WhereParam.model_rebuild()


class _ModifyData(Change):
    """What update and delete share: the table and a where clause with its parameters."""

    described_by = ("tableName",)
    catalog_name: str | None = None
    schema_name: str | None = None
    table_name: str = Field(description="name of the table")
    where: str | None = Field(None, description="SQL condition, as written (values belong in whereParams)")
    where_params: list[WhereParam] | None = Field(None, description="values for :name and :value in where")

    def where_clause(self) -> Where | None:
        params = [item.param for item in self.where_params or []]
        if self.where is None:
            if params:
                raise ValueError(f"{self.name}: whereParams set but no where")
            return None
        return Where(self.where, [p.name for p in params if p.name is not None], [column_value(p) for p in params])


def single(statement: Executable) -> Rows:
    """One data statement as a step (SQL output keeps its values exactly, tabs included)."""
    return Rows(statement, lambda: [statement], lambda _row: statement)


def _table(name: str, schema: str | None, columns: list[str]) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns), schema=schema)


@register
class Insert(_ValueFiles):
    """Inserts one row. Liquibase has no automatic rollback for it."""

    name = "insert"
    described_by = ("tableName",)
    catalog_name: str | None = None
    schema_name: str | None = None
    table_name: str = Field(description="the table to insert into")
    columns: list[DataColumnItem] = Field(min_length=1)
    dbms: str | None = None

    def operations(self, ctx: PlanContext) -> list[Step]:
        if not dbms_matches(self.dbms, ctx.dialect):
            return []
        # as Liquibase, an autoIncrement column is left to the database
        cols = [item.column for item in self.columns if not item.column.auto_increment]
        table = _table(self.table_name, self.schema_name, [c.name for c in cols])
        return [single(sa.insert(table).values({c.name: self.value_of(c, ctx.dialect) for c in cols}))]


@register
class Update(_ModifyData, _ValueFiles):
    """Updates rows: ``columns`` give the new values, ``where`` chooses the rows. No automatic rollback."""

    name = "update"
    columns: list[DataColumnItem] = Field(min_length=1)

    def operations(self, ctx: PlanContext) -> list[Step]:
        cols = [item.column for item in self.columns]
        table = _table(self.table_name, self.schema_name, [c.name for c in cols])
        statement = sa.update(table).values({c.name: self.value_of(c, ctx.dialect) for c in cols})
        where = self.where_clause()
        if where is not None:
            statement = statement.where(where)
        return [single(statement)]


@register
class Delete(_ModifyData):
    """Deletes the rows ``where`` chooses (every row without it). No automatic rollback."""

    name = "delete"

    def operations(self, ctx: PlanContext) -> list[Step]:
        statement = sa.delete(_table(self.table_name, self.schema_name, []))
        where = self.where_clause()
        if where is not None:
            statement = statement.where(where)
        return [single(statement)]


# --- files -------------------------------------------------------------------------------------------------------


@register
class SqlFile(FileChange):
    """Runs the SQL of a file, split and stripped as the ``sql`` change does. No automatic rollback."""

    expands_properties = True
    name = "sqlFile"
    described_by = ("path",)
    path: str = Field(description="the SQL file")
    split_statements: bool | None = Field(None, description="split on ';' and GO (default true)")
    strip_comments: bool | None = Field(None, description="remove -- and /* */ comments (default false)")
    end_delimiter: str | None = Field(None, description="statement delimiter instead of ';'")
    dbms: str | None = None
    comment: str | None = None

    def operations(self, ctx: PlanContext) -> list[Step]:
        if not dbms_matches(self.dbms, ctx.dialect):
            return []
        try:
            text = self.text()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read {self.path}: {exc}") from None
        statements = split_sql(
            text,
            split=self.split_statements is not False,
            strip_comments=bool(self.strip_comments),
            delimiter=self.end_delimiter,
        )
        return [RawSQL(s) for s in statements]


LoadType = Literal[
    "NUMERIC", "BOOLEAN", "DATE", "DATETIME", "TIME", "STRING", "UUID", "COMPUTED", "SKIP", "BLOB", "CLOB", "OTHER"
]


class LoadDataColumnConfig(ColumnConfig):
    """A ``column`` of loadData: which CSV column (``header`` or ``index``) goes to which table column (``name``)
    as which load ``type``."""

    model_config = ConfigDict(title="column")
    data_types = ()  # its ``type`` is how a CSV cell is read (NUMERIC, DATE, …), not a database type

    name: str | None = Field(None, description="the table's column (default: the CSV header)")  # type: ignore[assignment]
    header: str | None = Field(None, description="the CSV column's header")
    index: int | None = Field(None, description="the CSV column's position, from 0 (ignored when header is set)")
    allow_update: bool | None = Field(None, description="loadUpdateData: false keeps the column's existing value")
    null_placeholder: str | None = Field(None, description="the cell text meaning NULL (default: the word NULL)")


class LoadDataColumnItem(Model):
    column: LoadDataColumnConfig


class _Target:
    """One CSV column as loaded: its position, table column and load type."""

    __slots__ = ("config", "index", "kind", "name")

    def __init__(self, index: int, name: str, kind: str | None, config: LoadDataColumnConfig | None) -> None:
        self.index, self.name, self.kind, self.config = index, name, kind, config


def _load_kind(type_name: str | None) -> str | None:
    """The load type of a column's ``type``: one of LoadType, ``UNKNOWN`` for any other type name, or None."""
    if type_name is None:
        return None
    upper = type_name.strip().upper()
    return upper if upper in LoadType.__args__ else "UNKNOWN"  # type: ignore[attr-defined]


def _reflected_kind(type_: sa.types.TypeEngine[Any]) -> str:
    """The load type Liquibase would take from a column's type in the database."""
    if isinstance(type_, sa.Boolean) or (isinstance(type_, mysql.TINYINT) and type_.display_width == 1):
        return "BOOLEAN"
    if isinstance(type_, sa.Integer | sa.Numeric | sa.Float):
        return "NUMERIC"
    if isinstance(type_, sa.DateTime):
        return "DATETIME"
    if isinstance(type_, sa.Date):
        return "DATE"
    if isinstance(type_, sa.Time):
        return "TIME"
    if isinstance(type_, sa.Uuid):
        return "UUID"
    if isinstance(type_, sa.LargeBinary | sa.types._Binary):
        return "BLOB"
    if isinstance(type_, sa.String):
        return "STRING"
    return "UNKNOWN"


class CellError(ValueError):
    """A CSV cell that cannot be loaded, located ``file:line`` and by column."""


@register
class LoadData(FileChange):
    """Loads the rows of a CSV file into an existing table. No automatic rollback (as Liquibase)."""

    name = "loadData"
    described_by = ("tableName",)
    catalog_name: str | None = None
    schema_name: str | None = None
    table_name: str = Field(description="the table to load into")
    file: str = Field(description="the CSV file (first line: the headers)")
    separator: str | None = Field(None, description="the field separator (default ','; '\\t' for a tab)")
    quotchar: str | None = Field(None, description="the quote character (default '\"'; empty for none)")
    comment_line_starts_with: str | None = Field(None, description="lines starting with this are skipped ('#')")
    use_prepared_statements: bool | None = None
    columns: list[LoadDataColumnItem] | None = None

    def file_name(self) -> str:
        return self.file

    # -- reading ----------------------------------------------------------------------------------------------

    def _dialect_options(self) -> dict[str, Any]:
        separator = self.separator if self.separator is not None else ","
        if separator == "\\t":
            separator = "\t"
        if not separator:
            separator = ","
        options: dict[str, Any] = {"delimiter": separator[0], "doublequote": True, "strict": False}
        quote = '"' if self.quotchar is None else self.quotchar
        if quote.strip():
            options["quotechar"] = quote[0]
        else:  # Liquibase: an empty quotchar means no quoting at all
            options["quoting"] = csv.QUOTE_NONE
        return options

    @property
    def _comment_prefix(self) -> str | None:
        if self.comment_line_starts_with is None:
            return "#"
        return self.comment_line_starts_with or None

    def _lines(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, cells) of each line after the headers (the headers are line 0 of the iterator)."""
        encoding = self.encoding or "utf-8"
        opener: Any = gzip.open if self.source_file.name.lower().endswith(".gz") else open  # as Liquibase
        with opener(self.source_file, "rb") as raw:
            start = raw.read(4)
            raw.seek(0)
            for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le")):
                if start.startswith(bom):
                    raw.seek(len(bom))
                    encoding = codec
                    break
            text = codecs.getreader(encoding)(raw)
            reader = csv.reader(text, **self._dialect_options())
            line = 1
            try:
                for cells in reader:
                    yield line, cells
                    line = reader.line_num + 1
            except (csv.Error, UnicodeDecodeError) as exc:
                raise CellError(f"{self.shown_file()}:{line}: {exc}") from None

    def _targets(self, headers: list[str], ctx: PlanContext) -> list[_Target]:
        configs = [item.column for item in self.columns or []]
        reflected: dict[str, str] = {}
        if any(c.type is None for c in configs) or len(configs) < len(headers):
            reflected = self._reflected_kinds(ctx)
        targets = []
        for i, raw_header in enumerate(headers):
            header = raw_header.strip()
            config = self._config_for(configs, i, header)
            name = header
            if config is not None and config.name is not None:
                name = config.name
            if not name:
                raise CellError(f"{self.shown_file()}:1: column {i} has no header and no column names it")
            kind = _load_kind(config.type) if config is not None else None
            if kind is None:
                kind = reflected.get(name.lower())
            if kind == "SKIP":
                continue
            targets.append(_Target(i, name, kind, config))
        return targets

    @staticmethod
    def _config_for(configs: list[LoadDataColumnConfig], index: int, header: str) -> LoadDataColumnConfig | None:
        """Liquibase's ``getColumnConfig``: the first column whose index, header or name matches."""
        for config in configs:
            if config.index is not None and config.index == index and config.header is None:
                return config
            if config.header is not None and config.header.lower() == header.lower():
                return config
            if config.name is not None and config.name.lower() == header.lower():
                return config
        return None

    def _reflected_kinds(self, ctx: PlanContext) -> dict[str, str]:
        """Load types from the table's columns in the database, when there is one to ask."""
        if ctx.connection is None:
            return {}
        inspector = sa.inspect(ctx.connection)
        try:
            columns = inspector.get_columns(self.table_name, schema=self.schema_name)
        except sa.exc.NoSuchTableError:
            return {}
        return {c["name"].lower(): _reflected_kind(c["type"]) for c in columns}

    def _cell(self, target: _Target, cell: str, line: int) -> Any:
        """The value of one cell, bound (or an SQL expression for COMPUTED)."""
        config = target.config
        if (config.null_placeholder if config is not None else None) is not None:
            if cell == config.null_placeholder:  # type: ignore[union-attr]
                return None
        elif cell.upper() == "NULL":
            return None
        kind = target.kind
        if cell == "":
            default = _default_of(config)
            if default is not None:
                return default
            return "" if kind == "STRING" else None
        try:
            if kind == "NUMERIC":
                return _number(cell)
            if kind == "BOOLEAN":
                return _boolean(cell)
            if kind in ("DATE", "DATETIME", "TIME"):
                return _moment(cell, kind.lower())
            if kind == "UUID":
                return _uuid(cell)
            if kind == "COMPUTED":
                return sa.text(cell.replace(":", "\\:"))
            if kind == "BLOB":
                return self._blob(cell)
            if kind == "CLOB":
                return self._clob(cell)
        except ValueError as exc:
            raise CellError(f"{self.shown_file()}:{line}: column {target.name!r} ({kind}): {exc}") from None
        return cell

    def _sibling(self, name: str) -> Path | None:
        path = self.source_file.parent / name
        try:
            return path if path.is_file() else None
        except (OSError, ValueError):
            return None

    def _blob(self, cell: str) -> bytes:
        """Base64 text, else the name of a file (next to the CSV) holding the bytes."""
        if re.fullmatch(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?", cell):
            try:
                return base64.b64decode(cell, validate=True)
            except binascii.Error:
                pass
        path = self._sibling(cell)
        if path is None:
            raise ValueError(f"{cell!r} is neither base64 nor a file next to {self.shown_file()}")
        return path.read_bytes()

    def _clob(self, cell: str) -> str:
        """The text of the file the cell names (next to the CSV), else the cell itself."""
        path = self._sibling(cell)
        return path.read_text(encoding=self.encoding or "utf-8") if path is not None else cell

    def _records(self, ctx: PlanContext) -> tuple[list[_Target], Iterator[tuple[int, list[Any]]]]:
        """The loaded columns and a stream of (line, values) — the file is read as the stream is consumed."""
        lines = self._lines()
        headers = next(lines, None)
        if headers is None:
            raise CellError(f"{self.shown_file()}: the file is empty (the first line must be the headers)")
        targets = self._targets(headers[1], ctx)
        width = len(headers[1])
        prefix = self._comment_prefix

        def records() -> Iterator[tuple[int, list[Any]]]:
            for line, cells in lines:
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                if prefix is not None and cells[0].startswith(prefix):
                    continue
                if len(cells) != width:
                    raise CellError(
                        f"{self.shown_file()}:{line}: {len(cells)} values where the header has {width} "
                        "(an unquoted value with the separator in it?)"
                    )
                yield line, [self._cell(t, cells[t.index], line) for t in targets]

        return targets, records()

    def _fresh_records(self, ctx: PlanContext) -> tuple[list[_Target], Any]:
        try:
            return self._records(ctx)
        except OSError as exc:
            raise ValueError(f"cannot read {self.shown_file()}: {exc}") from None

    # -- statements -------------------------------------------------------------------------------------------

    def table(self, names: list[str]) -> sa.TableClause:
        return _table(self.table_name, self.schema_name, names)

    def operations(self, ctx: PlanContext) -> list[Step]:
        targets, _ = self._fresh_records(ctx)  # headers checked now; the rows are read when the step runs
        names = [t.name for t in targets]
        table = self.table(names)
        keys = _keys(len(names))

        def insert(values: dict[str, Any]) -> Executable:
            return sa.insert(table).values({n: values[k] for n, k in zip(names, keys, strict=True)})

        return [dataclasses.replace(_rows_step(self, ctx, keys, insert), copy_into=(table, names))]


def _keys(count: int) -> list[str]:
    """Parameter names for a row's values (no column name is likely to be one: SQLAlchemy refuses that)."""
    return [f"_yb_{i}" for i in range(count)]


def _rows_step(change: LoadData, ctx: PlanContext, keys: list[str], statement_for: Any) -> Rows:
    """The Rows step of a loadData-like change: ``statement_for(values by key)`` builds the statement."""

    def row_statement(row: dict[str, Any]) -> Executable:
        return statement_for({k: v if isinstance(v, sa.TextClause) else bound(v) for k, v in row.items()})

    def rows() -> Iterator[dict[str, Any] | Executable]:
        _, records = change._fresh_records(ctx)
        for _line, values in records:
            row = dict(zip(keys, values, strict=True))
            # a COMPUTED cell is SQL: its row cannot share the parameterised statement
            yield row_statement(row) if any(isinstance(v, sa.TextClause) for v in values) else row

    statement = statement_for({k: sa.bindparam(k, type_=VALUE) for k in keys})
    return Rows(statement, rows, row_statement, BATCH_SIZE)


def _default_of(config: LoadDataColumnConfig | None) -> Any:
    """An empty cell's value: the column's ``defaultValue*``, if any."""
    if config is None:
        return None
    if config.default_value_computed is not None:
        return sa.text(config.default_value_computed.replace(":", "\\:"))
    if config.default_value_boolean is not None:
        value = config.default_value_boolean
        return value if isinstance(value, bool) else _boolean(str(value))
    if config.default_value_numeric is not None:
        return _number(str(config.default_value_numeric))
    if config.default_value_date is not None:
        return _moment(str(config.default_value_date), "date")
    return config.default_value


# --- upsert ------------------------------------------------------------------------------------------------------


class Merge(Executable, ClauseElement):
    """``MERGE`` of one row into ``table`` on the ``keys`` columns (SQL Server, Oracle)."""

    __visit_name__ = "yamlbase_merge"
    inherit_cache = False

    def __init__(
        self, table: sa.TableClause, values: dict[str, Any], keys: list[str], updated: list[str], only_update: bool
    ) -> None:
        self.table, self.values, self.keys, self.updated, self.only_update = table, values, keys, updated, only_update


@compiles(Merge)
def _merge(element: Merge, compiler: SQLCompiler, **kw: Any) -> str:
    quote = compiler.preparer.quote
    target = compiler.preparer.format_table(element.table)
    selected = ", ".join(f"{compiler.process(v, **kw)} AS {quote(n)}" for n, v in element.values.items())
    source = f"SELECT {selected}" + (" FROM DUAL" if compiler.dialect.name == "oracle" else "")
    alias = "src" if compiler.dialect.name == "oracle" else "AS src"
    on = " AND ".join(f"{target}.{quote(k)} = src.{quote(k)}" for k in element.keys)
    sql = f"MERGE INTO {target} USING ({source}) {alias} ON ({on})"
    updated = [n for n in element.updated if n not in element.keys]
    if updated:
        sql += " WHEN MATCHED THEN UPDATE SET " + ", ".join(f"{quote(n)} = src.{quote(n)}" for n in updated)
    if not element.only_update:
        names = list(element.values)
        sql += (
            f" WHEN NOT MATCHED THEN INSERT ({', '.join(quote(n) for n in names)})"
            f" VALUES ({', '.join(f'src.{quote(n)}' for n in names)})"
        )
    return sql


@register
class LoadUpdateData(LoadData):
    """Loads a CSV file, updating the rows whose ``primaryKey`` columns match and inserting the others
    (``onlyUpdate``: only updating). Rolled back by deleting the file's rows by primary key, as Liquibase does."""

    name = "loadUpdateData"
    primary_key: str = Field(description="comma-separated columns identifying a row")
    only_update: bool | None = Field(None, description="update matching rows only; insert nothing")

    def keys(self) -> list[str]:
        return [k.strip() for k in self.primary_key.split(",") if k.strip()]

    def _layout(self, ctx: PlanContext) -> tuple[list[str], list[str], list[str]]:
        """(column names, parameter keys, names whose existing values may be updated)."""
        targets, _ = self._fresh_records(ctx)
        names = [t.name for t in targets]
        missing = [k for k in self.keys() if k not in names]
        if missing:
            raise ValueError(f"primaryKey column(s) {', '.join(missing)} not among the columns of {self.shown_file()}")
        updated = [t.name for t in targets if t.config is None or t.config.allow_update is not False]
        return names, _keys(len(names)), updated

    def operations(self, ctx: PlanContext) -> list[Step]:
        names, keys, updated = self._layout(ctx)
        table = self.table(names)
        pk = self.keys()
        key_of = dict(zip(names, keys, strict=True))
        set_names = [n for n in updated if n not in pk]

        def upsert(values: dict[str, Any]) -> Executable:
            """The statement for one row, its values bound parameters or placeholders (``values`` by key)."""
            by_name = {n: values[key_of[n]] for n in names}
            if self.only_update:
                condition = sa.and_(*(table.c[k] == by_name[k] for k in pk))
                return sa.update(table).where(condition).values({n: by_name[n] for n in set_names})
            if ctx.dialect in ("postgresql", "sqlite"):
                module: Any = postgresql if ctx.dialect == "postgresql" else sqlite
                statement = module.insert(table).values(by_name)
                if not set_names:
                    return statement.on_conflict_do_nothing(index_elements=pk)
                excluded = statement.excluded
                return statement.on_conflict_do_update(index_elements=pk, set_={n: excluded[n] for n in set_names})
            if ctx.dialect in ("mysql", "mariadb"):
                statement = mysql.insert(table).values(by_name)
                keep = {
                    pk[0]: table.c[pk[0]]
                }  # an update that changes nothing: MySQL's INSERT IGNORE without its risks
                return statement.on_duplicate_key_update(
                    {n: statement.inserted[n] for n in set_names} if set_names else keep
                )
            if ctx.dialect in ("mssql", "oracle"):
                return Merge(table, by_name, pk, set_names, bool(self.only_update))
            raise ValueError(f"loadUpdateData: no upsert statement known for {ctx.dialect}")

        return [_rows_step(self, ctx, keys, upsert)]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [DeleteLoadedRows(source=self)]


class DeleteLoadedRows(Change):
    """loadUpdateData's rollback: deletes the rows of its file, by primary key (not a changelog change type)."""

    name = "delete"
    source: LoadUpdateData

    def description(self) -> str:
        return f"delete tableName={self.source.table_name}"

    def operations(self, ctx: PlanContext) -> list[Step]:
        source = self.source
        names = source._layout(ctx)[0]
        pk = source.keys()
        positions = [names.index(k) for k in pk]
        table = source.table(pk)

        def delete(values: list[Any]) -> Executable:
            conditions = [
                table.c[k].is_(None) if v is None else table.c[k] == v for k, v in zip(pk, values, strict=True)
            ]
            return sa.delete(table).where(sa.and_(*conditions))

        statement = delete([sa.bindparam(f"k{i}", type_=VALUE) for i in range(len(pk))])

        def row_statement(row: dict[str, Any]) -> Executable:
            return delete([None if row[f"k{i}"] is None else bound(row[f"k{i}"]) for i in range(len(pk))])

        def rows() -> Iterator[dict[str, Any] | Executable]:
            _, records = source._fresh_records(ctx)
            for _line, values in records:
                key = [values[p] for p in positions]
                if any(v is None or isinstance(v, sa.TextClause) for v in key):
                    yield delete([v if isinstance(v, sa.TextClause) or v is None else bound(v) for v in key])
                else:
                    yield {f"k{i}": v for i, v in enumerate(key)}

        return [Rows(statement, rows, row_statement, BATCH_SIZE)]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        raise NoInverse("the rollback of loadUpdateData cannot itself be rolled back")
