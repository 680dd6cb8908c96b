"""The raw ``sql`` change: statements written by hand, split and stripped as Liquibase 4.28 does.

Liquibase (``StringUtil.processMultiLineSQL`` over its ``SimpleSqlGrammar`` tokens) works on tokens, never on
characters, so a delimiter, ``BEGIN`` or ``--`` inside a quoted string or a comment is never taken for one. Every
path here (default splitting, a custom ``endDelimiter``, ``splitStatements: false``, ``stripComments``) runs over
the same tokens from :func:`tokenize`. The rules, each checked against the real Liquibase 4.28:

- the text is trimmed, then ``\\r`` removed (``AbstractSQLChange.generateStatements``);
- tokens: runs of whitespace, ``--`` comments (to the end of the line), ``/* */`` comments, ``'…'`` and ``"…"``
  strings (``''``/``""`` and backslash escapes, optional ``N``/``E``/``U``/``R``/``B``/``RB``/``_utf8`` prefix),
  `````…````` / ``[…]`` / ``"…"`` quoted names, names, dotted names (``a.b``), numbers, and single symbols;
  an unterminated string or comment is no token: its quote or ``/`` is a plain symbol;
- by default a statement ends at a ``;`` token, and at a ``GO`` or ``/`` token that starts the text or follows
  a whitespace token ending in a newline (so an indented ``GO`` or ``/`` is no delimiter);
- with ``endDelimiter`` it ends instead at a token equal to the delimiter, ignoring case (adjacent tokens that
  spell it, like ``/`` ``/`` for ``//``, are joined first). A word such as ``GO`` is a delimiter anywhere,
  not only alone on its line; ``/`` only at the start of a line. A delimiter longer than one character is
  also a (Java) regular expression matched against the token before and the token itself;
- nothing splits between ``BEGIN`` (unless followed by ``TRANSACTION``/``TRANS``/``TRAN``/``DIALOG``/
  ``CONVERSATION``/``DISTRIBUTED``) and its ``END`` (unless followed by ``TRANSACTION``/``TRANS``/``TRAN``);
- ``stripComments`` drops comment tokens and keeps the whitespace around them;
- ``splitStatements: false`` sends the whole text, trimmed, its last ``;`` included (but the text loses a
  trailing ``endDelimiter``, or the start of one, when one is given: Liquibase's ``mergeTokens`` drops it);
- statements are trimmed of characters up to U+0020 (Java's ``String.trim``) and empty ones dropped.

Where yamlbase differs on purpose: a statement holding only comments is dropped (Liquibase sends it, which
MySQL refuses as an empty query); a character the grammar has no token for (a form feed, a control character)
is a symbol (Liquibase stops with a lexical error); non-ASCII letters are those of ``str.isalpha`` with the
grammar's few additions (its table dates from an older Unicode).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from yamlbase.changelog.checksum import java_trim
from yamlbase.changelog.filters import dbms_matches
from yamlbase.changes.base import Change, PlanContext, RawSQL, Step, register

TokenKind = Literal["space", "comment", "code"]


@dataclass(frozen=True)
class Token:
    """One token of SQL text: whitespace, a comment, or anything else (``code``)."""

    kind: TokenKind
    text: str


# SimpleSqlGrammar's WHITESPACE characters
_SPACE = frozenset(
    " \t\n\r\u0085\u00a0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u200b\u200c\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
)
_SPACE_RUN = re.compile("[" + "".join(re.escape(c) for c in sorted(_SPACE)) + "]*")
_NUMBERS = (
    re.compile(r"[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?"),
    re.compile(r"[0-9]+\.(?:[eE][+-]?[0-9]+)?"),
    re.compile(r"[0-9]+[eE][+-]?[0-9]+"),
    re.compile(r"[0-9]+"),
)
_STRING_PREFIXES = ("", "u", "e", "n", "r", "b", "rb", "_utf8")
_STRING_STARTS = frozenset("'\"uUeEnNrRbB_")
_ASCII_NAME_PART = re.compile(r"[A-Za-z0-9$_#@]*")
_LINE_REST = re.compile(r"[^\r\n]*")
_BEGIN_NOT_BLOCK = frozenset({"transaction", "trans", "tran", "dialog", "conversation", "distributed"})
_END_NOT_BLOCK = frozenset({"transaction", "trans", "tran"})


def _run_end(pattern: re.Pattern[str], text: str, i: int) -> int:
    """End of the run of ``pattern`` (a ``[…]*``) starting at ``i``."""
    match = pattern.match(text, i)
    return match.end() if match else i


def _is_letter(ch: str) -> bool:
    """A letter of the grammar: Python's letters but for ª, µ, º and those beyond U+FFFF (two UTF-16 symbols
    to Java), plus the few non-letters its table lists: ÷, №, Roman numerals, CJK symbols, fullwidth forms."""
    if ch <= "\x7f":
        return ch.isalpha()
    if ch > "\uffff" or ch in "\u00aa\u00b5\u00ba":
        return False
    return (
        ch.isalpha()
        or ch in "\u00f7\u2116"
        or "\u2160" <= ch <= "\u217f"
        or "\u3000" <= ch <= "\u303f"
        or "\uff00" <= ch <= "\uffef"
    )


def _is_name_start(ch: str) -> bool:
    return _is_letter(ch) or ch in "$_"


def _is_name_part(ch: str) -> bool:
    return _is_name_start(ch) or ("0" <= ch <= "9") or ch in "#@"


def _name_end(text: str, i: int) -> int:
    """End of the plain name starting at ``i`` (``i`` when there is none)."""
    if i >= len(text) or not _is_name_start(text[i]):
        return i
    i = _run_end(_ASCII_NAME_PART, text, i + 1)
    while i < len(text) and _is_name_part(text[i]):
        i = _run_end(_ASCII_NAME_PART, text, i + 1)
    return i


def _quoted_name_end(text: str, i: int) -> int:
    """End of the `` `name` ``, ``[name]`` or ``"name"`` (on one line, not empty) starting at ``i``."""
    n = len(text)
    if i >= n or text[i] not in '"`[':
        return i
    if text[i] == "[":
        if i + 1 >= n or text[i + 1] in "0123456789]":
            return i
        j = i + 2
        close = "]"
    else:
        j = i + 1
        close = text[i]
    while j < n and text[j] not in (close, "\n", "\r"):
        j += 1
    if j < n and text[j] == close and j > i + 1:
        return j + 1
    return i


def _name_part_end(text: str, i: int) -> int:
    return max(_name_end(text, i), _quoted_name_end(text, i))


def _dotted_name_end(text: str, i: int) -> int:
    """End of ``a.b``, ``"s" . t``…: names joined by dots, with blanks and newlines around the dots."""
    end = _name_part_end(text, i)
    if end == i:
        return i
    n = len(text)
    while True:
        j = end
        while j < n and text[j] in " \r\n":
            j += 1
        if j >= n or text[j] != ".":
            return end
        j += 1
        while j < n and text[j] in " \r\n":
            j += 1
        k = _name_part_end(text, j)
        if k == j:
            return end
        end = k


def _quoted_string_end(text: str, i: int) -> int:
    """End of the longest ``'…'`` / ``"…"`` literal at ``i``: doubled quotes and backslash escapes inside,
    closed by the quote or by a backslash-quote. ``i`` when it is never closed."""
    n = len(text)
    if i >= n or text[i] not in "'\"":
        return i
    quote = text[i]
    end = i
    j = i + 1
    while j < n:
        ch = text[j]
        if ch == "\\":
            if j + 1 >= n:
                break
            if text[j + 1] == quote:
                end = j + 2
            j += 2
        elif ch == quote:
            end = j + 1
            if j + 1 < n and text[j + 1] == quote:
                j += 2
                continue
            break
        else:
            j += 1
    return end


def _string_end(text: str, i: int) -> int:
    if i >= len(text) or text[i] not in _STRING_STARTS:
        return i
    best = i
    for prefix in _STRING_PREFIXES:
        start = i + len(prefix)
        if text[i:start].lower() == prefix:
            best = max(best, _quoted_string_end(text, start))
    return best


def _number_end(text: str, i: int) -> int:
    if i >= len(text) or text[i] not in "0123456789.":
        return i
    return max((m.end() for pattern in _NUMBERS if (m := pattern.match(text, i))), default=i)


def tokenize(sql: str) -> list[Token]:
    """The tokens of ``sql`` as Liquibase's ``SimpleSqlGrammar`` cuts them (longest match at each position)."""
    tokens: list[Token] = []
    i, n = 0, len(sql)
    unclosed = n  # where a "/*" was found with no "*/" after it: none after that has one either
    while i < n:
        if sql.startswith("--", i):
            j = _run_end(_LINE_REST, sql, i + 2)
            tokens.append(Token("comment", sql[i:j]))
            i = j
            continue
        if i < unclosed and sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            if close >= 0:
                tokens.append(Token("comment", sql[i : close + 2]))
                i = close + 2
                continue
            unclosed = i
        space_end = _run_end(_SPACE_RUN, sql, i)
        end = i
        if space_end == i or sql[i] == "\u3000":  # U+3000 is both a space and a letter: the longer token wins
            end = max(_number_end(sql, i), _dotted_name_end(sql, i), _string_end(sql, i), _quoted_name_end(sql, i))
        if space_end > i and space_end >= end:
            tokens.append(Token("space", sql[i:space_end]))
            i = space_end
            continue
        end = max(end, i + 1)  # anything else is a one-character symbol
        tokens.append(Token("code", sql[i:end]))
        i = end
    return tokens


