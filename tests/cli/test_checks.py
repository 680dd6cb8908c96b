"""Edits, typos and surprises caught where users look: validate and status against the history, type warnings,
tag refusals, and every command that reads a database naming it. SQLite files, then the PostgreSQL server."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result

Run = Callable[..., Result]
Write = Callable[[str, str], Path]
DbView = Callable[[str], Any]

DEFAULT_URL = "sqlite:///yamlbase.db"
CHECKSUM = r"9:[0-9a-f]{32}"
EDITED = (
    r"  changelog/releases/1\.1-display-names\.yaml::account-display-name::carol "
    rf"\(changelog/releases/1\.1-display-names\.yaml:4:7\): was {CHECKSUM}, is now {CHECKSUM}"
)

TYPO = """
databaseChangeLog:
  - changeSet:
      id: typo
      author: ann
      changes:
        - createTable:
            tableName: t
            columns:
              - column: {name: id, type: int}
              - column: {name: name, type: strnig}
              - column: {name: tags, type: citext}
"""
TYPO_WARNING = (
    'warning: changelog/changelog.yaml:10:44: createTable: unknown type "strnig" (did you mean "string"?); '
    "it goes to the database as written"
)


def lines(text: str) -> list[str]:
    return text.splitlines()


def edit_example(example: Path) -> None:
    release = example.parent / "releases" / "1.1-display-names.yaml"
    release.write_text(release.read_text().replace("type: varchar(10)", "type: varchar(12)"))


# --- validate against the history --------------------------------------------------------------------------


def test_validate_checks_the_default_database_when_it_exists(run: Run, example: Path, db: DbView) -> None:
    assert run("update").exit_code == 0
    result = run("validate")
    assert (result.exit_code, result.stdout) == (
        0,
        f"changelog/changelog.yaml: valid, 10 changeSets; those applied to {DEFAULT_URL} are unchanged\n",
    )
    edit_example(example)
    before = db(DEFAULT_URL).snapshot()

    result = run("validate")

    assert result.exit_code == 1
    assert result.stdout == ""
    err = lines(result.stderr)
    assert err[0] == f"error: changeSets changed after they were applied to {DEFAULT_URL}:"
    assert re.fullmatch(EDITED, err[1]), err
    assert err[2:] == ["Revert the edits, or add a new changeSet for the new change."]
    assert db(DEFAULT_URL).snapshot() == before


def test_validate_format_json_names_each_edited_changeset(run: Run, example: Path) -> None:
    assert run("update").exit_code == 0
    edit_example(example)

    result = run("validate", "--format", "json")

    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["valid"], data["warnings"], data["error"]["type"]) == (False, [], "ChecksumMismatchError")
    (changed,) = data["changed"]
    assert {k: v for k, v in changed.items() if not k.endswith("_checksum")} == {
        "changeset": "changelog/releases/1.1-display-names.yaml::account-display-name::carol",
        "path": "changelog/releases/1.1-display-names.yaml",
        "line": 4,
        "column": 7,
        "outside_properties": [],
    }
    assert re.fullmatch(CHECKSUM, changed["old_checksum"]) and re.fullmatch(CHECKSUM, changed["new_checksum"])
    assert changed["old_checksum"] != changed["new_checksum"]


USES_USER = """
databaseChangeLog:
  - property: {name: user, value: app}
  - changeSet:
      id: grant
      author: ann
      changes:
        - sql: CREATE TABLE owned_by_${user} (id int)
  - changeSet:
      id: plain
      author: ann
      changes:
        - sql: CREATE TABLE plain (id int)
"""


def test_an_environment_variable_that_collides_with_a_property(
    run: Run, write: Write, db: DbView, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in Liquibase, $USER gives ${user} its value over the changelog's property: the first machine ran
    without it, the next has it. Its update warns at the property and says the changed checksum may be the
    variable's doing, not an edit; nothing runs."""
    write("changelog/changelog.yaml", USES_USER)
    monkeypatch.delenv("USER", raising=False)
    monkeypatch.delenv("user", raising=False)
    assert run("update").exit_code == 0
    assert "owned_by_app" in db(DEFAULT_URL).snapshot()["schema"]
    before = db(DEFAULT_URL).snapshot()

    monkeypatch.setenv("USER", "deploy")
    result = run("update")

    assert result.exit_code == 1
    err = lines(result.stderr)
    assert err[0] == (
        "warning: changelog/changelog.yaml:2:15: property user: the environment variable USER overrides the value "
        "given here (the environment comes first, as in Liquibase): what uses ${user}, and its checksum, depends on "
        "the machine it runs on"
    )
    assert err[1] == "error: changeSets changed after they were applied; nothing was run:"
    assert re.fullmatch(
        rf"  changelog/changelog\.yaml::grant::ann \(changelog/changelog\.yaml:4:7\): was {CHECKSUM}, is now {CHECKSUM}",
        err[2],
    )
    assert err[3] == (
        "    it uses ${user} from the environment variable USER: the difference may come from that value on this "
        "machine, not from an edit"
    )
    assert err[4].startswith("Revert the edits, or add a new changeSet for the new change. Where a property's value")
    assert len(err) == 5  # the changeSet that uses no property is not listed
    assert db(DEFAULT_URL).snapshot() == before

    data = json.loads(run("update", "--format", "json").stdout)
    assert [c["outside_properties"] for c in data["changed"]] == [["${user} from the environment variable USER"]]
    monkeypatch.setenv("USER", "app")  # the value it ran with: nothing changed
    assert run("update").exit_code == 0


