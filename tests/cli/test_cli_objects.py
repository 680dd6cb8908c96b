"""End to end: ``stop`` halts an update with exit code 1 before its changeSet is recorded; ``output`` writes its
message when applying and is a SQL comment in ``update-sql``."""

from __future__ import annotations

from tests.cli.conftest import DbView, Run, Write

CHANGELOG = """
databaseChangeLog:
  - changeSet:
      id: first
      author: ann
      changes:
        - createTable: {tableName: kept, columns: [{column: {name: id, type: int}}]}
        - output: {message: "first is done", target: STDOUT}
        - output: {message: "a note for the log reader"}
  - changeSet:
      id: halt
      author: ann
      changes:
        - createTable: {tableName: undone, columns: [{column: {name: id, type: int}}]}
        - stop: {message: "check the data before going on"}
  - changeSet:
      id: after
      author: ann
      changes:
        - createTable: {tableName: never, columns: [{column: {name: id, type: int}}]}
"""

URL = "sqlite:///stop.db"


def test_stop_halts_update_with_exit_code_1_before_its_changeset_is_recorded(
    run: Run, write: Write, db: DbView
) -> None:
    write("changelog/changelog.yaml", CHANGELOG)

    result = run("update", "--url", URL)

    assert result.exit_code == 1, result.output
    assert (
        "changeSet changelog/changelog.yaml::halt::ann stopped the update: check the data before going on"
        in result.stderr
    )
    assert "Traceback" not in result.output
    assert "first is done" in result.stdout  # output, target STDOUT
    assert "a note for the log reader" in result.stderr  # output's default target: STDERR
    view = db(URL)
    assert [row[0] for row in view.history()] == ["changelog/changelog.yaml::first::ann"]
    # the stopped changeSet's earlier change was rolled back with it; nothing after it ran
    assert view.tables() == ["kept"]


def test_update_after_a_stop_stops_again_at_the_same_place(run: Run, write: Write, db: DbView) -> None:
    write("changelog/changelog.yaml", CHANGELOG)
    assert run("update", "--url", URL).exit_code == 1

    again = run("update", "--url", URL)

    assert again.exit_code == 1
    assert "stopped the update: check the data before going on" in again.stderr
    assert "first is done" not in again.stdout  # already applied: not run, so not said again
    assert [row[0] for row in db(URL).history()] == ["changelog/changelog.yaml::first::ann"]


def test_output_is_a_comment_in_update_sql(run: Run, write: Write) -> None:
    write("changelog/changelog.yaml", CHANGELOG.split("  - changeSet:\n      id: halt")[0])

    result = run("update-sql", "--dialect", "postgresql")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "-- first is done" in lines
    assert "-- a note for the log reader" in lines
    assert "first is done" not in result.stderr
    # in order: after the table it follows, before the changeSet's history row
    text = result.stdout
    assert (
        text.index("CREATE TABLE kept") < text.index("-- first is done") < text.index("INSERT INTO databasechangelog ")
    )


def test_output_is_a_comment_in_update_sql_for_sqlite_said_once(run: Run, write: Write) -> None:
    write("changelog/changelog.yaml", CHANGELOG.split("  - changeSet:\n      id: halt")[0])

    result = run("update-sql", "--dialect", "sqlite")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines().count("-- first is done") == 1
    assert result.stdout.count("first is done") == 1  # the preview's private copy says nothing


def test_update_sql_stops_where_update_would(run: Run, write: Write) -> None:
    write("changelog/changelog.yaml", CHANGELOG)

    result = run("update-sql", "--dialect", "postgresql")

    assert result.exit_code == 1
    assert (
        "changeSet changelog/changelog.yaml::halt::ann stopped the update: check the data before going on"
        in result.stderr
    )
