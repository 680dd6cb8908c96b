"""The constraint change types on every backend: apply → reflect and compare → roll back → reflect == before.

Tables and rows come from SETUP in tests/backends/test_changes.py: owner(id, name), item(id, owner_id → owner,
label, qty) with index ix_item_label and foreign key fk_item_owner.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.backends.test_changes import SETUP, round_trip, rows_of
from tests.backends.test_changes import Case as ModelCase
from tests.conftest import reflected
from yamlbase import commands
from yamlbase.structure import model

# The expectations below read a plain picture of each table, built from the one schema model.
Schema = dict[str, dict[str, Any]]
_STRING = re.compile(r"(?:n?var)?char(?:acter)?(?: varying)?\((\d+)\)", re.IGNORECASE)


def _family(type_: str) -> str:
    """``str(N)`` for a string type of length N in any dialect's spelling, else the type as reflected."""
    found = _STRING.fullmatch(type_.strip())
    return f"str({found.group(1)})" if found else type_.lower()


def picture(schema: model.Schema) -> Schema:
    """Each table as the expectations compare it: columns (type family, nullability), defaults, primary key,
    foreign keys, unique constraints, check constraint names and indexes."""
    tables: Schema = {}
    for table in schema.tables.values():
        tables[table.name] = {
            "columns": {c.name: {"type": _family(c.type), "nullable": c.nullable} for c in table.columns},
            "defaults": {c.name: c.default for c in table.columns if c.default and c.default.upper() != "NULL"},
            "primary_key": table.primary_key.columns if table.primary_key else (),
            "foreign_keys": sorted((fk.columns, fk.referred_table, fk.referred_columns) for fk in table.foreign_keys),
            "unique": sorted(u.columns for u in table.unique_constraints),
            "checks": sorted(ck.name or "" for ck in table.checks),
            "indexes": sorted((ix.name, ix.columns, ix.unique) for ix in table.indexes),
        }
    return tables


def schema_of(url: str) -> Schema:
    return picture(reflected(url))


def Case(id: str, changeset: str, expect: Callable[[Schema, Schema], None]) -> ModelCase:
    """A round-trip case whose expectation reads pictures of the schemas before and after."""
    return ModelCase(id, changeset, lambda before, after: expect(picture(before), picture(after)))


def expect_modify_data_type(before: Schema, after: Schema) -> None:
    assert after["item"]["columns"]["label"] == {"type": "str(100)", "nullable": True}
    assert after["item"]["indexes"] == before["item"]["indexes"]


def expect_add_not_null(before: Schema, after: Schema) -> None:
    assert before["item"]["columns"]["label"]["nullable"] is True
    assert after["item"]["columns"]["label"] == {"type": "str(20)", "nullable": False}


def expect_drop_not_null(before: Schema, after: Schema) -> None:
    assert after["ticket"]["columns"]["code"] == {"type": "str(10)", "nullable": True}


def expect_add_default(before: Schema, after: Schema) -> None:
    defaults = after["item"]["defaults"]
    assert before["item"]["defaults"] == {}
    assert set(defaults) == {"label", "qty"}
    assert "it''s" in defaults["label"]
    assert "2" in defaults["qty"] and "3" in defaults["qty"]


def expect_drop_default(before: Schema, after: Schema) -> None:
    assert "status" in after["item"]["columns"]
    assert after["item"]["defaults"] == {}


def expect_add_auto_increment(before: Schema, after: Schema) -> None:
    assert after["counter"]["primary_key"] == ("id",)
    assert after["counter"]["columns"]["id"]["nullable"] is False


def expect_add_primary_key(before: Schema, after: Schema) -> None:
    assert after["tag"]["primary_key"] == ("code", "lang")


def expect_drop_primary_key(before: Schema, after: Schema) -> None:
    assert after["tag"]["primary_key"] == ()
    assert list(after["tag"]["columns"]) == ["code", "label"]


def expect_add_foreign_key(before: Schema, after: Schema) -> None:
    assert after["item"]["foreign_keys"] == [(("owner_id",), "owner", ("id",)), (("qty",), "owner", ("id",))]


def expect_no_foreign_keys(before: Schema, after: Schema) -> None:
    assert before["item"]["foreign_keys"] == [(("owner_id",), "owner", ("id",))]
    assert after["item"]["foreign_keys"] == []
    assert after["item"]["columns"] == before["item"]["columns"]
    assert after["item"]["indexes"] == before["item"]["indexes"]  # MySQL's index for the key went with it


