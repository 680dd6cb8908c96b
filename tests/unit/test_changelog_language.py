"""The changelog language as parsed: includes and their attributes, properties, run order, dbms variants, JSON."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from yamlbase.changelog import Selection, parse_changelog
from yamlbase.errors import ChangeLogError


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


@pytest.fixture
def here(tmp_path: Path) -> Path:
    old = Path.cwd()
    os.chdir(tmp_path)
    yield tmp_path
    os.chdir(old)


def cs(id_: str, extra: str = "", sql: str = "select 1") -> str:
    body = f"  - changeSet:\n      id: {id_}\n      author: a\n"
    for line in textwrap.dedent(extra).strip().splitlines():
        body += f"      {line}\n"
    return body + f"      changes:\n        - sql: {json.dumps(sql)}\n"


def ids(path: str = "main.yaml", **kw: object) -> list[str]:
    return [c.id for c in parse_changelog(path, **kw).changesets]  # type: ignore[arg-type]


def problems(path: str = "main.yaml", **kw: object) -> list[str]:
    with pytest.raises(ChangeLogError) as caught:
        parse_changelog(path, **kw)  # type: ignore[arg-type]
    return [str(p) for p in caught.value.problems]


# --- run order ------------------------------------------------------------------------------------------------


def test_run_order_first_and_last_as_liquibase_adds_changesets(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": "databaseChangeLog:\n"
            + cs("1")
            + cs("last-a", "runOrder: last")
            + cs("2")
            + cs("first-a", "runOrder: first")
            + "  - include: {file: inc.yaml}\n"
            + cs("first-b", "runOrder: first"),
            "inc.yaml": "databaseChangeLog:\n"
            + cs("i1")
            + cs("i-last", "runOrder: last")
            + cs("i-first", "runOrder: first"),
        },
    )
    assert ids() == ["first-a", "i-first", "first-b", "1", "2", "i1", "last-a", "i-last"]


# --- includes -------------------------------------------------------------------------------------------------


def test_include_attributes_context_labels_ignore_error_if_missing(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": """
                databaseChangeLog:
                  - include: {file: a.yaml, context: "dev", labels: "lib"}
                  - include: {file: skipped.yaml, ignore: true}
                  - include: {file: missing.yaml, errorIfMissing: false}
                  - include: {file: sub/b.yaml}
                """,
            "a.yaml": "databaseChangeLog:\n" + cs("a1", "context: v1\nlabels: x, Y"),
            "skipped.yaml": "databaseChangeLog:\n" + cs("never"),
            "sub/b.yaml": "databaseChangeLog:\n  - include: {file: c.yaml, relativeToChangelogFile: true, contextFilter: inner}\n",
            "sub/c.yaml": "databaseChangeLog:\n" + cs("c1"),
        },
    )
    a1, c1 = parse_changelog("main.yaml").changesets
    assert (a1.path, a1.contexts_column, a1.labels_column) == ("a.yaml", "dev AND v1", "lib,x,y")
    assert (c1.path, c1.contexts_column, c1.labels_column) == ("sub/c.yaml", "inner", None)
    assert a1.selected_by(frozenset({"dev", "v1"}), None)
    assert not a1.selected_by(frozenset({"v1"}), None)  # the include's context must admit the run too
    assert not a1.selected_by(frozenset(), "!lib")  # and the include's labels must match the filter
    assert a1.selected_by(frozenset(), "x or lib")
    # Liquibase matches the filter against each label set on its own: the changeSet's, then each include's.
    assert not a1.selected_by(frozenset(), "x and lib")


def test_include_of_a_missing_file_is_located(here: Path) -> None:
    write(here, {"main.yaml": "databaseChangeLog:\n  - include: {file: nope.yaml}\n"})
    assert problems() == [f"main.yaml:2:21: included file not found: nope.yaml (looked in {here})"]


def test_include_all_filter_depth_and_ending(here: Path) -> None:
    files = {
        "main.yaml": "databaseChangeLog:\n  - includeAll: {path: db, minDepth: 1, maxDepth: 2, endsWithFilter: .yaml, filter: 'V*'}\n",
        "db/V1__a.yaml": "databaseChangeLog:\n" + cs("v1"),
        "db/V2__b.yml": "databaseChangeLog:\n" + cs("wrong-ending"),
        "db/x.yaml": "databaseChangeLog:\n" + cs("not-matching-filter"),
        "db/one/V3__c.yaml": "databaseChangeLog:\n" + cs("v3"),
        "db/one/two/V4__d.yaml": "databaseChangeLog:\n" + cs("too-deep"),
        "db/notes.xml": "<xml/>",  # not a match for the filter: not refused either
    }
    write(here, files)
    assert ids() == ["v1", "v3"]
    (here / "main.yaml").write_text("databaseChangeLog:\n  - includeAll: {path: db, minDepth: 2}\n")
    assert ids() == ["v3", "too-deep"]  # notes.xml lies at depth 1: not included, so not refused
    (here / "main.yaml").write_text("databaseChangeLog:\n  - includeAll: {path: db}\n")
    assert problems() == ["main.yaml:2:24: db/notes.xml: .xml changelogs are not supported (YAML and JSON are)"]


def test_include_all_min_depth_two_skips_the_top_folder(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": "databaseChangeLog:\n  - includeAll: {path: db, minDepth: 2, context: ci, labels: all-db}\n",
            "db/top.yaml": "databaseChangeLog:\n" + cs("top"),
            "db/one/inner.yaml": "databaseChangeLog:\n" + cs("inner"),
        },
    )
    (inner,) = parse_changelog("main.yaml").changesets
    assert (inner.id, inner.contexts_column, inner.labels_column) == ("inner", "ci", "all-db")


def test_include_all_ignore_and_empty_folders(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": """
                databaseChangeLog:
                  - includeAll: {path: gone, ignore: true}
                  - includeAll: {path: empty, errorIfMissingOrEmpty: false}
                  - includeAll: {path: db, maxDepth: 0}
                """,
            "db/a.yaml": "databaseChangeLog:\n" + cs("a"),
        },
    )
    (here / "empty").mkdir()
    assert problems() == ["main.yaml:4:24: includeAll folder empty: db"]


def test_logical_file_path_of_a_changelog_and_of_a_changeset(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": "databaseChangeLog:\n  - logicalFilePath: app/schema.xml\n"
            + cs("1")
            + cs("2", "logicalFilePath: legacy.yaml"),
        },
    )
    first, second = parse_changelog("main.yaml").changesets
    assert (first.path, second.path) == ("app/schema.xml", "legacy.yaml")


# --- changeSet attributes ---------------------------------------------------------------------------------------


def test_changeset_attributes_are_read(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": "databaseChangeLog:\n"
            + cs(
                "1",
                """
                runAlways: true
                runOnChange: true
                failOnError: false
                runInTransaction: false
                validCheckSum: [ANY]
                created: v7
                objectQuotingStrategy: QUOTE_ALL_OBJECTS
                contextFilter: dev
                labels: api
                dbms: postgresql
                """,
            )
            + cs("2", "alwaysRun: true\nignore: true\nvalidCheckSum: 9:abc"),
        },
    )
    one, two = parse_changelog("main.yaml").changesets
    assert (one.run_always, one.run_on_change, one.fail_on_error, one.run_in_transaction) == (True, True, False, False)
    assert (one.valid_checksums, one.created, one.context, one.labels, one.dbms) == (
        ("ANY",),
        "v7",
        "dev",
        "api",
        "postgresql",
    )
    assert (two.run_always, two.ignore, two.valid_checksums, two.fail_on_error) == (True, True, ("9:abc",), True)


def test_bad_changeset_attributes_are_located(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": "databaseChangeLog:\n"
            + cs("1", "runOrder: middle\nrunAlways: sometimes\nlable: x")
            + cs("2", "context: (a and b"),
        },
    )
    assert problems() == [
        "main.yaml:5:17: \"runOrder\" 'middle' is not one of ['first', 'last']",
        'main.yaml:6:18: "runAlways" must be true or false, not string',
        'main.yaml:7:7: changeSet: unknown attribute "lable" (did you mean "labels"?)',
        "main.yaml:13:16: changeSet: context: unbalanced parentheses in '(a and b'",
    ]


def test_same_id_for_different_databases_is_no_duplicate(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": "databaseChangeLog:\n"
            + cs("1", "dbms: postgresql", "select 'pg'")
            + cs("1", "dbms: sqlite", "select 'lite'")
            + cs("2", "dbms: '!sqlite'"),
        },
    )
    assert ids(selection=Selection(dbms="sqlite")) == ["1"]
    assert [c.changes[0].sql for c in parse_changelog("main.yaml", selection=Selection(dbms="sqlite")).changesets] == [
        "select 'lite'"
    ]
    assert ids(selection=Selection(dbms="postgresql")) == ["1", "2"]
    assert ids() == ["1", "1", "2"]  # validate: every variant is checked


# --- properties -------------------------------------------------------------------------------------------------


def test_properties_from_entries_files_run_and_environment(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": """
                databaseChangeLog:
                  - changeSet:
                      id: ${prefix}-1
                      author: a
                      changes:
                        - createTable:
                            tableName: ${table}
                            columns:
                              - column: {name: id, type: "varchar(${width})", autoIncrement: "${auto}"}
                        - sql: select '${from_file}', '${only_pg}', '${from_env}'
                  - property: {name: prefix, value: cs}
                  - property: {name: table, value: first}
                  - property: {name: table, value: second}
                  - property: {name: auto, value: "false"}
                  - property: {file: db.properties}
                  - property: {name: only_pg, value: pg, dbms: postgresql}
                  - property: {name: only_pg, value: other}
                """,
            "db.properties": "# comment\nwidth = 40\nfrom_file: yes\n",
        },
    )
    model = parse_changelog(
        "main.yaml",
        selection=Selection(dbms="postgresql"),
        properties={"TABLE": "given"},
        environ={"from_env": "env"},
    )
    (changeset,) = model.changesets
    create, sql = changeset.changes
    assert changeset.id == "cs-1"
    assert create.table_name == "given"  # -D beats the changelog
    assert create.columns[0].column.type == "varchar(40)"
    assert create.columns[0].column.auto_increment is False  # "${auto}" became a boolean, as in Liquibase
    assert sql.sql == "select 'yes', 'pg', 'env'"


ENVIRONMENT_CHANGELOG = """
    databaseChangeLog:
      - property: {name: user, value: fromchangelog}
      - changeSet:
          id: 1
          author: a
          changes:
            - sql: select '${user}', '${USER}', '${User}'
      - changeSet:
          id: 2
          author: a
          changes:
            - sql: select 'nothing from outside'
    """


@pytest.mark.parametrize(
    ("environ", "given", "expected"),
    [
        # what Liquibase 4.28 gives for the same changelog, environment and -D (checked against it)
        ({"USER": "envuser"}, {}, "envuser"),
        ({"USER": "envuser"}, {"user": "fromD"}, "envuser"),  # the environment beats -D
        ({}, {"User": "fromD"}, "fromD"),  # -D beats the changelog, whatever the case
        ({}, {}, "fromchangelog"),
        ({"user": "lower"}, {}, "lower"),  # a lower-case variable is found by ${USER} too
    ],
)
def test_the_environment_comes_first_case_insensitively_as_in_liquibase(
    here: Path, environ: dict[str, str], given: dict[str, str], expected: str
) -> None:
    write(here, {"main.yaml": ENVIRONMENT_CHANGELOG})
    model = parse_changelog("main.yaml", environ=environ, properties=given)
    assert model.changesets[0].changes[0].sql == f"select '{expected}', '{expected}', '{expected}'"


def test_of_variables_differing_only_in_case_the_one_spelt_as_the_reference_wins(here: Path) -> None:
    write(here, {"main.yaml": ENVIRONMENT_CHANGELOG})
    model = parse_changelog("main.yaml", environ={"USER": "upper", "user": "lower"})
    assert model.changesets[0].changes[0].sql == "select 'lower', 'upper', 'upper'"


def test_the_environment_overriding_a_changelog_property_is_a_located_warning(here: Path) -> None:
    write(here, {"main.yaml": ENVIRONMENT_CHANGELOG})
    model = parse_changelog("main.yaml", environ={"USER": "envuser"}, properties={"user": "fromD"})
    assert [str(w) for w in model.warnings] == [
        "-D user: ignored: the environment variable USER gives ${user} its value (the environment comes first, "
        "as in Liquibase)",
        "main.yaml:2:15: property user: the environment variable USER overrides the value given here (the "
        "environment comes first, as in Liquibase): what uses ${user}, and its checksum, depends on the machine it "
        "runs on",
    ]
    first, second = model.changesets
    assert first.outside_properties == ("${USER} from the environment variable USER",)
    assert second.outside_properties == ()
    # the same value in the environment changes nothing: no warning
    assert parse_changelog("main.yaml", environ={"USER": "fromchangelog"}).warnings == []
    given = parse_changelog("main.yaml", environ={}, properties={"USER": "fromD"})
    assert given.warnings == [] and given.changesets[0].outside_properties == ("${USER} from -D USER",)


def test_local_properties_stay_in_their_file(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": """
                databaseChangeLog:
                  - property: {name: shared, value: s, global: true}
                  - property: {name: mine, value: m, global: false}
                  - include: {file: inc.yaml}
                """,
            "inc.yaml": "databaseChangeLog:\n" + cs("1", sql="select '${shared}', '${mine}'"),
        },
    )
    assert problems(environ={}) == [
        "inc.yaml:6:16: property ${mine} is not defined (define it with a property entry, -D mine=…, or the environment)"
    ]


def test_every_undefined_property_is_located(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": """
                databaseChangeLog:
                  - changeSet:
                      id: 1
                      author: a
                      changes:
                        - createTable:
                            tableName: ${nope}
                            columns: [{column: {name: id, type: "${type}"}}]
                  - property: {file: missing.properties}
                  - property: {name: lonely}
                """
        },
    )
    assert problems(environ={}) == [
        "main.yaml:7:24: property ${nope} is not defined (define it with a property entry, -D nope=…, or the environment)",
        "main.yaml:8:49: property ${type} is not defined (define it with a property entry, -D type=…, or the environment)",
        f"main.yaml:9:15: properties file not found: missing.properties (looked in {here})",
        "main.yaml:10:15: property lonely: no value",
    ]


# --- JSON -----------------------------------------------------------------------------------------------------


def test_json_and_yaml_changelogs_mix(here: Path) -> None:
    write(
        here,
        {
            "main.yaml": "databaseChangeLog:\n  - include: {file: a.json}\n  - include: {file: b.yml}\n",
            "a.json": json.dumps(
                {
                    "databaseChangeLog": [
                        {"property": {"name": "t", "value": "from_json"}},
                        {
                            "changeSet": {
                                "id": "j",
                                "author": "a",
                                "context": "dev",
                                "changes": [{"dropTable": {"tableName": "${t}"}}],
                            }
                        },
                    ]
                },
                indent="\t",
            ),
            "b.yml": "databaseChangeLog:\n" + cs("y", sql="select '${t}'"),
        },
    )
    j, y = parse_changelog("main.yaml").changesets
    assert (j.path, j.context, j.changes[0].table_name) == ("a.json", "dev", "from_json")
    assert (y.path, y.changes[0].sql) == ("b.yml", "select 'from_json'")  # global properties reach later files
