"""Every change type on every backend: apply → reflect and compare → roll back → reflect and compare."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import reflected
from yamlbase import commands
from yamlbase.dialects import capabilities
from yamlbase.structure.compare import compare
from yamlbase.structure.model import Schema, Table

SETUP = """
- changeSet:
    id: setup-owner
    author: test
    changes:
      - createTable:
          tableName: owner
          columns:
            - column: {name: id, type: int, constraints: {primaryKey: true}}
            - column: {name: name, type: varchar(50)}
- changeSet:
    id: setup-item
    author: test
    changes:
      - createTable:
          tableName: item
          columns:
            - column: {name: id, type: int, constraints: {primaryKey: true}}
            - column: {name: owner_id, type: int, constraints: {references: owner(id), foreignKeyName: fk_item_owner}}
            - column: {name: label, type: varchar(20)}
            - column: {name: qty, type: int}
      - createIndex:
          tableName: item
          indexName: ix_item_label
          columns:
            - column: {name: label}
- changeSet:
    id: setup-rows
    author: test
    changes:
      - sql:
          sql: >
            INSERT INTO owner (id, name) VALUES (1, 'ann'), (2, 'bo');
            INSERT INTO item (id, owner_id, label, qty) VALUES (10, 1, 'x', 5), (11, 2, 'y', 7)
    rollback: DELETE FROM item; DELETE FROM owner
- changeSet:
    id: before
    author: test
    changes:
      - tagDatabase: {tag: before}
