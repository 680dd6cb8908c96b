"""Exact SQL of the data change types (insert, update, delete, loadData, loadUpdateData, sqlFile) on all six dialects.

Values are bound parameters; SQL output renders them as each dialect's literals, so quotes are doubled, a MySQL
backslash is escaped, and a ``'); DROP TABLE`` stays inside its string. Also: CSV reading rules (NULL, empty
cells, comments, separators, quotes), located errors for bad cells, file resolution, and the checksums of the files
these changes read.
"""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_sql_golden import DIALECTS, Case, changes_from, each, laid_out, normal, same, text_sink
from yamlbase.changelog import parse_changelog
from yamlbase.changelog.checksum import _csv_bytes, _csv_bytes_slow, change_checksum, hash_text
from yamlbase.changelog.search_path import SearchPath
from yamlbase.changes import NoInverse, PlanContext, Rows
from yamlbase.changes.data import CellError, LoadData, LoadUpdateData
from yamlbase.errors import ChangeLogError

DATA = Path(__file__).resolve().parent.parent / "data" / "data-changes"

NICK = {"sqlite": '"Nick Name"', "postgresql": '"Nick Name"', "mysql": "`Nick Name`", "mariadb": "`Nick Name`"}
NICK |= {"mssql": "[Nick Name]", "oracle": '"Nick Name"'}
NATIVE_BOOLEAN = ("postgresql", "mysql", "mariadb")


def true(dialect: str) -> str:
    return "true" if dialect in NATIVE_BOOLEAN else "1"


def false(dialect: str) -> str:
    return "false" if dialect in NATIVE_BOOLEAN else "0"


def date(dialect: str, text: str) -> str:
    return f"TO_DATE('{text}', 'YYYY-MM-DD')" if dialect == "oracle" else f"'{text}'"


def per_dialect(statements: Any) -> dict[str, str]:
    """``statements(dialect)`` (one or a tuple of statements) laid out for every dialect."""
    result = {}
    for d in DIALECTS:
        found = statements(d)
        result[d] = laid_out(d, *((found,) if isinstance(found, str) else found))
    return result


def render(dialect: str, changes: str, *, inverse: bool = False) -> str:
    """update-sql's text for ``changes`` (or for their inverses), files resolved in tests/data/data-changes."""
    out = io.StringIO()
    with text_sink(dialect, out) as sink:
        for change in changes_from(textwrap.dedent(changes)):
            assert change.bind_files(DATA, SearchPath((DATA,))) == []
            for applied in change.inverse(sink.context) if inverse else [change]:
                sink.apply(applied)
    return normal(out.getvalue())


# --- insert / update / delete -------------------------------------------------------------------------------------

INSERT = Case(
    r"""
    - insert:
        tableName: person
        columns:
          - column: {name: id, valueNumeric: 7}
          - column: {name: name, value: "O'Brien \\ back'); DROP TABLE person; --"}
          - column: {name: Nick Name, valueBoolean: true}
          - column: {name: team_id, valueComputed: "(SELECT max(id) FROM team)"}
    """,
    each(
        sqlite="INSERT INTO person (id, name, \"Nick Name\", team_id) VALUES (7, 'O''Brien \\ back''); DROP TABLE "
        "person; --', 1, (SELECT max(id) FROM team))",
        postgresql="INSERT INTO person (id, name, \"Nick Name\", team_id) VALUES (7, 'O''Brien \\ back''); DROP TABLE "
        "person; --', true, (SELECT max(id) FROM team))",
        mysql="INSERT INTO person (id, name, `Nick Name`, team_id) VALUES (7, 'O''Brien \\\\ back''); DROP TABLE "
        "person; --', true, (SELECT max(id) FROM team))",
        mariadb="INSERT INTO person (id, name, `Nick Name`, team_id) VALUES (7, 'O''Brien \\\\ back''); DROP TABLE "
        "person; --', true, (SELECT max(id) FROM team))",
        mssql="INSERT INTO person (id, name, [Nick Name], team_id) VALUES (7, 'O''Brien \\ back''); DROP TABLE "
        "person; --', 1, (SELECT max(id) FROM team))",
        oracle="INSERT INTO person (id, name, \"Nick Name\", team_id) VALUES (7, 'O''Brien \\ back''); DROP TABLE "
        "person; --', 1, (SELECT max(id) FROM team))",
    ),
)

