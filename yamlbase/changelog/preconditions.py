"""Liquibase preconditions as typed data: the checks, ``and`` / ``or`` / ``not``, and a ``preConditions`` block.

In YAML a ``preConditions`` block is a list of one-key mappings, its attributes (``onFail``, ``onError``, …)
written as items beside the checks; the checks form an implicit AND. Liquibase also reads a block written as one
mapping, and a check's attributes written as a list of one-key mappings; both are accepted here too. The JSON
Schema parts come from the same pydantic models (:func:`schema_defs`), so validation and model cannot drift.
Evaluation against a database is :mod:`yamlbase.runtime.preconditions`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from yamlbase.changelog.loader import Document, JsonPath
from yamlbase.changes.base import Model
from yamlbase.errors import Location, Problem

# Liquibase compares these case-insensitively; the schema lists both spellings, the model keeps upper case.
FailOption = Literal["HALT", "CONTINUE", "MARK_RAN", "WARN", "halt", "continue", "mark_ran", "warn"]
SqlOutputOption = Literal["IGNORE", "TEST", "FAIL", "ignore", "test", "fail"]


class Check(Model):
    """One precondition check. Subclasses set ``name`` (the YAML key)."""

    name: ClassVar[str]

    def describe(self) -> str:
        """``tableExists tableName=person``: the check and its attributes, for messages and SQL comments."""
        values = self.model_dump(by_alias=True, exclude_none=True)
        shown = ", ".join(f"{key}={value}" for key, value in values.items())
        return f"{self.name} {shown}" if shown else self.name


CHECKS: dict[str, type[Check]] = {}


def _check(cls: type[Check]) -> type[Check]:
    CHECKS[cls.name] = cls
    return cls


_SCHEMA = Field(None, description="schema of the object (default: the connection's)")
_CATALOG = Field(None, description="catalog of the object (read as the schema where the database has no catalogs)")


@_check
class TableExistsPrecondition(Check):
    """Passes if the table exists."""

    name = "tableExists"
    catalog_name: str | None = _CATALOG
    schema_name: str | None = _SCHEMA
    table_name: str = Field(description="the table")


@_check
class ColumnExistsPrecondition(Check):
    """Passes if the table has the column."""

    name = "columnExists"
    catalog_name: str | None = _CATALOG
    schema_name: str | None = _SCHEMA
    table_name: str = Field(description="the column's table")
    column_name: str = Field(description="the column")


@_check
class ViewExistsPrecondition(Check):
    """Passes if the view exists."""

    name = "viewExists"
    catalog_name: str | None = _CATALOG
    schema_name: str | None = _SCHEMA
    view_name: str = Field(description="the view")


@_check
class IndexExistsPrecondition(Check):
    """Passes if the index exists: by name, or on tableName over exactly columnNames."""

    name = "indexExists"
    catalog_name: str | None = _CATALOG
    schema_name: str | None = _SCHEMA
    index_name: str | None = Field(None, description="the index (or give tableName and columnNames)")
    table_name: str | None = Field(None, description="the indexed table")
    column_names: str | None = Field(None, description="the indexed columns, comma-separated")

    @model_validator(mode="after")
    def _named_or_located(self) -> IndexExistsPrecondition:
        if self.index_name is None and (self.table_name is None or self.column_names is None):
            raise ValueError("indexName or (tableName and columnNames) is required")
        return self


@_check
class SequenceExistsPrecondition(Check):
    """Passes if the sequence exists."""

    name = "sequenceExists"
    catalog_name: str | None = _CATALOG
    schema_name: str | None = _SCHEMA
    sequence_name: str = Field(description="the sequence")


@_check
class PrimaryKeyExistsPrecondition(Check):
    """Passes if the primary key exists: by name, on a table, or both."""

    name = "primaryKeyExists"
    catalog_name: str | None = _CATALOG
    schema_name: str | None = _SCHEMA
    primary_key_name: str | None = Field(None, description="the primary key's constraint name")
    table_name: str | None = Field(None, description="the table that has the primary key")

    @model_validator(mode="after")
    def _named_or_located(self) -> PrimaryKeyExistsPrecondition:
        if self.primary_key_name is None and self.table_name is None:
            raise ValueError("primaryKeyName or tableName is required")
        return self


@_check
class ForeignKeyConstraintExistsPrecondition(Check):
    """Passes if the foreign key exists (on foreignKeyTableName, when given)."""

    name = "foreignKeyConstraintExists"
    catalog_name: str | None = _CATALOG
    schema_name: str | None = _SCHEMA
    foreign_key_name: str = Field(description="the foreign key's constraint name")
    foreign_key_table_name: str | None = Field(None, description="the table that has the foreign key")


@_check
class UniqueConstraintExistsPrecondition(Check):
    """Passes if the table has the unique constraint: by name, or over exactly columnNames."""

    name = "uniqueConstraintExists"
    catalog_name: str | None = _CATALOG
    schema_name: str | None = _SCHEMA
    table_name: str = Field(description="the constrained table")
    constraint_name: str | None = Field(None, description="the constraint's name (or give columnNames)")
    column_names: str | None = Field(None, description="the constrained columns, comma-separated")

    @model_validator(mode="after")
    def _named_or_located(self) -> UniqueConstraintExistsPrecondition:
        if not (self.constraint_name or "").strip() and not (self.column_names or "").strip():
            raise ValueError("constraintName or columnNames is required")
        return self


@_check
class SqlCheckPrecondition(Check):
    """Runs a query returning one value and passes if it equals expectedResult (compared as text)."""

    name = "sqlCheck"
    expected_result: str = Field(description="the value the query must return, compared as text")
    sql: str = Field(description="a query returning a single row with a single column")


@_check
class DbmsPrecondition(Check):
    """Passes if the database is of one of the types named."""

    name = "dbms"
    type: str = Field(description="database types, comma-separated (postgresql, sqlite, mariadb, …); !x excludes")


@_check
class RunningAsPrecondition(Check):
    """Passes if the connection's user is username (compared case-insensitively)."""

    name = "runningAs"
    username: str = Field(description="the database user the changelog must run as")


