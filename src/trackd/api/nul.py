"""NUL characters in request text are refused up front, on every database.

PostgreSQL cannot store U+0000 in a text column at all: without this check a name, key, value
or id holding one reached the database and came back as an internal error (or failed the
write of a whole commit group). SQLite and MySQL would store it, but a database that only
one backend can hold breaks trackd's promise that a store can move between them, so the
answer is the same 400 everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trackd.errors import MlflowError, invalid_parameter

NUL = "\x00"


def refused(where: str) -> MlflowError:
    return invalid_parameter(f"The {where} holds a NUL character (U+0000), which no field accepts.")


def fields_hold_nul(body: bytes | None, data: Any) -> bool:
    """Whether request fields hold a NUL in any key or string: ``data`` parsed from the JSON
    ``body``, or (``body`` None) from a query string.

    JSON can only carry NUL escaped (a raw control character is malformed JSON), so a body
    without the bytes ``\\u0000`` is passed over without walking it.
    """
    if body is not None and b"\\u0000" not in body:
        return False
    return holds_nul(data)


def holds_nul(data: Any) -> bool:
    """Whether any string, key or nested value of ``data`` holds a NUL."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if NUL in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def any_has_nul(texts: Iterable[str]) -> bool:
    return any(NUL in text for text in texts)
