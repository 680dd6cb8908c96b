"""Many instances at once, and instances killed mid-update: each changeSet runs exactly once, nothing is stuck.

Real processes (``python -m yamlbase update``) against real databases; no timing assertions.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import reflected
from yamlbase import commands
from yamlbase.dialects import capabilities
from yamlbase.structure.compare import compare

ROOT = Path(__file__).resolve().parents[2]
CHANGESETS = 200


def _backend(url: str) -> str:
    return sa.make_url(url).get_backend_name()


def _sleep(url: str, seconds: float) -> str:
    """A statement that takes about ``seconds`` and changes nothing."""
    return {
        "postgresql": f"SELECT pg_sleep({seconds})",
        "mariadb": f"SELECT SLEEP({seconds})",
        "mysql": f"SELECT SLEEP({seconds})",
        "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
        f"WHERE x < {int(seconds * 7_500_000)}) SELECT count(*) FROM c",
    }[_backend(url)]


def write_changelog(folder: Path, url: str, *, slow: bool = False) -> Path:
    """CHANGESETS changeSets: a table, then one row each (a slow statement in some, to be killed in); some
    create a table and an index between the row's two statements (statements that commit as they run on
    MariaDB, with a slow one between them)."""
    sleep = _sleep(url, 0.2)
    lines = [
        "databaseChangeLog:",
        "  - changeSet:",
        "      id: table",
        "      author: load",
        "      changes:",
        "        - createTable:",
        "            tableName: counter",
        "            columns:",
        "              - column: {name: id, type: int, constraints: {primaryKey: true}}",
        "              - column: {name: note, type: varchar(20)}",
    ]
    for i in range(1, CHANGESETS):
        lines += [
            "  - changeSet:",
            f"      id: row-{i:03d}",
            "      author: load",
            "      changes:",
            f"        - sql: INSERT INTO counter (id, note) VALUES ({i}, 'first')",
        ]
        if slow and i % 20 == 10:
            lines.append(f'        - sql: "{sleep}"')
        if i % 20 == 5:
            side = f"side_{i:03d}"
            lines.append(
                f"        - createTable: {{tableName: {side}, columns: [{{column: {{name: id, type: int}}}}]}}"
            )
            if slow:
                lines.append(f'        - sql: "{sleep}"')
            index = f"{{tableName: {side}, indexName: ix_{side}, columns: [{{column: {{name: id}}}}]}}"
            lines.append(f"        - createIndex: {index}")
        lines.append(f"        - sql: UPDATE counter SET note = 'done' WHERE id = {i}")
    path = folder / "changelog.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def start_update(url: str, changelog: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "yamlbase", "update", "--url", url, "--changelog-file", str(changelog), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
    )


def wait_for_progress(url: str, process: subprocess.Popen[str], changesets: int = 5) -> None:
    """Until ``process`` has recorded a few changeSets (so it holds the lock and is mid-run)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if len(commands.history(url)) >= changesets:
                return
        except commands.DatabaseError:
            pass  # the history table does not exist yet
        time.sleep(0.05)
    raise AssertionError("the update made no progress")


def assert_complete(url: str) -> None:
    """Every changeSet recorded once, in strictly increasing order, and every row done."""
    rows = commands.history(url)
    ids = [row.id for row in rows]
    assert len(ids) == CHANGESETS and len(set(ids)) == CHANGESETS, "a changeSet is missing or ran twice"
    assert ids == ["table", *(f"row-{i:03d}" for i in range(1, CHANGESETS))]
    orders = [row.order_executed for row in rows]
    assert all(a < b for a, b in itertools.pairwise(orders)), "ORDEREXECUTED is not strictly increasing"
    with commands.connect(url) as connection:
        notes = connection.execute(sa.text("SELECT note, count(*) FROM counter GROUP BY note")).all()
    assert [tuple(n) for n in notes] == [("done", CHANGESETS - 1)]
    state = commands.list_locks(url)
    assert state is not None and not state.locked
    assert commands.clear_incomplete(url) == [], "a changeSet was left incomplete"


def schema_differences(url: str, other_url: str) -> list[str]:
    """How the schema at ``url`` differs from the one at ``other_url`` (none: the same)."""
    return [d.describe() for d in compare(reflected(other_url), reflected(url))]


def test_eight_instances_at_once_run_each_changeset_exactly_once(db_url: str, tmp_path: Path) -> None:
    changelog = write_changelog(tmp_path, db_url)
    processes = [start_update(db_url, changelog, "--lock-timeout", "240") for _ in range(8)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in processes]
    for code, out, err in results:
        assert code == 0, f"exit {code}\n{out}\n{err}"
    ran = [line for _, out, _ in results for line in out.splitlines() if line.startswith("ran ")]
    assert len(ran) == CHANGESETS, "each changeSet is reported by exactly one instance"
    assert_complete(db_url)


