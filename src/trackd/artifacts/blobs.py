"""What S3, GCS and Azure Blob have in common: flat object keys read as a directory tree.

An object store has no directories, only keys; ``a/b/c.txt`` makes ``a`` and ``a/b`` appear as
directories in a listing delimited by ``/``. This module turns that into the
:class:`~trackd.artifacts.base.ArtifactStore` contract once, so each backend only supplies a
handful of blocking primitives (list one level, head, ranged open, put, multipart, delete),
which run in worker threads.

Atomicity comes from the stores themselves: a single PUT, a completed multipart upload, a
finalized resumable upload or a committed block list is the only moment an object becomes
visible, so uploads need no temporary names. A failed upload is cancelled (shielded from
cancellation) so that no stored parts linger.
"""

from __future__ import annotations

import contextlib
import os
from abc import abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import anyio.to_thread

from trackd.artifacts.base import (
    CHUNK_SIZE,
    ArtifactStore,
    FileEntry,
    FileStat,
)
from trackd.artifacts.paths import UPLOAD_TEMP_PREFIX
from trackd.config import Settings
from trackd.errors import MlflowError, invalid_parameter

_run = anyio.to_thread.run_sync

# Parts are buffered whole before they are sent (object stores need a length per part), so the
# part size is the memory one upload costs. S3 caps an upload at 10,000 parts of >= 5 MiB:
# after 1,000 parts of 8 MiB the part size grows so that ~600 GiB still fit.
PART_SIZE = 8 * 1024 * 1024
LARGE_PART_SIZE = 64 * 1024 * 1024
PARTS_BEFORE_GROWING = 1000


def part_size_for(part_number: int) -> int:
    return PART_SIZE if part_number <= PARTS_BEFORE_GROWING else LARGE_PART_SIZE


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    mtime: float | None = None


class Readable(Protocol):
    def read(self, size: int) -> bytes: ...

    def close(self) -> None: ...


def setting(settings: Settings, name: str) -> str | None:
    """A backend's variable: ``Settings.extra`` first, then the process environment.

    Backends read MLflow's variable names (``MLFLOW_S3_ENDPOINT_URL``...) where MLflow has
    them, so that a platform's environment for ``mlflow server`` configures trackd too.
    """
    return settings.extra.get(name) or os.environ.get(name) or None


def reserved_name(name: str) -> MlflowError:
    """The local store's answer to an upload named like an in-progress one, for every backend."""
    return invalid_parameter(
        f"Invalid artifact file name: '{name}'. Artifact names starting with "
        f"'{UPLOAD_TEMP_PREFIX}' are reserved."
    )


def split_bucket_uri(uri: str, scheme: str) -> tuple[str, str]:
    """``scheme://bucket/some/prefix`` -> (``bucket``, ``some/prefix``)."""
    rest = uri[len(scheme) + 3 :] if uri.lower().startswith(scheme + "://") else uri
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix.strip("/")