@_check
class ChangeSetExecutedPrecondition(Check):
    """Passes if the changeSet has been run (is in DATABASECHANGELOG)."""

    name = "changeSetExecuted"
    id: str = Field(description="the changeSet's id")
    author: str = Field(description="the changeSet's author")
    change_log_file: str = Field(description="the changeSet's path, as in DATABASECHANGELOG.FILENAME")


@_check
class ChangeLogPropertyDefinedPrecondition(Check):
    """Passes if the changelog property is defined (and, when value is given, has that value)."""

    name = "changeLogPropertyDefined"
    property: str = Field(description="the property's name")
    value: str | None = Field(None, description="the value the property must have")


@_check
class RowCountPrecondition(Check):
    """Passes if the table has exactly expectedRows rows."""

    name = "rowCount"
    catalog_name: str | None = _CATALOG
    schema_name: str | None = _SCHEMA
    table_name: str = Field(description="the table to count")
    expected_rows: int = Field(description="the number of rows the table must have")


@_check
class TableIsEmptyPrecondition(Check):
    """Passes if the table has no rows."""

    name = "tableIsEmpty"
    catalog_name: str | None = _CATALOG
    schema_name: str | None = _SCHEMA
    table_name: str = Field(description="the table")


class PreconditionsOptions(Model):
    """The attributes of a ``preConditions`` block."""

    on_fail: FailOption = Field(
        "HALT",
        description="when a check fails: HALT the update, CONTINUE past the changeSet (it stays pending), "
        "MARK_RAN (record it as run without running it), or WARN and run it",
    )
    on_error: FailOption = Field("HALT", description="when a check cannot be evaluated (e.g. its SQL fails): as onFail")
    on_fail_message: str | None = Field(None, description="the message to give when a check fails")
    on_error_message: str | None = Field(None, description="the message to give when a check errors")
    on_sql_output: SqlOutputOption = Field(
        "IGNORE",
        description="in update-sql: IGNORE the checks (shown as comments), TEST them against the database, "
        "or FAIL them",
    )

    @field_validator("on_fail", "on_error", "on_sql_output", mode="after")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


OPTION_NAMES = tuple(info.alias or name for name, info in PreconditionsOptions.model_fields.items())
GROUPS = ("and", "or", "not")


# --- the parsed tree ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """A check, with where it was written."""

    check: Check
    location: Location

    def describe(self) -> str:
        return self.check.describe()


@dataclass(frozen=True)
class Group:
    """``and`` (all must pass), ``or`` (one must pass) or ``not`` (none may pass) over nested preconditions."""

    kind: Literal["and", "or", "not"]
    items: tuple[Node, ...]
    location: Location

    def describe(self) -> str:
        return f"{self.kind}({'; '.join(item.describe() for item in self.items)})"


Node = Leaf | Group


@dataclass(frozen=True)
class Preconditions:
    """A ``preConditions`` block: its checks (all must pass) and what to do when they fail or error."""

    items: tuple[Node, ...]
    location: Location
    options: PreconditionsOptions = field(default_factory=PreconditionsOptions)
    # The changelog file's logical path: properties are looked up as for the file's ${...}.
    file: str = ""

    @property
    def on_fail(self) -> str:
        return self.options.on_fail

    @property
    def on_error(self) -> str:
        return self.options.on_error

    @property
    def on_sql_output(self) -> str:
        return self.options.on_sql_output


def _pairs(value: Any, path: JsonPath) -> list[tuple[str, Any, JsonPath]]:
    """(key, value, path of the value) for a mapping or a list of one-key mappings (Liquibase reads both)."""
    if isinstance(value, dict):
        return [(str(k), v, (*path, k)) for k, v in value.items()]
    pairs: list[tuple[str, Any, JsonPath]] = []
    for i, item in enumerate(value if isinstance(value, list) else []):
        if isinstance(item, dict):
            pairs.extend((str(k), v, (*path, i, k)) for k, v in item.items())
    return pairs