def test_validate_without_a_database_stays_offline_and_creates_none(run: Run, example: Path, workdir: Path) -> None:
    result = run("validate")
    assert (result.exit_code, result.stdout) == (0, "changelog/changelog.yaml: valid, 10 changeSets\n")
    assert json.loads(run("validate", "--format", "json").stdout)["database"] is None
    assert not (workdir / "yamlbase.db").exists(), "validate must not create the default database"


@pytest.mark.parametrize("where", ["flag", "environment", ".env", "pyproject.toml"])
def test_validate_checks_a_configured_database(
    run: Run, example: Path, write: Write, monkeypatch: pytest.MonkeyPatch, workdir: Path, where: str
) -> None:
    url = "sqlite:///configured.db"
    assert run("update", "--url", url).exit_code == 0
    edit_example(example)
    args = ["validate"]
    if where == "flag":
        args += ["--url", url]
    elif where == "environment":
        monkeypatch.setenv("DATABASE_URL", url)
    elif where == ".env":
        write(".env", f"DATABASE_URL={url}\n")
    else:
        write("pyproject.toml", f'[tool.yamlbase]\nurl = "{url}"\n')

    result = run(*args)

    assert result.exit_code == 1, result.output
    assert lines(result.stderr)[0] == f"error: changeSets changed after they were applied to {url}:"
    assert not (workdir / "yamlbase.db").exists()


