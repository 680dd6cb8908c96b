"""Settings resolution (yamlbase/config.py) over real folder trees: where pyproject.toml and .env are found,
what a relative changelog path means, and the refusal of unknown keys. No database, no environment."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from yamlbase.config import DEFAULT_CHANGELOG, DEFAULT_URL, Settings, load_settings, search_folders
from yamlbase.errors import UsageError


def tree(root: Path, files: dict[str, str]) -> None:
    """Files (and folders, for names ending in /) below ``root``."""
    for name, text in files.items():
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def settings_in(folder: Path, **environ: str) -> Settings:
    folder.mkdir(parents=True, exist_ok=True)
    return load_settings(cwd=folder, environ=dict(environ))


def test_the_search_goes_up_to_the_folder_holding_git(tmp_path: Path) -> None:
    tree(tmp_path, {"repo/.git/": "", "repo/app/src/": ""})

    assert search_folders(tmp_path / "repo" / "app" / "src") == [
        tmp_path / "repo" / "app" / "src",
        tmp_path / "repo" / "app",
        tmp_path / "repo",
    ]


def test_a_git_file_marks_a_root_too(tmp_path: Path) -> None:
    """A git worktree or submodule has a ``.git`` file, not a folder."""
    tree(tmp_path, {"worktree/.git": "gitdir: /elsewhere\n", "worktree/app/": ""})

    assert search_folders(tmp_path / "worktree" / "app")[-1] == tmp_path / "worktree"


def test_settings_above_the_repository_root_are_not_used(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "pyproject.toml": '[tool.yamlbase]\nurl = "sqlite:///outside.db"\n',
            ".env": "DATABASE_URL=sqlite:///outside-env.db\n",
            "repo/.git/": "",
        },
    )

    settings = settings_in(tmp_path / "repo" / "app")

    assert (settings.url, settings.url_source) == (DEFAULT_URL, "default")


def test_pyproject_and_env_are_found_above_the_working_folder(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "repo/.git/": "",
            "repo/pyproject.toml": '[tool.yamlbase]\nurl = "sqlite:///from-pyproject.db"\nlock-timeout = 7\n',
            "repo/.env": "YAMLBASE_CHANGELOG_FILE=db/from-env.yaml\n",
        },
    )

    settings = settings_in(tmp_path / "repo" / "services" / "api")

    assert settings.url == "sqlite:///../../from-pyproject.db"  # relative to the pyproject.toml, as below
    assert settings.lock_timeout == 7
    # .env values mean what they would in the environment: relative to the working folder.
    assert settings.changelog_file == "db/from-env.yaml"


def test_the_nearest_env_file_wins(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "repo/.git/": "",
            "repo/.env": "DATABASE_URL=sqlite:///root.db\n",
            "repo/app/.env": "DATABASE_URL=sqlite:///app.db\n",
        },
    )

    assert settings_in(tmp_path / "repo" / "app" / "src").url == "sqlite:///app.db"


def test_a_pyproject_without_a_yamlbase_section_is_passed_over(tmp_path: Path) -> None:
    """As ruff passes over a pyproject.toml without [tool.ruff]: a sub-package's own pyproject.toml does not
    hide the settings of the project root."""
    tree(
        tmp_path,
        {
            "repo/.git/": "",
            "repo/pyproject.toml": '[tool.yamlbase]\nurl = "sqlite:///root.db"\n',
            "repo/packages/api/pyproject.toml": '[project]\nname = "api"\n',
        },
    )

    assert settings_in(tmp_path / "repo" / "packages" / "api").url == "sqlite:///../../root.db"


def test_the_nearest_yamlbase_section_wins(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "repo/.git/": "",
            "repo/pyproject.toml": '[tool.yamlbase]\nurl = "sqlite:///root.db"\n',
            "repo/api/pyproject.toml": '[tool.yamlbase]\nurl = "sqlite:///api.db"\n',
        },
    )

    assert settings_in(tmp_path / "repo" / "api").url == "sqlite:///api.db"


@pytest.mark.parametrize(
    ("cwd", "expected"),
    [("repo", "db/changelog.yaml"), ("repo/app", "../db/changelog.yaml"), ("repo/app/src", "../../db/changelog.yaml")],
)
def test_a_relative_changelog_file_is_relative_to_its_pyproject(tmp_path: Path, cwd: str, expected: str) -> None:
    tree(tmp_path, {"repo/.git/": "", "repo/pyproject.toml": '[tool.yamlbase]\nchangelog-file = "db/changelog.yaml"\n'})

    settings = settings_in(tmp_path / cwd)

    assert settings.changelog_file == expected
    assert (tmp_path / cwd / settings.changelog_file).resolve() == tmp_path / "repo" / "db" / "changelog.yaml"


@pytest.mark.parametrize(
    ("written", "cwd", "expected"),
    [
        ("sqlite:///dev.db", "repo", "sqlite:///dev.db"),
        ("sqlite:///dev.db", "repo/app/src", "sqlite:///../../dev.db"),
        ("sqlite+pysqlite:///var/dev.db?timeout=5", "repo/app", "sqlite+pysqlite:///../var/dev.db?timeout=5"),
        ("sqlite:////srv/dev.db", "repo/app", "sqlite:////srv/dev.db"),
        ("sqlite://", "repo/app", "sqlite://"),
        ("sqlite:///:memory:", "repo/app", "sqlite:///:memory:"),
        ("postgresql://app@db/app", "repo/app", "postgresql://app@db/app"),
    ],
)
def test_a_relative_sqlite_url_is_relative_to_its_pyproject(
    tmp_path: Path, written: str, cwd: str, expected: str
) -> None:
    tree(
        tmp_path,
        {"repo/.git/": "", "repo/app/src/": "", "repo/pyproject.toml": f'[tool.yamlbase]\nurl = "{written}"\n'},
    )

    assert settings_in(tmp_path / cwd).url == expected


def test_a_sqlite_url_from_the_environment_stays_relative_to_the_working_folder(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {"repo/.git/": "", "repo/app/": "", "repo/pyproject.toml": '[tool.yamlbase]\nurl = "sqlite:///dev.db"\n'},
    )

    assert settings_in(tmp_path / "repo" / "app", DATABASE_URL="sqlite:///env.db").url == "sqlite:///env.db"


def test_an_absolute_changelog_file_and_the_flag_stay_as_given(tmp_path: Path) -> None:
    absolute = tmp_path / "elsewhere" / "changelog.yaml"
    tree(tmp_path, {"repo/.git/": "", "repo/pyproject.toml": f'[tool.yamlbase]\nchangelog-file = "{absolute}"\n'})
    (tmp_path / "repo" / "app").mkdir()

    assert settings_in(tmp_path / "repo" / "app").changelog_file == str(absolute)
    flagged = load_settings(changelog_file="mine.yaml", cwd=tmp_path / "repo" / "app", environ={})
    assert flagged.changelog_file == "mine.yaml"
    assert settings_in(tmp_path / "repo").changelog_file == str(absolute)
    tree(tmp_path, {"other/.git/": ""})
    assert settings_in(tmp_path / "other").changelog_file == DEFAULT_CHANGELOG


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("changelog_file", "changelog-file"),
        ("changelogFile", "changelog-file"),
        ("lock-timout", "lock-timeout"),
        ("urls", "url"),
        ("colour", None),
    ],
)
def test_an_unknown_key_is_refused_naming_the_file_and_the_key(
    tmp_path: Path, key: str, suggestion: str | None
) -> None:
    tree(tmp_path, {"repo/.git/": "", "repo/pyproject.toml": f'[tool.yamlbase]\nurl = "sqlite:///x.db"\n{key} = 1\n'})

    with pytest.raises(UsageError) as raised:
        settings_in(tmp_path / "repo" / "app")

    message = str(raised.value)
    assert message.startswith(f"{Path('..') / 'pyproject.toml'}: ")
    assert repr(key) in message
    if suggestion is None:
        assert "did you mean" not in message
    else:
        assert f"did you mean {suggestion!r}" in message
    assert "url, changelog-file, lock-timeout" in message


def test_every_unknown_key_is_named(tmp_path: Path) -> None:
    tree(tmp_path, {".git/": "", "pyproject.toml": "[tool.yamlbase]\nurl = 1\ndatabase = 2\nchangelog = 3\n"})

    with pytest.raises(UsageError) as raised:
        settings_in(tmp_path)

    assert "'database'" in str(raised.value) and "'changelog'" in str(raised.value)


def test_a_lock_timeout_that_is_not_a_number_is_a_usage_error(tmp_path: Path) -> None:
    tree(tmp_path, {".git/": "", "pyproject.toml": '[tool.yamlbase]\nlock-timeout = "soon"\n'})

    with pytest.raises(UsageError, match="lock-timeout"):
        settings_in(tmp_path)
    with pytest.raises(UsageError, match="YAMLBASE_LOCK_TIMEOUT"):
        settings_in(tmp_path, YAMLBASE_LOCK_TIMEOUT="later")


@pytest.mark.parametrize(
    ("flag", "environ", "dialect", "expected"),
    [
        (None, {}, None, DEFAULT_URL),
        (None, {}, "postgresql", None),
        (None, {"DATABASE_URL": "sqlite:///app.db"}, "postgresql", None),
        (None, {"DATABASE_URL": "sqlite:///app.db"}, None, "sqlite:///app.db"),
        ("sqlite:///flag.db", {"DATABASE_URL": "sqlite:///app.db"}, "sqlite", "sqlite:///flag.db"),
    ],
    ids=["no-dialect", "dialect", "dialect-over-environment", "environment", "dialect-with-flag"],
)
def test_update_sql_reads_a_database_only_without_a_dialect_or_with_a_url_flag(
    tmp_path: Path, flag: str | None, environ: dict[str, str], dialect: str | None, expected: str | None
) -> None:
    (tmp_path / ".git").mkdir()

    settings = load_settings(url=flag, cwd=tmp_path, environ=environ)

    assert settings.preview_url(dialect) == expected
