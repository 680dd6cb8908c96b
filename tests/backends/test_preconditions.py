"""Preconditions on real databases: every check passing and failing, each onFail / onError mode, nested
and/or/not, changelog-level blocks, and what update-sql makes of them."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from yamlbase import commands
from yamlbase.changelog import parse_changelog
from yamlbase.changelog.preconditions import CHECKS
from yamlbase.errors import PreconditionError
from yamlbase.runtime.preconditions import Probe, evaluate
from yamlbase.structure.reflect import BOOKKEEPING


def _setup(url: str) -> None:
    """person (pk_person, uq_person_email, ix_person_name, 2 rows), orders (fk_orders_person), notes (no
    primary key, empty), view person_names, and sequence seq_orders where the database has sequences."""
    meta = sa.MetaData()
    person = sa.Table(
        "person",
        meta,
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("name", sa.String(50)),
        sa.Column("email", sa.String(100)),
        sa.PrimaryKeyConstraint("id", name="pk_person"),
        sa.UniqueConstraint("email", name="uq_person_email"),
    )
    sa.Index("ix_person_name", person.c.name)
    sa.Table(
        "orders",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("person_id", sa.Integer),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name="fk_orders_person"),
    )
    sa.Table("notes", meta, sa.Column("body", sa.String(50)))
    engine = commands.create_engine(url)
    try:
        with engine.begin() as connection:
            meta.create_all(connection)
            connection.execute(
                person.insert(), [{"id": 1, "name": "a", "email": "a@x"}, {"id": 2, "name": "b", "email": "b@x"}]
            )
            connection.exec_driver_sql("CREATE VIEW person_names AS SELECT name FROM person")
            if connection.dialect.name != "sqlite":
                connection.exec_driver_sql("CREATE SEQUENCE seq_orders")
    finally:
        engine.dispose()


def _cases(dialect: str, user: str | None) -> list[tuple[str, list[dict[str, Any]], str]]:
    """(name, preConditions, expected status) on ``dialect``."""
    has_sequences = dialect != "sqlite"
    names_pk_primary = dialect in ("mysql", "mariadb")
    cases: list[tuple[str, list[dict[str, Any]], str]] = [
        ("tableExists", [{"tableExists": {"tableName": "person"}}], "passed"),
        ("tableExists-folded-case", [{"tableExists": {"tableName": "PERSON"}}], "passed"),
        ("tableExists-missing", [{"tableExists": {"tableName": "nope"}}], "failed"),
        ("columnExists", [{"columnExists": {"tableName": "person", "columnName": "email"}}], "passed"),
        ("columnExists-missing", [{"columnExists": {"tableName": "person", "columnName": "age"}}], "failed"),
        ("columnExists-no-table", [{"columnExists": {"tableName": "nope", "columnName": "id"}}], "failed"),
        ("viewExists", [{"viewExists": {"viewName": "person_names"}}], "passed"),
        ("viewExists-a-table", [{"viewExists": {"viewName": "person"}}], "failed"),
        ("indexExists-by-name", [{"indexExists": {"indexName": "ix_person_name"}}], "passed"),
        ("indexExists-on-columns", [{"indexExists": {"tableName": "person", "columnNames": "name"}}], "passed"),
        (
            "indexExists-name-and-table",
            [{"indexExists": {"indexName": "ix_person_name", "tableName": "person"}}],
            "passed",
        ),
        ("indexExists-missing", [{"indexExists": {"indexName": "ix_nope"}}], "failed"),
        ("indexExists-other-columns", [{"indexExists": {"tableName": "person", "columnNames": "id, name"}}], "failed"),
        (
            "sequenceExists",
            [{"sequenceExists": {"sequenceName": "seq_orders"}}],
            "passed" if has_sequences else "failed",
        ),
        ("sequenceExists-missing", [{"sequenceExists": {"sequenceName": "seq_nope"}}], "failed"),
        ("primaryKeyExists-on-table", [{"primaryKeyExists": {"tableName": "person"}}], "passed"),
        (
            "primaryKeyExists-name-on-table",
            [{"primaryKeyExists": {"primaryKeyName": "pk_person", "tableName": "person"}}],
            "passed",
        ),
        (
            "primaryKeyExists-by-name",
            [{"primaryKeyExists": {"primaryKeyName": "pk_person"}}],
            "failed" if names_pk_primary else "passed",
        ),
        ("primaryKeyExists-none", [{"primaryKeyExists": {"tableName": "notes"}}], "failed"),
        ("primaryKeyExists-no-table", [{"primaryKeyExists": {"tableName": "nope"}}], "failed"),
        (
            "foreignKeyConstraintExists",
            [{"foreignKeyConstraintExists": {"foreignKeyName": "fk_orders_person"}}],
            "passed",
        ),
        (
            "foreignKeyConstraintExists-on-table",
            [{"foreignKeyConstraintExists": {"foreignKeyName": "fk_orders_person", "foreignKeyTableName": "orders"}}],
            "passed",
        ),
        (
            "foreignKeyConstraintExists-other-table",
            [{"foreignKeyConstraintExists": {"foreignKeyName": "fk_orders_person", "foreignKeyTableName": "person"}}],
            "failed",
        ),
        ("foreignKeyConstraintExists-missing", [{"foreignKeyConstraintExists": {"foreignKeyName": "fk_no"}}], "failed"),
        (
            "uniqueConstraintExists-by-name",
            [{"uniqueConstraintExists": {"tableName": "person", "constraintName": "uq_person_email"}}],
            "passed",
        ),
        (
            "uniqueConstraintExists-on-columns",
            [{"uniqueConstraintExists": {"tableName": "person", "columnNames": "email"}}],
            "passed",
        ),
        (
            "uniqueConstraintExists-other-columns",
            [{"uniqueConstraintExists": {"tableName": "person", "columnNames": "name"}}],
            "failed",
        ),
        ("sqlCheck", [{"sqlCheck": {"expectedResult": 2, "sql": "select count(*) from person;"}}], "passed"),
        ("sqlCheck-text", [{"sqlCheck": {"expectedResult": "b", "sql": "select max(name) from person"}}], "passed"),
        ("sqlCheck-other-value", [{"sqlCheck": {"expectedResult": 0, "sql": "select count(*) from person"}}], "failed"),
        (
            "sqlCheck-no-row",
            [{"sqlCheck": {"expectedResult": 0, "sql": "select id from person where id < 0"}}],
            "failed",
        ),
        ("sqlCheck-bad-sql", [{"sqlCheck": {"expectedResult": 0, "sql": "select count(*) from nope"}}], "error"),
        ("sqlCheck-two-rows", [{"sqlCheck": {"expectedResult": 1, "sql": "select id from person"}}], "error"),
        ("dbms", [{"dbms": {"type": f"oracle, {dialect}"}}], "passed"),
        ("dbms-other", [{"dbms": {"type": "oracle"}}], "failed"),
        ("dbms-excluded", [{"dbms": {"type": f"!{dialect}"}}], "failed"),
        ("runningAs-other", [{"runningAs": {"username": "nobody_here"}}], "failed"),
        (
            "changeSetExecuted",
            [{"changeSetExecuted": {"id": "1", "author": "bob", "changeLogFile": "db/main.yaml"}}],
            "passed",
        ),
        (
            "changeSetExecuted-classpath",
            [{"changeSetExecuted": {"id": "1", "author": "bob", "changeLogFile": "classpath:db/main.yaml"}}],
            "passed",
        ),
        (
            "changeSetExecuted-not",
            [{"changeSetExecuted": {"id": "2", "author": "bob", "changeLogFile": "db/main.yaml"}}],
            "failed",
        ),
        ("changeLogPropertyDefined", [{"changeLogPropertyDefined": {"property": "env"}}], "passed"),
        (
            "changeLogPropertyDefined-value",
            [{"changeLogPropertyDefined": {"property": "env", "value": "prod"}}],
            "passed",
        ),
        (
            "changeLogPropertyDefined-other-value",
            [{"changeLogPropertyDefined": {"property": "env", "value": "dev"}}],
            "failed",
        ),
        ("changeLogPropertyDefined-undefined", [{"changeLogPropertyDefined": {"property": "region"}}], "failed"),
        ("rowCount", [{"rowCount": {"tableName": "person", "expectedRows": 2}}], "passed"),
        ("rowCount-other", [{"rowCount": {"tableName": "person", "expectedRows": 3}}], "failed"),
        ("rowCount-no-table", [{"rowCount": {"tableName": "nope", "expectedRows": 0}}], "error"),
        ("tableIsEmpty", [{"tableIsEmpty": {"tableName": "notes"}}], "passed"),
        ("tableIsEmpty-not", [{"tableIsEmpty": {"tableName": "person"}}], "failed"),
        # Logic: an implicit AND, and/or/not nested, errors ending the evaluation.
        (
            "implicit-and",
            [{"tableExists": {"tableName": "person"}}, {"tableExists": {"tableName": "nope"}}],
            "failed",
        ),
        (
            "or",
            [{"or": [{"tableExists": {"tableName": "nope"}}, {"tableExists": {"tableName": "person"}}]}],
            "passed",
        ),
        (
            "or-none",
            [{"or": [{"tableExists": {"tableName": "nope"}}, {"dbms": {"type": "oracle"}}]}],
            "failed",
        ),
        ("not", [{"not": [{"tableExists": {"tableName": "nope"}}]}], "passed"),
        ("empty-and", [{"and": []}], "passed"),
        ("empty-or", [{"or": []}], "failed"),
        ("empty-not", [{"not": []}], "passed"),
        (
            "not-any-passes",
            [{"not": [{"tableExists": {"tableName": "nope"}}, {"tableExists": {"tableName": "person"}}]}],
            "failed",
        ),
        (
            "and-in-or",
            [
                {
                    "or": [
                        {"and": [{"dbms": {"type": "oracle"}}, {"runningAs": {"username": "SYSTEM"}}]},
                        {"and": [{"dbms": {"type": dialect}}, {"tableIsEmpty": {"tableName": "notes"}}]},
                    ]
                }
            ],
            "passed",
        ),
        (
            "not-of-error",
            [{"not": [{"sqlCheck": {"expectedResult": 0, "sql": "select count(*) from nope"}}]}],
            "error",
        ),
    ]
    if user:
        cases.append(("runningAs", [{"runningAs": {"username": user.upper()}}], "passed"))
    return cases


def test_each_check_passes_and_fails(db_url: str, tmp_path: Path) -> None:
    _setup(db_url)
    dialect = commands.create_engine(db_url).dialect.name
    cases = _cases(dialect, sa.make_url(db_url).username)
    covered = {key for _, items, _ in cases for item in items for key in item}
    assert set(CHECKS) <= covered | {"runningAs"}
    doc = {
        "databaseChangeLog": [
            {"changeSet": {"id": name, "author": "t", "preConditions": items}} for name, items, _ in cases
        ]
    }
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    model = parse_changelog(path)
    wrong: list[str] = []
    with commands.connect(db_url) as connection:
        for cs, (name, _, expected) in zip(model.changesets, cases, strict=True):
            assert cs.preconditions is not None
            probe = Probe(
                dialect,
                connection,
                {"env": "prod"}.get,
                lambda path, id_, author: (path, id_, author) == ("db/main.yaml", "1", "bob"),
            )
            outcome = evaluate(cs.preconditions.items, probe)
            if outcome.status != expected:
                wrong.append(f"{name}: {outcome.status} ({outcome.message}), expected {expected}")
            elif expected != "passed":
                assert outcome.reasons and all(outcome.reasons), name
            # Evaluation leaves no transaction behind (PostgreSQL would refuse the next statement after an error).
            assert not connection.in_transaction(), name
    assert wrong == []


def test_failure_messages_say_what_and_where(sqlite_url: str, tmp_path: Path) -> None:
    _setup(sqlite_url)
    path = tmp_path / "c.yaml"
    path.write_text(
        textwrap.dedent(
            """
            databaseChangeLog:
              - changeSet:
                  id: 1
                  author: t
                  preConditions:
                    - columnExists:
                        tableName: person
                        columnName: age
                    - rowCount:
                        tableName: person
                        expectedRows: 5
                    - not:
                        - viewExists:
                            viewName: person_names
            """
        ),
        encoding="utf-8",
    )
    block = parse_changelog(path).changesets[0].preconditions
    assert block is not None
    with commands.connect(sqlite_url) as connection:
        outcome = evaluate(block.items, Probe("sqlite", connection))
    where = path.name
    assert outcome.status == "failed"
    assert [r.replace(str(path), where) for r in outcome.reasons] == [
        f'column "age" does not exist in table "person" (columnExists at {where}:7:11)',
        f'table "person" has 2 rows, expected 5 (rowCount at {where}:10:11)',
        f"not: viewExists viewName=person_names passed (not at {where}:13:11)",
    ]


# --- through update: what onFail / onError do ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def changelog(tmp_path: Path, text: str, name: str = "changelog.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def history(url: str) -> list[tuple[str, str]]:
    return [(row.id, row.exec_type) for row in commands.history(url)]


def tables(url: str) -> set[str]:
    engine = commands.create_engine(url)
    try:
        with engine.connect() as connection:
            return {t for t in sa.inspect(connection).get_table_names() if not BOOKKEEPING.fullmatch(t)}
    finally:
        engine.dispose()


def guarded(on: str, mode: str, check: str) -> str:
    """Three changeSets; the second guarded by ``check`` (YAML, indented for the list) with ``on: mode``."""
    return f"""
        databaseChangeLog:
          - changeSet:
              id: 1
              author: bob
              changes:
                - createTable:
                    tableName: first
                    columns:
                      - column: {{name: id, type: int}}
          - changeSet:
              id: 2
              author: bob
              preConditions:
                - {on}: {mode}
{textwrap.indent(textwrap.dedent(check).strip(), " " * 16)}
              changes:
                - createTable:
                    tableName: second
                    columns:
                      - column: {{name: id, type: int}}
          - changeSet:
              id: 3
              author: bob
              changes:
                - createTable:
                    tableName: third
                    columns:
                      - column: {{name: id, type: int}}
        """


MISSING = """
- tableExists:
    tableName: nope
