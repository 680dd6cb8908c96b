"""The corpus of broken changelogs (``corpus/``) through the loader and the command line.

Each file directly in ``corpus/`` is invalid: parsing it must end in located problems, quickly, and every
command must refuse it with exit 2 and no traceback, before touching a database. ``corpus/valid/`` holds
valid but unkind changelogs: they must run, or fail cleanly as a migration failure (exit 1).
``corpus/README.md`` says what each file is for.

Parsing first runs in a child process (:func:`survey`), so that a crash in C (libyaml's composer recursing
past the stack) or a hang is reported against its file instead of ending the test session.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from yamlbase.changelog import parse_changelog
from yamlbase.cli import main
from yamlbase.errors import ChangeLogError

Bound = Callable[[float, str], contextlib.AbstractContextManager[None]]
Cli = Callable[..., Result]
Clean = Callable[[Result, set[int], str], None]

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
VALID = CORPUS / "valid"
SUFFIXES = (".yaml", ".yml", ".json")
BROKEN_FILES = sorted(p.name for p in CORPUS.iterdir() if p.suffix in SUFFIXES)
VALID_FILES = sorted(p.name for p in VALID.iterdir() if p.suffix in SUFFIXES)

KNOWN_BUGS: dict[str, str] = {}  # corpus file → "BUG: …" while a known bug stands

# The nesting bound's problem, whichever parser meets the nesting first (libyaml has a bound of its own).
NESTED_TOO_DEEPLY = re.compile(r"\bnest(ed|ing) (too deep|deeper than \d+ levels)")

# What some files must be refused for: the bound that stops them, not some later symptom.
EXPECTED: dict[str, str | re.Pattern[str]] = {
    "alias-bomb.yaml": "YAML alias bomb",
    "alias-chain-deep.yaml": NESTED_TOO_DEEPLY,
    "alias-self-reference.yaml": NESTED_TOO_DEEPLY,
    "alias-self-reference-mapping.yaml": NESTED_TOO_DEEPLY,
    "deep-flow-nesting.yaml": NESTED_TOO_DEEPLY,
    "deep-flow-mappings.yaml": NESTED_TOO_DEEPLY,
    "deep-block-sequences.yaml": NESTED_TOO_DEEPLY,
    "deep-block-mappings.yaml": NESTED_TOO_DEEPLY,
    "deep-in-change.yaml": NESTED_TOO_DEEPLY,
    "binary-zeros.yaml": "U+0000 is not allowed",
    "nul-in-value.yaml": "U+0000 is not allowed",
    "control-characters.yaml": "U+0007 is not allowed",
    "huge-integer-id.yaml": "unreadable value",
    "latin1.yaml": "not UTF-8",
    "includes-itself.yaml": "include cycle",
    "duplicate-keys.yaml": "appears twice",
    "duplicate-keys.json": "appears twice",
    "binary-tag.yaml": '"id" must be a string, not binary data',
    "escape-sequences-in-keys.yaml": 'unknown attribute "\\x1b[2J\\x1b[31mclear"',
    "merge-key-bomb.yaml": 'missing required attribute "id"',  # merged keys collapse; the bomb never grows
}

# A command is given the changelog with --changelog-file; {db} is a SQLite file that must not be created.
COMMANDS = {
    "validate": ["validate"],
    "validate-json": ["validate", "--format", "json"],
    "update-sql": ["update-sql", "--dialect", "postgresql"],
    "update": ["update", "--url", "sqlite:///{db}"],
}

SURVEY = """
import json, sys, time
from yamlbase.changelog import parse_changelog
from yamlbase.errors import ChangeLogError
for name in sys.argv[1:]:
    print("BEGIN " + json.dumps(name), flush=True)
    start = time.perf_counter()
    try:
        parse_changelog(name)
        outcome = "model"
    except ChangeLogError:
        outcome = "ChangeLogError"
    except BaseException as exc:
        outcome = type(exc).__name__ + ": " + str(exc)[:300]
    print("END " + json.dumps([name, outcome, time.perf_counter() - start]), flush=True)
"""
SURVEY_TIMEOUT = 120


def _param(name: str) -> object:
    bug = KNOWN_BUGS.get(name)
    return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=bug)) if bug else name


@pytest.fixture(scope="session")
def survey() -> dict[str, str]:
    """How parsing each corpus file ends, found in child processes: "model", "ChangeLogError", another
    exception's name and message, or how the child died."""
    pending = [*BROKEN_FILES, *(f"valid/{name}" for name in VALID_FILES)]
    outcomes: dict[str, str] = {}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    while pending:
        died = ""
        try:
            child = subprocess.run(
                [sys.executable, "-c", SURVEY, *pending],
                cwd=CORPUS,
                env=env,
                capture_output=True,
                timeout=SURVEY_TIMEOUT,
            )
            output = child.stdout
            if child.returncode != 0:
                died = f"the interpreter died (exit {child.returncode}): {child.stderr.decode(errors='replace')[-500:]}"
        except subprocess.TimeoutExpired as exc:
            output = exc.stdout or b""
            died = f"no result within {SURVEY_TIMEOUT}s (a hang)"
        begun = None
        for line in output.decode(errors="replace").splitlines():
            if line.startswith("BEGIN "):
                begun = json.loads(line[6:])
            elif line.startswith("END "):
                name, outcome, _seconds = json.loads(line[4:])
                outcomes[name] = outcome
                begun = None
        if begun is None:  # every file has its outcome
            break
        outcomes[begun] = died or "the child stopped without a result"
        pending = pending[pending.index(begun) + 1 :]
    return outcomes


