"""The changelog language on real databases: which changeSets a run selects and how each runs and is recorded."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from yamlbase import commands
from yamlbase.cli import main
from yamlbase.errors import ChecksumMismatchError


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def create(name: str) -> str:
    return f"{{createTable: {{tableName: {name}, columns: [{{column: {{name: id, type: int}}}}]}}}}"


def table(name: str) -> str:
    return f"- {create(name)}"


def history(url: str) -> list[tuple[Any, ...]]:
    with commands.connect(url) as connection:
        (name,) = [t for t in sa.inspect(connection).get_table_names() if t.lower() == "databasechangelog"]
        t = sa.Table(name, sa.MetaData(), autoload_with=connection)
        c = {col.name.lower(): col for col in t.c}
        query = sa.select(c["id"], c["exectype"], c["contexts"], c["labels"], c["orderexecuted"])
        return [tuple(r) for r in connection.execute(query.order_by(c["orderexecuted"]))]


def tables(url: str) -> set[str]:
    with commands.connect(url) as connection:
        return {
            t for t in sa.inspect(connection).get_table_names() if not t.lower().startswith(("database", "yamlbase"))
        }


CONTEXTS = """
databaseChangeLog:
  - changeSet:
      id: always
      author: a
      changes:
        {always}
  - changeSet:
      id: dev
      author: a
      context: dev
      labels: v1
      changes:
        {dev}
  - changeSet:
      id: not-dev
      author: a
      context: "!dev"
      changes:
        {not_dev}
  - changeSet:
      id: test-and-qa
      author: a
      contextFilter: test and qa
      labels: v2, Beta
      changes:
        {test_and_qa}
  - include: {{file: inc.yaml, context: dev, labels: lib}}