"""
BAD_SQL = """
- sqlCheck:
    expectedResult: 0
    sql: select count(*) from no_such_table
"""


def test_on_fail_halt_stops_the_update(db_url: str, tmp_path: Path) -> None:
    path = changelog(tmp_path, guarded("onFail", "HALT", MISSING))
    with pytest.raises(PreconditionError) as caught:
        commands.update(db_url, path)
    assert caught.value.exit_code == 1
    message = str(caught.value)
    assert message.startswith("changeSet changelog.yaml::2::bob: preconditions failed (onFail HALT): ")
    assert 'table "nope" does not exist (tableExists at changelog.yaml:15:11)' in message
    assert history(db_url) == [("1", "EXECUTED")]
    assert tables(db_url) == {"first"}


def test_halt_is_the_default(sqlite_url: str, tmp_path: Path) -> None:
    text = guarded("onFailMessage", "the table must be there first", MISSING)
    with pytest.raises(PreconditionError, match='the table must be there first: table "nope" does not exist'):
        commands.update(sqlite_url, changelog(tmp_path, text))
    assert history(sqlite_url) == [("1", "EXECUTED")]


def test_on_fail_continue_skips_and_retries_next_time(db_url: str, tmp_path: Path) -> None:
    path = changelog(tmp_path, guarded("onFail", "CONTINUE", MISSING))
    applied = commands.update(db_url, path)
    assert [cs.id for cs in applied] == ["1", "3"]
    assert history(db_url) == [("1", "EXECUTED"), ("3", "EXECUTED")]
    assert [cs.id for cs in commands.status(db_url, path)] == ["2"]
    assert tables(db_url) == {"first", "third"}
    with commands.connect(db_url) as connection, connection.begin():
        connection.exec_driver_sql("CREATE TABLE nope (id INT)")
    assert [cs.id for cs in commands.update(db_url, path)] == ["2"]
    assert history(db_url) == [("1", "EXECUTED"), ("3", "EXECUTED"), ("2", "EXECUTED")]


def test_on_fail_mark_ran_records_without_running(db_url: str, tmp_path: Path) -> None:
    path = changelog(tmp_path, guarded("onFail", "MARK_RAN", MISSING))
    applied = commands.update(db_url, path)
    assert [cs.id for cs in applied] == ["1", "3"]
    assert history(db_url) == [("1", "EXECUTED"), ("2", "MARK_RAN"), ("3", "EXECUTED")]
    assert tables(db_url) == {"first", "third"}
    (row,) = [r for r in commands.history(db_url) if r.id == "2"]
    assert row.md5sum == parse_changelog(path).changesets[1].checksum
    assert commands.status(db_url, path) == []


def test_on_fail_warn_runs_anyway(db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = changelog(tmp_path, guarded("onFail", "WARN", MISSING))
    with caplog.at_level(logging.WARNING, logger="yamlbase"):
        applied = commands.update(db_url, path)
    assert [cs.id for cs in applied] == ["1", "2", "3"]
    assert history(db_url) == [("1", "EXECUTED"), ("2", "EXECUTED"), ("3", "EXECUTED")]
    assert tables(db_url) == {"first", "second", "third"}
    assert [r.getMessage() for r in caplog.records if "::2::" in r.getMessage()] == [
        'changeSet changelog.yaml::2::bob: preconditions failed: table "nope" does not exist '
        "(tableExists at changelog.yaml:15:11); running it anyway (WARN)"
    ]


def test_passing_preconditions_run_the_changeset(db_url: str, tmp_path: Path) -> None:
    check = """
    - tableExists:
        tableName: first
    - changeSetExecuted:
        id: 1
        author: bob
        changeLogFile: changelog.yaml
    """
    commands.update(db_url, changelog(tmp_path, guarded("onFail", "HALT", check)))
    assert history(db_url) == [("1", "EXECUTED"), ("2", "EXECUTED"), ("3", "EXECUTED")]


@pytest.mark.parametrize(
    ("mode", "rows", "made"),
    [
        ("CONTINUE", [("1", "EXECUTED"), ("3", "EXECUTED")], {"first", "third"}),
        ("MARK_RAN", [("1", "EXECUTED"), ("2", "MARK_RAN"), ("3", "EXECUTED")], {"first", "third"}),
        ("WARN", [("1", "EXECUTED"), ("2", "EXECUTED"), ("3", "EXECUTED")], {"first", "second", "third"}),
    ],
)
def test_on_error(db_url: str, tmp_path: Path, mode: str, rows: list[tuple[str, str]], made: set[str]) -> None:
    """A check that cannot be evaluated (its SQL fails) follows onError; the run goes on cleanly after it,
    also on PostgreSQL, where the failed query spoilt the transaction it ran in."""
    commands.update(db_url, changelog(tmp_path, guarded("onError", mode, BAD_SQL)))
    assert history(db_url) == rows
    assert tables(db_url) == made


def test_on_error_halt(db_url: str, tmp_path: Path) -> None:
    text = guarded("onError", "HALT", BAD_SQL).replace("- onError: HALT", "- onFail: CONTINUE")
    with pytest.raises(PreconditionError) as caught:
        commands.update(db_url, changelog(tmp_path, text))
    message = str(caught.value)
    assert message.startswith("changeSet changelog.yaml::2::bob: preconditions could not be checked (onError HALT): ")
    assert "sqlCheck at changelog.yaml:15:11: " in message
    assert history(db_url) == [("1", "EXECUTED")]


def test_nested_logic_from_the_documentation(db_url: str, tmp_path: Path) -> None:
    """Liquibase's example: Oracle as SYSTEM or SQL Server as sa; here neither, so MARK_RAN."""
    check = """
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
    """
    commands.update(db_url, changelog(tmp_path, guarded("onFail", "MARK_RAN", check)))
    assert history(db_url) == [("1", "EXECUTED"), ("2", "MARK_RAN"), ("3", "EXECUTED")]


