"""Files are found and named as Liquibase 4.28 finds and names them: FILENAME relative to the search path.

``tests/data/search-path.history.json`` was written by the real Liquibase 4.28 (``update`` on SQLite) over
``tests/data/search-path``: a project root with nested changelogs (``db/x/changelog.yaml``: includes with and without
``relativeToChangelogFile``, ``includeAll`` both ways, ``../`` and ``./`` in paths, files above the root, a
``logicalFilePath`` with a leading ``/`` and one with backslashes, a changelog-level one, an include written with a
leading ``/``, ``sqlFile`` both ways), a search path of two roots (an include and an ``includeAll`` that span them),
and a changelog given as an absolute path with ``--search-path=/``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from yamlbase import commands
from yamlbase.changelog import parse_changelog
from yamlbase.errors import ChangeLogError

DATA = Path(__file__).resolve().parent.parent / "data"
GOLDEN = json.loads((DATA / "search-path.history.json").read_text())["runs"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "search-path"
    shutil.copytree(DATA / "search-path", folder)
    return folder


@pytest.mark.parametrize("run", GOLDEN, ids=[f"{r['search_path'] or 'default'}:{r['changelog']}" for r in GOLDEN])
def test_history_rows_name_files_as_liquibase(
    db_url: str, project: Path, run: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = str(project).removeprefix("/")
    monkeypatch.chdir(project / str(run["cwd"]))
    changelog = str(run["changelog"]).replace("{root}", f"/{root}")
    commands.update(db_url, changelog, search_path=run["search_path"])  # type: ignore[arg-type]
    rows = [[r.filename, r.id, r.author, r.md5sum] for r in commands.history(db_url)]
    assert rows == [[r[0].replace("{root}", root), *r[1:]] for r in run["rows"]]  # type: ignore[union-attr]
    assert commands.status(db_url, changelog, search_path=run["search_path"]) == []  # type: ignore[arg-type]


def test_an_absolute_changelog_inside_the_search_path_is_named_relative_to_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Liquibase refuses ``--changelog-file=/abs/...`` unless ``/`` is in the search path; yamlbase names it as the
    relative path would be named."""
    monkeypatch.chdir(project / "project")
    absolute = parse_changelog(project / "project" / "db" / "z" / "changelog.yaml")
    relative = parse_changelog("db/z/changelog.yaml")
    assert [cs.key for cs in absolute.changesets] == [cs.key for cs in relative.changesets]
    assert absolute.changesets[0].path == "db/z/changelog.yaml"


def test_a_changelog_outside_the_working_folder_is_read_from_its_own_folder(project: Path) -> None:
    """As if yamlbase ran in the changelog's folder (the test runs in the checkout, outside ``project``)."""
    model = parse_changelog(project / "project" / "db" / "z" / "changelog.yaml")
    assert [cs.path for cs in model.changesets] == ["changelog.yaml", "parts/p.yaml", "parts/q.yaml"]


def test_two_roots_holding_the_same_path_is_an_error(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    with pytest.raises(ChangeLogError) as info:
        parse_changelog("dup.yaml", search_path="project,extra")
    message = str(info.value)
    assert str(project / "project" / "dup.yaml") in message and str(project / "extra" / "dup.yaml") in message


def test_a_missing_include_names_every_root_looked_in(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    (project / "project" / "db" / "y" / "changelog.yaml").write_text(
        "databaseChangeLog:\n  - include:\n      file: db/y/nowhere.yaml\n"
    )
    with pytest.raises(ChangeLogError) as info:
        parse_changelog("db/y/changelog.yaml", search_path="project,extra")
    (problem,) = info.value.problems
    assert problem.location.line == 3
    assert "db/y/nowhere.yaml" in problem.message
    assert str(project / "project") in problem.message and str(project / "extra") in problem.message


def test_a_changelog_outside_a_given_search_path_is_refused(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    with pytest.raises(ChangeLogError, match="outside the search path"):
        parse_changelog(project / "outside.yaml", search_path="project")


def test_a_history_of_an_older_yamlbase_is_renamed_not_run_again(
    db_url: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows named relative to the root changelog's folder (yamlbase before the search path) are renamed to
    Liquibase's FILENAME by ``update``, under the lock, in one transaction; ``status`` and ``update-sql`` say so."""
    monkeypatch.chdir(project / "project")
    # What an older yamlbase wrote: FILENAMEs relative to the root changelog's folder (its folder as search path).
    commands.update(db_url, "changelog.yaml", search_path="db/z")
    before = [(r.filename, r.id, r.order_executed, r.md5sum) for r in commands.history(db_url)]
    assert [r[0] for r in before] == ["changelog.yaml", "parts/p.yaml", "parts/q.yaml"]

    pending = commands.status(db_url, "db/z/changelog.yaml")
    assert pending == []
    assert [(m.old, m.new) for m in pending.moved] == [
        ("changelog.yaml::z::t", "db/z/changelog.yaml::z::t"),
        ("parts/p.yaml::p::t", "db/z/parts/p.yaml::p::t"),
        ("parts/q.yaml::q::t", "db/z/parts/q.yaml::q::t"),
    ]
    sql = commands.update_sql(db_url, "db/z/changelog.yaml")
    assert len(re.findall(r"""SET [`"]?filename[`"]?\s*=\s*'db/z/""", sql, re.IGNORECASE)) == 3
    assert [r.filename for r in commands.history(db_url)] == ["changelog.yaml", "parts/p.yaml", "parts/q.yaml"]

    assert commands.update(db_url, "db/z/changelog.yaml") == []
    after = [(r.filename, r.id, r.order_executed, r.md5sum) for r in commands.history(db_url)]
    assert after == [("db/z/" + f, i, o, m) for f, i, o, m in before]
    assert commands.status(db_url, "db/z/changelog.yaml").moved == []


def test_a_former_key_that_another_changeset_has_now_is_not_renamed(db_url: str, tmp_path: Path) -> None:
    """``db/a.yaml::one`` was ``a.yaml::one`` before; a changeSet whose logicalFilePath is ``a.yaml`` has that key
    now, so the row ``a.yaml::one`` is its row, and ``db/a.yaml::one`` is pending."""
    folder = tmp_path / "db"
    folder.mkdir()
    change = "      changes:\n      - sql: select 1\n"
    (folder / "a.yaml").write_text("databaseChangeLog:\n  - changeSet:\n      id: one\n      author: t\n" + change)
    (folder / "b.yaml").write_text(
        "databaseChangeLog:\n  - changeSet:\n      id: one\n      author: t\n      logicalFilePath: a.yaml\n" + change
    )
    (folder / "changelog.yaml").write_text("databaseChangeLog:\n  - include: {file: db/b.yaml}\n")
    commands.update(db_url, folder / "changelog.yaml", search_path=tmp_path)
    (folder / "changelog.yaml").write_text(
        "databaseChangeLog:\n  - include: {file: db/a.yaml}\n  - include: {file: db/b.yaml}\n"
    )
    model = parse_changelog(folder / "changelog.yaml", search_path=tmp_path)
    assert [(cs.key, cs.legacy_key) for cs in model.changesets] == [
        (("db/a.yaml", "one", "t"), ("a.yaml", "one", "t")),
        (("a.yaml", "one", "t"), None),
    ]
    pending = commands.status(db_url, folder / "changelog.yaml", search_path=tmp_path)
    assert (pending.moved, [cs.identifier for cs in pending]) == ([], ["db/a.yaml::one::t"])
