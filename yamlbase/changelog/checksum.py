"""Liquibase 4.28's changeSet checksum (``DATABASECHANGELOG.MD5SUM``), versions 8 and 9.

The rules are those of ``/work/shared/liquibase/CHECKSUM.md``, checked against the real Liquibase 4.28:

- a change's checksum is the MD5 of its ``StringChangeLogSerializer`` form (``createTable:[ ... ]``),
  except ``sql``/``sqlFile`` (the SQL text without whitespace), ``createView``/``createProcedure``
  (serialization plus body) and ``loadData``/``loadUpdateData`` (table name plus the CSV file);
- a changeSet's checksum is the MD5 of its changes' checksums, each followed by ``:``.

Inputs are the changes as PyYAML's safe loader returns them from the changelog (after ``${}``
substitution; an unquoted timestamp may also be a ``str`` carrying the parsed ``moment``), so values
are converted here the way Liquibase's own YAML loading converts them: SnakeYAML's scalars are turned
into each Liquibase parameter's Java type and rendered as Java would (``true``/``false``,
``Double.toString``, ISO dates for a column's ``valueDate``/``defaultValueDate``…).
Liquibase renders dates in the JVM's default time zone; this module assumes it is UTC.

Referenced files are passed as bytes or as chunks of bytes (``file_content``), which are hashed as they come, in
constant memory: for ``sqlFile`` the file as written, since Liquibase 4.28 does not expand ``${}`` in it for the
checksum; for ``createView``/``createProcedure`` with ``path`` the file after ``${}`` expansion (what version 9
hashes); for ``loadData`` the CSV.

Not supported: ``modifySql`` visitors (they would add ``visitor checksum + ";"`` per visitor to the
changeSet's checksum), ``customChange`` classes implementing ``CustomChangeChecksum``, and the Liquibase
Pro change types (their parameters are serialized generically).
"""

from __future__ import annotations

import codecs
import datetime as _dt
import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

__all__ = ["change_checksum", "changeset_checksum", "hash_bytes", "hash_text", "serialize_change"]

_INDENT = "    "

# ---------------------------------------------------------------------------------------------------------
# Primitives


def hash_text(text: str, version: int) -> str:
    """``CheckSum.compute(String)``: line endings to ``\\n``, U+FFFD removed, NFC, UTF-8, MD5."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufffd", "")
    text = unicodedata.normalize("NFC", text)
    return f"{version}:{hashlib.md5(text.encode('utf-8', 'replace')).hexdigest()}"


def hash_bytes(data: bytes | Iterable[bytes], version: int) -> str:
    """``CheckSum.compute(InputStream, false)``: the MD5 of the bytes as they are (given whole, or in chunks)."""
    digest = hashlib.md5()
    for chunk in _chunks(data):
        digest.update(chunk)
    return f"{version}:{digest.hexdigest()}"


# A referenced file's bytes: whole, or chunks that are hashed as they come (iterable again for each checksum).
Content = bytes | Iterable[bytes]


class UnreadableContent(Exception):
    """Raised by a :data:`Content`'s chunks when the file cannot be read: the change hashes no bytes."""


def _chunks(content: Content | None) -> Iterator[bytes]:
    if content is None:
        return iter(())
    if isinstance(content, (bytes, bytearray, memoryview)):
        return iter((bytes(content),))
    return iter(content)


# ---------------------------------------------------------------------------------------------------------
# Java renderings of the values SnakeYAML would have produced


