"""Hand-made schemas and their differences, shared by the generation tests: a first version built from nothing,
and a second one that renames, adds, widens, drops and closes a cycle of foreign keys."""

from __future__ import annotations

from yamlbase.structure.model import (
    CheckConstraint,
    Column,
    Difference,
    ForeignKey,
    Index,
    PrimaryKey,
    Schema,
    Table,
    UniqueConstraint,
    View,
)

INT, NAME, TITLE = "INTEGER", "VARCHAR(50)", "VARCHAR(100)"


def pk(table: str, *columns: str) -> PrimaryKey:
    return PrimaryKey(columns or ("id",), None)


AUTHORS = Table(
    "authors",
    columns=(Column("id", INT, nullable=False), Column("name", NAME, nullable=False, default="'anonymous'")),
    primary_key=pk("authors"),
    unique_constraints=(UniqueConstraint(("name",), "uq_authors_name"),),
)
BOOKS = Table(
    "books",
    columns=(
        Column("id", INT, nullable=False),
        Column("author_id", INT, nullable=False),
        Column("title", TITLE, nullable=False),
        Column("price", "NUMERIC(10, 2)", default="0"),
        Column("in_print", "BOOLEAN", nullable=False, default="1"),
        Column("legacy", "TEXT"),
    ),
    primary_key=pk("books"),
    foreign_keys=(ForeignKey(("author_id",), "authors", ("id",), "fk_books_author"),),
    checks=(CheckConstraint("price >= 0", "ck_books_price"),),
    indexes=(Index("ix_books_title", ("title",)),),
)
SHELVES = Table(  # dropped in v2, and referenced by a foreign key of a table that stays
    "shelves",
    columns=(Column("id", INT, nullable=False), Column("label", NAME)),
    primary_key=pk("shelves"),
)
PLACES = Table(
    "places",
    columns=(Column("id", INT, nullable=False), Column("shelf_id", INT)),
    primary_key=pk("places"),
    foreign_keys=(ForeignKey(("shelf_id",), "shelves", ("id",), "fk_places_shelf"),),
)
CHEAP = View("cheap_books", "SELECT id, title FROM books WHERE price < 10")

V1 = Schema(
    "sqlite",
    tables={t.key: t for t in (AUTHORS, BOOKS, SHELVES, PLACES)},
    views={CHEAP.name: CHEAP},
)

WRITERS = Table("writers", columns=AUTHORS.columns, primary_key=AUTHORS.primary_key,
                unique_constraints=AUTHORS.unique_constraints)  # fmt: skip
ISBN = Column("isbn", "VARCHAR(20)")
WIDE_TITLE = Column("title", "VARCHAR(200)", nullable=False)
BOOKS_2 = Table(
    "books",
    columns=(BOOKS.columns[0], BOOKS.columns[1], WIDE_TITLE, BOOKS.columns[3], BOOKS.columns[4], ISBN),
    primary_key=BOOKS.primary_key,
    foreign_keys=(ForeignKey(("author_id",), "writers", ("id",), "fk_books_author"),),
    checks=BOOKS.checks,
    indexes=(*BOOKS.indexes, Index("ix_books_isbn", ("isbn",), unique=True)),
)
REVIEWS = Table(
    "reviews",
    columns=(
        Column("id", INT, nullable=False),
        Column("book_id", INT, nullable=False),
        Column("stars", INT, nullable=False, default="3"),
        Column("body", "TEXT"),
    ),
    primary_key=pk("reviews"),
    foreign_keys=(ForeignKey(("book_id",), "books", ("id",), "fk_reviews_book", ondelete="CASCADE"),),
    checks=(CheckConstraint("stars BETWEEN 1 AND 5", "ck_reviews_stars"),),
    indexes=(Index("ix_reviews_book", ("book_id",)),),
)
# Two new tables that reference each other: one of the keys can only come after both tables.
EGGS = Table(
    "eggs",
    columns=(Column("id", INT, nullable=False), Column("hen_id", INT)),
    primary_key=pk("eggs"),
    foreign_keys=(ForeignKey(("hen_id",), "hens", ("id",), "fk_eggs_hen", ondelete="SET NULL"),),
)
HENS = Table(
    "hens",
    columns=(Column("id", INT, nullable=False), Column("first_egg_id", INT)),
    primary_key=pk("hens"),
    foreign_keys=(ForeignKey(("first_egg_id",), "eggs", ("id",), "fk_hens_first_egg"),),
)
PLACES_2 = Table("places", columns=PLACES.columns, primary_key=PLACES.primary_key)
CHEAP_2 = View("cheap_books", "SELECT id, title, isbn FROM books WHERE price < 10")

V2 = Schema(
    "sqlite",
    tables={t.key: t for t in (WRITERS, BOOKS_2, PLACES_2, REVIEWS, EGGS, HENS)},
    views={CHEAP_2.name: CHEAP_2},
)

# As compare would list them (in no particular order: generation orders them).
V1_TO_V2 = [
    Difference("add_table", "reviews", new=REVIEWS),
    Difference("drop_table", "shelves", old=SHELVES, destructive=True),
    Difference("alter_view", None, old=CHEAP, new=CHEAP_2, changed=("definition",)),
    Difference("add_index", "books", new=BOOKS_2.indexes[1]),
    Difference("drop_column", "books", old=BOOKS.columns[5], destructive=True),
    Difference("add_column", "books", new=ISBN),
    Difference("alter_column", "books", old=BOOKS.columns[2], new=WIDE_TITLE, changed=("type",)),
    Difference("add_table", "hens", new=HENS),
    Difference("drop_foreign_key", "places", old=PLACES.foreign_keys[0]),
    Difference("rename_table", "writers", old=AUTHORS, new=WRITERS),
    Difference("add_table", "eggs", new=EGGS),
]


def from_nothing(schema: Schema) -> list[Difference]:
    """What compare says between an empty schema and ``schema``: every table and view added."""
    return [Difference("add_table", key, new=t) for key, t in schema.tables.items()] + [
        Difference("add_view", None, new=v) for v in schema.views.values()
    ]
