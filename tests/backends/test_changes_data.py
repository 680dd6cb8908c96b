"""The data change types on real backends (SQLite, PostgreSQL, MariaDB): the rows that land, and the rollbacks
Liquibase has (loadUpdateData deletes its file's rows by primary key; the others have none).
"""

from __future__ import annotations

import datetime as dt
import decimal
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from yamlbase import commands
from yamlbase.errors import MigrationError, RollbackImpossibleError

PEOPLE_TABLE = """
- changeSet:
    id: people
    author: test
    changes:
      - createTable:
          tableName: people
          columns:
            - column: {name: id, type: int, constraints: {primaryKey: true}}
            - column: {name: name, type: varchar(60)}
            - column: {name: score, type: "decimal(10,2)"}
            - column: {name: active, type: boolean}
            - column: {name: born, type: date}
            - column: {name: seen, type: datetime}
            - column: {name: token, type: char(36)}
            - column: {name: created, type: varchar(30)}
            - column: {name: note, type: varchar(60)}
- changeSet:
    id: before
    author: test
    changes:
      - tagDatabase: {tag: before}
"""


def write(folder: Path, changesets: str, files: dict[str, str] | None = None) -> Path:
    for name, text in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    body = textwrap.indent(textwrap.dedent(PEOPLE_TABLE).strip() + "\n" + textwrap.dedent(changesets).strip(), "  ")
    path = folder / "changelog.yaml"
    path.write_text("databaseChangeLog:\n" + body + "\n", encoding="utf-8")
    return path


def rows(url: str, table: str = "people") -> list[dict[str, Any]]:
    """The table's rows by id, as plain Python values (booleans as bool, whatever the backend stores)."""
    with commands.connect(url) as connection:
        reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
        result = connection.execute(sa.select(reflected).order_by(reflected.c.id)).mappings().all()
    out = []
    for row in result:
        plain = dict(row)
        if "active" in plain and plain["active"] is not None:
            plain["active"] = bool(plain["active"])
        if isinstance(plain.get("seen"), str):  # SQLite: DATETIME text
            plain["seen"] = dt.datetime.fromisoformat(plain["seen"])
        out.append(plain)
    return out


def test_insert_update_delete(db_url: str, tmp_path: Path) -> None:
    changelog = write(
        tmp_path,
        """
        - changeSet:
            id: data
            author: test
            changes:
              - insert:
                  tableName: people
                  columns:
                    - column: {name: id, valueNumeric: 1}
                    - column: {name: name, value: "O'Brien"}
                    - column: {name: score, valueNumeric: 2.5}
                    - column: {name: active, valueBoolean: true}
                    - column: {name: born, valueDate: "2001-02-03"}
              - insert:
                  tableName: people
                  columns:
                    - column: {name: id, valueNumeric: 2}
                    - column: {name: name, value: "keep"}
                    - column: {name: created, valueComputed: "'made' || ''"}
              - insert:
                  tableName: people
                  columns:
                    - column: {name: id, valueNumeric: 3}
                    - column: {name: name, value: "gone"}
              - update:
                  tableName: people
                  columns:
                    - column: {name: note, value: "it's; updated"}
                    - column: {name: score, valueNumeric: 3}
                  where: ":name = :value"
                  whereParams:
                    - param: {name: name, value: "O'Brien"}
              - delete:
                  tableName: people
                  where: "id >= ? AND name NOT LIKE 'k%'"
                  whereParams:
                    - param: {valueNumeric: 2}
        """,
    )
    if db_url.startswith("mariadb") or db_url.startswith("mysql"):
        changelog.write_text(changelog.read_text().replace("\"'made' || ''\"", "\"CONCAT('made', '')\""))
    commands.update(db_url, changelog)
    got = rows(db_url)
    assert [(r["id"], r["name"], r["note"], r["created"]) for r in got] == [
        (1, "O'Brien", "it's; updated", None),
        (2, "keep", None, "made"),
    ]
    assert got[0]["score"] == decimal.Decimal("3") and got[0]["active"] is True
    assert got[0]["born"] in (dt.date(2001, 2, 3), "2001-02-03")
    with pytest.raises(RollbackImpossibleError, match="insert cannot be rolled back"):
        commands.rollback(db_url, changelog, tag="before")


