"""Preconditions as read from a changelog: the model, located errors, the schema, and the checksum."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from yamlbase.changelog import parse_changelog
from yamlbase.changelog import preconditions as pc
from yamlbase.errors import ChangeLogError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # locations are shown relative to the working folder


def write(tmp_path: Path, text: str, name: str = "changelog.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ChangeLogError) as caught:
        parse_changelog(write(tmp_path, text))
    return [str(p) for p in caught.value.problems]


# Liquibase's documentation sample ("Sample With Preconditions"), written in YAML.
DOCS_SAMPLE = """
databaseChangeLog:
  - preConditions:
      - dbms:
          type: oracle
      - runningAs:
          username: SYSTEM
  - changeSet:
      id: 1
      author: bob
      preConditions:
        - onFail: WARN
        - sqlCheck:
            expectedResult: 0
            sql: select count(*) from oldtable
      comment: Comments should go after preCondition. If they are before then liquibase usually gives error.
      changes:
        - dropTable:
            tableName: oldtable
"""


def test_the_documentation_sample(tmp_path: Path) -> None:
    model = parse_changelog(write(tmp_path, DOCS_SAMPLE))
    (block,) = model.preconditions
    assert [item.describe() for item in block.items] == ["dbms type=oracle", "runningAs username=SYSTEM"]
    assert (block.on_fail, block.on_error, block.on_sql_output) == ("HALT", "HALT", "IGNORE")
    assert str(block.location) == "changelog.yaml:2:5"
    cs_block = model.changesets[0].preconditions
    assert cs_block is not None
    assert cs_block.on_fail == "WARN"
    (leaf,) = cs_block.items
    assert isinstance(leaf, pc.Leaf)
    assert leaf.check == pc.SqlCheckPrecondition(expectedResult="0", sql="select count(*) from oldtable")
    assert str(leaf.location) == "changelog.yaml:12:11"


def test_nested_and_or_not(tmp_path: Path) -> None:
    model = parse_changelog(
        write(
            tmp_path,
            """
            databaseChangeLog:
              - changeSet:
                  id: 1
                  author: bob
                  preConditions:
                    - onFail: MARK_RAN
                    - or:
                        - and:
                            - dbms:
                                type: oracle
                            - runningAs:
                                username: SYSTEM
                        - and:
                            - dbms:
                                type: mssql
                            - runningAs:
                                username: sa
                    - not:
                        - tableExists:
                            tableName: person
                        - columnExists:
                            tableName: person
                            columnName: age
            """,
        )
    )
    block = model.changesets[0].preconditions
    assert block is not None and block.on_fail == "MARK_RAN"
    either, neither = block.items
    assert isinstance(either, pc.Group) and either.kind == "or"
    assert [g.kind for g in either.items if isinstance(g, pc.Group)] == ["and", "and"]
    assert either.describe() == (
        "or(and(dbms type=oracle; runningAs username=SYSTEM); and(dbms type=mssql; runningAs username=sa))"
    )
    assert isinstance(neither, pc.Group) and neither.kind == "not"
    assert [i.describe() for i in neither.items] == [
        "tableExists tableName=person",
        "columnExists tableName=person, columnName=age",
    ]


def test_liquibase_shapes_lists_of_attributes_and_a_mapping_block(tmp_path: Path) -> None:
    """Liquibase also reads a check's attributes as a list of one-key mappings, and a block as one mapping;
    option values may be written in lower case."""
    model = parse_changelog(
        write(
            tmp_path,
            """
            databaseChangeLog:
              - changeSet:
                  id: 1
                  author: yaml-author
                  preConditions:
                    - onFail: warn
                    - onError: continue
                    - not:
                        - tableExists:
                            - tableName: LB_person
              - changeSet:
                  id: 2
                  author: bob
                  preConditions:
                    onFail: MARK_RAN
                    onFailMessage: already there
                    tableExists:
                      tableName: person
            """,
        )
    )
    first, second = (cs.preconditions for cs in model.changesets)
    assert first is not None and (first.on_fail, first.on_error) == ("WARN", "CONTINUE")
    (negation,) = first.items
    assert isinstance(negation, pc.Group)
    assert negation.items[0].describe() == "tableExists tableName=LB_person"
    assert second is not None and second.on_fail == "MARK_RAN"
    assert second.options.on_fail_message == "already there"
    assert [i.describe() for i in second.items] == ["tableExists tableName=person"]


def test_every_check_type_parses(tmp_path: Path) -> None:
    body = {
        "tableExists": {"tableName": "t", "schemaName": "s"},
        "columnExists": {"tableName": "t", "columnName": "c"},
        "viewExists": {"viewName": "v"},
        "indexExists": {"tableName": "t", "columnNames": "a, b"},
        "sequenceExists": {"sequenceName": "seq"},
        "primaryKeyExists": {"primaryKeyName": "pk_t"},
        "foreignKeyConstraintExists": {"foreignKeyName": "fk", "foreignKeyTableName": "t"},
        "uniqueConstraintExists": {"tableName": "t", "columnNames": "a"},
        "sqlCheck": {"expectedResult": 1, "sql": "select 1"},
        "dbms": {"type": "postgresql, sqlite"},
        "runningAs": {"username": "app"},
        "changeSetExecuted": {"id": 7, "author": "bob", "changeLogFile": "db/changelog.yaml"},
        "changeLogPropertyDefined": {"property": "env", "value": "prod"},
        "rowCount": {"tableName": "t", "expectedRows": 3},
        "tableIsEmpty": {"tableName": "t"},
    }
    assert set(body) == set(pc.CHECKS)
    doc = {
        "databaseChangeLog": [
            {"changeSet": {"id": 1, "author": "a", "preConditions": [{k: v} for k, v in body.items()]}}
        ]
    }
    path = tmp_path / "changelog.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    block = parse_changelog(path).changesets[0].preconditions
    assert block is not None
    checks = [item.check for item in block.items if isinstance(item, pc.Leaf)]
    assert [c.name for c in checks] == list(body)
    by_name = {c.name: c for c in checks}
    assert by_name["sqlCheck"].expected_result == "1"  # type: ignore[attr-defined]
    assert by_name["changeSetExecuted"].id == "7"  # type: ignore[attr-defined]
    assert by_name["rowCount"].expected_rows == 3  # type: ignore[attr-defined]


def test_unknown_precondition_is_located_with_a_suggestion(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
        databaseChangeLog:
          - preConditions:
              - dbmss:
                  type: sqlite
          - changeSet:
              id: 1
              author: bob
              preConditions:
                - onFail: HALT
                - or:
                    - tableExist:
                        tableName: x
                    - columnsExists:
                        tableName: x
                        columnName: y
              changes:
                - sql: select 1
        """,
    )
    assert found == [
        'changelog.yaml:3:9: unknown precondition "dbmss" (did you mean "dbms"?)',
        'changelog.yaml:11:15: unknown precondition "tableExist" (did you mean "tableExists"?)',
        'changelog.yaml:13:15: unknown precondition "columnsExists" (did you mean "columnExists"?)',
    ]