def _java_double(value: float) -> str:
    """``Double.toString``: plain between 10^-3 and 10^7, else ``d.dddE±n``; at least one decimal."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    # repr() gives the shortest digits that read back as the same double
    mantissa, _, exponent = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = int_part + frac_part
    point = len(int_part) + (int(exponent) if exponent else 0)  # value = 0.<digits> * 10^point
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    if 1e-3 <= abs(value) < 1e7:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return f"{sign}{digits}{'0' * (point - len(digits))}.0"
        return f"{sign}{digits[:point]}.{digits[point:]}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{point - 1}"


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _java_date_to_string(moment: _dt.datetime) -> str:
    """``java.util.Date.toString()`` in UTC: ``Wed Jan 01 10:00:00 UTC 2020``."""
    return (
        f"{_WEEKDAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} UTC {moment.year}"
    )


def _snakeyaml_timestamp(value: _dt.datetime) -> str:
    """What Liquibase's YAML loader makes of a timestamp scalar.

    Without a zone (and, in Liquibase's pattern, with ``Z``, which it takes for no zone) it is the text
    ``yyyy-MM-dd HH:mm:ss`` (milliseconds rounded into the seconds, then dropped). With a numeric offset
    it is a ``java.util.Date``, whose ``toString()`` is what a String parameter receives.  PyYAML gives
    ``Z`` and ``+00:00`` the same zone; both are taken as ``Z``.
    """
    fraction = float(f"{value.second}.{value.microsecond:06d}")
    millis = math.floor((fraction - math.floor(fraction)) * 1000 + 0.5)
    offset = value.utcoffset()
    moment = value.replace(tzinfo=None, microsecond=0)
    if millis >= 1000:
        moment += _dt.timedelta(seconds=1)
    if offset:
        return _java_date_to_string(moment - offset)
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} {moment:%H:%M:%S}"


def _moment(value: Any) -> Any:
    """An unquoted YAML timestamp kept as text by yamlbase's loader (a ``str`` carrying ``moment``)
    stands for the date or datetime PyYAML parsed, which is what SnakeYAML gives Liquibase too."""
    if type(value) is not str and isinstance(value, str):
        moment = getattr(value, "moment", None)
        if isinstance(moment, _dt.date):
            return moment
    return value


def _jstr(value: Any) -> str:
    """``value.toString()`` of the Java object SnakeYAML builds for a PyYAML value."""
    value = _moment(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, _dt.datetime):
        return _snakeyaml_timestamp(value)
    if isinstance(value, _dt.date):
        return _java_date_to_string(_dt.datetime(value.year, value.month, value.day))
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_jstr(k)}={_jstr(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_jstr(v) for v in value) + "]"
    return str(value)


def _jbool(value: Any) -> str:
    """A Boolean parameter: ``Boolean.valueOf(value.toString())`` unless already a boolean."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "true" if _jstr(value).lower() == "true" else "false"


_BIG_INTEGER = re.compile(r"[+-]?[0-9]+")


def _jbiginteger(value: Any) -> str:
    """A BigInteger parameter: ``new BigInteger(value.toString())`` (Liquibase refuses anything else)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = _jstr(value)
    return str(int(text)) if _BIG_INTEGER.fullmatch(text) else text


def _jinteger(value: Any) -> str:
    """An Integer parameter (``position``, ``index``): rendered like a BigInteger."""
    return _jbiginteger(value)


def java_trim(text: str) -> str:
    """``String.trim()``: drops every character up to U+0020 at both ends."""
    start, end = 0, len(text)
    while start < end and text[start] <= " ":
        start += 1
    while end > start and text[end - 1] <= " ":
        end -= 1
    return text[start:end]


def _java_sort_key(text: str) -> bytes:
    """Java's ``String.compareTo``: UTF-16 code units, compared unsigned (big-endian bytes do the same)."""
    return text.encode("utf-16-be", "surrogatepass")


# ---------------------------------------------------------------------------------------------------------
# ISODateFormat, as ColumnConfig uses it for valueDate / defaultValueDate

_SPACES = " \t"


def _lenient_fields(text: str, pattern: str) -> list[int] | None:
    """``SimpleDateFormat.parse`` of a numeric pattern (``yyyy-MM-dd``…): leading part only, lenient.

    ``pattern`` uses ``9`` for a numeric field and any other character as a literal.
    """
    values: list[int] = []
    pos = 0
    for symbol in pattern:
        if symbol == "9":
            while pos < len(text) and text[pos] in _SPACES:
                pos += 1
            start = pos
            while pos < len(text) and "0" <= text[pos] <= "9":
                pos += 1
            if pos == start:
                return None
            values.append(int(text[start:pos]))
        else:
            if pos >= len(text) or text[pos] != symbol:
                return None
            pos += 1
    return values


def _lenient_datetime(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> _dt.datetime | None:
    """A lenient ``GregorianCalendar``: out-of-range fields roll over into the next ones."""
    try:
        year = y + (mo - 1) // 12
        month = (mo - 1) % 12 + 1
        base = _dt.datetime(year, month, 1)
        return base + _dt.timedelta(days=d - 1, hours=h, minutes=mi, seconds=s)
    except (ValueError, OverflowError):
        return None


def _format_time(h: int, mi: int, s: int) -> str:
    seconds = (h * 3600 + mi * 60 + s) % 86400
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _format_timestamp(moment: _dt.datetime, nanos: int = 0) -> str:
    text = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment:%H:%M:%S}"
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    return text


_OFFSET_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)"
)


def _iso_date_format(text: str) -> str | None:
    """``new ISODateFormat().format(new ISODateFormat().parse(text))``, or None when it does not parse."""
    length = len(text)
    if length == 8:
        fields = _lenient_fields(text, "9:9:9")
        return None if fields is None else _format_time(*fields)
    if length == 10:
        fields = _lenient_fields(text, "9-9-9")
        moment = None if fields is None else _lenient_datetime(*fields)
        return None if moment is None else f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    if length == 19:
        fields = _lenient_fields(text, "9-9-9 9:9:9" if " " in text else "9-9-9T9:9:9")
        moment = None if fields is None else _lenient_datetime(*fields)
        return None if moment is None else _format_timestamp(moment)
    if ":" in text and "-" not in text:
        if "." in text:
            return None
        fields = _lenient_fields(text, "9:9:9")
        return None if fields is None else _format_time(*fields)
    if length < 19 or text[19] != ".":
        return None
    fields = _lenient_fields(text[:19], "9-9-9 9:9:9" if " " in text else "9-9-9T9:9:9")
    moment = None if fields is None else _lenient_datetime(*fields)
    if moment is None:
        return None
    odt = _OFFSET_DATE_TIME.fullmatch(text)
    nanos: int | None = None
    if odt is not None:
        try:
            _dt.datetime(*(int(g) for g in odt.groups()[:6]))
            nanos = int((odt.group(7) or "0").ljust(9, "0"))
        except ValueError:
            nanos = None
    if nanos is None:
        tail = text[20:]
        if not re.fullmatch(r"[+-]?[0-9]+", tail) or not -(2**31) <= int(tail) < 2**31:
            return None
        nanos = int(tail)
        for _ in range(length, 29):
            nanos = (nanos * 10 + 2**31) % 2**32 - 2**31  # Java int arithmetic
        if not 0 <= nanos <= 999_999_999:
            return None
    return _format_timestamp(moment, nanos)


def _column_date(value: Any) -> str | None:
    """A column's ``valueDate``/``defaultValueDate`` as serialized, or None when it becomes ``*Computed``."""
    value = _moment(value)
    if isinstance(value, _dt.datetime):
        if value.utcoffset():
            return None  # a java.util.Date's toString(), which ISODateFormat cannot read back
        return _iso_date_format(_snakeyaml_timestamp(value))
    if isinstance(value, _dt.date):
        return _format_timestamp(_dt.datetime(value.year, value.month, value.day))
    return _iso_date_format(_jstr(value))


