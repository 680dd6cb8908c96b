"""structure.compare over hand-built schemas (no database): renames from hints carry keys and indexes along,
hints already applied are ignored, checks match by normalised expression, what cannot be compared exactly says so."""

from __future__ import annotations

from dataclasses import replace

from yamlbase.structure.compare import compare
from yamlbase.structure.model import (
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    Index,
    PrimaryKey,
    Routine,
    Schema,
    Table,
    View,
)

ID = Column("id", "INTEGER", nullable=False)


def schema(*tables: Table, dialect: str = "sqlite", enums: tuple[Enum, ...] = ()) -> Schema:
    return Schema(dialect, tables={t.key: t for t in tables}, enums={e.name: e for e in enums})


def owner(name: str = "owner", column: str = "name") -> Table:
    return Table(
        name,
        columns=(ID, Column(column, "VARCHAR(50)")),
        primary_key=PrimaryKey(("id",)),
        indexes=(Index(f"ix_{column}", (column,)),),
        checks=(CheckConstraint(f"length({column}) > 0"),),
    )


def item(referred: str = "owner") -> Table:
    return Table(
        "item",
        columns=(ID, Column("owner_id", "INTEGER")),
        primary_key=PrimaryKey(("id",)),
        foreign_keys=(ForeignKey(("owner_id",), referred, ("id",), name="fk_item_owner"),),
    )


def test_a_hinted_table_rename_keeps_the_keys_that_refer_to_it() -> None:
    found = compare(schema(owner(), item()), schema(owner("person"), item("person")), renames={"owner": "person"})
    assert [d.describe() for d in found] == ["rename_table person"]


def test_a_hinted_column_rename_keeps_its_index_and_check() -> None:
    old = owner()
    new = replace(
        owner(column="full_name"),
        indexes=(Index("ix_name", ("full_name",)),),
        checks=(CheckConstraint("length(full_name) > 0"),),
    )
    found = compare(schema(old), schema(new), renames={"owner.name": "owner.full_name"})
    assert [d.describe() for d in found] == ["rename_column owner.full_name"]
    assert found[0].old == old.column("name") and found[0].new == new.column("full_name")


def test_a_hint_already_applied_is_ignored() -> None:
    assert compare(schema(owner("person")), schema(owner("person")), renames={"owner": "person"}) == []
    assert compare(schema(owner()), schema(owner()), renames={"owner.old": "owner.name"}) == []


def test_an_unhinted_rename_is_a_drop_and_an_add_with_notes() -> None:
    found = compare(schema(owner()), schema(owner("person")))
    assert [(d.kind, d.destructive) for d in found] == [("add_table", False), ("drop_table", True)]
    assert all(d.note and "rename of owner to person" in d.note for d in found)
    assert "--rename owner=person" in str(found[1].note)


def test_checks_match_by_normalised_expression_and_by_name() -> None:
    spaced = replace(owner(), checks=(CheckConstraint('(LENGTH("name")  >  0)'),))
    assert compare(schema(owner()), schema(spaced)) == []
    named = replace(owner(), checks=(CheckConstraint("length(name) > 0", name="ck"),))
    renamed_check = replace(owner(), checks=(CheckConstraint("length(name) > 1", name="ck"),))
    assert [d.kind for d in compare(schema(named), schema(renamed_check))] == ["drop_check", "add_check"]


def test_enum_values_added_or_removed() -> None:
    mood = Enum("mood", ("sad", "ok"))
    added = compare(schema(enums=(mood,)), schema(enums=(Enum("mood", ("sad", "meh", "ok")),)))
    assert [d.describe() for d in added] == ["add_enum_value mood.meh"]
    removed = compare(schema(enums=(mood,)), schema(enums=(Enum("mood", ("sad",)),)))
    assert [(d.kind, d.destructive) for d in removed] == [("drop_enum", True), ("add_enum", False)]
    assert "ok removed" in str(removed[0].note)


def test_schemas_of_two_dialects_say_their_differences_may_be_spelling() -> None:
    pg = replace(owner(), columns=(ID, Column("name", "character varying(50)")))
    (found,) = compare(schema(owner()), schema(pg, dialect="postgresql"))
    assert found.kind == "alter_column" and found.changed == ("type",)
    assert "compared across dialects (sqlite and postgresql)" in str(found.note)


def test_routines_by_name_and_kind() -> None:
    function, procedure = Routine("bump", "FUNCTION"), Routine("bump", "PROCEDURE")
    old = Schema("postgresql", routines={"bump": function, "gone": Routine("gone", "PROCEDURE")})
    new = Schema("postgresql", routines={"bump": procedure})
    assert [d.describe() for d in compare(old, new)] == ["drop_routine bump", "drop_routine gone", "add_routine bump"]
    assert compare(new, new) == []


def test_explain_says_what_each_difference_was_and_is() -> None:
    wider = replace(owner(), columns=(ID, Column("name", "VARCHAR(80)", nullable=False, comment="who")))
    lines = [d.explain() for d in compare(schema(owner()), schema(wider, item()))]
    assert lines == [
        "add_table item: columns id, owner_id",
        "alter_column owner.name (type, nullable, comment): type was 'VARCHAR(50)', is 'VARCHAR(80)'; nullable was "
        "True, is False; comment was None, is 'who'",
    ]
    view = Schema("sqlite", views={"v": View("v", "SELECT 1")})
    assert [d.explain() for d in compare(Schema("sqlite"), view)] == [
        "add_view v: View(name='v', definition='SELECT 1')"
    ]