"""


@dataclass
class Case:
    id: str
    changeset: str
    expect: Callable[[Schema, Schema], None]


def _changed(before: Schema, after: Schema, table: str) -> Table:
    assert table in after.tables, f"{table} missing after the change"
    return after.tables[table]


def names(table: Table) -> list[str]:
    return [c.name for c in table.columns]


def foreign_keys(table: Table) -> list[tuple[tuple[str, ...], str, tuple[str, ...]]]:
    return sorted((fk.columns, fk.referred_table, fk.referred_columns) for fk in table.foreign_keys)


def changed(before: Schema, after: Schema) -> list[str]:
    """What the change did, one line per difference (compare's own words)."""
    return [d.describe() for d in compare(before, after)]


def expect_create_table(before: Schema, after: Schema) -> None:
    t = _changed(before, after, "tag_line")
    assert names(t) == ["id", "item_id", "body", "score"]
    assert t.primary_key is not None and t.primary_key.columns == ("id",)
    body = t.column("body")
    assert body is not None and (body.type, body.nullable) == ("VARCHAR(200)", False)
    assert foreign_keys(t) == [(("item_id",), "item", ("id",))]
    assert [u.columns for u in t.unique_constraints] == [("body",)]
    assert changed(before, after) == ["add_table tag_line"]


def expect_drop_table(before: Schema, after: Schema) -> None:
    assert changed(before, after) == ["drop_table item"]


def expect_drop_cascade(before: Schema, after: Schema) -> None:
    assert set(before.tables) - set(after.tables) == {"owner"}
    assert after.tables["item"].foreign_keys == ()  # the dependent foreign key went with it


def expect_rename_table(before: Schema, after: Schema) -> None:
    assert "item" not in after.tables and after.tables["items"].columns == before.tables["item"].columns
    assert changed(before, after) == ["add_table items", "drop_table item"]


def expect_add_column(before: Schema, after: Schema) -> None:
    item = after.tables["item"]
    assert names(item)[-3:] == ["sku", "code", "maker_id"]
    sku = item.column("sku")
    assert sku is not None and (sku.type, sku.nullable) == ("VARCHAR(30)", False)
    assert [u.columns for u in item.unique_constraints] == [("code",)]
    assert (("maker_id",), "owner", ("id",)) in foreign_keys(item)


def expect_drop_column(before: Schema, after: Schema) -> None:
    assert set(names(before.tables["item"])) - set(names(after.tables["item"])) == {"qty"}
    assert changed(before, after) == ["drop_column item.qty"]  # its indexes and foreign keys kept


def expect_drop_columns(before: Schema, after: Schema) -> None:
    assert set(names(before.tables["item"])) - set(names(after.tables["item"])) == {"qty", "label"}


def expect_rename_column(before: Schema, after: Schema) -> None:
    item = after.tables["item"]
    assert "label" not in names(item)
    title, label = item.column("title"), before.tables["item"].column("label")
    assert title is not None and label is not None and (title.type, title.nullable) == (label.type, label.nullable)
    assert compare(before, after, renames={"item.label": "item.title"})[0].kind == "rename_column"


def expect_create_index(before: Schema, after: Schema) -> None:
    item, was = after.tables["item"], before.tables["item"]
    added = {(i.name, i.columns, i.unique) for i in set(item.indexes) - set(was.indexes)}
    # MySQL reports a unique index as the unique constraint it is.
    added |= {(u.name, u.columns, True) for u in set(item.unique_constraints) - set(was.unique_constraints)}
    assert added == {("ix_item_qty_label", ("qty", "label"), True)}


def expect_drop_index(before: Schema, after: Schema) -> None:
    assert after.tables["item"].indexes == ()


def expect_sql(before: Schema, after: Schema) -> None:
    assert changed(before, after) == ["add_table audit"]


def expect_nothing(before: Schema, after: Schema) -> None:
    assert compare(before, after) == []


CASES = [
    Case(
        "createTable",
        """
        changes:
          - createTable:
              tableName: tag_line
              remarks: lines of tags
              columns:
                - column: {name: id, type: bigint, autoIncrement: true, constraints: {primaryKey: true}}
                - column: {name: item_id, type: int, constraints: {referencedTableName: item, referencedColumnNames: id}}
                - column: {name: body, type: varchar(200), constraints: {nullable: false, unique: true}}
                - column: {name: score, type: 'decimal(10,2)', defaultValueNumeric: 1.5, remarks: how good}
        """,
        expect_create_table,
    ),
    Case(
        "dropTable",
        """
        changes:
          - dropTable: {tableName: item}
        rollback:
          - createTable:
              tableName: item
              columns:
                - column: {name: id, type: int, constraints: {primaryKey: true}}
                - column: {name: owner_id, type: int, constraints: {references: owner(id), foreignKeyName: fk_item_owner}}
                - column: {name: label, type: varchar(20)}
                - column: {name: qty, type: int}
          - createIndex: {tableName: item, indexName: ix_item_label, columns: [{column: {name: label}}]}
        """,
        expect_drop_table,
    ),
    Case("renameTable", "changes: [{renameTable: {oldTableName: item, newTableName: items}}]", expect_rename_table),
    Case(
        "addColumn",
        """
        changes:
          - addColumn:
              tableName: item
              columns:
                - column: {name: sku, type: varchar(30), defaultValue: none, constraints: {nullable: false}}
                - column: {name: code, type: varchar(10), constraints: {unique: true, uniqueConstraintName: uq_item_code}}
                - column: {name: maker_id, type: int, constraints: {references: owner(id), foreignKeyName: fk_item_maker}}
        """,
        expect_add_column,
    ),
    Case(
        "dropColumn",
        """
        changes:
          - dropColumn: {tableName: item, columnName: qty}
        rollback:
          - addColumn: {tableName: item, columns: [{column: {name: qty, type: int}}]}
        """,
        expect_drop_column,
    ),
    Case(
        "dropColumn-several",
        """
        changes:
          - dropIndex: {tableName: item, indexName: ix_item_label}
          - dropColumn: {tableName: item, columns: [{column: {name: qty}}, {column: {name: label}}]}
        rollback:
          - addColumn: {tableName: item, columns: [{column: {name: label, type: varchar(20)}}, {column: {name: qty, type: int}}]}
          - createIndex: {tableName: item, indexName: ix_item_label, columns: [{column: {name: label}}]}
        """,
        expect_drop_columns,
    ),
    Case(
        "renameColumn",
        """
        changes:
          - renameColumn: {tableName: item, oldColumnName: label, newColumnName: title, columnDataType: varchar(20)}
        """,
        expect_rename_column,
    ),
    Case(
        "createIndex",
        """
        changes:
          - createIndex:
              tableName: item
              indexName: ix_item_qty_label
              unique: true
              columns: [{column: {name: qty}}, {column: {name: label}}]
        """,
        expect_create_index,
    ),
    Case(
        "dropIndex",
        """
        changes:
          - dropIndex: {tableName: item, indexName: ix_item_label}
        rollback:
          - createIndex: {tableName: item, indexName: ix_item_label, columns: [{column: {name: label}}]}
        """,
        expect_drop_index,
    ),
    Case(
        "sql",
        """
        changes:
          - sql:
              splitStatements: true
              stripComments: true
              sql: |
                -- an audit table, by hand
                CREATE TABLE audit (id INT PRIMARY KEY, note VARCHAR(40));
                INSERT INTO audit (id, note) VALUES (1, 'semi;colon: and % sign');
        rollback: DROP TABLE audit
        """,
        expect_sql,
    ),
    Case("tagDatabase", "changes: [{tagDatabase: {tag: after}}]", expect_nothing),
]


DROP_TABLE_CASCADE = Case(
    "dropTable-cascade",
    """
        changes:
          - dropTable: {tableName: owner, cascadeConstraints: true}
        rollback:
          - createTable:
              tableName: owner
              columns:
                - column: {name: id, type: int, constraints: {primaryKey: true}}
                - column: {name: name, type: varchar(50)}
          - sql: INSERT INTO owner (id, name) VALUES (1, 'ann'), (2, 'bo')
          - sql: ALTER TABLE item ADD CONSTRAINT fk_item_owner FOREIGN KEY (owner_id) REFERENCES owner (id)
        """,
    expect_drop_cascade,
)


def write_changelog(folder: Path, case: Case) -> Path:
    body = textwrap.indent(textwrap.dedent(case.changeset).strip(), "    ")
    text = "databaseChangeLog:\n" + textwrap.indent(textwrap.dedent(SETUP).strip(), "  ")
    text += f"\n  - changeSet:\n      id: under-test\n      author: test\n{textwrap.indent(body, '  ')}\n"
    path = folder / "changelog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def rows_of(url: str, table: str) -> list[tuple[Any, ...]]:
    with commands.connect(url) as connection:
        return sorted(tuple(r) for r in connection.execute(sa.text(f"SELECT * FROM {table}")))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_round_trip(case: Case, db_url: str, tmp_path: Path) -> None:
    round_trip(case, db_url, tmp_path)


@pytest.mark.backend
def test_drop_table_cascade_round_trip(postgresql_url: str, tmp_path: Path) -> None:
    """CASCADE drops the dependent foreign key too (PostgreSQL; MySQL ignores CASCADE, SQLite has no such clause)."""
    round_trip(DROP_TABLE_CASCADE, postgresql_url, tmp_path)


def round_trip(case: Case, db_url: str, tmp_path: Path) -> None:
    changelog = write_changelog(tmp_path, case)

    commands.update(db_url, changelog, to_tag="before")
    before = reflected(db_url)
    owners = rows_of(db_url, "owner")

    applied = commands.update(db_url, changelog)
    assert [cs.id for cs in applied] == ["under-test"]
    after = reflected(db_url)
    case.expect(before, after)
    if "owner" in after.tables:  # rows survive table recreation and renames
        assert rows_of(db_url, "owner") == owners

    undone = commands.rollback(db_url, changelog, tag="before")
    assert [row.id for row in undone] == ["under-test"]
    assert compare(before, reflected(db_url)) == []
    assert rows_of(db_url, "owner") == owners
    assert [row.id for row in commands.history(db_url)] == ["setup-owner", "setup-item", "setup-rows", "before"]


def test_history_tables_have_liquibase_layout(db_url: str, tmp_path: Path) -> None:
    changelog = write_changelog(tmp_path, CASES[-1])
    commands.update(db_url, changelog)
    with commands.connect(db_url) as connection:
        inspector = sa.inspect(connection)
        names = {n.upper(): n for n in inspector.get_table_names()}
        history_cols = [c["name"].upper() for c in inspector.get_columns(names["DATABASECHANGELOG"])]
        lock_cols = [c["name"].upper() for c in inspector.get_columns(names["DATABASECHANGELOGLOCK"])]
        lock_rows = connection.execute(sa.text(f"SELECT * FROM {names['DATABASECHANGELOGLOCK']}")).all()
    assert history_cols == [
        "ID", "AUTHOR", "FILENAME", "DATEEXECUTED", "ORDEREXECUTED", "EXECTYPE", "MD5SUM", "DESCRIPTION",
        "COMMENTS", "TAG", "LIQUIBASE", "CONTEXTS", "LABELS", "DEPLOYMENT_ID",
    ]  # fmt: skip
    assert lock_cols == ["ID", "LOCKED", "LOCKGRANTED", "LOCKEDBY"]
    assert [(r[0], bool(r[1]), r[3]) for r in lock_rows] == [(1, False, None)]
    rows = commands.history(db_url)
    assert [(r.order_executed, r.exec_type, r.tag) for r in rows] == [
        (1, "EXECUTED", None), (2, "EXECUTED", None), (3, "EXECUTED", None), (4, "EXECUTED", "before"),
        (5, "EXECUTED", "after"),
    ]  # fmt: skip
    assert rows[1].description == "createTable tableName=item; createIndex indexName=ix_item_label, tableName=item"
    assert all(r.md5sum and r.md5sum.startswith("9:") for r in rows)
    assert len({r.deployment_id for r in rows}) == 1


def test_failing_changeset_leaves_no_trace(db_url: str, tmp_path: Path) -> None:
    case = Case(
        "failing",
        """
        changes:
          - createTable: {tableName: half_done, columns: [{column: {name: id, type: int}}]}
          - addColumn: {tableName: no_such_table, columns: [{column: {name: x, type: int}}]}
        """,
        expect_nothing,
    )
    changelog = write_changelog(tmp_path, case)
    commands.update(db_url, changelog, to_tag="before")
    before = reflected(db_url)
    with pytest.raises(commands.MigrationError) as failure:
        commands.update(db_url, changelog)
    assert failure.value.changeset == "changelog.yaml::under-test::test"
    assert "no_such_table" in (failure.value.statement or "")
    after = reflected(db_url)
    if capabilities(sa.make_url(db_url).get_backend_name()).transactional_ddl:
        assert compare(before, after) == []  # the createTable before the failure was rolled back too
        assert failure.value.took_effect == []
    else:  # MariaDB committed the CREATE TABLE: the error says so, and the history does not claim the changeSet
        assert set(after.tables) - set(before.tables) == {"half_done"}
        (created,) = failure.value.took_effect
        assert created.strip().startswith("CREATE TABLE half_done")
        assert "took effect and were not undone" in str(failure.value)
    assert [r.id for r in commands.history(db_url)][-1] == "before"
    state = commands.list_locks(db_url)
    assert state is not None and not state.locked
