"""Artifacts: the proxied store behind ``mlflow-artifacts:/`` and run/model artifact roots.

Two ways in:

* the **proxy API** (``/mlflow-artifacts/artifacts/<path>``) addresses the artifacts
  destination directly by a path relative to it (``1/<run>/artifacts/model/MLmodel``);
* the **tracking API** (``/mlflow/artifacts/list``, ``/get-artifact``, logged-model
  directories) addresses a run's or a model's root by id plus a path relative to that root.
  A root is either proxied (``mlflow-artifacts:/...``, resolved onto the destination while
  serving artifacts) or direct (``/data/art/1/<run>/artifacts``, ``s3://...``), read through
  the store registered for its scheme.

Every client path is checked by :mod:`trackd.artifacts.paths` before it reaches a store.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass

from sqlalchemy import Connection

from trackd.artifacts.base import ArtifactStore, FileEntry, FileStat, directory_not_file
from trackd.artifacts.base import missing_artifact as _missing
from trackd.artifacts.paths import INVALID_PATH, check_file_path, check_relative_path, join
from trackd.artifacts.registry import ArtifactRegistry
from trackd.errors import invalid_parameter
from trackd.service.logged_models import require_model
from trackd.service.runs import require_run
from trackd.store.database import Database


@dataclass(frozen=True)
class ArtifactFile:
    """A file ready to stream: where it is, what to call it, and its size."""

    store: ArtifactStore
    path: str  # inside the store
    name: str  # as the client asked for it (messages, Content-Disposition)
    stat: FileStat


@dataclass(frozen=True)
class Listing:
    root_uri: str
    files: list[FileEntry]  # paths relative to the root


class ArtifactService:
    def __init__(self, db: Database, registry: ArtifactRegistry) -> None:
        self.db = db
        self.registry = registry

    @property
    def serving(self) -> bool:
        return self.registry.settings.serve_artifacts

    @property
    def destination(self) -> ArtifactStore:
        return self.registry.destination

    # -- proxy API: paths relative to the artifacts destination ------------------------------

    async def list_proxied(self, path: str | None) -> list[FileEntry]:
        return await self.destination.list(check_relative_path(path))

    async def proxied_file(self, path: str) -> ArtifactFile:
        checked = check_file_path(path)
        return await _file(self.destination, checked, checked)

    async def upload(self, path: str, chunks: AsyncIterable[bytes]) -> int:
        return await self.destination.write(check_file_path(path), chunks)

    async def delete(self, path: str) -> None:
        checked = check_relative_path(path)
        if not checked:
            # "." or "./" would name the whole destination: never delete everyone's artifacts.
            raise invalid_parameter(INVALID_PATH)
        await self.destination.delete(checked)

    # -- tracking API: run and logged-model roots ---------------------------------------------

    async def run_root(self, run_id: str) -> str:
        def work(conn: Connection) -> str:
            return require_run(conn, run_id).artifact_uri or ""

        return await self.db.read(work)

    async def model_root(self, model_id: str) -> str:
        def work(conn: Connection) -> str:
            return require_model(conn, model_id, allow_deleted=False).artifact_location

        return await self.db.read(work)

    async def list_under(self, root_uri: str, path: str | None) -> Listing:
        """Children of ``path`` below a run's or model's root, with root-relative paths."""
        relative = check_relative_path(path)
        location = self.registry.locate(root_uri)
        entries = await location.store.list(join(location.base, relative))
        files = [
            FileEntry(join(relative, e.name), e.is_dir, e.file_size) for e in entries
        ]
        return Listing(root_uri, files)

    async def file_under(self, root_uri: str, path: str) -> ArtifactFile:
        relative = check_file_path(path)
        location = self.registry.locate(root_uri)
        return await _file(location.store, join(location.base, relative), relative)


async def _file(store: ArtifactStore, path: str, name: str) -> ArtifactFile:
    stat = await store.stat(path)
    if stat is None:
        raise _missing(name)
    if stat.is_dir:
        raise directory_not_file(name)
    return ArtifactFile(store, path, name, stat)

