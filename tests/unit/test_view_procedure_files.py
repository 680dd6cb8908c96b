"""createView and createProcedure read their SQL from ``path``: rendered from the file, hashed as Liquibase 4.28
hashes it (the MD5SUMs below are the real Liquibase's, from ``update`` / ``calculate-checksum``)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from yamlbase import commands
from yamlbase.errors import ChangeLogError

CHANGELOG = """
databaseChangeLog:
  - changeSet:
      id: view-from-file
      author: a
      changes:
        - createView: {viewName: v_file, path: sql/v.sql}
  - changeSet:
      id: view-relative
      author: a
      changes:
        - createView: {viewName: v_rel, path: v.sql, relativeToChangelogFile: false}
  - changeSet:
      id: proc
      author: a
      changes:
        - createProcedure: {path: sql/p.sql, relativeToChangelogFile: true}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "v.sql").write_text("SELECT id,\n  name FROM base_t\n")
    (tmp_path / "v.sql").write_text("SELECT id,\n  name FROM base_t\n")
    (tmp_path / "sql" / "p.sql").write_text("CREATE PROCEDURE p() LANGUAGE SQL AS $$ SELECT 1 $$;\n")
    (tmp_path / "changelog.yaml").write_text(textwrap.dedent(CHANGELOG).lstrip())
    return tmp_path


def test_checksums_and_descriptions_match_liquibase(folder: Path) -> None:
    model = commands.validate(folder / "changelog.yaml")
    assert [(cs.id, cs.checksum, cs.description()) for cs in model.changesets] == [
        ("view-from-file", "9:ee93be91556f36417bbff89b74ca66fe", "createView path=sql/v.sql, viewName=v_file"),
        ("view-relative", "9:dca0239e1159123a32343c3f6b761b3f", "createView path=v.sql, viewName=v_rel"),
        ("proc", "9:2b9397e51b1429584bf3cd4aa199e38f", "createProcedure path=sql/p.sql"),
    ]


def test_the_sql_comes_from_the_file(folder: Path) -> None:
    sql = commands.update_sql(None, folder / "changelog.yaml", dialect="postgresql")
    assert "CREATE VIEW v_file AS SELECT id,\n  name FROM base_t;" in sql
    assert "CREATE PROCEDURE p() LANGUAGE SQL AS $$ SELECT 1 $$;" in sql
    # Editing the file is editing the changeSet.
    (folder / "sql" / "v.sql").write_text("SELECT id FROM base_t\n")
    assert commands.validate(folder / "changelog.yaml").changesets[0].checksum != "9:ee93be91556f36417bbff89b74ca66fe"


def test_a_missing_file_and_a_double_source_are_located(folder: Path) -> None:
    (folder / "sql" / "v.sql").unlink()
    text = (folder / "changelog.yaml").read_text().replace("path: v.sql,", "path: v.sql, selectQuery: select 1,")
    (folder / "changelog.yaml").write_text(text)
    with pytest.raises(ChangeLogError) as caught:
        commands.validate(folder / "changelog.yaml")
    messages = [f"{p.location.line}: {p.message}" for p in caught.value.problems]
    assert any(m.startswith("6: ") and "file not found: sql/v.sql" in m for m in messages), messages
    assert any(m.startswith("11: ") and "exactly one of selectQuery or path" in m for m in messages), messages


def test_properties_are_expanded_in_sql_files_and_hashed_as_liquibase_does(tmp_path: Path) -> None:
    """Liquibase 4.28 runs both files with ${tname} replaced; it hashes sqlFile's text as written and the
    view's after replacement (the MD5SUMs are the real Liquibase's)."""
    (tmp_path / "a.sql").write_text("CREATE TABLE ${tname} (id int);\n")
    (tmp_path / "v.sql").write_text("SELECT id FROM ${tname}\n")
    changelog = tmp_path / "changelog.yaml"
    changelog.write_text(
        textwrap.dedent(
            """
            databaseChangeLog:
              - property: {name: tname, value: from_prop}
              - changeSet: {id: f, author: a, changes: [{sqlFile: {path: a.sql}}]}
              - changeSet: {id: v, author: a, changes: [{createView: {viewName: vv, path: v.sql}}]}
            """
        ).lstrip()
    )
    model = commands.validate(changelog)
    assert [(cs.id, cs.checksum) for cs in model.changesets] == [
        ("f", "9:9f0eafe701788b94421f3b2e51254cb1"),
        ("v", "9:4925f95e74c8ae4cff0b062dedd5374e"),
    ]
    sql = commands.update_sql(None, changelog, dialect="postgresql")
    assert "CREATE TABLE from_prop (id int);" in sql and "CREATE VIEW vv AS SELECT id FROM from_prop;" in sql
    (tmp_path / "a.sql").write_text("CREATE TABLE ${nowhere} (id int);\n")
    with pytest.raises(ChangeLogError) as caught:
        commands.validate(changelog)
    assert [str(p) for p in caught.value.problems] == [
        f"{caught.value.problems[0].location.path}:3:55: sqlFile: property ${{nowhere}} in the file is not defined"
    ]