# NumberFormat.getInstance(Locale.US).parse(): succeeds when some leading part reads as a number
_NUMBER_START = re.compile(r"NaN|-?(?:\u221e|,*\.?\d)")


# ---------------------------------------------------------------------------------------------------------
# The Java objects, as (field → rendered entry value) maps


class _Obj:
    """A LiquibaseSerializable: its non-null fields, each a str, an _Obj, a list or a dict."""

    __slots__ = ("fields",)

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}


def _serialize_obj(obj: _Obj, indent: int, excluded: frozenset[str]) -> str:
    entries: set[str] = set()
    pad = _INDENT * indent
    for field, value in obj.fields.items():
        if value is None or field in excluded:
            continue
        if isinstance(value, _Obj):
            entries.add(pad + _serialize_obj(value, indent + 1, excluded))
        elif isinstance(value, dict):
            entries.add(pad + field + "=" + _serialize_map(value, indent + 1))
        elif isinstance(value, list):
            entries.add(pad + field + "=" + _serialize_list(value, indent + 1, excluded))
        else:
            entries.add(f'{pad}{field}="{value}"')
    text = "["
    if entries:
        text += "\n" + "\n".join(sorted(entries, key=_java_sort_key)) + "\n"
    text += _INDENT * (indent - 1) + "]"
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _serialize_list(items: list[Any], indent: int, excluded: frozenset[str]) -> str:
    if not items:
        return "[]"
    pad = _INDENT * indent
    rendered = []
    for item in items:
        text = _serialize_obj(item, indent + 1, excluded) if isinstance(item, _Obj) else str(item)
        rendered.append(pad + text)
    return "[\n" + ",\n".join(rendered) + "\n" + _INDENT * (indent - 1) + "]"


def _serialize_map(items: dict[str, str], indent: int) -> str:
    if not items:
        return "[]"
    pad = _INDENT * indent
    rendered = [f'{pad}{key}="{items[key]}"' for key in sorted(items, key=_java_sort_key)]
    return "{\n" + ",\n".join(rendered) + "\n" + _INDENT * (indent - 1) + "}"


# ---------------------------------------------------------------------------------------------------------
# Change types: their Liquibase parameters and each one's Java type
#   s String (also DatabaseFunction), b Boolean, i BigInteger,
#   C list of ColumnConfig, A list of AddColumnConfig, L list of LoadDataColumnConfig

_PARAMETERS = """
addAutoIncrement: catalogName:s columnDataType:s columnName:s defaultOnNull:b generationType:s
    incrementBy:i schemaName:s startWith:i tableName:s
addColumn: catalogName:s columns:A schemaName:s tableName:s
addDefaultValue: catalogName:s columnDataType:s columnName:s defaultValue:s defaultValueBoolean:b
    defaultValueComputed:s defaultValueConstraintName:s defaultValueDate:s defaultValueNumeric:s
    defaultValueSequenceNext:s schemaName:s tableName:s
addForeignKeyConstraint: baseColumnNames:s baseTableCatalogName:s baseTableName:s
    baseTableSchemaName:s constraintName:s deferrable:b deleteCascade:b initiallyDeferred:b
    onDelete:s onUpdate:s referencedColumnNames:s referencedTableCatalogName:s referencedTableName:s
    referencedTableSchemaName:s referencesUniqueColumn:b validate:b
addLookupTable: constraintName:s existingColumnName:s existingTableCatalogName:s existingTableName:s
    existingTableSchemaName:s newColumnDataType:s newColumnName:s newTableCatalogName:s
    newTableName:s newTableSchemaName:s
addNotNullConstraint: catalogName:s columnDataType:s columnName:s constraintName:s
    defaultNullValue:s schemaName:s tableName:s validate:b
addPrimaryKey: catalogName:s clustered:b columnNames:s constraintName:s forIndexCatalogName:s
    forIndexName:s forIndexSchemaName:s schemaName:s tableName:s tablespace:s validate:b
addUniqueConstraint: catalogName:s clustered:b columnNames:s constraintName:s deferrable:b
    disabled:b forIndexCatalogName:s forIndexName:s forIndexSchemaName:s initiallyDeferred:b
    schemaName:s tableName:s tablespace:s validate:b
alterSequence: cacheSize:i catalogName:s cycle:b dataType:s incrementBy:i maxValue:i minValue:i
    ordered:b schemaName:s sequenceName:s
createIndex: associatedWith:s catalogName:s clustered:b columns:A indexName:s schemaName:s
    tableName:s tablespace:s unique:b
createProcedure: catalogName:s comments:s dbms:s encoding:s path:s procedureName:s procedureText:s
    relativeToChangelogFile:b replaceIfExists:b schemaName:s
createSequence: cacheSize:i catalogName:s cycle:b dataType:s incrementBy:i maxValue:i minValue:i
    ordered:b schemaName:s sequenceName:s startValue:i
createTable: catalogName:s columns:C ifNotExists:b remarks:s schemaName:s tableName:s tableType:s
    tablespace:s
createView: catalogName:s encoding:s fullDefinition:b path:s relativeToChangelogFile:b remarks:s
    replaceIfExists:b schemaName:s selectQuery:s viewName:s
delete: catalogName:s schemaName:s tableName:s where:s
dropAllForeignKeyConstraints: baseTableCatalogName:s baseTableName:s baseTableSchemaName:s
dropColumn: catalogName:s columnName:s columns:C schemaName:s tableName:s
dropDefaultValue: catalogName:s columnDataType:s columnName:s schemaName:s tableName:s
dropForeignKeyConstraint: baseTableCatalogName:s baseTableName:s baseTableSchemaName:s
    constraintName:s
dropIndex: catalogName:s indexName:s schemaName:s tableName:s
dropNotNullConstraint: catalogName:s columnDataType:s columnName:s constraintName:s schemaName:s
    tableName:s
dropPrimaryKey: catalogName:s constraintName:s dropIndex:b schemaName:s tableName:s
dropProcedure: catalogName:s procedureName:s schemaName:s
dropSequence: catalogName:s schemaName:s sequenceName:s
dropTable: cascadeConstraints:b catalogName:s schemaName:s tableName:s
dropUniqueConstraint: catalogName:s constraintName:s schemaName:s tableName:s uniqueColumns:s
dropView: catalogName:s ifExists:b schemaName:s viewName:s
empty:
executeCommand: executable:s timeout:s
insert: catalogName:s columns:C dbms:s schemaName:s tableName:s
loadData: catalogName:s columns:L commentLineStartsWith:s encoding:s file:s quotchar:s
    relativeToChangelogFile:b schemaName:s separator:s tableName:s usePreparedStatements:b
loadUpdateData: catalogName:s columns:L commentLineStartsWith:s encoding:s file:s onlyUpdate:b
    primaryKey:s quotchar:s relativeToChangelogFile:b schemaName:s separator:s tableName:s
    usePreparedStatements:b
mergeColumns: catalogName:s column1Name:s column2Name:s finalColumnName:s finalColumnType:s
    joinString:s schemaName:s tableName:s
modifyDataType: catalogName:s columnName:s newDataType:s schemaName:s tableName:s
output: message:s target:s
renameColumn: catalogName:s columnDataType:s newColumnName:s oldColumnName:s remarks:s schemaName:s
    tableName:s
renameSequence: catalogName:s newSequenceName:s oldSequenceName:s schemaName:s
renameTable: catalogName:s newTableName:s oldTableName:s schemaName:s
renameView: catalogName:s newViewName:s oldViewName:s schemaName:s
setColumnRemarks: catalogName:s columnDataType:s columnName:s columnParentType:s remarks:s
    schemaName:s tableName:s
setTableRemarks: catalogName:s remarks:s schemaName:s tableName:s
sql: comment:s dbms:s endDelimiter:s ignoreOriginalSplitStatements:b splitStatements:b sql:s
    stripComments:b
sqlFile: dbms:s encoding:s endDelimiter:s ignoreOriginalSplitStatements:b path:s
    relativeToChangelogFile:b splitStatements:b stripComments:b
stop: message:s
tagDatabase: tag:s
update: catalogName:s columns:C schemaName:s tableName:s where:s
"""


