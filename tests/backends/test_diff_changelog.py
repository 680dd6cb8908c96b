"""diff-changelog round trips on each backend: models → changeSets → update builds exactly what ``create_all``
builds; a second diff writes nothing; a second version of the models (added, dropped and widened columns, a
hinted table rename keeping its rows, new indexes, keys and tables, an enum value) → diff → update equals
``create_all`` of it, and ``rollback-count`` of that batch gives the first version back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from yamlbase import commands
from yamlbase.structure.compare import compare
from yamlbase.structure.model import Schema
from yamlbase.structure.reference import models_schema
from yamlbase.structure.reflect import reflect

T1, T2 = dt.datetime(2024, 3, 1, 10, 0, 0), dt.datetime(2024, 3, 2, 10, 0, 0)


def models(version: int, dialect: str) -> sa.MetaData:
    """The application's models: every kind of object ``dialect`` has, in two versions."""
    metadata = sa.MetaData()
    statuses = ("draft", "published") if version == 1 else ("draft", "published", "archived")
    users = sa.Table(
        "users",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(120), nullable=False, unique=True),
        sa.Column("name", sa.String(50 if version == 1 else 100), server_default="anon", comment="display name"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created", sa.DateTime, server_default=sa.func.current_timestamp()),
        sa.Column("score", sa.Numeric(10, 2), server_default="0"),
        *([sa.Column("bio", sa.Text)] if version == 1 else [sa.Column("nickname", sa.String(30))]),
        sa.CheckConstraint("score >= 0", name="ck_users_score"),
        comment="the people",
    )
    posts = sa.Table(
        "posts" if version == 1 else "articles",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_posts_user"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.Enum(*statuses, name="post_status"), server_default="draft"),
        sa.Index("ix_posts_title", "title"),
        sa.UniqueConstraint("user_id", "title", name="uq_posts_user_title"),
        info={} if version == 1 else {"renamed_from": "posts"},
    )
    sa.Table(
        "tags",
        metadata,
        sa.Column("post_id", sa.Integer, sa.ForeignKey(posts.c.id, name="fk_tags_post"), primary_key=True),
        sa.Column("name", sa.String(30), primary_key=True),
        sa.Column("weight", sa.Float),
    )
    if dialect != "mariadb":  # MariaDB has no expression indexes
        sa.Index("ix_users_lower_email", sa.func.lower(users.c.email))
    if version == 2:
        sa.Index("ix_users_nickname", users.c.nickname)
        sa.Table(
            "comments",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("article_id", sa.ForeignKey(posts.c.id, name="fk_comments_article"), nullable=False),
            sa.Column("author_id", sa.ForeignKey(users.c.id, name="fk_comments_author", ondelete="SET NULL")),
            sa.Column("body", sa.Text, nullable=False),
            sa.Index("ix_comments_article", "article_id"),
        )
    return metadata


@pytest.fixture
def dev_url(db_url: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The scratch database diff-changelog replays on: in-memory SQLite, or an empty one of the backend."""
    if db_url.startswith("sqlite"):
        yield None
    else:
        yield request.getfixturevalue("second_db_url")


def schema_of(url: str) -> Schema:
    with commands.connect(url) as connection:
        return reflect(connection)


def differences(url: str, metadata: sa.MetaData, dev_url: str | None) -> list[str]:
    got = schema_of(url)
    want = models_schema(metadata, dialect=got.dialect, dev_url=dev_url)
    return [d.describe() for d in compare(got, want)]


def test_round_trip_second_diff_evolution_and_rollback(db_url: str, dev_url: str | None, tmp_path: Path) -> None:
    changelog = tmp_path / "changelog" / "changelog.yaml"
    dialect = commands.database_url(db_url).get_backend_name()
    v1, v2 = models(1, dialect), models(2, dialect)

    first = commands.diff_changelog(changelog, models=v1, message="v1", author="dev", dev_url=dev_url, now=T1)
    assert first.path == changelog and first.tables == 3 and first.destructive == []
    assert first.changesets[0] == "20240301100000-1"
    assert len(commands.update(db_url, changelog)) == len(first.changesets)
    assert differences(db_url, v1, dev_url) == []
    assert commands.check(changelog, models=v1, dev_url=dev_url) == []

    text = changelog.read_text(encoding="utf-8")
    again = commands.diff_changelog(changelog, models=v1, dev_url=dev_url, now=T2)
    assert again.path is None and again.changesets == [] and again.tables == 3
    assert changelog.read_text(encoding="utf-8") == text

    with commands.connect(db_url) as connection:
        connection.exec_driver_sql("INSERT INTO users (id, email) VALUES (1, 'a@example.org')")
        connection.exec_driver_sql("INSERT INTO posts (id, user_id, title) VALUES (7, 1, 'Hello')")
        connection.commit()

    second = commands.diff_changelog(
        changelog,
        models=v2,
        message="v2",
        author="dev",
        dev_url=dev_url,
        output_file=tmp_path / "changelog" / "v2.yaml",
        now=T2,
    )
    assert second.path == tmp_path / "changelog" / "v2.yaml"
    assert "relativeToChangelogFile: true" in changelog.read_text(encoding="utf-8")
    said = {e["changeSet"]["id"]: e["changeSet"].get("comment", "") for e in second.entries}
    assert any("drops column users.bio" in said[i] for i in second.destructive)
    assert len(second.destructive) == 1  # an enum gaining a value (MariaDB: a wider inline ENUM) destroys nothing
    applied = commands.update(db_url, changelog)
    assert [cs.id for cs in applied] == second.changesets
    assert differences(db_url, v2, dev_url) == []
    with commands.connect(db_url) as connection:  # the rename kept the rows
        assert connection.exec_driver_sql("SELECT id, title FROM articles").all() == [(7, "Hello")]
    assert commands.diff_changelog(changelog, models=v2, dev_url=dev_url, now=T2).path is None

    commands.rollback(db_url, changelog, count=len(second.changesets))
    assert differences(db_url, v1, dev_url) == []
    with commands.connect(db_url) as connection:
        assert connection.exec_driver_sql("SELECT id, title FROM posts").all() == [(7, "Hello")]