def _params(value: Any) -> dict[str, Any]:
    if isinstance(value, list):  # tableExists: [{tableName: x}, {schemaName: y}]
        merged: dict[str, Any] = {}
        for item in value:
            if isinstance(item, dict):
                merged.update(item)
        return merged
    return value if isinstance(value, dict) else {}


def _node(doc: Document, key: str, value: Any, path: JsonPath, problems: list[Problem]) -> Node | None:
    if key in GROUPS:
        items = [_node(doc, k, v, p, problems) for k, v, p in _pairs(value, path)]
        if any(item is None for item in items):
            return None
        return Group(key, tuple(i for i in items if i is not None), doc.location(path, key=True))  # type: ignore[arg-type]
    cls = CHECKS.get(key)
    if cls is None:  # the schema reports it, with a suggestion
        return None
    try:
        return Leaf(cls.model_validate(_params(value)), doc.location(path, key=True))
    except ValidationError as exc:
        for err in exc.errors():
            where = doc.location((*path, *err["loc"])) if err["loc"] else doc.location(path, key=True)
            problems.append(Problem(where, f"{key}: {err['msg'].removeprefix('Value error, ')}"))
        return None


def build_preconditions(doc: Document, path: JsonPath, value: Any, problems: list[Problem]) -> Preconditions | None:
    """The ``preConditions`` block at ``path`` of ``doc`` (already schema-valid), or None with problems noted."""
    before = len(problems)
    options: dict[str, Any] = {}
    option_paths: dict[str, JsonPath] = {}
    items: list[Node] = []
    for key, item, item_path in _pairs(value, path):
        if key in OPTION_NAMES:
            options[key], option_paths[key] = item, item_path
            continue
        node = _node(doc, key, item, item_path, problems)
        if node is not None:
            items.append(node)
    try:
        parsed = PreconditionsOptions.model_validate(options)
    except ValidationError as exc:
        for err in exc.errors():
            where = option_paths.get(str(err["loc"][0]), path) if err["loc"] else path
            problems.append(Problem(doc.location(where), f"preConditions: {err['msg']}"))
        return None
    if len(problems) > before:
        return None
    return Preconditions(tuple(items), doc.location(path, key=True), parsed, doc.logical_path)


# --- the JSON Schema parts ---------------------------------------------------------------------------------


def schema_defs(simplify: Callable[[Any], Any]) -> dict[str, Any]:
    """``$defs`` for ``preConditions`` (a changeSet attribute and a databaseChangeLog entry), from the models."""
    from pydantic.json_schema import models_json_schema

    models: list[type[Model]] = [*CHECKS.values(), PreconditionsOptions]
    _, generated = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/$defs/{model}", by_alias=True
    )
    found: dict[str, Any] = simplify(generated["$defs"])
    defs: dict[str, Any] = {}
    check_props: dict[str, Any] = {}
    for name, cls in CHECKS.items():
        mapping = found[cls.__name__]
        mapping["title"] = name
        # pydantic's after-validators are not in the schema: state the alternatives in words.
        listed = {
            "title": name,
            "type": "array",
            "description": "the attributes written as a list of one-key mappings",
            "items": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": False,
                "properties": mapping["properties"],
            },
        }
        defs[cls.__name__] = mapping
        defs[f"{cls.__name__}List"] = listed
        check_props[name] = {"anyOf": [{"$ref": f"#/$defs/{cls.__name__}"}, {"$ref": f"#/$defs/{cls.__name__}List"}]}
    group = {"$ref": "#/$defs/preconditionGroup"}
    check_props["and"] = {**group, "description": "passes if every nested precondition passes"}
    check_props["or"] = {**group, "description": "passes if any nested precondition passes"}
    check_props["not"] = {**group, "description": "passes if no nested precondition passes"}
    defs["precondition"] = {
        "title": "precondition",
        "description": "One precondition, written as a mapping with a single key: its type.",
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
        "properties": check_props,
    }
    defs["preconditionGroup"] = {
        "description": "nested preconditions: a list of one-key mappings, or one mapping",
        "anyOf": [
            {"type": "array", "items": {"$ref": "#/$defs/precondition"}},
            {"type": "object", "additionalProperties": False, "properties": check_props},
        ],
    }
    options = found[PreconditionsOptions.__name__]["properties"]
    for option in options.values():
        option.pop("default", None)
    block_props = {**options, **check_props}
    defs["preConditions"] = {
        "title": "preConditions",
        "description": "Checks of the database that must pass (all of them) before the changeSet or changelog runs; "
        "onFail/onError say what happens otherwise.",
        "anyOf": [
            {
                "type": "array",
                "items": {
                    "title": "precondition",
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "additionalProperties": False,
                    "properties": block_props,
                },
            },
            {"type": "object", "additionalProperties": False, "properties": block_props},
        ],
    }
    return defs
