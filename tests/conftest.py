"""Real database backends for the tests: SQLite files and throwaway PostgreSQL and MariaDB servers.

PostgreSQL / MariaDB: ``YAMLBASE_TEST_POSTGRESQL_URL`` / ``YAMLBASE_TEST_MARIADB_URL`` (admin URLs) when set —
``.ci/run`` starts the servers and sets them — else servers started here from the binaries on the machine
and removed afterwards. A
backend that cannot start skips its tests locally, and fails them in CI (``CI=true``): CI never skips one.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest
import sqlalchemy as sa

if TYPE_CHECKING:
    from yamlbase.structure.model import Schema

IN_CI = os.environ.get("CI", "").lower() == "true"

# A PostgreSQL role that must give its password: the servers trust every other user (initdb -A trust), so a test
# of passwords needs this one. Its pg_hba.conf line comes before the trust lines (here and in .ci/run).
PASSWORD_ROLE = "yamlbase_password_role"
PASSWORD_HBA_LINE = f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"


def unavailable(reason: str) -> NoReturn:
    """Skip locally, fail in CI."""
    if IN_CI:
        pytest.fail(f"backend unavailable in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postgres_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin``, else ``pg_ctl`` on ``PATH``, else ``pg_config --bindir``."""

    def version(folder: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", Path(folder).parent.name))

    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return Path(pg_ctl).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            found = subprocess.run([pg_config, "--bindir"], check=True, capture_output=True, text=True, timeout=30)
            bindir = Path(found.stdout.strip())
            if (bindir / "pg_ctl").is_file():
                return bindir
    return None


def _describe(exc: BaseException) -> str:
    """An exception with the output of the command that failed, if it was one."""
    parts = [str(exc)]
    for stream in (getattr(exc, "stdout", None), getattr(exc, "stderr", None)):
        if isinstance(stream, bytes):
            stream = stream.decode(errors="replace")
        if stream and stream.strip():
            parts.append(stream.strip())
    return "\n".join(parts)


class PostgresCluster:
    """initdb + ``pg_ctl -w start`` in a temporary folder, as the ``postgres`` user when running as root."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise OSError("running as root, and there is no 'postgres' user to run the server as") from None
            runuser = shutil.which("runuser")
            self.as_user = [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-s", "/bin/sh", "-c"]
        self.folder = Path(tempfile.mkdtemp(prefix="yamlbase-pg-"))
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = 0

    def _run(self, *args: str) -> None:
        command = [*self.as_user, shlex.join(args)] if self.as_user[:1] == ["su"] else [*self.as_user, *args]
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=self.folder)

    def start(self) -> str:
        """Create the cluster and start the server on a free port; the admin URL."""
        initdb = self.bindir / "initdb"
        self._run(str(initdb), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "-N")
        hba = self.data / "pg_hba.conf"  # rewritten in place: it stays the server user's
        hba.write_text(PASSWORD_HBA_LINE + hba.read_text())
        for attempt in range(3):  # a free port can be taken by someone else before the server binds it
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.folder} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            try:
                self._run(
                    str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log), "-w",
                    "-t", "60", "start",
                )  # fmt: skip
            except subprocess.CalledProcessError:
                if attempt == 2 or "could not bind" not in self.log_tail():
                    raise
            else:
                return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[str]:
    """An admin URL of a running PostgreSQL server: ``YAMLBASE_TEST_POSTGRESQL_URL``, else a throwaway cluster."""
    given = os.environ.get("YAMLBASE_TEST_POSTGRESQL_URL")
    if given:
        yield given
        return
    bindir = _postgres_bindir()
    if bindir is None:
        unavailable(
            "PostgreSQL binaries not found (/usr/lib/postgresql/*/bin, pg_ctl on PATH, pg_config --bindir); "
            "install e.g. the Debian package postgresql-15, or set YAMLBASE_TEST_POSTGRESQL_URL"
        )
    assert bindir is not None
    try:
        cluster = PostgresCluster(bindir)
    except OSError as exc:
        unavailable(f"PostgreSQL cannot start: {exc}")
    failure = ""
    try:
        url = cluster.start()
    except Exception as exc:
        failure = f"PostgreSQL ({bindir}) did not start: {_describe(exc)}\n--- {cluster.log} ---\n{cluster.log_tail()}"
    if failure:
        cluster.stop()  # removes the log too: its text is in the message
        unavailable(failure)
    try:
        yield url
    finally:
        cluster.stop()


class MariaDBServer:
    """mariadb-install-db + mariadbd in a temporary folder, as the ``mysql`` user when running as root."""

    def __init__(self, mariadbd: Path) -> None:
        self.mariadbd = mariadbd
        self.folder = Path(tempfile.mkdtemp(prefix="yamlbase-mariadb-"))
        self.log = self.folder / "server.log"
        self.port = _free_port()
        self.as_user: list[str] = []
        self.process: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "mysql", "--"]
            shutil.chown(self.folder, "mysql")

    def start(self) -> str:
        install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        if install is None:
            raise OSError("mariadb-install-db not found")
        data = self.folder / "data"
        subprocess.run(
            [*self.as_user, install, f"--datadir={data}", "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*self.as_user, str(self.mariadbd), f"--datadir={data}", f"--socket={self.folder / 'sock'}",
                 f"--port={self.port}", "--bind-address=127.0.0.1", "--skip-grant-tables", "--skip-log-bin",
                 "--innodb-flush-log-at-trx-commit=0", "--max-connections=300"],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        url = f"mariadb+pymysql://root@127.0.0.1:{self.port}/mysql"
        deadline = time.monotonic() + 60
        while True:
            try:
                engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
                with engine.connect():
                    return url
            except sa.exc.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise OSError(f"mariadbd did not start: {self.log.read_text(errors='replace')[-2000:]}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
            if self.process.poll() is None:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[str]:
    """An admin URL of a running MariaDB server."""
    given = os.environ.get("YAMLBASE_TEST_MARIADB_URL")
    if given:
        yield given
        return
    mariadbd = next((Path(p) for p in ("/usr/sbin/mariadbd", "/usr/sbin/mysqld") if Path(p).exists()), None)
    if mariadbd is None:
        unavailable("MariaDB not installed (/usr/sbin/mariadbd; Debian package mariadb-server)")
    assert mariadbd is not None
    server = MariaDBServer(mariadbd)
    try:
        url = server.start()
    except (subprocess.SubprocessError, OSError) as exc:
        server.stop()
        unavailable(f"MariaDB did not start: {exc}")
    try:
        yield url
    finally:
        server.stop()


def _fresh_mariadb_database(admin_url: str) -> Iterator[str]:
    admin = sa.create_engine(admin_url, poolclass=sa.pool.NullPool)
    name = f"yb_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


def _fresh_postgresql_database(admin_url: str) -> Iterator[str]:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    name = f"yb_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except sa.exc.DBAPIError as exc:
        unavailable(f"cannot create a PostgreSQL database: {exc}")
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def temp_folders_are_a_repository_root(tmp_path_factory: pytest.TempPathFactory) -> None:
    """yamlbase looks for pyproject.toml and .env upward up to the first folder holding ``.git``: a marker
    above every test's folders keeps it from finding some unrelated file of the machine above them."""
    (tmp_path_factory.getbasetemp() / ".git").mkdir(exist_ok=True)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A new SQLite database file."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgresql_url(postgresql_server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped after the test."""
    yield from _fresh_postgresql_database(postgresql_server)


@pytest.fixture
def postgresql_password_url(postgresql_server: str) -> Iterator[sa.URL]:
    """A new PostgreSQL database owned by ``PASSWORD_ROLE``, as a URL object carrying that role's password
    (one that plain URL text would need to encode)."""
    password = "s3cret:@/pw"
    admin = sa.create_engine(postgresql_server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    name = f"yb_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        exists = connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": PASSWORD_ROLE})
        verb = "ALTER" if exists.first() else "CREATE"
        connection.exec_driver_sql(f"{verb} ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{password}'")
        connection.exec_driver_sql(f"CREATE DATABASE {name} OWNER {PASSWORD_ROLE}")
    try:
        yield sa.make_url(postgresql_server).set(username=PASSWORD_ROLE, password=password, database=name)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.fixture
def mariadb_url(mariadb_server: str) -> Iterator[str]:
    """A new, empty MariaDB database, dropped after the test."""
    yield from _fresh_mariadb_database(mariadb_server)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.backend),
        pytest.param("mariadb", marks=pytest.mark.backend),
    ]
)
def db_url(request: pytest.FixtureRequest) -> str:
    """A new, empty database on each backend in turn."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def second_db_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Another new, empty database on the same backend as ``db_url`` (for a reference run)."""
    backend = sa.make_url(db_url).get_backend_name()
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'second.db'}"
    elif backend == "postgresql":
        yield from _fresh_postgresql_database(request.getfixturevalue("postgresql_server"))
    else:
        yield from _fresh_mariadb_database(request.getfixturevalue("mariadb_server"))


def reflected(url: str, *, schema: str | None = None) -> Schema:
    """The schema of the database at ``url`` as yamlbase's one reflection sees it, stored routines included
    (compare two with :func:`yamlbase.structure.compare.compare`: empty when they are the same)."""
    from yamlbase import commands
    from yamlbase.structure.reflect import reflect

    with commands.connect(url) as connection:
        return reflect(connection, schema=schema, routines=True)
