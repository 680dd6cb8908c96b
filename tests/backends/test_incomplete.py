"""A changeSet that fails part-way where DDL commits as it runs (MariaDB): the next update does not re-run it
blindly; it stops, says what took effect, and a person chooses how to go on."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from yamlbase import commands
from yamlbase.dialects import capabilities
from yamlbase.errors import IncompleteChangeSetError, MigrationError
from yamlbase.structure.reflect import BOOKKEEPING

CHANGELOG = """
databaseChangeLog:
  - changeSet:
      id: first
      author: t
      changes:
        - createTable: {tableName: first_table, columns: [{column: {name: id, type: int}}]}
  - changeSet:
      id: two-steps
      author: t
      changes:
        - createTable: {tableName: half_done, columns: [{column: {name: id, type: int}}]}
        - addColumn: {tableName: prerequisite, columns: [{column: {name: extra, type: int}}]}
  - changeSet:
      id: last
      author: t
      changes:
        - createTable: {tableName: last_table, columns: [{column: {name: id, type: int}}]}
"""


def tables(url: str) -> set[str]:
    with commands.connect(url) as connection:
        return {t.lower() for t in sa.inspect(connection).get_table_names() if not BOOKKEEPING.fullmatch(t)}


def execute(url: str, sql: str) -> None:
    with commands.connect(url) as connection:
        connection.exec_driver_sql(sql)
        connection.commit()


@pytest.fixture
def failed(db_url: str, tmp_path: Path) -> Path:
    changelog = tmp_path / "changelog.yaml"
    changelog.write_text(CHANGELOG, encoding="utf-8")
    with pytest.raises(MigrationError):
        commands.update(db_url, changelog)
    return changelog


def _transactional(url: str) -> bool:
    return capabilities(sa.make_url(url).get_backend_name()).transactional_ddl


def test_the_next_update_stops_and_says_what_took_effect(db_url: str, failed: Path) -> None:
    if _transactional(db_url):  # nothing took effect: the next update simply tries the changeSet again
        assert tables(db_url) == {"first_table"}
        with pytest.raises(MigrationError):
            commands.update(db_url, failed)
        return
    assert tables(db_url) == {"first_table", "half_done"}
    with pytest.raises(IncompleteChangeSetError) as stop:
        commands.update(db_url, failed)
    message = str(stop.value)
    assert "changeSet changelog.yaml::two-steps::t stopped part-way" in message
    assert "CREATE TABLE half_done" in message
    assert "clear-incomplete" in message and "mark-next-changeset-ran" in message
    assert tables(db_url) == {"first_table", "half_done"}, "nothing may run while the changeSet is incomplete"
    assert [r.id for r in commands.history(db_url)] == ["first"]


def test_undo_by_hand_then_clear_incomplete_runs_the_whole_changeset_again(db_url: str, failed: Path) -> None:
    if not _transactional(db_url):
        execute(db_url, "DROP TABLE half_done")
        assert commands.clear_incomplete(db_url) == ["changelog.yaml::two-steps::t"]
    execute(db_url, "CREATE TABLE prerequisite (id INT)")
    applied = commands.update(db_url, failed)
    assert [cs.id for cs in applied] == ["two-steps", "last"]
    assert tables(db_url) == {"first_table", "half_done", "prerequisite", "last_table"}
    assert commands.clear_incomplete(db_url) == []


def test_finish_by_hand_then_mark_next_changeset_ran(db_url: str, failed: Path) -> None:
    if _transactional(db_url):
        execute(db_url, "CREATE TABLE half_done (id INT)")
    execute(db_url, "CREATE TABLE prerequisite (id INT, extra INT)")
    marked = commands.mark_next_changeset_ran(db_url, failed)
    assert marked is not None and marked.id == "two-steps"
    assert [cs.id for cs in commands.update(db_url, failed)] == ["last"]
    rows = commands.history(db_url)
    assert [(r.id, r.exec_type) for r in rows] == [
        ("first", "EXECUTED"),
        ("two-steps", "MARK_RAN"),
        ("last", "EXECUTED"),
    ]


def test_the_commands_from_the_command_line(sqlite_url: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from yamlbase.cli import main

    changelog = tmp_path / "changelog.yaml"
    changelog.write_text(CHANGELOG, encoding="utf-8")
    runner = CliRunner()
    common = ["--url", sqlite_url, "--changelog-file", str(changelog)]
    assert runner.invoke(main, ["update", *common]).exit_code == 1
    assert runner.invoke(main, ["clear-incomplete", *common]).output == "nothing was incomplete\n"
    marked = runner.invoke(main, ["mark-next-changeset-ran", *common])
    assert (marked.exit_code, marked.output) == (0, "marked changelog.yaml::two-steps::t as run\n")
    assert runner.invoke(main, ["update", *common]).exit_code == 0
    assert runner.invoke(main, ["mark-next-changeset-ran", *common]).output == "nothing is pending\n"


LOAD = """
databaseChangeLog:
  - changeSet:
      id: table
      author: t
      changes:
        - createTable: {tableName: items, columns: [{column: {name: id, type: int}}, {column: {name: name, type: varchar(20)}}]}
  - changeSet:
      id: load
      author: t
      changes:
        - loadData: {tableName: items, file: items.csv, relativeToChangelogFile: true}
