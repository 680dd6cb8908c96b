"""Reading changelogs without a database: marks, includes, logical paths, and every problem located at once."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from yamlbase.changelog import ChangeLog, parse_changelog
from yamlbase.changelog import loader as loader_module
from yamlbase.changelog.loader import Document, DocumentError, read_document
from yamlbase.changelog.validate import suggest
from yamlbase.changes.column import AddColumn, ColumnConfig, ColumnItem
from yamlbase.changes.sql import Sql
from yamlbase.changes.table import CreateTable, DropTable
from yamlbase.errors import ChangeLogError, Location

# --- helpers -------------------------------------------------------------------------------------------------


def write(root: Path, files: dict[str, str | bytes]) -> None:
    """Create ``files`` (relative path → YAML/JSON text, dedented, or raw bytes) below ``root``."""
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")


def problems(path: str | os.PathLike[str]) -> list[str]:
    """Every problem the changelog at ``path`` has, as ``path:line:col: message``; fails when it is valid."""
    with pytest.raises(ChangeLogError) as info:
        parse_changelog(path)
    lines = [str(p) for p in info.value.problems]
    assert str(info.value) == "\n".join(lines)
    return lines


def identities(changelog: ChangeLog) -> list[tuple[str, str, str]]:
    return [(cs.path, cs.id, cs.author) for cs in changelog.changesets]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder that is also the working folder, so reported paths are short and relative."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- marks ---------------------------------------------------------------------------------------------------

MARKED = """\
databaseChangeLog:
  - changeSet:
      id: one
      author: ann
      changes:
        - createTable:
            tableName: t
            columns:
              - column: {name: id, type: int}