INSERT_DBMS = Case(
    """
    - insert:
        tableName: team
        dbms: postgresql, oracle
        columns:
          - column: {name: id, valueNumeric: "1.50"}
    """,
    {
        **dict.fromkeys(("sqlite", "mysql", "mariadb", "mssql"), ""),
        **each(postgresql="INSERT INTO team (id) VALUES (1.50)", oracle="INSERT INTO team (id) VALUES (1.50)"),
    },
)

UPDATE = Case(
    """
    - update:
        tableName: person
        columns:
          - column: {name: name, value: "it's"}
          - column: {name: team_id, valueNumeric: 2}
        where: ":name = :value AND id > ? AND name LIKE 'a%'"
        whereParams:
          - param: {name: Nick Name, value: "x'); DROP TABLE person; --"}
          - param: {valueNumeric: 3}
    """,
    per_dialect(
        lambda d: (
            f"UPDATE person SET name='it''s', team_id=2 WHERE {NICK[d]} = 'x''); DROP TABLE person; --' "
            "AND id > 3 AND name LIKE 'a%'"
        )
    ),
)

UPDATE_DATE = Case(
    "- update: {tableName: person, columns: [{column: {name: team_id, valueDate: '2024-02-29'}}]}",
    each(
        **{d: "UPDATE person SET team_id='2024-02-29'" for d in DIALECTS if d != "oracle"},
        oracle="UPDATE person SET team_id=TO_DATE('2024-02-29', 'YYYY-MM-DD')",
    ),
)

DELETE = Case(
    """
    - delete: {tableName: person, where: "name LIKE 'a%' AND id <> 1"}
    - delete: {tableName: team}
    """,
    same("DELETE FROM person WHERE name LIKE 'a%' AND id <> 1", "DELETE FROM team"),
)

# --- loadData -----------------------------------------------------------------------------------------------------


LOAD_DATA = Case(
    """
    - loadData:
        tableName: person
        file: people.csv
        columns:
          - column: {name: id, type: NUMERIC}
          - column: {header: score, type: SKIP}
          - column: {header: active, name: Nick Name, type: BOOLEAN}
          - column: {header: born, type: DATE}
          - column: {header: note, type: STRING}
    """,
    per_dialect(
        lambda d: (
            f"INSERT INTO person (id, name, {NICK[d]}, born, note) "
            f"VALUES (1, 'O''Brien', {true(d)}, {date(d, '2001-02-03')}, 'hello')",
            # NULL is NULL; an empty cell is NULL, but an empty string in a STRING column
            f"INSERT INTO person (id, name, {NICK[d]}, born, note) "
            f"VALUES (2, 'semi;colon, \"quoted\"', {false(d)}, NULL, '')",
        )
    ),
)

LOAD_DATA_OPTIONS = Case(
    """
    - loadData:
        tableName: person
        file: tabbed.tsv
        separator: "\\\\t"
        quotchar: "'"
        commentLineStartsWith: //
        columns:
          - column: {header: id, type: NUMERIC}
          - column: {header: name, type: STRING}
          - column: {header: created, name: team_id, type: COMPUTED}
    """,
    same(
        "INSERT INTO person (id, name, team_id) VALUES (5, 'tab\there', CURRENT_TIMESTAMP)",
        "INSERT INTO person (id, name, team_id) VALUES (6, NULL, NULL)",
    ),
)