PEOPLE_CSV = '''\
id,name,score,active,born,seen,token,created,note,ignored
# a comment line, skipped
1,O'Brien,1.50,true,2001-02-03,2020-01-01T10:00:00,5f0c6f4e-8d6b-4c5e-9e33-0a0b0c0d0e0f,'at' || 'x',"quoted, with ""quotes""",x

2,NULL,null,no,,,NULL,,,y
3,"semi;colon",-7,0,1999-12-31,2021-05-06 07:08:09,,NULL,NULL,z
'''

TYPED_COLUMNS = """
                  columns:
                    - column: {name: id, type: NUMERIC}
                    - column: {name: score, type: NUMERIC}
                    - column: {name: active, type: BOOLEAN}
                    - column: {name: born, type: DATE}
                    - column: {name: seen, type: DATETIME}
                    - column: {name: token, type: UUID}
                    - column: {name: created, type: COMPUTED}
                    - column: {name: note, type: STRING}
                    - column: {header: ignored, type: SKIP}
"""


def expected_people(created: str | None) -> list[dict[str, Any]]:
    return [
        {
            "id": 1,
            "name": "O'Brien",
            "score": decimal.Decimal("1.50"),
            "active": True,
            "born": dt.date(2001, 2, 3),
            "seen": dt.datetime(2020, 1, 1, 10, 0),
            "token": "5f0c6f4e-8d6b-4c5e-9e33-0a0b0c0d0e0f",
            "created": created,
            "note": 'quoted, with "quotes"',
        },
        {"id": 2, "name": None, "score": None, "active": False, "born": None, "seen": None, "token": None}
        | {"created": None, "note": ""},  # an empty STRING cell is '', NULL is NULL
        {
            "id": 3,
            "name": "semi;colon",
            "score": decimal.Decimal("-7.00"),
            "active": False,
            "born": dt.date(1999, 12, 31),
            "seen": dt.datetime(2021, 5, 6, 7, 8, 9),
            "token": None,
            "created": None,
            "note": None,
        },
    ]


def concat(url: str) -> str:
    return "\"CONCAT('at', 'x')\"" if sa.make_url(url).get_backend_name() in ("mysql", "mariadb") else "'at' || 'x'"


