"""Checking an API answer that must be an error: MLflow's status and error_code, a message."""

from __future__ import annotations

from typing import Any


def expect_error(result: tuple[int, Any], status: int, code: str) -> str:
    """The message of an error answer (``(status, body)`` as the in-process Api returns it)."""
    got_status, body = result
    assert got_status == status, body
    assert body["error_code"] == code, body
    return str(body["message"])
