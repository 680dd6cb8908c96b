"""The Python API (``import yamlbase``) does what the commands do, with the same defaults and errors."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import yamlbase
from tests.conftest import PASSWORD_ROLE
from yamlbase import commands
from yamlbase.cli import main
from yamlbase.errors import (
    ChangeLogError,
    DatabaseError,
    LockError,
    MigrationError,
    RollbackImpossibleError,
    UsageError,
)

Write = Callable[[str, str], Path]
DbView = Callable[[str], Any]

URL = "sqlite:///api.db"


def test_update_status_history_rollback(example: Path, example_ids: list[str], db: DbView) -> None:
    changelog = str(example)

    assert [cs.identifier for cs in yamlbase.status(URL, changelog)] == example_ids
    applied = yamlbase.update(URL, changelog)
    assert [cs.identifier for cs in applied] == example_ids
    assert yamlbase.status(URL, changelog) == []
    assert yamlbase.update(URL, changelog) == []

    rows = yamlbase.history(URL)
    assert [r.identifier for r in rows] == example_ids
    assert [r.tag for r in rows if r.tag] == ["v1.0"]

    undone = yamlbase.rollback(URL, changelog, tag="v1.0")
    assert [r.identifier for r in undone] == list(reversed(example_ids[5:]))
    assert db(URL).history_ids() == example_ids[:5]
    assert [cs.identifier for cs in yamlbase.status(URL, changelog)] == example_ids[5:]

    undone = yamlbase.rollback_count(URL, changelog, count=1)
    assert [r.identifier for r in undone] == [example_ids[4]]


def test_update_count_to_tag_and_tag(example: Path, example_ids: list[str], db: DbView) -> None:
    assert [cs.identifier for cs in yamlbase.update_count(URL, example, count=2)] == example_ids[:2]
    row = yamlbase.tag(URL, name="api-tag")
    assert row.identifier == example_ids[1]
    assert db(URL).history()[-1][2] == "api-tag"

    assert [cs.identifier for cs in yamlbase.update_to_tag(URL, example, tag="v1.0")] == example_ids[2:5]
    assert db(URL).history()[-1][2] == "v1.0"


def test_defaults_are_the_command_lines(
    example: Path, example_ids: list[str], workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert yamlbase.validate().changesets[0].identifier == example_ids[0]
    assert [cs.identifier for cs in yamlbase.update()] == example_ids
    assert (workdir / "yamlbase.db").is_file()

    monkeypatch.setenv("YAMLBASE_URL", "sqlite:///from-env.db")
    assert len(yamlbase.status()) == 10
    assert len(yamlbase.update_count(count=1)) == 1
    assert (workdir / "from-env.db").is_file()


def test_sql_previews(example: Path, example_ids: list[str], workdir: Path, db: DbView) -> None:
    text = yamlbase.update_sql(changelog=str(example), dialect="postgresql")
    assert "CREATE TABLE databasechangelog (" in text
    assert text.count("-- Changeset ") == 10
    assert not (workdir / "yamlbase.db").exists()

    yamlbase.update(URL, example)
    before = db(URL).snapshot()
    text = yamlbase.rollback_sql(URL, str(example), tag="v1.0")
    assert text.count("-- Rolling Back ChangeSet: ") == 5
    assert db(URL).snapshot() == before


def test_errors_are_exceptions_with_details(write: Write, db: DbView, monkeypatch: pytest.MonkeyPatch) -> None:
    changelog = write(
        "changelog/changelog.yaml",
        """
        databaseChangeLog:
          - changeSet:
              id: first
              author: ann
              changes:
                - createTable:
                    tableName: t1
                    columns:
                      - column: {name: id, type: int}
          - changeSet:
              id: second
              author: ann
              changes:
                - sql: INSERT INTO nosuch (x) VALUES (1)
        """,
    )

    with pytest.raises(MigrationError) as failed:
        yamlbase.update(URL, str(changelog))
    assert failed.value.changeset == "changelog/changelog.yaml::second::ann"
    assert failed.value.statement == "INSERT INTO nosuch (x) VALUES (1)"
    assert failed.value.cause == "no such table: nosuch"
    assert isinstance(failed.value, yamlbase.YamlbaseError)
    assert db(URL).history_ids() == ["changelog/changelog.yaml::first::ann"]

    # Fixed, the raw-SQL changeSet applies; it has no rollback block, so undoing it is refused.
    changelog.write_text(changelog.read_text().replace("INTO nosuch (x)", "INTO t1 (id)"))
    assert [cs.id for cs in yamlbase.update(URL, str(changelog))] == ["second"]
    with pytest.raises(RollbackImpossibleError, match=r"changelog\.yaml::second::ann"):
        yamlbase.rollback_count(URL, str(changelog), count=1)
    assert db(URL).history_ids() == ["changelog/changelog.yaml::first::ann", "changelog/changelog.yaml::second::ann"]

    db(URL).hold_lock("someone else")
    with pytest.raises(LockError, match="held by someone else"):
        yamlbase.update(URL, str(changelog), lock_timeout=0.1)
    monkeypatch.setenv("YAMLBASE_LOCK_TIMEOUT", "0.1")  # rollback() takes its wait from the settings
    with pytest.raises(LockError, match="held by someone else"):
        yamlbase.rollback(URL, str(changelog), tag="nope")

    changelog.write_text("databaseChangeLog:\n  - changeSet: {id: x}\n")
    with pytest.raises(ChangeLogError) as invalid:
        yamlbase.validate(changelog=str(changelog))
    assert [str(p) for p in invalid.value.problems] == [
        'changelog/changelog.yaml:2:16: changeSet: missing required attribute "author"'
    ]


# --- what a database argument can be ----------------------------------------------------------------------


FAILING_SECOND = """
databaseChangeLog:
  - changeSet:
      id: first
      author: ann
      changes:
        - createTable: {tableName: t1, columns: [{column: {name: id, type: int}}]}
  - changeSet:
      id: second
      author: ann
      changes:
        - createTable: {tableName: t2, columns: [{column: {name: id, type: int}}]}
        - addColumn: {tableName: t2, columns: [{column: {name: note, type: varchar(20)}}]}
        - sql: INSERT INTO nosuch (x) VALUES (1)
