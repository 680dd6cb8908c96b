"""Views, sequences, procedures, remarks, addLookupTable, mergeColumns, empty and output on real backends.

Each case: apply → reflect (tables, and views, sequences, routines and comments) and compare → roll back → reflect
and compare with the schema before. Where a backend cannot express a change (SQLite: sequences, procedures; MySQL:
sequences), the update must fail naming the reason, with nothing recorded.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.backends.test_changes import SETUP, changed, rows_of
from tests.conftest import reflected
from yamlbase import commands
from yamlbase.errors import ChangeLogError
from yamlbase.structure.compare import compare
from yamlbase.structure.model import Schema, Sequence

Picture = Schema
BACKENDS = ("sqlite", "postgresql", "mariadb")

# SETUP's tables and rows, plus a view and (where there are sequences) a sequence, then the tag "before".
_BEFORE_TAG = "- changeSet:\n    id: before"
SETUP_VIEW = """- changeSet:
    id: setup-view
    author: test
    changes:
      - createView: {viewName: v_owner, selectQuery: "SELECT id, name FROM owner WHERE name LIKE '%n%'"}
"""
SETUP_SEQUENCE = """- changeSet:
    id: setup-sequence
    author: test
    changes:
      - createSequence: {sequenceName: seq_owner, startValue: 7, incrementBy: 2, minValue: 1, maxValue: 9000, cacheSize: 3}
