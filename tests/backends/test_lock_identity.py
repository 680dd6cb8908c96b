"""SQLite's lock holder is told from a later process with the same pid: a restarted container's PID 1 takes over
its dead predecessor's lock, and a live holder is never taken over.

Real processes against a real SQLite file. A container is what Docker makes of one: a fresh PID namespace
(``unshare``) where ``yamlbase update`` is PID 1 under the same host name, with ``/etc/hostname`` bind-mounted
from ``…/containers/<id>/hostname``; a restart is the same id in a new namespace. No timing assertions.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from yamlbase import commands
from yamlbase.errors import LockError
from yamlbase.runtime import lock
from yamlbase.runtime.lock import Process, judge_holder, parse_owner

ROOT = Path(__file__).resolve().parents[2]


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", "echo $$"], capture_output=True, text=True
    )
    return probe.returncode == 0 and probe.stdout.strip() == "1"


needs_unshare = pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare(1) for a new PID namespace")


def _changelog(folder: Path) -> Path:
    """A table, then a changeSet slow enough to be killed in, then a last one."""
    slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) SELECT count(*) FROM c"
    path = folder / "changelog.yaml"
    path.write_text(
        "databaseChangeLog:\n"
        "  - changeSet: {id: table, author: t, changes: [createTable: {tableName: t, columns: "
        "[column: {name: id, type: int}]}]}\n"
        f'  - changeSet: {{id: slow, author: t, changes: [sql: "{slow}"]}}\n'
        "  - changeSet: {id: last, author: t, changes: [sql: INSERT INTO t (id) VALUES (1)]}\n",
        encoding="utf-8",
    )
    return path


def _start(command: list[str], container: str | None, folder: Path) -> subprocess.Popen[str]:
    """``command`` here, or as PID 1 of a fresh PID namespace: in container ``container`` (a letter), or in none
    that shows (``""``)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if container == "":
        command = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", *command]
    elif container is not None:
        hostname = folder / "var/lib/docker/containers" / (container * 64)[:64] / "hostname"
        hostname.parent.mkdir(parents=True, exist_ok=True)
        hostname.write_text(socket.gethostname() + "\n")
        mount = 'mount --bind "$0" /etc/hostname && exec "$@"'
        command = [
            "unshare",
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child",
            "sh",
            "-c",
            mount,
            str(hostname),
            *command,
        ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _update(url: str, changelog: Path, *extra: str, container: str | None = None) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "yamlbase", "update", "--url", url, "--changelog-file", str(changelog), *extra]
    return _start(command, container, changelog.parent)


def _holder(url: str, process: subprocess.Popen[str]) -> str:
    """LOCKEDBY once ``process`` holds the lock and runs the slow changeSet."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            state = commands.list_locks(url)
            if state is not None and state.locked and len(commands.history(url)) == 1:
                assert state.locked_by is not None
                return state.locked_by
        except commands.DatabaseError:
            pass  # the tables do not exist yet
        time.sleep(0.05)
    raise AssertionError(f"the update never held the lock: {process.communicate()}")


@needs_unshare
def test_a_restarted_containers_pid_1_takes_over_its_predecessors_lock(sqlite_url: str, tmp_path: Path) -> None:
    changelog = _changelog(tmp_path)
    first = _update(sqlite_url, changelog, container="a")
    held_by = _holder(sqlite_url, first)
    recorded = parse_owner(held_by)
    assert recorded is not None and recorded.pid == 1 and recorded.host == socket.gethostname()
    assert recorded.container == "a" * 12
    first.send_signal(signal.SIGKILL)  # unshare --kill-child: its PID 1 dies with it, and the namespace
    first.wait(timeout=30)

    again = _update(sqlite_url, changelog, "--lock-timeout", "30", container="a")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, f"{out}\n{err}"
    assert f"taking over DATABASECHANGELOGLOCK from {held_by}" in err
    assert "earlier run of this container" in err
    assert [row.id for row in commands.history(sqlite_url)] == ["table", "slow", "last"]
    state = commands.list_locks(sqlite_url)
    assert state is not None and not state.locked


# A live holder between two transactions: it took the lock row as yamlbase does and sleeps (a running
# yamlbase also holds SQLite's write lock inside each changeSet, which would be waited for first).
HOLDER = """
import sys, time
import sqlalchemy as sa
from yamlbase.runtime import lock
engine = sa.create_engine(sys.argv[1])
with engine.begin() as connection:
    connection.execute(sa.text("UPDATE databasechangeloglock SET locked = 1, lockedby = :by, lockgranted = "
                               "CURRENT_TIMESTAMP"), {"by": lock.lock_owner()})