"""


def test_a_failed_load_says_its_csv_line_lists_nothing_as_done_and_the_next_update_runs_it(
    db_url: str, tmp_path: Path
) -> None:
    changelog = tmp_path / "changelog.yaml"
    changelog.write_text(LOAD, encoding="utf-8")
    rows = [f"{i},item {i}" for i in range(1, 3001)]
    rows[2499] = "2500,item 2500,one too many"  # line 2501 of the file: two batches of rows were sent before it
    csv = tmp_path / "items.csv"
    csv.write_text("id,name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    for _ in range(2):  # the next update runs it again: nothing is blocked, since nothing took effect
        with pytest.raises(MigrationError) as failure:
            commands.update(db_url, changelog)
        assert failure.value.changeset == "changelog.yaml::load::t"
        assert "items.csv:2501: 3 values where the header has 2" in str(failure.value)
        assert failure.value.took_effect == [], "the rows sent were rolled back with the transaction"
        assert "took effect" not in str(failure.value)
        assert commands.clear_incomplete(db_url) == []
    with commands.connect(db_url) as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM items").scalar() == 0
    rows[2499] = "2500,item 2500"
    csv.write_text("id,name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert [cs.id for cs in commands.update(db_url, changelog)] == ["load"]
    with commands.connect(db_url) as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM items").scalar() == 3000


def test_a_failure_is_recorded_whatever_its_size(db_url: str, tmp_path: Path) -> None:
    long_text = "x" * 70_000  # more than MySQL's TEXT holds
    changelog = tmp_path / "changelog.yaml"
    changelog.write_text(
        f"""
databaseChangeLog:
  - changeSet:
      id: big
      author: t
      changes:
        - sql: CREATE VIEW long_view AS SELECT '{long_text}' AS c
        - sql: INSERT INTO no_such_table VALUES (1)
""",
        encoding="utf-8",
    )
    with pytest.raises(MigrationError) as failure:
        commands.update(db_url, changelog)
    message = str(failure.value)
    assert message.startswith("changeSet changelog.yaml::big::t failed\n  statement: INSERT INTO no_such_table")
    assert "no_such_table" in failure.value.cause
    if _transactional(db_url):  # nothing took effect: the next update tries it again
        with pytest.raises(MigrationError):
            commands.update(db_url, changelog)
        return
    (created,) = failure.value.took_effect
    assert created == f"CREATE VIEW long_view AS SELECT '{long_text}' AS c", "the whole statement, for the person"
    with pytest.raises(IncompleteChangeSetError) as stop:
        commands.update(db_url, changelog)
    assert "changeSet changelog.yaml::big::t stopped part-way" in str(stop.value)
    assert "CREATE VIEW long_view AS SELECT 'xxx" in str(stop.value)
    assert len(str(stop.value)) < 20_000, "what is kept of the failure is bounded"