def expect_add_unique(before: Schema, after: Schema) -> None:
    assert after["item"]["unique"] == [("label", "qty")]


def expect_drop_unique(before: Schema, after: Schema) -> None:
    assert after["code_book"]["unique"] == []


def expect_add_check(before: Schema, after: Schema) -> None:
    assert before["item"]["checks"] == []
    assert after["item"]["checks"] == ["ck_item_qty"]


def expect_drop_check(before: Schema, after: Schema) -> None:
    assert after["gauge"]["checks"] == []


CASES = [
    Case(
        "modifyDataType",
        """
        changes:
          - modifyDataType: {tableName: item, columnName: label, newDataType: varchar(100)}
        rollback:
          - modifyDataType: {tableName: item, columnName: label, newDataType: varchar(20)}
        """,
        expect_modify_data_type,
    ),
    Case(
        "addNotNullConstraint",
        """
        changes:
          - addNotNullConstraint: {tableName: item, columnName: label, columnDataType: varchar(20), defaultNullValue: none}
        """,
        expect_add_not_null,
    ),
    Case(
        "dropNotNullConstraint",
        """
        changes:
          - createTable:
              tableName: ticket
              columns:
                - column: {name: id, type: int, constraints: {primaryKey: true}}
                - column: {name: code, type: varchar(10), constraints: {nullable: false}}
          - dropNotNullConstraint: {tableName: ticket, columnName: code, columnDataType: varchar(10)}
        """,
        expect_drop_not_null,
    ),
    Case(
        "addDefaultValue",
        """
        changes:
          - addDefaultValue: {tableName: item, columnName: label, columnDataType: varchar(20), defaultValue: "it's"}
          - addDefaultValue: {tableName: item, columnName: qty, columnDataType: int, defaultValueComputed: 2+3}
        """,
        expect_add_default,
    ),
    Case(
        "dropDefaultValue",
        """
        changes:
          - addColumn: {tableName: item, columns: [{column: {name: status, type: varchar(10), defaultValue: new}}]}
          - dropDefaultValue: {tableName: item, columnName: status, columnDataType: varchar(10)}
        rollback:
          - dropColumn: {tableName: item, columnName: status}
        """,
        expect_drop_default,
    ),
    Case(
        "addAutoIncrement",
        """
        changes:
          - createTable:
              tableName: counter
              columns:
                - column: {name: id, type: bigint, constraints: {primaryKey: true}}
                - column: {name: label, type: varchar(10)}
          - addAutoIncrement: {tableName: counter, columnName: id, columnDataType: bigint}
          # fails unless the database now generates the key
          - sql: INSERT INTO counter (label) VALUES ('a')
        rollback:
          - dropTable: {tableName: counter}
          - sql: {dbms: postgresql, sql: DROP SEQUENCE counter_id_seq}
        """,
        expect_add_auto_increment,
    ),
    Case(
        "addPrimaryKey",
        """
        changes:
          - createTable:
              tableName: tag
              columns:
                - column: {name: code, type: varchar(10), constraints: {nullable: false}}
                - column: {name: lang, type: varchar(5), constraints: {nullable: false}}
          - addPrimaryKey: {tableName: tag, columnNames: 'code, lang', constraintName: pk_tag}
        """,
        expect_add_primary_key,
    ),
    Case(
        "dropPrimaryKey",
        """
        changes:
          - createTable:
              tableName: tag
              columns:
                - column: {name: code, type: varchar(10), constraints: {primaryKey: true}}
                - column: {name: label, type: varchar(10)}
          - dropPrimaryKey: {tableName: tag}
        rollback:
          - dropTable: {tableName: tag}
        """,
        expect_drop_primary_key,
    ),
    Case(
        "addForeignKeyConstraint",
        """
        changes:
          - sql: UPDATE item SET qty = owner_id
          - addForeignKeyConstraint:
              baseTableName: item
              baseColumnNames: qty
              referencedTableName: owner
              referencedColumnNames: id
              constraintName: fk_item_qty
              onDelete: SET NULL
              onUpdate: CASCADE
        rollback:
          - dropForeignKeyConstraint: {baseTableName: item, constraintName: fk_item_qty}
          - sql: UPDATE item SET qty = 5 WHERE id = 10
          - sql: UPDATE item SET qty = 7 WHERE id = 11
        """,
        expect_add_foreign_key,
    ),
    Case(
        "dropForeignKeyConstraint",
        """
        changes:
          - dropForeignKeyConstraint: {baseTableName: item, constraintName: fk_item_owner}
        rollback:
          - addForeignKeyConstraint:
              {baseTableName: item, baseColumnNames: owner_id, referencedTableName: owner, referencedColumnNames: id,
               constraintName: fk_item_owner}
        """,
        expect_no_foreign_keys,
    ),
    Case(
        "dropAllForeignKeyConstraints",
        """
        changes:
          - dropAllForeignKeyConstraints: {baseTableName: item}
        rollback:
          - addForeignKeyConstraint:
              {baseTableName: item, baseColumnNames: owner_id, referencedTableName: owner, referencedColumnNames: id,
               constraintName: fk_item_owner}
        """,
        expect_no_foreign_keys,
    ),
    Case(
        "addUniqueConstraint",
        """
        changes:
          - addUniqueConstraint: {tableName: item, columnNames: 'label, qty', constraintName: uq_item_label_qty}
        """,
        expect_add_unique,
    ),
    Case(
        "dropUniqueConstraint",
        """
        changes:
          - createTable:
              tableName: code_book
              columns:
                - column: {name: id, type: int, constraints: {primaryKey: true}}
                - column: {name: code, type: varchar(10), constraints: {unique: true, uniqueConstraintName: uq_code}}
          - dropUniqueConstraint: {tableName: code_book, constraintName: uq_code}
        rollback:
          - dropTable: {tableName: code_book}
        """,
        expect_drop_unique,
    ),
    Case(
        "addCheckConstraint",
        """
        changes:
          - addCheckConstraint: {tableName: item, constraintName: ck_item_qty, constraintBody: qty > 0}
        """,
        expect_add_check,
    ),
    Case(
        "dropCheckConstraint",
        """
        changes:
          - createTable:
              tableName: gauge
              columns:
                - column: {name: id, type: int, constraints: {primaryKey: true}}
                - column: {name: level, type: int}
          - addCheckConstraint: {tableName: gauge, constraintName: ck_gauge_level, constraintBody: level >= 0}
          - dropCheckConstraint: {tableName: gauge, constraintName: ck_gauge_level}
        rollback:
          - dropTable: {tableName: gauge}
        """,
        expect_drop_check,
    ),
]