print(lock.lock_owner(), flush=True)
time.sleep(120)
"""


def _live_holder(url: str, container: str | None, folder: Path) -> tuple[subprocess.Popen[str], str]:
    process = _start([sys.executable, "-c", HOLDER, url], container, folder)
    assert process.stdout is not None
    held_by = process.stdout.readline().strip()
    assert held_by, process.communicate()
    return process, held_by


@pytest.mark.parametrize(
    ("holder_in", "waiter_in"),
    [
        pytest.param(None, None, id="both-here"),
        pytest.param("a", None, marks=needs_unshare, id="container-holder-waiter-here"),
        pytest.param(None, "a", marks=needs_unshare, id="holder-here-container-waiter"),
        pytest.param("a", "b", marks=needs_unshare, id="pid-1-in-two-containers"),
        pytest.param("", "", marks=needs_unshare, id="pid-1-in-two-namespaces-no-container-id"),
    ],
)
def test_a_live_holder_is_waited_for(
    sqlite_url: str, tmp_path: Path, holder_in: str | None, waiter_in: str | None
) -> None:
    changelog = _prepared(sqlite_url, tmp_path)
    holder, held_by = _live_holder(sqlite_url, holder_in, tmp_path)
    try:
        recorded = parse_owner(held_by)
        assert recorded is not None and (recorded.pid == 1) == (holder_in is not None)
        waiter = _update(sqlite_url, changelog, "--lock-timeout", "1", container=waiter_in)
        out, err = waiter.communicate(timeout=60)
        assert waiter.returncode == 1, f"{out}\n{err}"
        assert "taking over" not in err
        assert f"DATABASECHANGELOGLOCK is held by {held_by}" in err
        assert commands.list_locks(sqlite_url).locked_by == held_by  # type: ignore[union-attr]
        assert commands.history(sqlite_url) == []
    finally:
        holder.kill()
        holder.wait(timeout=30)


def _identity_of(pid: int) -> tuple[str, str, str, str]:
    me = Process.current()
    return lock._start_time(pid), me.boot, me.pidns, me.container


def _hold(url: str, locked_by: str) -> None:
    with commands.connect(url) as connection, connection.begin():
        connection.execute(
            sa.text("UPDATE databasechangeloglock SET locked = 1, lockedby = :by, lockgranted = CURRENT_TIMESTAMP"),
            {"by": locked_by},
        )


def _prepared(url: str, folder: Path) -> Path:
    changelog = _changelog(folder)
    changelog.write_text(
        "databaseChangeLog:\n  - changeSet: {id: one, author: t, changes: [sql: CREATE TABLE t (id int)]}\n"
    )
    commands.update(url, changelog, count=0)  # the history and lock tables, nothing run
    return changelog


def test_a_holder_whose_pid_now_belongs_to_this_process_is_taken_over(sqlite_url: str, tmp_path: Path) -> None:
    """PID reuse within one namespace: the recorded pid is this very process, but it started at another time."""
    changelog = _prepared(sqlite_url, tmp_path)
    me = Process.current()
    stale = f"{me.host} (pid={me.pid} start=1 boot={me.boot} pidns={me.pidns} run=0badcafe)"
    _hold(sqlite_url, stale)
    commands.update(sqlite_url, changelog, lock_timeout=5)
    assert [row.id for row in commands.history(sqlite_url)] == ["one"]


def test_a_holder_recorded_in_an_earlier_boot_is_taken_over(sqlite_url: str, tmp_path: Path) -> None:
    changelog = _prepared(sqlite_url, tmp_path)
    me = Process.current()
    _hold(sqlite_url, f"{me.host} (pid=1 start=5 boot=0123456789ab pidns={me.pidns} run=0badcafe)")
    commands.update(sqlite_url, changelog, lock_timeout=5)
    assert [row.id for row in commands.history(sqlite_url)] == ["one"]


@pytest.mark.parametrize(
    "locked_by",
    [
        "liquibase-host (10.0.0.7)",  # Liquibase's own
        "another-host (pid=1 start=5 boot=0123456789ab pidns=4026531836 run=0badcafe)",
        "{host} (pid=1 start=5 boot={boot} pidns=1 container=0123456789ab run=0badcafe)",  # another container
    ],
    ids=["liquibase", "another-host", "another-container"],
)
def test_a_holder_that_cannot_be_judged_is_waited_for(sqlite_url: str, tmp_path: Path, locked_by: str) -> None:
    changelog = _prepared(sqlite_url, tmp_path)
    me = Process.current()
    holder = locked_by.format(host=me.host, boot=me.boot)
    _hold(sqlite_url, holder)
    with pytest.raises(LockError, match="is held by"):
        commands.update(sqlite_url, changelog, lock_timeout=0.3)
    assert commands.list_locks(sqlite_url).locked_by == holder  # type: ignore[union-attr]
    assert commands.history(sqlite_url) == []


def test_lockedby_fits_liquibases_column_and_reads_back() -> None:
    written = lock.lock_owner()
    assert len(written) <= 255
    recorded = parse_owner(written)
    assert recorded == Process.current()
    assert judge_holder(recorded, Process.current()) == (False, "it is this process")
    # the form before the identity was recorded is still read (and judged by its pid alone)
    assert parse_owner("ci-runner-7 pid=4242 run=0badcafe") == Process("ci-runner-7", 4242)
