"""Generation of changeSets from differences, with no database: order, renames, destructive labels, rollbacks,
determinism, and YAML that ``validate`` accepts."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.generation_cases import V1, V1_TO_V2, V2, from_nothing
from yamlbase import commands
from yamlbase.dialects.types import liquibase_type
from yamlbase.structure.generate import changesets, default_attributes, destructive, to_yaml
from yamlbase.structure.model import Column, Difference, Enum, ForeignKey, Schema, Table

NOW = dt.datetime(2024, 5, 6, 7, 8, 9)
EMPTY = Schema("sqlite")


def generate(differences: list[Difference], old: Schema = EMPTY, new: Schema = V1, **kw: Any) -> list[dict[str, Any]]:
    return changesets(differences, old=old, new=new, author="tester", message=kw.pop("message", None), now=NOW, **kw)


def flat(entries: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(changeSet id, change name, attributes) of every change, in order."""
    return [
        (e["changeSet"]["id"], name, attrs)
        for e in entries
        for item in e["changeSet"]["changes"]
        for name, attrs in item.items()
    ]


def position(entries: list[dict[str, Any]], name: str, **match: Any) -> int:
    found = [i for i, (_, n, a) in enumerate(flat(entries)) if n == name and match.items() <= a.items()]
    assert len(found) == 1, (name, match, found)
    return found[0]


def valid(entries: list[dict[str, Any]], tmp_path: Path) -> Any:
    path = tmp_path / "generated.yaml"
    path.write_text(to_yaml(entries), encoding="utf-8")
    return commands.validate(path)


def test_ids_author_message_and_yaml_that_validates(tmp_path: Path) -> None:
    entries = generate(from_nothing(V1), message="first version")

    ids = [e["changeSet"]["id"] for e in entries]
    assert ids == [f"20240506070809-{n}" for n in range(1, len(entries) + 1)]
    assert {e["changeSet"]["author"] for e in entries} == {"tester"}
    assert {e["changeSet"]["comment"] for e in entries} == {"first version"}
    model = valid(entries, tmp_path)
    assert [cs.id for cs in model.changesets] == ids
    # one new table per changeSet, its keys and indexes with it
    assert [sorted(n for _, n, _ in flat([e])) for e in entries] == [
        ["createTable"],  # authors
        ["addCheckConstraint", "createIndex", "createTable"],  # books
        ["createTable"],  # shelves
        ["createTable"],  # places
        ["createView"],
    ]
    assert generate(from_nothing(V1), first=7)[0]["changeSet"]["id"] == "20240506070809-7"


def test_the_same_inputs_give_the_same_bytes_in_any_order() -> None:
    text = to_yaml(generate(V1_TO_V2, V1, V2))
    for seed in range(5):
        shuffled = list(V1_TO_V2)
        random.Random(seed).shuffle(shuffled)
        assert to_yaml(generate(shuffled, V1, V2)) == text
    assert text.startswith("databaseChangeLog:\n  - changeSet:\n      id: 20240506070809-1\n")


def test_new_tables_come_before_the_keys_that_reference_them() -> None:
    entries = generate(from_nothing(V1))
    creates = [a["tableName"] for _, n, a in flat(entries) if n == "createTable"]
    assert creates.index("authors") < creates.index("books") and creates.index("shelves") < creates.index("places")
    books = next(a for _, n, a in flat(entries) if n == "createTable" and a["tableName"] == "books")
    author_id = next(c["column"] for c in books["columns"] if c["column"]["name"] == "author_id")
    assert author_id["constraints"] == {
        "nullable": False,
        "referencedTableName": "authors",
        "referencedColumnNames": "id",
        "foreignKeyName": "fk_books_author",
    }


def test_a_cycle_of_new_tables_closes_after_both_exist() -> None:
    entries = generate(V1_TO_V2, V1, V2)
    eggs, hens = position(entries, "createTable", tableName="eggs"), position(entries, "createTable", tableName="hens")
    assert eggs < hens  # by name where free
    closing = position(entries, "addForeignKeyConstraint", constraintName="fk_eggs_hen")
    assert closing > hens
    assert flat(entries)[closing][2]["onDelete"] == "SET NULL"
    # hens' key to eggs is in hens' createTable: eggs already exists
    hens_table = flat(entries)[hens][2]
    assert hens_table["columns"][1]["column"]["constraints"]["foreignKeyName"] == "fk_hens_first_egg"