LOAD_UPDATE_DATA = Case(
    """
    - loadUpdateData:
        tableName: person
        file: people.csv
        primaryKey: id
        columns:
          - column: {name: id, type: NUMERIC}
          - column: {header: score, type: SKIP}
          - column: {header: active, type: SKIP}
          - column: {header: born, type: SKIP}
          - column: {header: note, name: Nick Name, type: STRING}
    """,
    {
        **per_dialect(
            lambda d: (
                tuple(
                    f"INSERT INTO person (id, name, {NICK[d]}) VALUES ({i}, '{name}', '{nick}') "
                    + (
                        f"ON CONFLICT (id) DO UPDATE SET name = excluded.name, {NICK[d]} = excluded.{NICK[d]}"
                        if d in ("sqlite", "postgresql")
                        else f"ON DUPLICATE KEY UPDATE name = VALUES(name), {NICK[d]} = VALUES({NICK[d]})"
                    )
                    for i, name, nick in ((1, "O''Brien", "hello"), (2, 'semi;colon, "quoted"', ""))
                )
                if d not in ("mssql", "oracle")
                else tuple(
                    f"MERGE INTO person USING (SELECT {i} AS id, '{name}' AS name, '{nick}' AS {NICK[d]}"
                    + (" FROM DUAL) src" if d == "oracle" else ") AS src")
                    + f" ON (person.id = src.id) WHEN MATCHED THEN UPDATE SET name = src.name, {NICK[d]} = src.{NICK[d]}"
                    f" WHEN NOT MATCHED THEN INSERT (id, name, {NICK[d]}) VALUES (src.id, src.name, src.{NICK[d]})"
                    for i, name, nick in ((1, "O''Brien", "hello"), (2, 'semi;colon, "quoted"', ""))
                )
            )
        ),
    },
)

LOAD_UPDATE_DATA_ONLY_UPDATE = Case(
    """
    - loadUpdateData:
        tableName: person
        file: people.csv
        primaryKey: id
        onlyUpdate: true
        columns:
          - column: {name: id, type: NUMERIC}
          - column: {header: score, type: SKIP}
          - column: {header: active, type: SKIP}
          - column: {header: born, type: SKIP}
          - column: {header: note, name: Nick Name, type: STRING, allowUpdate: false}
    """,
    same(
        "UPDATE person SET name='O''Brien' WHERE person.id = 1",
        "UPDATE person SET name='semi;colon, \"quoted\"' WHERE person.id = 2",
    ),
)

SQL_FILE = Case(
    "- sqlFile: {path: script.sql}",
    per_dialect(lambda d: ("-- a script\ninsert into team (id) values (1)", "insert into team (id) values (2)")),
)

SQL_FILE_OPTIONS = Case(
    "- sqlFile: {path: script.sql, stripComments: true, splitStatements: false, dbms: '!oracle'}",
    {
        **per_dialect(lambda d: "insert into team (id) values (1);\ninsert into team (id) values (2);"),
        "oracle": "",
    },
)

SCHEMA_QUALIFIED = Case(
    """
    - insert:
        schemaName: app
        tableName: person
        columns:
          - column: {name: id, autoIncrement: true}
          - column: {name: name, value: x}
    - loadData:
        schemaName: app
        tableName: person
        file: tabbed.tsv
        separator: "\\t"
        quotchar: "'"
        commentLineStartsWith: //
        columns:
          - column: {header: id, type: NUMERIC}
          - column: {header: created, type: SKIP}
          - column: {header: name, type: STRING}
    """,
    # an autoIncrement column is left to the database, as Liquibase does
    same(
        "INSERT INTO app.person (name) VALUES ('x')",
        "INSERT INTO app.person (id, name) VALUES (5, 'tab\there')",
        "INSERT INTO app.person (id, name) VALUES (6, NULL)",
    ),
)

CASES: dict[str, Case] = {
    "insert": INSERT,
    "insert-dbms": INSERT_DBMS,
    "update": UPDATE,
    "update-valueDate": UPDATE_DATE,
    "delete": DELETE,
    "loadData": LOAD_DATA,
    "loadData-options": LOAD_DATA_OPTIONS,
    "loadUpdateData": LOAD_UPDATE_DATA,
    "loadUpdateData-onlyUpdate": LOAD_UPDATE_DATA_ONLY_UPDATE,
    "sqlFile": SQL_FILE,
    "sqlFile-options": SQL_FILE_OPTIONS,
    "schema-qualified": SCHEMA_QUALIFIED,
}


