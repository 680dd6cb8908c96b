"""A SQLite file whose write lock another connection holds (a real one, BEGIN IMMEDIATE in another thread):
yamlbase says what it waits for, goes on when the lock is released, and gives up after --lock-timeout."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import yamlbase
from tests.cli.conftest import DbView, Run, Write
from yamlbase import commands
from yamlbase.errors import LockError

DEFAULT_URL = "sqlite:///yamlbase.db"
ONE = """
databaseChangeLog:
  - changeSet:
      id: first
      author: test
      changes:
        - createTable: {tableName: first, columns: [{column: {name: id, type: int}}]}
"""
TWO = (
    ONE
    + """
  - changeSet:
      id: second
      author: test
      changes:
        - createTable: {tableName: second, columns: [{column: {name: id, type: int}}]}
"""
)
WAITING = "waiting up to {timeout}s for the SQLite database yamlbase.db: another connection holds its write lock"


class WriteLockHolder:
    """Another connection holding the file's write lock (BEGIN IMMEDIATE) in a thread, until ``release()``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._held = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            self._held.set()
            self._release.wait(60)
            connection.execute("COMMIT")
        finally:
            connection.close()

    def start(self) -> None:
        self._thread.start()
        assert self._held.wait(10), "the other connection did not get the write lock"

    def release(self) -> None:
        self._release.set()

    def join(self) -> None:
        self.release()
        self._thread.join(10)


@pytest.fixture
def holder(workdir: Path) -> Iterator[WriteLockHolder]:
    holding = WriteLockHolder(workdir / "yamlbase.db")
    yield holding
    holding.join()


class ReleaseWhenWaiting(logging.Handler):
    """Releases the holder once yamlbase has said that it waits: the run goes on from there."""

    def __init__(self, holder: WriteLockHolder) -> None:
        super().__init__()
        self.holder = holder

    def emit(self, record: logging.LogRecord) -> None:
        if "write lock" in record.getMessage():
            self.holder.release()


def test_a_held_write_lock_is_waited_for_with_a_warning_and_the_update_goes_on(
    run: Run, write: Write, db: DbView, holder: WriteLockHolder
) -> None:
    write("changelog/changelog.yaml", ONE)
    assert run("update").exit_code == 0
    write("changelog/changelog.yaml", TWO)
    holder.start()
    logger = logging.getLogger("yamlbase")
    release = ReleaseWhenWaiting(holder)
    logger.addHandler(release)
    try:
        result = run("update", "--lock-timeout", "30")
    finally:
        logger.removeHandler(release)

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [f"warning: {WAITING.format(timeout=30)}"]
    assert db(DEFAULT_URL).history_ids() == [
        "changelog/changelog.yaml::first::test",
        "changelog/changelog.yaml::second::test",
    ]


def test_a_write_lock_held_past_the_lock_timeout_is_a_clear_failure(
    run: Run, write: Write, db: DbView, holder: WriteLockHolder
) -> None:
    write("changelog/changelog.yaml", ONE)
    assert run("update").exit_code == 0
    write("changelog/changelog.yaml", TWO)
    holder.start()

    result = run("update", "--lock-timeout", "0.5")
    holder.join()

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"warning: {WAITING.format(timeout=0.5)}",
        "error: the SQLite database yamlbase.db is locked: another connection holds its write lock; gave up after "
        "0.5s (--lock-timeout)",
    ]
    view = db(DEFAULT_URL)
    assert view.history_ids() == ["changelog/changelog.yaml::first::test"]
    assert view.lock() == (False, None), "DATABASECHANGELOGLOCK was not taken"


def test_the_lock_timeout_from_the_settings_bounds_the_wait_in_every_writing_command(
    run: Run, write: Write, holder: WriteLockHolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("changelog/changelog.yaml", ONE)
    assert run("update").exit_code == 0
    holder.start()
    monkeypatch.setenv("YAMLBASE_LOCK_TIMEOUT", "0.3")

    results = {args[0]: run(*args) for args in (["tag", "v1"], ["rollback-count", "1"], ["update"])}

    for command, result in results.items():
        assert result.exit_code == 1, (command, result.output)
        assert "gave up after 0.3s (--lock-timeout)" in result.stderr, command


def test_the_api_raises_a_lock_error_naming_the_file(write: Write, workdir: Path, holder: WriteLockHolder) -> None:
    changelog = write("changelog/changelog.yaml", ONE)
    holder.start()

    with pytest.raises(LockError, match=r"yamlbase\.db is locked"):
        commands.update(DEFAULT_URL, changelog, lock_timeout=0.3)


def test_an_applications_connection_waits_the_same_way_and_keeps_its_busy_timeout(
    write: Write, holder: WriteLockHolder
) -> None:
    changelog = write("changelog/changelog.yaml", ONE)
    engine = sa.create_engine(DEFAULT_URL, connect_args={"timeout": 7}, poolclass=sa.pool.NullPool)
    holder.start()
    try:
        with engine.connect() as connection:
            with pytest.raises(LockError, match=r"gave up after 0\.3s"):
                yamlbase.update(connection, changelog, lock_timeout=0.3)
            holder.join()
            assert len(yamlbase.update(connection, changelog, lock_timeout=5)) == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 7000
            connection.rollback()
    finally:
        engine.dispose()
