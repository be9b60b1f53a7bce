"""Artifacts on the local filesystem (plain paths and ``file://`` URIs).

The layout is MLflow's own, file for file, so a destination written by trackd can be served by
``mlflow server`` and the other way round. Uploads are staged in hidden files named with MLflow's
``.artifact.uploading.`` prefix in the target directory and renamed into place when complete,
so readers never see a partial file and either server hides the other's staging files.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
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
from trackd.errors import INSUFFICIENT_STORAGE, INTERNAL_ERROR, MlflowError, invalid_parameter

log = logging.getLogger("trackd.artifacts")

_run = anyio.to_thread.run_sync
# Bytes of an upload handed to a writing thread at once: fewer thread hand-offs than one per
# body piece (~64 KiB), still a small, bounded amount of memory per upload.
WRITE_BATCH = 4 * CHUNK_SIZE
_IOV_MAX = 512


def _read_umask() -> int:
    # The umask can only be read by setting it; done once, at import, before any thread runs.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()

# A full (or capped) filesystem is the operator's problem, not the client's: said plainly.
_STORAGE_ERRORS = {
    errno.ENOSPC: "No space left on the artifact store",
    errno.EDQUOT: "The artifact store's disk quota is exhausted",
    errno.EFBIG: "The file is larger than the artifact store accepts",
}


def storage_error(exc: OSError, path: str) -> MlflowError | None:
    """MLflow's error JSON (507) for a filesystem that cannot take the file, else None."""
    reason = _STORAGE_ERRORS.get(exc.errno or 0)
    if reason is None:
        return None
    return MlflowError(f"{reason}: could not store '{path}' ({exc.strerror}). Nothing was "
                       "kept; free space on the artifact destination and upload it again.",
                       INSUFFICIENT_STORAGE)


class LocalArtifactStore(ArtifactStore):
    schemes = ("", "file")

    def __init__(self, root_uri: str) -> None:
        super().__init__(root_uri)
        self.root = local_path_of(root_uri)
        self._failing: str | None = None  # the cause last logged by _failed()

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
        return await _run(lambda: _list_dir(self._full(path), path, self.root))

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
        name = os.path.basename(full)
        if name.startswith(UPLOAD_TEMP_PREFIX):
            raise invalid_parameter(
                f"Invalid artifact file name: '{name}'. Artifact names starting with "
                f"'{UPLOAD_TEMP_PREFIX}' are reserved."
            )
        try:
            written = await self._write(full, path, chunks)
        except OSError as exc:
            refused = storage_error(exc, path)
            if refused is None:
                raise self._failed(path, exc.strerror or str(exc)) from exc
            raise refused from exc
        except MlflowError as exc:
            # "a parent of the artifact is a file" is the client's doing only inside the root;
            # a destination that is itself no longer a folder is the server's problem.
            if os.path.isdir(self.root):
                raise
            raise self._failed(path, "the destination is no longer a folder") from exc
        self._failing = None
        return written

    def _failed(self, path: str, cause: str) -> MlflowError:
        """The store cannot take files (a folder removed, replaced, remounted read-only...):
        one log line per distinct cause until a write succeeds again, and the client gets
        MLflow's internal error rather than a complaint about its path."""
        if self._failing != cause:
            self._failing = cause
            log.error("artifact destination %s cannot store files: %s (logged once until it "
                      "works again)", self.root, cause)
        return MlflowError(f"Could not store artifact '{path}': the server's artifact store "
                           "is unavailable; its log says why.", INTERNAL_ERROR)

    async def _write(self, full: str, path: str, chunks: AsyncIterable[bytes]) -> int:
        created, (fd, staging) = await _run(_stage, os.path.dirname(full))
        published = False
        try:
            try:
                total = await _write_overlapped(fd, chunks)
            finally:
                os.close(fd)
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


def check(uri: str, settings: Settings) -> None:
    """Start-up check (trackd.artifacts.startup): the folder exists, or is created, and takes
    a file; otherwise the server does not start, instead of failing on the first upload."""
    from trackd.config import ConfigError
    from trackd.preflight import prove_writable, reason_of

    path = os.path.abspath(local_path_of(uri))
    try:
        prove_writable(path)
    except OSError as exc:
        raise ConfigError(f"cannot store artifacts in {path}: {reason_of(exc)}") from exc


