"""``flask db`` (yamlbase.flask): Flask-Migrate's workflow on YAML changelogs, on a Flask-SQLAlchemy app factory's
own ``instance/`` SQLite databases, through Flask's CLI runner and as a real ``flask --app`` process."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import Result

import yamlbase
import yamlbase.flask as yamlbase_flask

DbView = Callable[[str], Any]

APP = """
import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from yamlbase.flask import Yamlbase

db = SQLAlchemy()
migrations = Yamlbase()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


class Event(db.Model):
    __bind_key__ = "audit"
    id = db.Column(db.Integer, primary_key=True)
    what = db.Column(db.String(200))


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///app.db")
    app.config["SQLALCHEMY_BINDS"] = {"audit": "sqlite:///audit.db"}
    db.init_app(app)
    migrations.init_app(app, db)
    return app
"""

CREATE_USERS = """
- createTable:
    tableName: users
    columns:
      - column: {name: id, type: int, constraints: {primaryKey: true}}
      - column: {name: name, type: varchar(80), constraints: {nullable: false}}
"""

CREATE_POSTS = """
- createTable:
    tableName: posts
    columns:
      - column: {name: id, type: int, constraints: {primaryKey: true}}
"""


class App:
    """The app factory of ``source`` (APP), loaded from the test's folder, and ``flask db …`` run on it
    in-process."""

    def __init__(self, folder: Path, name: str, source: str = APP) -> None:
        path = folder / "app.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module: ModuleType = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        self.module = module
        self.app = module.create_app()
        self.folder = folder

    def __call__(self, *args: str) -> Result:
        return self.app.test_cli_runner().invoke(args=["db", *args])

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, result.output
        return result

    def url(self, name: str = "app.db") -> str:
        return f"sqlite:///{self.folder / 'instance' / name}"


@pytest.fixture
def app(workdir: Path, request: pytest.FixtureRequest) -> App:
    name = f"flask_app_{request.node.name}".replace("[", "_").replace("]", "_").replace("-", "_")
    made = App(workdir, name)
    yield made
    sys.modules.pop(name, None)
    with made.app.app_context():
        for engine in made.module.db.engines.values():
            engine.dispose()


def fill(path: Path, changes: str) -> None:
    """Write ``changes`` (a YAML list) into the empty changeSet of a migration that ``revision`` wrote."""
    text = path.read_text(encoding="utf-8")
    assert "      changes: []\n" in text
    block = textwrap.indent(textwrap.dedent(changes).strip("\n"), " " * 8)
    path.write_text(text.replace("      changes: []\n", f"      changes:\n{block}\n"), encoding="utf-8")


def new_migration(app: App, message: str, changes: str, *extra: str) -> Path:
    result = app.ok("revision", "-m", message, *extra)
    path = Path(result.output.split("wrote ", 1)[1].split(":", 1)[0]).resolve()
    fill(path, changes)
    return path


def test_init_writes_a_changelog_that_includes_the_changes_folder(app: App, workdir: Path) -> None:
    result = app.ok("init")

    root = workdir / "changelog" / "changelog.yaml"
    assert "created changelog/changelog.yaml" in result.output
    assert (workdir / "changelog" / "changes").is_dir()
    schema = workdir / "changelog" / "changelog.schema.json"
    assert schema.read_text(encoding="utf-8") == yamlbase.schema()
    assert root.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=changelog.schema.json\n")
    assert yamlbase.validate(changelog=root).changesets == []
    # An empty changelog is up to date, and the database is the app's, in instance/.
    assert "is up to date" in app.ok("upgrade").output

    again = app("init")
    assert again.exit_code == 2
    assert "already exists" in again.output
    assert "Traceback" not in again.output


def test_revision_upgrade_current_history_downgrade(app: App, workdir: Path, db: DbView) -> None:
    app.ok("init")
    first = new_migration(app, "Create users!", CREATE_USERS)
    second = new_migration(app, "create posts", CREATE_POSTS)
    assert first.parent == second.parent == workdir / "changelog" / "changes"
    assert first.name.endswith("_create_users.yaml")
    assert first.name < second.name  # runs first, even when written in the same second
    assert yamlbase.validate(changelog="changelog/changelog.yaml").changesets[0].comment == "Create users!"

    result = app.ok("current")
    assert "nothing applied yet" in result.output
    assert "2 changeSets pending" in result.output

    result = app.ok("upgrade")
    assert f"ran changelog/changes/{first.name}::" in result.output
    assert "2 changeSets applied to" in result.output
    # Flask-SQLAlchemy put the relative SQLite path in the app's instance/ folder; nothing in the working folder.
    view = db(app.url())
    assert view.tables() == ["posts", "users"]
    assert not (workdir / "app.db").exists()
    assert [row.split("::")[0] for row in view.history_ids()] == [
        f"changelog/changes/{first.name}",
        f"changelog/changes/{second.name}",
    ]

    result = app.ok("current")
    assert f"at {second.stem} (applied)" in result.output
    assert "nothing pending" in result.output
    lines = app.ok("history").output.splitlines()
    assert lines[1].split() == ["applied", first.stem, "Create", "users!"]
    assert lines[2].split() == ["applied", second.stem, "(current)", "create", "posts"]

    result = app.ok("downgrade")
    assert "1 changeSet rolled back" in result.output
    assert view.tables() == ["users"]
    result = app.ok("current")
    assert f"at {first.stem} (applied)" in result.output
    assert f"pending  changelog/changes/{second.name}::" in result.output
    lines = app.ok("history").output.splitlines()
    assert lines[1].split()[:3] == ["applied", first.stem, "(current)"]
    assert lines[2].split()[:2] == ["pending", second.stem]

    app.ok("downgrade", "base")
    assert view.tables() == []
    assert view.history_ids() == []

    app.ok("upgrade", "+1")
    assert view.tables() == ["users"]
    app.ok("upgrade", second.stem[:14])  # a revision named by its timestamp
    assert view.tables() == ["posts", "users"]
    app.ok("downgrade", "--count", "2")
    assert view.tables() == []
    app.ok("upgrade", "--count", "1")
    assert view.tables() == ["users"]
    app.ok("upgrade")
    app.ok("downgrade", first.stem)  # undo what was applied after that migration
    assert view.tables() == ["users"]


def test_downgrade_undoes_a_whole_migration_file(app: App, db: DbView) -> None:
    app.ok("init")
    first = new_migration(app, "users", CREATE_USERS)
    path = Path(app.ok("revision", "-m", "two steps").output.split("wrote ", 1)[1].split(":", 1)[0])
    fill(path, CREATE_POSTS)
    second_step = (
        "  - changeSet:\n"
        "      id: second-step\n"
        "      author: test\n"
        "      changes:\n"
        "        - addColumn:\n"
        "            tableName: posts\n"
        "            columns:\n"
        "              - column: {name: title, type: varchar(100)}\n"
    )
    path.write_text(path.read_text(encoding="utf-8") + second_step, encoding="utf-8")

    app.ok("upgrade")
    view = db(app.url())
    assert len(view.history_ids()) == 3
    result = app.ok("history", "--verbose")
    assert "second-step (test)" in result.output

    result = app.ok("downgrade")
    assert "2 changeSets rolled back" in result.output
    assert view.tables() == ["users"]
    assert [row.split("::")[0] for row in view.history_ids()] == [f"changelog/changes/{first.name}"]

    # Partly applied: upgrade --count counts migrations, the SQL previews change nothing.
    app.ok("upgrade")
    app.ok("downgrade", "--count", "0")
    assert len(view.history_ids()) == 3


def same_sql(a: str, b: str) -> bool:
    """The same script, but for the deployment id and the time each run stamps."""
    unstamped = lambda text: re.sub(r"'\d{10}'|\d{4}-\d\d-\d\d[ T][\d:.]+", "X", text)  # noqa: E731
    return unstamped(a) == unstamped(b)


def test_tags_and_sql_previews(app: App, db: DbView) -> None:
    app.ok("init")
    new_migration(app, "users", CREATE_USERS + "- tagDatabase: {tag: v1}\n")
    new_migration(app, "posts", CREATE_POSTS)

    sql = app.ok("update-sql").output
    assert "CREATE TABLE users" in sql and "CREATE TABLE posts" in sql
    assert same_sql(app.ok("upgrade", "--sql").output, sql)
    assert "CREATE TABLE posts" not in app.ok("update-sql", "--count", "1").output
    assert not Path(app.url().removeprefix("sqlite:///")).exists() or db(app.url()).tables() == []

    app.ok("upgrade", "--tag", "v1")
    view = db(app.url())
    assert view.tables() == ["users"]
    app.ok("upgrade")
    assert view.tables() == ["posts", "users"]

    sql = app.ok("rollback-sql").output
    assert "DROP TABLE posts" in sql and "users" not in sql.split("Rolling Back", 1)[1]
    assert same_sql(app.ok("downgrade", "--sql").output, sql)
    assert view.tables() == ["posts", "users"]
    assert "DROP TABLE users" in app.ok("rollback-sql", "base").output

    app.ok("downgrade", "--tag", "v1")
    assert view.tables() == ["users"]


def test_show_names_a_migration(app: App) -> None:
    app.ok("init")
    assert app("show").exit_code == 2
    first = new_migration(app, "users", CREATE_USERS)
    second = new_migration(app, "posts", CREATE_POSTS)

    result = app.ok("show")
    assert f"migration {second.stem}: pending" in result.output
    assert "tableName: posts" in result.output
    result = app.ok("show", first.name)
    assert "tableName: users" in result.output
    missing = app("show", "nope")
    assert missing.exit_code == 2
    assert "no migration 'nope'" in missing.output


def test_a_bind_has_its_own_changelog_and_history(app: App, workdir: Path, db: DbView) -> None:
    app.ok("init", "--multidb")
    assert (workdir / "changelog" / "changelog.yaml").is_file()
    bind_root = workdir / "changelog" / "audit" / "changelog.yaml"
    assert bind_root.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=../changelog.schema.json")

    events = new_migration(
        app,
        "events",
        """
        - createTable:
            tableName: events
            columns:
              - column: {name: id, type: int, constraints: {primaryKey: true}}
        """,
        "--bind",
        "audit",
    )
    assert events.parent == workdir / "changelog" / "audit" / "changes"
    new_migration(app, "users", CREATE_USERS)

    result = app.ok("upgrade", "--bind", "audit")
    assert "audit.db" in result.output
    audit, main = db(app.url("audit.db")), db(app.url())
    assert audit.tables() == ["events"]
    assert [row.split("::")[0] for row in audit.history_ids()] == [f"changelog/audit/changes/{events.name}"]
    assert main.tables() == []

    app.ok("upgrade")
    assert main.tables() == ["users"]
    assert audit.tables() == ["events"]
    assert "nothing pending" in app.ok("--bind", "audit", "current").output  # the group's option works too

    app.ok("downgrade", "--bind", "audit")
    assert audit.tables() == []
    assert main.tables() == ["users"]

    unknown = app("upgrade", "--bind", "nope")
    assert unknown.exit_code == 2
    assert 'no bind "nope"' in unknown.output and "audit" in unknown.output


def test_before_init_and_bad_arguments(app: App) -> None:
    result = app("upgrade")
    assert result.exit_code == 2
    assert "flask db init" in result.output
    assert "Traceback" not in result.output

    app.ok("init")
    both = app("upgrade", "--count", "1", "--tag", "x")
    assert both.exit_code == 2
    assert "not several" in both.output
    stamp = app("stamp", "20240101")
    assert stamp.exit_code == 2


def test_the_verbs_as_functions_in_an_app_context(app: App, db: DbView) -> None:
    with app.app.app_context():
        yamlbase_flask.init()
        first = yamlbase_flask.revision("users")
        fill(first, CREATE_USERS)
        second = yamlbase_flask.revision("posts")
        fill(second, CREATE_POSTS)

        assert [cs.path for cs in yamlbase_flask.upgrade()] == [
            f"changelog/changes/{first.name}",
            f"changelog/changes/{second.name}",
        ]
        view = db(app.url())
        assert view.tables() == ["posts", "users"]
        now = yamlbase_flask.state()
        assert now.current is not None and now.current.name == second.stem
        assert now.pending == []
        assert [row.filename for row in yamlbase_flask.downgrade()] == [f"changelog/changes/{second.name}"]
        assert yamlbase_flask.show().state == "pending"
        assert view.tables() == ["users"]


@pytest.mark.backend
def test_postgresql_through_database_url(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, postgresql_url: str, db: DbView, request: pytest.FixtureRequest
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgresql_url)
    app = App(workdir, f"flask_app_{request.node.name}")
    try:
        app.ok("init")
        new_migration(app, "users", CREATE_USERS)
        new_migration(app, "posts", CREATE_POSTS)

        result = app.ok("upgrade")
        assert "2 changeSets applied to postgresql" in result.output
        view = db(postgresql_url)
        assert view.tables() == ["posts", "users"]
        assert not (workdir / "instance" / "app.db").exists()
        app.ok("downgrade")
        assert view.tables() == ["users"]
        assert "1 changeSet pending" in app.ok("current").output
        assert "DROP TABLE users" in app.ok("rollback-sql").output
        assert view.tables() == ["users"]
    finally:
        with app.app.app_context():
            for engine in app.module.db.engines.values():
                engine.dispose()
        sys.modules.pop(app.module.__name__, None)


def test_flask_command_line_process(workdir: Path, db: DbView) -> None:
    (workdir / "app.py").write_text(APP, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YAMLBASE_", "FLASK_")) and k != "DATABASE_URL"}
    source = str(Path(yamlbase.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH", "")) if p)
    env["FLASK_DB_DIRECTORY"] = "db-changes"  # as Flask-Migrate's: the group's --directory

    def flask(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "db", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=workdir,
            timeout=120,
        )

    assert flask("init").returncode == 0
    assert (workdir / "db-changes" / "changelog.yaml").is_file()
    made = flask("revision", "-m", "users")
    assert made.returncode == 0, made.stderr
    fill(Path(workdir / made.stdout.split("wrote ", 1)[1].split(":", 1)[0]), CREATE_USERS)
    done = flask("upgrade")
    assert done.returncode == 0, done.stderr
    assert db(f"sqlite:///{workdir / 'instance' / 'app.db'}").tables() == ["users"]
    failed = flask("downgrade", "nope")
    assert failed.returncode == 2
    assert "Traceback" not in failed.stderr
    assert "no migration 'nope'" in failed.stderr


CREATE_USER_MODEL = """
- createTable:
    tableName: user
    columns:
      - column: {name: id, type: int, constraints: {primaryKey: true}}
      - column: {name: name, type: varchar(80), constraints: {nullable: false}}
