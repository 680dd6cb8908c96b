"""Changes about the run itself rather than the schema: tagDatabase, empty, output, stop."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, field_validator

from yamlbase.changelog.checksum import java_trim
from yamlbase.changes.base import Change, Halt, Message, PlanContext, Step, register


@register
class TagDatabase(Change):
    """Marks the database state with a tag, stored on this changeSet's history row."""

    name = "tagDatabase"
    tag: str = Field(description="the tag name")

    def operations(self, ctx: PlanContext) -> list[Step]:
        return []

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return []


@register
class Empty(Change):
    """Does nothing (a placeholder changeSet)."""

    name = "empty"

    def operations(self, ctx: PlanContext) -> list[Step]:
        return []

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return []


OutputTarget = Literal["STDOUT", "STDERR", "DEBUG", "INFO", "WARN", "WARNING", "SEVERE", "ERROR", "FATAL"]


@register
class Output(Change):
    """Writes a message when the changeSet runs; in ``update-sql`` it is a SQL comment."""

    name = "output"
    message: str = Field(description="the message")
    target: str | None = Field(None, description="STDOUT, STDERR (default), or a log level: DEBUG, INFO, WARN, FATAL")

    @field_validator("target")
    @classmethod
    def _known_target(cls, value: str | None) -> str | None:
        if value is not None and value.strip().upper() not in get_args(OutputTarget):
            raise ValueError(f"unknown target {value!r}: use one of {', '.join(get_args(OutputTarget))}")
        return value

    def operations(self, ctx: PlanContext) -> list[Step]:
        text = java_trim(self.message)
        return [Message(text, (self.target or "STDERR").strip().upper())] if text else []

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return []


@register
class Stop(Change):
    """Stops the update here with a message (exit code 1); this changeSet is not recorded."""

    name = "stop"
    message: str | None = Field(None, description="why (default: Stop command in changelog file)")

    def operations(self, ctx: PlanContext) -> list[Step]:
        text = java_trim(self.message) if self.message is not None else ""
        return [Halt(text or "Stop command in changelog file")]
