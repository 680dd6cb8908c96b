"""Settings as a user meets them on the command line: pyproject.toml and .env found from a subfolder of the
project, unknown keys refused, and ``update-sql --dialect`` rendering offline whatever the configured URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import yamlbase
from tests.cli.conftest import DbView, Run, Write

DEFAULT_URL = "sqlite:///yamlbase.db"

SMALL = """
databaseChangeLog:
  - changeSet:
      id: only
      author: test
      changes:
        - createTable:
            tableName: only
            columns:
              - column: {name: id, type: int}
"""


def changeset_ids(sql: str) -> list[str]:
    return re.findall(r"^-- Changeset (\S+)$", sql, re.MULTILINE)


def test_an_unknown_setting_is_a_usage_error_with_a_suggestion(run: Run, write: Write) -> None:
    write("pyproject.toml", '[tool.yamlbase]\nchangelog_file = "db/changelog.yaml"\n')

    result = run("status")

    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: pyproject.toml: ")
    assert "'changelog_file'" in line and "did you mean 'changelog-file'?" in line
    assert "Traceback" not in result.output


def test_settings_are_found_from_a_subfolder_of_the_project(
    run: Run, write: Write, workdir: Path, monkeypatch: pytest.MonkeyPatch, db: DbView
) -> None:
    (workdir / ".git").mkdir()
    write("pyproject.toml", '[tool.yamlbase]\nchangelog-file = "db/changelog.yaml"\n')
    write(".env", f"DATABASE_URL=sqlite:///{workdir / 'app.db'}\n")
    write("db/changelog.yaml", SMALL)
    (workdir / "src" / "app").mkdir(parents=True)
    monkeypatch.chdir(workdir / "src" / "app")

    status = run("status")
    update = run("update")

    assert status.exit_code == 0, status.output
    first, *pending = status.stdout.splitlines()
    assert first.startswith("1 changeSet pending")
    assert pending == ["  db/changelog.yaml::only::test"]
    assert update.exit_code == 0, update.output
    assert db(f"sqlite:///{workdir / 'app.db'}").history_ids() == ["db/changelog.yaml::only::test"]
    assert not list((workdir / "src").rglob("*.db")), "the database of .env, not one in the working folder"


def test_a_relative_changelog_file_is_looked_for_beside_its_pyproject(
    run: Run, write: Write, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / ".git").mkdir()
    write("pyproject.toml", '[tool.yamlbase]\nchangelog-file = "db/missing.yaml"\n')
    (workdir / "app").mkdir()
    monkeypatch.chdir(workdir / "app")

    result = run("validate")

    assert result.exit_code == 2
    assert result.stderr.startswith(f"{workdir / 'db' / 'missing.yaml'}: file not found")


@pytest.mark.parametrize("source", ["environment", "dotenv", "pyproject"])
def test_update_sql_with_a_dialect_ignores_the_configured_database(
    run: Run,
    example: Path,
    example_ids: list[str],
    write: Write,
    monkeypatch: pytest.MonkeyPatch,
    db: DbView,
    source: str,
) -> None:
    assert run("update-count", "3", "--url", DEFAULT_URL).exit_code == 0
    before = db(DEFAULT_URL).snapshot()
    if source == "environment":
        monkeypatch.setenv("DATABASE_URL", DEFAULT_URL)
    elif source == "dotenv":
        write(".env", f"DATABASE_URL={DEFAULT_URL}\n")
    else:
        write("pyproject.toml", f'[tool.yamlbase]\nurl = "{DEFAULT_URL}"\n')

    result = run("update-sql", "--dialect", "postgresql")

    assert result.exit_code == 0, result.output
    assert changeset_ids(result.stdout) == example_ids, "rendered as for an empty database"
    assert "Dialect: postgresql" in result.stdout
    assert db(DEFAULT_URL).snapshot() == before


def test_update_sql_with_a_dialect_and_a_url_flag_reads_that_database(
    run: Run, example: Path, example_ids: list[str]
) -> None:
    assert run("update-count", "3").exit_code == 0

    result = run("update-sql", "--dialect", "sqlite", "--url", DEFAULT_URL)

    assert result.exit_code == 0, result.output
    assert changeset_ids(result.stdout) == example_ids[3:]


def test_update_sql_api_with_a_dialect_ignores_the_configured_database(
    run: Run, example: Path, example_ids: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("update-count", "3").exit_code == 0
    monkeypatch.setenv("DATABASE_URL", DEFAULT_URL)

    offline = yamlbase.update_sql(dialect="postgresql")
    online = yamlbase.update_sql(DEFAULT_URL, dialect="sqlite")

    assert changeset_ids(offline) == example_ids
    assert changeset_ids(online) == example_ids[3:]


@pytest.mark.parametrize("where", ["flag", "environment", "pyproject"])
def test_the_search_path_names_the_files(
    run: Run, write: Write, workdir: Path, monkeypatch: pytest.MonkeyPatch, db: DbView, where: str
) -> None:
    """``--search-path``, ``YAMLBASE_SEARCH_PATH`` or ``[tool.yamlbase] search-path`` (relative to its file, here
    read from a subfolder): FILENAME is relative to it, and non-relative includes are found in it."""
    (workdir / ".git").mkdir()
    write("db/main.yaml", "databaseChangeLog:\n  - include: {file: parts/only.yaml}\n")
    write("db/parts/only.yaml", SMALL)
    write(".env", f"DATABASE_URL=sqlite:///{workdir / 'app.db'}\n")
    args = ["update", "--changelog-file", str(workdir / "db" / "main.yaml")]
    if where == "flag":
        args += ["--search-path", "db"]
    elif where == "environment":
        monkeypatch.setenv("YAMLBASE_SEARCH_PATH", "db")
    else:
        write("pyproject.toml", '[tool.yamlbase]\nsearch-path = ["db"]\n')
        (workdir / "src").mkdir()
        monkeypatch.chdir(workdir / "src")

    result = run(*args)

    assert result.exit_code == 0, result.output
    assert db(f"sqlite:///{workdir / 'app.db'}").history_ids() == ["parts/only.yaml::only::test"]