"""


def test_contexts_and_labels_select_and_are_recorded(db_url: str, tmp_path: Path) -> None:
    changelog = write(
        tmp_path / "main.yaml",
        CONTEXTS.format(
            always=table("t_always"), dev=table("t_dev"), not_dev=table("t_not_dev"), test_and_qa=table("t_tq")
        ),
    )
    write(
        tmp_path / "inc.yaml",
        f"databaseChangeLog:\n  - changeSet:\n      id: inc\n      author: a\n      context: v1\n      changes:\n        {table('t_inc')}\n",
    )

    ran = commands.update(db_url, changelog, contexts="dev, v1", label_filter="!beta")
    assert [cs.id for cs in ran] == ["always", "dev", "inc"]
    assert history(db_url) == [
        ("always", "EXECUTED", None, None, 1),
        ("dev", "EXECUTED", "dev", "v1", 2),
        ("inc", "EXECUTED", "dev AND v1", "lib", 3),
    ]
    assert [cs.id for cs in commands.status(db_url, changelog, contexts="test,qa")] == ["not-dev", "test-and-qa"]
    assert [cs.id for cs in commands.status(db_url, changelog, contexts="test,qa", label_filter="v1")] == ["not-dev"]
    # No contexts given: everything left runs, as in Liquibase.
    assert [cs.id for cs in commands.update(db_url, changelog)] == ["not-dev", "test-and-qa"]
    assert history(db_url)[-1] == ("test-and-qa", "EXECUTED", "(test and qa)", "v2,beta", 5)
    # Rolling back with contexts leaves out what they do not select.
    undone = commands.rollback(db_url, changelog, count=5, contexts="test,qa")
    assert [row.id for row in undone] == ["test-and-qa", "not-dev", "always"]
    assert tables(db_url) == {"t_dev", "t_inc"}


def test_run_always_and_run_on_change_rerun(db_url: str, tmp_path: Path) -> None:
    text = """
        databaseChangeLog:
          - changeSet:
              id: base
              author: a
              changes:
                - createTable: {tableName: counter, columns: [{column: {name: n, type: int}}]}
          - changeSet:
              id: tick
              author: a
              runAlways: true
              changes:
                - sql: INSERT INTO counter (n) VALUES (1)
          - changeSet:
              id: view
              author: a
              runOnChange: true
              changes:
                - sql: INSERT INTO counter (n) VALUES (NUM)
              rollback: DELETE FROM counter
        """
    changelog = write(tmp_path / "c.yaml", text.replace("NUM", "10"))
    commands.update(db_url, changelog)
    assert [cs.id for cs in commands.update(db_url, changelog)] == ["tick"]
    before = {row[0]: row for row in history(db_url)}
    assert before["tick"][1] == "RERAN" and before["tick"][4] == 4
    write(tmp_path / "c.yaml", text.replace("NUM", "20"))
    assert [cs.id for cs in commands.update(db_url, changelog)] == ["tick", "view"]
    rows = {row[0]: row for row in history(db_url)}
    assert rows["view"][1] == "RERAN" and rows["view"][4] > before["view"][4]
    with commands.connect(db_url) as connection:
        assert sorted(connection.execute(sa.text("SELECT n FROM counter")).scalars()) == [1, 1, 1, 10, 20]
    assert len(history(db_url)) == 3  # re-runs update their row, they do not add one


def test_checksum_changes_need_valid_checksum(db_url: str, tmp_path: Path) -> None:
    text = """
        databaseChangeLog:
          - changeSet:
              id: one
              author: a
              EXTRA
              changes:
                - createTable: {tableName: TABLE, columns: [{column: {name: id, type: int}}]}
        """
    changelog = write(tmp_path / "c.yaml", text.replace("TABLE", "first").replace("EXTRA", "comment: x"))
    commands.update(db_url, changelog)
    write(tmp_path / "c.yaml", text.replace("TABLE", "second").replace("EXTRA", "comment: x"))
    with pytest.raises(ChecksumMismatchError):
        commands.update(db_url, changelog)
    write(tmp_path / "c.yaml", text.replace("TABLE", "second").replace("EXTRA", "validCheckSum: ANY"))
    assert commands.update(db_url, changelog) == []
    stored = commands.history(db_url)[0].md5sum
    write(tmp_path / "c.yaml", text.replace("TABLE", "third").replace("EXTRA", f"validCheckSum: ['{stored}']"))
    assert commands.update(db_url, changelog) == []


def test_fail_on_error_false_leaves_the_changeset_pending(db_url: str, tmp_path: Path) -> None:
    changelog = write(
        tmp_path / "c.yaml",
        f"""
        databaseChangeLog:
          - changeSet:
              id: broken
              author: a
              failOnError: false
              changes:
                {table("half_made")}
                - sql: SELECT * FROM no_such_table
          - changeSet:
              id: fine
              author: a
              changes:
                {table("made")}
        """,
    )
    ran = commands.update(db_url, changelog)
    assert [cs.id for cs in ran] == ["fine"]
    assert [row[0] for row in history(db_url)] == ["fine"]
    assert [cs.id for cs in commands.status(db_url, changelog)] == ["broken"]


def test_ignore_run_order_and_dbms(db_url: str, tmp_path: Path) -> None:
    dialect = sa.engine.make_url(db_url).get_backend_name()
    other = "postgresql" if dialect != "postgresql" else "sqlite"
    changelog = write(
        tmp_path / "c.yaml",
        f"""
        databaseChangeLog:
          - changeSet: {{id: a, author: a, changes: [{create("t_a")}]}}
          - changeSet: {{id: z, author: a, runOrder: last, changes: [{create("t_z")}]}}
          - changeSet: {{id: first, author: a, runOrder: first, changes: [{create("t_first")}]}}
          - changeSet: {{id: skipped, author: a, ignore: true, changes: [{create("t_skipped")}]}}
          - changeSet: {{id: variant, author: a, dbms: {dialect}, changes: [{create("t_mine")}]}}
          - changeSet: {{id: variant, author: a, dbms: {other}, changes: [{create("t_other")}]}}
          - changeSet: {{id: elsewhere, author: a, dbms: "!{dialect}", changes: [{create("t_elsewhere")}]}}
        """,
    )
    assert [cs.id for cs in commands.update(db_url, changelog)] == ["first", "a", "variant", "z"]
    assert tables(db_url) == {"t_first", "t_a", "t_mine", "t_z"}


@pytest.mark.backend
def test_run_in_transaction_false_allows_create_index_concurrently(postgresql_url: str, tmp_path: Path) -> None:
    text = """
        databaseChangeLog:
          - changeSet: {id: t, author: a, changes: [{sql: "CREATE TABLE big (n int)"}]}
          - changeSet:
              id: ix
              author: a
              RUN
              changes:
                - sql: CREATE INDEX CONCURRENTLY ix_big ON big (n)
              rollback: DROP INDEX ix_big
        """
    changelog = write(tmp_path / "c.yaml", text.replace("RUN", "runInTransaction: true"))
    with pytest.raises(Exception, match="CONCURRENTLY cannot run inside a transaction block"):
        commands.update(postgresql_url, changelog)
    assert [row[0] for row in history(postgresql_url)] == ["t"]
    write(tmp_path / "c.yaml", text.replace("RUN", "runInTransaction: false"))
    assert [cs.id for cs in commands.update(postgresql_url, changelog)] == ["ix"]
    with commands.connect(postgresql_url) as connection:
        assert "ix_big" in {ix["name"] for ix in sa.inspect(connection).get_indexes("big")}
    assert [row.id for row in commands.rollback(postgresql_url, changelog, count=1)] == ["ix"]


def test_properties_and_selection_from_the_command_line(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path / "c.yaml",
        """
        databaseChangeLog:
          - property: {name: suffix, value: from_changelog}
          - property: {name: width, value: "30"}
          - changeSet:
              id: one
              author: a
              context: ci
              changes:
                - createTable:
                    tableName: t_${suffix}
                    columns: [{column: {name: c, type: "varchar(${width})"}}]
          - changeSet:
              id: two
              author: a
              labels: later
              changes:
                - createTable: {tableName: "t_${env_suffix}", columns: [{column: {name: id, type: int}}]}
        """,
    )
    monkeypatch.setenv("env_suffix", "env")
    runner = CliRunner()
    args = ["--url", db_url, "--changelog-file", "c.yaml"]
    result = runner.invoke(main, [*args, "update", "--contexts", "ci", "--label-filter", "!later", "-D", "suffix=cli"])
    assert result.exit_code == 0, result.output
    assert tables(db_url) == {"t_cli"}
    result = runner.invoke(main, [*args, "update", "--contexts", "other"])
    assert result.exit_code == 0, result.output
    assert tables(db_url) == {"t_cli", "t_env"}
    # The checksum is taken after substitution (as in Liquibase): without the same -D, "one" reads as changed.
    result = runner.invoke(main, [*args, "update", "--contexts", "ci"])
    assert result.exit_code == 1 and "c.yaml::one::a" in result.output
    result = runner.invoke(main, [*args, "update", "--contexts", "ci", "-D", "suffix=cli"])
    assert result.exit_code == 0, result.output
    monkeypatch.delenv("env_suffix")
    result = runner.invoke(main, [*args, "validate"])
    assert result.exit_code == 2
    assert "c.yaml:17:36: property ${env_suffix} is not defined" in result.output