"""


TABLES = {"accounts", "issues", "projects"}  # what the example changelog leaves


def tables_on(connection: sa.Connection) -> set[str]:
    return {n for n in sa.inspect(connection).get_table_names() if not n.lower().startswith("databasechangelog")}


def test_an_in_memory_sqlite_database_through_a_connection(example: Path, example_ids: list[str]) -> None:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection:
        applied = yamlbase.update(connection, example)
        assert [cs.identifier for cs in applied] == example_ids
        assert not connection.in_transaction()  # each changeSet committed, nothing left open
        assert yamlbase.update(connection, example) == []
        assert yamlbase.status(connection, example) == []
        assert [r.identifier for r in yamlbase.history(connection)] == example_ids
        assert [r.identifier for r in yamlbase.rollback_count(connection, example, count=1)] == [example_ids[-1]]
        # Left as it was given: open, out of any transaction, the driver's settings and listeners as they were.
        assert not connection.closed and not connection.in_transaction()
        assert connection.connection.driver_connection.isolation_level == ""
        assert not sa.event.contains(connection, "begin", commands._sqlite_begin)
        assert not connection.info
        # The same in-memory database: its tables and history are there on the caller's connection, and what
        # only reads reads inside the caller's own transaction, leaving it open.
        assert tables_on(connection) == TABLES
        assert connection.exec_driver_sql("SELECT count(*) FROM databasechangelog").scalar() == 9
        assert [cs.identifier for cs in yamlbase.status(connection, example)] == [example_ids[-1]]
        assert len(yamlbase.history(connection)) == 9
        assert connection.in_transaction()
    engine.dispose()


def test_a_connection_in_a_transaction_is_not_written_to(example: Path) -> None:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE mine (id int)")
        connection.commit()
        connection.exec_driver_sql("INSERT INTO mine (id) VALUES (1)")
        with pytest.raises(UsageError, match=r"sqlite:// is in a transaction.*commit\(\) or rollback\(\) first"):
            yamlbase.update(connection, example)
        assert connection.in_transaction()
        connection.rollback()  # the caller's transaction was the caller's to end: nothing of it was committed
        assert connection.exec_driver_sql("SELECT count(*) FROM mine").scalar() == 0
        assert tables_on(connection) == {"mine"}
    engine.dispose()


def test_a_failing_changeset_on_an_applications_sqlite_connection_leaves_nothing_half_done(
    write: Write, tmp_path: Path
) -> None:
    changelog = write("changelog/changelog.yaml", FAILING_SECOND)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'app.db'}")  # pysqlite's defaults: DDL outside transactions
    with engine.connect() as connection:
        with pytest.raises(MigrationError, match=r"changelog\.yaml::second::ann"):
            yamlbase.update(connection, changelog)
        # t2 was created and altered before the INSERT failed: all of it rolled back with the changeSet.
        assert [r.identifier for r in yamlbase.history(connection)] == ["changelog/changelog.yaml::first::ann"]
        assert yamlbase.list_locks(connection).locked is False  # type: ignore[union-attr]
        assert tables_on(connection) == {"t1"}
    with engine.connect() as other:  # and nothing else was left behind for another connection to see
        assert tables_on(other) == {"t1"}
    engine.dispose()


def test_an_engine_is_used_and_not_disposed(example: Path, example_ids: list[str], tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    pool = engine.pool
    assert [cs.identifier for cs in yamlbase.update(engine, example)] == example_ids
    assert engine.pool is pool and pool.checkedin() == 1  # its connection went back to the application's pool
    with engine.connect() as connection:
        assert connection.connection.driver_connection.isolation_level == ""  # as the engine made it
        assert len(tables_on(connection)) == 3
    assert not len(engine.dispatch.begin)
    assert yamlbase.update(engine, example) == []
    assert yamlbase.tag_exists(engine, name="v1.0")
    engine.dispose()


def test_progress_goes_to_the_yamlbase_logger(
    example: Path, example_ids: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="yamlbase"):
        yamlbase.update_sql(URL, example)
        assert caplog.records == []  # a preview runs nothing
        yamlbase.update(URL, example)
        yamlbase.rollback_count(URL, example, count=2)
    records = [(r.name, r.levelno, r.getMessage(), r.__dict__.get("changeset")) for r in caplog.records]
    assert records == [("yamlbase", logging.INFO, f"ran {i}", i) for i in example_ids] + [
        ("yamlbase", logging.INFO, f"rolled back {i}", i) for i in reversed(example_ids[-2:])
    ]


def test_the_cli_prints_its_progress_once_and_leaves_logging_as_it_was(
    example: Path, example_ids: list[str], run: Any
) -> None:
    logger = logging.getLogger("yamlbase")
    before = (list(logger.handlers), logger.level, logger.propagate)
    logger.setLevel(logging.INFO)  # an application that shows yamlbase's progress, running the CLI in-process
    try:
        result = run("update-count", "2")
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == [f"ran {i}" for i in example_ids[:2]] + [
            "2 changeSets applied to sqlite:///yamlbase.db"
        ]
        assert result.stderr == ""  # no "warning: ran …"
        assert (list(logger.handlers), logger.level, logger.propagate) == (before[0], logging.INFO, before[2])
    finally:
        logger.setLevel(before[1])


def test_every_command_has_a_documented_api_function() -> None:
    for command in main.commands:
        name = command.replace("-", "_")
        assert name in yamlbase.__all__, f"yamlbase {command} has no API function yamlbase.{name}"
        function = getattr(yamlbase, name)
        parameters = inspect.signature(function).parameters
        positional = [p.name for p in parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
        assert positional == [p for p in ("url", "changelog") if p in parameters], name
        assert all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in parameters.values()), name
        if "changelog" in parameters:
            assert {"contexts", "label_filter", "properties"} <= set(parameters) or name == "validate", name
            assert "search_path" in parameters, name
        undocumented = [p for p in parameters if f":param {p}:" not in (function.__doc__ or "")]
        assert undocumented == [], f"yamlbase.{name}: {undocumented} not documented"


# --- a URL object with a password ----------------------------------------------------------------------------


@pytest.mark.backend
def test_a_url_objects_password_is_used_and_never_printed(postgresql_password_url: sa.URL, example: Path) -> None:
    url = postgresql_password_url
    wrong = url.set(password="not-the-password")
    # The server really checks this role's password (pg_hba.conf), or this test could not fail.
    with pytest.raises(sa.exc.OperationalError):
        sa.create_engine(wrong, poolclass=sa.pool.NullPool).connect().close()

    assert len(yamlbase.update(url, example)) == 10
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    assert yamlbase.status(engine.url, example) == []  # the application's engine.url, password and all
    assert len(yamlbase.history(engine)) == 10
    engine.dispose()

    with pytest.raises(DatabaseError) as refused:
        yamlbase.status(wrong, example)
    message = str(refused.value)
    assert message.startswith(f"cannot connect to postgresql+psycopg://{PASSWORD_ROLE}:***@127.0.0.1:")
    assert PASSWORD_ROLE in message.partition(":***@")[2]  # the database's own reason names the role
    assert "not-the-password" not in message and url.password not in message  # type: ignore[operator]


def test_search_path_is_a_keyword_of_the_functions_that_read_a_changelog(write: Callable[..., Path]) -> None:
    write("db/main.yaml", "databaseChangeLog:\n  - include: {file: parts/a.yaml}\n")
    write("db/parts/a.yaml", "databaseChangeLog:\n  - changeSet: {id: a, author: t, changes: [{sql: select 1}]}\n")
    assert [cs.identifier for cs in yamlbase.status(URL, "db/main.yaml", search_path=["db"])] == ["parts/a.yaml::a::t"]
    assert [cs.identifier for cs in yamlbase.update(URL, "db/main.yaml", search_path="db")] == ["parts/a.yaml::a::t"]
    with pytest.raises(ChangeLogError, match=r"included file not found: parts/a\.yaml"):
        yamlbase.validate(URL, "db/main.yaml")  # the working folder: db/ is not searched
