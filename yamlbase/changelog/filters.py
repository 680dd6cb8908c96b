"""Which changeSets a run selects: contexts, labels and dbms, with Liquibase 4.28's exact expression rules.

A *context expression* is written on a changeSet (``context: "dev and !test"``) and matched against the
contexts a run was given (``--contexts dev,staging``). A *label filter* is given to the run
(``--label-filter "v1 and !beta"``) and matched against the labels written on a changeSet. Both use one
expression language (Liquibase's ``ExpressionMatcher``): ``and``, ``or``, ``,`` (= or), ``!`` / ``not``,
parentheses, and ``@name`` for a name that must be present even when the run names none. Names are
case-insensitive. An empty side always matches: a changeSet without a context runs under every context, and a
run given no contexts runs every changeSet (likewise for labels).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from yamlbase.changelog.checksum import java_trim

_NESTED = re.compile(r"\(([^()]+)\)")
_COMMA = re.compile(r"\s*,\s*")
_OR = re.compile(r"\s+or\s+")
_AND = re.compile(r"\s+and\s+")
_REQUIRED_NOT = re.compile(r"^@\s*(!|not )")


class ExpressionError(ValueError):
    """A context or label expression that cannot be read (unbalanced parentheses)."""


def expression_matches(expression: str, items: Collection[str]) -> bool:
    """Whether ``items`` (lower-case names) satisfy ``expression`` — Liquibase's ExpressionMatcher, rule for rule."""
    expression = expression.strip()
    if expression == ":TRUE":
        return True
    if expression == ":FALSE":
        return False
    while "(" in expression:
        found = _NESTED.search(expression)
        if found is None:
            raise ExpressionError(f"unbalanced parentheses in {expression!r}")
        value = ":TRUE" if expression_matches(found.group(1), items) else ":FALSE"
        expression = f"{expression[: found.start()]} {value} {expression[found.end() :]}"
    expression = _COMMA.sub(" or ", expression)
    alternatives = _OR.split(expression)
    if len(alternatives) > 1:
        return any(expression_matches(part, items) for part in alternatives)
    conjuncts = _AND.split(expression)
    if len(conjuncts) > 1:
        return all(expression_matches(part, items) for part in conjuncts)
    negated = False
    if expression.startswith("!"):
        negated, expression = True, expression[1:].strip()
    elif expression.lower().startswith("not "):
        negated, expression = True, expression[4:].strip()
    elif _REQUIRED_NOT.match(expression) and len(expression) > len(_REQUIRED_NOT.match(expression).group(0)):  # type: ignore[union-attr]
        negated, expression = True, _REQUIRED_NOT.sub("", expression, count=1).strip()
    required = expression.startswith("@")
    if required:
        expression = expression[1:].strip()
    if not required and not items:
        return True
    if expression.strip() == ":TRUE":
        return not negated
    if expression.strip() == ":FALSE":
        return negated
    name = expression.lower()
    return (not negated) if any(item == name for item in items) else negated


def names(text: str | None) -> frozenset[str]:
    """A comma-separated list of contexts or labels, as the lower-case set Liquibase makes of it."""
    if not text or not text.strip():
        return frozenset()
    return frozenset(part.strip().lower() for part in text.split(",") if part.strip())


def _parts(expression: str | None) -> list[str]:
    """Liquibase splits an expression at its commas first, then matches the parts as alternatives."""
    if not expression or not expression.strip():
        return []
    return [part.strip() for part in expression.split(",") if part.strip()]


def context_matches(expression: str | None, contexts: Collection[str]) -> bool:
    """Whether a changeSet's (or include's) context expression admits the run's ``contexts``."""
    parts = _parts(expression)
    return not parts or any(expression_matches(part, contexts) for part in parts)


def labels_match(label_filter: str | None, labels: Collection[str]) -> bool:
    """Whether the run's label filter admits a changeSet carrying ``labels``."""
    parts = _parts(label_filter)
    return not parts or any(expression_matches(part, labels) for part in parts)


def check_expression(expression: str) -> str | None:
    """Why ``expression`` cannot be read, or None when it can."""
    try:
        for part in _parts(expression):
            expression_matches(part, {"x"})
    except ExpressionError as exc:
        return str(exc)
    return None


def full_context(inherited: Iterable[str], own: str | None) -> str | None:
    """DATABASECHANGELOG.CONTEXTS: the include contexts and the changeSet's, joined by AND as Liquibase does."""
    parts = [*inherited, *([own] if own and own.strip() else [])]
    text = " AND ".join(f"({p})" if ("," in p or " " in p) else p for p in parts)
    return text.strip() or None


def full_labels(inherited: Iterable[str], own: str | None) -> str | None:
    """DATABASECHANGELOG.LABELS: the include labels and the changeSet's, each list in lower case."""
    lists = [",".join(dict.fromkeys(_ordered_names(text))) for text in (*inherited, own)]
    text = ",".join(part for part in lists if part)
    return text or None


def dbms_matches(spec: str | None, dialect: str) -> bool:
    """Whether a ``dbms`` attribute admits the database ``dialect`` (Liquibase's ``DatabaseList.definitionMatches``).

    ``spec`` is a comma list of database short names (``sqlite``, ``postgresql``, ``mysql``, ``mariadb``,
    ``mssql``, ``oracle``, compared case-sensitively), ``!name`` to exclude one, ``all`` or ``none``. An empty
    or absent list admits every database; ``all`` wins over everything, then ``none``, then ``!name``; a list
    of exclusions only admits every other database. As in Liquibase 4.28, ``mysql`` does not admit MariaDB.
    """
    text = java_trim(spec) if spec is not None else ""
    names = text.split(",") if text else []
    while names and names[-1] == "":
        names.pop()  # Java's String.split drops trailing empty strings
    names = [java_trim(name) for name in names]
    if not names:
        return True
    if "all" in names:
        return True
    if "none" in names or f"!{dialect}" in names:
        return False
    wanted = {name for name in names if not name.startswith("!")}
    return not wanted or dialect in wanted


def _ordered_names(text: str | None) -> list[str]:
    return [part.strip().lower() for part in (text or "").split(",") if part.strip()]