def expect_awkward_names(before: Schema, after: Schema) -> None:
    t = after["Odd Table"]
    assert t["primary_key"] == ("Key Col",)
    assert t["columns"]["Some Col"] == {"type": "str(20)", "nullable": False}
    assert t["unique"] == [("Some Col", "Other")]
    assert t["checks"] == ["Ck Odd"]
    assert t["foreign_keys"] == [(("Other",), "owner", ("id",))]
    assert set(t["defaults"]) == {"Some Col"}


# Names that need quoting everywhere; the changeSet rolls back by its inverses alone, in reverse order.
AWKWARD_NAMES = Case(
    "awkward-names-auto-rollback",
    """
    changes:
      - createTable:
          tableName: Odd Table
          columns:
            - column: {name: Key Col, type: int, constraints: {nullable: false}}
            - column: {name: Some Col, type: varchar(20)}
            - column: {name: Other, type: int}
      - addDefaultValue: {tableName: Odd Table, columnName: Some Col, columnDataType: varchar(20), defaultValue: "it's"}
      - addNotNullConstraint:
          {tableName: Odd Table, columnName: Some Col, columnDataType: varchar(20), defaultNullValue: "x"}
      - addPrimaryKey: {tableName: Odd Table, columnNames: Key Col, constraintName: Pk Odd}
      - addUniqueConstraint: {tableName: Odd Table, columnNames: 'Some Col, Other', constraintName: Uq Odd}
      - addCheckConstraint: {tableName: Odd Table, constraintName: Ck Odd, constraintBody: '"Key Col" > 0'}
      - addForeignKeyConstraint:
          {baseTableName: Odd Table, baseColumnNames: Other, referencedTableName: owner, referencedColumnNames: id,
           constraintName: Fk Odd, onDelete: SET NULL}
    """,
    expect_awkward_names,
)


