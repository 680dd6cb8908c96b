"""Settings: command-line flags > YAMLBASE_* environment > DATABASE_URL (and .env) > [tool.yamlbase] > defaults."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_URL = "sqlite:///yamlbase.db"
DEFAULT_CHANGELOG = "changelog/changelog.yaml"
DEFAULT_LOCK_TIMEOUT = 300.0


@dataclass(frozen=True)
class Settings:
    url: str
    changelog_file: str
    lock_timeout: float
    # Where the URL came from: "flag", "YAMLBASE_URL", "DATABASE_URL", "pyproject.toml" or "default".
    url_source: str


def _pyproject(folder: Path) -> dict[str, Any]:
    path = folder / "pyproject.toml"
    if not path.is_file():
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    section = data.get("tool", {}).get("yamlbase", {})
    return section if isinstance(section, dict) else {}


def _dotenv(folder: Path) -> dict[str, str]:
    path = folder / ".env"
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load_settings(
    url: str | None = None,
    changelog_file: str | None = None,
    lock_timeout: float | None = None,
    *,
    cwd: Path | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Resolve every setting once, by the documented precedence."""
    folder = cwd or Path.cwd()
    env = dict(os.environ if environ is None else environ)
    dotenv = _dotenv(folder)
    project = _pyproject(folder)

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
    found_changelog, _ = pick(changelog_file, "YAMLBASE_CHANGELOG_FILE", key="changelog-file")
    found_timeout, _ = pick(lock_timeout, "YAMLBASE_LOCK_TIMEOUT", key="lock-timeout")
    return Settings(
        url=str(found_url) if found_url else DEFAULT_URL,
        changelog_file=str(found_changelog) if found_changelog else DEFAULT_CHANGELOG,
        lock_timeout=float(found_timeout) if found_timeout is not None else DEFAULT_LOCK_TIMEOUT,
        url_source=source,
    )