@pytest.mark.parametrize("delay", [0.0, 0.4, 1.2, 2.5], ids=["at-start", "early", "midway", "late"])
def test_an_instance_killed_at_any_point_leaves_nothing_stuck(
    db_url: str, second_db_url: str, tmp_path: Path, delay: float
) -> None:
    changelog = write_changelog(tmp_path, db_url, slow=True)
    reference = tmp_path / "reference"
    reference.mkdir()
    commands.update(second_db_url, write_changelog(reference, db_url))  # the same schema, without the waits
    victim = start_update(db_url, changelog)
    time.sleep(delay)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)

    # The next update needs no release-locks: the dead holder's lock is recognised and taken over.
    again = start_update(db_url, changelog, "--lock-timeout", "60")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, f"{out}\n{err}"
    assert "Traceback" not in err
    assert_complete(db_url)
    assert schema_differences(db_url, second_db_url) == []


def test_the_same_final_state_as_an_uninterrupted_run(db_url: str, second_db_url: str, tmp_path: Path) -> None:
    changelog = write_changelog(tmp_path, db_url, slow=True)
    victim = start_update(db_url, changelog)
    time.sleep(0.8)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    commands.update(db_url, changelog, lock_timeout=60)
    commands.update(second_db_url, changelog)  # the reference: one uninterrupted run

    def state(url: str) -> tuple[object, ...]:
        rows = [
            (r.filename, r.id, r.author, r.order_executed, r.exec_type, r.md5sum, r.description)
            for r in commands.history(url)
        ]
        with commands.connect(url) as connection:
            data = connection.execute(sa.text("SELECT id, note FROM counter ORDER BY id")).all()
        return reflected(url), [tuple(d) for d in data], [r[:3] + r[4:] for r in rows]

    assert state(db_url) == state(second_db_url)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_update_rolls_back_the_current_changeset_and_releases_the_lock(
    db_url: str, tmp_path: Path, sig: signal.Signals
) -> None:
    changelog = write_changelog(tmp_path, db_url, slow=True)
    process = start_update(db_url, changelog)
    wait_for_progress(db_url, process)
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + sig, (process.returncode, err)
    assert "Traceback" not in err
    assert "interrupted" in err
    state = commands.list_locks(db_url)
    assert state is not None and not state.locked, "the lock was not released"
    rows = commands.history(db_url)
    with commands.connect(db_url) as connection:
        done = connection.execute(sa.text("SELECT count(*) FROM counter WHERE note = 'done'")).scalar()
        half = connection.execute(sa.text("SELECT count(*) FROM counter WHERE note <> 'done'")).scalar()
    assert (done, half) == (len(rows) - 1, 0), "a changeSet was left half-applied"
    commands.update(db_url, changelog)
    assert_complete(db_url)


def _slow_create(url: str, table: str, seconds: float) -> str:
    """A CREATE TABLE … AS that takes about ``seconds``: a statement that commits as it runs on MariaDB."""
    backend = _backend(url)
    if backend == "postgresql":
        return f"CREATE TABLE {table} AS SELECT 1 AS x FROM pg_sleep({seconds})"
    if backend == "sqlite":
        return f"CREATE TABLE {table} AS {_sleep(url, seconds).replace('count(*)', 'count(*) AS x')}"
    return f"CREATE TABLE {table} AS SELECT SLEEP({seconds}) AS x"


def write_several_statements(folder: Path, url: str, seconds: float) -> Path:
    """A changeSet of several tables and an index, with a wait of ``seconds`` between two of them and one as long
    in the creation of another, between two short changeSets."""
    table = "{{tableName: {}, columns: [{{column: {{name: id, type: int}}}}]}}".format
    text = f"""
databaseChangeLog:
  - changeSet: {{id: before, author: t, changes: [createTable: {table("t0")}]}}
  - changeSet:
      id: several
      author: t
      changes:
        - createTable: {table("k1")}
        - sql: "{_sleep(url, seconds)}"
        - createTable: {table("k2")}
        - sql: "{_slow_create(url, "k3", seconds)}"
        - createIndex: {{tableName: k1, indexName: ix_k1, columns: [{{column: {{name: id}}}}]}}
        - createTable: {table("k4")}
  - changeSet: {{id: after, author: t, changes: [createTable: {table("t9")}]}}
"""
    folder.mkdir(exist_ok=True)
    path = folder / "changelog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def stop(process: subprocess.Popen[str], how: str) -> None:
    """SIGKILL, or SIGTERM twice (the second aborts the changeSet in progress)."""
    if how == "SIGKILL":
        process.send_signal(signal.SIGKILL)
    else:
        process.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode in (-signal.SIGKILL, 128 + signal.SIGTERM), process.returncode