"""


def test_marks_record_line_and_column_of_every_node_and_key(here: Path) -> None:
    write(here, {"c.yaml": MARKED})
    doc = read_document(here / "c.yaml", "c.yaml")
    cs = ("databaseChangeLog", 0, "changeSet")
    assert doc.data["databaseChangeLog"][0]["changeSet"]["id"] == "one"
    assert doc.marks[()] == (1, 1)
    assert doc.marks[("databaseChangeLog", 0)] == (2, 5)
    assert doc.marks[cs] == (3, 7)
    assert doc.marks[(*cs, "id")] == (3, 11)
    assert doc.key_marks[(*cs, "id")] == (3, 7)
    assert doc.key_marks[(*cs, "author")] == (4, 7)
    column = (*cs, "changes", 0, "createTable", "columns", 0, "column")
    assert doc.marks[column] == (9, 25)
    assert doc.marks[(*column, "type")] == (9, 42)
    assert doc.key_marks[(*column, "type")] == (9, 36)


def test_location_of_a_node_a_key_and_the_nearest_parent(here: Path) -> None:
    write(here, {"c.yaml": MARKED})
    doc = read_document(here / "c.yaml", "c.yaml")
    cs = ("databaseChangeLog", 0, "changeSet")
    assert doc.location((*cs, "author")) == Location("c.yaml", 4, 15)
    assert doc.location((*cs, "author"), key=True) == Location("c.yaml", 4, 7)
    # a node that does not exist is located at its nearest existing parent
    assert doc.location((*cs, "changes", 0, "createTable", "nope", 3)) == Location("c.yaml", 7, 13)
    # a key that does not exist falls back to the node at that path, then to its parents
    assert doc.location((*cs, "changes", 0), key=True) == Location("c.yaml", 6, 11)
    assert doc.location(("missing",), key=True) == Location("c.yaml", 1, 1)
    assert str(doc.location((*cs, "id"))) == "c.yaml:3:11"


def test_marks_in_a_json_changelog(here: Path) -> None:
    write(here, {"c.json": '{"databaseChangeLog": [\n  {"changeSet": {"id": "1", "author": "a"}}\n]}\n'})
    doc = read_document(here / "c.json", "c.json")
    assert doc.marks[("databaseChangeLog", 0, "changeSet", "author")] == (2, 39)
    assert doc.key_marks[("databaseChangeLog", 0, "changeSet", "author")] == (2, 29)


def test_display_path_is_absolute_outside_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"inner/c.yaml": MARKED})
    monkeypatch.chdir(tmp_path / "inner")
    assert read_document(tmp_path / "inner" / "c.yaml", "c.yaml").display_path == "c.yaml"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert read_document(tmp_path / "inner" / "c.yaml", "c.yaml").display_path == str(tmp_path / "inner" / "c.yaml")


# --- files that are not YAML, or not readable -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "databaseChangeLog:\n  - changeSet:\n      id: 1\n     author: x\n",
            "c.yaml:4:6: YAML syntax error: while parsing a block mapping did not find expected key",
            id="bad-indentation",
        ),
        pytest.param(
            "databaseChangeLog: [\n",
            "c.yaml:2:1: YAML syntax error: while parsing a flow node did not find expected node content",
            id="unclosed-flow-sequence",
        ),
        pytest.param(
            'databaseChangeLog:\n  - changeSet:\n      id: "abc\n',
            "c.yaml:4:1: YAML syntax error: while scanning a quoted scalar found unexpected end of stream",
            id="unclosed-quote",
        ),
        pytest.param(
            "databaseChangeLog:\n\t- changeSet: {id: 1, author: a}\n",
            "c.yaml:2:1: tab characters are not allowed for indentation in YAML; indent with spaces",
            id="tab-indentation",
        ),
        pytest.param(
            "databaseChangeLog:\n  - changeSet: {id: 1, author: a}\n---\nfoo: 1\n",
            "c.yaml:3:1: YAML syntax error: expected a single document in the stream but found another document",
            id="two-documents",
        ),
        pytest.param(
            "databaseChangeLog:\n  - changeSet: {id: !!python/object:os.system x, author: a}\n",
            "c.yaml:2:21: YAML syntax error: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object:os.system'",
            id="python-tag-refused",
        ),
        pytest.param(
            "databaseChangeLog:\n  - changeSet:\n      ? [a, b]\n      : 1\n",
            "c.yaml:3:9: YAML syntax error: a mapping key must be a plain value",
            id="complex-key",
        ),
    ],
)
def test_yaml_syntax_errors_are_located(here: Path, text: str, expected: str) -> None:
    write(here, {"c.yaml": text.encode()})
    assert problems("c.yaml") == [expected]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param("databaseChangeLog:\n\t- changeSet:\n    id: 1\n", "2:1", id="first-level"),
        pytest.param("databaseChangeLog:\n  - changeSet:\n\t    id: 1\n", "3:1", id="nested"),
        pytest.param("databaseChangeLog:\n  - changeSet:\n      \tid: 1\n", "3:7", id="after-spaces"),
        pytest.param("databaseChangeLog:\n  - changeSet:\n      id: 1\n\t    author: a\n", "4:1", id="in-a-mapping"),
        pytest.param("databaseChangeLog:\n  - sql: |\n      SELECT 1;\n\t  SELECT 2;\n", "4:1", id="in-a-block-scalar"),
        pytest.param("databaseChangeLog:\n  -\tchangeSet: {id: 1, author: a}\n", "2:4", id="after-a-dash"),
    ],
)
def test_a_tab_in_yaml_indentation_is_named_at_its_line_and_column(here: Path, text: str, where: str) -> None:
    write(here, {"c.yaml": text.encode()})
    assert problems("c.yaml") == [
        f"c.yaml:{where}: tab characters are not allowed for indentation in YAML; indent with spaces"
    ]


def test_a_json_changelog_may_use_tabs_anywhere_json_allows_them(here: Path) -> None:
    """Before the document, between tokens, after it; a tab in a string is escaped and stays a tab."""
    text = '\t{"databaseChangeLog":\t[\n\t\t{"changeSet":\t{"id":\t"1",\t"author": "a\\tb"}}\n\t]}\n\t\n'
    write(here, {"c.json": text.encode()})

    (cs,) = parse_changelog("c.json").changesets

    assert (cs.id, cs.author, str(cs.location)) == ("1", "a\tb", "c.json:2:17")


@pytest.mark.parametrize(
    "brackets",
    [
        # libyaml's own bound (1000 levels, PyYAML's wheels from 6.0.4) is met first here: its scanner reads ahead
        pytest.param("[" * 1100 + "]" * 1100, id="within-the-scanners-look-ahead"),
        pytest.param("[ " * 600 + "]" * 600, id="beyond-the-scanners-look-ahead"),
    ],
)
def test_nesting_past_the_bound_is_located_where_it_passes_it(here: Path, brackets: str) -> None:
    line = f"databaseChangeLog: {brackets}"
    write(here, {"c.yaml": line + "\n"})
    # the root mapping is level 1 and the first list level 2, so level MAX_DEPTH + 1 opens at bracket MAX_DEPTH
    column = [i for i, c in enumerate(line, start=1) if c == "["][loader_module.MAX_DEPTH - 1]
    assert problems("c.yaml") == [f"c.yaml:1:{column}: nesting deeper than {loader_module.MAX_DEPTH} levels"]


def test_a_syntax_error_before_the_nesting_bound_is_that_error(here: Path) -> None:
    write(here, {"c.yaml": "databaseChangeLog: " + "[" * 50 + "}" + "[" * 1100 + "\n"})
    (problem,) = problems("c.yaml")
    assert problem.startswith("c.yaml:1:70: YAML syntax error: "), problem


def test_json_syntax_error_is_located(here: Path) -> None:
    write(here, {"c.json": '{"databaseChangeLog": [\n  {"changeSet": {"id": "1" "author": "a"}}\n]}\n'})
    assert problems("c.json") == [
        "c.json:2:28: YAML syntax error: while parsing a flow mapping did not find expected ',' or '}'"
    ]


def test_not_utf8_is_reported_not_raised(here: Path) -> None:
    write(here, {"latin.yaml": b'databaseChangeLog:\n  - changeSet: {id: "caf\xe9", author: x}\n'})
    (line,) = problems("latin.yaml")
    assert line.startswith("latin.yaml")
    assert line.endswith(": not UTF-8 text (invalid continuation byte)")


def test_not_utf8_is_located_at_the_offending_byte(here: Path) -> None:
    write(here, {"latin.yaml": b'databaseChangeLog:\n  - changeSet: {id: "caf\xe9", author: x}\n'})
    assert problems("latin.yaml") == ["latin.yaml:2:25: not UTF-8 text (invalid continuation byte)"]


def test_utf8_byte_order_mark_is_accepted(here: Path) -> None:
    write(here, {"bom.yaml": b"\xef\xbb\xbfdatabaseChangeLog:\n  - changeSet: {id: 1, author: a}\n"})
    assert identities(parse_changelog("bom.yaml")) == [("bom.yaml", "1", "a")]


@pytest.mark.parametrize("text", ["", "\n# only a comment\n"], ids=["empty", "comment-only"])
def test_empty_file_is_a_located_problem(here: Path, text: str) -> None:
    write(here, {"empty.yaml": text.encode()})
    assert problems("empty.yaml") == [
        'empty.yaml:1:1: a changelog must be a mapping with a "databaseChangeLog" list, not empty'
    ]


def test_root_changelog_missing(here: Path) -> None:
    assert problems("missing.yaml") == ["missing.yaml: file not found"]


def test_an_alias_bomb_is_stopped_at_the_node_limit(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ten times more nodes at each level: a million once expanded (a real bomb has a few more levels), with the
    # limit lowered so that the test shows the bound, not the speed
    levels = ["a: &a [1,1,1,1,1,1,1,1,1,1]"]
    for previous, name in zip("abcde", "bcdef", strict=True):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 10) + "]")
    write(here, {"bomb.yaml": "\n".join(levels) + "\n"})
    monkeypatch.setattr(loader_module, "MAX_NODES", 1000)
    assert problems("bomb.yaml") == ["bomb.yaml:1:26: document expands to more than 1000 nodes (YAML alias bomb?)"]


def test_the_node_limit_counts_every_node(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 1 root mapping + 1 list + 1 entry mapping + 1 changeSet mapping + 2 scalars = 6 nodes
    write(here, {"c.yaml": "databaseChangeLog:\n  - changeSet: {id: 1, author: a}\n"})
    monkeypatch.setattr(loader_module, "MAX_NODES", 6)
    assert identities(parse_changelog("c.yaml")) == [("c.yaml", "1", "a")]
    monkeypatch.setattr(loader_module, "MAX_NODES", 5)
    with pytest.raises(DocumentError, match="more than 5 nodes"):
        read_document(here / "c.yaml", "c.yaml")


def test_duplicate_mapping_key_is_a_problem(here: Path) -> None:
    write(here, {"c.yaml": "databaseChangeLog:\n  - changeSet:\n      id: 1\n      author: a\n      author: b\n"})
    with pytest.raises(ChangeLogError) as info:
        parse_changelog("c.yaml")
    assert [str(p.location) for p in info.value.problems] == ["c.yaml:5:7"]
    assert '"author"' in info.value.problems[0].message


# --- include and includeAll ---------------------------------------------------------------------------------

TREE: dict[str, str | bytes] = {
    "root/main.yaml": """
        databaseChangeLog:
          - changeSet: {id: m1, author: a}
          - include:
              file: sub/one.yaml
          - include: {file: two.yaml, relativeToChangelogFile: true}
          - includeAll:
              path: all
          - changeSet: {id: m2, author: a}
        """,
    "root/sub/one.yaml": """
        databaseChangeLog:
          - changeSet: {id: o1, author: a}
          - include: {file: deeper/three.yaml, relativeToChangelogFile: true}
          - include: {file: two.yaml}
        """,
    "root/sub/deeper/three.yaml": "databaseChangeLog:\n  - changeSet: {id: t3, author: a}\n",
    "root/sub/two.yaml": "databaseChangeLog:\n  - changeSet: {id: not-this-one, author: a}\n",
    "root/two.yaml": "databaseChangeLog:\n  - changeSet: {id: t2, author: a}\n",
    "root/all/b10.yaml": "databaseChangeLog:\n  - changeSet: {id: b10, author: a}\n",
    "root/all/b2.yml": "databaseChangeLog:\n  - changeSet: {id: b2, author: a}\n",
    "root/all/A0.yaml": "databaseChangeLog:\n  - changeSet: {id: A0, author: a}\n",
    "root/all/a1.yaml": "databaseChangeLog:\n  - changeSet: {id: a1, author: a}\n",
    "root/all/b/z.json": '{"databaseChangeLog": [{"changeSet": {"id": "z", "author": "a"}}]}\n',
    "root/all/README.txt": "not a changelog",
}

TREE_ORDER = [
    ("main.yaml", "m1", "a"),
    ("sub/one.yaml", "o1", "a"),
    ("sub/deeper/three.yaml", "t3", "a"),  # relativeToChangelogFile: true → next to sub/one.yaml
    ("two.yaml", "t2", "a"),  # relativeToChangelogFile absent → against the root changelog's folder
    ("two.yaml", "t2", "a"),
    # includeAll: every .yaml/.yml/.json below the folder, by code point order of the relative path
    ("all/A0.yaml", "A0", "a"),
    ("all/a1.yaml", "a1", "a"),
    ("all/b/z.json", "z", "a"),
    ("all/b10.yaml", "b10", "a"),
    ("all/b2.yml", "b2", "a"),
    ("main.yaml", "m2", "a"),
]


def test_include_and_include_all_order_and_resolution(here: Path) -> None:
    tree = dict(TREE)
    # sub/one.yaml includes two.yaml again: drop that so the tree itself is valid (duplicates are tested below)
    tree["root/sub/one.yaml"] = """
        databaseChangeLog:
          - changeSet: {id: o1, author: a}
          - include: {file: deeper/three.yaml, relativeToChangelogFile: true}
        """
    write(here, tree)
    changelog = parse_changelog("main.yaml", search_path="root")
    assert changelog.path == "main.yaml"
    assert identities(changelog) == [row for i, row in enumerate(TREE_ORDER) if i != 4]
    assert [str(cs.location) for cs in changelog.changesets][:3] == [
        "root/main.yaml:2:16",
        "root/sub/one.yaml:2:16",
        "root/sub/deeper/three.yaml:2:16",
    ]
    assert str(changelog.changesets[6].location) == "root/all/b/z.json:1:38"


def test_include_without_relative_flag_resolves_against_the_search_path_even_when_nested(here: Path) -> None:
    write(here, TREE)
    # sub/one.yaml's "include: {file: two.yaml}" means root/two.yaml, not root/sub/two.yaml: a duplicate
    with pytest.raises(ChangeLogError) as info:
        parse_changelog("main.yaml", search_path="root")
    assert [str(p) for p in info.value.problems] == [
        'root/two.yaml:2:16: duplicate changeSet id "t2" author "a" in two.yaml (first defined at root/two.yaml:2:16)'
    ]


@pytest.mark.parametrize(
    ("cwd", "argument"),
    [
        pytest.param(".", "root/main.yaml", id="relative"),
        pytest.param(".", "./root/main.yaml", id="dot-slash"),
        pytest.param(".", "root/sub/../main.yaml", id="dot-dot"),
        pytest.param("root", "main.yaml", id="from-its-folder"),
        pytest.param("root/sub/deeper", "../../main.yaml", id="from-below"),
        pytest.param("root/sub", "{tmp}/root/main.yaml", id="absolute"),
    ],
)
def test_logical_paths_do_not_depend_on_how_the_root_was_named(
    here: Path, monkeypatch: pytest.MonkeyPatch, cwd: str, argument: str
) -> None:
    """With the search path given, a root changelog named by any path on disk inside it gets the same FILENAMEs."""
    tree = dict(TREE)
    tree["root/sub/one.yaml"] = "databaseChangeLog:\n  - changeSet: {id: o1, author: a}\n"
    write(here, tree)
    monkeypatch.chdir(here / cwd)
    changelog = parse_changelog(argument.format(tmp=here), search_path=here / "root")
    assert changelog.path == "main.yaml"
    assert identities(changelog) == [
        ("main.yaml", "m1", "a"),
        ("sub/one.yaml", "o1", "a"),
        ("two.yaml", "t2", "a"),
        ("all/A0.yaml", "A0", "a"),
        ("all/a1.yaml", "a1", "a"),
        ("all/b/z.json", "z", "a"),
        ("all/b10.yaml", "b10", "a"),
        ("all/b2.yml", "b2", "a"),
        ("main.yaml", "m2", "a"),
    ]


def test_a_path_object_is_accepted(here: Path) -> None:
    write(here, {"c.yaml": "databaseChangeLog:\n  - changeSet: {id: 1, author: a}\n"})
    assert identities(parse_changelog(here / "c.yaml")) == [("c.yaml", "1", "a")]


def test_included_file_outside_the_root_folder_keeps_a_relative_logical_path(here: Path) -> None:
    write(
        here,
        {
            "app/changelog.yaml": "databaseChangeLog:\n  - include: {file: ../shared/common.yaml}\n",
            "shared/common.yaml": "databaseChangeLog:\n  - changeSet: {id: c, author: a}\n",
        },
    )
    # Liquibase: a path above a root of the search path keeps its "../" in FILENAME.
    assert identities(parse_changelog("app/changelog.yaml", search_path="app")) == [("../shared/common.yaml", "c", "a")]


def test_include_all_relative_to_a_nested_changelog(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": "databaseChangeLog:\n  - include: {file: module/index.yaml}\n",
            "module/index.yaml": "databaseChangeLog:\n  - includeAll: {path: parts/, relativeToChangelogFile: true}\n",
            "module/parts/2.yaml": "databaseChangeLog:\n  - changeSet: {id: p2, author: a}\n",
            "module/parts/1.yaml": "databaseChangeLog:\n  - changeSet: {id: p1, author: a}\n",
        },
    )
    assert identities(parse_changelog("main.yaml")) == [
        ("module/parts/1.yaml", "p1", "a"),
        ("module/parts/2.yaml", "p2", "a"),
    ]


def test_include_all_skips_the_including_file_itself(here: Path) -> None:
    write(
        here,
        {
            "db/main.yaml": "databaseChangeLog:\n  - changeSet: {id: m, author: a}\n  - includeAll: {path: .}\n",
            "db/x.yaml": "databaseChangeLog:\n  - changeSet: {id: x, author: a}\n",
        },
    )
    assert identities(parse_changelog("db/main.yaml")) == [("db/main.yaml", "m", "a"), ("db/x.yaml", "x", "a")]


def test_missing_include_and_missing_or_empty_folders_are_located_at_the_include(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": """
                databaseChangeLog:
                  - include:
                      file: nope.yaml
                  - includeAll:
                      path: missing
                  - includeAll:
                      path: empty
                  - includeAll: {path: missing2, errorIfMissingOrEmpty: false}
                  - includeAll: {path: empty, errorIfMissingOrEmpty: false}
                  - include: {file: nested.yaml}
                """,
            "nested.yaml": "databaseChangeLog:\n  - include: {file: gone.yaml, relativeToChangelogFile: true}\n",
            "empty/notes.txt": "a folder with no changelog in it is empty",
        },
    )
    assert problems("main.yaml") == [
        f"main.yaml:3:13: included file not found: nope.yaml (looked in {here})",
        f"main.yaml:5:13: includeAll folder not found: missing (looked in {here})",
        "main.yaml:7:13: includeAll folder empty: empty",
        f"nested.yaml:2:21: included file not found: gone.yaml (looked in {here})",
    ]


def test_include_all_does_not_silently_skip_changelogs_it_cannot_read(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": "databaseChangeLog:\n  - includeAll:\n      path: parts\n",
            "parts/001.yaml": "databaseChangeLog:\n  - changeSet: {id: 1, author: a}\n",
            "parts/002.sql": "--liquibase formatted sql\n--changeset a:2\ncreate table t (id int);\n",
        },
    )
    (line,) = problems("main.yaml")
    assert line.startswith("main.yaml:3:13: ")
    assert "002.sql" in line


def test_include_of_a_folder_is_located_at_the_include(here: Path) -> None:
    write(here, {"main.yaml": "databaseChangeLog:\n  - include:\n      file: parts\n", "parts/a.yaml": "x: 1\n"})
    (line,) = problems("main.yaml")
    assert line.startswith("main.yaml:3:13: ")


def test_include_cycles_are_reported_with_the_chain(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": "databaseChangeLog:\n  - include: {file: sub/a.yaml}\n",
            "sub/a.yaml": "databaseChangeLog:\n  - include: {file: b.yaml, relativeToChangelogFile: true}\n",
            "sub/b.yaml": "databaseChangeLog:\n  - include: {file: sub/a.yaml}\n",
        },
    )
    assert problems("main.yaml") == [
        "sub/b.yaml:2:21: include cycle: main.yaml -> sub/a.yaml -> sub/b.yaml -> sub/a.yaml"
    ]


def test_a_changelog_including_itself_is_a_cycle(here: Path) -> None:
    write(
        here, {"self.yaml": "databaseChangeLog:\n  - changeSet: {id: 1, author: a}\n  - include: {file: self.yaml}\n"}
    )
    assert problems("self.yaml") == ["self.yaml:3:21: include cycle: self.yaml -> self.yaml"]


def test_problems_in_included_files_are_located_in_those_files(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": "databaseChangeLog:\n  - include: {file: a.yaml}\n  - include: {file: b.yaml}\n",
            "a.yaml": "databaseChangeLog:\n  - changeSet: {id: 1, author: a\n",
            "b.yaml": "databaseChangeLog:\n  - changeSet: {id: 1, author: a, changes: [{dropTable: {}}]}\n",
        },
    )
    assert problems("main.yaml") == [
        "a.yaml:3:1: YAML syntax error: while parsing a flow mapping did not find expected ',' or '}'",
        'b.yaml:2:57: dropTable: missing required attribute "tableName"',
    ]


# --- identity: duplicates and logicalFilePath ----------------------------------------------------------------


def test_duplicate_id_author_in_one_file(here: Path) -> None:
    write(
        here,
        {
            "c.yaml": """
                databaseChangeLog:
                  - changeSet: {id: 1, author: a}
                  - changeSet: {id: 1, author: b}
                  - changeSet: {id: "1", author: a}
                """
        },
    )
    assert problems("c.yaml") == [
        'c.yaml:4:16: duplicate changeSet id "1" author "a" in c.yaml (first defined at c.yaml:2:16)'
    ]


def test_same_id_and_author_in_two_files_is_not_a_duplicate(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": "databaseChangeLog:\n  - changeSet: {id: 1, author: a}\n  - include: {file: other.yaml}\n",
            "other.yaml": "databaseChangeLog:\n  - changeSet: {id: 1, author: a}\n",
        },
    )
    assert identities(parse_changelog("main.yaml")) == [("main.yaml", "1", "a"), ("other.yaml", "1", "a")]


def test_logical_file_path_replaces_the_path(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": """
                databaseChangeLog:
                  - changeSet: {id: 1, author: a, logicalFilePath: db/changelog/legacy.xml}
                  - changeSet: {id: 2, author: a}
                  - include: {file: other.yaml}
                """,
            "other.yaml": "databaseChangeLog:\n  - changeSet: {id: 1, author: a, logicalFilePath: db/changelog/legacy.xml}\n",
        },
    )
    # the identity is (logical path, id, author): the second "1" collides with the first
    assert problems("main.yaml") == [
        'other.yaml:2:16: duplicate changeSet id "1" author "a" in db/changelog/legacy.xml '
        "(first defined at main.yaml:2:16)"
    ]
    write(here, {"other.yaml": "databaseChangeLog:\n  - changeSet: {id: 3, author: a}\n"})
    changelog = parse_changelog("main.yaml")
    assert identities(changelog) == [
        ("db/changelog/legacy.xml", "1", "a"),
        ("main.yaml", "2", "a"),
        ("other.yaml", "3", "a"),
    ]
    assert changelog.changesets[0].identifier == "db/changelog/legacy.xml::1::a"


def test_numeric_ids_and_authors_become_text(here: Path) -> None:
    write(
        here,
        {"c.yaml": "databaseChangeLog:\n  - changeSet: {id: 1.5, author: 7}\n  - changeSet: {id: 10, author: x}\n"},
    )
    assert identities(parse_changelog("c.yaml")) == [("c.yaml", "1.5", "7"), ("c.yaml", "10", "x")]


def test_unquoted_dates_are_read_as_text(here: Path) -> None:
    write(
        here,
        {
            "c.yaml": """
                databaseChangeLog:
                  - changeSet:
                      id: 2024-01-01
                      author: a
                      changes:
                        - addColumn:
                            tableName: t
                            columns:
                              - column: {name: c, type: timestamp, defaultValueDate: 2020-01-01T10:00:00}
                """
        },
    )
    (cs,) = parse_changelog("c.yaml").changesets
    assert cs.id == "2024-01-01"
    assert isinstance(cs.changes[0], AddColumn)
    assert cs.changes[0].columns[0].column.default_value_date == "2020-01-01T10:00:00"


# --- JSON ------------------------------------------------------------------------------------------------------


def test_json_changelog_is_read_like_yaml(here: Path) -> None:
    write(
        here,
        {
            "c.json": """
                {
                \t"databaseChangeLog": [
                \t\t{"changeSet": {"id": "1", "author": "a\\/b", "changes": [
                \t\t\t{"dropTable": {"tableName": "caf\\u00e9"}}
                \t\t]}}
                \t]
                }
                """
        },
    )
    (cs,) = parse_changelog("c.json").changesets
    assert (cs.path, cs.id, cs.author, str(cs.location)) == ("c.json", "1", "a/b", "c.json:3:17")
    assert cs.changes == [DropTable(tableName="café")]


def test_json_problems_are_located(here: Path) -> None:
    write(
        here,
        {
            "c.json": '{"databaseChangeLog": [\n  {"changeSet": {"id": "1", "author": "a",\n    "changes": [{"createTabel": {}}]}}\n]}\n'
        },
    )
    assert problems("c.json") == ['c.json:3:18: unknown change type "createTabel" (did you mean "createTable"?)']


# --- validation: every problem at once --------------------------------------------------------------------------

MANY = """
databaseChangeLog:
  - changeSet:
      id: 1
      author: me
      changes:
        - createTabel:
            tableName: t
        - createTable:
            tableName: [a]
            colums: []
        - addColumn:
            tableName: t
  - changeSet:
      id: 2
      changes:
        - sql: "select 1"
  - changeSet:
      id: 3
      author: me
      changes:
        - dropTable:
            tablename: x
  - chageSet: {}
  - include: {}
  - includeAll: {path: [x]}
  - changeSet:
      id: 4
      author: me
      comment: 5
      changes:
        - addColumn:
            tableName: t
            columns: []
        - createTable:
            tableName: t
            columns:
              - column:
                  name: c
                  type: int
                  autoIncrement: "yes"
  - changeSet:
      id: 5
      author: me
      changes: {dropTable: {tableName: t}}