"""


def test_check_compares_the_changelog_with_the_models_of_each_bind(app: App, workdir: Path) -> None:
    app.ok("init", "--multidb")

    result = app("check")
    assert result.exit_code == 1, result.output
    assert "add_table user" in result.output
    assert "event" not in result.output  # another bind's model

    new_migration(app, "users", CREATE_USER_MODEL)
    result = app("check")
    assert result.exit_code == 0, result.output
    assert "no changes" in result.output
    assert not (workdir / "instance" / "app.db").exists()  # no database was needed

    result = app("check", "--bind", "audit")
    assert result.exit_code == 1
    assert "add_table event" in result.output


# --- the seed workflow: models -> migrate -> upgrade -> check -> models change -> migrate -> downgrade ----------

FACTORY = """
import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from yamlbase.flask import Yamlbase

db = SQLAlchemy()
migrations = Yamlbase()

{models}

def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///app.db")
    db.init_app(app)
    migrations.init_app(app, db)
    return app
"""

MODELS_V1 = """
class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    nickname = db.Column(db.String(40))
"""

# Version 2: a column dropped, one widened, one added with an index, a new table referencing the first.
MODELS_V2 = """
class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False)
    email = db.Column(db.String(200), index=True)


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    title = db.Column(db.String(200), nullable=False, server_default="untitled")
"""


def flask_process(workdir: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``flask --app app db ARGS`` as a fresh process in ``workdir`` (the app's models imported anew each time),
    with no yamlbase, Flask or DATABASE_URL settings from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YAMLBASE_", "FLASK_")) and k != "DATABASE_URL"}
    source = str(Path(yamlbase.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH", "")) if p)

    def flask(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "db", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=workdir,
            timeout=120,
        )
        assert done.returncode == code, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        return done

    return flask


def user_schema(view: Any) -> dict[str, Any]:
    """The columns, indexes and foreign keys of the database's own tables (not yamlbase's)."""
    schema = view.snapshot()["schema"]
    return {name: schema[name] for name in view.tables()}


def test_the_seed_workflow_through_the_flask_command(workdir: Path, db: DbView) -> None:
    flask = flask_process(workdir)
    (workdir / "app.py").write_text(FACTORY.format(models=MODELS_V1), encoding="utf-8")
    changes = workdir / "changelog" / "changes"

    flask("init")
    assert flask("check", code=1).stdout.splitlines()[1:] == ["  add_table user"]
    made = flask("migrate", "-m", "create users")
    first = sorted(changes.iterdir())
    assert len(first) == 1 and first[0].name.endswith("_create_users.yaml")
    assert f"wrote {first[0].relative_to(workdir)}: 1 changeSet" in made.stdout
    assert yamlbase.validate(changelog="changelog/changelog.yaml").changesets[0].comment == "create users"
    assert "1 changeSet pending" in flask("current").stdout

    assert "1 changeSet applied to sqlite:///" in flask("upgrade").stdout
    view = db(f"sqlite:///{workdir / 'instance' / 'app.db'}")  # Flask-SQLAlchemy's instance/ folder
    assert view.tables() == ["user"]
    assert view.columns("user") == ["id", "name", "nickname"]
    assert not (workdir / "app.db").exists()
    with view.engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO user (name, nickname) VALUES ('ada', 'countess')")
    version_1 = user_schema(view)
    current = flask("current").stdout
    assert f"at {first[0].stem} (applied)" in current and "nothing pending" in current
    assert flask("history").stdout.splitlines()[1].split() == ["applied", first[0].stem, "(current)", "create", "users"]
    assert "no changes" in flask("check").stdout
    again = flask("migrate", "-m", "nothing")
    assert "no changes: the changelog builds the schema of the models (1 table)" in again.stdout
    assert sorted(changes.iterdir()) == first

    (workdir / "app.py").write_text(FACTORY.format(models=MODELS_V2), encoding="utf-8")
    listed = flask("check", code=1).stdout
    assert "add_table post" in listed and "drop_column user.nickname" in listed and "user.name (type)" in listed
    made = flask("migrate", "-m", "posts and emails")
    second = sorted(set(changes.iterdir()) - set(first))
    assert len(second) == 1 and second[0].name.endswith("_posts_and_emails.yaml") and second[0].name > first[0].name
    assert "warning: destructive" in made.stderr and "nickname" in second[0].read_text(encoding="utf-8")
    assert "no changes" in flask("check").stdout  # the changelog now builds version 2

    ran = flask("upgrade").stdout
    assert ran.count(f"ran changelog/changes/{second[0].name}::") >= 4
    assert view.tables() == ["post", "user"]
    assert view.columns("user") == ["id", "name", "email"]
    assert view.scalars("SELECT name FROM user") == ["ada"]
    lines = flask("history").stdout.splitlines()
    assert lines[1].split()[:2] == ["applied", first[0].stem]
    assert lines[2].split()[:3] == ["applied", second[0].stem, "(current)"]

    undone = flask("downgrade").stdout
    assert f"rolled back changelog/changes/{first[0].name}" not in undone
    assert f"{undone.count('rolled back changelog/changes/')} changeSets rolled back" in undone
    assert user_schema(view) == version_1  # the whole second migration undone, nothing of the first
    assert view.scalars("SELECT name FROM user") == ["ada"]
    current = flask("current").stdout
    assert f"at {first[0].stem} (applied)" in current
    assert f"pending  changelog/changes/{second[0].name}::" in current
    assert [row.split("::")[0] for row in view.history_ids()] == [f"changelog/changes/{first[0].name}"]


def test_migrate_and_check_of_models_that_hold_no_tables(workdir: Path, request: pytest.FixtureRequest) -> None:
    app = App(workdir, f"flask_app_{request.node.name}", FACTORY.format(models=""))
    try:
        app.ok("init")
        result = app.ok("migrate", "-m", "first")
        assert "no changes" in result.stdout and "(0 tables)" in result.stdout
        assert "warning: the models hold no tables" in result.stderr
        assert list((workdir / "changelog" / "changes").iterdir()) == []

        checked = app("check")
        assert checked.exit_code == 2
        assert "hold no tables" in checked.stderr and "Traceback" not in checked.output

        # With a changelog that builds a table, models without tables would drop it: refused, nothing written.
        written = new_migration(app, "users", CREATE_USERS)
        refused = app("migrate", "-m", "oops")
        assert refused.exit_code == 2
        assert "hold no tables, and the changelog builds 1" in refused.stderr
        assert "Traceback" not in refused.output
        assert list((workdir / "changelog" / "changes").iterdir()) == [written]
    finally:
        sys.modules.pop(app.module.__name__, None)


def test_stamp_adopts_a_database_that_create_all_built(app: App, db: DbView) -> None:
    with app.app.app_context():
        app.module.db.create_all(bind_key=None)
        app.module.db.session.add(app.module.User(name="ada"))
        app.module.db.session.commit()
    view = db(app.url())
    before = view.snapshot()
    app.ok("init")
    made = app.ok("migrate", "-m", "adopt")  # the changelog of the models: what create_all built
    assert "1 changeSet" in made.output
    first = next((app.folder / "changelog" / "changes").iterdir())
    assert "1 changeSet pending" in app.ok("current").output

    sql = app.ok("stamp", "--sql").output
    assert "INSERT INTO DATABASECHANGELOG " in sql.upper().replace('"', "")
    assert not re.search(r'CREATE TABLE\\s+"?user\\b', sql, flags=re.IGNORECASE)
    assert view.history_ids() == []

    result = app.ok("stamp")
    assert f"recorded changelog/changes/{first.name}::" in result.output
    assert "1 changeSet recorded as run" in result.output and "none run" in result.output
    assert [row.split("::")[0] for row in view.history_ids()] == [f"changelog/changes/{first.name}"]
    after = view.snapshot()
    assert after["rows"] == before["rows"]  # nothing ran: the row is still there, the table as create_all made it
    assert after["schema"]["user"] == before["schema"]["user"]
    assert "nothing pending" in app.ok("current").output
    assert "is up to date" in app.ok("upgrade").output
    assert app("check").exit_code == 0
    assert "0 changeSets recorded" in app.ok("stamp").output

    # From here the models evolve as usual: a new model, migrate, upgrade, downgrade.
    class Tag(app.module.db.Model):  # type: ignore[name-defined,misc]
        id = app.module.db.Column(app.module.db.Integer, primary_key=True)

    assert app("check").exit_code == 1
    app.ok("migrate", "-m", "tags")
    app.ok("upgrade")
    assert view.tables() == ["tag", "user"]
    app.ok("downgrade")
    assert view.tables() == ["user"]
    assert view.snapshot()["rows"] == before["rows"]