def test_evolution_order_drops_before_what_they_depend_on_columns_before_indexes() -> None:
    entries = generate(V1_TO_V2, V1, V2)
    at = lambda name, **kw: position(entries, name, **kw)  # noqa: E731
    assert at("dropView", viewName="cheap_books") < at("dropColumn", columnName="legacy")
    assert at("dropForeignKeyConstraint", constraintName="fk_places_shelf") < at("dropTable", tableName="shelves")
    assert at("renameTable", oldTableName="authors") < at("addColumn", tableName="books")
    assert at("addColumn", tableName="books") < at("createIndex", indexName="ix_books_isbn")
    assert at("createTable", tableName="reviews") > at("dropTable", tableName="shelves")
    assert at("createView", viewName="cheap_books") > at("addColumn", tableName="books")  # the view uses isbn
    assert flat(entries)[at("renameTable", oldTableName="authors")][2] == {
        "oldTableName": "authors",
        "newTableName": "writers",
    }


def test_destructive_changes_are_alone_labelled_and_said() -> None:
    entries = generate(V1_TO_V2, V1, V2, message="v2")
    labelled = [e["changeSet"] for e in entries if e["changeSet"].get("labels") == "destructive"]
    assert destructive(entries) == [cs["id"] for cs in labelled]
    assert sorted(next(iter(cs["changes"][0])) for cs in labelled) == ["dropColumn", "dropTable"]
    assert all(len(cs["changes"]) == 1 for cs in labelled)
    comments = sorted(cs["comment"] for cs in labelled)
    assert comments == [
        "v2; DESTRUCTIVE: drops column books.legacy and the data in it",
        "v2; DESTRUCTIVE: drops table shelves and every row in it",
    ]
    # the altered view is dropped (its rollback: the old query) and created again; neither is destructive
    drop = next(e["changeSet"] for e in entries if "dropView" in e["changeSet"]["changes"][0])
    assert "labels" not in drop
    assert drop["rollback"][0]["createView"]["selectQuery"] == "SELECT id, title FROM books WHERE price < 10"


def test_a_narrowed_type_is_destructive_and_rolls_back_to_the_old_type() -> None:
    old = Column("code", "VARCHAR(20)", nullable=True, default="'x'", comment="the code")
    new = Column("code", "VARCHAR(5)", nullable=False, default="'y'", comment="short code")
    table = Table("items", columns=(new,))
    d = Difference("alter_column", "items", old=old, new=new, changed=("type", "nullable", "default", "comment"),
                   destructive=True)  # fmt: skip
    entries = generate([d], Schema("sqlite", tables={"items": Table("items", columns=(old,))}),
                       Schema("sqlite", tables={"items": table}))  # fmt: skip
    first, second = (e["changeSet"] for e in entries)
    assert first["labels"] == "destructive" and "narrows the type of items.code" in first["comment"]
    assert first["changes"] == [
        {"modifyDataType": {"tableName": "items", "columnName": "code", "newDataType": "varchar(5)"}}
    ]
    assert first["rollback"] == [
        {"modifyDataType": {"tableName": "items", "columnName": "code", "newDataType": "varchar(20)"}}
    ]
    assert [next(iter(c)) for c in second["changes"]] == ["addNotNullConstraint", "addDefaultValue", "setColumnRemarks"]
    assert [next(iter(c)) for c in second["rollback"]] == [
        "setColumnRemarks",
        "addDefaultValue",
        "dropNotNullConstraint",
    ]
    assert second["rollback"][1]["addDefaultValue"]["defaultValue"] == "x"
    assert "labels" not in second


def test_renamed_column_and_a_suggested_rename() -> None:
    old, new = Column("nick", "VARCHAR(20)"), Column("handle", "VARCHAR(20)")
    table = Table("users", columns=(Column("id", "INTEGER"), new))
    rename = Difference("rename_column", "users", old=old, new=new)
    guess = Difference("drop_column", "users", old=Column("age", "INTEGER"), destructive=True,
                       note="looks like a rename of age to years; give a hint to keep the rows")  # fmt: skip
    entries = generate([rename, guess], new=Schema("sqlite", tables={"users": table}))
    assert entries[0]["changeSet"]["changes"] == [
        {
            "renameColumn": {
                "tableName": "users",
                "oldColumnName": "nick",
                "newColumnName": "handle",
                "columnDataType": "varchar(20)",
            }
        }
    ]
    assert entries[1]["changeSet"]["comment"].endswith("give a hint to keep the rows")


