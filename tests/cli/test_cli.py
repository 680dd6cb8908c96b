"""End to end through the command line, in-process with click's CliRunner, each test in a fresh folder: on
SQLite files, and (the ``backend`` tests at the end) on the PostgreSQL server of tests/conftest.py.

What a user types, what they see, and what is in the database afterwards (read with SQLAlchemy alone).
Known bugs are strict xfails whose reason names the cause.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result

import yamlbase
from yamlbase.commands import DRIVER_INSTALL_HINT
from yamlbase.errors import MigrationError

Run = Callable[..., Result]
Write = Callable[[str, str], Path]
DbView = Callable[[str], Any]

DEFAULT_URL = "sqlite:///yamlbase.db"
UNREACHABLE = "postgresql://u:secret@127.0.0.1:1/x"
HISTORY_LINE = re.compile(
    r"^ {0,4}(?P<order>\d+)  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?  (?P<type>\S+)\s*  (?P<changeset>\S+)"
    r"(  \[tag (?P<tag>\S+)\])?$"
)

# Three changeSets; the second fails at its last statement, after a CREATE TABLE and an INSERT of its own.
FAILS_IN_SECOND = """
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
        - createTable:
            tableName: t2
            columns:
              - column: {name: id, type: int}
        - sql: INSERT INTO t1 (id) VALUES (1); INSERT INTO nosuch (x) VALUES (1)
  - changeSet:
      id: third
      author: ann
      changes:
        - createTable:
            tableName: t3
            columns:
              - column: {name: id, type: int}
"""

# After tag v1: one changeSet that rolls back by itself, then two that cannot (dropColumn, raw sql).
# drop-a drops by SQL: a dropColumn change would be undone from what yamlbase captured before it ran.
ROLLBACK_BLOCKED = """
databaseChangeLog:
  - changeSet:
      id: create
      author: ann
      changes:
        - createTable:
            tableName: t
            columns:
              - column: {name: id, type: int}
              - column: {name: a, type: int}
              - column: {name: b, type: int}
  - changeSet:
      id: rel
      author: ann
      changes:
        - tagDatabase: {tag: v1}
  - changeSet:
      id: add
      author: ann
      changes:
        - addColumn:
            tableName: t
            columns:
              - column: {name: c, type: int}
  - changeSet:
      id: drop-a
      author: ann
      changes:
        - sql: ALTER TABLE t DROP COLUMN a
  - changeSet:
      id: seed
      author: ann
      changes:
        - sql: INSERT INTO t (id, b) VALUES (1, 2)
"""

SMALL = """
databaseChangeLog:
  - changeSet:
      id: {id}
      author: test
      changes:
        - createTable:
            tableName: {id}
            columns:
              - column: {{name: id, type: int}}
