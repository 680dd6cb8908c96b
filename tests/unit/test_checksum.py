"""Liquibase 4.28's changeSet checksums (MD5SUM), versions 8 and 9.

Every expected value comes from ``/work/shared/liquibase/CHECKSUM.md`` or from a run of the real
Liquibase 4.28.0 (npm ``liquibase@4.28.1``) on the same YAML:

- "DATABASECHANGELOG": ``liquibase changelog-sync`` on SQLite of a changelog holding these changeSets
  (author ``test``), MD5SUM read back from DATABASECHANGELOG; the same values were printed by
  ``calculate-checksum``.
- "v8 accepted": that row's MD5SUM replaced by the version-8 value below; ``liquibase update`` accepted
  it and rewrote the row with the version-9 value (a wrong version-8 value fails validation instead).
- "Liquibase API": Liquibase 4.28's own ``Change.generateCheckSum()`` / ``StringChangeLogSerializer``
  called from Java on the parsed changelog (for values the CLI does not print: one change, version 8).
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
import yaml

from yamlbase.changelog.checksum import (
    change_checksum,
    changeset_checksum,
    hash_bytes,
    hash_text,
    serialize_change,
)


def changes(text: str) -> list[tuple[str, Any]]:
    """The ``changes:`` list of a changeSet, as PyYAML reads it: ``[(name, params), …]``."""
    items = yaml.safe_load(textwrap.dedent(text)) or []
    return [next(iter(item.items())) for item in items]


# --- The worked examples of CHECKSUM.md ------------------------------------------------------------

PERSON = """
- createTable:
    tableName: person
    columns:
      - column:
          name: id
          type: int
          autoIncrement: true
          constraints:
            primaryKey: true
            nullable: false
      - column:
          name: name
          type: varchar(50)
"""

PERSON_SERIALIZED = """createTable:[
    columns=[
        [
            [
                nullable="false"
                primaryKey="true"
            ]
            autoIncrement="true"
            name="id"
            type="int"
        ],
        [
            name="name"
            type="varchar(50)"
        ]
    ]
    tableName="person"
]"""


def test_spec_create_table_serialization() -> None:
    ((name, params),) = changes(PERSON)
    assert serialize_change(name, params) == PERSON_SERIALIZED


def test_spec_create_table_checksums() -> None:
    ((name, params),) = changes(PERSON)
    assert change_checksum(name, params) == "9:4b64019a8067d2983d666f083db18c50"
    assert changeset_checksum(changes(PERSON)) == "9:4d1840781c0ef438a73cff45ab8da31c"
    assert changeset_checksum(changes(PERSON), 8) == "8:5d703884b3d4dfb905cac59b3e462622"
    # Liquibase API: the change itself hashes the same serialization in version 8
    assert change_checksum(name, params, 8) == "8:4b64019a8067d2983d666f083db18c50"


def test_spec_change_and_changeset_checksums_are_related() -> None:
    ((name, params),) = changes(PERSON)
    assert changeset_checksum(changes(PERSON)) == hash_text(change_checksum(name, params) + ":", 9)
    assert change_checksum(name, params) == hash_text(PERSON_SERIALIZED, 9)


def test_spec_sql_select_1() -> None:
    assert change_checksum("sql", "select 1") == "9:f6bf37efedbc0a2dfffc1caf5088d86e"
    assert change_checksum("sql", {"sql": "select 1"}) == "9:f6bf37efedbc0a2dfffc1caf5088d86e"
    assert changeset_checksum(changes("- sql: select 1")) == "9:3b78b9910981c62ca27148640fad7bc2"
    # only the text without whitespace counts in version 9
    assert change_checksum("sql", "select1") == "9:f6bf37efedbc0a2dfffc1caf5088d86e"


def test_spec_tag_database() -> None:
    assert serialize_change("tagDatabase", {"tag": "v1"}) == 'tagDatabase:[\n    tag="v1"\n]'
    assert changeset_checksum([("tagDatabase", {"tag": "v1"})]) == "9:635ff1e577e13420abaf0552fb77ab20"


def test_spec_load_data() -> None:
    csv = b"id,name\n1,alpha\n2,beta\n"
    params = {"tableName": "t1", "file": "t1.csv"}
    assert change_checksum("loadData", params, file_content=csv) == "9:18637f6af5175b021484419b6bf68744"


def test_primitives() -> None:
    assert hash_text("", 9) == "9:d41d8cd98f00b204e9800998ecf8427e"
    assert hash_bytes(b"", 8) == "8:d41d8cd98f00b204e9800998ecf8427e"
    assert hash_text("a\r\nb\rc", 9) == hash_text("a\nb\nc", 9)
    assert hash_text("x\ufffdy", 9) == hash_text("xy", 9)
    assert hash_text("cafe\u0301", 9) == hash_text("caf\u00e9", 9)  # NFC


# --- changeSets verified against the real Liquibase 4.28 -------------------------------------------

CREATE_TABLE_DEFAULTS = """
- createTable:
    tableName: account
    remarks: People who sign in
    columns:
      - column:
          name: id
          type: bigint
          autoIncrement: true
          constraints:
            primaryKey: true
            primaryKeyName: pk_account
            nullable: false
      - column:
          name: email
          type: varchar(255)
          remarks: Login name
          constraints:
            nullable: false
            unique: true
            uniqueConstraintName: uq_account_email
      - column:
          name: status
          type: varchar(20)
          defaultValue: active
      - column:
          name: logins
          type: int
          defaultValueNumeric: 0
      - column:
          name: ratio
          type: decimal(5,2)
          defaultValueNumeric: 2.0
      - column:
          name: verified
          type: boolean
          defaultValueBoolean: false
      - column:
          name: created_at
          type: timestamp
          defaultValueComputed: CURRENT_TIMESTAMP
      - column:
          name: valid_from
          type: date
          defaultValueDate: 2024-01-31
      - column:
          name: valid_to
          type: datetime
          defaultValueDate: "2024-12-31T23:59:59"
      - column:
          name: team_id
          type: bigint
          constraints:
            foreignKeyName: fk_account_team
            references: team(id)
            deleteCascade: true
      - column:
          name: org_id
          type: bigint
          constraints:
            foreignKeyName: fk_account_org
            referencedTableName: org
            referencedColumnNames: id
