"""Many instances at once, and instances killed mid-update: each changeSet runs exactly once, nothing is stuck.

Real processes (``python -m yamlbase update``) against real databases; no timing assertions.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import reflected
from yamlbase import commands

ROOT = Path(__file__).resolve().parents[2]
CHANGESETS = 200


def _backend(url: str) -> str:
    return sa.make_url(url).get_backend_name()


def write_changelog(folder: Path, url: str, *, slow: bool = False) -> Path:
    """CHANGESETS changeSets: a table, then one row each (a slow statement in some, to be killed in)."""
    sleep = {
        "postgresql": "SELECT pg_sleep(0.2)",
        "mariadb": "SELECT SLEEP(0.2)",
        "mysql": "SELECT SLEEP(0.2)",
        "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500000) "
        "SELECT count(*) FROM c",
    }[_backend(url)]
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
        if slow and i % 10 == 0:
            lines.append(f'        - sql: "{sleep}"')
        lines.append(f"        - sql: UPDATE counter SET note = 'done' WHERE id = {i}")
    path = folder / "changelog.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_update(url: str, changelog: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "yamlbase", "update", "--url", url, "--changelog-file", str(changelog), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
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
def test_an_instance_killed_at_any_point_leaves_nothing_stuck(db_url: str, tmp_path: Path, delay: float) -> None:
    changelog = write_changelog(tmp_path, db_url, slow=True)
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
