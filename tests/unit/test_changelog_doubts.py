"""What the changelog reader notices beyond errors: type names that look like typos (warnings, located), and
rollback entries that are a change type's bare name (that change, or a located error; never SQL text)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from yamlbase.changelog import parse_changelog
from yamlbase.changes import REGISTRY
from yamlbase.changes.base import Model
from yamlbase.changes.meta import Empty, Stop
from yamlbase.changes.sql import Sql
from yamlbase.dialects.types import TYPE_MAP, likely_meant
from yamlbase.errors import ChangeLogError


def parse(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "main.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return parse_changelog(path)


# --- did you mean ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "meant"),
    [
        ("strnig", "string"),
        ("Strnig", "string"),
        ("varchr(50)", "varchar"),
        ("interger", "integer"),
        ("boolen", "boolean"),
        ("timestmp(3) with time zone", "timestamp"),
        ("java.sql.Types.VARCHR(20)", "varchar"),
        ("jsn", "json"),
    ],
)
def test_a_name_close_to_a_known_type_is_taken_for_a_typo(spec: str, meant: str) -> None:
    assert likely_meant(spec) == meant
    assert meant in TYPE_MAP


@pytest.mark.parametrize(
    "spec",
    [
        # yamlbase's own names, with their arguments and words
        "string",
        "varchar(50)",
        "timestamp(3) with time zone",
        "character varying(20)",
        "double precision",
        "java.sql.Types.INTEGER",
        "integer[]",
        "int unsigned",
        # types the databases have that the map does not translate, though some are close to names it has
        "citext",
        "jsonb",
        "inet",
        "ntext",
        "datetime2",
        "uuid",
        "serial",
        "bigserial",
        "float8",
        "point",
        "year",
        "geometry",
        "geometry(Point, 4326)",
        # the user's own types: close to nothing, qualified, or quoted
        "mood",
        "state",
        "public.strnig",
        '"Strnig"',
        "itn",
    ],
)
def test_a_known_or_unrelated_type_is_no_typo(spec: str) -> None:
    assert likely_meant(spec) is None


def test_typos_are_located_warnings_and_the_type_is_kept(tmp_path: Path) -> None:
    model = parse(
        tmp_path,
        """
        databaseChangeLog:
          - changeSet:
              id: 1
              author: a
              changes:
                - createTable:
                    tableName: t
                    columns:
                      - column: {name: a, type: strnig}
                      - column: {name: b, type: citext}
                      - column:
                          name: c
                          type: varchr(10)
                - modifyDataType: {tableName: t, columnName: b, newDataType: interger}
              rollback:
                - addColumn: {tableName: t, columns: [{column: {name: d, type: boolen}}]}
          - changeSet:
              id: 2
              author: a
              changes:
                - loadData: {tableName: t, file: data.csv, columns: [{column: {name: a, type: STRNG}}]}
        """.replace("data.csv", str(_csv(tmp_path))),
    )
    assert [(w.location.line, w.location.column, w.message) for w in model.warnings] == [
        (9, 41, 'createTable: unknown type "strnig" (did you mean "string"?); it goes to the database as written'),
        (
            13,
            25,
            'createTable: unknown type "varchr(10)" (did you mean "varchar"?); it goes to the database as written',
        ),
        (
            14,
            70,
            'modifyDataType: unknown type "interger" (did you mean "integer"?); it goes to the database as written',
        ),
        (16, 72, 'addColumn: unknown type "boolen" (did you mean "boolean"?); it goes to the database as written'),
    ]
    assert all(w.location.path.endswith("main.yaml") for w in model.warnings)
    column = model.changesets[0].changes[0].columns[0].column
    assert column.type == "strnig"  # the type itself is not changed: unknown names go to the database verbatim


def _csv(folder: Path) -> Path:
    path = folder / "data.csv"
    path.write_text("a\nx\n", encoding="utf-8")
    return path


def _model_classes() -> list[type[Model]]:
    """Every model a change is built of: the change types and the models in their fields."""
    seen: list[type[Model]] = []
    todo: list[Any] = list(REGISTRY.values())
    while todo:
        cls = todo.pop()
        if not (isinstance(cls, type) and issubclass(cls, Model)) or cls in seen:
            continue
        seen.append(cls)
        for info in cls.model_fields.values():
            annotation = info.annotation
            todo.extend(getattr(annotation, "__args__", ()))
            todo.append(annotation)
            for arg in getattr(annotation, "__args__", ()):
                todo.extend(getattr(arg, "__args__", ()))
    return seen


def test_every_attribute_naming_a_database_type_is_checked() -> None:
    """A new change type whose attribute names a type gets the typo check by declaring it in ``data_types``."""
    unmarked = [
        f"{cls.__name__}.{name}"
        for cls in _model_classes()
        for name in cls.model_fields
        if (name.endswith(("data_type", "column_type")) or (name == "type" and cls.__name__.endswith("ColumnConfig")))
        and name not in cls.data_types
    ]
    assert unmarked == ["LoadDataColumnConfig.type"]  # how a CSV cell is read (NUMERIC, DATE, …), not a type


# --- a bare change-type name as a rollback ----------------------------------------------------------------------


def rollback_of(tmp_path: Path, rollback: str) -> Any:
    return parse(
        tmp_path,
        f"""
        databaseChangeLog:
          - changeSet:
              id: 1
              author: a
              changes:
                - sql: create table t (id int)
              rollback: {rollback}
        """,
    ).changesets[0]


@pytest.mark.parametrize("rollback", ["empty", "[empty]", "EMPTY", "' empty '", "[empty, empty]"])
def test_empty_as_text_is_the_empty_change(tmp_path: Path, rollback: str) -> None:
    cs = rollback_of(tmp_path, rollback)
    assert cs.rollback and all(isinstance(change, Empty) for change in cs.rollback)


def test_a_change_name_without_required_parameters_is_that_change(tmp_path: Path) -> None:
    (change,) = rollback_of(tmp_path, "[stop]").rollback
    assert isinstance(change, Stop)


def test_other_text_is_still_sql(tmp_path: Path) -> None:
    (change,) = rollback_of(tmp_path, "drop table empty").rollback
    assert isinstance(change, Sql)
    assert change.sql == "drop table empty"
    sql, empty = rollback_of(tmp_path, "['drop table t', empty]").rollback
    assert (isinstance(sql, Sql), sql.sql, isinstance(empty, Empty)) == (True, "drop table t", True)


@pytest.mark.parametrize(("rollback", "column"), [("dropTable", 17), ("[output]", 18)])
def test_a_change_name_that_needs_parameters_is_a_located_error(tmp_path: Path, rollback: str, column: int) -> None:
    with pytest.raises(ChangeLogError) as info:
        rollback_of(tmp_path, rollback)
    (problem,) = info.value.problems
    name = rollback.strip("[]")
    assert (problem.location.line, problem.location.column) == (7, column)
    needed = "tableName" if name == "dropTable" else "message"
    assert problem.message.startswith(f'rollback: "{name}" is the {name} change, which needs {needed}')


def test_the_rollback_is_not_part_of_the_checksum(tmp_path: Path) -> None:
    as_change = rollback_of(tmp_path, "[empty]").checksum
    assert rollback_of(tmp_path, "'delete from t'").checksum == as_change