@pytest.mark.parametrize(
    ("changes", "dialect", "expected"),
    [
        pytest.param(case.changes, dialect, expected, id=f"{name}-{dialect}")
        for name, case in CASES.items()
        for dialect, expected in case.sql.items()
    ],
)
def test_golden_sql(changes: str, dialect: str, expected: str) -> None:
    assert render(dialect, changes) == expected


# --- rollbacks ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_load_update_data_rolls_back_by_deleting_its_rows(dialect: str) -> None:
    """As Liquibase: one DELETE per row of the file, by primary key."""
    expected = laid_out(dialect, "DELETE FROM person WHERE person.id = 1", "DELETE FROM person WHERE person.id = 2")
    assert render(dialect, LOAD_UPDATE_DATA.changes, inverse=True) == expected


def test_a_null_key_is_deleted_with_is_null() -> None:
    changes = """
    - loadUpdateData: {tableName: person, file: people.csv, primaryKey: "id,score",
                       columns: [{column: {name: id, type: NUMERIC}}, {column: {name: score, type: NUMERIC}}]}
    """
    assert render("postgresql", changes, inverse=True) == laid_out(
        "postgresql",
        "DELETE FROM person WHERE person.id = 1 AND person.score = 1.5",
        "DELETE FROM person WHERE person.id = 2 AND person.score IS NULL",
    )


@pytest.mark.parametrize(
    "change",
    [
        "- insert: {tableName: t, columns: [{column: {name: a, value: x}}]}",
        "- update: {tableName: t, columns: [{column: {name: a, value: x}}]}",
        "- delete: {tableName: t}",
        "- loadData: {tableName: person, file: people.csv}",
        "- sqlFile: {path: script.sql}",
    ],
)
def test_changes_liquibase_cannot_roll_back_have_no_inverse(change: str) -> None:
    (model,) = changes_from(change)
    with pytest.raises(NoInverse):
        model.inverse(PlanContext("postgresql"))


# --- CSV rules and errors -----------------------------------------------------------------------------------------


def load(tmp_path: Path, csv_text: str, columns: str = "[]", dialect: str = "postgresql", **extra: Any) -> str:
    (tmp_path / "t.csv").write_bytes(csv_text.encode("utf-8"))
    options = "".join(f", {k}: {v}" for k, v in extra.items())
    (change,) = changes_from(f"- loadData: {{tableName: t, file: t.csv, columns: {columns}{options}}}")
    assert change.bind_files(tmp_path, SearchPath((tmp_path,))) == []
    out = io.StringIO()
    with text_sink(dialect, out) as sink:
        sink.apply(change)
    return normal(out.getvalue())


@pytest.mark.parametrize(
    ("good", "bad", "column_type", "message"),
    [
        ("1", "12x", "NUMERIC", "'12x' is not a number"),
        ("yes", "maybe", "BOOLEAN", "'maybe' is not a boolean"),
        ("2024-02-29", "2024-02-30", "DATE", "'2024-02-30' is not an ISO date"),
        ("2024-02-29T10:00:00", "yesterday", "DATETIME", "'yesterday' is not an ISO datetime"),
        ("5f0c6f4e-8d6b-4c5e-9e33-0a0b0c0d0e0f", "not-a-uuid", "UUID", "'not-a-uuid' is not a UUID"),
        ("AAEC", "no such file", "BLOB", "'no such file' is neither base64 nor a file next to t.csv"),
    ],
)
def test_a_bad_cell_is_an_error_naming_file_line_and_column(
    tmp_path: Path, good: str, bad: str, column_type: str, message: str
) -> None:
    expected = re.escape(f"t.csv:3: column 'a' ({column_type}): {message}")
    with pytest.raises(CellError, match=expected):
        load(tmp_path, f"a,b\n{good},x\n{bad},y\n", f"[{{column: {{name: a, type: {column_type}}}}}]")