def test_bad_attributes_and_options_are_located(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
        databaseChangeLog:
          - changeSet:
              id: 1
              author: bob
              preConditions:
                - onFail: SKIP
                - onSqlOutput: RUN
                - tableExists:
                    tablename: x
                    tableName: x
                - rowCount:
                    tableName: t
                    expectedRows: many
        """,
    )
    assert found == [
        'changelog.yaml:6:19: "onFail" must be one of HALT, CONTINUE, MARK_RAN, WARN, not SKIP',
        'changelog.yaml:7:24: "onSqlOutput" must be one of IGNORE, TEST, FAIL, not RUN',
        'changelog.yaml:9:13: tableExists: unknown attribute "tablename" (did you mean "tableName"?)',
        'changelog.yaml:13:27: "expectedRows" must be an integer, not string',
    ]


def test_alternatives_the_schema_cannot_state_are_checked_by_the_model(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
        databaseChangeLog:
          - changeSet:
              id: 1
              author: bob
              preConditions:
                - indexExists:
                    tableName: person
                - primaryKeyExists:
                    schemaName: public
                - uniqueConstraintExists:
                    tableName: person
        """,
    )
    assert found == [
        "changelog.yaml:6:11: indexExists: indexName or (tableName and columnNames) is required",
        "changelog.yaml:8:11: primaryKeyExists: primaryKeyName or tableName is required",
        "changelog.yaml:10:11: uniqueConstraintExists: constraintName or columnNames is required",
    ]


def test_preconditions_are_not_part_of_the_checksum(tmp_path: Path) -> None:
    """As in Liquibase (CHECKSUM.md): adding, changing or removing preConditions keeps MD5SUM."""
    plain = textwrap.dedent(
        """
        databaseChangeLog:
          - changeSet:
              id: 1
              author: bob
              changes:
                - createTable:
                    tableName: person
                    columns:
                      - column: {name: id, type: int}
        """
    )
    guarded = plain.replace(
        "      changes:\n",
        "      preConditions:\n"
        "        - onFail: MARK_RAN\n"
        "        - not:\n"
        "            - tableExists:\n"
        "                tableName: person\n"
        "      changes:\n",
    )
    assert guarded != plain
    before = parse_changelog(write(tmp_path, plain, "a.yaml")).changesets[0]
    after = parse_changelog(write(tmp_path, guarded, "b.yaml")).changesets[0]
    assert after.preconditions is not None and before.preconditions is None
    assert after.checksum == before.checksum == "9:d616c98d9b718f1bc983f329a7f1fea8"


def test_the_published_schema_describes_every_check() -> None:
    schema = json.loads((ROOT / "schemas" / "changelog.schema.json").read_text(encoding="utf-8"))
    defs = schema["$defs"]
    assert set(defs["precondition"]["properties"]) == {*pc.CHECKS, "and", "or", "not"}
    assert defs["changeSet"]["properties"]["preConditions"] == {"$ref": "#/$defs/preConditions"}
    assert defs["entry"]["properties"]["preConditions"] == {"$ref": "#/$defs/preConditions"}
    for cls in pc.CHECKS.values():
        mapping = defs[cls.__name__]
        assert mapping["description"], cls.name
        assert all(prop.get("description") for prop in mapping["properties"].values()), cls.name
    block_item = defs["preConditions"]["anyOf"][0]["items"]["properties"]
    assert set(pc.OPTION_NAMES) <= set(block_item)
    assert set(pc.OPTION_NAMES) == {"onFail", "onError", "onFailMessage", "onErrorMessage", "onSqlOutput"}
