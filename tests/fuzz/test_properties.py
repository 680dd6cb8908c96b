"""Property tests (hypothesis) of the loader and the command line on generated and mutated changelogs.

The properties: parsing returns a model or raises a ChangeLogError whose every problem is located, within a
few seconds; the CLI exits 0 (the mutation left a valid changelog), 1 (a migration failed) or 2 (an invalid
changelog), never with a traceback, and ``validate``, ``update-sql`` and ``update`` agree on whether the
changelog is valid. Example budgets are small so that the whole fuzz suite runs in seconds; in CI the examples
are derandomized (the same each run), locally they differ from run to run; ``YAMLBASE_FUZZ_EXAMPLES`` sets the
budget (200 per property, 60 for the CLI ones) for a longer search.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yamlbase.changelog import ChangeLog, loader, parse_changelog
from yamlbase.errors import ChangeLogError

Bound = Callable[[float, str], contextlib.AbstractContextManager[None]]
Cli = Callable[..., Result]
Clean = Callable[[Result, set[int], str], None]
Located = Callable[[ChangeLogError], None]

IN_CI = os.environ.get("CI", "").lower() == "true"
# YAMLBASE_FUZZ_EXAMPLES=5000 for a deeper search than the default run's.
EXAMPLES = int(os.environ.get("YAMLBASE_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=IN_CI,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CLI_FUZZ = settings(FUZZ, max_examples=max(1, EXAMPLES * 3 // 10))

VALID = """\
databaseChangeLog:
  - changeSet:
      id: create-account
      author: fuzz
      comment: accounts
      changes:
        - createTable:
            tableName: account
            columns:
              - column: {name: id, type: int, autoIncrement: true, constraints: {primaryKey: true}}
              - column: {name: email, type: varchar(200), constraints: {nullable: false, unique: true}}
              - column: {name: created, type: timestamp, defaultValueComputed: CURRENT_TIMESTAMP}
        - createIndex:
            tableName: account
            indexName: ix_account_email
            columns:
              - column: {name: email}
  - changeSet:
      id: add-name
      author: fuzz
      changes:
        - addColumn:
            tableName: account
            columns:
              - column: {name: display_name, type: varchar(100), value: nobody}
              - column: {name: score, type: int, defaultValueNumeric: 0}
  - changeSet:
      id: v1
      author: fuzz
      changes:
        - tagDatabase: {tag: v1}
  - changeSet:
      id: project
      author: fuzz
      changes:
        - createTable:
            tableName: project
            columns:
              - column: {name: id, type: bigint, constraints: {primaryKey: true}}
              - column: {name: owner_id, type: int, constraints: {references: account(id), foreignKeyName: fk_owner}}
        - renameColumn: {tableName: account, oldColumnName: display_name, newColumnName: nickname, columnDataType: varchar(100)}
        - sql:
            sql: INSERT INTO project (id, owner_id) VALUES (1, NULL)
      rollback:
        - sql: DELETE FROM project
        - renameColumn: {tableName: account, oldColumnName: nickname, newColumnName: display_name, columnDataType: varchar(100)}
        - dropTable: {tableName: project}
  - changeSet:
      id: cleanup
      author: fuzz
      changes:
        - dropIndex: {tableName: account, indexName: ix_account_email}
        - dropColumn: {tableName: account, columnName: score}
        - renameTable: {oldTableName: project, newTableName: projects}
"""
VALID_DATA = yaml.safe_load(VALID)
VALID_LINES = VALID.splitlines()

# Scalars of every YAML type, plus the troublesome ones (huge numbers, NaN, tags, aliases, escapes).
ODD_SCALARS = [
    "~",
    "null",
    "true",
    "no",
    "0",
    "-1",
    "1e999",
    "-.inf",
    ".nan",
    "0x1F",
    "0o17",
    "9" * 400,
    "1" * 5000,
    "2024-02-30",
    "2024-01-01T10:00:00",
    "[]",
    "{}",
    "[1, [2]]",
    "{a: 1}",
    '""',
    "''",
    '"\\0\\e\\u202e"',
    "!!binary aGVsbG8=",
    "!!int x",
    "!!python/object:os.system x",
    "*nowhere",
    "&anchor x",
    "<<: 5",
    "|",
    ">-",
    "? x",
    "- item",
    "'unclosed",
    '"unclosed',
    "#",
    "@",
    "`",
    "%",
    "\t",
    "x: y: z",
]
SOUP = [
    "databaseChangeLog:",
    "- changeSet:",
    "changes:",
    "- createTable:",
    "tableName: t",
    "columns:",
    "- column:",
    "name: c",
    "type: int",
    "id: 1",
    "author: a",
    "rollback:",
    "- sql: x",
    "include:",
    "file: x.yaml",
    "includeAll:",
    "path: .",
    "constraints: {primaryKey: true}",
    "&a",
    "*a",
    "<<: *a",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "- ",
    "? ",
    "|",
    ">",
    "'",
    '"',
    "#",
    "!!binary",
    "!!str",
    "!!map",
    "!x",
    "%YAML 1.1",
    "---",
    "...",
    "\n",
    "\n  ",
    "\n    ",
    "  ",
    "\t",
    "\r",
    "\x85",
    "\u2028",
    "\ufeff",
    "\x00",
    "\x1b",
    "é",
    "🦊",
    "\\",
    "\\0",
    "1e400",
    "9" * 50,
    ".nan",
    "~",
]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63, max_value=10**4000)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every node in ``data`` (root excluded)."""
    found = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        found.append((*prefix, key))
        found.extend(_paths(value, (*prefix, key)))
    return found


