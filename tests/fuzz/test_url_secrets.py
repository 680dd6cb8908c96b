"""Property: no message shows any part of a database URL's password, whatever the password holds (``@``, ``:``,
``/``, ``%``, spaces, any character): not ``safe_url``, not the refusal of a URL, not the command line."""

from __future__ import annotations

import os
from collections.abc import Callable

from click.testing import Result
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from yamlbase.commands import parse_url, safe_url
from yamlbase.errors import UsageError

Cli = Callable[..., Result]

IN_CI = os.environ.get("CI", "").lower() == "true"
EXAMPLES = int(os.environ.get("YAMLBASE_FUZZ_EXAMPLES", "200"))
# Port 1 on the loopback refuses at once: the connection error is part of what is checked.
TEMPLATE = "postgresql://app:{}@127.0.0.1:1/app"
PASSWORDS = st.text(st.one_of(st.sampled_from("@:/?#%&=+ []!*'\"\\"), st.characters()), min_size=3, max_size=24)


def messages(cli: Cli, url: str) -> list[str]:
    """What a person may see about ``url``: its safe form, its refusal, and the CLI's output for it."""
    seen = [safe_url(url)]
    try:
        parse_url(url)
    except UsageError as refused:
        seen.append(str(refused))
    result = cli("history", "--url", url)
    seen.append(result.stdout + result.stderr)
    return seen


def pieces(password: str) -> set[str]:
    return {password[i : i + 3] for i in range(len(password) - 2)}


@settings(
    max_examples=max(1, EXAMPLES // 2),
    deadline=None,
    database=None,
    derandomize=IN_CI,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(password=PASSWORDS)
@example(password="p@ss:w0rd")
@example(password="p@ss")
@example(password="s3cr3t:with:colons")
@example(password="a/b@c?d#e")
@example(password="quoted'\" = port=5")
def test_no_message_shows_a_piece_of_the_password(cli: Cli, password: str) -> None:
    # Text every message has whatever the password (the host, the hint, the driver's words) is not a leak.
    vocabulary = "\n".join(messages(cli, TEMPLATE.format("x")) + messages(cli, TEMPLATE.format("x@x")))

    shown = messages(cli, TEMPLATE.format(password))

    for text in shown:
        leaked = sorted(piece for piece in pieces(password) if piece in text and piece not in vocabulary)
        assert not leaked, f"{leaked} of the password in: {text}"