def _parse_parameters(table: str) -> dict[str, dict[str, str]]:
    """``name: param:kind …`` entries, indented lines continuing the entry → {name: {param: kind}}."""
    types: dict[str, dict[str, str]] = {}
    for entry in re.split(r"\n(?=\S)", table.strip()):
        name, _, spec = entry.partition(":")
        types[name] = dict(item.split(":") for item in spec.split())
    return types


_TYPES = _parse_parameters(_PARAMETERS)

# Parameters whose getter is never null (constructor or getter defaults).
_DEFAULTS: dict[str, dict[str, Any]] = {
    "loadData": {"commentLineStartsWith": "#", "quotchar": '"', "separator": ","},
    "loadUpdateData": {
        "commentLineStartsWith": "#",
        "quotchar": '"',
        "separator": ",",
        "onlyUpdate": "false",
    },
    "output": {"target": "STDERR"},
    "sql": {"splitStatements": "true", "stripComments": "false"},
    "sqlFile": {"splitStatements": "true", "stripComments": "false"},
    "stop": {"message": "Stop command in changelog file"},
}

# getExcludedFieldFilters(): fields left out of the serialization hashed for the checksum
_EXCLUDED_ALWAYS: dict[str, frozenset[str]] = {
    "createTable": frozenset({"ifNotExists"}),
    "createIndex": frozenset({"associatedWith"}),
}
_EXCLUDED_V9: dict[str, frozenset[str]] = {
    "createView": frozenset({"path", "relativeToChangelogFile", "selectQuery", "encoding"}),
    "createProcedure": frozenset(
        {
            "path",
            "dbms",
            "relativeToChangelogFile",
            "procedureText",
            "encoding",
            "comments",
            "triggerBody",
            "functionBody",
            "packageText",
            "packageBodyText",
        }
    ),
}
_NO_EXCLUSIONS: frozenset[str] = frozenset()

# DbmsTargetedChange implementations: in v9 their checksum is left out where their dbms excludes the target
_DBMS_TARGETED = frozenset({"sql", "sqlFile", "insert", "createProcedure"})

_INDEX_COLUMN_CLEARED = (
    "type",
    "autoIncrement",
    "constraints",
    "defaultValue",
    "value",
    "startWith",
    "incrementBy",
    "encoding",
    "remarks",
)
_COLUMN_STRINGS = (
    "name",
    "type",
    "encoding",
    "remarks",
    "value",
    "valueBlobFile",
    "valueClobFile",
    "valueSequenceNext",
    "valueSequenceCurrent",
    "defaultValueConstraintName",
    "defaultValue",
    "defaultValueSequenceNext",
    "generationType",
)
_COLUMN_BOOLEANS = (
    "computed",
    "autoIncrement",
    "descending",
    "valueBoolean",
    "defaultValueBoolean",
    "defaultOnNull",
)
_CONSTRAINT_BOOLEANS = (
    "nullable",
    "primaryKey",
    "unique",
    "deleteCascade",
    "initiallyDeferred",
    "deferrable",
    "validateNullable",
    "validateUnique",
    "validatePrimaryKey",
    "validateForeignKey",
)
_CONSTRAINT_STRINGS = (
    "notNullConstraintName",
    "primaryKeyName",
    "primaryKeyTablespace",
    "references",
    "referencedTableCatalogName",
    "referencedTableSchemaName",
    "referencedTableName",
    "referencedColumnNames",
    "uniqueConstraintName",
    "checkConstraint",
    "foreignKeyName",
)