def test_a_line_with_the_wrong_number_of_values_is_located(tmp_path: Path) -> None:
    with pytest.raises(CellError, match=r"t\.csv:4: 3 values where the header has 2"):
        load(tmp_path, "a,b\n1,2\n\n3,4,5\n")


def test_an_empty_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CellError, match="the file is empty"):
        load(tmp_path, "")


def test_values_as_liquibase_reads_them(tmp_path: Path) -> None:
    """NULL in any case is NULL; an empty cell takes the defaultValue; numbers, booleans, UUIDs, dates and times
    become typed literals; an untyped column (nothing to reflect) keeps its text; a quoted NULL is still NULL."""
    csv_text = (
        "n,b,u,d,tm,s,plain,dflt\n"
        '-2.50,Y,5F0C6F4E-8D6B-4C5E-9E33-0A0B0C0D0E0F,2024-02-29T10:15:30.5,07:08:09,"null",x,\n'
        "1e3,0,NULL,2024-02-29 10:15:30,,,,z\n"
    )
    columns = (
        "[{column: {name: n, type: NUMERIC}}, {column: {name: b, type: BOOLEAN}}, {column: {name: u, type: UUID}},"
        " {column: {name: d, type: DATETIME}}, {column: {name: tm, type: TIME}}, {column: {name: s, type: STRING}},"
        " {column: {name: dflt, type: STRING, defaultValue: fallback}}]"
    )
    assert load(tmp_path, csv_text, columns) == laid_out(
        "postgresql",
        "INSERT INTO t (n, b, u, d, tm, s, plain, dflt) VALUES (-2.50, true, '5f0c6f4e-8d6b-4c5e-9e33-0a0b0c0d0e0f',"
        " '2024-02-29 10:15:30.500000', '07:08:09', NULL, 'x', 'fallback')",
        "INSERT INTO t (n, b, u, d, tm, s, plain, dflt) VALUES (1000, false, NULL, '2024-02-29 10:15:30', NULL, '',"
        " NULL, 'z')",
    )


def test_blob_cells_are_base64_or_a_file_next_to_the_csv(tmp_path: Path) -> None:
    (tmp_path / "image.bin").write_bytes(b"\x00\xffbin")
    csv_text = "id,data\n1,AAEC\n2,image.bin\n"
    columns = "[{column: {name: id, type: NUMERIC}}, {column: {name: data, type: BLOB}}]"
    assert load(tmp_path, csv_text, columns) == laid_out(
        "postgresql",
        "INSERT INTO t (id, data) VALUES (1, '\\x000102'::bytea)",
        "INSERT INTO t (id, data) VALUES (2, '\\x00ff62696e'::bytea)",
    )


def test_encoding_and_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes("a\nçà\n".encode("latin-1"))
    (change,) = changes_from("- loadData: {tableName: t, file: t.csv, encoding: ISO-8859-1}")
    change.bind_files(tmp_path, SearchPath((tmp_path,)))
    out = io.StringIO()
    with text_sink("postgresql", out) as sink:
        sink.apply(change)
    assert "VALUES ('çà')" in out.getvalue()
    assert load(tmp_path, "\ufeffa\nb\n") == laid_out("postgresql", "INSERT INTO t (a) VALUES ('b')")