# -- blocking helpers, run in worker threads ------------------------------------------------


def _leaves(entry: os.DirEntry[str], real_root: str) -> bool:
    """Whether a symlink in a listing points outside the root (then nothing of its target,
    not even its size, is reported: reading it is refused anyway)."""
    real = os.path.realpath(entry.path)
    return real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep)


def _list_dir(full: str, path: str, root: str) -> list[FileEntry]:
    if not os.path.isdir(full):
        return []
    entries: list[FileEntry] = []
    prefix = f"{path}/" if path else ""
    real_root = os.path.realpath(root)
    with os.scandir(full) as it:
        for entry in it:
            if entry.name.startswith(UPLOAD_TEMP_PREFIX):
                continue
            try:
                if entry.is_symlink() and _leaves(entry, real_root):
                    entries.append(FileEntry(prefix + entry.name, False))
                elif entry.is_dir():
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


async def _write_overlapped(fd: int, chunks: AsyncIterable[bytes]) -> int:
    """Write a request body to ``fd``; the next batch is received while the last is written.

    Body pieces are gathered, not copied, into batches of about WRITE_BATCH bytes, each written
    by a worker thread with one writev call. Receiving and writing overlap (the kernel's copy
    into the page cache is the larger half of an upload's cost), so at most two batches are held
    per upload. Nothing is fsync'd: like ``mlflow server``, an upload is acknowledged once the
    kernel has it, and the rename in _publish makes it visible whole or not at all.
    """
    loop = asyncio.get_running_loop()
    writing: asyncio.Future[None] | None = None
    total = 0
    try:
        pieces: list[bytes] = []
        size = 0
        async for chunk in chunks:
            pieces.append(chunk)
            size += len(chunk)
            if size >= WRITE_BATCH:
                if writing is not None:
                    # Shielded: a cancelled wait must not mark the write done while the
                    # thread still holds fd. Raises the write's OSError (e.g. a full disk).
                    await asyncio.shield(writing)
                writing = loop.run_in_executor(None, _write_all, fd, pieces)
                total += size
                pieces, size = [], 0
        if writing is not None:
            await asyncio.shield(writing)
            writing = None
        if pieces:
            await _run(_write_all, fd, pieces)
            total += size
        return total
    finally:
        if writing is not None:
            # The caller closes fd next: the thread must be done with it first, whatever
            # ended the upload (a hang-up, a cancellation).
            with anyio.CancelScope(shield=True):
                await asyncio.wait([writing])
            if not writing.cancelled():
                writing.exception()  # retrieved, so asyncio does not log it as never seen


def _write_all(fd: int, pieces: list[bytes]) -> None:
    views = [memoryview(p) for p in pieces if p]
    while views:
        written = os.writev(fd, views[:_IOV_MAX])
        while written and views:  # drop what was written, including a partial piece
            if written >= len(views[0]):
                written -= len(views[0])
                views.pop(0)
            else:
                views[0] = views[0][written:]
                written = 0


def _stage(directory: str) -> tuple[list[str], tuple[int, str]]:
    """Create missing parent directories and a staging file; return both for cleanup."""
    for _ in range(3):
        created = _make_dirs(directory)
        try:
            return created, tempfile.mkstemp(dir=directory, prefix=UPLOAD_TEMP_PREFIX)
        except FileNotFoundError:
            continue  # a failed upload next door removed the directory it had just created
        except OSError:
            _remove_empty(created)  # a full disk: leave no empty directories behind either
            raise
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
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:
        _remove_empty(missing)  # the part made before the disk filled up
        raise
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
    _remove_empty(created)


def _remove_empty(created: list[str]) -> None:
    for directory in created:  # deepest first; a directory someone else filled stays
        try:
            os.rmdir(directory)
        except FileNotFoundError:
            continue  # never made (makedirs stopped above it) or already gone
        except OSError:
            break


def _remove_tree_or_file(full: str) -> None:
    if os.path.isdir(full) and not os.path.islink(full):
        shutil.rmtree(full, ignore_errors=False)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(full)