def _join_delimiter(tokens: list[Token], delimiter: str) -> list[Token]:
    """Join runs of tokens that spell ``delimiter`` (``/`` ``/`` → ``//``) into one token.

    As Liquibase's ``mergeTokens``: a token that breaks a partial run is kept as it is, without starting a
    new run, and a run still open at the very end is lost (a trailing ``/`` with ``endDelimiter: //``; even a
    whole one-character delimiter, which is only ever joined with the token after it).
    """
    out: list[Token] = []
    run: list[Token] = []
    for token in tokens:
        if not run:
            if delimiter.startswith(token.text):
                run.append(token)
            else:
                out.append(token)
            continue
        joined = "".join(t.text for t in run) + token.text
        if joined == delimiter:
            out.append(Token("code", joined))
            run = []
        elif delimiter.startswith(joined):
            run.append(token)
        else:
            out.extend(run)
            out.append(token)
            run = []
    return out


@functools.lru_cache(maxsize=64)
def _delimiter_regex(delimiter: str) -> re.Pattern[str] | None:
    try:
        return re.compile(r"[ \t\n\x0b\f\r]*" + delimiter.lower(), re.ASCII)  # Java's \s, \w, \d are ASCII
    except re.error:
        return None


def _is_delimiter(piece: str, previous: str | None, delimiter: str | None) -> bool:
    """Liquibase's ``StringUtil.isDelimiter`` (not in ``strict`` mode)."""
    at_line_start = previous is None or previous.endswith("\n")
    if delimiter is None:
        return piece == ";" or (piece.lower() in ("go", "/") and at_line_start)
    if len(delimiter) == 1:
        if delimiter == "/" and not at_line_start:
            return False  # a slash that is a division sign or part of a comment
        return piece.lower() == delimiter.lower()
    if piece.lower() == delimiter.lower():
        return True
    pattern = _delimiter_regex(delimiter)
    return pattern is not None and pattern.fullmatch(f"{previous}{piece}".lower()) is not None


