"""The ``yamlbase`` command line: a thin click layer over :mod:`yamlbase.commands`.

Only click is imported at start-up; everything else loads when a command runs, so ``--help`` is instant.
"""

from __future__ import annotations

import functools
import json
import signal
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from yamlbase import __version__

F = TypeVar("F", bound=Callable[..., Any])

DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb", "mssql", "oracle")


class Options:
    """Options that may be given before or after the command name; the later one wins."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def merge(self, **given: Any) -> None:
        for key, value in given.items():
            if key == "properties" and value:
                self.values.setdefault(key, []).extend(value)
            elif value is not None and value is not False and value != ():
                self.values[key] = value

    def settings(self) -> Any:
        from yamlbase.config import load_settings

        return load_settings(
            url=self.values.get("url"),
            changelog_file=self.values.get("changelog_file"),
            lock_timeout=self.values.get("lock_timeout"),
            search_path=self.values.get("search_path"),
        )

    def selection(self) -> dict[str, Any]:
        """The run's ``contexts``, ``label_filter``, ``properties`` and ``search_path``, as keyword arguments of the
        commands."""
        properties: dict[str, str] = {}
        for item in self.values.get("properties", []):
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                from yamlbase.errors import UsageError

                raise UsageError(f"-D {item!r}: write NAME=VALUE")
            properties[name.strip()] = value
        return {
            "contexts": self.values.get("contexts"),
            "label_filter": self.values.get("label_filter"),
            "properties": properties,
            "search_path": self.settings().search_path,
        }

    @property
    def debug(self) -> bool:
        return bool(self.values.get("debug"))

    @property
    def json(self) -> bool:
        return self.values.get("output_format") == "json"


def shared_options(fn: F) -> F:
    """``--url``, ``--changelog-file``, ``--lock-timeout``, ``--format`` and ``--debug``, anywhere on the line."""
    decorators = [
        click.option(
            "--url", help="SQLAlchemy database URL (default: YAMLBASE_URL, DATABASE_URL, sqlite:///yamlbase.db)"
        ),
        click.option("--changelog-file", help="root changelog (default: changelog/changelog.yaml)"),
        click.option(
            "--search-path",
            help="comma-separated folders in which files are found and named, as Liquibase (default: working folder)",
        ),
        click.option("--lock-timeout", type=float, help="seconds to wait for DATABASECHANGELOGLOCK (default 300)"),
        click.option("--format", "output_format", type=click.Choice(["text", "json"]), help="output format"),
        click.option("--contexts", help='run only changeSets whose context admits these, e.g. "dev,test"'),
        click.option(
            "--label-filter",
            "--labels",
            "label_filter",
            help='run only changeSets whose labels match, e.g. "v1 and !beta"',
        ),
        click.option(
            "-D", "--property", "properties", multiple=True, metavar="NAME=VALUE", help="a ${NAME} value (repeatable)"
        ),
        click.option("--debug", is_flag=True, default=None, help="show tracebacks"),
    ]
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def _run(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command: merge shared options, turn yamlbase errors into a message and an exit code."""

    @shared_options
    @click.pass_context
    @functools.wraps(fn)
    def wrapper(
        ctx: click.Context,
        url: Any,
        changelog_file: Any,
        search_path: Any,
        lock_timeout: Any,
        output_format: Any,
        debug: Any,
        contexts: Any,
        label_filter: Any,
        properties: Any,
        **kwargs: Any,
    ) -> None:
        options: Options = ctx.ensure_object(Options)
        options.merge(
            url=url,
            changelog_file=changelog_file,
            search_path=search_path,
            lock_timeout=lock_timeout,
            output_format=output_format,
            debug=debug,
            contexts=contexts,
            label_filter=label_filter,
            properties=properties,
        )
        guarded(options, lambda: fn(options, **kwargs))

    return wrapper


