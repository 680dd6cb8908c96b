"""``yamlbase check --models`` and ``yamlbase diff`` end to end: in sync, drift, possible renames, bad input."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result

import yamlbase

Run = Callable[..., Result]
Write = Callable[[str, str], Path]

CHANGELOG = """
databaseChangeLog:
  - changeSet:
      id: 1
      author: t
      changes:
        - createTable:
            tableName: owner
            columns:
              - column: {name: id, type: int, constraints: {primaryKey: true}}
              - column: {name: name, type: varchar(50), constraints: {nullable: false}}
        - createIndex:
            tableName: owner
            indexName: ix_owner_name
            columns:
              - column: {name: name}
"""

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Owner(Base):
    __tablename__ = "owner"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), index=True)
"""


@pytest.fixture
def models(write: Write) -> Callable[[str], str]:
    """``models(text)``: a module of that text in the working folder; returns its (new, unique) name."""

    def module(text: str) -> str:
        name = f"models_{uuid.uuid4().hex[:8]}"
        write(f"{name}.py", text)
        return name

    return module


def test_in_sync_exits_0_and_needs_no_database(run: Run, write: Write, models: Callable[[str], str]) -> None:
    write("changelog/changelog.yaml", CHANGELOG)
    module = models(MODELS)
    result = run("check", "--models", module)
    assert result.exit_code == 0, result.output
    assert "matches the models exactly (1 table)" in result.output
    assert not Path("yamlbase.db").exists(), "check needs no database and creates none"
    result = run("check", "--models", f"{module}:Base", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"in_sync": True, "tables": 1, "differences": []}


def test_drift_exits_1_listing_each_difference(run: Run, write: Write, models: Callable[[str], str]) -> None:
    write("changelog/changelog.yaml", CHANGELOG)
    module = models(
        MODELS.replace("sa.String(50), index=True)", "sa.String(80), index=True)")
        + "    email: Mapped[str | None] = mapped_column(sa.String(100))\n"
    )
    result = run("check", "--models", module)
    assert result.exit_code == 1, result.output
    assert "add_column owner.email" in result.output
    assert "alter_column owner.name (type)" in result.output
    result = run("check", "--models", module, "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["in_sync"] is False
    kinds = {(d["kind"], d["table"], d["name"], d["destructive"]) for d in data["differences"]}
    assert kinds == {("add_column", "owner", "email", False), ("alter_column", "owner", "name", False)}


def test_a_possible_rename_is_named_as_such(run: Run, write: Write, models: Callable[[str], str]) -> None:
    write("changelog/changelog.yaml", CHANGELOG)
    renamed = MODELS.replace('__tablename__ = "owner"', '__tablename__ = "person"').replace("index=True", "")
    result = run("check", "--models", models(renamed))
    assert result.exit_code == 1, result.output
    assert "drop_table owner  [destructive]" in result.output
    assert "looks like a rename of owner to person" in result.output
    hinted = renamed.replace(
        '__tablename__ = "person"', '__tablename__ = "person"\n    __table_args__ = {"info": {"renamed_from": "owner"}}'
    )
    result = run("check", "--models", models(hinted))
    assert result.exit_code == 1
    assert "rename_table person" in result.output and "drop_table" not in result.output


def test_bad_models_are_a_clear_message_and_exit_2(run: Run, write: Write, models: Callable[[str], str]) -> None:
    write("changelog/changelog.yaml", CHANGELOG)
    broken = models("import sqlalchemy as sa\nmetadata = sa.MetaData()\nx = 1 / 0\n")
    cases = {
        ("nowhere_to_be_found",): "no module named nowhere_to_be_found",
        (broken,): f"module {broken} does not import: ZeroDivisionError",
        (f"{models(MODELS)}:sa",): "sa is a module, not a MetaData",
        (f"{models(MODELS)}:Missing",): "has no attribute Missing",
        (models("import sqlalchemy as sa\na = sa.MetaData()\nb = sa.MetaData()\n"),): "several metadata (a, b)",
        (models("import sqlalchemy as sa\nmetadata = sa.MetaData()\n"),): "hold no tables",
    }
    for (spec,), message in cases.items():
        result = run("check", "--models", spec)
        assert result.exit_code == 2, (spec, result.output)
        assert message in result.output, (spec, result.output)
        assert "Traceback" not in result.output


def test_an_unreachable_against_url_is_a_clear_message(run: Run, write: Write, models: Callable[[str], str]) -> None:
    write("changelog/changelog.yaml", CHANGELOG)
    module = models(MODELS)
    result = run("check", "--models", module, "--against-url", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert result.exit_code == 1
    assert "cannot connect to postgresql+psycopg://nobody@127.0.0.1:1/none" in result.output
    assert "Traceback" not in result.output
    result = run("check", "--models", module, "--against-url", "sqlite:///missing.db")
    assert result.exit_code == 1 and "no database at sqlite:///missing.db" in result.output
    assert not Path("missing.db").exists()


def test_against_url_compares_the_models_with_a_live_database(
    run: Run, write: Write, models: Callable[[str], str]
) -> None:
    write("changelog/changelog.yaml", CHANGELOG)
    module = models(MODELS)
    assert run("update", "--url", "sqlite:///live.db").exit_code == 0
    result = run("check", "--models", module, "--against-url", "sqlite:///live.db")
    assert result.exit_code == 0, result.output
    assert "the database at sqlite:///live.db matches the models" in result.output
    with sa.create_engine("sqlite:///live.db").begin() as connection:
        connection.exec_driver_sql("ALTER TABLE owner ADD COLUMN drifted INTEGER")
    result = run("check", "--models", module, "--against-url", "sqlite:///live.db")
    assert result.exit_code == 1 and "drop_column owner.drifted  [destructive]" in result.output


def test_diff_of_two_databases(run: Run, write: Write) -> None:
    write("changelog/changelog.yaml", CHANGELOG)
    assert run("update", "--url", "sqlite:///a.db").exit_code == 0
    assert run("update", "--url", "sqlite:///b.db").exit_code == 0
    result = run("diff", "--reference-url", "sqlite:///a.db", "--url", "sqlite:///b.db")
    assert result.exit_code == 0, result.output
    assert "has the same schema" in result.output
    with sa.create_engine("sqlite:///a.db").begin() as connection:
        connection.exec_driver_sql("CREATE TABLE extra (id INTEGER PRIMARY KEY)")
    result = run("diff", "--reference-url", "sqlite:///a.db", "--url", "sqlite:///b.db", "--format", "json")
    assert result.exit_code == 1
    assert [d["description"] for d in json.loads(result.output)["differences"]] == ["add_table extra"]
    assert [d.kind for d in yamlbase.diff("sqlite:///b.db", reference_url="sqlite:///a.db")] == ["add_table"]


def test_the_api_check_takes_metadata(write: Write) -> None:
    write("changelog/changelog.yaml", CHANGELOG)
    metadata = sa.MetaData()
    sa.Table(
        "owner",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False, index=True),
    )
    assert yamlbase.check(models=metadata) == []
    sa.Table("extra", metadata, sa.Column("id", sa.Integer, primary_key=True))
    assert [d.describe() for d in yamlbase.check(models=metadata)] == ["add_table extra"]