"""

# (changeSet id, changes, MD5SUM v9 from DATABASECHANGELOG, MD5SUM v8 accepted by ``update``)
VERIFIED: list[tuple[str, str, str, str]] = [
    (
        "create-table-defaults",
        CREATE_TABLE_DEFAULTS,
        "9:ae3d10dc2b3501959a13ea4950c95c64",
        "8:2d7a63d48e225fe89f2f43dc08a8da70",
    ),
    (
        "add-columns",
        """
        - addColumn:
            tableName: account
            columns:
              - column:
                  name: display_name
                  type: varchar(100)
                  afterColumn: email
              - column:
                  name: score
                  type: int
                  defaultValueNumeric: 10
                  constraints:
                    nullable: false
              - column:
                  name: nickname
                  type: varchar(30)
        """,
        "9:a5d6768c2120b8f372b5163b76c064d2",
        "8:f691888a28c5d6485bb1d0fff80042da",
    ),
    (
        "drop-table-cascade",
        """
        - dropTable:
            tableName: legacy_sessions
            cascadeConstraints: true
        """,
        "9:e5b9efdb42b141ccfafe6024f2799ada",
        "8:bc61bd369e4e20ac95282ccbbebdee94",
    ),
    (
        "rename-table",
        """
        - renameTable:
            oldTableName: account
            newTableName: accounts
        """,
        "9:920d117d534e73488f7641876eabcc17",
        "8:829a39516d0b97b3565ed77e81fb1e58",
    ),
    (
        "drop-column",
        """
        - dropColumn:
            tableName: accounts
            columnName: nickname
        """,
        "9:1c8226c3d1a4353b7a3428279c1beaa7",
        "8:b38d0735baa715ad8086d78165e88ac3",
    ),
    (
        "rename-column",
        """
        - renameColumn:
            tableName: accounts
            oldColumnName: display_name
            newColumnName: full_name
            columnDataType: varchar(100)
        """,
        "9:458d3520f9d8764f8445d0453488b796",
        "8:6332674b38bd9d38cad780b91036f4ca",
    ),
    (
        "create-index",
        """
        - createIndex:
            tableName: accounts
            indexName: ix_accounts_status_score
            unique: true
            columns:
              - column:
                  name: status
              - column:
                  name: score
                  descending: true
        """,
        "9:a4fac9174c4d973a71d0cf2c2b5c4ab4",
        "8:efd893c566bca5bea786194a133c5184",
    ),
    (
        "drop-index",
        """
        - dropIndex:
            tableName: accounts
            indexName: ix_accounts_status_score
        """,
        "9:d5789945e2288bb9edaec2cb334cbcfb",
        "8:bbca45c603ee3e127700df19e5a905ff",
    ),
    (
        "sql-options",
        """
        - sql:
            sql: |
              insert into t values (1)
              GO
              insert into t values (2)
            splitStatements: true
            stripComments: true
            endDelimiter: GO
        """,
        "9:d153723d35817a2e29dacc273f092bf5",
        "8:1c9f7467e04a4942688d1ae9ad7a68c3",
    ),
    (
        "sql-no-split",
        """
        - sql:
            sql: "update t set a = 1; update t set b = 2;"
            splitStatements: false
        """,
        "9:d7dde3066ade0f5e7b26943953af41b7",
        "8:c7500d0fec98662207b6213e2dfb684f",
    ),
    (
        "two-changes",
        """
        - createTable:
            tableName: project
            columns:
              - column:
                  name: id
                  type: int
        - tagDatabase:
            tag: v2
        """,
        "9:4333feac0e7a2742a9edf26a4ec90945",
        "8:1e3f61a9b5c7b993a2cd484537878f28",
    ),
    # a changeSet with ``changes: []`` hashes the empty string
    ("empty", "", "9:d41d8cd98f00b204e9800998ecf8427e", "8:d41d8cd98f00b204e9800998ecf8427e"),
    (
        "sql-spaced",
        """
        - sql: "  select\\r\\n\\t 1  "
        """,
        "9:3b78b9910981c62ca27148640fad7bc2",
        "8:551a6b5455d661ce7101a063b818ca3e",
    ),
    (
        "create-view",
        """
        - createView:
            viewName: active_accounts
            selectQuery: select id from accounts where status = 'active'
            replaceIfExists: true
        """,
        "9:0abbf2dece3d90ffa1993ed3f5905a32",
        "8:a4681e981814424d4629e023287a0f33",
    ),
    (
        "insert-dates",
        """
        - insert:
            tableName: event
            columns:
              - column:
                  name: day
                  valueDate: 2024-02-29
              - column:
                  name: at
                  valueDate: "2024-02-29 08:15:00"
              - column:
                  name: amount
                  valueNumeric: 1.50
        """,
        "9:311656a6a0060f3ca3d288385fb01886",
        "8:42614baccebbbb6fa63acff9195a9e4b",
    ),
]


TEXT = {changeset_id: text for changeset_id, text, _, _ in VERIFIED}


@pytest.mark.parametrize(("changeset_id", "text", "v9", "v8"), VERIFIED, ids=[case[0] for case in VERIFIED])
def test_verified_changesets(changeset_id: str, text: str, v9: str, v8: str) -> None:
    # Liquibase 4.28 changelog-sync on SQLite (DATABASECHANGELOG) / v8 accepted by update
    assert changeset_checksum(changes(text), 9, dbms="sqlite") == v9
    assert changeset_checksum(changes(text), 8, dbms="sqlite") == v8


def test_whitespace_and_line_endings_do_not_count() -> None:
    # DATABASECHANGELOG: "  select\r\n\t 1  " has the MD5SUM of "select 1" (the CHECKSUM.md example)
    spaced = changes('- sql: "  select\\r\\n\\t 1  "')
    assert changeset_checksum(spaced) == "9:3b78b9910981c62ca27148640fad7bc2"
    # DATABASECHANGELOG: the same createTable read from a file with CRLF line endings
    crlf = CREATE_TABLE_DEFAULTS.replace("\n", "\r\n")
    assert changeset_checksum(changes(crlf)) == "9:ae3d10dc2b3501959a13ea4950c95c64"
    # serialized text is line-ending normalized too
    one = serialize_change("setTableRemarks", {"tableName": "t", "remarks": "a\r\nb"})
    other = serialize_change("setTableRemarks", {"tableName": "t", "remarks": "a\nb"})
    assert hash_text(one, 9) == hash_text(other, 9)


def test_sql_change_checksums_v8_and_v9() -> None:
    # Liquibase API: version 9 hashes the SQL only, version 8 also endDelimiter:splitStatements:stripComments
    ((name, params),) = changes(TEXT["sql-options"])
    assert change_checksum(name, params, 9) == "9:db82359db730fc4d541365adeb921f5a"
    assert change_checksum(name, params, 8) == "8:2ad1c0be6cf061b186ce2aab98281754"
    ((name, params),) = changes(TEXT["sql-no-split"])
    assert change_checksum(name, params, 9) == "9:86e6f1edcdda0ceb350ecc3f08413735"
    assert change_checksum(name, params, 8) == "8:d51559112ad97ac4ca7607a7e58f3c05"
    # Liquibase API: "select 1" with the defaults (null:true:false:) in version 8
    assert change_checksum("sql", "  select\r\n\t 1  ", 8) == "8:d8f827719488a0363979fc45fc6996c7"


def test_two_changes_are_hashed_in_order() -> None:
    # Liquibase API: each change's checksum; the changeSet's is the MD5 of "<c1>:<c2>:"
    (first, second) = changes(TEXT["two-changes"])
    assert change_checksum(*first) == "9:873cd51d77b56e4dcc04cb3edc6e1c80"
    assert change_checksum(*second) == "9:2537b82d8bf38f1d85aa16a345780044"
    expected = hash_text("9:873cd51d77b56e4dcc04cb3edc6e1c80:9:2537b82d8bf38f1d85aa16a345780044:", 9)
    assert expected == "9:4333feac0e7a2742a9edf26a4ec90945"
    assert changeset_checksum([first, second]) == expected


def test_dbms_excluded_sql_is_skipped_in_v9_only() -> None:
    text = """
    - sql:
        sql: select 2
        dbms: postgresql
    - sql:
        sql: select 3
        dbms: "!postgresql"
    """
    # DATABASECHANGELOG: changelog-sync on SQLite and on PostgreSQL 15
    assert changeset_checksum(changes(text), 9, dbms="sqlite") == "9:8f4948cad5a4e979f7ed9dba96c80631"
    assert changeset_checksum(changes(text), 9, dbms="postgresql") == "9:544e616a927aa802443672ed60087670"
    # v8 accepted by update on SQLite; Liquibase API with PostgreSQL: version 8 keeps every change
    assert changeset_checksum(changes(text), 8, dbms="sqlite") == "8:428206b0a070a8207edd3ab46e926c78"
    assert changeset_checksum(changes(text), 8, dbms="postgresql") == "8:428206b0a070a8207edd3ab46e926c78"


SEED_SQL = b"-- seed for ${env}\r\ninsert into t values ('${env}');\r\n"


def test_sql_file_is_hashed_as_written() -> None:
    # DATABASECHANGELOG (property env=prod defined in the changelog): Liquibase 4.28 hashes the file
    # before ${} expansion (SQLFileChange.doExpandExpressionsInGenerateChecksum is false)
    change = [("sqlFile", {"path": "seed.sql"})]
    assert changeset_checksum(change, file_contents=[SEED_SQL]) == "9:8699735fdcf9902e92452bb4893a21c2"
    assert changeset_checksum(change, 8, file_contents=[SEED_SQL]) == "8:cb36ebcb14dbd1f3b50807655e693a74"
    # Liquibase API: the change alone
    assert change_checksum(*change[0], 9, file_content=SEED_SQL) == "9:bce961fec095f3cd141a1e915ce9b743"
    assert change_checksum(*change[0], 8, file_content=SEED_SQL) == "8:75d27feded7c459802d2c41ca74ebd96"
    expanded = SEED_SQL.replace(b"${env}", b"prod")
    assert change_checksum(*change[0], 9, file_content=expanded) != "9:bce961fec095f3cd141a1e915ce9b743"


def test_load_data_skips_comments_empty_lines_and_carriage_returns() -> None:
    csv = b"# header comment\r\nid,name\r\n\r\n1,alpha\r\n2,beta\r\n"
    change = [("loadData", {"tableName": "t2", "file": "rows.csv"})]
    # DATABASECHANGELOG / v8 accepted by update (loadData hashes the same way in both versions)
    assert changeset_checksum(change, file_contents=[csv]) == "9:09788617cb85ef23d831fc019fcf240d"
    assert changeset_checksum(change, 8, file_contents=[csv]) == "8:0af34d97596ef90e947cf37945f3d0ad"
    # Liquibase API: the change alone
    assert change_checksum(*change[0], file_content=csv) == "9:9b00cb0de6d48a5a14726f15b487800a"


def test_create_view_hashes_serialization_and_query() -> None:
    ((name, params),) = changes(TEXT["create-view"])
    # Liquibase API
    assert change_checksum(name, params, 9) == "9:c396864fc058eb364ab8f0758f8d6e52"
    assert change_checksum(name, params, 8) == "8:e1468b1e4fa8c39a170b489499cee0c6"


# --- Serializations printed by Liquibase's StringChangeLogSerializer (Liquibase API) -----------------


def test_create_index_columns_keep_only_index_attributes() -> None:
    ((name, params),) = changes(TEXT["create-index"])
    assert serialize_change(name, params) == (
        "createIndex:[\n"
        "    columns=[\n"
        "        [\n"
        '            name="status"\n'
        "        ],\n"
        "        [\n"
        '            descending="true"\n'
        '            name="score"\n'
        "        ]\n"
        "    ]\n"
        '    indexName="ix_accounts_status_score"\n'
        '    tableName="accounts"\n'
        '    unique="true"\n'
        "]"
    )


def test_column_values_are_rendered_as_liquibase_loads_them() -> None:
    ((name, params),) = changes(CREATE_TABLE_DEFAULTS)
    text = serialize_change(name, params)
    # a YAML 2.0 keeps its ".0"; an unquoted YAML date becomes a timestamp, a quoted one is re-read
    assert 'defaultValueNumeric="2.0"' in text
    assert 'defaultValueNumeric="0"' in text
    assert 'defaultValueBoolean="false"' in text
    assert 'defaultValueDate="2024-01-31T00:00:00"' in text
    assert 'defaultValueDate="2024-12-31T23:59:59"' in text
    assert 'defaultValueComputed="CURRENT_TIMESTAMP"' in text
    assert 'deleteCascade="true"\n                foreignKeyName="fk_account_team"\n' in text

    ((name, params),) = changes(TEXT["insert-dates"])
    assert serialize_change(name, params) == (
        "insert:[\n"
        "    columns=[\n"
        "        [\n"
        '            name="day"\n'
        '            valueDate="2024-02-29T00:00:00"\n'
        "        ],\n"
        "        [\n"
        '            name="at"\n'
        '            valueDate="2024-02-29T08:15:00"\n'
        "        ],\n"
        "        [\n"
        '            name="amount"\n'
        '            valueNumeric="1.5"\n'
        "        ]\n"
        "    ]\n"
        '    tableName="event"\n'
        "]"
    )


def test_drop_column_without_columns_list() -> None:
    ((name, params),) = changes(TEXT["drop-column"])
    # Liquibase API: an empty ``columns`` list is not serialized for dropColumn
    expected = 'dropColumn:[\n    columnName="nickname"\n    tableName="accounts"\n]'
    assert serialize_change(name, params) == expected


class _TimestampText(str):
    """Like the loader's YamlTimestamp: an unquoted YAML timestamp kept as text, with its parsed value."""

    moment: Any

    def __new__(cls, text: str, moment: Any) -> _TimestampText:
        self = super().__new__(cls, text)
        self.moment = moment
        return self


def test_timestamp_kept_as_text_hashes_like_the_parsed_value() -> None:
    (name, params), *_ = changes(TEXT["insert-dates"])
    day = params["columns"][0]["column"]
    day["valueDate"] = _TimestampText("2024-02-29", day["valueDate"])
    # DATABASECHANGELOG: the insert-dates changeSet (its ``valueDate: 2024-02-29`` is unquoted)
    assert changeset_checksum([(name, params)], dbms="sqlite") == "9:311656a6a0060f3ca3d288385fb01886"
