"""yamlbase writes the same history rows as Liquibase 4.28 for the same changelog.

``tests/data/liquibase-example.history.json`` was written by the real Liquibase 4.28 (``update`` on
PostgreSQL 15, run inside ``tests/data/liquibase-example``); its MD5SUM, DESCRIPTION, COMMENTS, TAG and
ORDEREXECUTED values are the reference.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from yamlbase import commands
from yamlbase.runtime.history import HistoryTable
from yamlbase.runtime.lock import ChangeLogLock
from yamlbase.runtime.sink import ConnectionSink

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    folder = tmp_path / "example"
    shutil.copytree(DATA / "liquibase-example", folder)
    return folder / "changelog.yaml"


def test_history_rows_match_liquibase(db_url: str, example: Path) -> None:
    expected = json.loads((DATA / "liquibase-example.history.json").read_text())["rows"]
    commands.update(db_url, example)
    rows = [
        [r.filename, r.id, r.author, r.md5sum, r.description, r.comments, r.tag, r.order_executed]
        for r in commands.history(db_url)
    ]
    assert rows == expected


def test_checksums_match_liquibase_without_a_database(example: Path) -> None:
    expected = {
        (r[0], r[1], r[2]): r[3] for r in json.loads((DATA / "liquibase-example.history.json").read_text())["rows"]
    }
    model = commands.validate(example)
    assert {cs.key: cs.checksum for cs in model.changesets} == expected


def test_a_history_written_by_liquibase_is_up_to_date_for_yamlbase(db_url: str, example: Path) -> None:
    """Liquibase's own rows (its checksums) are accepted as applied; a version-8 checksum is rewritten to 9."""
    golden = json.loads((DATA / "liquibase-example.history.json").read_text())["rows"]
    model = commands.validate(example)
    first = model.changesets[0]
    with commands.connect(db_url) as connection:
        target = commands.Target(ConnectionSink(connection), connection, *_tables(connection.dialect.name))
        target.ensure_lock_table()
        target.ensure_history_table()
        with target.sink.transaction():
            for filename, id_, author, md5sum, description, comments, tag, order in golden:
                if id_ == first.id:
                    md5sum = first.checksum_version(8)  # as Liquibase 3.5-4.21 wrote it
                target.history.insert(
                    target.sink,
                    {"ID": id_, "AUTHOR": author, "FILENAME": filename, "ORDEREXECUTED": order, "EXECTYPE": "EXECUTED",
                     "MD5SUM": md5sum, "DESCRIPTION": description, "COMMENTS": comments, "TAG": tag,
                     "LIQUIBASE": "4.28.0", "DEPLOYMENT_ID": "0000000001"},
                )  # fmt: skip
    assert commands.status(db_url, example) == []
    assert commands.update(db_url, example) == []
    stored = {r.id: r.md5sum for r in commands.history(db_url)}
    assert stored[first.id] == golden[0][3]


def _tables(dialect: str) -> tuple[HistoryTable, ChangeLogLock]:
    return HistoryTable(dialect), ChangeLogLock(dialect)


def test_changelog_language_runs_as_liquibase_runs_it(sqlite_url: str, tmp_path: Path) -> None:
    """Properties (entries, a file, a context-limited one), contexts, labels, include/includeAll attributes,
    runOrder, runAlways, runOnChange, ignore, dbms variants and a changelog-level logicalFilePath, over three
    runs with different selections: the same history rows (MD5SUM, CONTEXTS, LABELS, EXECTYPE, ORDEREXECUTED)
    and the same data as Liquibase 4.28 wrote (``tests/data/liquibase-language.history.json``)."""
    golden = json.loads((DATA / "liquibase-language.history.json").read_text())
    folder = tmp_path / "language"
    shutil.copytree(DATA / "liquibase-language", folder)
    changelog = folder / "changelog.yaml"
    commands.update(sqlite_url, changelog, contexts="dev,v1", label_filter="!beta")
    commands.update(sqlite_url, changelog)
    b = folder / "db" / "one" / "b.yaml"
    b.write_text(b.read_text().replace("VALUES (12)", "VALUES (13)"))
    commands.update(sqlite_url, changelog, contexts="ci")
    rows = [
        [r.filename, r.id, r.author, r.exec_type, r.contexts, r.labels, r.order_executed, r.md5sum, r.description]
        for r in commands.history(sqlite_url)
    ]
    assert rows == golden["rows"]
    with commands.connect(sqlite_url) as connection:
        items = [list(r) for r in connection.exec_driver_sql("SELECT * FROM app_item ORDER BY id")]
        early = [r[0] for r in connection.exec_driver_sql("SELECT * FROM early")]
    assert (items, early) == (golden["app_item"], golden["early"])