def _constraints(spec: Any) -> _Obj:
    obj = _Obj()
    if isinstance(spec, Mapping):
        for key in _CONSTRAINT_BOOLEANS:
            if spec.get(key) is not None:
                obj.fields[key] = _jbool(spec[key])
        for key in _CONSTRAINT_STRINGS:
            if spec.get(key) is not None:
                obj.fields[key] = _jstr(spec[key])
    return obj


def _numeric(text: str | None) -> tuple[str | None, str | None]:
    """``setValueNumeric(String)``: (the ValueNumeric's text, or the function it falls back to)."""
    if text is None or text.lower() == "null":
        return None, None
    stripped = text
    if stripped.startswith("("):
        stripped = stripped[1:]
        if stripped.endswith(")"):
            stripped = stripped[:-1]
    if _NUMBER_START.match(stripped):
        return stripped, None
    return None, stripped


def _column(spec: Any, kind: str) -> _Obj:
    """``ColumnConfig.load`` (and its AddColumnConfig / LoadDataColumnConfig subclasses)."""
    obj = _Obj()
    if not isinstance(spec, Mapping):
        return obj
    f = obj.fields
    for key in _COLUMN_STRINGS:
        if spec.get(key) is not None:
            f[key] = _jstr(spec[key])
    for key in _COLUMN_BOOLEANS:
        if spec.get(key) is not None:
            f[key] = _jbool(spec[key])
    for key in ("startWith", "incrementBy"):
        if spec.get(key) is not None:
            f[key] = _jbiginteger(spec[key])

    if spec.get("valueNumeric") is not None:
        raw = _jstr(spec["valueNumeric"])
        number, function = _numeric(raw)
        f["valueNumeric"] = number
        if function is not None:
            f["valueComputed"] = raw  # setValueNumeric keeps the text as written, parentheses included
    if spec.get("valueDate") is not None:
        date = _column_date(spec["valueDate"])
        if date is None:
            f["valueComputed"] = _jstr(spec["valueDate"])
        else:
            f["valueDate"] = date
    if spec.get("valueComputed") is not None:
        f["valueComputed"] = _jstr(spec["valueComputed"])

    if spec.get("defaultValueNumeric") is not None:
        raw = _jstr(spec["defaultValueNumeric"])
        if raw == "GENERATED_BY_DEFAULT":
            f["autoIncrement"] = "true"
        else:
            number, function = _numeric(raw)
            f["defaultValueNumeric"] = number
            if function is not None:
                f["defaultValueComputed"] = function
    if spec.get("defaultValueDate") is not None:
        date = _column_date(spec["defaultValueDate"])
        if date is None:
            f["defaultValueComputed"] = _jstr(spec["defaultValueDate"])
        else:
            f["defaultValueDate"] = date
    if spec.get("defaultValueComputed") is not None:
        f["defaultValueComputed"] = _jstr(spec["defaultValueComputed"])

    if "constraints" in spec:
        f["constraints"] = _constraints(spec["constraints"])

    if kind == "A":
        for key in ("beforeColumn", "afterColumn"):
            if spec.get(key) is not None:
                f[key] = _jstr(spec[key])
        if spec.get("position") is not None:
            f["position"] = _jinteger(spec["position"])
    elif kind == "L":
        if spec.get("index") is not None:
            f["index"] = _jinteger(spec["index"])
        if spec.get("header") is not None:
            f["header"] = _jstr(spec["header"])
        if spec.get("allowUpdate") is not None:
            f["allowUpdate"] = _jbool(spec["allowUpdate"])
    return obj


def _columns(items: Any, kind: str) -> list[Any]:
    """The YAML ``columns`` list: ``- column: {...}`` wrappers, each one column."""
    result: list[Any] = []
    if not isinstance(items, list):
        items = [items]
    for item in items:
        if isinstance(item, Mapping) and set(item) == {"column"}:
            item = item["column"]
        result.append(_column(item, kind))
    return result


