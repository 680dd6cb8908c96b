"""The Python API (``import yamlbase``) does what the commands do, with the same defaults and errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import yamlbase
from yamlbase.errors import ChangeLogError, LockError, MigrationError, RollbackImpossibleError

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

    undone = yamlbase.rollback(URL, changelog, count=1)
    assert [r.identifier for r in undone] == [example_ids[4]]


def test_update_count_to_tag_and_tag(example: Path, example_ids: list[str], db: DbView) -> None:
    assert [cs.identifier for cs in yamlbase.update(URL, example, count=2)] == example_ids[:2]
    row = yamlbase.tag("api-tag", URL)
    assert row.identifier == example_ids[1]
    assert db(URL).history()[-1][2] == "api-tag"

    assert [cs.identifier for cs in yamlbase.update(URL, example, to_tag="v1.0")] == example_ids[2:5]
    assert db(URL).history()[-1][2] == "v1.0"


def test_defaults_are_the_command_lines(
    example: Path, example_ids: list[str], workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert yamlbase.validate().changesets[0].identifier == example_ids[0]
    assert [cs.identifier for cs in yamlbase.update()] == example_ids
    assert (workdir / "yamlbase.db").is_file()

    monkeypatch.setenv("YAMLBASE_URL", "sqlite:///from-env.db")
    assert len(yamlbase.status()) == 10
    assert len(yamlbase.update(count=1)) == 1
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
    assert failed.value.changeset == "changelog.yaml::second::ann"
    assert failed.value.statement == "INSERT INTO nosuch (x) VALUES (1)"
    assert failed.value.cause == "no such table: nosuch"
    assert isinstance(failed.value, yamlbase.YamlbaseError)
    assert db(URL).history_ids() == ["changelog.yaml::first::ann"]

    # Fixed, the raw-SQL changeSet applies; it has no rollback block, so undoing it is refused.
    changelog.write_text(changelog.read_text().replace("INTO nosuch (x)", "INTO t1 (id)"))
    assert [cs.id for cs in yamlbase.update(URL, str(changelog))] == ["second"]
    with pytest.raises(RollbackImpossibleError, match=r"changelog\.yaml::second::ann"):
        yamlbase.rollback(URL, str(changelog), count=1)
    assert db(URL).history_ids() == ["changelog.yaml::first::ann", "changelog.yaml::second::ann"]

    db(URL).hold_lock("someone else")
    with pytest.raises(LockError, match="held by someone else"):
        yamlbase.update(URL, str(changelog), lock_timeout=0.1)
    monkeypatch.setenv("YAMLBASE_LOCK_TIMEOUT", "0.1")  # rollback() takes its wait from the settings
    with pytest.raises(LockError, match="held by someone else"):
        yamlbase.rollback(URL, str(changelog), tag="nope")

    changelog.write_text("databaseChangeLog:\n  - changeSet: {id: x}\n")
    with pytest.raises(ChangeLogError) as invalid:
        yamlbase.validate(str(changelog))
    assert [str(p) for p in invalid.value.problems] == [
        'changelog/changelog.yaml:2:16: changeSet: missing required attribute "author"'
    ]