@pytest.mark.parametrize("name", [_param(n) for n in BROKEN_FILES])
def test_a_broken_file_is_refused_with_located_problems(
    name: str, survey: dict[str, str], bounded: Bound, located: Callable[[ChangeLogError], None]
) -> None:
    assert survey[name] == "ChangeLogError", f"parsing {name} (in a child process) ended with: {survey[name]}"
    with bounded(20, f"parsing {name}"), pytest.raises(ChangeLogError) as info:
        parse_changelog(CORPUS / name)
    located(info.value)
    expected = EXPECTED.get(name)
    if isinstance(expected, re.Pattern):
        assert expected.search(str(info.value)), str(info.value)
    elif expected is not None:
        assert expected in str(info.value)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", [_param(n) for n in BROKEN_FILES])
def test_every_command_refuses_a_broken_file(
    name: str, command: str, survey: dict[str, str], cli: Cli, clean: Clean, bounded: Bound, tmp_path: Path
) -> None:
    if survey[name] not in ("ChangeLogError", "model"):  # it would crash or hang this process too
        pytest.fail(f"parsing {name} (in a child process) ended with: {survey[name]}")
    db = tmp_path / "never.db"
    args = [a.format(db=db) for a in COMMANDS[command]]
    with bounded(30, f"yamlbase {command} on {name}"):
        result = cli(*args, "--changelog-file", str(CORPUS / name))
    clean(result, {2}, f"yamlbase {command} on {name}")
    if command == "validate-json":
        data = json.loads(result.stdout)
        assert data["valid"] is False and data["problems"], data
        assert all(p["line"] >= 1 and p["column"] >= 1 for p in data["problems"]), data["problems"]
    else:
        *problems, summary = result.stderr.strip().splitlines()
        assert summary.endswith("in the changelog"), result.stderr
        assert problems and all(":" in line for line in problems), result.stderr
    assert not db.exists(), "a changelog that does not parse must not create a database"


@pytest.mark.parametrize("name", VALID_FILES)
def test_an_unkind_valid_file_runs_or_fails_as_a_migration(
    name: str, survey: dict[str, str], cli: Cli, clean: Clean, bounded: Bound, tmp_path: Path
) -> None:
    assert survey[f"valid/{name}"] == "model", survey[f"valid/{name}"]
    path = str(VALID / name)
    url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    with bounded(60, f"commands on valid/{name}"):
        clean(cli("validate", "--changelog-file", path), {0}, "validate")
        clean(cli("update-sql", "--dialect", "postgresql", "--changelog-file", path), {0, 1}, "update-sql")
        first = cli("update", "--url", url, "--changelog-file", path)
        clean(first, {0, 1}, "update")
        again = cli("update", "--url", url, "--changelog-file", path)
        clean(again, {0, 1}, "update again")
        if first.exit_code == 0:  # what ran is recorded with checksums that match on the next run
            assert again.exit_code == 0 and "is up to date" in again.stdout, again.stdout + again.stderr
        clean(cli("status", "--url", url, "--changelog-file", path), {0}, "status")
        clean(cli("history", "--url", url), {0}, "history")


def test_problems_do_not_send_terminal_control_characters() -> None:
    # color=True: output as to a terminal, where click keeps escape sequences (it strips them for pipes).
    result = CliRunner().invoke(
        main, ["validate", "--changelog-file", str(CORPUS / "escape-sequences-in-keys.yaml")], color=True
    )
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr and "\x00" not in result.stderr
    assert "\\x1b[2J" in result.stderr  # shown escaped instead


def test_identifiers_do_not_send_terminal_control_characters(tmp_path: Path) -> None:
    path = str(VALID / "escaped-control-characters.yaml")
    url = f"sqlite:///{tmp_path / 'escapes.db'}"
    runner = CliRunner()
    results = [
        runner.invoke(main, ["status", "--url", url, "--changelog-file", path], color=True),
        runner.invoke(main, ["update", "--url", url, "--changelog-file", path], color=True),
        runner.invoke(main, ["history", "--url", url], color=True),
    ]
    for result in results:
        assert result.exit_code == 0, result.stderr
        assert "\x1b" not in result.stdout and "\x00" not in result.stdout, repr(result.stdout)