def test_guard_against_an_existing_table(db_url: str, tmp_path: Path) -> None:
    """The common idiom: create a table unless it is there already, and record the changeSet either way."""
    text = """
        databaseChangeLog:
          - changeSet:
              id: 1
              author: yaml-author
              preConditions:
                - onFail: MARK_RAN
                - not:
                    - tableExists:
                        - tableName: LB_person
              changes:
                - createTable:
                    tableName: LB_person
                    columns:
                      - column: {name: id, type: int}
        """
    with commands.connect(db_url) as connection, connection.begin():
        connection.exec_driver_sql("CREATE TABLE lb_person (id INT)")
    commands.update(db_url, changelog(tmp_path, text))
    assert history(db_url) == [("1", "MARK_RAN")]


# --- changelog-level preconditions ---------------------------------------------------------------------


def test_changelog_preconditions_halt_before_anything_runs(db_url: str, tmp_path: Path) -> None:
    text = """
        databaseChangeLog:
          - preConditions:
              - dbms:
                  type: oracle
              - runningAs:
                  username: SYSTEM
          - changeSet:
              id: 1
              author: bob
              changes:
                - createTable:
                    tableName: first
                    columns:
                      - column: {name: id, type: int}
        """
    with pytest.raises(PreconditionError) as caught:
        commands.update(db_url, changelog(tmp_path, text))
    message = str(caught.value)
    assert message.startswith("changelog changelog.yaml: preconditions failed (onFail HALT): the database is ")
    assert "(runningAs at changelog.yaml:5:9)" in message
    assert history(db_url) == []
    assert tables(db_url) == set()


