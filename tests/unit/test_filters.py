"""Contexts, labels and properties: the pure rules (Liquibase 4.28's ExpressionMatcher, ContextExpression,
LabelExpression, ChangeLogParameters and ExpressionExpander), with no database."""

from __future__ import annotations

import pytest

from yamlbase.changelog import filters
from yamlbase.changelog.properties import Definition, Properties, Selection, Substituted, UndefinedProperty, expand


def ctx(expression: str | None, given: str | None) -> bool:
    return filters.context_matches(expression, filters.names(given))


@pytest.mark.parametrize(
    ("expression", "given", "runs"),
    [
        # No contexts given: every changeSet runs (Liquibase's documented default) ...
        ("test", None, True),
        ("!test", None, True),
        ("test and prod", "", True),
        # ... except one that requires a context with "@".
        ("@test", None, False),
        ("@test", "test", True),
        ("@!test", None, True),  # Liquibase drops the "@" of "@!name": no contexts, so it runs
        # A changeSet without context runs under every context.
        (None, "prod", True),
        ("", "prod", True),
        ("  ", "prod", True),
        # Plain names, case-insensitive, several given.
        ("test", "test", True),
        ("test", "prod", False),
        ("TEST", "dev, Test", True),
        # Negation, both spellings.
        ("!test", "test", False),
        ("!test", "prod", True),
        ("not test", "test", False),
        # and / or / comma.
        ("v1 and !test", "v1", True),
        ("v1 and !test", "v1,test", False),
        ("v1 or test", "test", True),
        ("v1, test", "test", True),
        ("v1,test", "prod", False),
        # Parentheses.
        ("(a or b) and c", "b,c", True),
        ("(a or b) and c", "a", False),
        ("!(a or b)", "c", True),
        ("!(a or b)", "b", False),
        ("((a and b) or c) and !d", "c", True),
        ("((a and b) or c) and !d", "c,d", False),
    ],
)
def test_context_expressions(expression: str | None, given: str | None, runs: bool) -> None:
    assert ctx(expression, given) is runs


@pytest.mark.parametrize(
    ("label_filter", "labels", "runs"),
    [
        (None, "v1", True),  # no filter: everything runs
        ("v1", "", True),  # a changeSet without labels runs under any filter
        ("@v1", "", False),  # ... unless the filter requires the label
        ("v1", "v1,beta", True),
        ("v1 and !beta", "v1,beta", False),
        ("v1 and !beta", "V1", True),
        ("v2", "v1", False),
        ("v1 or v2", "v2", True),
        ("v1, v2", "v3", False),
    ],
)
def test_label_filters(label_filter: str | None, labels: str, runs: bool) -> None:
    assert filters.labels_match(label_filter, filters.names(labels)) is runs


def test_unbalanced_parentheses_are_reported() -> None:
    assert filters.check_expression("(a and b") is not None
    assert filters.check_expression("(a and b) or c") is None


def test_history_columns_join_include_and_changeset_contexts_as_liquibase() -> None:
    assert filters.full_context((), None) is None
    assert filters.full_context((), "dev") == "dev"
    assert filters.full_context(("inner",), "dev, test") == "inner AND (dev, test)"
    assert filters.full_context(("a or b", "outer"), "x") == "(a or b) AND outer AND x"
    assert filters.full_labels(("Inc",), "v1, Beta") == "inc,v1,beta"
    assert filters.full_labels((), None) is None


# --- properties -----------------------------------------------------------------------------------------------


def lookup_in(values: dict[str, str]):  # type: ignore[no-untyped-def]
    return lambda name: values.get(name)


def test_expansion_replaces_nested_and_recursive_properties() -> None:
    values = {"schema": "app", "table": "${schema}.users", "env": "prod", "name_prod": "p"}
    assert expand("select * from ${table}", lookup_in(values)) == "select * from app.users"
    assert expand("${name_${env}}", lookup_in(values)) == "p"
    assert expand("no properties", lookup_in(values)) == "no properties"
    assert expand("cost: $5 {x}", lookup_in(values)) == "cost: $5 {x}"
    assert expand("${:schema} stays", lookup_in(values)) == "${schema} stays"
    assert expand("unclosed ${schema", lookup_in(values)) == "unclosed ${schema"


def test_an_undefined_property_is_an_error_not_text() -> None:
    with pytest.raises(UndefinedProperty) as caught:
        expand("select ${missing}", lookup_in({}))
    assert caught.value.name == "missing"


def test_property_loops_are_errors() -> None:
    with pytest.raises(UndefinedProperty):
        expand("${a}", lookup_in({"a": "${b}", "b": "${a}"}))


def test_precedence_environment_then_run_then_changelog_first_definition() -> None:
    """Liquibase 4.28's order (checked against it): the environment, then -D, then the changelog's first."""
    store = Properties(given={"A": "given", "e": "given"}, environ={"a": "env", "B": "env"})
    store.define(Definition("a", "changelog"), global_=True, file="f.yaml")
    store.define(Definition("b", "changelog"), global_=True, file="f.yaml")
    store.define(Definition("c", "first"), global_=True, file="f.yaml")
    store.define(Definition("c", "second"), global_=True, file="f.yaml")
    store.define(Definition("d", "local"), global_=False, file="f.yaml")
    store.define(Definition("e", "changelog"), global_=True, file="f.yaml")
    assert store.lookup("a", "f.yaml") == "env"
    assert store.lookup("b", "f.yaml") == "env"
    assert store.lookup("E", "f.yaml") == "given"
    assert store.lookup("C", "f.yaml") == "first"  # a property, once set, keeps its value; names ignore case
    assert store.lookup("d", "f.yaml") == "local"
    assert store.lookup("d", "other.yaml") is None  # global: false is seen only by its own file


def test_property_definitions_filtered_by_context_labels_and_dbms() -> None:
    store = Properties(selection=Selection(contexts=frozenset({"dev"}), label_filter="v1", dbms="postgresql"))
    store.define(Definition("x", "for test", context="test"), global_=True, file="f")
    store.define(Definition("x", "for mysql", dbms="mysql"), global_=True, file="f")
    store.define(Definition("x", "for v2", labels="v2"), global_=True, file="f")
    store.define(Definition("x", "for dev on postgresql", context="dev", dbms="postgresql"), global_=True, file="f")
    assert store.lookup("x", "f") == "for dev on postgresql"


def test_substituted_text_reads_as_the_type_liquibase_converts_it_to() -> None:
    assert Substituted("5").reads_as("integer") and Substituted("-2").reads_as("number")
    assert Substituted("1.5e3").reads_as("number") and not Substituted("1.5").reads_as("integer")
    assert Substituted("TRUE").reads_as("boolean") and not Substituted("yes").reads_as("boolean")
