"""diff-changelog and generate-changelog end to end through the CLI: what they say, what they write, and how
they refuse bad input (a clear message and exit code, never a traceback)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.cli.conftest import DbView, Run, Write

MODELS = """
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(120), nullable=False, unique=True),
    sa.Column("age", sa.Integer),
)
sa.Table(
    "notes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("body", sa.Text),
    sa.Index("ix_notes_user", "user_id"),
)
"""


def module(write: Write, text: str) -> str:
    """The models as a module of a name of their own: the CLI runs in this process, where a module imported
    once stays imported."""
    name = f"models_{uuid.uuid4().hex[:8]}"
    write(f"{name}.py", text)
    return name


def ok(result: object) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)  # type: ignore[attr-defined]
    return result.stdout  # type: ignore[attr-defined,no-any-return]


def refused(result: object, code: int) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)  # type: ignore[attr-defined]
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    return result.stderr  # type: ignore[attr-defined,no-any-return]


def test_models_to_changelog_update_and_nothing_more(run: Run, write: Write, workdir: Path, db: DbView) -> None:
    models = module(write, MODELS)

    out = ok(run("diff-changelog", "--models", models, "-m", "first cut", "--author", "ann"))
    assert out.startswith("wrote 2 changeSets to changelog/changelog.yaml, for the 2 tables the models hold:\n")
    assert "createTable users" in out and "createTable notes, createIndex ix_notes_user" in out
    text = (workdir / "changelog" / "changelog.yaml").read_text(encoding="utf-8")
    assert "author: ann" in text and "comment: first cut" in text
    ok(run("validate"))
    ok(run("update"))
    assert db("sqlite:///yamlbase.db").tables() == ["notes", "users"]

    out = ok(run("diff-changelog", "--models", models))
    assert out == "no changes: changelog/changelog.yaml already has the 2 tables the models hold; nothing was written\n"
    assert (workdir / "changelog" / "changelog.yaml").read_text(encoding="utf-8") == text
    assert ok(run("check", "--models", models)).startswith("changelog/changelog.yaml matches the models exactly")


def test_a_second_version_into_a_new_file_with_destructive_changes_listed(
    run: Run, write: Write, workdir: Path
) -> None:
    ok(run("diff-changelog", "--models", module(write, MODELS)))
    v2 = module(write, MODELS.replace('sa.Column("age", sa.Integer)', 'sa.Column("years", sa.Integer)'))

    result = run("diff-changelog", "--models", v2, "--output-file", "changelog/changes/002.yaml", "-m", "v2")
    out = ok(result)
    assert out.startswith("wrote 2 changeSets to changelog/changes/002.yaml")
    assert "1 destructive changeSet (labels: destructive), to review before update:" in out
    assert "DESTRUCTIVE: drops column users.age and the data in it" in out
    assert "note: looks like a rename of users.age to users.years" in out
    root = (workdir / "changelog" / "changelog.yaml").read_text(encoding="utf-8")
    assert root.endswith("  - include:\n      file: changes/002.yaml\n      relativeToChangelogFile: true\n")
    ok(run("validate"))
    (workdir / "changelog" / "changes" / "002.yaml").unlink()
    write("changelog/changelog.yaml", root.rsplit("  - include:", 1)[0])

    # the hint makes it a rename, which keeps the rows
    data = json.loads(
        ok(run("diff-changelog", "--models", v2, "--rename", "users.age=users.years", "--format", "json"))
    )
    assert data["destructive"] == [] and len(data["changesets"]) == 1 and data["tables"] == 2
    assert "renameColumn:" in (workdir / "changelog" / "changelog.yaml").read_text(encoding="utf-8")


def test_an_include_all_already_reads_the_new_file(run: Run, write: Write, workdir: Path) -> None:
    models = module(write, MODELS)
    write(
        "changelog/changelog.yaml",
        "databaseChangeLog:\n  - includeAll:\n      path: changes/\n      relativeToChangelogFile: true\n"
        "      errorIfMissingOrEmpty: false\n",
    )
    before = (workdir / "changelog" / "changelog.yaml").read_text(encoding="utf-8")
    ok(run("diff-changelog", "--models", models, "--output-file", "changelog/changes/001_init.yaml"))
    assert (workdir / "changelog" / "changelog.yaml").read_text(encoding="utf-8") == before
    assert ok(run("validate")).startswith("changelog/changelog.yaml: valid, 2 changeSets")


def test_appended_at_the_changelogs_own_indentation(run: Run, write: Write, workdir: Path) -> None:
    models = module(write, MODELS)
    write(
        "changelog/changelog.yaml",
        """
        # the project's changelog
        databaseChangeLog:
        - changeSet:
            id: by-hand
            author: ann
            changes:
            - sql: select 1
        """,
    )
    ok(run("diff-changelog", "--models", models, "--author", "bob"))
    text = (workdir / "changelog" / "changelog.yaml").read_text(encoding="utf-8")
    assert text.startswith("# the project's changelog\ndatabaseChangeLog:\n- changeSet:\n    id: by-hand\n")
    assert "\n- changeSet:\n    id: " in text.split("by-hand", 1)[1]
    assert ok(run("validate")).startswith("changelog/changelog.yaml: valid, 3 changeSets")


def test_reference_url_to_url(run: Run, write: Write, db: DbView) -> None:
    ok(run("diff-changelog", "--models", module(write, MODELS), "--output-file", "ref/changelog.yaml"))
    ok(run("update", "--url", "sqlite:///reference.db", "--changelog-file", "ref/changelog.yaml"))
    ok(
        run(
            "update",
            "--url",
            "sqlite:///target.db",
            "--changelog-file",
            "ref/changelog.yaml",
        )
    )
    with db("sqlite:///target.db").engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX ix_notes_user")

    out = ok(run("diff-changelog", "--reference-url", "sqlite:///reference.db", "--url", "sqlite:///target.db",
                 "--changelog-file", "fix.yaml"))  # fmt: skip
    assert out.startswith("wrote 1 changeSet to fix.yaml, for the schema of sqlite:///reference.db (2 tables):")
    ok(run("update", "--url", "sqlite:///target.db", "--changelog-file", "fix.yaml"))
    assert ok(run("diff", "--reference-url", "sqlite:///reference.db", "--url", "sqlite:///target.db")).startswith(
        "sqlite:///target.db has the same schema"
    )


EMPTY_MODELS = "import sqlalchemy as sa\nmetadata = sa.MetaData()\n"


@pytest.mark.parametrize(
    ("files", "args", "code", "message"),
    [
        ({}, ["--models", "nowhere"], 2, "error: --models nowhere: no module named nowhere"),
        ({"broken.py": "import sqlalchemy\n1/0\n"}, ["--models", "broken"], 2, "ZeroDivisionError: division by zero"),
        ({"models.py": MODELS}, ["--models", "models:sa"], 2, "sa is a module, not a MetaData"),
        ({}, [], 2, "error: give --models MODULE[:ATTR], or --reference-url with --url"),
        ({"models.py": MODELS}, ["--models", "models", "--rename", "users"], 2, "--rename 'users': write OLD=NEW"),
        (
            {"models.py": MODELS},
            ["--models", "models", "--against-url", "postgresql://nobody@127.0.0.1:1/none"],
            1,
            "error: cannot connect to postgresql://nobody@127.0.0.1:1/none: ",
        ),
        (
            {"models.py": MODELS, "changelog/changelog.json": '{"databaseChangeLog": []}'},
            ["--models", "models", "--changelog-file", "changelog/changelog.json"],
            2,
            "is not a YAML changelog",
        ),
        (
            {
                "models.py": EMPTY_MODELS,
                "changelog/changelog.yaml": "databaseChangeLog:\n  - changeSet:\n      id: t\n"
                "      author: a\n      changes:\n        - createTable: {tableName: t, columns: [{column: {name: id, "
                "type: int}}]}\n",
            },
            ["--models", "models"],
            2,
            "models hold no tables, and the changelog builds 1: nothing was written",
        ),
    ],
)
def test_bad_input_is_refused_clearly(
    run: Run, write: Write, files: dict[str, str], args: list[str], code: int, message: str
) -> None:
    unique = f"m{uuid.uuid4().hex[:8]}_"
    for name, text in files.items():
        write(unique + name if name.endswith(".py") else name, text)
    args = [unique + a if a.split(":")[0] in ("models", "broken") else a for a in args]
    stderr = refused(run("diff-changelog", *args), code)
    assert message in stderr


def test_models_with_no_tables_and_nothing_to_do_warn(run: Run, write: Write, workdir: Path) -> None:
    result = run("diff-changelog", "--models", module(write, EMPTY_MODELS))
    assert ok(result).startswith("no changes:") and "the 0 tables the models hold" in result.stdout
    assert "warning: the models hold no tables: were the modules that declare them imported" in result.stderr
    assert not (workdir / "changelog" / "changelog.yaml").exists()


def test_generate_changelog_from_a_database(run: Run, write: Write, workdir: Path, db: DbView) -> None:
    ok(run("diff-changelog", "--models", module(write, MODELS), "--output-file", "built/changelog.yaml"))
    ok(run("update", "--url", "sqlite:///app.db", "--changelog-file", "built/changelog.yaml"))

    out = ok(
        run("generate-changelog", "--url", "sqlite:///app.db", "--output-file", "adopted/changelog.yaml", "--data")
    )
    assert out == (
        "wrote adopted/changelog.yaml: 4 changeSets building the 2 tables of sqlite:///app.db, their rows in 2 CSV "
        "files\nto adopt sqlite:///app.db: yamlbase changelog-sync --changelog-file adopted/changelog.yaml (records "
        "the changeSets as run without running them)\n"
    )
    assert sorted(p.name for p in (workdir / "adopted" / "data").iterdir()) == ["notes.csv", "users.csv"]
    assert "tablename: databasechangelog" not in (workdir / "adopted" / "changelog.yaml").read_text().lower()

    assert "exists" in refused(run("generate-changelog", "--url", "sqlite:///app.db", "--output-file",
                                   "adopted/changelog.yaml"), 2)  # fmt: skip
    assert "is not a regular expression" in refused(
        run("generate-changelog", "--url", "sqlite:///app.db", "--output-file", "x.yaml", "--include-objects", "("), 2
    )
    assert "error: no database at sqlite:///missing.db" in refused(
        run("generate-changelog", "--url", "sqlite:///missing.db", "--output-file", "y.yaml"), 1
    )
    assert not (workdir / "missing.db").exists()