@pytest.mark.parametrize("mode", ["CONTINUE", "MARK_RAN"])
def test_changelog_preconditions_only_halt_or_warn(sqlite_url: str, tmp_path: Path, mode: str) -> None:
    """Liquibase: outside a changeSet only HALT and WARN apply; anything else halts."""
    text = f"""
        databaseChangeLog:
          - preConditions:
              - onFail: {mode}
              - tableExists:
                  tableName: nope
          - changeSet:
              id: 1
              author: bob
              changes:
                - sql: select 1
        """
    with pytest.raises(PreconditionError, match=f"onFail {mode}"):
        commands.update(sqlite_url, changelog(tmp_path, text))
    assert history(sqlite_url) == []


def test_changelog_preconditions_warn_and_in_included_files(db_url: str, tmp_path: Path) -> None:
    changelog(
        tmp_path,
        """
        databaseChangeLog:
          - preConditions:
              - onFail: WARN
              - dbms:
                  type: oracle
          - changeSet:
              id: 2
              author: bob
              changes:
                - sql: select 1
        """,
        "child.yaml",
    )
    text = """
        databaseChangeLog:
          - preConditions:
              - onFail: WARN
              - tableExists:
                  tableName: nope
          - changeSet:
              id: 1
              author: bob
              changes:
                - sql: select 1
          - include:
              file: child.yaml
        """
    path = changelog(tmp_path, text)
    assert len(parse_changelog(path).preconditions) == 2
    commands.update(db_url, path)
    assert history(db_url) == [("1", "EXECUTED"), ("2", "EXECUTED")]