"""


def test_every_problem_in_a_file_is_reported_at_once(here: Path) -> None:
    write(here, {"c.yaml": MANY})
    assert problems("c.yaml") == [
        'c.yaml:6:11: unknown change type "createTabel" (did you mean "createTable"?)',
        'c.yaml:9:13: createTable: missing required attribute "columns"',
        'c.yaml:9:24: "tableName" must be a string, not list',
        'c.yaml:10:13: createTable: unknown attribute "colums" (did you mean "columns"?)',
        'c.yaml:12:13: addColumn: missing required attribute "columns"',
        'c.yaml:14:7: changeSet: missing required attribute "author"',
        'c.yaml:22:13: dropTable: unknown attribute "tablename" (did you mean "tableName"?)',
        'c.yaml:22:13: dropTable: missing required attribute "tableName"',
        'c.yaml:23:5: unknown entry "chageSet": expected changeSet, include or includeAll (did you mean "changeSet"?)',
        'c.yaml:24:14: include: missing required attribute "file"',
        'c.yaml:25:24: "path" must be a string, not list',
        'c.yaml:33:22: "columns" needs at least 1 item(s)',
        'c.yaml:40:34: "autoIncrement" must be true or false, not string',
        'c.yaml:44:16: "changes" must be a list, not mapping',
    ]


def test_problems_from_several_files_are_reported_together_sorted_by_file(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": """
                databaseChangeLog:
                  - include: {file: z.yaml}
                  - changeSet: {id: 1, author: a, changes: [{dropTabel: {tableName: t}}]}
                  - include: {file: a.yaml}
                """,
            "z.yaml": "databaseChangeLog:\n  - changeSet: {id: 1, author: a, changes: [{renameTable: {oldTableName: x}}]}\n",
            "a.yaml": "databaseChangeLog:\n  - changeSet: {id: 1, author: a, lable: x}\n",
        },
    )
    assert problems("main.yaml") == [
        'a.yaml:2:35: changeSet: unknown attribute "lable" (did you mean "labels"?)',
        'main.yaml:3:46: unknown change type "dropTabel" (did you mean "dropTable"?)',
        'z.yaml:2:59: renameTable: missing required attribute "newTableName"',
    ]


def test_a_file_that_is_not_a_changelog(here: Path) -> None:
    write(here, {"a.yaml": "other: 1\n", "b.yaml": "- 1\n- 2\n", "c.yaml": "databaseChangeLog: 5\n"})
    assert problems("a.yaml") == [
        'a.yaml:1:1: unknown attribute "other"',
        'a.yaml:1:1: missing required attribute "databaseChangeLog"',
    ]
    assert problems("b.yaml") == ['b.yaml:1:1: a changelog must be a mapping with a "databaseChangeLog" list, not list']
    assert problems("c.yaml") == ['c.yaml:1:20: "databaseChangeLog" must be a list, not number']


def test_an_empty_changelog_list_is_valid(here: Path) -> None:
    write(here, {"c.yaml": "databaseChangeLog: []\n"})
    assert parse_changelog("c.yaml").changesets == []


def test_change_and_entry_shapes(here: Path) -> None:
    write(
        here,
        {
            "c.yaml": """
                databaseChangeLog:
                  - changeSet:
                      id: 1
                      author: a
                      changes:
                        - dropTable:
                        - dropTable
                  - changeSet:
                  - changeSet: {id: 5, author: a}
                    include: {file: x}
                """
        },
    )
    assert problems("c.yaml") == [
        'c.yaml:6:21: "dropTable" must be a mapping, not empty',
        'c.yaml:7:11: a change must be a mapping such as "- createTable: {...}", not string',
        'c.yaml:8:15: "changeSet" must be a mapping, not empty',
        "c.yaml:9:5: each databaseChangeLog entry must be a mapping with exactly one key, e.g. '- changeSet:'",
    ]


def test_a_change_with_two_keys_is_explained_with_a_change_example(here: Path) -> None:
    write(
        here,
        {
            "c.yaml": """
                databaseChangeLog:
                  - changeSet:
                      id: 1
                      author: a
                      changes:
                        - dropTable: {tableName: t}
                          renameTable: {oldTableName: a, newTableName: b}
                """
        },
    )
    assert problems("c.yaml") == ["c.yaml:6:11: a change must be a mapping with exactly one key, e.g. '- createTable:'"]


# --- did you mean -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "hint"),
    [
        ("createTabel", ' (did you mean "createTable"?)'),
        ("createtable", ' (did you mean "createTable"?)'),
        ("CREATETABLE", ' (did you mean "createTable"?)'),
        ("dropColum", ' (did you mean "dropColumn"?)'),
        ("renameCol", ' (did you mean "renameColumn"?)'),
        ("frobnicate", ""),
    ],
)
def test_suggest(word: str, hint: str) -> None:
    names = ["createTable", "dropTable", "renameTable", "addColumn", "dropColumn", "renameColumn", "createIndex"]
    assert suggest(word, names) == hint


def test_misspelt_change_types_and_attributes_get_suggestions(here: Path) -> None:
    write(
        here,
        {
            "c.yaml": """
                databaseChangeLog:
                  - changeSet:
                      id: 1
                      author: a
                      comments: x
                      changes:
                        - createIndex:
                            tableName: t
                            indexName: ix
                            uniq: true
                            columns:
                              - column: {name: a, descendng: true}
                        - renametable: {oldTableName: a, newTableName: b}
                        - frobnicate: {}
                        - addColumn:
                            tableName: t
                            columns:
                              - column: {name: c, type: int, defaultvalue: 1}
                """
        },
    )
    assert problems("c.yaml") == [
        'c.yaml:5:7: changeSet: unknown attribute "comments" (did you mean "comment"?)',
        'c.yaml:10:13: createIndex: unknown attribute "uniq" (did you mean "unique"?)',
        'c.yaml:12:35: column: unknown attribute "descendng" (did you mean "descending"?)',
        'c.yaml:13:11: unknown change type "renametable" (did you mean "renameTable"?)',
        'c.yaml:14:11: unknown change type "frobnicate"',
        'c.yaml:18:46: column: unknown attribute "defaultvalue" (did you mean "defaultValue"?)',
    ]


def test_misspelt_sql_attributes_get_suggestions(here: Path) -> None:
    write(
        here,
        {
            "c.yaml": """
                databaseChangeLog:
                  - changeSet:
                      id: 1
                      author: a
                      changes:
                        - sql:
                            sql: "select 1"
                            splitStatement: false
                """
        },
    )
    assert problems("c.yaml") == [
        'c.yaml:8:13: sql: unknown attribute "splitStatement" (did you mean "splitStatements"?)'
    ]


def test_misspelt_constraint_attributes_get_suggestions(here: Path) -> None:
    write(
        here,
        {
            "c.yaml": """
                databaseChangeLog:
                  - changeSet:
                      id: 1
                      author: a
                      changes:
                        - createTable:
                            tableName: t
                            columns:
                              - column:
                                  name: id
                                  type: int
                                  constraints:
                                    primaryKy: true
                """
        },
    )
    assert problems("c.yaml") == [
        'c.yaml:13:21: constraints: unknown attribute "primaryKy" (did you mean "primaryKey"?)'
    ]


def test_problems_inside_a_rollback_block_are_explained(here: Path) -> None:
    write(
        here,
        {
            "c.yaml": """
                databaseChangeLog:
                  - changeSet:
                      id: b
                      author: a
                      rollback:
                        - dropTabel: {tableName: t}
                        - 5
                  - changeSet:
                      id: c
                      author: a
                      rollback:
                        dropTable: {tablName: t}
                """
        },
    )
    assert problems("c.yaml") == [
        'c.yaml:6:11: unknown change type "dropTabel" (did you mean "dropTable"?)',
        'c.yaml:7:11: "rollback" must be a string or a mapping, not number',
        'c.yaml:12:20: dropTable: missing required attribute "tableName"',
        'c.yaml:12:21: dropTable: unknown attribute "tablName" (did you mean "tableName"?)',
    ]


def test_anyof_problems_are_at_least_located(here: Path) -> None:
    # whatever the wording, each problem under an anyOf points at the right node
    write(
        here,
        {
            "c.yaml": """
                databaseChangeLog:
                  - changeSet:
                      id: 1
                      author: a
                      changes:
                        - sql: 5
                        - dropColumn:
                            tableName: t
                            columns:
                              - column: {nme: x}
                      rollback:
                """
        },
    )
    with pytest.raises(ChangeLogError) as info:
        parse_changelog("c.yaml")
    # the line of each problem is exact; the column may move to the inner node once the branch is chosen well
    assert {(p.location.path, p.location.line) for p in info.value.problems} == {
        ("c.yaml", 6),
        ("c.yaml", 10),
        ("c.yaml", 11),
    }


# --- wrong types, missing attributes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("{dropTable: {tableName: [a]}}", '"tableName" must be a string, not list'),
        ("{dropTable: {tableName: {a: 1}}}", '"tableName" must be a string, not mapping'),
        (
            "{dropTable: {tableName: t, cascadeConstraints: maybe}}",
            '"cascadeConstraints" must be true or false, not string',
        ),
        ("{createIndex: {tableName: t, indexName: i, columns: x}}", '"columns" must be a list, not string'),
        ("{createIndex: {tableName: t, indexName: i, columns: []}}", '"columns" needs at least 1 item(s)'),
        ("{renameTable: {oldTableName: a}}", 'renameTable: missing required attribute "newTableName"'),
        (
            "{renameColumn: {tableName: t, newColumnName: b}}",
            'renameColumn: missing required attribute "oldColumnName"',
        ),
        ("{tagDatabase: {}}", 'tagDatabase: missing required attribute "tag"'),
        ("{dropIndex: {tableName: t}}", 'dropIndex: missing required attribute "indexName"'),
        ("{addColumn: {tableName: t, columns: [{column: {type: int}}]}}", 'column: missing required attribute "name"'),
    ],
)
def test_wrong_types_and_missing_attributes(here: Path, change: str, expected: str) -> None:
    write(
        here,
        {
            "c.yaml": f"databaseChangeLog:\n  - changeSet:\n      id: 1\n      author: a\n      changes:\n        - {change}\n"
        },
    )
    (line,) = problems("c.yaml")
    assert line.startswith("c.yaml:6:")
    assert line.split(": ", 1)[1] == expected


def test_numbers_are_accepted_where_text_is_expected(here: Path) -> None:
    write(
        here,
        {
            "c.yaml": "databaseChangeLog:\n  - changeSet:\n      id: 1\n      author: a\n      changes:\n        - tagDatabase: {tag: 1.0}\n"
        },
    )
    (cs,) = parse_changelog("c.yaml").changesets
    assert cs.tag == "1.0"


# --- rollback blocks and the sql shorthand ------------------------------------------------------------------

ROLLBACKS = """
databaseChangeLog:
  - changeSet:
      id: text
      author: a
      changes:
        - sql: "insert into t values (1); insert into t values (2)"
      rollback: "delete from t where id = 2; delete from t where id = 1"
  - changeSet:
      id: mapping
      author: a
      changes:
        - dropTable: {tableName: t}
      rollback:
        createTable:
          tableName: t
          columns: [{column: {name: id, type: int}}]
  - changeSet:
      id: list
      author: a
      changes:
        - dropTable: {tableName: t}
      rollback:
        - createTable:
            tableName: t
            columns: [{column: {name: id, type: int}}]
        - "insert into t values (1)"
        - sql: {sql: "insert into t values (2)", splitStatements: false}
        - sql: "insert into t values (3)"
  - changeSet:
      id: empty
      author: a
      changes:
        - sql: {sql: "select 1", splitStatements: false}
      rollback: []
  - changeSet:
      id: none
      author: a
      changes:
        - tagDatabase: {tag: v1}