def test_rows_are_streamed_in_batches(tmp_path: Path) -> None:
    """The step reads the file as it is consumed and carries one parameterised statement for every row."""
    (tmp_path / "t.csv").write_text("a,b\n" + "".join(f"{i},v{i}\n" for i in range(2500)), encoding="utf-8")
    (change,) = changes_from("- loadData: {tableName: t, file: t.csv, columns: [{column: {name: a, type: NUMERIC}}]}")
    change.bind_files(tmp_path, SearchPath((tmp_path,)))
    (step,) = change.operations(PlanContext("postgresql"))
    assert isinstance(step, Rows)
    assert step.batch_size == 1000
    compiled = str(step.statement.compile(dialect=sa.dialects.postgresql.dialect()))
    assert compiled == "INSERT INTO t (a, b) VALUES (%(_yb_0)s, %(_yb_1)s)"
    rows = iter(step.rows())
    assert next(rows) == {"_yb_0": 0, "_yb_1": "v0"}
    assert sum(1 for _ in rows) == 2499


def test_primary_key_must_be_a_loaded_column() -> None:
    (change,) = changes_from("- loadUpdateData: {tableName: person, file: people.csv, primaryKey: nope}")
    change.bind_files(DATA, SearchPath((DATA,)))
    with pytest.raises(ValueError, match="primaryKey column"):
        change.operations(PlanContext("postgresql"))


def test_where_params_without_where_are_refused() -> None:
    (change,) = changes_from("- delete: {tableName: t, whereParams: [{param: {value: 1}}]}")
    with pytest.raises(ValueError, match="whereParams set but no where"):
        change.operations(PlanContext("postgresql"))


# --- files and checksums ------------------------------------------------------------------------------------------


def write_changelog(folder: Path, changes: str) -> Path:
    body = textwrap.indent(textwrap.dedent(changes).strip(), " " * 8)
    text = f"databaseChangeLog:\n  - changeSet:\n      id: 1\n      author: a\n      changes:\n{body}\n"
    path = folder / "changelog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_files_resolve_from_the_root_changelog_or_relative_to_their_changelog(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "data.csv").write_text("a\n1\n", encoding="utf-8")
    (tmp_path / "sub" / "near.sql").write_text("select 1", encoding="utf-8")
    included = tmp_path / "sub" / "included.yaml"
    write_changelog(
        tmp_path / "sub",
        """
        - loadData: {tableName: t, file: data.csv}
        - sqlFile: {path: near.sql, relativeToChangelogFile: true}
        """,
    ).rename(included)
    (tmp_path / "root.yaml").write_text("databaseChangeLog:\n  - include: {file: sub/included.yaml}\n")
    (cs,) = parse_changelog(tmp_path / "root.yaml").changesets
    load_data, sql_file = cs.changes
    assert isinstance(load_data, LoadData)
    assert load_data.source_file == (tmp_path / "data.csv").resolve()
    assert sql_file.operations(PlanContext("postgresql")) != []


def test_a_missing_file_is_a_located_changelog_error(tmp_path: Path) -> None:
    path = write_changelog(
        tmp_path,
        """
        - sqlFile: {path: missing.sql}
        - loadData: {tableName: t, file: missing.csv, encoding: no-such-codec}
        - loadUpdateData: {tableName: t, file: ../nowhere.csv, primaryKey: id}
        """,
    )
    with pytest.raises(ChangeLogError) as caught:
        parse_changelog(path)
    text = str(caught.value)
    assert "changelog.yaml:6:" in text and "sqlFile: file not found: missing.sql" in text
    assert "changelog.yaml:7:" in text and "unknown encoding 'no-such-codec'" in text
    assert "changelog.yaml:8:" in text and "loadUpdateData: file not found: ../nowhere.csv" in text


def test_load_data_checksum_is_liquibases(tmp_path: Path) -> None:
    """The worked example of Liquibase 4.28 (CHECKSUM.md): table t1, CSV ``id,name / 1,alpha / 2,beta``."""
    (tmp_path / "t1.csv").write_bytes(b"id,name\r\n1,alpha\r\n\r\n# comment\r\n2,beta\r\n")
    path = write_changelog(tmp_path, "- loadData: {tableName: t1, file: t1.csv}")
    (cs,) = parse_changelog(path).changesets
    before = cs.checksum
    assert before == hash_text("9:18637f6af5175b021484419b6bf68744:", 9)
    assert change_checksum(
        "loadData", {"tableName": "t1", "file": "t1.csv"}, file_content=cs.changes[0].checksum_content()
    ) == ("9:18637f6af5175b021484419b6bf68744")
    (tmp_path / "t1.csv").write_bytes(b"id,name\n1,alpha\n2,gamma\n")
    (edited,) = parse_changelog(path).changesets
    assert edited.checksum != before  # the data is part of the checksum