def test_changelog_preconditions_in_an_included_file_halt(sqlite_url: str, tmp_path: Path) -> None:
    changelog(
        tmp_path,
        """
        databaseChangeLog:
          - preConditions:
              - tableExists:
                  tableName: nope
        """,
        "child.yaml",
    )
    text = """
        databaseChangeLog:
          - changeSet:
              id: 1
              author: bob
              changes:
                - sql: select 1
          - include:
              file: child.yaml
        """
    with pytest.raises(PreconditionError, match=r"^changelog child\.yaml: preconditions failed"):
        commands.update(sqlite_url, changelog(tmp_path, text))
    assert history(sqlite_url) == []


# --- update-sql --------------------------------------------------------------------------------------------


def test_update_sql_shows_ignored_preconditions_as_comments(tmp_path: Path) -> None:
    """onSqlOutput IGNORE (the default): the checks are listed as comments and the changeSet is rendered."""
    text = guarded("onFail", "MARK_RAN", MISSING)
    sql = commands.update_sql(None, changelog(tmp_path, text), dialect="postgresql")
    assert (
        "-- Changeset changelog.yaml::2::bob\n\n"
        "-- Preconditions not checked in update-sql (onSqlOutput IGNORE; onFail MARK_RAN, onError HALT):\n"
        "--   tableExists tableName=nope\n\n"
        "CREATE TABLE second (\n"
    ) in sql
    assert "'2', 'bob', 'changelog.yaml', CURRENT_TIMESTAMP, 2, 'EXECUTED'" in sql