VALID_PATHS = _paths(VALID_DATA)
LEAF_PATHS = [p for p in VALID_PATHS if not isinstance(_get(VALID_DATA, p), dict | list)]


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {k: (_replace(v, rest, value) if k == head else v) for k, v in data.items()}
    if isinstance(data, list):
        return [(_replace(v, rest, value) if i == head else v) for i, v in enumerate(data)]
    return data  # an earlier mutation replaced this part: the path leads nowhere now


@st.composite
def altered(draw: st.DrawFn) -> str:
    """The valid changelog with a few nodes changed: a value of another type anywhere, a key added or removed,
    or text and numbers of the same type but any content (names with quotes, huge numbers), which often keeps
    the changelog valid and takes it to the database."""
    data = VALID_DATA
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["same-type", "retype", "add-key", "remove"]))
        path = draw(st.sampled_from(LEAF_PATHS if action == "same-type" else VALID_PATHS))
        old = _get(data, path)
        if action == "same-type" and isinstance(old, str):
            data = _replace(data, path, draw(st.text(max_size=40)))
        elif action == "same-type" and isinstance(old, bool):
            data = _replace(data, path, not old)
        elif action == "same-type" and isinstance(old, int | float):
            data = _replace(data, path, draw(st.integers() | st.floats()))
        elif action in ("retype", "same-type"):
            data = _replace(data, path, draw(json_values))
        else:
            parent_path = path[:-1]
            parent: Any = data
            for step in parent_path:
                try:
                    parent = parent[step]
                except (KeyError, IndexError, TypeError):
                    break
            else:
                if isinstance(parent, dict):
                    changed = dict(parent)
                    if action == "add-key":
                        changed[draw(st.text(max_size=15))] = draw(json_values)
                    else:
                        changed.pop(path[-1], None)
                    data = _replace(data, parent_path, changed)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=draw(st.booleans()), width=10_000)


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    """The valid changelog's lines, some deleted, duplicated, swapped, re-indented, given other scalars or garbage."""
    lines = list(VALID_LINES)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "scalar", "garbage", "indent", "truncate"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "scalar":
            head, colon, _ = lines[i].rpartition(": ")
            if colon:
                lines[i] = f"{head}: {draw(st.sampled_from(ODD_SCALARS))}"
        elif action == "garbage":
            at = draw(st.integers(0, len(lines[i])))
            junk = draw(st.text(min_size=1, max_size=4) | st.sampled_from(SOUP))
            lines[i] = lines[i][:at] + junk + lines[i][at:]
        elif action == "indent":
            lines[i] = " " * draw(st.integers(0, 3)) + lines[i].lstrip(" ") if draw(st.booleans()) else lines[i][1:]
        else:
            lines = lines[: i + 1]
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))


@pytest.fixture(scope="module")
def fuzz_file(neutral_folder: Path) -> Path:
    return neutral_folder / "fuzzed.yaml"


def _parse(path: Path, content: str | bytes, bounded: Bound, located: Located) -> ChangeLog | None:
    """Write ``content`` and parse it: a model, or None after checking that every problem is located."""
    if isinstance(content, str):
        content = content.encode("utf-8", "surrogatepass")
    path.write_bytes(content)
    with bounded(10, f"parsing {content[:200]!r}"):
        try:
            return parse_changelog(path)
        except ChangeLogError as error:
            located(error)
            return None


@FUZZ
@given(text=st.text(max_size=2000))
def test_any_text(text: str, fuzz_file: Path, bounded: Bound, located: Located) -> None:
    _parse(fuzz_file, text, bounded, located)