def expect_label_type(before: Schema, after: Schema) -> None:
    assert after["item"]["columns"]["label"]["type"] == "str(100)"


def expect_no_default(before: Schema, after: Schema) -> None:
    assert after["item"]["defaults"] == {}


def expect_no_primary_key(before: Schema, after: Schema) -> None:
    assert after["item"]["primary_key"] == ()


def expect_no_unique(before: Schema, after: Schema) -> None:
    assert after["item"]["unique"] == []


def expect_no_check(before: Schema, after: Schema) -> None:
    assert after["item"]["checks"] == []


# Beyond Liquibase: no rollback block; the destroyed structure is captured before the change runs and restored.
CAPTURED = [
    Case(
        "modifyDataType",
        "changes: [{modifyDataType: {tableName: item, columnName: label, newDataType: varchar(100)}}]",
        expect_label_type,
    ),
    Case(
        "dropDefaultValue",
        """
        changes:
          - addDefaultValue: {tableName: item, columnName: label, columnDataType: varchar(20), defaultValue: "it's"}
          - dropDefaultValue: {tableName: item, columnName: label, columnDataType: varchar(20)}
        """,
        expect_no_default,
    ),
    Case("dropPrimaryKey", "changes: [{dropPrimaryKey: {tableName: item}}]", expect_no_primary_key),
    Case(
        "dropForeignKeyConstraint",
        "changes: [{dropForeignKeyConstraint: {baseTableName: item, constraintName: fk_item_owner}}]",
        expect_no_foreign_keys,
    ),
    Case(
        "dropAllForeignKeyConstraints",
        "changes: [{dropAllForeignKeyConstraints: {baseTableName: item}}]",
        expect_no_foreign_keys,
    ),
    Case(
        "dropUniqueConstraint",
        """
        changes:
          - addUniqueConstraint: {tableName: item, columnNames: 'label, qty', constraintName: uq_item_label_qty}
          - dropUniqueConstraint: {tableName: item, constraintName: uq_item_label_qty}
        """,
        expect_no_unique,
    ),
    Case(
        "dropCheckConstraint",
        """
        changes:
          - addCheckConstraint: {tableName: item, constraintName: ck_item_qty, constraintBody: qty > 0}
          - dropCheckConstraint: {tableName: item, constraintName: ck_item_qty}
        """,
        expect_no_check,
    ),
]