def test_update_sql_on_sql_output_fail(tmp_path: Path) -> None:
    """onSqlOutput FAIL: the preconditions count as failed, and onFail decides."""
    text = guarded("onFail", "MARK_RAN", "- onSqlOutput: FAIL\n" + MISSING)
    sql = commands.update_sql(None, changelog(tmp_path, text), dialect="postgresql")
    assert "CREATE TABLE second" not in sql
    assert "-- changeSet changelog.yaml::2::bob: preconditions failed: preconditions cannot be checked in " in sql
    assert "'2', 'bob', 'changelog.yaml', CURRENT_TIMESTAMP, 2, 'MARK_RAN'" in sql
    halting = text.replace("onFail: MARK_RAN", "onFail: HALT")
    with pytest.raises(PreconditionError, match="onSqlOutput FAIL"):
        commands.update_sql(None, changelog(tmp_path, halting), dialect="postgresql")


def test_update_sql_on_sql_output_test(sqlite_url: str, tmp_path: Path) -> None:
    """onSqlOutput TEST: checked against the database at --url (never written); without one, an error."""
    _setup(sqlite_url)
    check = "- onSqlOutput: TEST\n- tableExists:\n    tableName: person\n"
    passing = changelog(tmp_path, guarded("onFail", "CONTINUE", check), "passing.yaml")
    sql = commands.update_sql(sqlite_url, passing)
    assert "-- Preconditions passed (onSqlOutput TEST)\n\nCREATE TABLE second" in sql
    failing = changelog(tmp_path, guarded("onFail", "CONTINUE", check.replace("person", "nope")), "failing.yaml")
    sql = commands.update_sql(sqlite_url, failing)
    assert "CREATE TABLE second" not in sql
    assert "skipped, it stays pending (CONTINUE)" in sql
    assert "'2', 'bob'" not in sql
    assert history(sqlite_url) == []  # update-sql wrote nothing
    with pytest.raises(PreconditionError, match="no database to check against"):
        commands.update_sql(None, passing, dialect="sqlite")


