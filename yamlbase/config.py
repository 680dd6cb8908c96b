"""Settings: command-line flags > YAMLBASE_* environment > DATABASE_URL (and .env) > [tool.yamlbase] > defaults.

``pyproject.toml`` and ``.env`` are searched for upward from the working folder to the repository root (the
first folder holding ``.git``, else the filesystem root), as ruff and git do.
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yamlbase.errors import UsageError

DEFAULT_URL = "sqlite:///yamlbase.db"
DEFAULT_CHANGELOG = "changelog/changelog.yaml"
DEFAULT_LOCK_TIMEOUT = 300.0
# The keys of [tool.yamlbase]; anything else there is a mistake worth an error.
PROJECT_KEYS = ("url", "changelog-file", "lock-timeout", "search-path")


@dataclass(frozen=True)
class Settings:
    url: str
    changelog_file: str
    lock_timeout: float
    # Where the URL came from: "flag", "YAMLBASE_URL", "DATABASE_URL", "pyproject.toml" or "default".
    url_source: str
    # Liquibase's search path, comma-separated (None: the working folder).
    search_path: str | None = None

    def preview_url(self, dialect: str | None) -> str | None:
        """The database ``update-sql`` reads the history of: none when ``dialect`` is given and the URL was not
        (an explicit dialect renders offline; a configured URL is not used, a ``--url`` flag still is)."""
        return self.url if dialect is None or self.url_source == "flag" else None


def search_folders(start: Path) -> list[Path]:
    """``start`` and the folders above it, up to the repository root: the first one holding ``.git`` (a
    folder, or the file a git worktree has), else the filesystem root."""
    start = start.absolute()
    folders = []
    for folder in (start, *start.parents):
        folders.append(folder)
        if (folder / ".git").exists():
            break
    return folders


def _shown_path(path: Path, cwd: Path) -> str:
    """``path`` relative to the working folder (it is in it or above it)."""
    return os.path.relpath(path, cwd.absolute())


def _project(folders: list[Path], cwd: Path) -> tuple[dict[str, Any], Path | None]:
    """``[tool.yamlbase]`` of the nearest ``pyproject.toml`` that has one (others are skipped, as ruff skips a
    pyproject.toml without ``[tool.ruff]``), and the folder it is in."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    for folder in folders:
        path = folder / "pyproject.toml"
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        tool = data.get("tool")
        section = tool.get("yamlbase") if isinstance(tool, dict) else None
        if not isinstance(section, dict):
            continue
        unknown = [key for key in section if key not in PROJECT_KEYS]
        if unknown:
            where = f"{_shown_path(path, cwd)}: [tool.yamlbase]"
            found = "; ".join(f"unknown setting {key!r}{_did_you_mean(key)}" for key in unknown)
            raise UsageError(f"{where}: {found}; the settings are {', '.join(PROJECT_KEYS)}")
        return section, folder
    return {}, None


def _did_you_mean(key: str) -> str:
    close = difflib.get_close_matches(key.replace("_", "-").lower(), PROJECT_KEYS, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _anchored_sqlite(url: str, project_folder: Path, cwd: Path) -> str:
    """A ``sqlite:///relative/path`` URL written in a ``pyproject.toml`` above the working folder, made relative to
    that file's folder (as its ``changelog-file``), so every subfolder of the project reaches the same database."""
    scheme, sep, rest = url.partition(":///")
    path, query_sep, query = rest.partition("?")
    if not sep or scheme.partition("+")[0] != "sqlite" or project_folder == cwd.absolute():
        return url
    if not path or path.startswith("/") or path == ":memory:" or path.startswith("file:"):
        return url
    return f"{scheme}:///{_shown_path(project_folder / path, cwd)}{query_sep}{query}"


def _anchored_search_path(value: Any, project_folder: Path, cwd: Path) -> str:
    """A ``search-path`` from ``pyproject.toml`` (a comma-separated string or a list of folders) with each
    relative folder made relative to that file's folder, as a comma-separated string."""
    items = value if isinstance(value, list) else str(value).split(",")
    anchored = []
    for item in (str(i).strip() for i in items):
        if item and not Path(item.removeprefix("file:")).is_absolute():
            item = _shown_path(project_folder / item.removeprefix("file:"), cwd)
        if item:
            anchored.append(item)
    return ",".join(anchored)


def _dotenv(folders: list[Path]) -> dict[str, str]:
    """The nearest ``.env`` file's values."""
    path = next((folder / ".env" for folder in folders if (folder / ".env").is_file()), None)
    if path is None:
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load_settings(
    url: str | None = None,
    changelog_file: str | None = None,
    lock_timeout: float | None = None,
    search_path: str | None = None,
    *,
    cwd: Path | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Resolve every setting once, by the documented precedence. A relative ``changelog-file`` or ``sqlite:///``
    URL from a ``pyproject.toml`` above the working folder is relative to that file's folder (returned relative to
    the working folder), and so is each relative folder of its ``search-path``. Raises :class:`UsageError` for an
    unknown key in ``[tool.yamlbase]`` or a lock timeout that is not a number."""
    folder = cwd or Path.cwd()
    env = dict(os.environ if environ is None else environ)
    folders = search_folders(folder)
    dotenv = _dotenv(folders)
    project, project_folder = _project(folders, folder)

    def pick(flag: Any, *names: str, key: str) -> tuple[Any, str]:
        if flag is not None:
            return flag, "flag"
        for name in names:
            if env.get(name):
                return env[name], name
            if dotenv.get(name):
                return dotenv[name], name
        if project.get(key) is not None:
            return project[key], "pyproject.toml"
        return None, "default"

    found_url, source = pick(url, "YAMLBASE_URL", "DATABASE_URL", key="url")
    found_changelog, changelog_source = pick(changelog_file, "YAMLBASE_CHANGELOG_FILE", key="changelog-file")
    if changelog_source == "pyproject.toml" and found_changelog and project_folder is not None:
        written = Path(str(found_changelog))
        if not written.is_absolute() and project_folder != folder.absolute():
            found_changelog = _shown_path(project_folder / written, folder)
    if source == "pyproject.toml" and found_url and project_folder is not None:
        found_url = _anchored_sqlite(str(found_url), project_folder, folder)
    found_search, search_source = pick(search_path, "YAMLBASE_SEARCH_PATH", key="search-path")
    if search_source == "pyproject.toml" and found_search is not None and project_folder is not None:
        found_search = _anchored_search_path(found_search, project_folder, folder)
    elif found_search is None and project_folder is not None and project_folder != folder.absolute():
        # Run from a subfolder of the project: name files as a run from the project's root would.
        found_search = _shown_path(project_folder, folder)
    found_timeout, timeout_source = pick(lock_timeout, "YAMLBASE_LOCK_TIMEOUT", key="lock-timeout")
    try:
        timeout = float(found_timeout) if found_timeout is not None else DEFAULT_LOCK_TIMEOUT
    except (TypeError, ValueError):
        where = "[tool.yamlbase] lock-timeout" if timeout_source == "pyproject.toml" else timeout_source
        raise UsageError(f"{where}: the lock timeout is a number of seconds, not {found_timeout!r}") from None
    return Settings(
        url=str(found_url) if found_url else DEFAULT_URL,
        changelog_file=str(found_changelog) if found_changelog else DEFAULT_CHANGELOG,
        lock_timeout=timeout,
        url_source=source,
        search_path=str(found_search) if found_search else None,
    )