"""


def test_rollback_block_forms(here: Path) -> None:
    write(here, {"c.yaml": ROLLBACKS})
    by_id = {cs.id: cs for cs in parse_changelog("c.yaml").changesets}
    create_t = CreateTable(tableName="t", columns=[ColumnItem(column=ColumnConfig(name="id", type="int"))])
    assert by_id["text"].rollback == [Sql(sql="delete from t where id = 2; delete from t where id = 1")]
    assert by_id["mapping"].rollback == [create_t]
    assert by_id["list"].rollback == [
        create_t,
        Sql(sql="insert into t values (1)"),
        Sql(sql="insert into t values (2)", splitStatements=False),
        Sql(sql="insert into t values (3)"),
    ]
    assert by_id["empty"].rollback == []
    assert by_id["none"].rollback is None


def test_sql_shorthand_is_the_sql_change(here: Path) -> None:
    write(here, {"c.yaml": ROLLBACKS})
    text = parse_changelog("c.yaml").changesets[0]
    assert text.changes == [Sql(sql="insert into t values (1); insert into t values (2)")]
    assert text.changes[0].statements() == ["insert into t values (1)", "insert into t values (2)"]
    # the raw form is kept as written, for the checksum
    assert text.raw_changes == [("sql", "insert into t values (1); insert into t values (2)")]
    assert text.description() == "sql"


def test_changeset_fields(here: Path) -> None:
    write(
        here,
        {
            "c.yaml": """
                databaseChangeLog:
                  - changeSet:
                      id: x
                      author: ann
                      comment: why
                      changes:
                        - createTable: {tableName: t, columns: [{column: {name: id, type: int}}]}
                        - tagDatabase: {tag: v1}
                """
        },
    )
    (cs,) = parse_changelog("c.yaml").changesets
    assert (cs.key, cs.identifier, cs.comment, cs.tag) == (("c.yaml", "x", "ann"), "c.yaml::x::ann", "why", "v1")
    assert cs.description() == "createTable tableName=t; tagDatabase"
    assert cs.raw_changes == [
        ("createTable", {"tableName": "t", "columns": [{"column": {"name": "id", "type": "int"}}]}),
        ("tagDatabase", {"tag": "v1"}),
    ]


def test_document_error_carries_a_problem(here: Path) -> None:
    with pytest.raises(DocumentError) as info:
        read_document(here / "nope.yaml", "nope.yaml")
    assert str(info.value) == "nope.yaml: file not found"
    assert isinstance(Document(path=here, logical_path="x", data=None).marks, dict)
