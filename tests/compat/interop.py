"""One database, two servers: what one writes, the other reads (the schema promise)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from dbs import fresh_database
from support.server import ServerOptions, start_server

from .conftest import reset_fluent_state

T = TypeVar("T")


def hand_over(db_kind: str, tmp_path: Path, first: str, write: Callable[[str], T],
              read: Callable[[str, T], Any]) -> None:
    """``write(url)`` through the ``first`` server ("trackd" or "mlflow"), stop it, then
    ``read(url, what write returned)`` through the other one, on the same fresh database."""
    second = "mlflow" if first == "trackd" else "trackd"
    with fresh_database(db_kind, tmp_path) as url:
        opts = ServerOptions(backend_store_uri=url, artifacts_destination=tmp_path / "artifacts",
                             default_artifact_root="mlflow-artifacts:/")
        writer = start_server(first, opts, tmp_path / first)
        try:
            written = write(writer.url)
        finally:
            reset_fluent_state()
            writer.stop()
        reader = start_server(second, opts, tmp_path / second)
        try:
            read(reader.url, written)
        finally:
            reset_fluent_state()
            reader.stop()