def _commits_as_it_runs(url: str) -> bool:
    return not capabilities(_backend(url)).transactional_ddl


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM-twice"])
@pytest.mark.parametrize("delay", [0.4, 1.5], ids=["between-statements", "in-a-statement"])
def test_a_changeset_of_several_statements_interrupted_half_way_is_finished_by_the_next_update(
    db_url: str, second_db_url: str, tmp_path: Path, delay: float, how: str
) -> None:
    changelog = write_several_statements(tmp_path, db_url, 1.0)
    victim = start_update(db_url, changelog)
    wait_for_progress(db_url, victim, changesets=1)
    time.sleep(delay)  # in the 1 s wait after k1, or in the 1 s creation of k3
    stop(victim, how)

    again = start_update(db_url, changelog, "--lock-timeout", "60")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, f"{out}\n{err}"
    assert "Traceback" not in err
    if _commits_as_it_runs(db_url):  # what had committed was not run again, and the update said so
        assert "changeSet changelog.yaml::several::t had been interrupted part-way" in err
        assert "1. CREATE TABLE k1" in err
    assert [(r.id, r.exec_type) for r in commands.history(db_url)] == [
        ("before", "EXECUTED"),
        ("several", "EXECUTED"),
        ("after", "EXECUTED"),
    ]
    assert commands.clear_incomplete(db_url) == []
    commands.update(second_db_url, write_several_statements(tmp_path / "reference", db_url, 0))  # uninterrupted
    assert schema_differences(db_url, second_db_url) == []


def test_a_statement_in_flight_that_cannot_be_told_is_refused_with_the_way_out(db_url: str, tmp_path: Path) -> None:
    slow = {
        "postgresql": "UPDATE t0 SET id = id + 1 WHERE EXISTS (SELECT 1 FROM pg_sleep(1))",
        "mariadb": "UPDATE t0 SET id = id + 1 WHERE SLEEP(1) = 0",
        "sqlite": f"UPDATE t0 SET id = id + 1 WHERE ({_sleep(db_url, 1)}) > 0",
    }[_backend(db_url)]
    changelog = tmp_path / "changelog.yaml"
    changelog.write_text(
        f"""
databaseChangeLog:
  - changeSet:
      id: before
      author: t
      changes:
        - createTable: {{tableName: t0, columns: [{{column: {{name: id, type: int}}}}]}}
        - insert: {{tableName: t0, columns: [{{column: {{name: id, valueNumeric: 1}}}}]}}
  - changeSet:
      id: slow
      author: t
      context: prod
      runInTransaction: false
      changes:
        - createTable: {{tableName: k1, columns: [{{column: {{name: id, type: int}}}}]}}
        - sql: "{slow}"
        - createTable: {{tableName: k2, columns: [{{column: {{name: id, type: int}}}}]}}
""",
        encoding="utf-8",
    )
    victim = start_update(db_url, changelog, "--contexts", "prod")
    wait_for_progress(db_url, victim, changesets=1)
    time.sleep(0.4)  # in the UPDATE: each statement commits on its own, and nothing shows whether that one did
    stop(victim, "SIGKILL")

    again = start_update(db_url, changelog, "--contexts", "prod", "--lock-timeout", "60")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 1, f"{out}\n{err}"
    assert "Traceback" not in err
    assert "changeSet changelog.yaml::slow::t was interrupted part-way" in err
    assert "1. took effect: CREATE TABLE k1" in err
    assert f"2. was running: {slow}" in err
    assert "3. did not run: CREATE TABLE k2" in err
    with commands.connect(db_url) as connection:
        assert not sa.inspect(connection).has_table("k2"), "nothing may run while it cannot be told"
    assert [r.id for r in commands.history(db_url)] == ["before"]

    # The way out the message gives, as it gives it: finish by hand, then the command.
    finish = re.search(r"then run `yamlbase (mark-next-changeset-ran[^`]*)`", err)
    assert finish is not None and finish.group(1) == "mark-next-changeset-ran --contexts prod"
    with commands.connect(db_url) as connection:
        connection.exec_driver_sql("CREATE TABLE k2 (id INTEGER)")
        connection.commit()
    command = [sys.executable, "-m", "yamlbase", *finish.group(1).split(), "--url", db_url]
    command += ["--changelog-file", str(changelog)]
    done = subprocess.run(command, capture_output=True, text=True, env=_environment(), timeout=120)
    assert done.returncode == 0, done.stderr
    again = start_update(db_url, changelog, "--contexts", "prod")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, f"{out}\n{err}"
    assert [(r.id, r.exec_type) for r in commands.history(db_url)] == [("before", "EXECUTED"), ("slow", "MARK_RAN")]
    assert commands.clear_incomplete(db_url) == []