def test_sql_file_checksum_hashes_the_file_as_written(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("select 1;\nselect 2;\n", encoding="utf-8")
    path = write_changelog(tmp_path, "- sqlFile: {path: a.sql}")
    (cs,) = parse_changelog(path).changesets
    before = cs.checksum
    # as a sql change with the same text: whitespace-stripped file content
    inline = change_checksum("sql", {"sql": "select 1;select 2;"})
    assert change_checksum("sqlFile", {"path": "a.sql"}, file_content=cs.changes[0].checksum_content()) == inline
    (tmp_path / "a.sql").write_text("select 1;\nselect 3;\n", encoding="utf-8")
    assert parse_changelog(path).changesets[0].checksum != before


def test_load_update_data_description_names_the_table() -> None:
    (change,) = changes_from("- loadUpdateData: {tableName: person, file: people.csv, primaryKey: id}")
    assert change.description() == "loadUpdateData tableName=person"
    (change,) = changes_from("- sqlFile: {path: script.sql}")
    assert change.description() == "sqlFile path=script.sql"


def test_load_update_data_refuses_a_dialect_without_upsert() -> None:
    (change,) = changes_from("- loadUpdateData: {tableName: person, file: people.csv, primaryKey: id}")
    change.bind_files(DATA, SearchPath((DATA,)))
    assert isinstance(change, LoadUpdateData)
    with pytest.raises(ValueError, match="no upsert statement known for firebird"):
        change.operations(PlanContext("firebird"))


def test_a_gzipped_csv_is_read_as_liquibase_does(tmp_path: Path) -> None:
    import gzip

    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(b"a,b\n1,x\n"))
    (change,) = changes_from("- loadData: {tableName: t, file: t.csv.gz}")
    assert change.bind_files(tmp_path, SearchPath((tmp_path,))) == []
    out = io.StringIO()
    with text_sink("postgresql", out) as sink:
        sink.apply(change)
    assert normal(out.getvalue()) == laid_out("postgresql", "INSERT INTO t (a, b) VALUES ('1', 'x')")


def test_columns_found_by_index_header_or_name(tmp_path: Path) -> None:
    """As Liquibase's ``getColumnConfig``: ``index`` counts from 0 and is ignored when ``header`` is set."""
    columns = (
        "[{column: {index: 0, name: first, type: NUMERIC}},"
        " {column: {header: B, name: second, type: BOOLEAN}},"
        " {column: {index: 0, header: c, name: third, type: STRING}}]"
    )
    assert load(tmp_path, "a,b,c\n5,t,x\n", columns) == laid_out(
        "postgresql", "INSERT INTO t (first, second, third) VALUES (5, true, 'x')"
    )


def test_a_null_placeholder_replaces_the_word_null(tmp_path: Path) -> None:
    columns = "[{column: {name: a, type: STRING, nullPlaceholder: '-'}}]"
    assert load(tmp_path, "a,b\n-,NULL\nNULL,-\n", columns) == laid_out(
        "postgresql", "INSERT INTO t (a, b) VALUES (NULL, NULL)", "INSERT INTO t (a, b) VALUES ('NULL', '-')"
    )