def _normalize_params(name: str, params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        # ``- sql: select 1``, ``- createView: <query>``: the change's DIRECT_VALUE parameter
        # (and ``- stop: why``: not a DIRECT_VALUE, but StopChange.customLoadLogic reads it as the message)
        direct = {"sql": "sql", "createView": "selectQuery", "createProcedure": "procedureText", "stop": "message"}.get(
            name
        )
        return {direct: params} if direct else {}
    return dict(params)


def _load_change(name: str, params: Any, version: int) -> _Obj:
    """The change object as Liquibase loads it from YAML: its parameters, typed and rendered."""
    values = _normalize_params(name, params)
    obj = _Obj()
    types = _TYPES.get(name)
    if types is None:
        # not a change Liquibase's core defines: every attribute, rendered generically
        for key, value in values.items():
            obj.fields[str(key)] = _generic(value)
        return obj
    fields = obj.fields
    fields.update(_DEFAULTS.get(name, {}))
    if name == "createProcedure" and values.get("procedureText") is None:
        values["procedureText"] = values.get("procedureBody")  # the parameter's alternate name
    for key, kind in types.items():
        value = values.get(key)
        if kind in "CAL":
            fields[key] = _columns(value, kind) if value is not None else []
            continue
        if value is None:
            continue
        if kind == "b":
            fields[key] = _jbool(value)
        elif kind == "i":
            fields[key] = _jbiginteger(value)
        else:
            fields[key] = _jstr(value)
    _setter_logic(name, fields, values)
    if name == "dropColumn" and not fields.get("columns"):
        fields["columns"] = None  # getSerializableFieldValue() hides an empty list
    elif name == "createIndex":
        # getSerializableFieldValue() clears what an index column cannot have
        for column in fields["columns"]:
            for key in _INDEX_COLUMN_CLEARED:
                column.fields.pop(key, None)
    if name == "createProcedure" and version <= 8:
        fields["procedureBody"] = fields.pop("procedureText", None)
    return obj


def _setter_logic(name: str, fields: dict[str, Any], values: Mapping[str, Any]) -> None:
    """Setters that change what they are given."""
    if name == "sql" and "sql" in fields:
        fields["sql"] = java_trim(fields["sql"]) or None
    elif name in ("output", "stop"):
        # setMessage()/setTarget() trim to null; output's getTarget() then answers STDERR
        for key in ("message", "target"):
            if values.get(key) is not None:
                fields[key] = java_trim(fields[key]) or ("STDERR" if key == "target" else None)
    elif name in ("loadData", "loadUpdateData"):
        if fields.get("separator") == "\\t":
            fields["separator"] = "\t"
        if values.get("commentLineStartsWith") == "":
            fields["commentLineStartsWith"] = None
    elif name == "addForeignKeyConstraint" and "deleteCascade" in fields:
        # getDeleteCascade() is always null; setDeleteCascade() runs after setOnDelete() and sets
        # onDelete to CASCADE, or clears it
        if fields.pop("deleteCascade") == "true" and "onDelete" not in fields:
            fields["onDelete"] = "CASCADE"
        else:
            fields.pop("onDelete", None)


def _generic(value: Any) -> Any:
    if isinstance(value, Mapping):
        obj = _Obj()
        for key, item in value.items():
            obj.fields[str(key)] = _generic(item)
        return obj
    if isinstance(value, list):
        return [_generic(item) for item in value]
    if value is None:
        return None
    return _jstr(value)


def _custom_change(params: Any) -> _Obj:
    """``CustomChangeWrapper``: its class and its params map.

    The map holds the ``param`` entries (``{name, value}``, directly or under ``params``) and every other
    scalar attribute, taken to be a property of the custom change class (Liquibase checks the class).
    """
    values = params if isinstance(params, Mapping) else {}
    obj = _Obj()
    if values.get("class") is not None:
        obj.fields["class"] = _jstr(values["class"])
    param_map: dict[str, str] = {}
    entries = values.get("params", values.get("param"))
    for entry in entries if isinstance(entries, list) else [] if entries is None else [entries]:
        if isinstance(entry, Mapping) and set(entry) == {"param"}:
            entry = entry["param"]
        if isinstance(entry, Mapping) and entry.get("name") is not None:
            value = entry.get("value")
            param_map[_jstr(entry["name"])] = "null" if value is None else _jstr(value)
    for key, value in values.items():
        if key in ("class", "params", "param") or value is None or isinstance(value, Mapping):
            continue
        if isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
            continue
        param_map[str(key)] = _jstr(value)
    obj.fields["param"] = param_map
    return obj


def _serialize(name: str, params: Any, version: int, excluded: frozenset[str]) -> str:
    obj = _custom_change(params) if name == "customChange" else _load_change(name, params, version)
    return name + ":" + _serialize_obj(obj, 1, excluded)


def serialize_change(name: str, params: Any) -> str:
    """The ``StringChangeLogSerializer`` form of a change (version-9 parameters, nothing excluded)."""
    return _serialize(name, params, 9, _NO_EXCLUSIONS)


def _excluded(name: str, version: int) -> frozenset[str]:
    excluded = _EXCLUDED_ALWAYS.get(name, _NO_EXCLUSIONS)
    if version >= 9:
        excluded = excluded | _EXCLUDED_V9.get(name, _NO_EXCLUSIONS)
    return excluded


# ---------------------------------------------------------------------------------------------------------
# Change checksums

_WHITESPACE = b" \t\r\n"
_WHITESPACE_RUN = re.compile(rb"[ \t\r\n]+")


def _strip_whitespace(data: bytes) -> bytes:
    """``AbstractSQLChange.NormalizingStream``: every space, tab, CR and LF dropped."""
    return data.translate(None, _WHITESPACE)


def _stripped(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """:func:`_strip_whitespace`, chunk by chunk (it drops single bytes, so chunk ends do not matter)."""
    for chunk in chunks:
        yield chunk.translate(None, _WHITESPACE)


def _collapse_whitespace(data: bytes) -> bytes:
    """``NormalizingStreamV8``: whitespace runs become one space, none at either end."""
    return _WHITESPACE_RUN.sub(b" ", data).strip(_WHITESPACE)


def _collapsed(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """:func:`_collapse_whitespace`, chunk by chunk: a run that spans chunks is still one space, and the space
    before the next text is written only once that text comes (so none at the end)."""
    started = pending = False
    for chunk in chunks:
        if not chunk:
            continue
        pending = pending or chunk[0] in _WHITESPACE
        text = _WHITESPACE_RUN.sub(b" ", chunk).strip(_WHITESPACE)
        if text:
            yield (b" " if pending and started else b"") + text
            started = True
            pending = chunk[-1] in _WHITESPACE
    return


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)


def _decode(data: bytes, encoding: str | None = None) -> str:
    """``StreamUtil.readStreamAsString``: a leading byte-order mark picks (and is not) the text's encoding."""
    return "".join(_decoded([data], encoding))


def _decoded(chunks: Iterable[bytes], encoding: str | None = None) -> Iterator[str]:
    """:func:`_decode`, chunk by chunk: the byte-order mark is looked for in the first four bytes, and a
    character split between chunks is decoded whole (undecodable bytes become U+FFFD, as in one piece)."""
    stream = iter(chunks)
    head = b""
    for chunk in stream:
        head += chunk
        if len(head) >= 4:
            break
    codec = None
    for bom, name in _BOMS:
        if head.startswith(bom):
            codec, head = name, head[len(bom) :]
            break
    if codec is None:
        codec = encoding or "utf-8"
        try:
            codecs.lookup(codec)
        except LookupError:
            codec = "utf-8"
    decoder = codecs.getincrementaldecoder(codec)("replace")
    yield decoder.decode(head)
    for chunk in stream:
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


def _encoded(texts: Iterable[str]) -> Iterator[bytes]:
    """UTF-8, each chunk as ``str.encode(..., "replace")`` does it whole."""
    for text in texts:
        yield text.encode("utf-8", "replace")


def _sql_checksum(values: Mapping[str, Any], version: int) -> str:
    raw = values.get("sql")
    sql = java_trim(_jstr(raw)) if raw is not None else ""
    data = sql.encode("utf-8", "replace")
    if version >= 9:
        return hash_bytes(_strip_whitespace(data), version)
    return hash_bytes(_v8_header(values) + _collapse_whitespace(data), version)


def _v8_header(values: Mapping[str, Any]) -> bytes:
    """``endDelimiter:splitStatements:stripComments:`` as NormalizingStreamV8 writes it first."""
    end = values.get("endDelimiter")
    split = values.get("splitStatements")
    strip = values.get("stripComments")
    header = (
        f"{_jstr(end) if end is not None else 'null'}:"
        f"{_jbool(split) if split is not None else 'true'}:"
        f"{_jbool(strip) if strip is not None else 'false'}:"
    )
    return header.encode("utf-8", "replace")


def _csv_bytes_slow(data: bytes, comment_prefix: str | None) -> bytes:
    """``EmptyLineAndCommentSkippingInputStream``, byte for byte (quirks included): the reference."""
    reader = _CsvSkipper(data, comment_prefix)
    out = bytearray()
    while True:
        byte = reader.read()
        if byte < 0:
            return bytes(out)
        out.append(byte)


_LINE_END = re.compile(rb"[\r\n]")
_COMMENT_END = re.compile(rb"[\r\n\x00]")


def _csv_bytes(data: bytes, comment_prefix: str | None) -> bytes:
    """What :func:`_csv_bytes_slow` gives, copying the bytes between line ends in one piece (large CSV files)."""
    return b"".join(_csv_stream([data], comment_prefix))


def _csv_stream(chunks: Iterable[bytes], comment_prefix: str | None) -> Iterator[bytes]:
    """What :func:`_csv_bytes` gives for the bytes of ``chunks`` joined, in pieces, holding little more than one
    chunk: a comment line is skipped as it goes, and what follows a line end is kept only while the stream's
    look-ahead (is anything left after it?) cannot be answered yet."""
    comment = ord(comment_prefix[0]) if comment_prefix else None
    last = -1
    in_comment = False  # inside a comment line whose end is in a later chunk
    carry = b""
    stream = iter(chunks)
    final = False
    while not final:
        chunk = next(stream, None)
        final = chunk is None
        data = carry + chunk if chunk is not None else carry
        carry = b""
        out = bytearray()
        pos, end = 0, len(data)
        while pos < end:
            if in_comment:
                stop = _COMMENT_END.search(data, pos)
                if stop is None:
                    pos = end
                    break
                in_comment = False
                byte = data[stop.start()]
                pos = stop.start() + 1
            else:
                byte = data[pos]
                pos += 1
                if comment is not None and byte == comment and (last == 10 or last < 0):
                    in_comment = True
                    continue
            if byte == 13 or (byte == 10 and (last == 10 or last < 0)):
                continue
            if byte == 10:
                following = data[pos] if pos < end else -1
                if following < 0 or following in (10, 13) or following == comment:
                    ahead = _CsvSkipper(data, comment_prefix, partial=not final)
                    ahead.pos, ahead.last = pos, last
                    try:
                        found = ahead._read(10, True)
                    except _NeedMore:  # the answer lies in the next chunk: this line end waits for it
                        carry = data[pos - 1 :]
                        break
                    if found < 0:
                        pos = end
                        final = True
                        break
                out.append(10)
                last = 10
                continue
            # an ordinary byte: it and the rest of its line up to the next CR or LF (in this chunk)
            stop = _LINE_END.search(data, pos)
            line_end = stop.start() if stop is not None else end
            out += data[pos - 1 : line_end]
            last = data[line_end - 1]
            pos = line_end
        if out:
            yield bytes(out)


class _NeedMore(Exception):
    """The look-ahead reached the end of a chunk that is not the file's end."""


class _CsvSkipper:
    def __init__(self, data: bytes, comment_prefix: str | None, *, partial: bool = False) -> None:
        self.data = data
        self.pos = 0
        self.mark = 0
        self.last = -1
        self.comment = ord(comment_prefix[0]) if comment_prefix else None
        self.partial = partial  # ``data`` is not the end of the file: reaching its end raises _NeedMore

    def _next(self) -> int:
        if self.pos >= len(self.data):
            if self.partial:
                raise _NeedMore
            return -1
        byte = self.data[self.pos]
        self.pos += 1
        return byte

    def read(self) -> int:
        return self._read(self.last, False)

    def _read(self, last: int, look_ahead: bool) -> int:
        while True:
            byte = self._next()
            if self.comment is not None and byte == self.comment and (last == 10 or last < 0):
                byte = self._next()
                while byte not in (10, 13) and byte > 0:
                    byte = self._next()
            if byte < 0:
                return byte
            if byte == 13 or (byte == 10 and last == 10) or (byte == 10 and last < 0):
                last, look_ahead = self.last, False  # ``return this.read()``
                continue
            if byte == 10:
                self.mark = self.pos
                if self._read(10, True) < 0:
                    return -1
                self.pos = self.mark
            if not look_ahead:
                self.last = byte
            return byte


def _load_data_checksum(values: Mapping[str, Any], version: int, file_content: Content | None) -> str:
    prefix_raw = values.get("commentLineStartsWith")
    prefix = "#" if prefix_raw is None else (_jstr(prefix_raw) or None)
    csv = _csv_stream(_chunks(file_content), prefix)
    table = values.get("tableName")
    return hash_text(f"{_jstr(table)}:{hash_bytes(csv, version)}", version)


def _body_checksum(name: str, params: Any, version: int, file_content: Content | None) -> str:
    """createView / createProcedure: serialization, then the query or body (inline or from ``path``)."""
    values = _normalize_params(name, params)
    body_key = "selectQuery" if name == "createView" else "procedureText"
    body = values.get(body_key)
    if body is None and name == "createProcedure":
        body = values.get("procedureBody")
    has_path = values.get("path") is not None
    serialized = hash_text(_serialize(name, params, version, _excluded(name, version)), version)
    if version >= 9:
        if has_path:
            data: Iterable[bytes] = _encoded(_decoded(_chunks(file_content)))
        else:
            data = [_jstr(body).encode("utf-8", "replace") if body is not None else b""]
        return hash_text(f"{serialized}:{hash_bytes(_stripped(data), version)}", version)
    if not has_path:
        return serialized
    data = [_jstr(body).encode("utf-8", "replace")] if body is not None else _chunks(file_content)
    body_checksum = hash_bytes(_prefixed(b";:false:false:", _collapsed(data)), version)
    return hash_text(f"{serialized}:{body_checksum}", version)


def _prefixed(first: bytes, rest: Iterable[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def change_checksum(name: str, params: Any, version: int = 9, *, file_content: Content | None = None) -> str:
    """One change's checksum, ``"<version>:<md5>"``.

    ``file_content`` is the referenced file of ``sqlFile``, ``loadData``/``loadUpdateData`` and
    ``createView``/``createProcedure`` with ``path``: its bytes, or an iterable of chunks of them (hashed as
    they come, in constant memory). For ``sqlFile`` Liquibase 4.28 hashes the file as written (``${}`` is
    *not* expanded for the checksum); for ``createView`` and ``createProcedure`` (version 9) it hashes the file
    after ``${}`` expansion. Chunks that raise :class:`UnreadableContent` make it the checksum of no bytes.
    """
    try:
        return _change_checksum(name, params, version, file_content)
    except UnreadableContent:
        return _change_checksum(name, params, version, b"")


def _change_checksum(name: str, params: Any, version: int, file_content: Content | None) -> str:
    if name == "sql":
        return _sql_checksum(_normalize_params(name, params), version)
    if name == "sqlFile":
        values = _normalize_params(name, params)
        if version >= 9:
            encoding = values.get("encoding")
            text = _decoded(_chunks(file_content), _jstr(encoding) if encoding is not None else None)
            return hash_bytes(_stripped(_encoded(text)), version)
        return hash_bytes(_prefixed(_v8_header(values), _collapsed(_chunks(file_content))), version)
    if name in ("loadData", "loadUpdateData"):
        return _load_data_checksum(_normalize_params(name, params), version, file_content)
    if name in ("createView", "createProcedure"):
        return _body_checksum(name, params, version, file_content)
    return hash_text(_serialize(name, params, version, _excluded(name, version)), version)


def _dbms_matches(definition: Any, dbms: str) -> bool:
    """``DatabaseList.definitionMatches(definition, database, true)``."""
    text = java_trim(_jstr(definition)) if definition is not None else ""
    if not text:
        return True
    pieces = text.split(",")
    while pieces and pieces[-1] == "":
        pieces.pop()  # String.split drops trailing empty strings
    parts = [java_trim(piece) for piece in pieces]
    if not parts:
        return True
    if "all" in parts:
        return True
    if "none" in parts:
        return False
    if "!" + dbms in parts:
        return False
    wanted = {part for part in parts if not part.startswith("!")}
    return not wanted or dbms in wanted


def changeset_checksum(
    changes: Sequence[tuple[str, Any]],
    version: int = 9,
    *,
    dbms: str | None = None,
    file_contents: Sequence[Content | None] | None = None,
) -> str:
    """A changeSet's MD5SUM from its changes ``(name, params)`` in order.

    In version 9 the ``sql``, ``sqlFile``, ``insert`` and ``createProcedure`` changes whose ``dbms``
    excludes ``dbms`` (the target database's short name) are left out; with ``dbms=None`` none is.
    ``file_contents`` gives each change's ``file_content`` (see :func:`change_checksum`), by position.
    ``modifySql`` is not supported: a changeSet with ``modifySql`` has a different checksum in Liquibase.
    """
    parts: list[str] = []
    for index, (name, params) in enumerate(changes):
        if version >= 9 and dbms is not None and name in _DBMS_TARGETED:
            values = _normalize_params(name, params)
            if not _dbms_matches(values.get("dbms"), dbms):
                continue
        content = file_contents[index] if file_contents is not None and index < len(file_contents) else None
        parts.append(change_checksum(name, params, version, file_content=content) + ":")
    return hash_text("".join(parts), version)
