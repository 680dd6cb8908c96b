"""Changes about the changelog itself rather than the schema: tagDatabase."""

from __future__ import annotations

from pydantic import Field

from yamlbase.changes.base import Change, PlanContext, Step, register


@register
class TagDatabase(Change):
    """Marks the database state with a tag, stored on this changeSet's history row."""

    name = "tagDatabase"
    tag: str = Field(description="the tag name")

    def operations(self, ctx: PlanContext) -> list[Step]:
        return []

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return []