class BlobStore(ArtifactStore):
    """An artifact tree under ``prefix`` in one bucket/container."""

    def __init__(self, root_uri: str, prefix: str) -> None:
        super().__init__(root_uri)
        self.prefix = prefix.strip("/")

    def key(self, path: str) -> str:
        if not self.prefix:
            return path
        return f"{self.prefix}/{path}" if path else self.prefix

    def _dir_prefix(self, path: str) -> str:
        key = self.key(path)
        return f"{key}/" if key else ""

    # -- blocking primitives, one set per backend ----------------------------------------------

    @abstractmethod
    def _list_level(self, prefix: str) -> tuple[list[BlobInfo], list[str]]:
        """Objects directly under ``prefix`` and the sub-prefixes (ending in ``/``) below it."""

    @abstractmethod
    def _head(self, key: str) -> BlobInfo | None:
        """The object named exactly ``key``, or None."""

    @abstractmethod
    def _any_under(self, prefix: str) -> bool:
        """Whether at least one object's key starts with ``prefix``."""

    @abstractmethod
    def _open(self, key: str, start: int, length: int | None) -> Readable:
        """A reader of ``length`` bytes (None: to the end) of ``key`` from ``start``."""

    @abstractmethod
    def _put(self, key: str, data: bytes) -> None:
        """Store a small object in one request."""

    @abstractmethod
    def _begin(self, key: str) -> Any:
        """Start a multipart/resumable upload; returns the backend's handle."""

    @abstractmethod
    def _send_part(self, handle: Any, number: int, data: bytes) -> None:
        """Upload part ``number`` (1-based, sent in order) of a started upload."""

    @abstractmethod
    def _finish(self, handle: Any) -> None:
        """Make a started upload's object visible."""

    @abstractmethod
    def _cancel(self, handle: Any) -> None:
        """Drop a started upload and the parts already stored."""

    @abstractmethod
    def _keys_under(self, prefix: str) -> Iterator[str]:
        """Every key starting with ``prefix`` (recursively)."""

    @abstractmethod
    def _delete_keys(self, keys: list[str]) -> None:
        """Delete these objects; missing ones are not an error."""

    # -- the ArtifactStore contract --------------------------------------------------------------

    async def list(self, path: str = "") -> list[FileEntry]:
        prefix = self._dir_prefix(path)
        blobs, prefixes = await _run(self._list_level, prefix)
        base = f"{path}/" if path else ""
        entries: list[FileEntry] = []
        for blob in blobs:
            name = blob.key[len(prefix) :]
            # "dir/" marker objects (made by consoles and some tools) are not files.
            if name and "/" not in name and not name.startswith(UPLOAD_TEMP_PREFIX):
                entries.append(FileEntry(base + name, False, blob.size))
        for sub in prefixes:
            name = sub[len(prefix) :].rstrip("/")
            if name and not name.startswith(UPLOAD_TEMP_PREFIX):
                entries.append(FileEntry(base + name, True))
        entries.sort(key=lambda e: e.path)
        return entries

    async def stat(self, path: str) -> FileStat | None:
        if path:
            blob = await _run(self._head, self.key(path))
            if blob is not None:
                return FileStat(False, blob.size, blob.mtime)
        if await _run(self._any_under, self._dir_prefix(path)):
            return FileStat(True)
        return None

    async def read(
        self, path: str, start: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        found = await self.require_file(path)
        size = found.size or 0
        if length is None or start + length > size:
            length = max(0, size - start)
        if length == 0:
            return
        reader = await _run(self._open, self.key(path), start, length)
        try:
            remaining = length
            while remaining > 0:
                chunk = await _run(reader.read, min(CHUNK_SIZE, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk
        finally:
            with anyio.CancelScope(shield=True):
                await _run(reader.close)

    async def write(self, path: str, chunks: AsyncIterable[bytes]) -> int:
        key = self.key(path)
        name = path.rsplit("/", 1)[-1]
        if name.startswith(UPLOAD_TEMP_PREFIX):
            raise reserved_name(name)
        buffer = bytearray()
        handle: Any = None
        number = 0
        total = 0
        finished = False
        try:
            async for chunk in chunks:
                buffer += chunk
                total += len(chunk)
                while len(buffer) >= part_size_for(number + 1):
                    if handle is None:
                        handle = await _run(self._begin, key)
                    number += 1
                    cut = part_size_for(number)
                    part, buffer = bytes(buffer[:cut]), buffer[cut:]
                    await _run(self._send_part, handle, number, part)
            if handle is None:
                await _run(self._put, key, bytes(buffer))
            else:
                if buffer or number == 0:
                    number += 1
                    await _run(self._send_part, handle, number, bytes(buffer))
                await _run(self._finish, handle)
            finished = True
            return total
        finally:
            if handle is not None and not finished:
                with anyio.CancelScope(shield=True):
                    await _run(self._cancel_quietly, handle)

    def _cancel_quietly(self, handle: Any) -> None:
        # The upload already failed; that error is the one to report, not the clean-up's.
        with contextlib.suppress(Exception):  # best effort: parts expire on their own
            self._cancel(handle)

    async def delete(self, path: str) -> None:
        def work() -> None:
            if path:
                self._delete_keys([self.key(path)])
            for batch in chunked(self._keys_under(self._dir_prefix(path)), 1000):
                self._delete_keys(batch)

        await _run(work)


def chunked(items: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
