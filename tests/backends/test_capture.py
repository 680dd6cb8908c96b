"""Rollbacks of destructive changes with no rollback block: what a drop destroys is captured by reflection
before it runs (YAMLBASE_ROLLBACK) and recreated by ``rollback``, on every backend."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import reflected
from yamlbase import commands
from yamlbase.errors import RollbackImpossibleError
from yamlbase.structure.compare import compare
from yamlbase.structure.model import Schema

SETUP = """
databaseChangeLog:
  - changeSet:
      id: setup
      author: t
      changes:
        - createTable:
            tableName: owner
            remarks: people who own things
            columns:
              - column: {name: id, type: int, constraints: {primaryKey: true, primaryKeyName: pk_owner}}
              - column: {name: name, type: varchar(50), constraints: {nullable: false}}
        - createTable:
            tableName: item
            remarks: things owned
            columns:
              - column:
                  name: id
                  type: int
                  autoIncrement: true
                  constraints: {primaryKey: true, primaryKeyName: pk_item}
              - column:
                  name: owner_id
                  type: int
                  constraints:
                    references: owner(id)
                    foreignKeyName: fk_item_owner
                    deleteCascade: true
              - column:
                  name: code
                  type: varchar(20)
                  constraints: {nullable: false, unique: true, uniqueConstraintName: uq_item_code}
              - column: {name: label, type: varchar(40), defaultValue: none, remarks: shown to users}
              - column:
                  name: qty
                  type: int
                  defaultValueNumeric: 0
                  constraints: {nullable: false, checkConstraint: qty >= 0}
              - column: {name: price, type: "decimal(10,2)"}
        - createIndex:
            tableName: item
            indexName: ix_item_label
            columns:
              - column: {name: label}
        - createIndex:
            tableName: item
            indexName: ix_item_qty_label
            columns:
              - column: {name: qty}
              - column: {name: label}
        - createIndex:
            tableName: item
            indexName: ux_item_price
            unique: true
            columns:
              - column: {name: price}
  - changeSet:
      id: rows
      author: t
      changes:
        - sql:
            sql: >
              INSERT INTO owner (id, name) VALUES (1, 'ann');
              INSERT INTO item (owner_id, code, label, qty, price) VALUES (1, 'a', 'first', 3, 1.50)
      rollback: DELETE FROM item; DELETE FROM owner
