"""The raw ``sql`` change: statements written by hand, split and stripped as Liquibase does."""

from __future__ import annotations

import re

from pydantic import Field

from yamlbase.changes.base import Change, PlanContext, RawSQL, Step, register

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def split_sql(sql: str, *, split: bool = True, strip_comments: bool = False, delimiter: str | None = None) -> list[str]:
    """The statements in ``sql`` after Liquibase's ``stripComments``/``splitStatements``/``endDelimiter``."""
    text = _strip_comments(sql) if strip_comments else sql
    if not split:
        statements = [_trim_delimiter(text, delimiter)]
    elif delimiter:
        pattern = re.compile(_delimiter_pattern(delimiter), re.IGNORECASE | re.MULTILINE)
        statements = pattern.split(text)
    else:
        statements = _split_default(text)
    return [s.strip() for s in statements if s.strip() and _COMMENTS.sub("", s).strip()]


def _delimiter_pattern(delimiter: str) -> str:
    if delimiter.isalpha():  # a word delimiter such as GO counts only alone on its line
        return rf"^\s*{re.escape(delimiter)}\s*$"
    return re.escape(delimiter)


def _trim_delimiter(text: str, delimiter: str | None) -> str:
    stripped = text.strip()
    end = delimiter or ";"
    return stripped[: -len(end)] if stripped.endswith(end) else stripped


def _split_default(text: str) -> list[str]:
    """Split on ';' outside quotes and comments, and on a line holding only GO."""
    out: list[str] = []
    buf: list[str] = []
    i, n = 0, len(text)
    quote: str | None = None
    while i < n:
        ch = text[i]
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = None
            i += 1
            continue
        if ch in ("'", '"'):
            quote = ch
        elif text.startswith("--", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            buf.append(text[i:end])
            i = end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            buf.append(text[i:end])
            i = end
            continue
        elif ch == ";":
            out.append("".join(buf))
            buf = []
            i += 1
            continue
        elif ch == "\n" and re.match(r"[ \t]*go[ \t]*(?:\r?\n|$)", text[i + 1 :], re.IGNORECASE):
            out.append("".join(buf))
            buf = []
            i = text.find("\n", i + 1)
            i = n if i < 0 else i
            continue
        buf.append(ch)
        i += 1
    out.append("".join(buf))
    return out


def _strip_comments(sql: str) -> str:
    return _COMMENTS.sub("", sql)


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
        return [RawSQL(s) for s in self.statements()]