def test_validate_of_a_configured_missing_sqlite_file_creates_none(run: Run, example: Path, workdir: Path) -> None:
    result = run("validate", "--url", "sqlite:///not-yet.db", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["database"] is None
    assert not (workdir / "not-yet.db").exists()


# --- type warnings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [[], ["--dialect", "postgresql"]], ids=["plain", "dialect"])
def test_validate_warns_of_a_type_typo_without_failing(run: Run, write: Write, args: list[str]) -> None:
    write("changelog/changelog.yaml", TYPO)

    result = run("validate", *args)

    assert result.exit_code == 0, result.output
    assert lines(result.stderr) == [TYPO_WARNING]
    assert result.stdout == "changelog/changelog.yaml: valid, 1 changeSet\n"
    data = json.loads(run("validate", *args, "--format", "json").stdout)
    assert data["warnings"] == [
        {
            "path": "changelog/changelog.yaml",
            "line": 10,
            "column": 44,
            "message": 'createTable: unknown type "strnig" (did you mean "string"?); it goes to the database as written',
        }
    ]
    assert data["valid"] is True


def test_update_warns_of_the_typos_it_is_about_to_run_only(run: Run, write: Write, db: DbView) -> None:
    write("changelog/changelog.yaml", TYPO)
    assert lines(run("update-sql").stderr) == [TYPO_WARNING]

    result = run("update")

    assert result.exit_code == 0, result.output
    assert lines(result.stderr) == [TYPO_WARNING]
    assert db(DEFAULT_URL).tables() == ["t"]  # unknown types still go to the database as written
    again = run("update")
    assert (again.exit_code, again.stderr) == (0, "")


# --- status --------------------------------------------------------------------------------------------------


def test_status_lists_edited_changesets(run: Run, example: Path, example_ids: list[str]) -> None:
    assert run("update-count", "9").exit_code == 0
    edit_example(example)

    result = run("status")

    assert result.exit_code == 0, result.output
    out = lines(result.stdout)
    assert out[:3] == [
        f"1 changeSet pending on {DEFAULT_URL}",
        f"  {example_ids[-1]}",
        "1 applied changeSet changed since it was applied (update refuses to run until the edits are reverted):",
    ]
    assert re.fullmatch(EDITED, out[3]) and len(out) == 4, out
    data = json.loads(run("status", "--format", "json").stdout)
    assert data["pending"] == [example_ids[-1]]
    assert data["database"] == DEFAULT_URL
    assert [(c["changeset"], c["line"]) for c in data["changed"]] == [(example_ids[5], 4)]


# --- tag -----------------------------------------------------------------------------------------------------


def test_tag_refuses_an_existing_name_unless_forced(
    run: Run, example: Path, example_ids: list[str], db: DbView
) -> None:
    assert run("update").exit_code == 0
    view = db(DEFAULT_URL)
    before = view.snapshot()

    result = run("tag", "v1.0")

    assert result.exit_code == 1
    assert result.stderr == (
        f'error: tag "v1.0" already exists, on {example_ids[4]}; nothing was changed '
        f"(--force moves it to the last changeSet, {example_ids[-1]})\n"
    )
    assert view.snapshot() == before

    result = run("tag", "v1.0", "--force")
    assert (result.exit_code, result.stdout) == (0, f'tagged {example_ids[-1]} as "v1.0"\n')
    assert [(row[0], row[2]) for row in view.history() if row[2]] == [(example_ids[-1], "v1.0")]


def test_tag_refuses_to_replace_the_last_changesets_tag_unless_forced(
    run: Run, example: Path, example_ids: list[str], db: DbView
) -> None:
    assert run("update-to-tag", "v1.0").exit_code == 0
    view = db(DEFAULT_URL)

    result = run("tag", "release-1")

    assert result.exit_code == 1
    assert result.stderr == (
        f'error: the last changeSet, {example_ids[4]}, already carries tag "v1.0"; nothing was changed '
        '(--force replaces it with "release-1")\n'
    )
    assert view.history()[-1][2] == "v1.0"
    assert run("tag", "release-1", "--force", "--format", "json").exit_code == 0
    assert view.history()[-1][2] == "release-1"


# --- naming the database ---------------------------------------------------------------------------------


def test_every_reading_command_names_its_database(run: Run, example: Path, example_ids: list[str]) -> None:
    url = "sqlite:///named.db"
    assert run("history", "--url", url).stdout == f"no changeSets have been applied to {url}\n"
    assert lines(run("status", "--url", url).stdout)[0] == f"10 changeSets pending on {url}"
    assert lines(run("update", "--url", url).stdout)[-1] == f"10 changeSets applied to {url}"
    assert lines(run("history", "--url", url).stdout)[0] == f"history of {url}:"
    assert lines(run("rollback-count", "1", "--url", url).stdout)[-1] == f"1 changeSet rolled back on {url}"
    assert json.loads(run("rollback-count", "1", "--url", url, "--format", "json").stdout) == {
        "rolled_back": [example_ids[-2]],
        "database": url,
    }


# --- a change name as a rollback -------------------------------------------------------------------------------


def test_a_bare_change_name_that_needs_parameters_is_a_located_error(run: Run, write: Write) -> None:
    write(
        "changelog/changelog.yaml",
        """
        databaseChangeLog:
          - changeSet:
              id: one
              author: ann
              changes:
                - sql: create table t (id int)
              rollback: dropTable
        """,
    )
    result = run("validate")
    assert result.exit_code == 2
    assert lines(result.stderr)[0] == (
        'changelog/changelog.yaml:7:17: rollback: "dropTable" is the dropTable change, which needs tableName: '
        "write dropTable: {tableName: ...} (or the SQL itself, if SQL was meant)"
    )


# --- PostgreSQL --------------------------------------------------------------------------------------------------


@pytest.mark.backend
def test_postgresql_validate_status_and_names_hide_the_password(
    run: Run, example: Path, example_ids: list[str], postgresql_url: str
) -> None:
    parsed = sa.make_url(postgresql_url)
    password = parsed.password or "s3cr3t-pw"  # trust authentication ignores an added one
    url = parsed.set(password=password).render_as_string(hide_password=False)
    shown = parsed.set(password=password).render_as_string(hide_password=True)
    assert run("update", "--url", url).exit_code == 0
    assert run("validate", "--url", url).stdout.endswith(f"those applied to {shown} are unchanged\n")
    edit_example(example)

    validated = run("validate", "--url", url)
    status = run("status", "--url", url, "--format", "json")
    history = run("history", "--url", url)

    assert validated.exit_code == 1
    assert lines(validated.stderr)[0] == f"error: changeSets changed after they were applied to {shown}:"
    assert re.fullmatch(EDITED, lines(validated.stderr)[1])
    data = json.loads(status.stdout)
    assert (data["pending"], data["database"]) == ([], shown)
    assert [c["changeset"] for c in data["changed"]] == [example_ids[5]]
    assert lines(history.stdout)[0] == f"history of {shown}:"
    for result in (validated, status, history):
        assert password not in result.output
