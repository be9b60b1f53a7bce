"""Shapes shared by several resources."""

from __future__ import annotations

from collections.abc import Iterable


def tags_json(tags: Iterable[tuple[str, str | None]]) -> list[dict[str, str]]:
    """MLflow's ``[{key, value}]`` tag lists; a NULL value travels as an empty string."""
    return [{"key": key, "value": value if value is not None else ""} for key, value in tags]