def test_postgresql_enums_are_sql_with_rollbacks() -> None:
    old_enum, new_enum = Enum("mood", ("sad", "happy")), Enum("mood", ("sad", "ok", "happy"))
    people = Table("people", columns=(Column("id", "INTEGER"), Column("mood", "mood", default="'sad'::mood")))
    old = Schema("postgresql", tables={"people": people}, enums={"mood": old_enum})
    new = Schema("postgresql", tables={"people": people}, enums={"mood": new_enum, "size": Enum("size", ("s", "l"))})
    entries = generate(
        [Difference("add_enum_value", "mood", old=None, new="ok"), Difference("add_enum", None, new=new.enums["size"])],
        old,
        new,
    )
    sql = [(e["changeSet"]["changes"][0]["sql"], e["changeSet"]["rollback"][0]["sql"]) for e in entries]
    assert sql[0] == (
        {"sql": "ALTER TYPE mood ADD VALUE 'ok' BEFORE 'happy'", "dbms": "postgresql"},
        {
            "sql": "ALTER TYPE mood RENAME TO mood_old;\nCREATE TYPE mood AS ENUM ('sad', 'happy');\n"
            "ALTER TABLE people ALTER COLUMN mood DROP DEFAULT;\n"
            "ALTER TABLE people ALTER COLUMN mood TYPE mood USING mood::text::mood;\n"
            "ALTER TABLE people ALTER COLUMN mood SET DEFAULT 'sad';\nDROP TYPE mood_old",
            "dbms": "postgresql",
        },
    )
    assert sql[1] == (
        {"sql": "CREATE TYPE size AS ENUM ('s', 'l')", "dbms": "postgresql"},
        {"sql": "DROP TYPE size", "dbms": "postgresql"},
    )


def test_postgresql_serial_keys_stay_serial() -> None:
    table = Table("t", columns=(Column("id", "INTEGER", nullable=False, default="nextval('t_id_seq'::regclass)",
                                       autoincrement=True),))  # fmt: skip
    entries = generate([Difference("add_table", "t", new=table)], Schema("postgresql"), Schema("postgresql"))
    column = entries[0]["changeSet"]["changes"][0]["createTable"]["columns"][0]["column"]
    assert column == {"name": "id", "type": "serial", "constraints": {"nullable": False}}


@pytest.mark.parametrize(
    ("default", "type_", "expected"),
    [
        ("'active'::character varying", "varchar(20)", {"defaultValue": "active"}),
        ("'it''s'", "varchar(20)", {"defaultValue": "it's"}),
        ("0", "int", {"defaultValueNumeric": 0}),
        ("(-1)", "int", {"defaultValueNumeric": -1}),
        ("1.50", "decimal(10,2)", {"defaultValueNumeric": "1.50"}),
        ("1", "boolean", {"defaultValueBoolean": True}),
        ("false", "boolean", {"defaultValueBoolean": False}),
        ("CURRENT_TIMESTAMP", "datetime", {"defaultValueComputed": "CURRENT_TIMESTAMP"}),
        ("nextval('seq_a'::regclass)", "bigint", {"defaultValueSequenceNext": "seq_a"}),
        ("(datetime('now'))", "datetime", {"defaultValueComputed": "(datetime('now'))"}),
    ],
)
def test_defaults_as_liquibase_attributes(default: str, type_: str, expected: dict[str, Any]) -> None:
    assert default_attributes(default, type_) == expected


@pytest.mark.parametrize(
    ("dialect", "reported", "expected"),
    [
        ("sqlite", "VARCHAR(50)", "varchar(50)"),
        ("sqlite", "INTEGER", "int"),
        ("sqlite", "DATETIME", "datetime"),
        ("postgresql", "TIMESTAMP WITHOUT TIME ZONE", "datetime"),
        ("postgresql", "TIMESTAMP(3) WITH TIME ZONE", "timestamp with time zone(3)"),
        ("postgresql", "NUMERIC(10, 2)", "decimal(10,2)"),
        ("postgresql", "DOUBLE PRECISION", "double"),
        ("postgresql", "BYTEA", "blob"),
        ("postgresql", "INET", "INET"),
        ("postgresql", "mood", "mood"),
        ("mariadb", "INTEGER(11)", "int"),
        ("mariadb", "TINYINT(1)", "boolean"),
        ("mariadb", "MEDIUMINT(9)", "MEDIUMINT(9)"),
        ("mysql", "LONGTEXT", "clob"),
        ("mysql", "TIMESTAMP", "timestamp"),
        ("mysql", "ENUM('a','b')", "ENUM('a','b')"),
    ],
)
def test_reported_types_back_to_liquibase_names(dialect: str, reported: str, expected: str) -> None:
    assert liquibase_type(reported, dialect) == expected


def test_an_unnamed_foreign_key_to_drop_is_left_out_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    d = Difference("drop_foreign_key", "t", old=ForeignKey(("a",), "u", ("id",)))
    with caplog.at_level("WARNING", logger="yamlbase"):
        assert generate([d], new=Schema("sqlite", tables={"t": Table("t")})) == []
    assert "unnamed foreign key cannot be dropped" in caplog.text


def test_yaml_literal_blocks_and_appending(tmp_path: Path) -> None:
    view = Difference("add_view", None, new=V1.views["cheap_books"].__class__("v", "SELECT 1\nFROM books"))
    entries = generate([view])
    text = to_yaml(entries)
    assert "selectQuery: |-\n" in text
    assert yaml.safe_load(text) == {"databaseChangeLog": entries}
    items = to_yaml(entries, document=False)
    assert items.startswith("  - changeSet:") and "databaseChangeLog" not in items
