"""Artifacts on the local filesystem (plain paths and ``file://`` URIs).

The layout is MLflow's own, file for file, so a destination written by trackd can be served by
``mlflow server`` and the other way round. Uploads are staged in hidden files named with MLflow's
``.artifact.uploading.`` prefix in the target directory and renamed into place when complete,
so readers never see a partial file and either server hides the other's staging files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from typing import IO

import anyio
import anyio.to_thread

from trackd.artifacts.base import (
    CHUNK_SIZE,
    ArtifactStore,
    FileEntry,
    FileStat,
    directory_not_file,
    missing_artifact,
)
from trackd.artifacts.paths import INVALID_PATH, UPLOAD_TEMP_PREFIX, local_path_of
from trackd.config import Settings
from trackd.errors import invalid_parameter

_run = anyio.to_thread.run_sync


def _read_umask() -> int:
    # The umask can only be read by setting it; done once, at import, before any thread runs.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


class LocalArtifactStore(ArtifactStore):
    schemes = ("", "file")

    def __init__(self, root_uri: str) -> None:
        super().__init__(root_uri)
        self.root = local_path_of(root_uri)

    def _full(self, path: str) -> str:
        """The filesystem path of ``path``, refusing one that a symlink takes out of the root."""
        full = os.path.join(self.root, *path.split("/")) if path else self.root
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(full)
        if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
            raise invalid_parameter(INVALID_PATH)
        return full

    def uri_for(self, path: str) -> str:
        return os.path.join(self.root, *path.split("/")) if path else self.root

    # -- reading ----------------------------------------------------------------------------

    async def list(self, path: str = "") -> list[FileEntry]:
        return await _run(lambda: _list_dir(self._full(path), path))

    async def stat(self, path: str) -> FileStat | None:
        return await _run(lambda: _stat(self._full(path)))

    async def read(
        self, path: str, start: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        fh = await _run(lambda: _open_for_read(self._full(path), path))
        try:
            if start:
                await _run(fh.seek, start)
            remaining = length
            while remaining is None or remaining > 0:
                size = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
                chunk = await _run(fh.read, size)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            fh.close()

    # -- writing ----------------------------------------------------------------------------

    async def write(self, path: str, chunks: AsyncIterable[bytes]) -> int:
        full = await _run(self._full, path)
        directory, name = os.path.split(full)
        if name.startswith(UPLOAD_TEMP_PREFIX):
            raise invalid_parameter(
                f"Invalid artifact file name: '{name}'. Artifact names starting with "
                f"'{UPLOAD_TEMP_PREFIX}' are reserved."
            )
        created, (fd, staging) = await _run(_stage, directory)
        published = False
        try:
            total = 0
            with os.fdopen(fd, "wb") as fh:
                pending = bytearray()
                async for chunk in chunks:
                    pending += chunk
                    if len(pending) >= CHUNK_SIZE:
                        total += len(pending)
                        await _run(fh.write, pending)
                        pending = bytearray()
                if pending:
                    total += len(pending)
                    await _run(fh.write, pending)
            await _run(_publish, staging, full, path)
            published = True
            return total
        finally:
            if not published:
                # Shielded: a cancelled upload must still clean up after itself.
                with anyio.CancelScope(shield=True):
                    await _run(_discard, staging, created)

    async def delete(self, path: str) -> None:
        await _run(lambda: _remove_tree_or_file(self._full(path)))


def open_store(uri: str, settings: Settings) -> ArtifactStore:
    return LocalArtifactStore(uri)


# -- blocking helpers, run in worker threads ------------------------------------------------


def _list_dir(full: str, path: str) -> list[FileEntry]:
    if not os.path.isdir(full):
        return []
    entries: list[FileEntry] = []
    prefix = f"{path}/" if path else ""
    with os.scandir(full) as it:
        for entry in it:
            if entry.name.startswith(UPLOAD_TEMP_PREFIX):
                continue
            try:
                if entry.is_dir():
                    entries.append(FileEntry(prefix + entry.name, True))
                else:
                    entries.append(FileEntry(prefix + entry.name, False, entry.stat().st_size))
            except FileNotFoundError:
                continue  # removed while we were listing
    entries.sort(key=lambda e: e.path)
    return entries


def _stat(full: str) -> FileStat | None:
    try:
        st = os.stat(full)
    except (FileNotFoundError, NotADirectoryError):
        return None
    is_dir = stat.S_ISDIR(st.st_mode)
    return FileStat(is_dir, None if is_dir else st.st_size, st.st_mtime)


def _open_for_read(full: str, path: str) -> IO[bytes]:
    if os.path.isdir(full):
        raise directory_not_file(path)
    try:
        return open(full, "rb")  # noqa: SIM115 - closed by the reading generator
    except (FileNotFoundError, NotADirectoryError):
        raise missing_artifact(path) from None


def _stage(directory: str) -> tuple[list[str], tuple[int, str]]:
    """Create missing parent directories and a staging file; return both for cleanup."""
    for _ in range(3):
        created = _make_dirs(directory)
        try:
            return created, tempfile.mkstemp(dir=directory, prefix=UPLOAD_TEMP_PREFIX)
        except FileNotFoundError:
            continue  # a failed upload next door removed the directory it had just created
    raise invalid_parameter(f"Could not create the artifact directory {directory!r}")


def _make_dirs(directory: str) -> list[str]:
    missing: list[str] = []
    probe = directory
    while not os.path.isdir(probe):
        if os.path.exists(probe):
            raise invalid_parameter(INVALID_PATH + ": a parent of the artifact is a file")
        missing.append(probe)
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    os.makedirs(directory, exist_ok=True)
    return missing  # deepest first


def _publish(staging: str, full: str, path: str) -> None:
    if os.path.isdir(full):
        raise invalid_parameter(f"Cannot overwrite the directory '{path}' with a file")
    # mkstemp makes 0600 files; give the artifact the mode an ordinary open() would.
    os.chmod(staging, 0o666 & ~_UMASK)
    os.replace(staging, full)


def _discard(staging: str, created: list[str]) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(staging)
    for directory in created:  # deepest first; a directory someone else filled stays
        try:
            os.rmdir(directory)
        except OSError:
            break


def _remove_tree_or_file(full: str) -> None:
    if os.path.isdir(full) and not os.path.islink(full):
        shutil.rmtree(full, ignore_errors=False)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(full)
