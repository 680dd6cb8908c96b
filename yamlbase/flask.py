"""Flask integration: ``flask db`` with Flask-Migrate's verbs, over YAML changelogs.

::

    from flask_sqlalchemy import SQLAlchemy
    from yamlbase.flask import Yamlbase

    db = SQLAlchemy()
    migrations = Yamlbase()

    def create_app():
        app = Flask(__name__)
        db.init_app(app)
        migrations.init_app(app, db)      # or Yamlbase(app, db)
        return app

Then ``flask db init``, ``flask db migrate -m "add users"``, ``flask db upgrade``, ``flask db downgrade``, … as with
Flask-Migrate. A *migration* (Flask-Migrate's revision) is one file of the changelog: ``init`` writes
``changelog/changelog.yaml``, which includes every file of ``changelog/changes/`` in name order, and ``migrate`` and
``revision`` add a file ``changelog/changes/<timestamp>_<slug>.yaml`` there. The database is the application's
own: Flask-SQLAlchemy's engine (``db.engine``, or ``db.engines[NAME]`` with ``--bind NAME``), so its URL is resolved
exactly as the application resolves it (a relative SQLite path lands in ``instance/``). Each bind has its own
changelog, ``changelog/<NAME>/changelog.yaml`` with its migrations in ``changelog/<NAME>/changes/``, and its own
history (the ``DATABASECHANGELOG`` table of that database).

Each verb is also a function here (``upgrade()``, ``downgrade(count=2)``, …) that works inside an application
context, as Flask-Migrate's are; they return what they did and raise :class:`yamlbase.YamlbaseError` subclasses.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from yamlbase.errors import UsageError, YamlbaseError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from yamlbase.changelog.model import ChangeSet
    from yamlbase.commands import DiffChangelogResult
    from yamlbase.runtime.history import HistoryRow
    from yamlbase.structure.model import Difference

EXTENSION = "yamlbase"
DEFAULT_DIRECTORY = "changelog"
ROOT_NAME = "changelog.yaml"
CHANGES = "changes"
SCHEMA_NAME = "changelog.schema.json"


class Yamlbase:
    """The Flask extension: registers the ``flask db`` command group (``command``) for ``app`` and ``db`` (a
    Flask-SQLAlchemy ``SQLAlchemy``), with the changelogs in ``directory`` (relative to the working folder, as
    Flask-Migrate's ``migrations``; ``-d``/``--directory`` or ``FLASK_DB_DIRECTORY`` override it per command)."""

    def __init__(
        self,
        app: Flask | None = None,
        db: Any = None,
        *,
        directory: str = DEFAULT_DIRECTORY,
        command: str = "db",
    ) -> None:
        self.db = db
        self.directory = str(directory)
        self.command = command
        if app is not None:
            self.init_app(app, db)

    def init_app(self, app: Flask, db: Any = None, *, directory: str | None = None, command: str | None = None) -> None:
        """Register the command group on ``app`` (the application-factory way); ``db`` and ``directory``, when
        given, replace those passed to the constructor."""
        self.db = db if db is not None else self.db
        if self.db is None:
            raise UsageError("Yamlbase needs the application's Flask-SQLAlchemy db: Yamlbase(app, db)")
        self.directory = str(directory) if directory is not None else self.directory
        self.command = command or self.command
        app.extensions[EXTENSION] = self
        app.cli.add_command(db_group, name=self.command)


# --- one database of the application and its changelog -------------------------------------------------


@dataclass(frozen=True)
class Project:
    """One database of the current application (the default one, or bind ``bind``) and its changelog folder."""

    directory: Path
    bind: str | None
    db: Any

    @property
    def folder(self) -> Path:
        return self.directory if self.bind is None else self.directory / self.bind

    @property
    def changelog(self) -> Path:
        return self.folder / ROOT_NAME

    @property
    def changes(self) -> Path:
        return self.folder / CHANGES

    @property
    def name(self) -> str:
        return "the default database" if self.bind is None else f'bind "{self.bind}"'

    @property
    def engine(self) -> sa.Engine:
        """Flask-SQLAlchemy's engine for this database: its URL, options and pool are the application's."""
        return self.db.engines[self.bind]  # type: ignore[no-any-return]

    @property
    def metadata(self) -> sa.MetaData:
        """The models' tables on this database (Flask-SQLAlchemy keeps one MetaData per bind)."""
        import sqlalchemy as sa

        found = self.db.metadatas.get(self.bind)
        return found if found is not None else sa.MetaData()

    def require_changelog(self) -> Path:
        if not self.changelog.is_file():
            option = f" --bind {self.bind}" if self.bind else ""
            raise UsageError(f"no changelog at {self.changelog}: run `flask db init{option}` first")
        return self.changelog


def project(directory: str | Path | None = None, bind: str | None = None) -> Project:
    """The database ``bind`` (None: the default one) of the current application and its changelog folder."""
    try:
        extension = current_app.extensions[EXTENSION]
    except KeyError:
        raise UsageError("this application has no Yamlbase: call Yamlbase(app, db) or init_app(app, db)") from None
    if bind is not None and (bind in ("", ".", "..", CHANGES) or "/" in bind or "\\" in bind):
        raise UsageError(f"the bind name {bind!r} cannot name its changelog folder (changelog/{bind}/)")
    engines = extension.db.engines
    if bind not in engines:
        binds = ", ".join(sorted(k for k in engines if k is not None)) or "none"
        raise UsageError(f'no bind "{bind}" in SQLALCHEMY_BINDS (the binds configured: {binds})')
    return Project(Path(directory if directory is not None else extension.directory), bind, extension.db)


# --- migrations: the files of the changelog, and their state --------------------------------------------


@dataclass
class Migration:
    """One migration (Flask-Migrate's revision): the changeSets of one changelog file, in run order, with the
    history rows of those applied and those still pending."""

    path: str  # as the history names it: relative to the search path (the working folder)
    file: Path  # where it is on disk
    changesets: list[ChangeSet] = field(default_factory=list)
    applied: list[HistoryRow] = field(default_factory=list)
    pending: list[ChangeSet] = field(default_factory=list)

    @property
    def name(self) -> str:
        return Path(self.path).stem

    @property
    def message(self) -> str:
        return next((cs.comment for cs in self.changesets if cs.comment), "")

    @property
    def state(self) -> str:
        if not self.pending:
            return "applied"
        if self.applied:
            return f"partly applied ({len(self.changesets) - len(self.pending)} of {len(self.changesets)})"
        return "pending"


@dataclass
class State:
    """A database against its changelog: the migrations in run order, the history, what is pending, and the
    applied changeSets that the changelog no longer has."""

    database: str
    migrations: list[Migration]
    rows: list[HistoryRow]
    pending: list[ChangeSet]
    unknown: list[HistoryRow]

    @property
    def current(self) -> Migration | None:
        """The migration of the most recently executed changeSet."""
        if not self.rows:
            return None
        newest = self.rows[-1].filename
        return next((m for m in self.migrations if m.path == newest), None)


def state(directory: str | Path | None = None, *, bind: str | None = None) -> State:
    """The migrations of the changelog of database ``bind`` (None: the default one) and what of them is applied;
    a SQLite file that does not exist yet is an empty database (and is not created)."""
    from yamlbase import commands
    from yamlbase.changelog import Selection, parse_changelog
    from yamlbase.runtime import plan

    target = project(directory, bind)
    changelog = target.require_changelog()
    engine = target.engine
    model = parse_changelog(changelog, selection=Selection(dbms=engine.dialect.name))
    rows = commands.history(engine)
    pending = commands.status(engine, changelog)
    rows = plan.renamed(rows, pending.moved)  # as update will name them
    applied = {row.key: row for row in rows}
    due = {cs.key for cs in pending}
    migrations: dict[str, Migration] = {}
    for cs in model.changesets:
        migration = migrations.setdefault(cs.path, Migration(cs.path, Path(cs.location.path)))
        migration.changesets.append(cs)
        if cs.key in due:
            migration.pending.append(cs)
        if cs.key in applied:
            migration.applied.append(applied[cs.key])
    known = model.by_key()
    unknown = [row for row in rows if row.key not in known]
    return State(commands.safe_url(engine), list(migrations.values()), rows, list(pending), unknown)


def _find(migrations: list[Migration], revision: str) -> Migration:
    """The migration ``revision`` names: its path, file name, stem, or a unique start of the stem (the
    timestamp will do)."""
    exact = [m for m in migrations if revision in (m.path, Path(m.path).name, m.name)]
    found = exact or [m for m in migrations if m.name.startswith(revision)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise UsageError(f"no migration {revision!r} in the changelog (`flask db history` lists them)")
    names = ", ".join(m.name for m in found)
    raise UsageError(f"{revision!r} names more than one migration ({names}); give more of the name")


def _groups(rows: list[HistoryRow]) -> list[list[HistoryRow]]:
    """History rows in runs of the same file, oldest first: each run is one migration as it was applied."""
    groups: list[list[HistoryRow]] = []
    for row in rows:
        if groups and groups[-1][-1].filename == row.filename:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _relative(revision: str, sign: str) -> int | None:
    """``+N`` / ``-N`` (Alembic's relative revisions) as N, or None for another revision."""
    match = re.fullmatch(rf"\{sign}(\d+)", revision.strip())
    return int(match.group(1)) if match else None


# --- the verbs as functions --------------------------------------------------------------------------


def init(directory: str | Path | None = None, *, bind: str | None = None) -> list[Path]:
    """Create the changelog of database ``bind`` (None: the default one): ``changelog.yaml`` including every
    file of ``changes/`` in name order, the empty ``changes/`` folder, and yamlbase's changelog JSON Schema for
    editors (``changelog.schema.json`` in the top folder). Refused when that changelog exists. Returns the files
    written."""
    from yamlbase import commands

    target = project(directory, bind)
    if target.changelog.exists():
        raise UsageError(f"{target.changelog} already exists: this changelog is initialised")
    schema = target.directory / SCHEMA_NAME
    relative_schema = SCHEMA_NAME if bind is None else f"../{SCHEMA_NAME}"
    try:
        target.changes.mkdir(parents=True, exist_ok=True)
        commands.schema(schema)
        target.changelog.write_text(
            f"# yaml-language-server: $schema={relative_schema}\n"
            f"# The changelog of {target.name} (flask db): every file in {CHANGES}/ is one migration, run in name\n"
            "# order; `flask db migrate -m MESSAGE` and `flask db revision -m MESSAGE` add them.\n"
            "databaseChangeLog:\n"
            "  - includeAll:\n"
            f"      path: {CHANGES}/\n"
            "      relativeToChangelogFile: true\n"
            "      errorIfMissingOrEmpty: false\n",
            encoding="utf-8",
        )
    except OSError as exc:
        raise YamlbaseError(f"cannot write the changelog in {target.folder}: {exc.strerror or exc}") from None
    return [target.changelog, target.changes, schema]


def revision(message: str | None = None, directory: str | Path | None = None, *, bind: str | None = None) -> Path:
    """Write a new migration holding one empty changeSet (its ``comment`` the message), to fill in by hand;
    returns its path. It sorts after every migration there, so it runs last."""
    target = project(directory, bind)
    target.require_changelog()
    path, stamp = _new_migration(target, message)
    depth = "../" * (len(path.relative_to(target.directory).parts) - 1)
    comment = f"      comment: {_yaml_text(message)}\n" if message else ""
    text = (
        f"# yaml-language-server: $schema={depth}{SCHEMA_NAME}\n"
        "# Write the changes below (createTable, addColumn, sql, ...); `flask db upgrade` runs them, and\n"
        "# `flask db downgrade` undoes them (give a rollback: block for changes that have no automatic inverse).\n"
        "databaseChangeLog:\n"
        "  - changeSet:\n"
        f"      id: {stamp}-1\n"
        f"      author: {_yaml_text(_author())}\n"
        f"{comment}"
        "      changes: []\n"
    )
    _write(path, text)
    return path


def migrate(
    message: str | None = None,
    directory: str | Path | None = None,
    *,
    bind: str | None = None,
    dev_url: str | None = None,
) -> DiffChangelogResult:
    """Write a new migration with the changeSets that take the schema the changelog builds to the one the models
    of ``bind`` declare (``diff-changelog``: the changelog replayed on a scratch database, in-memory SQLite unless
    ``dev_url``; the application's database is not read). Returns the :class:`DiffChangelogResult`; its ``path``
    is None when the models and the changelog agree (nothing is written then)."""
    from yamlbase import commands

    target = project(directory, bind)
    changelog = target.require_changelog()
    path, _ = _new_migration(target, message)
    return commands.diff_changelog(
        changelog, models=target.metadata, message=message, output_file=path, dev_url=dev_url, renames=None
    )


def check(
    directory: str | Path | None = None, *, bind: str | None = None, dev_url: str | None = None
) -> list[Difference]:
    """The differences between the schema the changelog builds and the one the models of ``bind`` declare (empty
    when ``migrate`` would write nothing); no database is needed."""
    from yamlbase import commands

    target = project(directory, bind)
    return commands.check(target.require_changelog(), models=target.metadata, dev_url=dev_url)


def upgrade(
    revision: str = "head",
    directory: str | Path | None = None,
    *,
    bind: str | None = None,
    tag: str | None = None,
    count: int | None = None,
    report: Callable[[str], None] | None = None,
) -> list[ChangeSet]:
    """Apply pending migrations: all (``head``), up to and including migration ``revision`` (its name, or a unique
    start of it), the next ``count`` (or ``+N``), or up to the changeSet that tags ``tag``. Returns the changeSets
    run."""
    from yamlbase import commands

    target, selection = _upgrade_selection(revision, directory, bind, tag, count)
    if selection is None:
        return []
    return commands.update(target.engine, target.changelog, report=report or _quiet, **selection)


def update_sql(
    revision: str = "head",
    directory: str | Path | None = None,
    *,
    bind: str | None = None,
    tag: str | None = None,
    count: int | None = None,
) -> str:
    """The SQL ``upgrade`` with the same arguments would run (Flask-Migrate's ``upgrade --sql``), bookkeeping
    included; nothing is changed."""
    from yamlbase import commands

    target, selection = _upgrade_selection(revision, directory, bind, tag, count)
    if selection is None:
        return ""
    return commands.update_sql(target.engine, target.changelog, **selection)


def downgrade(
    revision: str = "-1",
    directory: str | Path | None = None,
    *,
    bind: str | None = None,
    tag: str | None = None,
    count: int | None = None,
    report: Callable[[str], None] | None = None,
) -> list[HistoryRow]:
    """Undo applied migrations, newest first, each as a whole (every changeSet of its file): the last one
    (``-1``, the default), the last ``count`` (or ``-N``), those applied after migration ``revision``, all
    (``base``), or those applied after the changeSet tagged ``tag``. Returns the history rows undone."""
    from yamlbase import commands

    target, selection = _downgrade_selection(revision, directory, bind, tag, count)
    return commands.rollback(target.engine, target.changelog, report=report or _quiet, **selection)


def rollback_sql(
    revision: str = "-1",
    directory: str | Path | None = None,
    *,
    bind: str | None = None,
    tag: str | None = None,
    count: int | None = None,
) -> str:
    """The SQL ``downgrade`` with the same arguments would run (Flask-Migrate's ``downgrade --sql``); nothing is
    changed."""
    from yamlbase import commands

    target, selection = _downgrade_selection(revision, directory, bind, tag, count)
    return commands.rollback_sql(target.engine, target.changelog, **selection)


def stamp(
    revision: str = "head",
    directory: str | Path | None = None,
    *,
    bind: str | None = None,
    tag: str | None = None,
    sql: bool = False,
    report: Callable[[str], None] | None = None,
) -> Any:
    """Record the pending changeSets (all, or up to the one tagging ``tag``) as run without running them
    (``changelog-sync``): how a database that ``db.create_all()`` or Flask-Migrate built is adopted. Returns the
    changeSets recorded; with ``sql``, the SQL that would record them, changing nothing."""
    from yamlbase import commands

    if revision != "head":
        raise UsageError(
            f"flask db stamp records every pending changeSet (head) or those up to --tag TAG, not up to a named "
            f"migration ({revision!r})"
        )
    target = project(directory, bind)
    changelog = target.require_changelog()
    if sql:
        return commands.changelog_sync_sql(target.engine, changelog, to_tag=tag)
    return commands.changelog_sync(target.engine, changelog, to_tag=tag, report=report or _quiet)


def show(revision: str = "head", directory: str | Path | None = None, *, bind: str | None = None) -> Migration:
    """The migration ``revision`` names (``head``: the last one in the changelog), with its state."""
    found = state(directory, bind=bind)
    if not found.migrations:
        raise UsageError("the changelog has no migrations yet (`flask db migrate -m MESSAGE` writes one)")
    return found.migrations[-1] if revision == "head" else _find(found.migrations, revision)


# --- helpers of the verbs ----------------------------------------------------------------------------


def _quiet(_: str) -> None:
    pass


def _upgrade_selection(
    revision: str, directory: str | Path | None, bind: str | None, tag: str | None, count: int | None
) -> tuple[Project, dict[str, Any] | None]:
    """``update``'s ``count`` / ``to_tag`` for an upgrade's arguments (None: nothing to do)."""
    from yamlbase import commands

    _one_of(revision, "head", tag, count)
    target = project(directory, bind)
    changelog = target.require_changelog()
    if tag is not None:
        return target, {"to_tag": tag}
    steps = count if count is not None else _relative(revision, "+")
    if steps is None and revision == "head":
        return target, {}
    pending = commands.status(target.engine, changelog)
    if steps is not None:
        files: list[str] = []
        for cs in pending:
            if cs.path not in files:
                files.append(cs.path)
        wanted = set(files[:steps])
        return target, {"count": sum(1 for cs in pending if cs.path in wanted)}
    migration = _find(state(directory, bind=bind).migrations, revision)
    last = [i for i, cs in enumerate(pending) if cs.path == migration.path]
    return target, ({"count": last[-1] + 1} if last else None)


def _downgrade_selection(
    revision: str, directory: str | Path | None, bind: str | None, tag: str | None, count: int | None
) -> tuple[Project, dict[str, Any]]:
    """``rollback``'s ``count`` (of history rows) / ``tag`` for a downgrade's arguments."""
    from yamlbase import commands

    _one_of(revision, "-1", tag, count)
    target = project(directory, bind)
    target.require_changelog()
    if tag is not None:
        return target, {"tag": tag}
    rows = commands.history(target.engine)
    steps = count if count is not None else _relative(revision, "-")
    if revision == "base":
        return target, {"count": len(rows)}
    if steps is not None:
        groups = _groups(rows)
        return target, {"count": sum(len(group) for group in groups[len(groups) - steps :]) if steps else 0}
    migration = _find(state(directory, bind=bind).migrations, revision)
    positions = [i for i, row in enumerate(rows) if row.filename == migration.path]
    if not positions:
        raise UsageError(f"migration {migration.name} has not been applied, so there is nothing after it to undo")
    return target, {"count": len(rows) - 1 - positions[-1]}


def _one_of(revision: str, default: str, tag: str | None, count: int | None) -> None:
    """At most one way of choosing how far to go; a count is not negative."""
    given = [
        name
        for name, chosen in (
            ("a revision", revision != default),
            ("--tag", tag is not None),
            ("--count", count is not None),
        )
        if chosen
    ]
    if len(given) > 1:
        raise UsageError(f"give one of {' or '.join(given)}, not several")
    if count is not None and count < 0:
        raise UsageError("--count must not be negative")


def _new_migration(target: Project, message: str | None) -> tuple[Path, str]:
    """The path of a new migration file, ``<yyyymmddHHMMSS>_<slug>.yaml``, and its timestamp: now (UTC), or one
    second after the newest migration there, so that it sorts (and runs) after every one of them."""
    moment = dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)
    existing = sorted(p.name for p in target.changes.glob("*") if re.match(r"\d{14}", p.name))
    if existing:
        newest = dt.datetime.strptime(existing[-1][:14], "%Y%m%d%H%M%S")
        moment = max(moment, newest + dt.timedelta(seconds=1))
    stamp_text = moment.strftime("%Y%m%d%H%M%S")
    slug = _slug(message)
    return target.changes / (f"{stamp_text}_{slug}.yaml" if slug else f"{stamp_text}.yaml"), stamp_text


def _slug(message: str | None) -> str:
    """The message as a file name part, as Alembic makes it: words joined by ``_``, at most 40 characters."""
    words = re.findall(r"\w+", (message or "").lower(), flags=re.ASCII)
    slug = "_".join(words)
    if len(slug) > 40:
        slug = slug[:40].rsplit("_", 1)[0] if "_" in slug[:40] else slug[:40]
    return slug


def _yaml_text(text: str) -> str:
    """``text`` as one YAML scalar (a JSON string is one)."""
    import json

    return json.dumps(text, ensure_ascii=False)


def _author() -> str:
    """The author of a hand-written changeSet: the same as of generated ones (git's ``user.name``, else the login
    name)."""
    from yamlbase.commands import default_author

    return default_author()


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise YamlbaseError(f"{path} already exists") from None
    except OSError as exc:
        raise YamlbaseError(f"cannot write {path}: {exc.strerror or exc}") from None


# --- the command line: flask db --------------------------------------------------------------------------


@dataclass
class _Given:
    """``-d/--directory``, ``--bind`` and ``--debug`` as given to the group (``flask db --bind x upgrade``)."""

    directory: str | None = None
    bind: str | None = None
    debug: bool = False


def _verb(fn: Callable[..., None]) -> Callable[..., None]:
    """A ``flask db`` command: ``-d/--directory``, ``--bind`` and ``--debug`` (here or on the group), and errors
    said as the ``yamlbase`` command line says them (message, exit code, no traceback unless ``--debug``)."""
    from yamlbase.cli import Options, guarded

    @click.option("-d", "--directory", default=None, help=f'changelog folder (default "{DEFAULT_DIRECTORY}")')
    @click.option(
        "--bind", default=None, metavar="NAME", help="the Flask-SQLAlchemy bind (default: the default database)"
    )
    @click.option("--debug", is_flag=True, default=False, help="show tracebacks")
    @click.pass_context
    @functools.wraps(fn)
    def command(ctx: click.Context, directory: str | None, bind: str | None, debug: bool, **kwargs: Any) -> None:
        given: _Given = ctx.meta.setdefault(_Given.__name__, _Given())
        options = Options()
        options.merge(debug=debug or given.debug)
        guarded(options, lambda: fn(directory or given.directory, bind or given.bind, **kwargs))

    return command


@click.group("db", cls=AppGroup)
@click.option("-d", "--directory", default=None, help=f'changelog folder (default "{DEFAULT_DIRECTORY}")')
@click.option("--bind", default=None, metavar="NAME", help="the Flask-SQLAlchemy bind (default: the default database)")
@click.option("--debug", is_flag=True, default=False, help="show tracebacks")
@click.pass_context
def db_group(ctx: click.Context, directory: str | None, bind: str | None, debug: bool) -> None:
    """Database migrations on YAML changelogs (yamlbase), with Flask-Migrate's commands."""
    from yamlbase.cli import _log_warnings_to_stderr

    ctx.meta[_Given.__name__] = _Given(directory, bind, debug)
    ctx.call_on_close(_log_warnings_to_stderr())


def _say(verb: str) -> Callable[[str], None]:
    from yamlbase.cli import _shown

    return lambda identifier: click.echo(f"{verb} {_shown(identifier)}")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@db_group.command("init")
@click.option("--multidb", is_flag=True, help="also a changelog for every bind in SQLALCHEMY_BINDS")
@_verb
def init_command(directory: str | None, bind: str | None, multidb: bool) -> None:
    """Create the changelog: changelog/changelog.yaml including every migration in changelog/changes/."""
    if multidb and bind:
        raise UsageError("give --multidb or --bind, not both")
    binds: list[str | None] = [bind]
    if multidb:
        binds += sorted(k for k in project(directory).db.engines if k is not None)
    for name in binds:
        written = init(directory, bind=name)
        click.echo(f"created {written[0]} (migrations go in {written[1]}/)")


@db_group.command("revision")
@click.option("-m", "--message", default=None, help="what the migration does (its comment and file name)")
@click.option("--autogenerate", is_flag=True, help="fill it from the models, as migrate does")
@_verb
def revision_command(directory: str | None, bind: str | None, message: str | None, autogenerate: bool) -> None:
    """Create a new migration with an empty changeSet, to write by hand."""
    if autogenerate:
        _print_migrate(migrate(message, directory, bind=bind))
        return
    path = revision(message, directory, bind=bind)
    click.echo(f"wrote {path}: an empty changeSet; write its changes, then run `flask db upgrade`")


def _print_migrate(result: DiffChangelogResult) -> None:
    if result.path is None:
        click.echo(f"no changes: the changelog builds the schema of the models ({_plural(result.tables, 'table')})")
        if result.tables == 0:
            click.echo("warning: the models hold no tables; are the model modules imported by the app?", err=True)
        return
    click.echo(
        f"wrote {result.path}: {_plural(len(result.changesets), 'changeSet')}; review it, then `flask db upgrade`"
    )
    for name in result.destructive:
        click.echo(f"warning: destructive: {name}", err=True)


@db_group.command("migrate")
@click.option("-m", "--message", default=None, help="what the migration does (its comment and file name)")
@click.option(
    "--dev-url", default=None, help="replay the changelog on this scratch database (default: in-memory SQLite)"
)
@_verb
def migrate_command(directory: str | None, bind: str | None, message: str | None, dev_url: str | None) -> None:
    """Write a new migration with the changes from the changelog's schema to the models' schema."""
    _print_migrate(migrate(message, directory, bind=bind, dev_url=dev_url))


@db_group.command("check")
@click.option(
    "--dev-url", default=None, help="replay the changelog on this scratch database (default: in-memory SQLite)"
)
@_verb
def check_command(directory: str | None, bind: str | None, dev_url: str | None) -> None:
    """Exit 1 when the models differ from the schema the changelog builds (migrate would write something)."""
    differences = check(directory, bind=bind, dev_url=dev_url)
    if not differences:
        click.echo("no changes: the changelog builds the schema of the models")
        return
    click.echo(f"{_plural(len(differences), 'difference')} between the changelog and the models:")
    for difference in differences:
        note = f"  ({difference.note})" if difference.note else ""
        click.echo(f"  {difference.describe()}{note}")
    raise SystemExit(1)


def _selection_options(default: str, unit: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def decorate(fn: Callable[..., None]) -> Callable[..., None]:
        fn = click.argument("revision", default=default)(fn)
        fn = click.option("--tag", default=None, help=f"{unit} the changeSet that tags TAG (tagDatabase)")(fn)
        fn = click.option("--count", type=click.IntRange(min=0), default=None, help=f"{unit} COUNT migrations")(fn)
        return fn

    return decorate


@db_group.command("upgrade")
@_selection_options("head", "up to")
@click.option("--sql", is_flag=True, help="print the SQL instead of running it")
@_verb
def upgrade_command(
    directory: str | None, bind: str | None, revision: str, tag: str | None, count: int | None, sql: bool
) -> None:
    """Apply pending migrations: all (head), up to REVISION, the next --count (or +N), or up to --tag."""
    if sql:
        click.echo(update_sql(revision, directory, bind=bind, tag=tag, count=count), nl=False)
        return
    done = upgrade(revision, directory, bind=bind, tag=tag, count=count, report=_say("ran"))
    database = _database(directory, bind)
    click.echo(f"{_plural(len(done), 'changeSet')} applied to {database}" if done else f"{database} is up to date")


@db_group.command("update-sql")
@_selection_options("head", "up to")
@_verb
def update_sql_command(
    directory: str | None, bind: str | None, revision: str, tag: str | None, count: int | None
) -> None:
    """Print the SQL that upgrade would run, bookkeeping included, changing nothing."""
    click.echo(update_sql(revision, directory, bind=bind, tag=tag, count=count), nl=False)


@db_group.command("downgrade")
@_selection_options("-1", "undo those after")
@click.option("--sql", is_flag=True, help="print the SQL instead of running it")
@_verb
def downgrade_command(
    directory: str | None, bind: str | None, revision: str, tag: str | None, count: int | None, sql: bool
) -> None:
    """Undo the last migration (-1), the last --count (or -N), those after REVISION, all (base), or after --tag."""
    if sql:
        click.echo(rollback_sql(revision, directory, bind=bind, tag=tag, count=count), nl=False)
        return
    undone = downgrade(revision, directory, bind=bind, tag=tag, count=count, report=_say("rolled back"))
    click.echo(f"{_plural(len(undone), 'changeSet')} rolled back on {_database(directory, bind)}")


@db_group.command("rollback-sql")
@_selection_options("-1", "undo those after")
@_verb
def rollback_sql_command(
    directory: str | None, bind: str | None, revision: str, tag: str | None, count: int | None
) -> None:
    """Print the SQL that downgrade would run, changing nothing."""
    click.echo(rollback_sql(revision, directory, bind=bind, tag=tag, count=count), nl=False)


@db_group.command("stamp")
@click.argument("revision", default="head")
@click.option("--tag", default=None, help="only up to the changeSet that tags TAG")
@click.option("--sql", is_flag=True, help="print the SQL instead of running it")
@_verb
def stamp_command(directory: str | None, bind: str | None, revision: str, tag: str | None, sql: bool) -> None:
    """Record pending changeSets as run without running them (changelog-sync), to adopt an existing database."""
    if sql:
        click.echo(stamp(revision, directory, bind=bind, tag=tag, sql=True), nl=False)
        return
    done = stamp(revision, directory, bind=bind, tag=tag, report=_say("recorded"))
    click.echo(f"{_plural(len(done), 'changeSet')} recorded as run on {_database(directory, bind)}, none run")


@db_group.command("current")
@click.option("-v", "--verbose", is_flag=True, help="also list the applied changeSets")
@_verb
def current_command(directory: str | None, bind: str | None, verbose: bool) -> None:
    """Show the newest migration applied to the database, and what is pending."""
    from yamlbase.cli import _shown

    found = state(directory, bind=bind)
    current = found.current
    if current is not None:
        click.echo(
            f"{found.database}: at {current.name} ({current.state}), {_plural(len(found.rows), 'changeSet')} applied"
        )
    elif found.rows:
        click.echo(
            f"{found.database}: {_plural(len(found.rows), 'changeSet')} applied, the newest not in the changelog"
        )
    else:
        click.echo(f"{found.database}: nothing applied yet")
    if verbose:
        for row in found.rows:
            click.echo(f"  applied  {row.date_executed}  {_shown(row.identifier)}")
    if found.pending:
        click.echo(f"{_plural(len(found.pending), 'changeSet')} pending:")
        for cs in found.pending:
            click.echo(f"  pending  {_shown(cs.identifier)}")
    else:
        click.echo("nothing pending")


@db_group.command("history")
@click.option("-v", "--verbose", is_flag=True, help="also list each migration's changeSets")
@_verb
def history_command(directory: str | None, bind: str | None, verbose: bool) -> None:
    """List the migrations in the order they run, each applied or pending; the newest applied marked (current)."""
    from yamlbase.cli import _shown

    found = state(directory, bind=bind)
    current = found.current
    click.echo(f"migrations of {found.database}:" if found.migrations else f"no migrations yet ({found.database})")
    for migration in found.migrations:
        mark = " (current)" if migration is current else ""
        message = f"  {_shown(migration.message)}" if migration.message else ""
        click.echo(f"  {migration.state:<9}  {_shown(migration.name)}{mark}{message}")
        if verbose:
            for line in _changeset_lines(migration):
                click.echo(f"      {line}")
    for row in found.unknown:
        click.echo(f"  applied, no longer in the changelog: {_shown(row.identifier)}")


def _changeset_lines(migration: Migration) -> Iterator[str]:
    from yamlbase.cli import _shown

    applied = {row.key: row for row in migration.applied}
    for cs in migration.changesets:
        row = applied.get(cs.key)
        when = f"applied {row.date_executed}" if row is not None else "pending"
        yield f"{when}  {_shown(cs.id)} ({_shown(cs.author)})"


@db_group.command("show")
@click.argument("revision", default="head")
@_verb
def show_command(directory: str | None, bind: str | None, revision: str) -> None:
    """Show a migration (head: the last one): its state, its changeSets and its text."""
    from yamlbase.cli import _shown

    migration = show(revision, directory, bind=bind)
    click.echo(f"migration {_shown(migration.name)}: {migration.state}")
    click.echo(f"path: {migration.file}")
    if migration.message:
        click.echo(f"message: {_shown(migration.message)}")
    for line in _changeset_lines(migration):
        click.echo(f"  {line}")
    text = migration.file.read_text(encoding="utf-8")
    click.echo("")
    for line in text.splitlines():
        click.echo(_shown(line))


def _database(directory: str | None, bind: str | None) -> str:
    from yamlbase import commands

    return commands.safe_url(project(directory, bind).engine)
