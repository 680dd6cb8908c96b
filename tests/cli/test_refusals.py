"""A change the target database cannot express is refused before anything runs, at its line, with the reason."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import CliRunner

from yamlbase import commands
from yamlbase.cli import main

CHANGELOG = """
databaseChangeLog:
  - changeSet:
      id: fine
      author: a
      changes:
        - createTable: {tableName: t, columns: [{column: {name: id, type: int}}]}
  - changeSet:
      id: seq
      author: a
      changes:
        - createSequence: {sequenceName: s}
  - changeSet:
      id: ix
      author: a
      changes:
        - createIndex: {tableName: t, indexName: ix_t, columns: [{column: {name: id}}]}
        - dropIndex: {indexName: ix_t}
"""


def test_refused_at_their_lines_before_anything_runs(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(textwrap.dedent(CHANGELOG).lstrip())
    runner = CliRunner()
    result = runner.invoke(main, ["--changelog-file", "c.yaml", "validate", "--dialect", "mysql"])
    assert result.exit_code == 2
    assert result.output.splitlines()[:2] == [
        "c.yaml:11:11: createSequence cannot run on mysql: createSequence is not supported on mysql: MySQL has no "
        "sequences (MariaDB 10.3+, PostgreSQL, SQL Server and Oracle have them)",
        "c.yaml:17:11: dropIndex cannot run on mysql: dropIndex needs tableName on mysql (DROP INDEX … ON table)",
    ]
    assert runner.invoke(main, ["--changelog-file", "c.yaml", "validate", "--dialect", "postgresql"]).exit_code == 0
    result = runner.invoke(main, ["--changelog-file", "c.yaml", "update-sql", "--dialect", "sqlite"])
    assert result.exit_code == 2 and "c.yaml:11:11: createSequence cannot run on sqlite" in result.output
    assert "CREATE TABLE" not in result.output
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = runner.invoke(main, ["--url", url, "--changelog-file", "c.yaml", "update"])
    assert result.exit_code == 2 and "createSequence cannot run on sqlite" in result.output
    assert commands.history(url) == []  # not even the first, fine changeSet ran