"""


def setup_for(backend: str) -> str:
    extra = SETUP_VIEW + (SETUP_SEQUENCE if backend in ("postgresql", "mariadb") else "")
    assert _BEFORE_TAG in SETUP
    return SETUP.replace(_BEFORE_TAG, extra + _BEFORE_TAG)


@dataclass
class Case:
    id: str
    changeset: str
    expect: Callable[[Picture, Picture], None]
    backends: tuple[str, ...] = BACKENDS
    # Checks on the data after the change, given the database URL.
    check: Callable[[str], None] | None = None


def picture(url: str) -> Picture:
    return reflected(url)


def write_changelog(folder: Path, changeset: str, backend: str) -> Path:
    body = textwrap.indent(textwrap.dedent(changeset).strip(), "    ")
    text = "databaseChangeLog:\n" + textwrap.indent(textwrap.dedent(setup_for(backend)).strip(), "  ")
    text += f"\n  - changeSet:\n      id: under-test\n      author: test\n{textwrap.indent(body, '  ')}\n"
    path = folder / "changelog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def only_changed(before: Picture, after: Picture, *kinds: str) -> None:
    """Every difference is of one of ``kinds`` (``view``, ``sequence``, ``routine``, ``comment``, …)."""
    others = [d.describe() for d in compare(before, after) if not any(k in d.kind for k in kinds)]
    assert others == []


def settings(sequence: Sequence) -> tuple[int | None, ...]:
    """start, increment, min, max, cache, cycle."""
    s = sequence
    return (s.start, s.increment, s.min_value, s.max_value, s.cache, int(s.cycle))


# --- expectations ---------------------------------------------------------------------------------------------


def expect_view_created(before: Picture, after: Picture) -> None:
    assert set(after.views) - set(before.views) == {"v_item"}
    assert "'%x%'" in after.views["v_item"].definition  # the query as written, '%' and all
    only_changed(before, after, "view")


def expect_view_replaced(before: Picture, after: Picture) -> None:
    assert set(after.views) - set(before.views) == {"v_item"}
    assert "qty" in after.views["v_item"].definition  # the second definition won
    only_changed(before, after, "view")


def expect_view_dropped(before: Picture, after: Picture) -> None:
    assert set(before.views) - set(after.views) == {"v_owner"}
    only_changed(before, after, "view")


def expect_view_renamed(before: Picture, after: Picture) -> None:
    assert set(after.views) == {"v_people"}
    only_changed(before, after, "view")


def expect_sequence_created(before: Picture, after: Picture) -> None:
    assert set(after.sequences) - set(before.sequences) == {"seq_item"}
    assert settings(after.sequences["seq_item"]) == (10, 5, 1, 1000, 2, 1)
    only_changed(before, after, "sequence")


def expect_sequence_altered(before: Picture, after: Picture) -> None:
    assert settings(before.sequences["seq_owner"]) == (7, 2, 1, 9000, 3, 0)
    assert settings(after.sequences["seq_owner"]) == (7, 3, 1, 5000, 3, 0)
    only_changed(before, after, "sequence")


def expect_sequence_renamed(before: Picture, after: Picture) -> None:
    assert list(after.sequences) == ["seq_people"]
    assert settings(after.sequences["seq_people"]) == settings(before.sequences["seq_owner"])
    only_changed(before, after, "sequence")


def expect_sequence_dropped(before: Picture, after: Picture) -> None:
    assert after.sequences == {}
    only_changed(before, after, "sequence")


def expect_procedure(before: Picture, after: Picture) -> None:
    assert set(after.routines) - set(before.routines) == {"bump_qty"}
    assert after.routines["bump_qty"].kind == "PROCEDURE"
    only_changed(before, after, "routine")


def check_procedure_runs(url: str) -> None:
    with commands.connect(url) as connection:
        connection.exec_driver_sql("CALL bump_qty()")
        connection.commit()
    assert rows_of(url, "item") == [(10, 1, "x", 105), (11, 2, "y", 107)]  # the replacement (+100) ran


def expect_remarks(before: Picture, after: Picture) -> None:
    owner_before, owner = before.tables["owner"], after.tables["owner"]
    assert owner_before.comment is None and all(c.comment is None for c in owner_before.columns)
    assert owner.comment == "the owners"
    assert [(c.name, c.comment) for c in owner.columns] == [("id", None), ("name", "who they are")]
    # MySQL's MODIFY kept the column as it was: only the comments changed.
    assert changed(before, after) == ["alter_column owner.name (comment)", "table_comment owner"]


def expect_lookup_table(before: Picture, after: Picture) -> None:
    lookup = after.tables["item_label"]
    assert [(c.name, c.type, c.nullable) for c in lookup.columns] == [("label", "VARCHAR(20)", False)]
    assert lookup.primary_key is not None and lookup.primary_key.columns == ("label",)
    added = {(fk.columns, fk.referred_table, fk.referred_columns) for fk in after.tables["item"].foreign_keys} - {
        (fk.columns, fk.referred_table, fk.referred_columns) for fk in before.tables["item"].foreign_keys
    }
    assert added == {(("label",), "item_label", ("label",))}
    assert set(after.tables) - set(before.tables) == {"item_label"}


def check_lookup_rows(url: str) -> None:
    assert rows_of(url, "item_label") == [("x",), ("y",)]
    assert rows_of(url, "item") == [(10, 1, "x", 5), (11, 2, "y", 7)]


def expect_merged(before: Picture, after: Picture) -> None:
    item = after.tables["item"]
    assert [c.name for c in item.columns] == ["id", "owner_id", "label_qty"]
    merged = item.column("label_qty")
    assert merged is not None and (merged.type, merged.nullable) == ("VARCHAR(40)", True)


def check_merged_rows(url: str) -> None:
    assert rows_of(url, "item") == [(10, 1, "x / 5"), (11, 2, "y / 7")]


def expect_nothing(before: Picture, after: Picture) -> None:
    assert compare(before, after) == []


CASES = [
    Case(
        "createView",
        """
        changes:
          - createView: {viewName: v_item, selectQuery: "SELECT id, label FROM item WHERE label LIKE '%x%'"}
        """,
        expect_view_created,
    ),
    Case(
        "createView-replaceIfExists",
        """
        changes:
          - createView: {viewName: v_item, replaceIfExists: true, selectQuery: "SELECT id FROM item WHERE label LIKE 'x'"}
          - createView: {viewName: v_item, replaceIfExists: true, selectQuery: "SELECT id, qty FROM item"}
        rollback:
          - dropView: {viewName: v_item}
        """,
        expect_view_replaced,
    ),
    Case(
        "dropView",
        """
        changes:
          - dropView: {viewName: v_owner}
          - dropView: {viewName: v_missing, ifExists: true}
        rollback:
          - createView: {viewName: v_owner, selectQuery: "SELECT id, name FROM owner WHERE name LIKE '%n%'"}
        """,
        expect_view_dropped,
    ),
    Case(
        "renameView",
        "changes: [{renameView: {oldViewName: v_owner, newViewName: v_people}}]",
        expect_view_renamed,
    ),
    Case(
        "createSequence",
        """
        changes:
          - createSequence:
              sequenceName: seq_item
              startValue: 10
              incrementBy: 5
              minValue: 1
              maxValue: 1000
              cacheSize: 2
              cycle: true
        """,
        expect_sequence_created,
        ("postgresql", "mariadb"),
    ),
    Case(
        "alterSequence",
        """
        changes:
          - alterSequence: {sequenceName: seq_owner, incrementBy: 3, maxValue: 5000}
        rollback:
          - alterSequence: {sequenceName: seq_owner, incrementBy: 2, maxValue: 9000}
        """,
        expect_sequence_altered,
        ("postgresql", "mariadb"),
    ),
    Case(
        "renameSequence",
        "changes: [{renameSequence: {oldSequenceName: seq_owner, newSequenceName: seq_people}}]",
        expect_sequence_renamed,
        ("postgresql", "mariadb"),
    ),
    Case(
        "dropSequence",
        """
        changes:
          - dropSequence: {sequenceName: seq_owner}
        rollback:
          - createSequence: {sequenceName: seq_owner, startValue: 7, incrementBy: 2, minValue: 1, maxValue: 9000, cacheSize: 3}
        """,
        expect_sequence_dropped,
        ("postgresql", "mariadb"),
    ),
    Case(
        "createProcedure",
        """
        changes:
          - createProcedure:
              dbms: postgresql
              procedureName: bump_qty
              procedureText: |
                CREATE PROCEDURE bump_qty() LANGUAGE sql AS $$ UPDATE item SET qty = qty + 1; UPDATE item SET qty = qty - 1 $$;
          - createProcedure:
              dbms: postgresql
              procedureName: bump_qty
              replaceIfExists: true
              procedureText: |
                CREATE PROCEDURE bump_qty() LANGUAGE sql AS $$ UPDATE item SET qty = qty + 50; UPDATE item SET qty = qty + 50 $$;
          - createProcedure:
              dbms: mariadb
              procedureName: bump_qty
              procedureBody: |
                CREATE PROCEDURE bump_qty() BEGIN UPDATE item SET qty = qty + 1; UPDATE item SET qty = qty - 1; END;
          - createProcedure:
              dbms: mariadb
              procedureName: bump_qty
              replaceIfExists: true
              procedureBody: |
                CREATE PROCEDURE bump_qty() BEGIN UPDATE item SET qty = qty + 50; UPDATE item SET qty = qty + 50; END;
        rollback:
          - dropProcedure: {procedureName: bump_qty}
        """,
        expect_procedure,
        ("postgresql", "mariadb"),
        check_procedure_runs,
    ),
    Case(
        "setRemarks",
        """
        changes:
          - setTableRemarks: {tableName: owner, remarks: the owners}
          - setColumnRemarks: {tableName: owner, columnName: name, columnDataType: varchar(50), remarks: " who they are "}
        rollback:
          - setColumnRemarks: {tableName: owner, columnName: name, columnDataType: varchar(50), remarks: ""}
          - setTableRemarks: {tableName: owner, remarks: ""}
        """,
        expect_remarks,
        ("postgresql", "mariadb"),
    ),
    Case(
        "setRemarks-sqlite-ignored",
        """
        changes:
          - setTableRemarks: {tableName: owner, remarks: the owners}
          - setColumnRemarks: {tableName: owner, columnName: name, columnDataType: varchar(50), remarks: " who they are "}
        rollback:
          - setColumnRemarks: {tableName: owner, columnName: name, columnDataType: varchar(50), remarks: ""}
          - setTableRemarks: {tableName: owner, remarks: ""}
        """,
        expect_nothing,  # SQLite has no comments: nothing is run (a warning says so)
        ("sqlite",),
    ),
    Case(
        "addLookupTable",
        """
        changes:
          - addLookupTable:
              existingTableName: item
              existingColumnName: label
              newTableName: item_label
              newColumnName: label
              newColumnDataType: varchar(20)
        """,
        expect_lookup_table,
        check=check_lookup_rows,
    ),
    Case(
        "mergeColumns",
        """
        changes:
          - mergeColumns:
              tableName: item
              column1Name: label
              joinString: " / "
              column2Name: qty
              finalColumnName: label_qty
              finalColumnType: varchar(40)
        rollback:
          - dropColumn: {tableName: item, columnName: label_qty}
          - addColumn: {tableName: item, columns: [{column: {name: label, type: varchar(20)}}, {column: {name: qty, type: int}}]}
          - createIndex: {tableName: item, indexName: ix_item_label, columns: [{column: {name: label}}]}
        """,
        expect_merged,
        check=check_merged_rows,
    ),
    Case("empty", "changes: [{empty: {}}]", expect_nothing),
    Case("output", "changes: [{output: {message: hello from the changelog}}]", expect_nothing),
]


def _params() -> list[Any]:
    params = []
    for case in CASES:
        for backend in case.backends:
            marks = [pytest.mark.backend] if backend != "sqlite" else []
            params.append(pytest.param(case, backend, id=f"{case.id}-{backend}", marks=marks))
    return params


@pytest.mark.parametrize(("case", "backend"), _params())
def test_round_trip(case: Case, backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = str(request.getfixturevalue(f"{backend}_url"))
    changelog = write_changelog(tmp_path, case.changeset, backend)

    commands.update(url, changelog, to_tag="before")
    before = picture(url)
    owners = rows_of(url, "owner")

    applied = commands.update(url, changelog)
    assert [cs.id for cs in applied] == ["under-test"]
    after = picture(url)
    case.expect(before, after)
    if case.check is not None:
        case.check(url)
    assert rows_of(url, "owner") == owners

    undone = commands.rollback(url, changelog, tag="before")
    assert [row.id for row in undone] == ["under-test"]
    assert compare(before, picture(url)) == []
    assert rows_of(url, "owner") == owners


REFUSED = [
    ("sqlite", "changes: [{createProcedure: {procedureText: CREATE PROCEDURE p() SELECT 1}}]", "no stored procedures"),
    ("sqlite", "changes: [{createSequence: {sequenceName: s}}]", "SQLite has no sequences"),
    ("sqlite", "changes: [{dropProcedure: {procedureName: p}}]", "SQLite has no stored procedures"),
    (
        "mariadb",
        "changes: [{setColumnRemarks: {tableName: owner, columnName: name, remarks: r}}]",
        "setColumnRemarks needs columnDataType on mariadb",
    ),
]


@pytest.mark.parametrize(
    ("backend", "changeset", "reason"),
    [
        pytest.param(*r, id=f"{r[0]}-{i}", marks=[pytest.mark.backend] if r[0] != "sqlite" else [])
        for i, r in enumerate(REFUSED)
    ],
)
def test_refused_with_the_reason_and_nothing_recorded(
    backend: str, changeset: str, reason: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = str(request.getfixturevalue(f"{backend}_url"))
    changelog = write_changelog(tmp_path, changeset, backend)
    commands.update(url, changelog, to_tag="before")
    before = picture(url)
    # Refused before anything runs, at the change's line (the database could not do it as written).
    with pytest.raises(ChangeLogError, match=reason) as info:
        commands.update(url, changelog)
    assert f"cannot run on {backend}" in str(info.value)
    assert compare(before, picture(url)) == []
    assert [row.id for row in commands.history(url)][-1] == "before"


def test_sequences_refused_on_mysql_dialect(tmp_path: Path) -> None:
    changelog = write_changelog(tmp_path, "changes: [{createSequence: {sequenceName: s}}]", "mysql")
    with pytest.raises(ChangeLogError, match="createSequence is not supported on mysql: MySQL has no sequences"):
        commands.update_sql(None, changelog, dialect="mysql")


def test_view_with_percent_and_colon_in_its_query(db_url: str, tmp_path: Path) -> None:
    # the query is the user's SQL: '%' and ':' reach the database as written (no parameter formatting)
    changelog = write_changelog(
        tmp_path,
        """
        changes:
          - createView: {viewName: v_odd, selectQuery: "SELECT id, 'a:b%' AS odd FROM owner WHERE name LIKE '%n%'"}
        """,
        sa.make_url(db_url).get_backend_name(),
    )
    commands.update(db_url, changelog)
    with commands.connect(db_url) as connection:
        rows = connection.execute(sa.text("SELECT id, odd FROM v_odd ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(1, "a:b%")]
