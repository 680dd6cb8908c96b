"""yamlbase: Liquibase's YAML changelogs and history tables, applied with SQLAlchemy and Alembic.

The Python API: one function per command of the ``yamlbase`` command line (dashes become underscores), with the
command line's defaults. The database and the changelog are the first two arguments, positional; everything
else is keyword-only::

    import yamlbase
    yamlbase.update("postgresql://app@db/app", "changelog/changelog.yaml")
    yamlbase.update(engine)                      # an application's Engine; the changelog by default
    with engine.connect() as connection:
        yamlbase.update(connection, "changelog/changelog.yaml")

**The database** (``url``) is any of:

- a URL, as text (``"postgresql://app:secret@db/app"``) or as a ``sqlalchemy.URL`` (``engine.url`` will do: its
  password is used as it is). yamlbase creates an engine for it and disposes of it before returning.
- an ``Engine``: yamlbase opens one connection from it and closes it before returning; the engine is not
  disposed, and its pool and settings are the application's.
- a ``Connection``: used as given, and left open. It must not be in a transaction (commit or roll back first:
  yamlbase neither commits nor rolls back a transaction it did not begin, and says so with a
  :class:`~yamlbase.errors.UsageError`). yamlbase then begins and commits its own transactions on it — one per
  changeSet, its history row included, plus short ones for the lock and the history table — and leaves none open.
  What it changed is there on the connection afterwards: an in-memory SQLite database updated through a
  connection has its tables on that connection.
- ``None`` (the default): the configured URL, as on the command line (``YAMLBASE_URL``, ``DATABASE_URL`` or a
  ``.env`` file, ``[tool.yamlbase] url``, else ``sqlite:///yamlbase.db``). The changelog defaults likewise
  (``YAMLBASE_CHANGELOG_FILE``, ``[tool.yamlbase] changelog-file``, else ``changelog/changelog.yaml``), and so does
  ``lock_timeout`` (``YAMLBASE_LOCK_TIMEOUT``, ``[tool.yamlbase] lock-timeout``, else 300 seconds).

On SQLite, an Engine or Connection the application made gets, for the duration of the call only, the
transactions yamlbase's own engines have (the driver's implicit transaction handling off, an explicit ``BEGIN``,
``BEGIN IMMEDIATE`` for writes), so that each changeSet's DDL commits or rolls back as a whole; the connection's
settings are put back afterwards. An engine with its own ``begin`` event hooks (SQLAlchemy's recipe for SQLite
transactions) is trusted to begin transactions itself. Messages name the database by its URL with the password
hidden.

**Progress** goes to the standard :mod:`logging` logger ``yamlbase``: an ``INFO`` record for each changeSet run
(``ran <path>::<id>::<author>``) or rolled back (``rolled back …``), with the changeSet's name also in the
record's ``changeset`` attribute; ``WARNING`` records for a lock being waited for or taken over, a failed
precondition whose ``onFail`` lets the run go on, and a changeSet with ``failOnError: false`` that failed. Its
child logger ``yamlbase.output`` carries the messages of ``output`` changes whose target is a log level
(``target: INFO``, ``WARN``, …; the default target is stderr). yamlbase adds no handler: an application's logging
configuration decides what is shown (``logging.basicConfig(level=logging.INFO)`` shows the progress). Functions
that run changeSets also take ``report``, called with each changeSet's name as it finishes.

Failures raise :class:`yamlbase.YamlbaseError` subclasses (:mod:`yamlbase.errors`) carrying the same messages the
command line prints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

__version__ = "0.1.0"  # the one place it is written: pyproject.toml reads it from here
# The distribution's name on the package index, for `pip install` (the name "yamlbase" there is another project).
DISTRIBUTION = "yamlbase-migrate"

if TYPE_CHECKING:
    from sqlalchemy import URL, MetaData

    from yamlbase.changelog.model import ChangeLog, ChangeSet
    from yamlbase.commands import Contexts, Database, DiffChangelogResult, GenerateChangelogResult, Report
    from yamlbase.config import Settings
    from yamlbase.runtime.history import HistoryRow
    from yamlbase.runtime.lock import LockState
    from yamlbase.structure.model import Difference

__all__ = [
    "YamlbaseError",
    "changelog_sync",
    "changelog_sync_sql",
    "changelog_sync_to_tag",
    "check",
    "clear_incomplete",
    "diff",
    "diff_changelog",
    "generate_changelog",
    "history",
    "list_locks",
    "mark_next_changeset_ran",
    "release_locks",
    "rollback",
    "rollback_count",
    "rollback_sql",
    "schema",
    "status",
    "tag",
    "tag_exists",
    "update",
    "update_count",
    "update_sql",
    "update_testing_rollback",
    "update_to_tag",
    "validate",
]

PathText = str | os.PathLike[str]
# Liquibase's search path: "a,b", a folder, or a list of folders.
SearchPath = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def _settings(
    url: Database | None, changelog: PathText | None = None, lock_timeout: float | None = None
) -> tuple[Database, Settings]:
    """The database (``url``, else the configured URL) and the resolved settings. A URL object, Engine or
    Connection is passed on as it is: turned into text, a URL would lose its password."""
    from yamlbase.config import load_settings

    settings = load_settings(
        url=url if isinstance(url, str) else None,
        changelog_file=None if changelog is None else os.fspath(changelog),
        lock_timeout=lock_timeout,
    )
    return (settings.url if url is None else url), settings


def _search_path(given: SearchPath | None, settings: Settings) -> SearchPath | None:
    """The search path given to an API function, else the configured one (None: the working folder)."""
    return given if given is not None else settings.search_path


def _reporter(report: Report | None) -> Report:
    from yamlbase import commands

    return commands._quiet if report is None else report


def update(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
    lock_timeout: float | None = None,
    report: Report | None = None,
) -> list[ChangeSet]:
    """Apply every pending changeSet, each in its own transaction with its history row (``yamlbase update``).

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :param changelog: the root changelog file; ``None`` for the configured one.
    :param contexts: run only changeSets whose context admits these (``"dev,test"`` or a list), as ``--contexts``.
    :param label_filter: run only changeSets whose labels match this expression (``"v1 and !beta"``).
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :param lock_timeout: seconds to wait for DATABASECHANGELOGLOCK; ``None`` for the configured wait.
    :param report: called with each changeSet's name once it has run.
    :returns: the changeSets applied, in order (empty when the database is up to date).
    """
    from yamlbase import commands

    database, s = _settings(url, changelog, lock_timeout)
    return commands.update(
        database,
        s.changelog_file,
        lock_timeout=s.lock_timeout,
        report=_reporter(report),
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def update_count(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    count: int,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
    lock_timeout: float | None = None,
    report: Report | None = None,
) -> list[ChangeSet]:
    """Apply the next ``count`` pending changeSets (``yamlbase update-count COUNT``).

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :param changelog: the root changelog file; ``None`` for the configured one.
    :param count: how many pending changeSets to apply, at most.
    :param contexts: run only changeSets whose context admits these (``"dev,test"`` or a list), as ``--contexts``.
    :param label_filter: run only changeSets whose labels match this expression (``"v1 and !beta"``).
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :param lock_timeout: seconds to wait for DATABASECHANGELOGLOCK; ``None`` for the configured wait.
    :param report: called with each changeSet's name once it has run.
    :returns: the changeSets applied, in order.
    """
    from yamlbase import commands

    database, s = _settings(url, changelog, lock_timeout)
    return commands.update(
        database,
        s.changelog_file,
        count=count,
        lock_timeout=s.lock_timeout,
        report=_reporter(report),
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def update_to_tag(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    tag: str,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
    lock_timeout: float | None = None,
    report: Report | None = None,
) -> list[ChangeSet]:
    """Apply pending changeSets up to and including the one with ``tagDatabase`` ``tag``
    (``yamlbase update-to-tag TAG``).

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :param changelog: the root changelog file; ``None`` for the configured one.
    :param tag: the tag of the last changeSet to apply.
    :param contexts: run only changeSets whose context admits these (``"dev,test"`` or a list), as ``--contexts``.
    :param label_filter: run only changeSets whose labels match this expression (``"v1 and !beta"``).
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :param lock_timeout: seconds to wait for DATABASECHANGELOGLOCK; ``None`` for the configured wait.
    :param report: called with each changeSet's name once it has run.
    :returns: the changeSets applied, in order.
    """
    from yamlbase import commands

    database, s = _settings(url, changelog, lock_timeout)
    return commands.update(
        database,
        s.changelog_file,
        to_tag=tag,
        lock_timeout=s.lock_timeout,
        report=_reporter(report),
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def update_sql(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    dialect: str | None = None,
    count: int | None = None,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
    out: TextIO | None = None,
) -> str:
    """The SQL ``update`` would run, bookkeeping included, changing nothing (``yamlbase update-sql``).

    :param url: the database whose history decides what is pending: a URL (text or ``sqlalchemy.URL``), an
        ``Engine`` or a ``Connection``; ``None`` for the configured URL, or with ``dialect`` for none: rendered for
        an empty database of that dialect, with no connection, whatever URL the settings name.
    :param changelog: the root changelog file; ``None`` for the configured one.
    :param dialect: the database to render for (``postgresql``, ``sqlite``, ``mysql``, ``mariadb``, ``mssql``,
        ``oracle``).
    :param count: only the next ``count`` pending changeSets.
    :param contexts: only changeSets whose context admits these (``"dev,test"`` or a list), as ``--contexts``.
    :param label_filter: only changeSets whose labels match this expression (``"v1 and !beta"``).
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :param out: write the SQL there instead of returning it.
    :returns: the SQL text (``""`` when written to ``out``).
    """
    from yamlbase import commands

    database, s = _settings(url, changelog)
    offline = dialect is not None and url is None
    return commands.update_sql(
        None if offline else database,
        s.changelog_file,
        dialect=dialect,
        count=count,
        out=out,
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def rollback(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    tag: str,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
    lock_timeout: float | None = None,
    report: Report | None = None,
) -> list[HistoryRow]:
    """Undo every changeSet applied after the one tagged ``tag``, newest first (``yamlbase rollback --tag TAG``).

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :param changelog: the root changelog file (it holds the rollbacks); ``None`` for the configured one.
    :param tag: the tag to go back to; the tagged changeSet stays.
    :param contexts: undo only changeSets whose context admits these (``"dev,test"`` or a list).
    :param label_filter: undo only changeSets whose labels match this expression (``"v1 and !beta"``).
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :param lock_timeout: seconds to wait for DATABASECHANGELOGLOCK; ``None`` for the configured wait.
    :param report: called with each changeSet's name once it has been rolled back.
    :returns: the history rows undone, newest first.
    """
    from yamlbase import commands

    database, s = _settings(url, changelog, lock_timeout)
    return commands.rollback(
        database,
        s.changelog_file,
        tag=tag,
        lock_timeout=s.lock_timeout,
        report=_reporter(report),
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def rollback_count(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    count: int,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
    lock_timeout: float | None = None,
    report: Report | None = None,
) -> list[HistoryRow]:
    """Undo the last ``count`` changeSets applied, newest first (``yamlbase rollback-count COUNT``).

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :param changelog: the root changelog file (it holds the rollbacks); ``None`` for the configured one.
    :param count: how many changeSets to undo.
    :param contexts: undo only changeSets whose context admits these (``"dev,test"`` or a list).
    :param label_filter: undo only changeSets whose labels match this expression (``"v1 and !beta"``).
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :param lock_timeout: seconds to wait for DATABASECHANGELOGLOCK; ``None`` for the configured wait.
    :param report: called with each changeSet's name once it has been rolled back.
    :returns: the history rows undone, newest first.
    """
    from yamlbase import commands

    database, s = _settings(url, changelog, lock_timeout)
    return commands.rollback(
        database,
        s.changelog_file,
        count=count,
        lock_timeout=s.lock_timeout,
        report=_reporter(report),
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def rollback_sql(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    tag: str | None = None,
    count: int | None = None,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
    out: TextIO | None = None,
) -> str:
    """The SQL ``rollback`` would run, changing nothing (``yamlbase rollback-sql``); give ``tag`` or ``count``.

    :param url: the database whose history is read: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a
        ``Connection``; ``None`` for the configured URL.
    :param changelog: the root changelog file (it holds the rollbacks); ``None`` for the configured one.
    :param tag: undo everything applied after this tag.
    :param count: undo the last ``count`` changeSets.
    :param contexts: undo only changeSets whose context admits these (``"dev,test"`` or a list).
    :param label_filter: undo only changeSets whose labels match this expression (``"v1 and !beta"``).
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :param out: write the SQL there instead of returning it.
    :returns: the SQL text (``""`` when written to ``out``).
    """
    from yamlbase import commands

    database, s = _settings(url, changelog)
    return commands.rollback_sql(
        database,
        s.changelog_file,
        tag=tag,
        count=count,
        out=out,
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def update_testing_rollback(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
    lock_timeout: float | None = None,
    report: Report | None = None,
) -> list[ChangeSet]:
    """Apply each pending changeSet, roll it back, check the schema is as before it, and apply it again
    (``yamlbase update-testing-rollback``). A rollback that leaves another schema raises
    :class:`yamlbase.errors.RollbackMismatchError` naming the changeSet (which is then left rolled back).

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :param changelog: the root changelog file; ``None`` for the configured one.
    :param contexts: run only changeSets whose context admits these (``"dev,test"`` or a list), as ``--contexts``.
    :param label_filter: run only changeSets whose labels match this expression (``"v1 and !beta"``).
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :param lock_timeout: seconds to wait for DATABASECHANGELOGLOCK; ``None`` for the configured wait.
    :param report: called with each changeSet's name once it has been applied, rolled back and applied again.
    :returns: the changeSets applied, in order.
    """
    from yamlbase import commands

    database, s = _settings(url, changelog, lock_timeout)
    return commands.update_testing_rollback(
        database,
        s.changelog_file,
        lock_timeout=s.lock_timeout,
        report=_reporter(report),
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def status(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
) -> list[ChangeSet]:
    """The changeSets ``update`` would apply, in order (``yamlbase status``).

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :param changelog: the root changelog file; ``None`` for the configured one.
    :param contexts: only changeSets whose context admits these (``"dev,test"`` or a list), as ``--contexts``.
    :param label_filter: only changeSets whose labels match this expression (``"v1 and !beta"``).
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :returns: the pending changeSets (a list; ``.moved`` holds the history rows of an older yamlbase that
        ``update`` renames to Liquibase's FILENAME, ``.changed`` the applied changeSets edited since).
    """
    from yamlbase import commands

    database, s = _settings(url, changelog)
    return commands.status(
        database,
        s.changelog_file,
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def history(url: Database | None = None) -> list[HistoryRow]:
    """The rows of DATABASECHANGELOG, in execution order (``yamlbase history``).

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :returns: one row per changeSet run (empty when nothing was ever applied).
    """
    from yamlbase import commands

    return commands.history(_settings(url)[0])


def tag(
    url: Database | None = None, *, name: str, force: bool = False, lock_timeout: float | None = None
) -> HistoryRow:
    """Tag the current state: set ``name`` on the last applied changeSet's history row (``yamlbase tag NAME``).
    Refused (nothing changed) when some row already carries ``name`` or the last row carries another tag.

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :param name: the tag.
    :param force: move the tag: take it off the row that carries it, and replace the last row's tag.
    :param lock_timeout: seconds to wait for DATABASECHANGELOGLOCK; ``None`` for the configured wait.
    :returns: the history row tagged.
    """
    from yamlbase import commands

    database, s = _settings(url, None, lock_timeout)
    return commands.tag(database, name, lock_timeout=s.lock_timeout, force=force)


def tag_exists(url: Database | None = None, *, name: str) -> bool:
    """Whether some changeSet's history row carries tag ``name`` (``yamlbase tag-exists NAME``).

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :param name: the tag.
    """
    from yamlbase import commands

    return commands.tag_exists(_settings(url)[0], name)


def release_locks(url: Database | None = None) -> None:
    """Release DATABASECHANGELOGLOCK, whoever holds it (``yamlbase release-locks``).

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    """
    from yamlbase import commands

    commands.release_locks(_settings(url)[0])


def list_locks(url: Database | None = None) -> LockState | None:
    """Who holds DATABASECHANGELOGLOCK (``yamlbase list-locks``).

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :returns: the lock row's state, with whether its holder is still alive where that can be told; ``None`` when
        there is no lock table.
    """
    from yamlbase import commands

    return commands.list_locks(_settings(url)[0])


def mark_next_changeset_ran(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
    lock_timeout: float | None = None,
) -> ChangeSet | None:
    """Record the next pending changeSet as run without running it (``yamlbase mark-next-changeset-ran``).

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :param changelog: the root changelog file; ``None`` for the configured one.
    :param contexts: consider only changeSets whose context admits these (``"dev,test"`` or a list).
    :param label_filter: consider only changeSets whose labels match this expression (``"v1 and !beta"``).
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :param lock_timeout: seconds to wait for DATABASECHANGELOGLOCK; ``None`` for the configured wait.
    :returns: the changeSet marked, or ``None`` when nothing is pending.
    """
    from yamlbase import commands

    database, s = _settings(url, changelog, lock_timeout)
    return commands.mark_next_changeset_ran(
        database,
        s.changelog_file,
        lock_timeout=s.lock_timeout,
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def changelog_sync(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
    lock_timeout: float | None = None,
    report: Report | None = None,
) -> list[ChangeSet]:
    """Record every pending changeSet as run without running it (``yamlbase changelog-sync``): how a database
    built by ``create_all``, Alembic or by hand is adopted after ``generate-changelog``. Each row says
    ``EXECUTED``, as Liquibase's changelog-sync writes it; preconditions are not evaluated.

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :param changelog: the root changelog file; ``None`` for the configured one.
    :param contexts: record only changeSets whose context admits these (``"dev,test"`` or a list).
    :param label_filter: record only changeSets whose labels match this expression (``"v1 and !beta"``).
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :param lock_timeout: seconds to wait for DATABASECHANGELOGLOCK; ``None`` for the configured wait.
    :param report: called with each changeSet's name once it is recorded.
    :returns: the changeSets recorded, in order (empty when nothing is pending).
    """
    from yamlbase import commands

    database, s = _settings(url, changelog, lock_timeout)
    return commands.changelog_sync(
        database,
        s.changelog_file,
        lock_timeout=s.lock_timeout,
        report=_reporter(report),
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def changelog_sync_to_tag(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    tag: str,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
    lock_timeout: float | None = None,
    report: Report | None = None,
) -> list[ChangeSet]:
    """Record pending changeSets as run without running them, up to and including the one with ``tagDatabase``
    ``tag`` (``yamlbase changelog-sync-to-tag TAG``).

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :param changelog: the root changelog file; ``None`` for the configured one.
    :param tag: the tag of the last changeSet to record.
    :param contexts: record only changeSets whose context admits these (``"dev,test"`` or a list).
    :param label_filter: record only changeSets whose labels match this expression (``"v1 and !beta"``).
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :param lock_timeout: seconds to wait for DATABASECHANGELOGLOCK; ``None`` for the configured wait.
    :param report: called with each changeSet's name once it is recorded.
    :returns: the changeSets recorded, in order.
    """
    from yamlbase import commands

    database, s = _settings(url, changelog, lock_timeout)
    return commands.changelog_sync(
        database,
        s.changelog_file,
        to_tag=tag,
        lock_timeout=s.lock_timeout,
        report=_reporter(report),
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def changelog_sync_sql(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    dialect: str | None = None,
    tag: str | None = None,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
    out: TextIO | None = None,
) -> str:
    """The SQL ``changelog-sync`` would run — the lock and the history rows — changing nothing
    (``yamlbase changelog-sync-sql``).

    :param url: the database whose history decides what is pending: a URL (text or ``sqlalchemy.URL``), an
        ``Engine`` or a ``Connection``; ``None`` for the configured URL, or with ``dialect`` for none: rendered for
        an empty database of that dialect, with no connection.
    :param changelog: the root changelog file; ``None`` for the configured one.
    :param dialect: the database to render for (``postgresql``, ``sqlite``, ``mysql``, ``mariadb``, ``mssql``,
        ``oracle``).
    :param tag: only up to and including the changeSet with ``tagDatabase`` ``tag``.
    :param contexts: only changeSets whose context admits these (``"dev,test"`` or a list), as ``--contexts``.
    :param label_filter: only changeSets whose labels match this expression (``"v1 and !beta"``).
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :param out: write the SQL there instead of returning it.
    :returns: the SQL text (``""`` when written to ``out``).
    """
    from yamlbase import commands

    database, s = _settings(url, changelog)
    offline = dialect is not None and url is None
    return commands.changelog_sync_sql(
        None if offline else database,
        s.changelog_file,
        dialect=dialect,
        to_tag=tag,
        out=out,
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def clear_incomplete(url: Database | None = None, *, lock_timeout: float | None = None) -> list[str]:
    """Forget changeSets that stopped part-way, once their statements were undone by hand; ``update`` then runs
    them again (``yamlbase clear-incomplete``).

    :param url: the database: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``; ``None`` for
        the configured URL.
    :param lock_timeout: seconds to wait for DATABASECHANGELOGLOCK; ``None`` for the configured wait.
    :returns: the names of the changeSets forgotten.
    """
    from yamlbase import commands

    database, s = _settings(url, None, lock_timeout)
    return commands.clear_incomplete(database, lock_timeout=s.lock_timeout)


def validate(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    dialect: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
) -> ChangeLog:
    """Parse and validate the changelog and every file it includes (``yamlbase validate``); raises
    :class:`yamlbase.errors.ChangeLogError` listing every problem at its ``path:line:col``. Where the database has
    a history, applied changeSets edited since they ran raise :class:`yamlbase.errors.ChecksumMismatchError`
    naming each, with its old and new checksum. Nothing is written, and a SQLite file that does not exist is not
    created (it has no history to check).

    :param url: the database whose history is checked: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a
        ``Connection``; ``None`` for the configured URL.
    :param changelog: the root changelog file; ``None`` for the configured one.
    :param dialect: also refuse every change this database cannot express.
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :returns: the changelog read; its ``warnings`` list what looks wrong without being an error.
    """
    from yamlbase import commands

    database, s = _settings(url, changelog)
    return commands.validate(
        s.changelog_file, dialect=dialect, properties=properties, search_path=_search_path(search_path, s), url=database
    )


def schema(*, output_file: PathText | None = None) -> str:
    """The changelog JSON Schema of this yamlbase version (``yamlbase schema``), for editors: its ``$id`` and
    ``$comment`` name the version.

    :param output_file: also write it to this file (its folders are created as needed).
    :returns: the schema, as JSON text.
    """
    from yamlbase import commands

    return commands.schema(output_file)


def check(
    changelog: PathText | None = None,
    *,
    models: str | MetaData,
    dev_url: str | URL | None = None,
    against_url: Database | None = None,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
) -> list[Difference]:
    """How the schema the changelog builds differs from the one the models declare (``yamlbase check``): empty
    when the changelog builds exactly the models' schema. No database is needed: the changelog is replayed on a
    private scratch database and the models are created on one of the same dialect, both then reflected.

    :param changelog: the root changelog file; ``None`` for the configured one.
    :param models: the models: a ``MetaData``, or ``"MODULE[:ATTR]"`` (the working directory on ``sys.path``;
        ``ATTR`` a ``MetaData``, a declarative base or a Flask-SQLAlchemy ``db``; without it, the module's one).
    :param dev_url: an empty scratch database of the production dialect to build both on (emptied again
        afterwards); ``None`` for in-memory SQLite.
    :param against_url: compare the models with this live database (only read) instead of the changelog.
    :param contexts: replay only changeSets whose context admits these, as ``--contexts``.
    :param label_filter: replay only changeSets whose labels match this expression.
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :returns: the differences that take the changelog's schema to the models' (renames the models declare with
        ``info={"renamed_from": ...}`` as renames; a drop and an add that look like a rename say so in a note).
    """
    from yamlbase import commands

    _, s = _settings(None, changelog)
    return commands.check(
        s.changelog_file,
        models=models,
        dev_url=dev_url,
        against_url=against_url,
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def diff_changelog(
    url: Database | None = None,
    changelog: PathText | None = None,
    *,
    models: str | MetaData | None = None,
    reference_url: Database | None = None,
    message: str | None = None,
    author: str | None = None,
    output_file: PathText | None = None,
    dev_url: str | URL | None = None,
    against_url: Database | None = None,
    renames: Mapping[str, str] | None = None,
    contexts: Contexts = None,
    label_filter: str | None = None,
    properties: Mapping[str, str] | None = None,
    search_path: SearchPath | None = None,
) -> DiffChangelogResult:
    """Write the changeSets that take the schema the changelog builds to the one the models declare
    (``yamlbase diff-changelog --models``), compared as :func:`check` compares them; or, with ``reference_url``,
    those that make the database ``url`` like ``reference_url`` (``--reference-url A --url B``). Ids are
    ``<yyyymmddHHMMSS>-<n>`` (UTC); destructive changeSets are labelled ``destructive``. Nothing is written when
    there is nothing to do.

    :param url: with ``reference_url``, the database the changeSets are for (only read): a URL, an ``Engine`` or
        a ``Connection``; ``None`` for the configured URL. Not used with ``models``.
    :param changelog: the root changelog file (the reference, and where the changeSets go); ``None`` for the
        configured one. It may not exist yet: it is then created.
    :param models: the models: a ``MetaData``, or ``"MODULE[:ATTR]"`` (as :func:`check`).
    :param reference_url: instead of models, the database whose schema ``url`` is to get (only read).
    :param message: the comment of every changeSet written (``-m``).
    :param author: the changeSets' author; ``None`` for git's ``user.name``, else the login name.
    :param output_file: write a new file there, which the root changelog then includes (unless an ``includeAll``
        already reads it); ``None`` to append to the root changelog.
    :param dev_url: an empty scratch database of the production dialect (emptied again); ``None`` for in-memory
        SQLite.
    :param against_url: compare the models with this live database (only read) instead of the changelog.
    :param renames: renamed tables (``"old": "new"``) and columns (``"table.old": "table.new"``), beside the
        models' ``info={"renamed_from": ...}``.
    :param contexts: replay only changeSets whose context admits these, as ``--contexts``.
    :param label_filter: replay only changeSets whose labels match this expression.
    :param properties: ``${name}`` values for the changelog, as ``-D name=value``.
    :param search_path: the folders files are found in and named relative to (``--search-path``: a comma-separated
        string or a list); ``None`` for the configured one, else the working folder.
    :returns: what was written: ``path`` (None when nothing), the changeSet ids, the number of tables the models
        hold, the ids of the destructive changeSets.
    """
    from yamlbase import commands

    database, s = _settings(url, changelog)
    return commands.diff_changelog(
        s.changelog_file,
        models=models,
        reference_url=reference_url,
        url=database if reference_url is not None else None,
        message=message,
        author=author,
        output_file=output_file,
        dev_url=dev_url,
        against_url=against_url,
        renames=renames,
        contexts=contexts,
        label_filter=label_filter,
        properties=properties,
        search_path=_search_path(search_path, s),
    )


def generate_changelog(
    url: Database | None = None,
    *,
    output_file: PathText | None = None,
    data: bool = False,
    data_output_directory: PathText | None = None,
    include_objects: str | None = None,
    exclude_objects: str | None = None,
    author: str | None = None,
) -> GenerateChangelogResult:
    """Write a changelog that builds the schema of an existing database (``yamlbase generate-changelog``), to
    adopt it: apply it elsewhere with ``update``, and record it as run on the original with
    :func:`changelog_sync`. yamlbase's, Liquibase's and Alembic's own tables are never included.

    :param url: the database to read (only read): a URL, an ``Engine`` or a ``Connection``; ``None`` for the
        configured URL.
    :param output_file: the changelog to write (it must not exist); ``None`` for the configured changelog file.
    :param data: also write each table's rows as a CSV file, loaded by a ``loadData`` changeSet.
    :param data_output_directory: where the CSV files go; ``None`` for ``data/`` beside the changelog.
    :param include_objects: only tables, views, sequences and types whose whole name matches this regex.
    :param exclude_objects: leave out those whose whole name matches this regex.
    :param author: the changeSets' author; ``None`` for git's ``user.name``, else the login name.
    :returns: what was written: the changelog's path, the changeSet ids, the tables, the CSV files.
    """
    from yamlbase import commands

    database, s = _settings(url)
    return commands.generate_changelog(
        database,
        output_file=s.changelog_file if output_file is None else output_file,
        data=data,
        data_output_directory=data_output_directory,
        include=include_objects,
        exclude=exclude_objects,
        author=author,
    )


def diff(url: Database | None = None, *, reference_url: Database) -> list[Difference]:
    """How the database's schema differs from the reference database's (``yamlbase diff``): the differences that
    would make it like the reference; empty when they are the same. Both are only read.

    :param url: the database compared: a URL (text or ``sqlalchemy.URL``), an ``Engine`` or a ``Connection``;
        ``None`` for the configured URL.
    :param reference_url: the database it is compared with, in the same forms.
    :returns: the differences, each with a ``describe()`` line for people.
    """
    from yamlbase import commands

    database, _ = _settings(url)
    return commands.diff(reference_url, database)


def __getattr__(name: str) -> Any:
    if name == "YamlbaseError":
        from yamlbase.errors import YamlbaseError

        return YamlbaseError
    raise AttributeError(name)