@pytest.mark.parametrize("case", CAPTURED, ids=[c.id for c in CAPTURED])
def test_round_trip_by_captured_rollback(
    case: Case, db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if case.id == "dropPrimaryKey" and sa.make_url(db_url).get_backend_name() == "sqlite":
        # Known: SQLite's unnamed key comes back named pk_item (Alembic's batch recreation adds only named
        # constraints), so the columns are restored but not the missing name. Seen once the rollback was compared
        # on the one schema model, which compares key names; it fails loudly once fixed.
        request.applymarker(pytest.mark.xfail(strict=True, reason="SQLite: an unnamed primary key comes back named"))
    round_trip(case, db_url, tmp_path)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_round_trip(case: Case, db_url: str, tmp_path: Path) -> None:
    round_trip(case, db_url, tmp_path)


def test_awkward_names(db_url: str, tmp_path: Path) -> None:
    case = AWKWARD_NAMES
    if sa.make_url(db_url).get_backend_name() in ("mysql", "mariadb"):  # MySQL quotes names with backticks
        case = ModelCase(case.id, case.changeset.replace("'\"Key Col\" > 0'", "'`Key Col` > 0'"), case.expect)
    round_trip(case, db_url, tmp_path)


def test_modify_data_type_changes_only_the_type(db_url: str, tmp_path: Path) -> None:
    changelog = _changelog(
        tmp_path,
        """
        - changeSet:
            id: not-null-with-default
            author: test
            changes:
              - addDefaultValue: {tableName: item, columnName: label, columnDataType: varchar(20), defaultValue: "n/a"}
              - addNotNullConstraint: {tableName: item, columnName: label, columnDataType: varchar(20)}
        - changeSet:
            id: wider
            author: test
            changes:
              - modifyDataType: {tableName: item, columnName: label, newDataType: varchar(50)}
        """,
    )
    commands.update(db_url, changelog)
    item = schema_of(db_url)["item"]
    assert item["columns"]["label"] == {"type": "str(50)", "nullable": False}
    assert "n/a" in item["defaults"]["label"]


def _changelog(folder: Path, changesets: str) -> Path:
    text = "databaseChangeLog:\n" + textwrap.indent(textwrap.dedent(SETUP).strip(), "  ") + "\n"
    text += textwrap.indent(textwrap.dedent(changesets).strip(), "  ") + "\n"
    path = folder / "changelog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_add_not_null_fills_the_nulls_with_a_bound_value(db_url: str, tmp_path: Path) -> None:
    changelog = _changelog(
        tmp_path,
        """
        - changeSet:
            id: make-a-null
            author: test
            changes:
              - sql: UPDATE item SET label = NULL WHERE id = 11
        - changeSet:
            id: not-null
            author: test
            changes:
              - addNotNullConstraint:
                  tableName: item
                  columnName: label
                  columnDataType: varchar(20)
                  defaultNullValue: "it's'; --"
        """,
    )
    commands.update(db_url, changelog)
    assert [(r[0], r[2]) for r in rows_of(db_url, "item")] == [(10, "x"), (11, "it's'; --")]
    assert schema_of(db_url)["item"]["columns"]["label"]["nullable"] is False
    assert commands.history(db_url)[-1].description == "addNotNullConstraint columnName=label, tableName=item"


def test_drop_all_foreign_keys_drops_several(db_url: str, tmp_path: Path) -> None:
    changelog = _changelog(
        tmp_path,
        """
        - changeSet:
            id: second-key
            author: test
            changes:
              - sql: UPDATE item SET qty = owner_id
              - addForeignKeyConstraint:
                  {baseTableName: item, baseColumnNames: qty, referencedTableName: owner, referencedColumnNames: id,
                   constraintName: fk_item_qty, onDelete: CASCADE}
        - changeSet:
            id: drop-all
            author: test
            changes:
              - dropAllForeignKeyConstraints: {baseTableName: item}
        """,
    )
    commands.update(db_url, changelog, to_tag="before")
    commands.update(db_url, changelog)
    after = schema_of(db_url)
    assert after["item"]["foreign_keys"] == []
    with commands.connect(db_url) as connection:  # the rows survived, and owner can now lose its rows
        connection.execute(sa.text("DELETE FROM owner"))
        connection.commit()
    assert len(rows_of(db_url, "item")) == 2


@pytest.fixture(params=["postgresql", "mariadb"])
def sequence_url(request: pytest.FixtureRequest) -> str:
    """The backends with sequences and with a start for generated keys."""
    return str(request.getfixturevalue(f"{request.param}_url"))


def test_auto_increment_starts_where_asked(sequence_url: str, tmp_path: Path) -> None:
    changelog = _changelog(
        tmp_path,
        """
        - changeSet:
            id: counter
            author: test
            changes:
              - createTable:
                  tableName: counter
                  columns:
                    - column: {name: id, type: bigint, constraints: {primaryKey: true}}
                    - column: {name: label, type: varchar(10)}
              - addAutoIncrement: {tableName: counter, columnName: id, columnDataType: bigint, startWith: 100}
              - sql: INSERT INTO counter (label) VALUES ('a'), ('b')
        """,
    )
    commands.update(sequence_url, changelog)
    assert rows_of(sequence_url, "counter") == [(100, "a"), (101, "b")]


def test_default_from_a_sequence(sequence_url: str, tmp_path: Path) -> None:
    case = Case(
        "addDefaultValue-sequence",
        """
        changes:
          - sql: CREATE SEQUENCE seq_qty START WITH 40
          - addDefaultValue: {tableName: item, columnName: qty, defaultValueSequenceNext: seq_qty}
          - sql: INSERT INTO item (id, owner_id, label) VALUES (12, 1, 'z')
        rollback:
          - sql: DELETE FROM item WHERE id = 12
          - dropDefaultValue: {tableName: item, columnName: qty}
          - sql: DROP SEQUENCE seq_qty
        """,
        lambda before, after: None,
    )
    round_trip(case, sequence_url, tmp_path)
    commands.update(sequence_url, tmp_path / "changelog.yaml")
    assert rows_of(sequence_url, "item")[-1][-1] == 40  # the default drew from the sequence
    if sa.make_url(sequence_url).get_backend_name() == "postgresql":  # SQLAlchemy does not reflect MariaDB's
        assert "seq_qty" in schema_of(sequence_url)["item"]["defaults"]["qty"]
