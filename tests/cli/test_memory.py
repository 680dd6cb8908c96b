"""A MemoryError is said as "out of memory", never "unexpected": at start-up (the checksums of an up-to-date
database) and in the middle of a load (the changeSet is named, nothing is recorded for it). The MemoryError is
injected where the big file is read; the database is real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from yamlbase import commands
from yamlbase.changelog import checksum
from yamlbase.changes.data import LoadData

CHANGELOG = """
databaseChangeLog:
  - changeSet:
      id: table
      author: t
      changes:
        - createTable: {tableName: t, columns: [column: {name: id, type: int}]}
  - changeSet:
      id: rows
      author: t
      changes:
        - loadData: {tableName: t, file: rows.csv, relativeToChangelogFile: true}
"""


def _exhausted(*args: Any, **kwargs: Any) -> Iterator[Any]:
    raise MemoryError
    yield  # a generator, as the function it stands for


@pytest.fixture
def url(write: Any, workdir: Path) -> str:
    write("changelog/rows.csv", "id\n1\n2\n")
    write("changelog/changelog.yaml", CHANGELOG)
    return f"sqlite:///{workdir / 'app.db'}"


def test_out_of_memory_at_start_up_of_an_up_to_date_database(
    run: Any, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("update", "--url", url).exit_code == 0
    monkeypatch.setattr(checksum, "_csv_stream", _exhausted)
    result = run("update", "--url", url)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: out of memory: ")
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
    json = run("update", "--url", url, "--format", "json")
    assert json.exit_code == 1 and '"type": "OutOfMemoryError"' in json.stdout


def test_out_of_memory_while_loading_names_the_changeset(run: Any, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LoadData, "_lines", _exhausted)
    result = run("update", "--url", url)
    assert result.exit_code == 1
    assert "changelog.yaml::rows::t" in result.stderr
    assert "loadData: out of memory: " in result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
    assert [row.id for row in commands.history(url)] == ["table"]
    state = commands.list_locks(url)
    assert state is not None and not state.locked
