"""``yamlbase schema``: the changelog JSON Schema of the installed version, for editors outside this repository."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

import yamlbase
from tests.cli.conftest import ROOT, Run, Write
from yamlbase import commands

PUBLISHED = ROOT / "schemas" / "changelog.schema.json"


def test_schema_prints_the_published_schema_of_this_version(run: Run) -> None:
    result = run("schema")

    assert result.exit_code == 0, result.output
    assert result.stdout == PUBLISHED.read_text(encoding="utf-8")
    printed = json.loads(result.stdout)
    assert f":{yamlbase.__version__}:" in printed["$id"]
    assert f"yamlbase {yamlbase.__version__}" in printed["$comment"]


def test_schema_output_file_writes_a_schema_an_editor_can_check_the_changelog_with(
    run: Run, example: Path, workdir: Path
) -> None:
    result = run("schema", "--output-file", "changelog/changelog.schema.json")

    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == f"wrote changelog/changelog.schema.json: the changelog schema of yamlbase {yamlbase.__version__}\n"
    )
    written = workdir / "changelog" / "changelog.schema.json"
    validator = jsonschema.Draft202012Validator(json.loads(written.read_text(encoding="utf-8")))
    files = sorted((workdir / "changelog").rglob("*.yaml"))
    assert len(files) > 1
    for path in files:
        assert not list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))), path
    broken = {"databaseChangeLog": [{"changeSet": {"id": 1, "author": "a", "changes": [{"createTabel": {}}]}}]}
    assert list(validator.iter_errors(broken)), "a misspelt change type is flagged"


def test_the_modeline_pointing_at_the_written_schema_leaves_the_changelog_valid(run: Run, write: Write) -> None:
    assert run("schema", "--output-file", "db/changelog.schema.json").exit_code == 0
    write(
        "db/changelog.yaml",
        """
        # yaml-language-server: $schema=changelog.schema.json
        databaseChangeLog:
          - changeSet: {id: 1, author: a, changes: [{createTable: {tableName: t, columns: [{column: {name: id, type: int}}]}}]}
        """,
    )

    result = run("validate", "--changelog-file", "db/changelog.yaml")

    assert result.exit_code == 0, result.output


def test_schema_output_file_creates_its_folder_and_refuses_what_cannot_be_written(run: Run, workdir: Path) -> None:
    (workdir / "taken").mkdir()

    created = run("schema", "--output-file", "new/folder/schema.json")
    refused = run("schema", "--output-file", "taken")

    assert created.exit_code == 0, created.output
    assert (workdir / "new" / "folder" / "schema.json").read_text(encoding="utf-8") == commands.schema()
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: cannot write the schema to taken: ")
    assert "Traceback" not in refused.output


def test_schema_as_a_function_returns_and_writes_the_same_text(workdir: Path) -> None:
    text = yamlbase.schema(output_file=workdir / "schema.json")

    assert text == PUBLISHED.read_text(encoding="utf-8") == commands.schema()
    assert (workdir / "schema.json").read_text(encoding="utf-8") == text
