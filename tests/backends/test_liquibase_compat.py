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


def test_a_database_liquibase_updated_is_up_to_date_for_yamlbase(db_url: str, example: Path) -> None:
    """Rows as Liquibase wrote them (its checksums, its LIQUIBASE column) are recognised: nothing is pending."""
    commands.update(db_url, example)
    with commands.connect(db_url) as connection:
        from yamlbase.runtime.history import HistoryTable

        table = HistoryTable(connection.dialect.name).table
        connection.execute(table.update().values({table.c[-5].name: "4.28.0"}))  # LIQUIBASE column
        connection.commit()
    assert commands.status(db_url, example) == []
    assert commands.update(db_url, example) == []