def split_sql(sql: str, *, split: bool = True, strip_comments: bool = False, delimiter: str | None = None) -> list[str]:
    """The statements of ``sql`` after Liquibase's ``stripComments``/``splitStatements``/``endDelimiter``."""
    tokens = tokenize(java_trim(sql).replace("\r", ""))
    if strip_comments:
        tokens = [t for t in tokens if t.kind != "comment"]
    if delimiter is not None:
        tokens = _join_delimiter(tokens, delimiter)
    # the next token that is not blank, for each position: BEGIN and END look at it
    following: list[str | None] = [None] * len(tokens)
    ahead: str | None = None
    for index in range(len(tokens) - 1, -1, -1):
        following[index] = ahead
        ahead = java_trim(tokens[index].text) or ahead

    statements: list[str] = []
    current: list[Token] = []

    def finish() -> None:
        text = java_trim("".join(t.text for t in current))
        if text and any(t.kind == "code" for t in current):
            statements.append(text)
        current.clear()

    depth = 0  # BEGIN … END nesting
    previous: str | None = None
    for token, nxt in zip(tokens, following, strict=True):
        piece = token.text
        word = piece.lower()
        after = (nxt or "").lower()
        if word == "begin" and after not in _BEGIN_NOT_BLOCK:
            depth += 1
        elif word == "end" and depth > 0 and after not in _END_NOT_BLOCK:
            depth -= 1
        if split and depth == 0 and _is_delimiter(piece, previous, delimiter):
            finish()
        elif current or java_trim(piece):
            current.append(token)
        previous = piece
    finish()
    return statements


@register
class Sql(Change):
    """Runs SQL written by hand. It has no automatic rollback."""

    name = "sql"
    sql: str = Field(description="the SQL text")
    split_statements: bool | None = Field(None, description="split on ';' and GO (default true)")
    strip_comments: bool | None = Field(None, description="remove -- and /* */ comments (default false)")
    end_delimiter: str | None = Field(None, description="statement delimiter instead of ';'")
    dbms: str | None = None
    comment: str | None = None

    def statements(self) -> list[str]:
        return split_sql(
            self.sql,
            split=self.split_statements is not False,
            strip_comments=bool(self.strip_comments),
            delimiter=self.end_delimiter,
        )

    def operations(self, ctx: PlanContext) -> list[Step]:
        if not dbms_matches(self.dbms, ctx.dialect):
            return []
        return [RawSQL(s) for s in self.statements()]
