"""Shapes shared by several resources."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import orjson


def tags_json(tags: Iterable[tuple[str, str | None]]) -> list[dict[str, str]]:
    """MLflow's ``[{key, value}]`` tag lists; a NULL value travels as an empty string."""
    return [{"key": key, "value": value if value is not None else ""} for key, value in tags]


def loads_json(text: str | bytes) -> Any:
    """JSON text as Python values: orjson (several times faster on span payloads), else the
    standard parser for what orjson refuses and Python's json writes (NaN, Infinity). Raises
    ValueError for text that is not JSON."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
