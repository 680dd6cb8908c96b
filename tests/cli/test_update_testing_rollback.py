"""``update-testing-rollback``: each pending changeSet is applied, rolled back, compared with the schema before it
and applied again; a rollback that leaves another schema fails the run, naming the changeSet and the difference."""

from __future__ import annotations

from pathlib import Path

import pytest

import yamlbase
from tests.cli.conftest import DbView, Run, Write
from yamlbase import commands
from yamlbase.errors import RollbackMismatchError

DEFAULT_URL = "sqlite:///yamlbase.db"

PERSON = """
databaseChangeLog:
  - changeSet:
      id: person
      author: ann
      changes:
        - createTable:
            tableName: person
            columns:
              - column: {name: id, type: int, constraints: {primaryKey: true}}
              - column: {name: name, type: varchar(50), defaultValue: nobody, constraints: {nullable: false}}
              - column: {name: nickname, type: varchar(20)}
        - createIndex: {tableName: person, indexName: ix_person_nickname, columns: [{column: {name: nickname}}]}
"""

# Drops with no rollback block: undone from what was captured before they ran.
GOOD = (
    PERSON
    + """
  - changeSet:
      id: slim-down
      author: ann
      changes:
        - dropIndex: {tableName: person, indexName: ix_person_nickname}
        - dropColumn: {tableName: person, columnName: nickname}
  - changeSet:
      id: scratch
      author: ann
      changes:
        - createTable: {tableName: scratch, columns: [{column: {name: id, type: int}}]}
        - dropTable: {tableName: scratch}
"""
)

# The hand-written rollback forgets the column the changeSet adds.
WRONG = (
    PERSON
    + """
  - changeSet:
      id: add-email
      author: carol
      changes:
        - addColumn: {tableName: person, columns: [{column: {name: email, type: varchar(100)}}]}
        - createIndex: {tableName: person, indexName: ix_person_email, columns: [{column: {name: email}}]}
      rollback:
        - dropIndex: {tableName: person, indexName: ix_person_email}
  - changeSet:
      id: never-reached
      author: carol
      changes:
        - createTable: {tableName: later, columns: [{column: {name: id, type: int}}]}
"""
)


def test_passes_on_the_example_changelog(run: Run, example: Path, example_ids: list[str], db: DbView) -> None:
    result = run("update-testing-rollback")
    assert result.exit_code == 0, result.output
    assert f"{len(example_ids)} changeSets applied to {DEFAULT_URL}, each rolled back" in result.output
    view = db(DEFAULT_URL)
    assert view.history_ids() == example_ids
    assert view.tables() == ["accounts", "issues", "projects"]


def test_passes_on_drops_undone_from_their_capture(run: Run, write: Write, db: DbView) -> None:
    write("changelog/changelog.yaml", GOOD)
    result = run("update-testing-rollback", "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"changelog/changelog.yaml::scratch::ann"' in result.output
    view = db(DEFAULT_URL)
    assert view.history_ids() == [
        "changelog/changelog.yaml::person::ann",
        "changelog/changelog.yaml::slim-down::ann",
        "changelog/changelog.yaml::scratch::ann",
    ]
    assert view.columns("person") == ["id", "name"]
    assert run("status").output.startswith("0 changeSets pending")


def test_fails_naming_the_changeset_whose_rollback_is_wrong(run: Run, write: Write, db: DbView) -> None:
    write("changelog/changelog.yaml", WRONG)
    result = run("update-testing-rollback")
    assert result.exit_code == 1
    assert "changeSet changelog/changelog.yaml::add-email::carol (" in result.stderr
    assert "after its rollback the schema is not what it was before it" in result.stderr
    # Exactly the difference: the column stayed; the index the rollback did drop is not mentioned.
    difference = result.stderr.split("before it:\n", 1)[1].split("The changeSet is left rolled back", 1)[0]
    assert difference == "  add_column person.email: Column(name='email', type='VARCHAR(100)')\n"
    assert "Traceback" not in result.output
    view = db(DEFAULT_URL)
    # The good changeSet stays applied; the wrong one is left rolled back; nothing after it ran.
    assert view.history_ids() == ["changelog/changelog.yaml::person::ann"]
    assert "later" not in view.tables()


def test_a_changeset_without_rollback_stops_the_run_applied(run: Run, write: Write, db: DbView) -> None:
    write(
        "changelog/changelog.yaml",
        PERSON + "  - changeSet: {id: seed, author: ann, changes: [{sql: DELETE FROM person}]}\n",
    )
    result = run("update-testing-rollback")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: changeSet changelog/changelog.yaml::seed::ann was applied and has no rollback; cannot roll back; nothing was "
        "changed:\n  changelog/changelog.yaml::seed::ann (changelog/changelog.yaml:13:16): sql cannot be rolled back"
    )
    assert db(DEFAULT_URL).history_ids() == [
        "changelog/changelog.yaml::person::ann",
        "changelog/changelog.yaml::seed::ann",
    ]


