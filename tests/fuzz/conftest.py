"""What the fuzz tests share: the corpus, a wall-clock bound, and what a clean refusal looks like.

A clean refusal: a :class:`~yamlbase.errors.ChangeLogError` whose every problem is located
(``path:line:col``, line and column from 1), or on the command line a non-zero exit with a message and no
traceback (the CLI turns an exception it does not know into ``error: unexpected …``: that is a bug too).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from yamlbase.cli import main
from yamlbase.errors import ChangeLogError

SETTINGS_VARIABLES = ("YAMLBASE_URL", "DATABASE_URL", "YAMLBASE_CHANGELOG_FILE", "YAMLBASE_LOCK_TIMEOUT")
IN_CI = os.environ.get("CI", "").lower() == "true"
LOCATED = re.compile(r"^.+:[1-9]\d*:[1-9]\d*: \S")

Bound = Callable[[float, str], contextlib.AbstractContextManager[None]]
Cli = Callable[..., Result]


class Overran(BaseException):
    """Raised by the alarm. Not an Exception, so that no ``except Exception`` in yamlbase swallows it."""


@contextlib.contextmanager
def _bounded(seconds: float, what: str) -> Iterator[None]:
    def alarm(_signum: int, _frame: Any) -> None:
        raise Overran

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except Overran:
        raise AssertionError(f"{what} did not finish within {seconds:g}s (a hang)") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="session")
def bounded() -> Bound:
    """``with bounded(10, "parsing x"):`` fails the test (an AssertionError) when the block runs longer."""
    return _bounded


def assert_located(error: ChangeLogError) -> None:
    """Every problem names a file, a line and a column (all files in these tests can be read)."""
    assert error.problems, "a ChangeLogError with no problem in it"
    for problem in error.problems:
        where = problem.location
        assert where.path, f"problem without a file: {problem}"
        assert where.line >= 1 and where.column >= 1, f"problem without a line and column: {problem!s}"
        assert LOCATED.match(str(problem)), f"not path:line:col: message: {problem!s}"


@pytest.fixture(scope="session")
def located() -> Callable[[ChangeLogError], None]:
    return assert_located


@pytest.fixture(scope="module", autouse=True)
def neutral_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty working folder (no .env, no pyproject.toml) and no yamlbase settings in the environment."""
    folder = tmp_path_factory.mktemp("fuzz-cwd")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for name in SETTINGS_VARIABLES:
            patch.delenv(name, raising=False)
        yield folder


@pytest.fixture(scope="session")
def cli() -> Cli:
    """``cli("validate", "--changelog-file", path)``: the CLI in-process, stdout and stderr apart."""

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args))

    return invoke


def assert_clean(result: Result, allowed: set[int], what: str) -> None:
    """An exit code in ``allowed``, no traceback, and no exception the CLI did not expect."""
    text = result.stdout + result.stderr
    context = f"{what}: exit {result.exit_code}\n--- stdout ---\n{result.stdout[-3000:]}\n--- stderr ---\n{result.stderr[-3000:]}"
    assert "Traceback (most recent call last)" not in text, context
    assert "error: unexpected " not in text, context
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{context}\nthe CLI raised {result.exception!r}") from result.exception
    assert result.exit_code in allowed, context
    if result.exit_code != 0:
        assert result.stderr.strip() or result.stdout.strip(), f"{context}\nfailed without saying why"


@pytest.fixture(scope="session")
def clean() -> Callable[[Result, set[int], str], None]:
    return assert_clean