def test_checksums_are_the_ones_liquibase_stored() -> None:
    """MD5SUMs that Liquibase 4.28 wrote to DATABASECHANGELOG for tests/data/data-changes/liquibase on SQLite."""
    changelog = parse_changelog(
        DATA / "liquibase" / "changelog.yaml", search_path=DATA / "liquibase"
    )  # its folder, as Liquibase ran
    assert {cs.id: cs.checksum for cs in changelog.changesets} == {
        "t": "9:1cc6940cb6df706bf873ce480b70bb9e",
        "load": "9:9fa8fba48b1f4354ff441b86445acb56",
        "upsert": "9:18a2d61fce9532e7e4f19d755cf9920a",
        "file": "9:60bf9710b6fc299c503f999eb815907a",
        "dml": "9:4b33bbc3fa3a8cf548e39908c3b6c2fa",
    }
    assert [cs.description() for cs in changelog.changesets][1:] == [
        "loadData tableName=people",
        "loadUpdateData tableName=people",
        "sqlFile path=sql/fill.sql",
        "insert tableName=people; update tableName=people; delete tableName=people",
    ]


@given(
    st.lists(st.sampled_from([b"a", b"bc", b"#", b"/", b"\r", b"\n", b"\r\n", b"\x00", b" "]), max_size=40).map(
        b"".join
    ),
    st.sampled_from(["#", "/", "//", None]),
)
def test_fast_csv_checksum_bytes_are_the_byte_by_byte_ones(data: bytes, prefix: str | None) -> None:
    """Large CSV files are hashed a line at a time; the result is Liquibase's byte-by-byte stream, quirks and all."""
    assert _csv_bytes(data, prefix) == _csv_bytes_slow(data, prefix)


def test_value_blob_and_clob_files_are_read_next_to_the_changelog(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "logo.bin").write_bytes(b"\x01\x02")
    (tmp_path / "sub" / "notes.txt").write_text("it's\tlong", encoding="utf-8")
    write_changelog(
        tmp_path / "sub",
        """
        - insert:
            tableName: t
            columns:
              - column: {name: logo, valueBlobFile: logo.bin}
              - column: {name: notes, valueClobFile: notes.txt}
        - update:
            tableName: t
            columns: [{column: {name: notes, valueClobFile: missing.txt}}]
        """,
    )
    (tmp_path / "root.yaml").write_text("databaseChangeLog:\n  - include: {file: sub/changelog.yaml}\n")
    with pytest.raises(ChangeLogError, match=r"changelog.yaml:\d+:\d+: update: column notes: file not found"):
        parse_changelog(tmp_path / "root.yaml")
    (tmp_path / "sub" / "missing.txt").write_text("now here", encoding="utf-8")
    (cs,) = parse_changelog(tmp_path / "root.yaml").changesets
    out = io.StringIO()
    with text_sink("postgresql", out) as sink:
        for change in cs.changes:
            sink.apply(change)
    assert normal(out.getvalue()) == laid_out(
        "postgresql",
        "INSERT INTO t (logo, notes) VALUES ('\\x0102'::bytea, 'it''s\tlong')",
        "UPDATE t SET notes='now here'",
    )


SEQUENCE_VALUES = """
- insert:
    tableName: person
    columns:
      - column: {name: id, valueSequenceNext: seq_person}
      - column: {name: team_id, valueSequenceCurrent: seq_team}
"""


@pytest.mark.parametrize(
    ("dialect", "values"),
    [
        ("postgresql", "nextval('seq_person'), currval('seq_team')"),
        ("mariadb", "NEXT VALUE FOR seq_person, PREVIOUS VALUE FOR seq_team"),
        ("mssql", "NEXT VALUE FOR seq_person, (SELECT current_value FROM sys.sequences WHERE name = 'seq_team')"),
        ("oracle", "seq_person.NEXTVAL, seq_team.CURRVAL"),
    ],
)
def test_sequence_values(dialect: str, values: str) -> None:
    assert render(dialect, SEQUENCE_VALUES) == laid_out(dialect, f"INSERT INTO person (id, team_id) VALUES ({values})")


@pytest.mark.parametrize("dialect", ["sqlite", "mysql"])
def test_sequence_values_are_refused_without_sequences(dialect: str) -> None:
    with pytest.raises(ValueError, match=f"valueSequenceNext: {dialect} has no sequences"):
        render(dialect, SEQUENCE_VALUES)
