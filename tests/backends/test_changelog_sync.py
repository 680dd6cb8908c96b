"""changelog-sync: pending changeSets recorded as run without running them, on each backend, as Liquibase 4.28
records them (EXECTYPE EXECUTED, the same description, checksum and tag as ``update`` writes)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from yamlbase import commands
from yamlbase.cli import main
from yamlbase.errors import ChecksumMismatchError, YamlbaseError

CHANGELOG = """
databaseChangeLog:
  - changeSet:
      id: people
      author: a
      comment: the people
      labels: core
      context: prod
      changes:
        - createTable:
            tableName: people
            columns:
              - column: {name: id, type: int}
  - changeSet:
      id: guarded
      author: a
      preConditions:
        - onFail: HALT
        - tableExists: {tableName: no_such_table}
      changes:
        - addColumn:
            tableName: people
            columns:
              - column: {name: nick, type: varchar(20)}
  - changeSet:
      id: release-1
      author: a
      changes:
        - tagDatabase: {tag: v1}
  - changeSet:
      id: pets
      author: a
      changes:
        - createTable:
            tableName: pets
            columns:
              - column: {name: id, type: int}
"""


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def history(url: str) -> list[dict[str, Any]]:
    """Every DATABASECHANGELOG row (lower-case column names), in execution order."""
    with commands.connect(url) as connection:
        names = sa.inspect(connection).get_table_names()
        (name,) = [t for t in names if t.lower() == "databasechangelog"]
        table = sa.Table(name, sa.MetaData(), autoload_with=connection)
        order = next(c for c in table.c if c.name.lower() == "orderexecuted")
        rows = connection.execute(sa.select(table).order_by(order)).mappings()
        return [{k.lower(): v for k, v in row.items()} for row in rows]


def user_tables(url: str) -> set[str]:
    with commands.connect(url) as connection:
        return {
            t.lower()
            for t in sa.inspect(connection).get_table_names()
            if not t.lower().startswith(("databasechangelog", "yamlbase"))
        }


# The columns a sync must fill exactly as update does (DATEEXECUTED and DEPLOYMENT_ID differ by nature).
SAME_AS_UPDATE = ("id", "author", "filename", "orderexecuted", "md5sum", "description", "comments", "tag", "labels")


def test_sync_records_without_running_as_update_would_record(db_url: str, second_db_url: str, tmp_path: Path) -> None:
    changelog = write(tmp_path / "changelog.yaml", CHANGELOG.replace("onFail: HALT", "onFail: MARK_RAN"))
    reported: list[str] = []

    done = commands.changelog_sync(db_url, changelog, report=reported.append)

    ids = ["people", "guarded", "release-1", "pets"]
    assert [cs.id for cs in done] == ids
    assert reported == [cs.identifier for cs in done]
    assert user_tables(db_url) == set()  # nothing ran
    rows = history(db_url)
    assert [r["id"] for r in rows] == ids
    # Liquibase 4.28's changelog-sync writes EXECUTED for every changeSet, preconditions not evaluated.
    assert {r["exectype"] for r in rows} == {"EXECUTED"}
    assert len({r["deployment_id"] for r in rows}) == 1
    assert commands.status(db_url, changelog) == []

    # update on another database: the same rows, but for the precondition's MARK_RAN.
    commands.update(second_db_url, changelog)
    updated = history(second_db_url)
    for synced, ran in zip(rows, updated, strict=True):
        assert {k: synced[k] for k in SAME_AS_UPDATE} == {k: ran[k] for k in SAME_AS_UPDATE}
    assert [r["exectype"] for r in updated] == ["EXECUTED", "MARK_RAN", "EXECUTED", "EXECUTED"]
    assert rows[2]["tag"] == "v1"
    assert rows[0]["comments"] == "the people" and rows[0]["labels"] == "core"

    # A second sync has nothing to do, and what was recorded rolls back as if it had run.
    assert commands.changelog_sync(db_url, changelog) == []
    with commands.connect(db_url) as connection:
        connection.exec_driver_sql("CREATE TABLE pets (id INT)")
        connection.commit()
    commands.rollback(db_url, changelog, count=1)
    assert user_tables(db_url) == set()
    assert [r["id"] for r in history(db_url)] == ids[:3]


def test_sync_to_tag_and_the_rest_later(db_url: str, tmp_path: Path) -> None:
    changelog = write(tmp_path / "changelog.yaml", CHANGELOG)

    done = commands.changelog_sync(db_url, changelog, to_tag="v1")

    assert [cs.id for cs in done] == ["people", "guarded", "release-1"]  # HALT is not evaluated either
    assert [cs.id for cs in commands.status(db_url, changelog)] == ["pets"]
    assert [cs.id for cs in commands.update(db_url, changelog)] == ["pets"]
    assert user_tables(db_url) == {"pets"}
    with pytest.raises(YamlbaseError, match='no pending changeSet carries tag "v1"'):
        commands.changelog_sync(db_url, changelog, to_tag="v1")


def test_sync_follows_contexts_and_refuses_edited_changesets(db_url: str, tmp_path: Path) -> None:
    changelog = write(tmp_path / "changelog.yaml", CHANGELOG)

    done = commands.changelog_sync(db_url, changelog, contexts="test")
    assert [cs.id for cs in done] == ["guarded", "release-1", "pets"]  # "people" is for prod only
    edited = CHANGELOG.replace("tableName: pets", "tableName: animals")
    write(changelog, edited)
    with pytest.raises(ChecksumMismatchError, match="pets"):
        commands.changelog_sync(db_url, changelog)
    assert [r["id"] for r in history(db_url)] == ["guarded", "release-1", "pets"]


def test_sync_sql_prints_what_sync_runs(db_url: str, tmp_path: Path) -> None:
    changelog = write(tmp_path / "changelog.yaml", CHANGELOG)
    commands.changelog_sync(db_url, changelog, to_tag="v1")
    engine = commands.create_engine(db_url)
    ran: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_: ran.append(statement))

    sql = commands.changelog_sync_sql(db_url, changelog)

    assert "pets" in sql and "people" not in sql.replace("Change Log", "")  # only what is pending
    assert "CREATE TABLE pets" not in sql
    assert history(db_url)[-1]["id"] == "release-1"  # the preview changed nothing

    commands.changelog_sync(engine, changelog)
    engine.dispose()
    # The same writes, in the same order: lock, the history row, release.
    written = [s.split()[0].upper() for s in ran if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    rendered = [line.split()[0].upper() for line in sql.splitlines() if line.split()[:1] in (["INSERT"], ["UPDATE"])]
    assert written == rendered == ["UPDATE", "INSERT", "UPDATE"]


def test_sync_sql_offline_and_the_cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "changelog.yaml", CHANGELOG)
    runner = CliRunner()

    offline = runner.invoke(
        main, ["changelog-sync-sql", "--dialect", "postgresql", "--changelog-file", "changelog.yaml"]
    )
    assert offline.exit_code == 0, offline.output
    assert "CREATE TABLE databasechangelog" in offline.output
    assert offline.output.count("INSERT INTO databasechangelog ") == 4
    assert "'EXECUTED'" in offline.output and "CREATE TABLE people" not in offline.output

    args = ["--url", db_url, "--changelog-file", "changelog.yaml"]
    result = runner.invoke(main, ["changelog-sync-to-tag", "v1", *args])
    assert result.exit_code == 0, result.output
    assert "3 changeSets recorded as run on" in result.stdout
    assert "recorded as run: changelog.yaml::people::a" in result.stdout

    result = runner.invoke(main, ["changelog-sync", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"changelog.yaml::pets::a"' in result.stdout
    result = runner.invoke(main, ["changelog-sync", *args])
    assert result.exit_code == 0 and "nothing to record" in result.stdout

    result = runner.invoke(main, ["changelog-sync-to-tag", "nope", *args])
    assert result.exit_code == 1
    assert result.stderr.startswith('error: no pending changeSet carries tag "nope"')
    assert "Traceback" not in result.output