def test_documentation_sample_warn_runs_the_drop(db_url: str, tmp_path: Path) -> None:
    """Liquibase's sample: onFail WARN on ``select count(*) from oldtable`` = 0. WARN only warns, so the table
    is dropped although it has rows (Liquibase does the same: liquibase/liquibase#1578)."""
    dialect = commands.create_engine(db_url).dialect.name
    with commands.connect(db_url) as connection, connection.begin():
        connection.exec_driver_sql("CREATE TABLE oldtable (id INT)")
        connection.exec_driver_sql("INSERT INTO oldtable VALUES (1)")
    text = f"""
        databaseChangeLog:
          - preConditions:
              - dbms:
                  type: {dialect}
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
    commands.update(db_url, changelog(tmp_path, text))
    assert history(db_url) == [("1", "EXECUTED")]
    assert tables(db_url) == set()


def test_cli_exit_code_and_messages(sqlite_url: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from yamlbase.cli import main

    warned = changelog(tmp_path, guarded("onFail", "WARN", MISSING), "warned.yaml")
    result = CliRunner().invoke(main, ["update", "--url", sqlite_url, "--changelog-file", str(warned)])
    assert result.exit_code == 0, result.output
    assert 'warning: changeSet warned.yaml::2::bob: preconditions failed: table "nope" does not exist' in result.stderr
    halted = changelog(tmp_path, guarded("onFail", "HALT", MISSING), "halted.yaml")
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = CliRunner().invoke(main, ["update", "--url", fresh, "--changelog-file", str(halted)])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        'error: changeSet halted.yaml::2::bob: preconditions failed (onFail HALT): table "nope" does not exist'
    )
    assert "Traceback" not in result.output + result.stderr


def test_change_log_property_defined(sqlite_url: str, tmp_path: Path) -> None:
    """changeLogPropertyDefined sees what ${...} sees: property entries of the file, -D / properties=, the
    environment; a property that is not global is seen only in its own file."""
    changelog(
        tmp_path,
        """
        databaseChangeLog:
          - property: {name: local_only, value: x, global: false}
          - changeSet:
              id: child
              author: bob
              preConditions:
                - onFail: CONTINUE
                - changeLogPropertyDefined: {property: local_only, value: x}
              changes:
                - sql: select 1
        """,
        "child.yaml",
    )
    text = """
        databaseChangeLog:
          - property: {name: region, value: eu}
          - changeSet:
              id: 1
              author: bob
              preConditions:
                - onFail: CONTINUE
                - changeLogPropertyDefined: {property: REGION, value: eu}
                - changeLogPropertyDefined: {property: deploy_env}
              changes:
                - sql: select 1
          - changeSet:
              id: 2
              author: bob
              preConditions:
                - onFail: CONTINUE
                - changeLogPropertyDefined: {property: local_only}
              changes:
                - sql: select 1
          - changeSet:
              id: 3
              author: bob
              preConditions:
                - onFail: CONTINUE
                - changeLogPropertyDefined: {property: region, value: us}
              changes:
                - sql: select 1
          - include:
              file: child.yaml
        """
    path = changelog(tmp_path, text)
    commands.update(sqlite_url, path)
    assert history(sqlite_url) == [("child", "EXECUTED")]  # deploy_env undefined; local_only not visible here
    applied = commands.update(sqlite_url, path, properties={"deploy_env": "prod"})
    assert [cs.id for cs in applied] == ["1"]
    assert history(sqlite_url) == [("child", "EXECUTED"), ("1", "EXECUTED")]


def test_mark_ran_on_a_changeset_that_runs_again(db_url: str, tmp_path: Path) -> None:
    """runAlways with MARK_RAN: the one history row is updated, never duplicated."""
    text = """
        databaseChangeLog:
          - changeSet:
              id: 1
              author: bob
              runAlways: true
              preConditions:
                - onFail: MARK_RAN
                - tableExists:
                    tableName: flag
              changes:
                - sql: select 1
        """
    path = changelog(tmp_path, text)
    commands.update(db_url, path)
    commands.update(db_url, path)
    assert history(db_url) == [("1", "MARK_RAN")]
    with commands.connect(db_url) as connection, connection.begin():
        connection.exec_driver_sql("CREATE TABLE flag (id INT)")
    assert [cs.id for cs in commands.update(db_url, path)] == ["1"]
    assert history(db_url) == [("1", "RERAN")]