"""


def lines(text: str) -> list[str]:
    return text.splitlines()


def subprocess_env() -> dict[str, str]:
    """The environment for running the CLI as a real process: yamlbase importable, no yamlbase settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("YAMLBASE_URL", "DATABASE_URL")}
    source = str(Path(yamlbase.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH", "")) if p)
    return env


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    """``yamlbase ARGS`` as a separate process, the way a shell runs it (for tracebacks, imports)."""
    return subprocess.run(
        [sys.executable, "-c", "from yamlbase.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )


# --- the example changelog, default settings -----------------------------------------------------------


def test_update_applies_the_example_to_the_default_database(
    run: Run, example: Path, example_ids: list[str], workdir: Path, db: DbView
) -> None:
    result = run("update")

    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [f"ran {i}" for i in example_ids] + [f"10 changeSets applied to {DEFAULT_URL}"]
    assert result.stderr == ""
    assert (workdir / "yamlbase.db").is_file()
    view = db(DEFAULT_URL)
    assert view.history_ids() == example_ids
    assert view.tables() == ["accounts", "issues", "projects"]
    assert view.lock() == (False, None)


def test_second_update_is_up_to_date(run: Run, example: Path, db: DbView) -> None:
    assert run("update").exit_code == 0
    before = db(DEFAULT_URL).snapshot()

    result = run("update")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{DEFAULT_URL} is up to date\n"
    assert db(DEFAULT_URL).snapshot() == before


def test_status_lists_pending_changesets(run: Run, example: Path, example_ids: list[str], workdir: Path) -> None:
    result = run("status")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [f"10 changeSets pending on {DEFAULT_URL}"] + [f"  {i}" for i in example_ids]
    assert not (workdir / "yamlbase.db").exists(), "status must not create the database"

    assert run("update-count", "9").exit_code == 0
    result = run("status")
    assert lines(result.stdout) == [f"1 changeSet pending on {DEFAULT_URL}", f"  {example_ids[-1]}"]

    assert run("update").exit_code == 0
    assert lines(run("status").stdout) == [f"0 changeSets pending on {DEFAULT_URL}"]


def test_history_shows_rows_in_order_with_tags(run: Run, example: Path, example_ids: list[str]) -> None:
    result = run("history")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"no changeSets have been applied to {DEFAULT_URL}\n"

    assert run("update").exit_code == 0
    tagged = run("tag", "deployed")
    assert tagged.exit_code == 0, tagged.output
    assert tagged.stdout == f'tagged {example_ids[-1]} as "deployed"\n'

    result = run("history")
    assert result.exit_code == 0, result.output
    header, *rows = lines(result.stdout)
    assert header == f"history of {DEFAULT_URL}:"
    parsed = [HISTORY_LINE.match(line) for line in rows]
    assert all(parsed), result.stdout
    assert [(int(m["order"]), m["type"], m["changeset"], m["tag"]) for m in parsed if m] == [
        (n, "EXECUTED", cs, {4: "v1.0", 9: "deployed"}.get(n - 1)) for n, cs in enumerate(example_ids, start=1)
    ]


def test_update_count_and_update_to_tag(run: Run, example: Path, example_ids: list[str], db: DbView) -> None:
    result = run("update-count", "2")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [f"ran {i}" for i in example_ids[:2]] + [f"2 changeSets applied to {DEFAULT_URL}"]

    result = run("update-to-tag", "v1.0")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [f"ran {i}" for i in example_ids[2:5]] + [f"3 changeSets applied to {DEFAULT_URL}"]
    assert db(DEFAULT_URL).history_ids() == example_ids[:5]

    result = run("update-to-tag", "no-such-tag")
    assert result.exit_code == 1
    assert result.stderr == 'error: no pending changeSet carries tag "no-such-tag" (a tagDatabase change)\n'
    assert db(DEFAULT_URL).history_ids() == example_ids[:5]


@pytest.mark.parametrize(
    ("command", "exit_code", "expected"),
    [
        ("validate", 0, {"valid": True, "changesets": 10, "warnings": [], "database": None}),
        ("status", 0, {"pending": "IDS", "changed": [], "moved": [], "database": DEFAULT_URL}),
        ("update", 0, {"applied": "IDS", "database": DEFAULT_URL}),
        ("history", 0, []),
        ("list-locks", 0, {"locked": False, "locked_by": None, "granted": None, "holder_alive": None}),
        ("tag-exists", 1, {"tag": "v1.0", "exists": False}),
    ],
)
def test_format_json_on_a_fresh_database(
    run: Run, example: Path, example_ids: list[str], command: str, exit_code: int, expected: Any
) -> None:
    args = [command, "v1.0"] if command == "tag-exists" else [command]

    result = run(*args, "--format", "json")

    assert result.exit_code == exit_code, result.output
    if isinstance(expected, dict):
        expected = {k: example_ids if v == "IDS" else v for k, v in expected.items()}
    assert json.loads(result.stdout) == expected


def test_format_json_after_update(run: Run, example: Path, example_ids: list[str]) -> None:
    assert run("update").exit_code == 0

    history = json.loads(run("history", "--format", "json").stdout)
    assert [row["changeset"] for row in history] == example_ids
    assert [row["order"] for row in history] == list(range(1, 11))
    assert [row["tag"] for row in history] == [None] * 4 + ["v1.0"] + [None] * 5
    assert {row["type"] for row in history} == {"EXECUTED"}
    assert len({row["deployment"] for row in history}) == 1

    assert json.loads(run("--format", "json", "update").stdout) == {"applied": [], "database": DEFAULT_URL}
    assert json.loads(run("status", "--format", "json").stdout) == {
        "pending": [],
        "changed": [],
        "moved": [],
        "database": DEFAULT_URL,
    }
    assert json.loads(run("tag", "t2", "--format", "json").stdout) == {"tag": "t2", "changeset": example_ids[-1]}
    assert json.loads(run("tag-exists", "t2", "--format", "json").stdout) == {"tag": "t2", "exists": True}
    result = run("rollback", "--tag", "v1.0", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"rolled_back": list(reversed(example_ids[5:])), "database": DEFAULT_URL}


# --- where settings come from ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--url", "sqlite:///chosen.db", "update"],
        ["update", "--url", "sqlite:///chosen.db"],
        ["--url", "sqlite:///other.db", "update", "--url", "sqlite:///chosen.db"],
    ],
    ids=["before", "after", "after-wins"],
)
def test_url_before_or_after_the_command(run: Run, example: Path, workdir: Path, args: list[str]) -> None:
    result = run(*args)

    assert result.exit_code == 0, result.output
    assert lines(result.stdout)[-1] == "10 changeSets applied to sqlite:///chosen.db"
    assert sorted(p.name for p in workdir.glob("*.db")) == ["chosen.db"]


@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_changelog_file_before_or_after_the_command(run: Run, write: Write, before: bool) -> None:
    write("db/main.yaml", SMALL.format(id="elsewhere"))
    option = ["--changelog-file", "db/main.yaml"]

    result = run(*option, "status") if before else run("status", *option)

    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [f"1 changeSet pending on {DEFAULT_URL}", "  db/main.yaml::elsewhere::test"]


@pytest.mark.parametrize(
    ("environment", "dotenv", "pyproject", "flag", "expected"),
    [
        ({}, {}, None, None, "yamlbase.db"),
        ({}, {}, "sqlite:///pyproject.db", None, "pyproject.db"),
        ({}, {"DATABASE_URL": "sqlite:///dotenv.db"}, "sqlite:///pyproject.db", None, "dotenv.db"),
        ({"DATABASE_URL": "sqlite:///database_url.db"}, {}, "sqlite:///pyproject.db", None, "database_url.db"),
        (
            {"DATABASE_URL": "sqlite:///database_url.db"},
            {"DATABASE_URL": "sqlite:///dotenv.db"},
            None,
            None,
            "database_url.db",
        ),
        (
            {"YAMLBASE_URL": "sqlite:///yamlbase_url.db", "DATABASE_URL": "sqlite:///database_url.db"},
            {"DATABASE_URL": "sqlite:///dotenv.db"},
            "sqlite:///pyproject.db",
            None,
            "yamlbase_url.db",
        ),
        (
            {"YAMLBASE_URL": "sqlite:///yamlbase_url.db", "DATABASE_URL": "sqlite:///database_url.db"},
            {"DATABASE_URL": "sqlite:///dotenv.db"},
            "sqlite:///pyproject.db",
            "sqlite:///flag.db",
            "flag.db",
        ),
    ],
    ids=[
        "default",
        "pyproject",
        "dotenv-over-pyproject",
        "DATABASE_URL-over-pyproject",
        "environment-over-dotenv",
        "YAMLBASE_URL-over-all",
        "flag-over-all",
    ],
)
def test_url_precedence(
    run: Run,
    example: Path,
    write: Write,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    dotenv: dict[str, str],
    pyproject: str | None,
    flag: str | None,
    expected: str,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    if dotenv:
        write(".env", "".join(f"{k}={v}\n" for k, v in dotenv.items()))
    if pyproject:
        write("pyproject.toml", f'[project]\nname = "app"\n\n[tool.yamlbase]\nurl = "{pyproject}"\n')

    result = run("update", *(["--url", flag] if flag else []))

    assert result.exit_code == 0, result.output
    assert lines(result.stdout)[-1] == f"10 changeSets applied to sqlite:///{expected}"
    assert sorted(p.name for p in workdir.glob("*.db")) == [expected]


@pytest.mark.parametrize(
    ("environment", "pyproject", "flag", "expected"),
    [
        (None, "db/from-pyproject.yaml", None, "from-pyproject"),
        ("db/from-env.yaml", "db/from-pyproject.yaml", None, "from-env"),
        ("db/from-env.yaml", "db/from-pyproject.yaml", "db/from-flag.yaml", "from-flag"),
    ],
    ids=["pyproject", "environment-over-pyproject", "flag-over-all"],
)
def test_changelog_file_precedence(
    run: Run,
    write: Write,
    monkeypatch: pytest.MonkeyPatch,
    environment: str | None,
    pyproject: str,
    flag: str | None,
    expected: str,
) -> None:
    for name in ("from-pyproject", "from-env", "from-flag"):
        write(f"db/{name}.yaml", SMALL.format(id=name.replace("-", "_")))
    write("pyproject.toml", f'[tool.yamlbase]\nchangelog-file = "{pyproject}"\n')
    if environment:
        monkeypatch.setenv("YAMLBASE_CHANGELOG_FILE", environment)

    result = run("status", *(["--changelog-file", flag] if flag else []))

    assert result.exit_code == 0, result.output
    assert lines(result.stdout)[1] == f"  db/{expected}.yaml::{expected.replace('-', '_')}::test"


def test_lock_timeout_from_the_environment(
    run: Run, example: Path, db: DbView, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("update-count", "1").exit_code == 0
    db(DEFAULT_URL).hold_lock("elsewhere pid=1")
    monkeypatch.setenv("YAMLBASE_LOCK_TIMEOUT", "0.1")

    result = run("update")

    assert result.exit_code == 1
    assert "waited 0.1s" in result.stderr


# --- validate -------------------------------------------------------------------------------------------

BROKEN_FILES = {
    "changelog/changelog.yaml": """
        databaseChangeLog:
          - include:
              file: parts/a.yaml
              relativeToChangelogFile: true
          - include:
              file: parts/b.yaml
              relativeToChangelogFile: true
          - include:
              file: parts/c.yaml
              relativeToChangelogFile: true
          - include:
              file: parts/missing.yaml
              relativeToChangelogFile: true
        """,
    "changelog/parts/a.yaml": """
        databaseChangeLog:
          - changeSet:
              id: one
              author: ann
              changes:
                - createTabel:
                    tableName: t
          - changeSet:
              id: two
              changes:
                - dropTable: {tableName: t}
        """,
    "changelog/parts/b.yaml": """
        databaseChangeLog:
          - changeSet:
              id: three
              author: bo
              changes:
                - addColumn:
                    tableName: t
                    columns:
                      - column: {name: c, type: int, nullabel: true}
          - changeSet:
              id: four
              author: bo
              changes:
                - dropTable: {tableName: t}
          - changeSet:
              id: four
              author: bo
              changes:
                - dropTable: {tableName: u}
        """,
    "changelog/parts/c.yaml": """
        databaseChangeLog:
          - changeSet:
              id: five
              author: cy
              changes:
                - createTable:
                    tableName: [oops
        """,
}

BROKEN_PROBLEMS = [
    "changelog/changelog.yaml:12:13: included file not found: changelog/parts/missing.yaml (looked in {workdir})",
    'changelog/parts/a.yaml:6:11: unknown change type "createTabel" (did you mean "createTable"?)',
    'changelog/parts/a.yaml:9:7: changeSet: missing required attribute "author"',
    'changelog/parts/b.yaml:9:46: column: unknown attribute "nullabel"',
    'changelog/parts/b.yaml:16:7: duplicate changeSet id "four" author "bo" in changelog/parts/b.yaml '
    "(first defined at changelog/parts/b.yaml:11:7)",
    "changelog/parts/c.yaml:8:1: YAML syntax error: while parsing a flow sequence did not find expected ',' or ']'",
]


def broken_problems(workdir: Path) -> list[str]:
    """BROKEN_PROBLEMS, a missing include saying where it was looked for (the working folder)."""
    return [p.replace("{workdir}", str(workdir)) for p in BROKEN_PROBLEMS]


@pytest.fixture
def broken(write: Write) -> None:
    for path, text in BROKEN_FILES.items():
        write(path, text)


def test_validate_a_valid_changelog(run: Run, example: Path, workdir: Path) -> None:
    result = run("validate")

    assert result.exit_code == 0, result.output
    assert result.stdout == "changelog/changelog.yaml: valid, 10 changeSets\n"
    assert not (workdir / "yamlbase.db").exists()


def test_validate_reports_every_problem_in_every_file(run: Run, broken: None, workdir: Path) -> None:
    result = run("validate")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert lines(result.stderr) == [*broken_problems(workdir), "6 problems in the changelog"]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["update"],
        ["status"],
        ["update-sql", "--dialect", "postgresql"],
        ["rollback-count", "1"],
        ["rollback-sql", "--count", "1"],
    ],
    ids=lambda a: a[0],
)
def test_an_invalid_changelog_stops_every_command_before_the_database(
    run: Run, broken: None, workdir: Path, args: list[str]
) -> None:
    result = run(*args)

    assert result.exit_code == 2
    assert lines(result.stderr) == [*broken_problems(workdir), "6 problems in the changelog"]
    assert not (workdir / "yamlbase.db").exists()


def test_a_missing_changelog_is_a_located_problem(run: Run) -> None:
    result = run("validate")

    assert result.exit_code == 2
    assert lines(result.stderr) == ["changelog/changelog.yaml: file not found", "1 problem in the changelog"]


def test_a_tab_in_the_indentation_of_an_included_file_is_named_where_it_is(run: Run, write: Write) -> None:
    write(
        "changelog/changelog.yaml",
        "databaseChangeLog:\n  - include: {file: more.yaml, relativeToChangelogFile: true}\n",
    )
    write("changelog/more.yaml", "databaseChangeLog:\n  - changeSet:\n      id: 1\n\t    author: a\n")

    result = run("validate")

    assert result.exit_code == 2
    assert lines(result.stderr) == [
        "changelog/more.yaml:4:1: tab characters are not allowed for indentation in YAML; indent with spaces",
        "1 problem in the changelog",
    ]


def test_validate_format_json_lists_problems_as_json(run: Run, broken: None) -> None:
    result = run("validate", "--format", "json")

    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["valid"] is False
    assert len(data["problems"]) == 6


# --- update-sql -----------------------------------------------------------------------------------------


def _positions(text: str, needles: list[str]) -> list[int]:
    found = []
    for needle in needles:
        assert needle in text, f"missing: {needle}"
        found.append(text.index(needle))
    return found


def test_update_sql_for_postgresql_needs_no_database(
    run: Run, example: Path, example_ids: list[str], workdir: Path
) -> None:
    result = run("update-sql", "--dialect", "postgresql")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert lines(out)[:3] == [
        "-- Update Database Script",
        "-- Change Log: changelog/changelog.yaml",
        "-- Dialect: postgresql",
    ]
    assert "CREATE TABLE databasechangeloglock (" in out
    assert "CREATE TABLE databasechangelog (" in out
    assert "INSERT INTO databasechangeloglock (id, locked) VALUES (1, false);" in out
    lock = re.search(
        r"^UPDATE databasechangeloglock SET locked=true, lockgranted=CURRENT_TIMESTAMP, lockedby='[^']+' "
        r"WHERE databasechangeloglock.id = 1 AND databasechangeloglock.locked = false;$",
        out,
        re.MULTILINE,
    )
    assert lock, out
    release = (
        "UPDATE databasechangeloglock SET locked=false, lockgranted=NULL, lockedby=NULL "
        "WHERE databasechangeloglock.id = 1;"
    )
    headers = [f"-- Changeset {i}" for i in example_ids]
    inserts = []
    for order, identifier in enumerate(example_ids, start=1):
        path, id_, author = identifier.split("::")
        match = re.search(
            r"^INSERT INTO databasechangelog \(id, author, filename, dateexecuted, orderexecuted, exectype, md5sum, "
            r"description, comments, tag, liquibase, contexts, labels, deployment_id\) VALUES "
            rf"\('{re.escape(id_)}', '{author}', '{re.escape(path)}', CURRENT_TIMESTAMP, {order}, 'EXECUTED', "
            r"'9:[0-9a-f]{32}', ",
            out,
            re.MULTILINE,
        )
        assert match, f"no history row for {identifier}"
        inserts.append(match.start())
    assert out.count("INSERT INTO databasechangelog ") == 10
    assert len(re.findall(r"^-- Changeset ", out, re.MULTILINE)) == 10
    # The order of a real run, as Liquibase's: lock table, lock, history table, (changeSet, its history row)*, release.
    lock_table, take, create = _positions(
        out, ["CREATE TABLE databasechangeloglock (", lock.group(0), "CREATE TABLE databasechangelog ("]
    )
    starts = _positions(out, headers)
    (end,) = _positions(out, [release])
    sequence = [lock_table, take, create] + [p for pair in zip(starts, inserts, strict=True) for p in pair] + [end]
    assert sequence == sorted(sequence)
    assert "CREATE TABLE accounts (" in out
    assert "ALTER TABLE project RENAME TO projects;" in out
    assert list(workdir.iterdir()) == [workdir / "changelog"], "update-sql --dialect must not create a database"


def test_update_sql_on_a_partly_updated_database_prints_only_pending(
    run: Run, example: Path, example_ids: list[str], db: DbView
) -> None:
    assert run("update-count", "8").exit_code == 0
    before = db(DEFAULT_URL).snapshot()

    result = run("update-sql")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.findall(r"^-- Changeset (\S+)$", out, re.MULTILINE) == example_ids[8:]
    assert "CREATE TABLE" not in out
    assert out.index("-- Lock Database") < out.index("-- Changeset ") < out.index("-- Release Database Lock")
    assert "INSERT INTO accounts (email, display_name) VALUES ('demo@example.com', 'Demo');" in out
    assert "ALTER TABLE issues ADD COLUMN status VARCHAR(20) DEFAULT 'open' NOT NULL;" in out
    orders = re.findall(r"CURRENT_TIMESTAMP, (\d+), 'EXECUTED'", out)
    assert orders == ["9", "10"]
    assert db(DEFAULT_URL).snapshot() == before, "update-sql must change nothing"


def test_update_sql_with_count(run: Run, example: Path, example_ids: list[str]) -> None:
    result = run("update-sql", "--dialect", "postgresql", "--count", "2")

    assert result.exit_code == 0, result.output
    assert re.findall(r"^-- Changeset (\S+)$", result.stdout, re.MULTILINE) == example_ids[:2]


def test_update_sql_dialect_must_match_the_database(run: Run, example: Path) -> None:
    assert run("update-count", "1").exit_code == 0

    result = run("update-sql", "--dialect", "postgresql", "--url", DEFAULT_URL)

    assert result.exit_code == 2
    assert result.stderr == f"error: --dialect postgresql does not match the database at {DEFAULT_URL} (sqlite)\n"


# --- tag, rollback --------------------------------------------------------------------------------------


def test_rollback_to_a_tag_keeps_the_tagged_changeset(
    run: Run, example: Path, example_ids: list[str], db: DbView
) -> None:
    assert run("update-count", "5").exit_code == 0
    at_v1 = db(DEFAULT_URL).snapshot()
    assert run("update").exit_code == 0
    view = db(DEFAULT_URL)
    full = view.snapshot()

    result = run("rollback", "--tag", "v1.0")

    assert result.exit_code == 0, result.output
    undone = list(reversed(example_ids[5:]))
    assert lines(result.stdout) == [f"rolled back {i}" for i in undone] + [f"5 changeSets rolled back on {DEFAULT_URL}"]
    assert view.history_ids() == example_ids[:5]
    assert view.snapshot() == at_v1
    assert view.lock() == (False, None)

    # And forward again: the same database as a straight run.
    result = run("update")
    assert result.exit_code == 0, result.output
    assert view.snapshot()["schema"] == full["schema"]
    assert view.history_ids() == example_ids


def test_tag_then_rollback_to_it(run: Run, example: Path, example_ids: list[str], db: DbView) -> None:
    assert run("update-count", "3").exit_code == 0

    result = run("tag", "before-issues")
    assert result.exit_code == 0, result.output
    assert result.stdout == f'tagged {example_ids[2]} as "before-issues"\n'
    assert run("tag-exists", "before-issues").stdout == 'tag "before-issues" exists\n'
    missing = run("tag-exists", "nope")
    assert (missing.exit_code, missing.stdout) == (1, 'tag "nope" does not exist\n')

    assert run("update").exit_code == 0
    result = run("rollback", "--tag", "before-issues")

    assert result.exit_code == 0, result.output
    assert lines(result.stdout)[-1] == f"7 changeSets rolled back on {DEFAULT_URL}"
    view = db(DEFAULT_URL)
    assert view.history_ids() == example_ids[:3]
    assert view.history()[-1][2] == "before-issues"
    assert view.tables() == ["accounts", "legacy_sessions", "project"]


def test_rollback_count(run: Run, example: Path, example_ids: list[str], db: DbView) -> None:
    assert run("update").exit_code == 0

    result = run("rollback-count", "2")

    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [
        f"rolled back {example_ids[9]}",
        f"rolled back {example_ids[8]}",
        f"2 changeSets rolled back on {DEFAULT_URL}",
    ]
    view = db(DEFAULT_URL)
    assert view.history_ids() == example_ids[:8]
    assert "status" not in view.columns("issues")
    assert view.scalars("SELECT COUNT(*) FROM accounts") == [0]
    assert lines(run("status").stdout)[0] == f"2 changeSets pending on {DEFAULT_URL}"


def test_rollback_sql_prints_the_rollback_and_changes_nothing(
    run: Run, example: Path, example_ids: list[str], db: DbView
) -> None:
    assert run("update").exit_code == 0
    before = db(DEFAULT_URL).snapshot()

    result = run("rollback-sql", "--tag", "v1.0")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert lines(out)[:2] == ["-- Rollback Database Script", "-- Change Log: changelog/changelog.yaml"]
    undone = list(reversed(example_ids[5:]))
    assert re.findall(r"^-- Rolling Back ChangeSet: (\S+)$", out, re.MULTILINE) == undone
    assert out.count('DELETE FROM "DATABASECHANGELOG" WHERE') == 5
    assert "DELETE FROM projects WHERE name = 'Demo project';" in out
    assert "ALTER TABLE projects RENAME TO project;" in out
    assert "CREATE TABLE legacy_sessions (" in out
    assert "release-1.0" not in out, "the tagged changeSet stays"
    assert db(DEFAULT_URL).snapshot() == before


@pytest.mark.parametrize(
    ("args", "blocked"),
    [
        (["rollback", "--tag", "v1"], ["seed", "drop-a"]),
        (["rollback-count", "3"], ["seed", "drop-a"]),
        (["rollback-count", "1"], ["seed"]),
        (["rollback-sql", "--tag", "v1"], ["seed", "drop-a"]),
    ],
    ids=["rollback-tag", "rollback-count-3", "rollback-count-1", "rollback-sql"],
)
def test_impossible_rollback_is_refused_and_changes_nothing(
    run: Run, write: Write, db: DbView, args: list[str], blocked: list[str]
) -> None:
    write("changelog/changelog.yaml", ROLLBACK_BLOCKED)
    assert run("update").exit_code == 0
    view = db(DEFAULT_URL)
    before = view.snapshot()

    result = run(*args)

    assert result.exit_code == 1
    assert result.stdout == ""
    reasons = {
        "seed": "  changelog/changelog.yaml::seed::ann (changelog/changelog.yaml:31:7): "
        "sql cannot be rolled back automatically; add a rollback block",
        "drop-a": "  changelog/changelog.yaml::drop-a::ann (changelog/changelog.yaml:26:7): "
        "sql cannot be rolled back automatically; add a rollback block",
    }
    assert lines(result.stderr) == ["error: cannot roll back; nothing was changed:"] + [reasons[b] for b in blocked]
    assert view.snapshot() == before
    assert view.columns("t") == ["id", "b", "c"]


def test_rollback_to_an_unknown_tag(run: Run, example: Path, db: DbView) -> None:
    assert run("update").exit_code == 0
    before = db(DEFAULT_URL).snapshot()

    result = run("rollback", "--tag", "v9")

    assert result.exit_code == 1
    assert result.stderr == 'error: tag "v9" is not in DATABASECHANGELOG\n'
    assert db(DEFAULT_URL).snapshot() == before


def test_a_failing_rollback_statement_undoes_that_changesets_rollback(run: Run, write: Write, db: DbView) -> None:
    write(
        "changelog/changelog.yaml",
        """
        databaseChangeLog:
          - changeSet:
              id: base
              author: ann
              changes:
                - tagDatabase: {tag: start}
          - changeSet:
              id: two
              author: ann
              changes:
                - createTable:
                    tableName: t2
                    columns:
                      - column: {name: id, type: int}
              rollback:
                - dropTable: {tableName: t2}
                - sql: DELETE FROM nosuch
          - changeSet:
              id: three
              author: ann
              changes:
                - createTable:
                    tableName: t3
                    columns:
                      - column: {name: id, type: int}
        """,
    )
    assert run("update").exit_code == 0

    result = run("rollback", "--tag", "start")

    assert result.exit_code == 1
    assert result.stdout == "rolled back changelog/changelog.yaml::three::ann\n"
    assert lines(result.stderr) == [
        "error: changeSet changelog/changelog.yaml::two::ann failed",
        "  statement: DELETE FROM nosuch",
        "  database error: no such table: nosuch",
    ]
    view = db(DEFAULT_URL)
    assert view.history_ids() == ["changelog/changelog.yaml::base::ann", "changelog/changelog.yaml::two::ann"]
    assert view.tables() == ["t2"], "the dropTable before the failing statement was rolled back"
    assert view.lock() == (False, None)


@pytest.mark.parametrize("args", [["rollback-count", "1"], ["rollback", "--tag", "v1.0"], ["release-locks"]])
def test_commands_that_need_history_do_not_create_a_missing_sqlite_file(
    run: Run, example: Path, workdir: Path, args: list[str]
) -> None:
    result = run(*args, "--url", "sqlite:///typo.db")

    assert not (workdir / "typo.db").exists()
    assert result.exit_code == 1


# --- failures -------------------------------------------------------------------------------------------

CONNECT_ERROR = "error: cannot connect to postgresql://u:***@127.0.0.1:1/x: "


@pytest.mark.parametrize(
    "args",
    [
        ["update"],
        ["update-count", "1"],
        ["update-to-tag", "v1.0"],
        ["update-sql"],
        ["update-sql", "--dialect", "postgresql"],
        ["status"],
        ["history"],
        ["rollback", "--tag", "v1.0"],
        ["rollback-count", "1"],
        ["rollback-sql", "--count", "1"],
        ["tag", "t"],
        ["tag-exists", "t"],
        ["list-locks"],
        ["release-locks"],
    ],
    ids=lambda a: " ".join(a),
)
def test_unreachable_database(run: Run, example: Path, args: list[str]) -> None:
    result = run(*args, "--url", UNREACHABLE)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(CONNECT_ERROR)
    assert "Connection refused" in result.stderr
    assert result.stderr.count("\n") == 1, "one paragraph"
    assert "secret" not in result.output
    assert "Traceback" not in result.output


def test_unreachable_database_with_debug_hides_the_password_too(example: Path) -> None:
    proc = run_process("update", "--url", UNREACHABLE, "--debug")

    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert "postgresql://u:***@127.0.0.1:1/x" in proc.stderr
    assert "secret" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("url", ["not a url", "sqlite//missing-colon.db"])
def test_a_malformed_url_is_bad_usage(run: Run, example: Path, url: str) -> None:
    result = run("status", "--url", url)

    assert result.exit_code == 2
    assert result.stderr.startswith("error: not a database URL: ")
    assert "Traceback" not in result.output


def test_a_url_with_a_bad_port_is_bad_usage(run: Run, example: Path) -> None:
    result = run("status", "--url", "postgresql://u:secret@127.0.0.1:notaport/x")

    assert result.exit_code == 2
    assert result.stderr.startswith("error: not a database URL: ")
    assert "secret" not in result.output


def test_a_malformed_url_does_not_print_its_password(run: Run, example: Path) -> None:
    result = run("status", "--url", "u:secret@db.example.com/app")

    assert result.exit_code == 2
    assert result.stderr.startswith("error: not a database URL: ")
    assert "secret" not in result.output


@pytest.mark.parametrize(
    ("user", "password"),
    [("app", "Kq@Zv:W9j"), ("app", "Kq@ZvW9j"), ("app@server", "Kq@ZvW9j"), ("app", "Kq/@Zv:W9j@")],
    ids=["at-and-colon", "at", "at-after-an-azure-user-name", "at-slash-and-a-trailing-at"],
)
def test_a_password_holding_an_at_sign_is_refused_without_showing_it(
    run: Run, example: Path, user: str, password: str
) -> None:
    result = run("status", "--url", f"postgresql://{user}:{password}@db.example.com:5432/app")

    assert result.exit_code == 2
    assert result.stdout == ""
    (message,) = result.stderr.splitlines()
    assert message.startswith(f"error: the database URL 'postgresql://{user}:***@db.example.com:5432/app' ")
    assert "%40" in message and "%3A" in message and "urllib.parse.quote_plus" in message
    for piece in ("Kq", "Zv", "W9j"):
        assert piece not in message


def test_a_password_with_a_colon_is_read_whole(run: Run, example: Path) -> None:
    """``:`` needs no encoding in a password (it ends at the '@'), and is never shown either."""
    result = run("status", "--url", "postgresql://app:Kq:Zv:W9j@127.0.0.1:1/app")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot connect to postgresql://app:***@127.0.0.1:1/app: ")
    assert "Kq" not in result.output and "Zv" not in result.output and "W9j" not in result.output


def test_unknown_driver_is_a_database_error_without_password(run: Run, example: Path) -> None:
    result = run("status", "--url", "postgresql+nosuchdriver://u:secret@127.0.0.1/x")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: no database driver for postgresql+nosuchdriver://u:***@127.0.0.1/x: ")
    assert result.stderr.rstrip().endswith(DRIVER_INSTALL_HINT)
    assert "secret" not in result.output


@pytest.mark.parametrize("args", [["update"], ["status"], ["history"]], ids=lambda a: a[0])
def test_a_history_table_of_another_layout_is_reported_in_one_paragraph(
    run: Run, example: Path, db: DbView, args: list[str]
) -> None:
    # DATABASECHANGELOG as Liquibase 2 left it: no CONTEXTS, LABELS, DEPLOYMENT_ID.
    with db(DEFAULT_URL).engine.begin() as connection:
        connection.exec_driver_sql(
            'CREATE TABLE "DATABASECHANGELOG" (ID VARCHAR(255) NOT NULL, AUTHOR VARCHAR(255) NOT NULL, '
            "FILENAME VARCHAR(255) NOT NULL, DATEEXECUTED DATETIME NOT NULL, ORDEREXECUTED INT NOT NULL, "
            "EXECTYPE VARCHAR(10) NOT NULL, MD5SUM VARCHAR(35), DESCRIPTION VARCHAR(255), COMMENTS VARCHAR(255), "
            "TAG VARCHAR(255), LIQUIBASE VARCHAR(20))"
        )

    result = run(*args)

    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "DATABASECHANGELOG" in result.stderr
    assert "unexpected" not in result.stderr
    assert "[SQL:" not in result.stderr
    assert result.stderr.count("\n") == 1, "one paragraph"


def test_failing_changeset_is_rolled_back_and_named(run: Run, write: Write, db: DbView) -> None:
    write("changelog/changelog.yaml", FAILS_IN_SECOND)

    result = run("update")

    assert result.exit_code == 1
    assert result.stdout == "ran changelog/changelog.yaml::first::ann\n"
    assert lines(result.stderr) == [
        "error: changeSet changelog/changelog.yaml::second::ann failed",
        "  statement: INSERT INTO nosuch (x) VALUES (1)",
        "  database error: no such table: nosuch",
    ]
    assert "Traceback" not in result.output
    view = db(DEFAULT_URL)
    assert view.history_ids() == ["changelog/changelog.yaml::first::ann"]
    assert view.tables() == ["t1"], "t2 (created earlier in the failing changeSet) must be rolled back"
    assert view.scalars("SELECT COUNT(*) FROM t1") == [0], "the INSERT before the failure must be rolled back"
    assert view.lock() == (False, None)
    assert lines(run("status").stdout) == [
        f"2 changeSets pending on {DEFAULT_URL}",
        "  changelog/changelog.yaml::second::ann",
        "  changelog/changelog.yaml::third::ann",
    ]


def test_a_change_on_a_missing_table_says_the_table_is_missing(run: Run, write: Write) -> None:
    write(
        "changelog/changelog.yaml",
        """
        databaseChangeLog:
          - changeSet:
              id: drop
              author: ann
              changes:
                - dropColumn: {tableName: nosuch, columnName: a}
        """,
    )

    result = run("update")

    assert result.exit_code == 1
    assert lines(result.stderr)[0] == "error: changeSet changelog/changelog.yaml::drop::ann failed"
    assert re.search(r"(no such table|does not exist).*nosuch|nosuch.*(no such table|does not exist)", result.stderr)


def test_a_held_lock_names_its_holder_and_release_locks_frees_it(
    run: Run, example: Path, example_ids: list[str], db: DbView
) -> None:
    assert run("update-count", "1").exit_code == 0
    view = db(DEFAULT_URL)
    view.hold_lock("ci-runner-7 pid=4242")
    before = view.snapshot()

    result = run("update", "--lock-timeout", "0.2")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "warning: waiting up to 0.2s for DATABASECHANGELOGLOCK, held by ci-runner-7 pid=4242 since 2024-01-02 03:04:05\n"
        "error: DATABASECHANGELOGLOCK is held by ci-runner-7 pid=4242 since 2024-01-02 03:04:05; waited 0.2s. "
        "If that process is gone, run `yamlbase release-locks`.\n"
    )
    assert view.snapshot() == before
    assert run("list-locks").stdout == "locked by ci-runner-7 pid=4242 since 2024-01-02 03:04:05\n"

    released = run("release-locks")
    assert (released.exit_code, released.stdout) == (0, "lock released\n")
    assert run("list-locks").stdout == "not locked\n"

    result = run("update")
    assert result.exit_code == 0, result.output
    assert view.history_ids() == example_ids


def test_tag_waits_for_the_lock_too(run: Run, example: Path, db: DbView) -> None:
    assert run("update").exit_code == 0
    db(DEFAULT_URL).hold_lock("someone")

    result = run("tag", "x", "--lock-timeout", "0")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: DATABASECHANGELOGLOCK is held by someone since ")
    assert db(DEFAULT_URL).history()[-1][2] is None


def test_editing_an_applied_changeset_stops_update(run: Run, example: Path, example_ids: list[str], db: DbView) -> None:
    assert run("update").exit_code == 0
    view = db(DEFAULT_URL)
    before = view.snapshot()
    release = example.parent / "releases" / "1.1-display-names.yaml"
    release.write_text(release.read_text().replace("type: varchar(10)", "type: varchar(12)"))
    (example.parent / "releases" / "1.3-more.yaml").write_text(
        "databaseChangeLog:\n"
        "  - changeSet:\n"
        "      id: more\n"
        "      author: eve\n"
        "      changes:\n"
        "        - createTable: {tableName: more, columns: [{column: {name: id, type: int}}]}\n"
    )

    result = run("update")

    assert result.exit_code == 1
    assert result.stdout == ""
    err = lines(result.stderr)
    assert err[0] == "error: changeSets changed after they were applied; nothing was run:"
    assert re.fullmatch(
        r"  changelog/releases/1\.1-display-names\.yaml::account-display-name::carol "
        r"\(changelog/releases/1\.1-display-names\.yaml:4:7\): was 9:[0-9a-f]{32}, is now 9:[0-9a-f]{32}",
        err[1],
    ), err
    assert err[2:] == ["Revert the edits, or add a new changeSet for the new change."]
    assert view.snapshot() == before, "nothing may run, not even the new changeSet"
    assert run("update-sql").exit_code == 1


def test_debug_shows_the_traceback_the_default_does_not(run: Run, write: Write) -> None:
    write("changelog/changelog.yaml", FAILS_IN_SECOND)

    plain = run_process("update")
    assert plain.returncode == 1
    assert "Traceback" not in plain.stderr
    assert plain.stderr.startswith("error: changeSet changelog/changelog.yaml::second::ann failed\n")

    Path("yamlbase.db").unlink()
    debug = run_process("update", "--debug")
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "yamlbase.errors.MigrationError: changeSet changelog/changelog.yaml::second::ann failed" in debug.stderr

    Path("yamlbase.db").unlink()
    in_process = run("--debug", "update")
    assert isinstance(in_process.exception, MigrationError)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["frob"], "No such command 'frob'"),
        (["update", "--frob"], "No such option"),
        (["--frob", "update"], "No such option"),
        (["rollback"], "Missing option '--tag'"),
        (["update-count", "many"], "'many' is not a valid integer"),
        (["update", "--lock-timeout", "soon"], "'soon' is not a valid float"),
        (["update-sql", "--dialect", "dbase"], "'dbase' is not one of"),
        (["history", "--format", "xml"], "'xml' is not one of"),
        (["rollback-sql"], "give exactly one of --tag or a count"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_bad_usage_exits_2(run: Run, example: Path, workdir: Path, args: list[str], message: str) -> None:
    result = run(*args)

    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (workdir / "yamlbase.db").exists()


def test_help_imports_only_the_cli() -> None:
    code = (
        "import sys\n"
        "from yamlbase.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('sqlalchemy', 'alembic', 'jsonschema', 'pydantic', 'yaml', 'psycopg', 'flask', 'flask_sqlalchemy')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), timeout=60
    )

    assert proc.returncode == 0, proc.stderr
    assert "update-sql" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "LOADED []"


# --- PostgreSQL (a real server from tests/conftest.py's postgresql_url) -------------------------------------


def with_password(url: str) -> tuple[str, str, str]:
    """``url`` with a password (kept if it has one; trust authentication ignores an added one), the form
    yamlbase may print, and the password that must never appear."""
    parsed = sa.make_url(url)
    password = parsed.password or "s3cr3t-pw"
    secret_url = parsed.set(password=password)
    return secret_url.render_as_string(hide_password=False), secret_url.render_as_string(hide_password=True), password


@pytest.mark.backend
def test_postgresql_password_with_at_and_colon_url_encoded_as_the_hint_says(
    run: Run, example: Path, db: DbView, postgresql_url: str
) -> None:
    admin = sa.make_url(postgresql_url)
    role, password = f"app_{uuid.uuid4().hex[:8]}", "p@ss:w0rd/x"
    engine = db(postgresql_url).engine
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        connection.exec_driver_sql(f"GRANT ALL ON SCHEMA public TO {role}")
    where = f"{admin.host}:{admin.port}/{admin.database}"
    try:
        refused = run("update", "--url", f"postgresql://{role}:{password}@{where}")
        result = run("update", "--url", f"postgresql://{role}:{urllib.parse.quote_plus(password)}@{where}")
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP OWNED BY {role}")
            connection.exec_driver_sql(f"DROP ROLE {role}")

    assert refused.exit_code == 2, refused.output
    assert "%40" in refused.stderr and "w0rd" not in refused.output
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"10 changeSets applied to postgresql://{role}:***@{where}"
    assert "w0rd" not in result.output


@pytest.mark.backend
def test_postgresql_update_history_and_rollback(
    run: Run, example: Path, example_ids: list[str], db: DbView, postgresql_url: str
) -> None:
    url, shown, password = with_password(postgresql_url)
    view = db(postgresql_url)

    result = run("--url", url, "update-count", "5")
    assert result.exit_code == 0, result.output
    at_v1 = view.snapshot()

    result = run("update", "--url", url)
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [f"ran {i}" for i in example_ids[5:]] + [f"5 changeSets applied to {shown}"]
    assert f":{password}@" not in result.output
    full = view.snapshot()
    assert view.tables() == ["accounts", "issues", "projects"]

    result = run("update", "--url", url)
    assert result.stdout == f"{shown} is up to date\n"
    assert f":{password}@" not in result.output

    history = json.loads(run("history", "--url", url, "--format", "json").stdout)
    assert [(row["changeset"], row["tag"]) for row in history] == [
        (i, "v1.0" if n == 4 else None) for n, i in enumerate(example_ids)
    ]

    result = run("rollback", "--url", url, "--tag", "v1.0")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [f"rolled back {i}" for i in reversed(example_ids[5:])] + [
        f"5 changeSets rolled back on {shown}"
    ]
    assert view.snapshot() == at_v1

    assert run("update", "--url", url).exit_code == 0
    assert view.snapshot()["schema"] == full["schema"]
    assert view.history_ids() == example_ids


@pytest.mark.backend
def test_postgresql_failing_changeset_is_rolled_back_and_named(
    run: Run, write: Write, db: DbView, postgresql_url: str
) -> None:
    write("changelog/changelog.yaml", FAILS_IN_SECOND)

    result = run("update", "--url", postgresql_url)

    assert result.exit_code == 1
    assert result.stdout == "ran changelog/changelog.yaml::first::ann\n"
    err = lines(result.stderr)
    assert err[:2] == [
        "error: changeSet changelog/changelog.yaml::second::ann failed",
        "  statement: INSERT INTO nosuch (x) VALUES (1)",
    ]
    assert err[2].startswith('  database error: relation "nosuch" does not exist')
    assert len(err) == 3
    view = db(postgresql_url)
    assert view.history_ids() == ["changelog/changelog.yaml::first::ann"]
    assert view.tables() == ["t1"], "t2 (created earlier in the failing changeSet) must be rolled back"
    assert view.scalars("SELECT COUNT(*) FROM t1") == [0], "the INSERT before the failure must be rolled back"
    assert view.lock() == (False, None)


@pytest.mark.backend
def test_postgresql_impossible_rollback_changes_nothing(
    run: Run, write: Write, db: DbView, postgresql_url: str
) -> None:
    write("changelog/changelog.yaml", ROLLBACK_BLOCKED)
    assert run("update", "--url", postgresql_url).exit_code == 0
    view = db(postgresql_url)
    before = view.snapshot()

    result = run("rollback", "--url", postgresql_url, "--tag", "v1")

    assert result.exit_code == 1
    assert lines(result.stderr) == [
        "error: cannot roll back; nothing was changed:",
        "  changelog/changelog.yaml::seed::ann (changelog/changelog.yaml:31:7): "
        "sql cannot be rolled back automatically; add a rollback block",
        "  changelog/changelog.yaml::drop-a::ann (changelog/changelog.yaml:26:7): "
        "sql cannot be rolled back automatically; add a rollback block",
    ]
    assert view.snapshot() == before


@pytest.mark.backend
def test_postgresql_held_lock_and_release_locks(
    run: Run, example: Path, example_ids: list[str], db: DbView, postgresql_url: str
) -> None:
    assert run("update-count", "1", "--url", postgresql_url).exit_code == 0
    view = db(postgresql_url)
    view.hold_lock("deploy-box pid=99")

    result = run("update", "--url", postgresql_url, "--lock-timeout", "0.2")

    assert result.exit_code == 1
    assert result.stderr == (
        "warning: waiting up to 0.2s for DATABASECHANGELOGLOCK, held by deploy-box pid=99 since 2024-01-02 03:04:05\n"
        "error: DATABASECHANGELOGLOCK is held by deploy-box pid=99 since 2024-01-02 03:04:05; waited 0.2s. "
        "If that process is gone, run `yamlbase release-locks`.\n"
    )
    assert view.history_ids() == example_ids[:1]
    assert run("release-locks", "--url", postgresql_url).exit_code == 0
    assert run("update", "--url", postgresql_url).exit_code == 0
    assert view.history_ids() == example_ids
    assert view.lock() == (False, None)


@pytest.mark.backend
def test_postgresql_update_sql_prints_only_pending(
    run: Run, example: Path, example_ids: list[str], db: DbView, postgresql_url: str
) -> None:
    assert run("update-count", "8", "--url", postgresql_url).exit_code == 0
    view = db(postgresql_url)
    before = view.snapshot()

    for dialect in ([], ["--dialect", "postgresql"]):
        result = run("update-sql", "--url", postgresql_url, *dialect)
        assert result.exit_code == 0, result.output
        assert re.findall(r"^-- Changeset (\S+)$", result.stdout, re.MULTILINE) == example_ids[8:]
        assert "CREATE TABLE" not in result.stdout
        assert re.findall(r"CURRENT_TIMESTAMP, (\d+), 'EXECUTED'", result.stdout) == ["9", "10"]
    assert view.snapshot() == before


@pytest.mark.backend
def test_postgresql_python_api(example: Path, example_ids: list[str], postgresql_url: str) -> None:
    assert [cs.identifier for cs in yamlbase.update(postgresql_url, str(example))] == example_ids
    assert yamlbase.status(postgresql_url, str(example)) == []
    undone = yamlbase.rollback(postgresql_url, str(example), tag="v1.0")
    assert [row.identifier for row in undone] == list(reversed(example_ids[5:]))
    assert [cs.identifier for cs in yamlbase.status(postgresql_url, str(example))] == example_ids[5:]


# --- several instances starting at once ------------------------------------------------------------------

RACED_CREATE = re.compile(r'^\s*CREATE TABLE "?(?P<name>databasechangelog(lock)?)"? \(', re.IGNORECASE)


@contextlib.contextmanager
def another_instance_creates_first(other: sa.Engine, table: str) -> Iterator[list[str]]:
    """Just before yamlbase runs ``CREATE TABLE <table>``, another instance - a second connection to the same
    real database - runs that same statement and commits, as an app replica starting at the same moment does."""
    raced: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        match = RACED_CREATE.match(statement)
        if raced or not match or match["name"].lower() != table:
            return
        raced.append(match["name"])
        with other.begin() as connection:
            connection.exec_driver_sql(statement)
            if table == "databasechangeloglock":
                connection.exec_driver_sql(f'INSERT INTO "{match["name"]}" VALUES (1, false, NULL, NULL)')

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before)
    try:
        yield raced
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", before)


# On SQLite a second connection cannot slip a CREATE in while this one holds its write transaction (the
# simulation would deadlock itself); real concurrent processes are tested in tests/backends/test_concurrency.py.


@pytest.mark.backend
@pytest.mark.parametrize("table", ["databasechangeloglock", "databasechangelog"])
def test_postgresql_update_survives_another_instance_creating_the_tables(
    run: Run, example: Path, example_ids: list[str], db: DbView, postgresql_url: str, table: str
) -> None:
    view = db(postgresql_url)
    with another_instance_creates_first(view.engine, table) as raced:
        result = run("update", "--url", postgresql_url)

    assert raced, "the other instance did not get to run"
    assert result.exit_code == 0, result.output
    assert view.history_ids() == example_ids
    assert view.lock() == (False, None)
