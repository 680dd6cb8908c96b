"""What the history tells the commands that only read it, on real databases: validate and status find applied
changeSets edited since they ran (judged as update judges them), and tag refuses to lose a tag."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from yamlbase import commands
from yamlbase.errors import ChecksumMismatchError, YamlbaseError

CHANGELOG = """
databaseChangeLog:
  - changeSet:
      id: plain
      author: a
      changes:
        - createTable: {tableName: plain, columns: [{column: {name: id, type: int}}]}
  - changeSet:
      id: accepted
      author: a
      VALID
      changes:
        - createTable: {tableName: accepted, columns: [{column: {name: id, type: int}}]}
  - changeSet:
      id: reruns
      author: a
      runOnChange: true
      changes:
        - sql: CREATE VIEW reruns AS SELECT 1 AS one
      rollback: DROP VIEW reruns
"""


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def tags(url: str) -> list[tuple[str, Any]]:
    with commands.connect(url) as connection:
        (name,) = [t for t in sa.inspect(connection).get_table_names() if t.lower() == "databasechangelog"]
        table = sa.Table(name, sa.MetaData(), autoload_with=connection)
        c = {col.name.lower(): col for col in table.c}
        return [tuple(r) for r in connection.execute(sa.select(c["id"], c["tag"]).order_by(c["orderexecuted"]))]


@pytest.fixture
def applied(db_url: str, tmp_path: Path) -> Path:
    """The changelog above, applied to ``db_url``."""
    changelog = write(tmp_path / "c.yaml", CHANGELOG.replace("VALID", "comment: x"))
    commands.update(db_url, changelog)
    return changelog


def test_validate_with_the_database_names_each_edited_changeset(db_url: str, applied: Path) -> None:
    stored = {row.id: row.md5sum for row in commands.history(db_url)}
    assert commands.validate(applied, url=db_url).changesets  # unedited: valid against the history too

    edit(
        applied,
        "tableName: plain, columns: [{column: {name: id, type: int",
        "tableName: plain, columns: [{column: {name: id, type: bigint",
    )
    edit(
        applied,
        "tableName: accepted, columns: [{column: {name: id, type: int",
        "tableName: accepted, columns: [{column: {name: id, type: bigint",
    )

    with pytest.raises(ChecksumMismatchError) as info:
        commands.validate(applied, url=db_url)
    edited = info.value.edited
    assert [(e.identifier, e.location.line, e.old_checksum) for e in edited] == [
        ("c.yaml::plain::a", 3, stored["plain"]),
        ("c.yaml::accepted::a", 8, stored["accepted"]),
    ]
    assert all(e.new_checksum.startswith("9:") and e.new_checksum != e.old_checksum for e in edited)
    assert commands.safe_url(db_url) in str(info.value)
    # the same verdict as update's, which refuses to run
    with pytest.raises(ChecksumMismatchError):
        commands.update(db_url, applied)
    # offline, the changelog itself is valid
    assert len(commands.validate(applied).changesets) == 3


def test_status_lists_edited_changesets_beside_the_pending_ones(db_url: str, applied: Path) -> None:
    assert (commands.status(db_url, applied), commands.status(db_url, applied).changed) == ([], [])
    edit(
        applied,
        "tableName: plain, columns: [{column: {name: id, type: int",
        "tableName: plain, columns: [{column: {name: id, type: bigint",
    )
    edit(applied, "SELECT 1 AS one", "SELECT 2 AS two")  # runOnChange: due again, not an error

    todo = commands.status(db_url, applied)

    assert [cs.id for cs in todo] == ["reruns"]
    assert [e.identifier for e in todo.changed] == ["c.yaml::plain::a"]


def test_valid_checksum_and_run_on_change_are_no_edits(db_url: str, tmp_path: Path) -> None:
    changelog = write(tmp_path / "c.yaml", CHANGELOG.replace("VALID", "validCheckSum: ANY"))
    commands.update(db_url, changelog)
    edit(
        changelog,
        "tableName: accepted, columns: [{column: {name: id, type: int",
        "tableName: accepted, columns: [{column: {name: id, type: bigint",
    )
    edit(changelog, "SELECT 1 AS one", "SELECT 2 AS two")

    assert commands.validate(changelog, url=db_url).changesets
    assert commands.status(db_url, changelog).changed == []


def test_validate_reads_no_history_from_a_missing_sqlite_file(tmp_path: Path) -> None:
    changelog = write(tmp_path / "c.yaml", CHANGELOG.replace("VALID", "comment: x"))
    missing = tmp_path / "none.db"
    assert len(commands.validate(changelog, url=f"sqlite:///{missing}").changesets) == 3
    assert not missing.exists(), "validate must not create a database"


def test_tag_refuses_an_existing_name_and_replacing_a_tag(db_url: str, applied: Path) -> None:
    commands.update(db_url, applied)
    assert commands.tag(db_url, "v1").id == "reruns"
    assert commands.tag(db_url, "v1").id == "reruns"  # already so: nothing to refuse

    with pytest.raises(
        YamlbaseError, match=re.escape('the last changeSet, c.yaml::reruns::a, already carries tag "v1"')
    ):
        commands.tag(db_url, "v2")
    assert tags(db_url) == [("plain", None), ("accepted", None), ("reruns", "v1")]

    commands.tag(db_url, "v2", force=True)  # replaces the last changeSet's tag
    assert tags(db_url) == [("plain", None), ("accepted", None), ("reruns", "v2")]


def test_tag_force_moves_a_tag_to_the_last_changeset(db_url: str, tmp_path: Path) -> None:
    changelog = write(tmp_path / "c.yaml", CHANGELOG.replace("VALID", "comment: x"))
    commands.update(db_url, changelog, count=1)
    commands.tag(db_url, "release")
    commands.update(db_url, changelog)

    with pytest.raises(YamlbaseError, match=re.escape('tag "release" already exists, on c.yaml::plain::a')):
        commands.tag(db_url, "release")
    assert tags(db_url) == [("plain", "release"), ("accepted", None), ("reruns", None)]

    row = commands.tag(db_url, "release", force=True)

    assert row.id == "reruns"
    assert tags(db_url) == [("plain", None), ("accepted", None), ("reruns", "release")]
    assert commands.tag_exists(db_url, "release")


def test_a_bare_empty_rollback_undoes_nothing_and_runs_no_sql(db_url: str, tmp_path: Path) -> None:
    changelog = write(
        tmp_path / "c.yaml",
        """
        databaseChangeLog:
          - changeSet:
              id: keep
              author: a
              changes:
                - createTable: {tableName: kept, columns: [{column: {name: id, type: int}}]}
              rollback: [empty]
          - changeSet:
              id: keep-too
              author: a
              changes:
                - createTable: {tableName: kept_too, columns: [{column: {name: id, type: int}}]}
              rollback: empty
        """,
    )
    commands.update(db_url, changelog)

    undone = commands.rollback(db_url, changelog, count=2)

    assert [row.id for row in undone] == ["keep-too", "keep"]
    with commands.connect(db_url) as connection:
        assert {"kept", "kept_too"} <= set(sa.inspect(connection).get_table_names())
    assert commands.history(db_url) == []