@FUZZ
@given(content=st.binary(max_size=2000))
def test_any_bytes(content: bytes, fuzz_file: Path, bounded: Bound, located: Located) -> None:
    _parse(fuzz_file, content, bounded, located)


@FUZZ
@given(tokens=st.lists(st.sampled_from(SOUP) | st.text(max_size=3), max_size=80))
def test_yaml_token_soup(tokens: list[str], fuzz_file: Path, bounded: Bound, located: Located) -> None:
    _parse(fuzz_file, " ".join(tokens), bounded, located)


@FUZZ
@given(text=altered())
def test_a_value_of_the_wrong_type_anywhere(text: str, fuzz_file: Path, bounded: Bound, located: Located) -> None:
    model = _parse(fuzz_file, text, bounded, located)
    if model is not None:  # what a valid model promises: checksums and descriptions can be computed
        for changeset in model.changesets:
            assert len(changeset.checksum) == 34
            assert changeset.description()


@FUZZ
@given(text=mutated_text())
def test_mutated_lines(text: str, fuzz_file: Path, bounded: Bound, located: Located) -> None:
    _parse(fuzz_file, text, bounded, located)


@FUZZ
@given(
    width=st.integers(2, 12),
    depth=st.integers(2, 12),
    mapping=st.booleans(),
    merge=st.booleans(),
)
def test_alias_expansion_is_bounded(
    width: int, depth: int, mapping: bool, merge: bool, fuzz_file: Path, bounded: Bound, located: Located
) -> None:
    """Anchors that repeat the level below ``width`` times, ``depth`` levels down (up to 12**12 nodes)."""

    def level(i: int) -> str:
        if i == 0:
            return "{" + ", ".join(f"k{j}: x" for j in range(width)) + "}" if merge or mapping else "[x, x]"
        if merge:  # a merge key of merge keys: only the keys survive, whatever the repetition
            return "{<<: [" + ", ".join([f"*l{i - 1}"] * width) + "], k: " + f"*l{i - 1}" + "}"
        if mapping:
            return "{" + ", ".join(f"k{j}: *l{i - 1}" for j in range(width)) + "}"
        return "[" + ", ".join([f"*l{i - 1}"] * width) + "]"

    anchors = "".join(f"      - &l{i} {level(i)}\n" for i in range(depth))
    text = f"databaseChangeLog:\n  - changeSet:\n      id: bomb\n      author: fuzz\n      changes:\n{anchors}"
    expanded = sum(width**i for i in range(depth))
    # A lower limit keeps each example fast; corpus/alias-bomb.yaml meets the real one.
    with mock.patch.object(loader, "MAX_ALIAS_NODES", 5_000):
        model = _parse(fuzz_file, text, bounded, located)
        assert model is None  # never a valid changelog (the changes are lists, not change mappings)
        if expanded > 2 * loader.MAX_ALIAS_NODES and not merge:
            with pytest.raises(ChangeLogError, match="YAML alias bomb"):
                parse_changelog(fuzz_file)


def _cli_round(text: str, folder: Path, cli: Cli, clean: Clean, bounded: Bound) -> None:
    path = folder / "mutated.yaml"
    path.write_text(text, encoding="utf-8")
    db = folder / "mutated.db"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    with bounded(60, f"the CLI on {text[:300]!r}"):
        checked = cli("validate", "--changelog-file", str(path))
        clean(checked, {0, 2}, "validate")
        rendered = cli("update-sql", "--dialect", "postgresql", "--changelog-file", str(path))
        clean(rendered, {0, 1, 2}, "update-sql --dialect postgresql")
        applied = cli("update", "--url", url, "--changelog-file", str(path))
        clean(applied, {0, 1, 2}, "update on SQLite")
    # One verdict on the changelog, whichever command reads it.
    assert (rendered.exit_code == 2) == (checked.exit_code == 2), rendered.stderr
    assert (applied.exit_code == 2) == (checked.exit_code == 2), applied.stderr
    if checked.exit_code == 2:
        assert not db.exists(), "an invalid changelog must not create a database"


@CLI_FUZZ
@given(text=mutated_text())
def test_the_cli_on_mutated_changelogs(text: str, neutral_folder: Path, cli: Cli, clean: Clean, bounded: Bound) -> None:
    _cli_round(text, neutral_folder, cli, clean, bounded)


@CLI_FUZZ
@given(text=altered())
def test_the_cli_on_altered_changelogs(text: str, neutral_folder: Path, cli: Cli, clean: Clean, bounded: Bound) -> None:
    _cli_round(text, neutral_folder, cli, clean, bounded)