def test_the_python_api_raises_on_every_backend(db_url: str, tmp_path: Path) -> None:
    changelog = tmp_path / "changelog.yaml"
    changelog.write_text(WRONG, encoding="utf-8")
    with pytest.raises(RollbackMismatchError, match="add-email::carol"):
        yamlbase.update_testing_rollback(db_url, str(changelog))
    changelog.write_text(GOOD, encoding="utf-8")
    done = yamlbase.update_testing_rollback(db_url, str(changelog))
    assert [cs.id for cs in done] == ["slim-down", "scratch"]


def test_a_view_left_behind_by_a_wrong_rollback_is_named(sqlite_url: str, tmp_path: Path) -> None:
    """Views are compared too, not only tables."""
    changelog = tmp_path / "views.yaml"
    changelog.write_text(
        "databaseChangeLog:\n"
        "  - changeSet:\n"
        "      id: v\n"
        "      author: a\n"
        "      changes:\n"
        "        - createView: {viewName: v_one, selectQuery: select 1 as one}\n"
        "      rollback: select 1\n"
    )
    with pytest.raises(
        RollbackMismatchError, match=r"changeSet views.yaml::v::a .*\n  add_view v_one: View\(name='v_one'"
    ):
        commands.update_testing_rollback(sqlite_url, changelog)


@pytest.mark.backend
def test_a_routine_or_a_changed_sequence_left_by_a_wrong_rollback_is_named(postgresql_url: str, tmp_path: Path) -> None:
    routine = tmp_path / "routine.yaml"
    routine.write_text(
        "databaseChangeLog:\n"
        "  - changeSet:\n"
        "      id: proc\n"
        "      author: a\n"
        "      changes:\n"
        "        - createProcedure:\n"
        "            procedureName: p_one\n"
        "            procedureText: CREATE PROCEDURE p_one() LANGUAGE sql AS $$ SELECT 1 $$\n"
        "      rollback: select 1\n"
    )
    with pytest.raises(RollbackMismatchError) as info:
        commands.update_testing_rollback(postgresql_url, routine)
    message = str(info.value)
    assert "changeSet routine.yaml::proc::a (" in message
    assert "\n  add_routine p_one: Routine(name='p_one', kind='PROCEDURE')\n" in message

    sequence = tmp_path / "sequence.yaml"
    sequence.write_text(
        "databaseChangeLog:\n"
        "  - changeSet:\n"
        "      id: seq\n"
        "      author: a\n"
        "      changes:\n"
        "        - createSequence: {sequenceName: s_one, startValue: 5}\n"
        "  - changeSet:\n"
        "      id: faster\n"
        "      author: a\n"
        "      changes:\n"
        "        - alterSequence: {sequenceName: s_one, incrementBy: 3}\n"
        "      rollback:\n"
        "        - alterSequence: {sequenceName: s_one, incrementBy: 2}\n"
    )
    with pytest.raises(RollbackMismatchError) as info:
        commands.update_testing_rollback(postgresql_url, sequence)
    message = str(info.value)
    assert "changeSet sequence.yaml::faster::a (" in message
    assert "\n  alter_sequence s_one (increment): increment was 1, is 2\n" in message