def guarded(options: Options, call: Callable[[], None]) -> None:
    """Run ``call`` as a command: SIGINT/SIGTERM stop it between changeSets, and a failure becomes its message on
    stderr (or JSON with ``--format json``) and its exit code; a traceback only with ``--debug``."""
    previous = {signum: signal.signal(signum, _request_stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            call()
        except MemoryError:
            from yamlbase.errors import OutOfMemoryError

            if options.debug:
                raise
            raise OutOfMemoryError() from None
    except click.exceptions.Exit:
        raise
    except KeyboardInterrupt as interrupt:  # SIGINT, or SIGTERM through _terminate
        if options.debug:
            raise
        signum = interrupt.signum if isinstance(interrupt, Terminated) else signal.SIGINT
        click.echo(
            f"error: interrupted by {signal.Signals(signum).name} in the middle of a changeSet: it was rolled "
            "back where the database allows and not recorded (where its statements had committed, the next update "
            "finishes it)",
            err=True,
        )
        sys.exit(128 + signum)
    except Exception as exc:
        from yamlbase.errors import YamlbaseError

        if options.debug:
            raise
        known = isinstance(exc, YamlbaseError)
        if options.json:
            click.echo(json.dumps(_error_data(exc), indent=2, default=str))
        elif known:
            for warning in getattr(exc, "warnings", ()):
                click.echo(f"warning: {warning}", err=True)
            click.echo(_error_text(exc), err=True)
        else:
            click.echo(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)", err=True)
        sys.exit(exc.exit_code if isinstance(exc, YamlbaseError) else 1)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class Terminated(KeyboardInterrupt):
    """A second SIGINT/SIGTERM, raised where the process is, so that the transaction and the lock unwind."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _request_stop(signum: int, _frame: object) -> None:
    """First SIGINT/SIGTERM: stop after the current changeSet. A second one: stop now."""
    from yamlbase.commands import StopRequest

    if StopRequest.signum is not None:
        raise Terminated(signum)
    StopRequest.signum = signum
    click.echo(
        f"warning: {signal.Signals(signum).name}: stopping after the current changeSet (again to abort it now)",
        err=True,
    )


def _error_text(exc: Exception) -> str:
    from yamlbase.errors import ChangeLogError

    if isinstance(exc, ChangeLogError):
        count = len(exc.problems)
        return f"{exc}\n{count} problem{'s' if count != 1 else ''} in the changelog"
    return f"error: {exc}"


def _problem_data(problem: Any) -> dict[str, Any]:
    """A located problem or warning (:class:`yamlbase.errors.Problem`) in ``--format json``."""
    where = problem.location
    return {"path": where.path, "line": where.line, "column": where.column, "message": problem.message}


def _edited_data(edited: Any) -> dict[str, Any]:
    """An applied changeSet edited since it ran (:class:`~yamlbase.runtime.plan.EditedChangeSet`), as JSON."""
    where = edited.location
    return {
        "changeset": edited.identifier,
        "path": where.path,
        "line": where.line,
        "column": where.column,
        "old_checksum": edited.old_checksum,
        "new_checksum": edited.new_checksum,
        "outside_properties": list(edited.outside_properties),
    }


def _error_data(exc: Exception) -> dict[str, Any]:
    from yamlbase.errors import ChangeLogError, ChecksumMismatchError, MigrationError

    error: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    data: dict[str, Any] = {"error": error}
    if isinstance(exc, ChangeLogError):
        data["valid"] = False
        data["problems"] = [_problem_data(p) for p in exc.problems]
    if isinstance(exc, ChecksumMismatchError):
        data["valid"] = False  # against that database's history
        data["changed"] = [_edited_data(e) for e in exc.edited]
        data["warnings"] = [_problem_data(w) for w in exc.warnings]
    if isinstance(exc, MigrationError):
        error.update(changeset=exc.changeset, statement=exc.statement, cause=exc.cause)
    return data


def _shown(text: object) -> str:
    """Text from a changelog, with characters that would act on a terminal escaped."""
    from yamlbase.changelog.loader import shown

    return shown(text)


def _emit(options: Options, data: Any, text: str) -> None:
    if options.json:
        click.echo(json.dumps(data, indent=2, default=str))
    elif text:
        click.echo(text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@shared_options
@click.version_option(version=__version__)
@click.pass_context
def main(ctx: click.Context, **given: Any) -> None:
    """yamlbase: apply Liquibase-style YAML changelogs to a database, with rollbacks and a locked history."""
    ctx.ensure_object(Options).merge(**given)
    ctx.call_on_close(_log_warnings_to_stderr())


def _log_warnings_to_stderr() -> Callable[[], None]:
    """yamlbase's warnings (a lock being waited for or taken over) go to stderr as ``warning: …`` lines; its INFO
    progress records are not made (the command prints its own progress). Returns what puts the ``yamlbase``
    logger back as it was, for when the command is done (the CLI may run inside a process that logs)."""
    import logging

    class ToStderr(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            click.echo(f"warning: {record.getMessage()}", err=True)  # the current stderr, also under CliRunner

    logger = logging.getLogger("yamlbase")
    handler = ToStderr(logging.WARNING)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate

    return restore


def _progress(options: Options, verb: str) -> Callable[[str], None]:
    def report(identifier: str) -> None:
        if not options.json:
            click.echo(f"{verb} {_shown(identifier)}")

    return report


@main.command()
@click.option("--dialect", type=click.Choice(DIALECTS), help="also refuse what this database cannot express")
@_run
def validate(options: Options, dialect: str | None) -> None:
    """Check the changelog and every file it includes; list every problem as path:line:col."""
    from yamlbase import commands

    settings = options.settings()
    url = settings.url
    model = commands.validate(
        settings.changelog_file,
        dialect=dialect,
        properties=options.selection()["properties"],
        url=url,
        search_path=settings.search_path,
    )
    # The history is checked where there is one: a configured database, or the default SQLite file if it exists.
    database = commands.safe_url(url) if commands.database_exists(url) else None
    count = len(model.changesets)
    if not options.json:
        for warning in model.warnings:
            click.echo(f"warning: {warning}", err=True)
    text = f"{settings.changelog_file}: valid, {count} changeSet{'s' if count != 1 else ''}"
    _emit(
        options,
        {
            "valid": True,
            "changesets": count,
            "warnings": [_problem_data(w) for w in model.warnings],
            "database": database,
        },
        f"{text}; those applied to {database} are unchanged" if database else text,
    )


@main.command()
@click.option("--output-file", help="write the schema to this file instead of printing it")
@_run
def schema(options: Options, output_file: str | None) -> None:
    """Print the changelog JSON Schema of this yamlbase version, for editor completion and checks."""
    from yamlbase import __version__, commands

    text = commands.schema(output_file)
    if output_file is None:
        click.echo(text, nl=False)
    else:
        _emit(
            options,
            {"written": output_file, "version": __version__},
            f"wrote {output_file}: the changelog schema of yamlbase {__version__}",
        )


def _do_update(options: Options, *, count: int | None = None, to_tag: str | None = None) -> None:
    from yamlbase import commands

    settings = options.settings()
    done = commands.update(
        settings.url,
        settings.changelog_file,
        count=count,
        to_tag=to_tag,
        lock_timeout=settings.lock_timeout,
        report=_progress(options, "ran"),
        **options.selection(),
    )
    from yamlbase.commands import safe_url

    _emit(
        options,
        {"applied": [cs.identifier for cs in done], "database": safe_url(settings.url)},
        f"{len(done)} changeSet{'s' if len(done) != 1 else ''} applied to {safe_url(settings.url)}"
        if done
        else f"{safe_url(settings.url)} is up to date",
    )


@main.command()
@_run
def update(options: Options) -> None:
    """Apply every pending changeSet."""
    _do_update(options)


@main.command("update-count")
@click.argument("count", type=click.IntRange(min=0))
@_run
def update_count(options: Options, count: int) -> None:
    """Apply the next COUNT pending changeSets."""
    _do_update(options, count=count)


@main.command("update-to-tag")
@click.argument("tag")
@_run
def update_to_tag(options: Options, tag: str) -> None:
    """Apply pending changeSets up to and including the one with tagDatabase TAG."""
    _do_update(options, to_tag=tag)


@main.command("update-sql")
@click.option(
    "--dialect",
    type=click.Choice(DIALECTS),
    help="render for an empty database of this kind, not the configured one (with --url: what is pending there)",
)
@click.option("--count", type=click.IntRange(min=0), help="only the next COUNT changeSets")
@_run
def update_sql(options: Options, dialect: str | None, count: int | None) -> None:
    """Print the SQL that update would run, bookkeeping included, without changing anything."""
    from yamlbase import commands

    settings = options.settings()
    url = settings.preview_url(dialect)
    sql = commands.update_sql(url, settings.changelog_file, dialect=dialect, count=count, **options.selection())
    click.echo(sql, nl=False)


def _do_rollback(options: Options, *, tag: str | None, count: int | None) -> None:
    from yamlbase import commands

    settings = options.settings()
    undone = commands.rollback(
        settings.url,
        settings.changelog_file,
        tag=tag,
        count=count,
        lock_timeout=settings.lock_timeout,
        report=_progress(options, "rolled back"),
        **options.selection(),
    )
    database = commands.safe_url(settings.url)
    _emit(
        options,
        {"rolled_back": [row.identifier for row in undone], "database": database},
        f"{len(undone)} changeSet{'s' if len(undone) != 1 else ''} rolled back on {database}",
    )


@main.command()
@click.option("--tag", required=True, help="undo everything applied after this tag")
@_run
def rollback(options: Options, tag: str) -> None:
    """Undo every changeSet applied after TAG (the tagged changeSet stays)."""
    _do_rollback(options, tag=tag, count=None)


@main.command("rollback-count")
@click.argument("count", type=click.IntRange(min=0))
@_run
def rollback_count(options: Options, count: int) -> None:
    """Undo the last COUNT changeSets applied."""
    _do_rollback(options, tag=None, count=count)


@main.command("update-testing-rollback")
@_run
def update_testing_rollback(options: Options) -> None:
    """Apply each pending changeSet, roll it back, check the schema is as before, and apply it again."""
    from yamlbase import commands

    settings = options.settings()
    done = commands.update_testing_rollback(
        settings.url,
        settings.changelog_file,
        lock_timeout=settings.lock_timeout,
        report=_progress(options, "ran, rolled back and ran again"),
        **options.selection(),
    )
    _emit(
        options,
        {"applied": [cs.identifier for cs in done]},
        f"{len(done)} changeSet{'s' if len(done) != 1 else ''} applied to {commands.safe_url(settings.url)}, "
        "each rolled back to the schema before it and applied again"
        if done
        else f"{commands.safe_url(settings.url)} is up to date",
    )


@main.command("rollback-sql")
@click.option("--tag", help="undo everything applied after this tag")
@click.option("--count", type=click.IntRange(min=0), help="undo the last COUNT changeSets")
@_run
def rollback_sql(options: Options, tag: str | None, count: int | None) -> None:
    """Print the SQL that rollback would run, without changing anything."""
    from yamlbase import commands

    settings = options.settings()
    sql = commands.rollback_sql(settings.url, settings.changelog_file, tag=tag, count=count, **options.selection())
    click.echo(sql, nl=False)


@main.command()
@_run
def status(options: Options) -> None:
    """List the changeSets that update would apply."""
    from yamlbase import commands

    settings = options.settings()
    todo = commands.status(settings.url, settings.changelog_file, **options.selection())
    database = commands.safe_url(settings.url)
    lines = [f"{len(todo)} changeSet{'s' if len(todo) != 1 else ''} pending on {database}"] + [
        f"  {_shown(cs.identifier)}" for cs in todo
    ]
    if todo.moved:
        n = len(todo.moved)
        lines.append(
            f"{n} history row{'s' if n != 1 else ''} written by an older yamlbase (FILENAME relative to the root "
            "changelog's folder); update renames them to Liquibase's FILENAME first:"
        )
        lines.extend(f"  {_shown(m.old)} -> {_shown(m.new)}" for m in todo.moved)
    if todo.changed:
        n = len(todo.changed)
        lines.append(
            f"{n} applied changeSet{'s' if n != 1 else ''} changed since {'they were' if n != 1 else 'it was'} "
            "applied (update refuses to run until the edits are reverted):"
        )
        lines.extend(f"  {_shown(e)}" for e in todo.changed)
    _emit(
        options,
        {
            "pending": [cs.identifier for cs in todo],
            "changed": [_edited_data(e) for e in todo.changed],
            "moved": [{"from": m.old, "to": m.new} for m in todo.moved],
            "database": database,
        },
        "\n".join(lines),
    )


@main.command()
@_run
def history(options: Options) -> None:
    """Show what ran, in order, with tags."""
    from yamlbase import commands

    settings = options.settings()
    rows = commands.history(settings.url)
    database = commands.safe_url(settings.url)
    data = [
        {
            "order": r.order_executed,
            "changeset": r.identifier,
            "executed": str(r.date_executed),
            "type": r.exec_type,
            "tag": r.tag,
            "deployment": r.deployment_id,
        }
        for r in rows
    ]
    lines = [
        f"{r['order']:>5}  {r['executed']}  {r['type']:<8}  {_shown(r['changeset'])}"
        + (f"  [tag {r['tag']}]" if r["tag"] else "")
        for r in data
    ]
    _emit(
        options,
        data,
        "\n".join([f"history of {database}:", *lines]) if lines else f"no changeSets have been applied to {database}",
    )


@main.command()
@click.argument("name")
@click.option("--force", is_flag=True, help="move NAME here if it exists, or replace the last changeSet's tag")
@_run
def tag(options: Options, name: str, force: bool) -> None:
    """Tag the current database state (the last applied changeSet) as NAME."""
    from yamlbase import commands

    settings = options.settings()
    row = commands.tag(settings.url, name, lock_timeout=settings.lock_timeout, force=force)
    _emit(options, {"tag": name, "changeset": row.identifier}, f'tagged {_shown(row.identifier)} as "{_shown(name)}"')


@main.command("tag-exists")
@click.argument("name")
@_run
def tag_exists(options: Options, name: str) -> None:
    """Exit 0 when tag NAME exists, 1 otherwise."""
    from yamlbase import commands

    found = commands.tag_exists(options.settings().url, name)
    _emit(options, {"tag": name, "exists": found}, f'tag "{name}" {"exists" if found else "does not exist"}')
    if not found:
        sys.exit(1)


@main.command("release-locks")
@_run
def release_locks(options: Options) -> None:
    """Release DATABASECHANGELOGLOCK, whoever holds it."""
    from yamlbase import commands

    commands.release_locks(options.settings().url)
    _emit(options, {"released": True}, "lock released")


@main.command("list-locks")
@_run
def list_locks(options: Options) -> None:
    """Show who holds DATABASECHANGELOGLOCK."""
    from yamlbase import commands

    state = commands.list_locks(options.settings().url)
    held = state is not None and state.locked
    text = f"locked by {state.locked_by} since {state.granted}" if held and state else "not locked"
    if held and state and state.alive is False:
        text += " (that process is gone: the next update takes the lock over)"
    _emit(
        options,
        {
            "locked": held,
            "locked_by": state.locked_by if state else None,
            "granted": state.granted if state else None,
            "holder_alive": state.alive if state else None,
        },
        text,
    )


def _do_changelog_sync(options: Options, *, to_tag: str | None) -> None:
    from yamlbase import commands

    settings = options.settings()
    done = commands.changelog_sync(
        settings.url,
        settings.changelog_file,
        to_tag=to_tag,
        lock_timeout=settings.lock_timeout,
        report=_progress(options, "recorded as run:"),
        **options.selection(),
    )
    database = commands.safe_url(settings.url)
    n = len(done)
    _emit(
        options,
        {"recorded": [cs.identifier for cs in done], "database": database},
        f"{n} changeSet{'s' if n != 1 else ''} recorded as run on {database}, none of {'them' if n != 1 else 'it'} run"
        if done
        else f"{database} is up to date: nothing to record",
    )


@main.command("changelog-sync")
@_run
def changelog_sync(options: Options) -> None:
    """Record every pending changeSet as run without running it (to adopt a database built otherwise)."""
    _do_changelog_sync(options, to_tag=None)


@main.command("changelog-sync-to-tag")
@click.argument("tag")
@_run
def changelog_sync_to_tag(options: Options, tag: str) -> None:
    """Record pending changeSets as run, without running them, up to and including the one tagging TAG."""
    _do_changelog_sync(options, to_tag=tag)


@main.command("changelog-sync-sql")
@click.option(
    "--dialect",
    type=click.Choice(DIALECTS),
    help="render for an empty database of this kind, not the configured one (with --url: what is pending there)",
)
@click.option("--tag", help="only up to and including the changeSet tagging TAG")
@_run
def changelog_sync_sql(options: Options, dialect: str | None, tag: str | None) -> None:
    """Print the SQL that changelog-sync would run (the lock and history rows), without changing anything."""
    from yamlbase import commands

    settings = options.settings()
    url = settings.preview_url(dialect)
    sql = commands.changelog_sync_sql(url, settings.changelog_file, dialect=dialect, to_tag=tag, **options.selection())
    click.echo(sql, nl=False)


@main.command("mark-next-changeset-ran")
@_run
def mark_next_changeset_ran(options: Options) -> None:
    """Record the next pending changeSet as run without running it (after finishing it by hand)."""
    from yamlbase import commands

    settings = options.settings()
    cs = commands.mark_next_changeset_ran(
        settings.url, settings.changelog_file, lock_timeout=settings.lock_timeout, **options.selection()
    )
    _emit(options, {"marked": cs.identifier if cs else None},
          f"marked {_shown(cs.identifier)} as run" if cs else "nothing is pending")  # fmt: skip


@main.command("clear-incomplete")
@_run
def clear_incomplete(options: Options) -> None:
    """Forget changeSets that stopped part-way, after undoing their statements by hand; update reruns them."""
    from yamlbase import commands

    settings = options.settings()
    cleared = commands.clear_incomplete(settings.url, lock_timeout=settings.lock_timeout)
    _emit(options, {"cleared": cleared}, "\n".join(f"cleared {c}" for c in cleared) or "nothing was incomplete")


def _difference_data(d: Any) -> dict[str, Any]:
    """One :class:`yamlbase.structure.model.Difference` in ``--format json``."""
    obj = d.new if d.new is not None else d.old
    return {
        "kind": d.kind,
        "table": d.table,
        "name": obj if isinstance(obj, str) else getattr(obj, "name", None),
        "changed": list(d.changed),
        "destructive": d.destructive,
        "note": d.note,
        "description": d.describe(),
    }


def _differences_text(differences: list[Any]) -> str:
    lines = []
    for d in differences:
        lines.append(f"  {_shown(d.describe())}{'  [destructive]' if d.destructive else ''}")
        if d.note:
            lines.append(f"    note: {_shown(d.note)}")
    return "\n".join(lines)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@main.command()
@click.option("--models", required=True, metavar="MODULE[:ATTR]", help="the SQLAlchemy models (MetaData, base or db)")
@click.option("--dev-url", help="an empty scratch database of the production dialect (default: in-memory SQLite)")
@click.option("--against-url", help="compare the models with this live database instead of the changelog")
@_run
def check(options: Options, models: str, dev_url: str | None, against_url: str | None) -> None:
    """Exit 0 when the changelog builds exactly the models' schema, 1 listing each difference when not."""
    from yamlbase import commands
    from yamlbase.structure.models import load_metadata

    settings = options.settings()
    metadata = load_metadata(models)
    differences = commands.check(
        settings.changelog_file, models=metadata, dev_url=dev_url, against_url=against_url, **options.selection()
    )
    source = f"the database at {commands.safe_url(against_url)}" if against_url else str(settings.changelog_file)
    tables = _plural(len(metadata.tables), "table")
    if differences:
        text = f"{source} differs from the models ({tables}), {_plural(len(differences), 'difference')}:\n"
        text += _differences_text(differences)
    else:
        text = f"{source} matches the models exactly ({tables})"
    data = {"in_sync": not differences, "tables": len(metadata.tables), "differences": differences}
    _emit(options, {**data, "differences": [_difference_data(d) for d in differences]}, text)
    if differences:
        raise click.exceptions.Exit(1)


@main.command()
@click.option("--reference-url", required=True, help="the database to compare with (the one --url should be like)")
@_run
def diff(options: Options, reference_url: str) -> None:
    """Report how the database (--url) differs from --reference-url; exit 0 when the same, 1 when not."""
    from yamlbase import commands

    url = options.settings().url
    differences = commands.diff(reference_url, url)
    where, reference = commands.safe_url(url), commands.safe_url(reference_url)
    if differences:
        text = f"{where} differs from {reference}, {_plural(len(differences), 'difference')}:\n"
        text += _differences_text(differences)
    else:
        text = f"{where} has the same schema as {reference}"
    _emit(options, {"same": not differences, "differences": [_difference_data(d) for d in differences]}, text)
    if differences:
        raise click.exceptions.Exit(1)


def _renames(given: tuple[str, ...]) -> dict[str, str]:
    from yamlbase.errors import UsageError

    renames: dict[str, str] = {}
    for item in given:
        was, sep, now = item.partition("=")
        if not sep or not was.strip() or not now.strip():
            raise UsageError(f"--rename {item!r}: write OLD=NEW (a table, or table.column)")
        renames[was.strip()] = now.strip()
    return renames


def _change_summary(entry: dict[str, Any]) -> str:
    """``createTable users, createIndex ix_users_name``: a changeSet's changes in a few words."""
    parts = []
    for item in entry["changeSet"]["changes"]:
        for name, attrs in item.items():
            target = (
                next(
                    (attrs[k] for k in ("indexName", "constraintName", "viewName", "sequenceName") if k in attrs), None
                )
                or attrs.get("tableName")
                or attrs.get("baseTableName")
                or attrs.get("oldTableName")
                or ""
            )
            parts.append(f"{name} {target}".strip())
    return ", ".join(parts)


@main.command("diff-changelog")
@click.option("--models", metavar="MODULE[:ATTR]", help="the SQLAlchemy models (MetaData, base or db)")
@click.option("-m", "--message", help="the comment of every changeSet written")
@click.option("--author", help="the changeSets' author (default: git's user.name, else the login name)")
@click.option("--output-file", help="write a new file, included from the changelog (default: append to it)")
@click.option("--dev-url", help="an empty scratch database of the production dialect (default: in-memory SQLite)")
@click.option("--against-url", help="compare the models with this live database instead of the changelog")
@click.option("--rename", "renames", multiple=True, metavar="OLD=NEW", help="a renamed table or table.column")
@click.option("--reference-url", help="instead of models: the database whose schema --url is to get")
@_run
def diff_changelog(
    options: Options,
    models: str | None,
    message: str | None,
    author: str | None,
    output_file: str | None,
    dev_url: str | None,
    against_url: str | None,
    renames: tuple[str, ...],
    reference_url: str | None,
) -> None:
    """Write the changeSets that take the schema the changelog builds to the one the models declare."""
    from yamlbase import commands

    settings = options.settings()
    url = settings.url if reference_url is not None else None
    result = commands.diff_changelog(
        settings.changelog_file,
        models=models,
        reference_url=reference_url,
        url=url,
        message=message,
        author=author,
        output_file=output_file,
        dev_url=dev_url,
        against_url=against_url,
        renames=_renames(renames),
        **options.selection(),
    )
    target = commands.safe_url(url) if url is not None else None
    described = f"the {_plural(result.tables, 'table')} the models hold"
    if reference_url is not None:
        described = f"the schema of {commands.safe_url(reference_url)} ({_plural(result.tables, 'table')})"
    data = {
        "written": str(result.path) if result.path else None,
        "changesets": result.changesets,
        "destructive": result.destructive,
        "tables": result.tables,
    }
    if result.path is None:
        if models is not None and result.tables == 0 and not options.json:
            click.echo(
                "warning: the models hold no tables: were the modules that declare them imported (MODULE:ATTR "
                "names the metadata; the models must be imported with it)?",
                err=True,
            )
        where = target or settings.changelog_file
        _emit(options, data, f"no changes: {where} already has {described}; nothing was written")
        return
    by_id = {e["changeSet"]["id"]: e for e in result.entries}
    lines = [f"wrote {_plural(len(result.changesets), 'changeSet')} to {result.path}, for {described}:"]
    lines += [f"  {i}  {_shown(_change_summary(by_id[i]))}" for i in result.changesets]
    if result.destructive:
        lines.append(
            f"{_plural(len(result.destructive), 'destructive changeSet')} (labels: destructive), to review before "
            "update:"
        )
        lines += [f"  {i}  {_shown(by_id[i]['changeSet'].get('comment', ''))}" for i in result.destructive]
    notes = [d.note for d in result.differences if d.note]
    lines += [f"note: {_shown(n)}" for n in dict.fromkeys(notes)]
    _emit(options, data, "\n".join(lines))


@main.command("generate-changelog")
@click.option("--output-file", help="the changelog to write, a new YAML file (default: --changelog-file)")
@click.option("--data", is_flag=True, help="also write each table's rows as CSV, loaded by loadData")
@click.option("--data-output-directory", help="where the CSV files go (default: data/ beside the changelog)")
@click.option("--include-objects", metavar="REGEX", help="only objects whose whole name matches")
@click.option("--exclude-objects", metavar="REGEX", help="leave out objects whose whole name matches")
@click.option("--author", help="the changeSets' author (default: git's user.name, else the login name)")
@_run
def generate_changelog(
    options: Options,
    output_file: str | None,
    data: bool,
    data_output_directory: str | None,
    include_objects: str | None,
    exclude_objects: str | None,
    author: str | None,
) -> None:
    """Write a changelog that builds the schema of the database (--url), to adopt it with changelog-sync."""
    from yamlbase import commands

    settings = options.settings()
    result = commands.generate_changelog(
        settings.url,
        output_file=output_file or settings.changelog_file,
        data=data,
        data_output_directory=data_output_directory,
        include=include_objects,
        exclude=exclude_objects,
        author=author,
    )
    database = commands.safe_url(settings.url)
    text = (
        f"wrote {result.path}: {_plural(len(result.changesets), 'changeSet')} building the "
        f"{_plural(len(result.tables), 'table')} of {database}"
    )
    if result.data_files:
        text += f", their rows in {_plural(len(result.data_files), 'CSV file')}"
    text += (
        f"\nto adopt {database}: yamlbase changelog-sync --changelog-file {result.path} (records the changeSets as "
        "run without running them)"
    )
    _emit(
        options,
        {
            "written": str(result.path),
            "changesets": result.changesets,
            "tables": result.tables,
            "data_files": [str(p) for p in result.data_files],
        },
        text,
    )
