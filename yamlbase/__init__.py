"""yamlbase: Liquibase's YAML changelogs and history tables, applied with SQLAlchemy and Alembic.

The Python API mirrors the commands. ``url`` and ``changelog`` default as on the command line
(``YAMLBASE_URL`` / ``DATABASE_URL`` / ``[tool.yamlbase]`` / ``sqlite:///yamlbase.db``, and
``changelog/changelog.yaml``)::

    import yamlbase
    yamlbase.update("postgresql://app@db/app", "changelog/changelog.yaml")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"  # the one place it is written: pyproject.toml reads it from here
# The distribution's name on the package index, for `pip install` (the name "yamlbase" there is another project).
DISTRIBUTION = "yamlbase-migrate"

if TYPE_CHECKING:
    from yamlbase.changelog.model import ChangeLog, ChangeSet
    from yamlbase.runtime.history import HistoryRow

__all__ = [
    "YamlbaseError",
    "history",
    "release_locks",
    "rollback",
    "rollback_sql",
    "status",
    "tag",
    "update",
    "update_sql",
    "update_testing_rollback",
    "validate",
]


def _settings(url: str | None, changelog: str | None) -> Any:
    from yamlbase.config import load_settings

    return load_settings(url=url, changelog_file=changelog)


def update(url: str | None = None, changelog: str | None = None, **options: Any) -> list[ChangeSet]:
    """Apply pending changeSets; ``count=`` / ``to_tag=`` limit them. Returns the changeSets applied."""
    from yamlbase import commands

    s = _settings(url, changelog)
    options.setdefault("lock_timeout", s.lock_timeout)
    return commands.update(s.url, s.changelog_file, **options)


def update_sql(url: str | None = None, changelog: str | None = None, **options: Any) -> str:
    """The SQL ``update`` would run. ``dialect=`` without ``url`` renders for an empty database."""
    from yamlbase import commands

    s = _settings(url, changelog)
    offline = options.get("dialect") is not None and s.url_source == "default"
    return commands.update_sql(None if offline else s.url, s.changelog_file, **options)


def update_testing_rollback(
    url: str | None = None, changelog: str | None = None, *, lock_timeout: float | None = None
) -> list[ChangeSet]:
    """Apply each pending changeSet, roll it back, check the schema is as before it, and apply it again.

    Raises :class:`yamlbase.errors.RollbackMismatchError` naming the first changeSet whose rollback is wrong.
    """
    from yamlbase import commands

    s = _settings(url, changelog)
    timeout = s.lock_timeout if lock_timeout is None else lock_timeout
    return commands.update_testing_rollback(s.url, s.changelog_file, lock_timeout=timeout)


def rollback(
    url: str | None = None,
    changelog: str | None = None,
    *,
    tag: str | None = None,
    count: int | None = None,
    lock_timeout: float | None = None,
) -> list[HistoryRow]:
    """Undo changeSets applied after ``tag``, or the last ``count``."""
    from yamlbase import commands

    s = _settings(url, changelog)
    timeout = s.lock_timeout if lock_timeout is None else lock_timeout
    return commands.rollback(s.url, s.changelog_file, tag=tag, count=count, lock_timeout=timeout)


def rollback_sql(
    url: str | None = None, changelog: str | None = None, *, tag: str | None = None, count: int | None = None
) -> str:
    """The SQL ``rollback`` would run."""
    from yamlbase import commands

    s = _settings(url, changelog)
    return commands.rollback_sql(s.url, s.changelog_file, tag=tag, count=count)


def status(url: str | None = None, changelog: str | None = None) -> list[ChangeSet]:
    """The pending changeSets."""
    from yamlbase import commands

    s = _settings(url, changelog)
    return commands.status(s.url, s.changelog_file)


def history(url: str | None = None) -> list[HistoryRow]:
    """The rows of DATABASECHANGELOG, in execution order."""
    from yamlbase import commands

    return commands.history(_settings(url, None).url)


def tag(name: str, url: str | None = None, *, lock_timeout: float | None = None) -> HistoryRow:
    """Tag the last applied changeSet."""
    from yamlbase import commands

    s = _settings(url, None)
    return commands.tag(s.url, name, lock_timeout=s.lock_timeout if lock_timeout is None else lock_timeout)


def release_locks(url: str | None = None) -> None:
    """Release DATABASECHANGELOGLOCK."""
    from yamlbase import commands

    commands.release_locks(_settings(url, None).url)


def validate(changelog: str | None = None) -> ChangeLog:
    """Parse and validate; raises :class:`yamlbase.errors.ChangeLogError` with every problem."""
    from yamlbase import commands

    return commands.validate(_settings(None, changelog).changelog_file)


def __getattr__(name: str) -> Any:
    if name == "YamlbaseError":
        from yamlbase.errors import YamlbaseError

        return YamlbaseError
    raise AttributeError(name)