"""

DROPS = {
    "dropTable": "- dropTable: {tableName: item}",
    "dropColumn": "- dropColumn: {tableName: item, columnName: label}",
    "dropColumns": "- dropColumn: {tableName: item, columns: [{column: {name: qty}}, {column: {name: owner_id}}]}",
    "dropIndexedColumns": "- dropColumn: {tableName: item, columns: [{column: {name: price}}, {column: {name: qty}}]}",
    "dropIndex": "- dropIndex: {tableName: item, indexName: ix_item_label}",
    "dropUniqueIndex": "- dropIndex: {tableName: item, indexName: ux_item_price}",
    "twoInOne": "- dropIndex: {tableName: item, indexName: ix_item_label}\n- dropTable: {tableName: item}",
}


def changelog_with(tmp_path: Path, changes: str, rollback: str | None = None, *, rows: bool = True) -> Path:
    setup = SETUP if rows else SETUP.split("  - changeSet:\n      id: rows")[0]
    text = setup + textwrap.indent(
        "- changeSet:\n    id: drop\n    author: t\n    changes:\n" + textwrap.indent(changes, " " * 6) + "\n",
        "  ",
    )
    if rollback is not None:
        text += f"      rollback: {rollback}\n"
    path = tmp_path / "changelog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def schema(url: str) -> Schema:
    """Everything a restore must bring back exactly: names, defaults, comments, foreign key actions, checks
    (compared with :func:`compare`, as update-testing-rollback compares: column order aside)."""
    return reflected(url)


def captured_rows(url: str) -> list[tuple[Any, ...]]:
    with commands.connect(url) as connection:
        names = {n.lower(): n for n in sa.inspect(connection).get_table_names()}
        if "yamlbase_rollback" not in names:
            return []
        table = sa.Table(names["yamlbase_rollback"], sa.MetaData(), autoload_with=connection)
        c = {col.name.lower(): col for col in table.columns}
        return list(connection.execute(sa.select(c["filename"], c["id"], c["author"], c["captured"])))


@pytest.mark.parametrize("drop", list(DROPS), ids=list(DROPS))
def test_rollback_recreates_what_the_drop_destroyed(db_url: str, tmp_path: Path, drop: str) -> None:
    changelog = changelog_with(tmp_path, DROPS[drop])
    commands.update(db_url, changelog, count=2)
    before = schema(db_url)
    assert captured_rows(db_url) == [], "changeSets that destroy nothing capture nothing"

    commands.update(db_url, changelog)
    assert compare(before, schema(db_url))
    [(filename, id_, author, _)] = captured_rows(db_url)
    assert (id_, author) == ("drop", "t") and filename.endswith("changelog.yaml")

    commands.rollback(db_url, changelog, count=1)
    assert compare(before, schema(db_url)) == []
    assert captured_rows(db_url) == [], "the capture goes with the history row it belongs to"

    # The restored structure is the real thing: the next update drops it again, and a full rollback undoes all.
    commands.update(db_url, changelog)
    commands.rollback(db_url, changelog, count=3)
    assert schema(db_url).tables == {}


@pytest.mark.backend
def test_cascading_drop_comes_back_with_the_foreign_keys_it_took(postgresql_url: str, tmp_path: Path) -> None:
    # PostgreSQL's DROP TABLE … CASCADE also drops item's foreign key to owner. No rows: the restored
    # foreign key must hold for rows that reference owners, which do not come back.
    changelog = changelog_with(tmp_path, "- dropTable: {tableName: owner, cascadeConstraints: true}", rows=False)
    commands.update(postgresql_url, changelog, count=1)
    before = schema(postgresql_url)
    commands.update(postgresql_url, changelog)
    assert schema(postgresql_url).tables["item"].foreign_keys == ()
    commands.rollback(postgresql_url, changelog, count=1)
    assert compare(before, schema(postgresql_url)) == []


def test_rollback_block_wins_and_nothing_is_captured(db_url: str, tmp_path: Path) -> None:
    rollback = "[{createTable: {tableName: item, columns: [{column: {name: id, type: int}}]}}]"
    changelog = changelog_with(tmp_path, DROPS["dropTable"], rollback=rollback)
    commands.update(db_url, changelog)
    assert captured_rows(db_url) == []
    commands.rollback(db_url, changelog, count=1)
    assert [c.name for c in schema(db_url).tables["item"].columns] == ["id"]


def test_rollback_sql_shows_the_recreation_and_says_the_data_is_not_restored(db_url: str, tmp_path: Path) -> None:
    changelog = changelog_with(tmp_path, DROPS["dropTable"])
    commands.update(db_url, changelog)
    before = schema(db_url)

    sql = commands.rollback_sql(db_url, changelog, count=1)

    assert compare(before, schema(db_url)) == [] and len(captured_rows(db_url)) == 1, "rollback-sql changes nothing"
    create = next(line for line in sql.splitlines() if line.upper().startswith("CREATE TABLE"))
    assert "item" in create
    assert "-- table item is recreated as captured before the drop; the rows it held are not restored\n" in sql
    assert "ix_item_label" in sql and "fk_item_owner" in sql and "uq_item_code" in sql
    assert "DELETE FROM" in sql.upper() and "YAMLBASE_ROLLBACK" in sql.upper(), "the capture row goes too"


def test_drop_applied_without_capture_is_refused_with_the_reason(db_url: str, tmp_path: Path) -> None:
    changelog = changelog_with(tmp_path, DROPS["dropColumn"])
    commands.update(db_url, changelog, count=2)
    # Recorded as run without running it here (as after Liquibase ran it): nothing was captured.
    commands.mark_next_changeset_ran(db_url, changelog)
    before = schema(db_url)

    with pytest.raises(RollbackImpossibleError) as raised:
        commands.rollback(db_url, changelog, count=1)

    message = str(raised.value)
    assert "::drop::t" in message
    assert "dropColumn on item cannot be rolled back automatically: its structure was not captured" in message
    assert "add a rollback block" in message
    assert compare(before, schema(db_url)) == []


def test_update_sql_captures_nothing(db_url: str, tmp_path: Path) -> None:
    changelog = changelog_with(tmp_path, DROPS["dropTable"])
    commands.update(db_url, changelog, count=2)
    sql = commands.update_sql(db_url, changelog)
    assert "DROP TABLE" in sql.upper() and "YAMLBASE_ROLLBACK" not in sql.upper()
    assert captured_rows(db_url) == []


def test_sqlite_table_recreation_keeps_unnamed_checks(sqlite_url: str, tmp_path: Path) -> None:
    # Alembic's batch mode omits unnamed CHECK constraints; yamlbase restates them (renamed columns followed).
    changelog = tmp_path / "changelog.yaml"
    changelog.write_text(
        textwrap.dedent(
            """
            databaseChangeLog:
              - changeSet:
                  id: t
                  author: t
                  changes:
                    - createTable:
                        tableName: t
                        columns:
                          - column: {name: qty, type: int, constraints: {checkConstraint: qty >= 0}}
                          - column: {name: other, type: int}
              - changeSet:
                  id: recreate
                  author: t
                  changes:
                    - dropColumn: {tableName: t, columnName: other}
                    - renameColumn: {tableName: t, oldColumnName: qty, newColumnName: amount}
            """
        ),
        encoding="utf-8",
    )
    commands.update(sqlite_url, changelog)
    assert [(c.name, c.sqltext) for c in schema(sqlite_url).tables["t"].checks] == [(None, "amount >= 0")]
    with commands.connect(sqlite_url) as connection, pytest.raises(sa.exc.IntegrityError):
        connection.exec_driver_sql("INSERT INTO t (amount) VALUES (-1)")


def test_a_view_is_captured_with_its_definition(db_url: str, tmp_path: Path) -> None:
    # For dropView (another branch): the capture a view's inverse rebuilds from.
    from yamlbase.changes.base import ObjectRef
    from yamlbase.runtime.capture import capture

    commands.update(db_url, changelog_with(tmp_path, "- tagDatabase: {tag: t}"), count=1)
    with commands.connect(db_url) as connection:
        connection.exec_driver_sql("CREATE VIEW owner_names AS SELECT name FROM owner")
        connection.commit()
        captured = capture(connection, [ObjectRef("view", None, None, "owner_names")])
        missing = capture(connection, [ObjectRef("view", None, None, "no_such_view")])
        with pytest.raises(ValueError, match="cannot capture an object of kind 'trigger'"):
            capture(connection, [ObjectRef("trigger", None, None, "x")])
    view = captured["views"]["owner_names"]
    assert (view["schema"], view["name"]) == (None, "owner_names")
    assert "select" in view["definition"].lower() and "owner" in view["definition"]
    assert missing["views"] == {}