def normalised(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in found:
        if isinstance(row["born"], str):
            row["born"] = dt.date.fromisoformat(row["born"])
        if isinstance(row["score"], float):
            row["score"] = decimal.Decimal(str(row["score"])).quantize(decimal.Decimal("0.01"))
    return found


def test_load_data_every_column_type_and_nulls(db_url: str, tmp_path: Path) -> None:
    changelog = write(
        tmp_path,
        """
        - changeSet:
            id: load
            author: test
            changes:
              - loadData:
                  tableName: people
                  file: data/people.csv
        """
        + TYPED_COLUMNS,
        {"data/people.csv": PEOPLE_CSV.replace("'at' || 'x'", concat(db_url))},
    )
    commands.update(db_url, changelog)
    assert normalised(rows(db_url)) == expected_people("atx")
    with pytest.raises(RollbackImpossibleError, match="loadData cannot be rolled back"):
        commands.rollback(db_url, changelog, tag="before")


def test_load_data_takes_column_types_from_the_table(db_url: str, tmp_path: Path) -> None:
    """Without ``type``, the database's column type decides, as in Liquibase: an empty cell is '' in a varchar
    column and NULL in the others; booleans and dates are read as such."""
    csv_text = "id,name,score,active,born,note\n1,,,yes,2001-02-03,\n2,x,2.25,f,,NULL\n"
    changelog = write(
        tmp_path,
        """
        - changeSet:
            id: load
            author: test
            changes:
              - loadData: {tableName: people, file: plain.csv, relativeToChangelogFile: true}
        """,
        {"plain.csv": csv_text},
    )
    commands.update(db_url, changelog)
    got = normalised(rows(db_url))
    assert [(r["id"], r["name"], r["score"], r["active"], r["born"], r["note"]) for r in got] == [
        (1, "", None, True, dt.date(2001, 2, 3), ""),
        (2, "x", decimal.Decimal("2.25"), False, None, None),
    ]


def test_a_bad_cell_fails_the_changeset_naming_file_line_and_column(db_url: str, tmp_path: Path) -> None:
    changelog = write(
        tmp_path,
        """
        - changeSet:
            id: load
            author: test
            changes:
              - loadData:
                  tableName: people
                  file: bad.csv
                  columns: [{column: {name: score, type: NUMERIC}}]
        """,
        {"bad.csv": "id,score\n1,2\n2,two\n"},
    )
    with pytest.raises(MigrationError, match=r"bad\.csv:3: column 'score' \(NUMERIC\): 'two' is not a number"):
        commands.update(db_url, changelog)
    assert rows(db_url) == []  # the row before the bad one went with the changeSet
    assert [row.id for row in commands.history(db_url)] == ["people", "before"]


UPSERT_SEED = "id,name,note\n1,old one,first\n2,two,second\n"
UPSERT_FILE = "id,name,note\n1,new one,changed\n3,three,added\n"


def upsert_changelog(folder: Path, extra: str = "") -> Path:
    return write(
        folder,
        f"""
        - changeSet:
            id: seed
            author: test
            changes:
              - loadData: {{tableName: people, file: seed.csv}}
        - changeSet:
            id: seeded
            author: test
            changes:
              - tagDatabase: {{tag: seeded}}
        - changeSet:
            id: upsert
            author: test
            changes:
              - loadUpdateData: {{tableName: people, file: upsert.csv, primaryKey: id{extra}}}
        - changeSet:
            id: upsert-again
            author: test
            changes:
              - loadUpdateData: {{tableName: people, file: upsert.csv, primaryKey: id{extra}}}
        """,
        {"seed.csv": UPSERT_SEED, "upsert.csv": UPSERT_FILE},
    )


def names_and_notes(url: str) -> list[tuple[Any, ...]]:
    return [(r["id"], r["name"], r["note"]) for r in rows(url)]


def test_load_update_data_upserts_twice_and_rolls_back_by_primary_key(db_url: str, tmp_path: Path) -> None:
    changelog = upsert_changelog(tmp_path)
    commands.update(db_url, changelog)
    upserted = [(1, "new one", "changed"), (2, "two", "second"), (3, "three", "added")]
    assert names_and_notes(db_url) == upserted  # the second run changed nothing more
    commands.rollback(db_url, changelog, count=1)
    assert names_and_notes(db_url) == [(2, "two", "second")]  # Liquibase deletes every row of the file
    commands.rollback(db_url, changelog, tag="seeded")
    assert names_and_notes(db_url) == [(2, "two", "second")]


def test_load_update_data_only_update_and_allow_update(db_url: str, tmp_path: Path) -> None:
    changelog = write(
        tmp_path,
        """
        - changeSet:
            id: seed
            author: test
            changes:
              - loadData: {tableName: people, file: seed.csv}
              - loadUpdateData:
                  tableName: people
                  file: upsert.csv
                  primaryKey: id
                  onlyUpdate: true
                  columns: [{column: {name: note, allowUpdate: false}}]
        """,
        {"seed.csv": UPSERT_SEED, "upsert.csv": UPSERT_FILE},
    )
    commands.update(db_url, changelog)
    assert names_and_notes(db_url) == [(1, "new one", "first"), (2, "two", "second")]


def test_sql_file(db_url: str, tmp_path: Path) -> None:
    script = textwrap.dedent(
        """\
        -- fill the table
        INSERT INTO people (id, name) VALUES (1, 'a;b')//
        /* two */ INSERT INTO people (id, name) VALUES (2, 'it''s')//
        """
    )
    changelog = write(
        tmp_path,
        """
        - changeSet:
            id: script
            author: test
            changes:
              - sqlFile: {path: sql/fill.sql, relativeToChangelogFile: true, endDelimiter: //, stripComments: true}
        """,
        {"sql/fill.sql": script},
    )
    commands.update(db_url, changelog)
    assert [(r["id"], r["name"]) for r in rows(db_url)] == [(1, "a;b"), (2, "it's")]


@pytest.fixture
def statements() -> Iterator[list[tuple[str, bool]]]:
    """Every statement sent to any database while the test runs, with whether it was an executemany."""
    seen: list[tuple[str, bool]] = []

    def record(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, executemany: bool) -> None:
        seen.append((statement, executemany))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every ``COPY`` psycopg runs while the test runs (COPY goes round SQLAlchemy's events)."""
    seen: list[str] = []
    psycopg = pytest.importorskip("psycopg")
    original = psycopg.Cursor.copy

    def copy(self: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(statement))
        return original(self, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", copy)
    return seen


@pytest.mark.parametrize("change", ["loadData", "loadUpdateData"])
def test_twenty_thousand_rows_go_in_batches(
    db_url: str, tmp_path: Path, statements: list[tuple[str, bool]], copies: list[str], change: str
) -> None:
    count = 20_000
    csv_text = "id,name,score\n" + "".join(f"{i},name {i},{i % 100}.5\n" for i in range(count))
    extra = ", primaryKey: id" if change == "loadUpdateData" else ""
    changelog = write(
        tmp_path,
        f"""
        - changeSet:
            id: bulk
            author: test
            changes:
              - {change}: {{tableName: people, file: big.csv{extra}}}
        """,
        {"big.csv": csv_text},
    )
    commands.update(db_url, changelog)
    inserts = [s for s, _ in statements if s.lstrip().upper().startswith("INSERT INTO PEOPLE")]
    if change == "loadData" and sa.make_url(db_url).get_backend_name() == "postgresql":
        assert inserts == []
        assert copies == ["COPY people (id, name, score) FROM STDIN"]  # PostgreSQL's fastest path: one COPY
    else:
        assert copies == []
        assert 1 <= len(inserts) <= 2 * count // 1000  # batches of 1000 rows (drivers may split a batch in two)
    with commands.connect(db_url) as connection:
        assert connection.execute(sa.text("SELECT count(*), sum(id) FROM people")).one() == (
            count,
            count * (count - 1) // 2,
        )


def test_values_from_blob_and_clob_files(db_url: str, tmp_path: Path) -> None:
    blob = bytes(range(256)) * 40
    changelog = write(
        tmp_path,
        """
        - changeSet:
            id: files
            author: test
            changes:
              - createTable:
                  tableName: docs
                  columns:
                    - column: {name: id, type: int}
                    - column: {name: body, type: blob}
                    - column: {name: text, type: clob}
              - insert:
                  tableName: docs
                  columns:
                    - column: {name: id, valueNumeric: 1}
                    - column: {name: body, valueBlobFile: files/body.bin}
                    - column: {name: text, valueClobFile: files/text.txt}
        """,
        {"files/text.txt": "ünï 'text'\n; DROP TABLE docs; --"},
    )
    (tmp_path / "files" / "body.bin").write_bytes(blob)
    commands.update(db_url, changelog)
    with commands.connect(db_url) as connection:
        body, text = connection.execute(sa.text("SELECT body, text FROM docs")).one()
    assert bytes(body) == blob
    assert text == "ünï 'text'\n; DROP TABLE docs; --"
