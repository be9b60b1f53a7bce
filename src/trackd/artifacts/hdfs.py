"""Artifacts in HDFS through libhdfs (JNI): ``hdfs://namenode:8020/path``.

The store is written against :class:`pyarrow.fs.FileSystem`, not HDFS specifically: in
production it gets a ``pyarrow.fs.HadoopFileSystem``, and the tests run the very same code on a
``pyarrow.fs.LocalFileSystem``. Calls block (JNI), so they run in worker threads.

Configured as MLflow's HDFS repository is: ``MLFLOW_KERBEROS_TICKET_CACHE`` (ticket cache
path), ``MLFLOW_KERBEROS_USER`` (principal / user), ``MLFLOW_PYARROW_EXTRA_CONF``
(``key=value,key=value`` over hdfs-site.xml); ``hdfs:///path`` (no host) uses
``fs.defaultFS`` from the cluster configuration, HA nameservices included. libhdfs itself needs
``JAVA_HOME``, ``HADOOP_HOME`` (or ``ARROW_LIBHDFS_DIR``) and a ``CLASSPATH`` holding the
Hadoop jars (``hadoop classpath --glob``); :func:`check` refuses to start the server with a
message naming whichever is missing.

Uploads are atomic like the WebHDFS backend's: written under ``.artifact.uploading.staging/``
at the store root (hidden from listings), then moved into place once complete.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import posixpath
import urllib.parse
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any

import anyio
import anyio.to_thread

from trackd.artifacts.base import (
    CHUNK_SIZE,
    ArtifactStore,
    FileEntry,
    FileStat,
)
from trackd.artifacts.blobs import reserved_name, setting
from trackd.artifacts.paths import INVALID_PATH, UPLOAD_TEMP_PREFIX
from trackd.config import ConfigError, Settings
from trackd.errors import invalid_parameter

_run = anyio.to_thread.run_sync
STAGING_DIR = UPLOAD_TEMP_PREFIX + "staging"


class PyArrowArtifactStore(ArtifactStore):
    """An artifact tree at ``base`` (an absolute path) in any pyarrow filesystem."""

    schemes = ("hdfs", "viewfs")

    def __init__(self, root_uri: str, filesystem: Any, base: str) -> None:
        super().__init__(root_uri)
        self.fs = filesystem
        self.base = base.rstrip("/") or "/"

    def full(self, path: str) -> str:
        return posixpath.join(self.base, path) if path else self.base

    def _info(self, full: str) -> Any:
        import pyarrow.fs as pafs

        info = self.fs.get_file_info(full)
        return None if info.type == pafs.FileType.NotFound else info

    async def list(self, path: str = "") -> list[FileEntry]:
        import pyarrow.fs as pafs

        def work() -> list[FileEntry]:
            info = self._info(self.full(path))
            if info is None or info.type != pafs.FileType.Directory:
                return []
            selector = pafs.FileSelector(self.full(path), allow_not_found=True)
            base = f"{path}/" if path else ""
            entries = []
            for child in self.fs.get_file_info(selector):
                name = posixpath.basename(child.path.rstrip("/"))
                if name.startswith(UPLOAD_TEMP_PREFIX):
                    continue
                if child.type == pafs.FileType.Directory:
                    entries.append(FileEntry(base + name, True))
                else:
                    entries.append(FileEntry(base + name, False, child.size))
            entries.sort(key=lambda e: e.path)
            return entries

        return await _run(work)

    async def stat(self, path: str) -> FileStat | None:
        import pyarrow.fs as pafs

        info = await _run(self._info, self.full(path))
        if info is None:
            return None
        mtime = info.mtime.timestamp() if info.mtime is not None else None
        if info.type == pafs.FileType.Directory:
            return FileStat(True, None, mtime)
        return FileStat(False, info.size, mtime)

    async def read(
        self, path: str, start: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        await self.require_file(path)
        handle = await _run(self.fs.open_input_file, self.full(path))
        try:
            if start:
                await _run(handle.seek, start)
            remaining = length
            while remaining is None or remaining > 0:
                size = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
                chunk = bytes(await _run(handle.read, size))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            with anyio.CancelScope(shield=True):
                await _run(handle.close)

    async def write(self, path: str, chunks: AsyncIterable[bytes]) -> int:
        directory, name = posixpath.split(path)
        if name.startswith(UPLOAD_TEMP_PREFIX):
            raise reserved_name(name)
        staging_dir = self.full(STAGING_DIR)
        staging = posixpath.join(staging_dir, uuid.uuid4().hex)
        published = False
        try:
            await _run(self.fs.create_dir, staging_dir)
            out = await _run(self.fs.open_output_stream, staging)
            total = 0
            try:
                async for chunk in chunks:
                    total += len(chunk)
                    await _run(out.write, chunk)
            finally:
                with anyio.CancelScope(shield=True):
                    await _run(out.close)
            await _run(self._publish, staging, path, directory)
            published = True
            return total
        finally:
            if not published:
                with anyio.CancelScope(shield=True):
                    await _run(self._forget, staging)

    def _publish(self, staging: str, path: str, directory: str) -> None:
        import pyarrow.fs as pafs

        parent = self.full(directory)
        probe = parent
        while probe not in ("", "/") and self._info(probe) is None:
            probe = posixpath.dirname(probe)
        found = self._info(probe) if probe not in ("", "/") else None
        if found is not None and found.type != pafs.FileType.Directory:
            raise invalid_parameter(INVALID_PATH + ": a parent of the artifact is a file")
        self.fs.create_dir(parent)
        final = self.full(path)
        existing = self._info(final)
        if existing is not None:
            if existing.type == pafs.FileType.Directory:
                raise invalid_parameter(f"Cannot overwrite the directory '{path}' with a file")
            # HDFS's rename refuses to replace a file; readers see it missing for a moment,
            # never half-written.
            self.fs.delete_file(final)
        self.fs.move(staging, final)

    def _forget(self, staging: str) -> None:
        with contextlib.suppress(OSError):  # never written, or already gone
            self.fs.delete_file(staging)

    async def delete(self, path: str) -> None:
        import pyarrow.fs as pafs

        def work() -> None:
            info = self._info(self.full(path))
            if info is None:
                return
            if info.type == pafs.FileType.Directory:
                self.fs.delete_dir(self.full(path))
            else:
                self.fs.delete_file(self.full(path))

        await _run(work)


# -- connecting, and refusing to start without libhdfs -----------------------------------------


def connection_args(uri: str, settings: Settings) -> dict[str, Any]:
    """HadoopFileSystem's arguments for ``uri``, as MLflow's HDFS repository derives them."""
    parsed = urllib.parse.urlparse(uri)
    extra_conf = None
    raw = setting(settings, "MLFLOW_PYARROW_EXTRA_CONF")
    if raw:
        try:
            extra_conf = dict(item.split("=", 1) for item in raw.split(",") if item)
        except ValueError as exc:
            raise ConfigError(
                f"MLFLOW_PYARROW_EXTRA_CONF must be key=value,key=value: {raw!r}"
            ) from exc
    return {
        # No host: fs.defaultFS from core-site.xml (HA nameservices too), port 0.
        "host": f"{parsed.scheme}://{parsed.hostname}" if parsed.hostname else "default",
        "port": parsed.port or 0,
        "user": setting(settings, "MLFLOW_KERBEROS_USER"),
        "kerb_ticket": setting(settings, "MLFLOW_KERBEROS_TICKET_CACHE"),
        "extra_conf": extra_conf,
    }


def _libjvm_found(java_home: str) -> bool:
    patterns = (
        "lib/server/libjvm.so",
        "jre/lib/*/server/libjvm.so",
        "lib/*/server/libjvm.so",
        "lib/server/libjvm.dylib",
    )
    return any(glob.glob(os.path.join(java_home, p)) for p in patterns)


def libhdfs_problems(env: Mapping[str, str]) -> list[str]:
    """What keeps libhdfs from loading here, each with its fix; empty when all looks right."""
    problems = []
    java_home = env.get("JAVA_HOME", "")
    if not java_home:
        problems.append(
            "JAVA_HOME is not set: point it at a JRE/JDK 8+ "
            "(e.g. export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64)"
        )
    elif not _libjvm_found(java_home):
        problems.append(
            f"JAVA_HOME={java_home} holds no lib/server/libjvm.so: point it at a full JRE/JDK"
        )
    lib_dirs = [env.get("ARROW_LIBHDFS_DIR", "")]
    if env.get("HADOOP_HOME"):
        lib_dirs.append(os.path.join(env["HADOOP_HOME"], "lib", "native"))
    lib_dirs += env.get("LD_LIBRARY_PATH", "").split(":")
    if not any(d and os.path.exists(os.path.join(d, "libhdfs.so")) for d in lib_dirs):
        problems.append(
            "libhdfs.so not found (looked in ARROW_LIBHDFS_DIR, "
            "$HADOOP_HOME/lib/native, LD_LIBRARY_PATH): install the Hadoop client "
            "and set HADOOP_HOME, or ARROW_LIBHDFS_DIR to the folder of libhdfs.so"
        )
    classpath = env.get("CLASSPATH", "")
    if "hadoop-common" not in classpath and "share/hadoop/common" not in classpath:
        problems.append(
            "CLASSPATH holds no Hadoop jars: export CLASSPATH=$(hadoop classpath "
            "--glob) (libhdfs does not expand wildcards, hence --glob)"
        )
    cache = env.get("MLFLOW_KERBEROS_TICKET_CACHE") or env.get("KRB5CCNAME", "")
    cache_path = cache.removeprefix("FILE:")
    if cache and cache_path.startswith("/") and not os.path.exists(cache_path):
        problems.append(
            f"the Kerberos ticket cache {cache_path} does not exist: run kinit "
            "(with the service keytab) before starting the server"
        )
    return problems


def connect(uri: str, settings: Settings) -> Any:
    """A HadoopFileSystem for ``uri``, or ConfigError saying what is missing and how to fix it."""
    try:
        import pyarrow.fs as pafs
    except ImportError as exc:
        raise ConfigError(
            "hdfs:// artifact stores need pyarrow: pip install 'trackd[hdfs]'"
        ) from exc
    args = connection_args(uri, settings)
    conf = tuple(sorted((args.pop("extra_conf") or {}).items()))
    try:
        return _filesystem(pafs, conf, **args)
    except OSError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        env = {**os.environ, **settings.extra}
        problems = libhdfs_problems(env) or [
            "JAVA_HOME, HADOOP_HOME and CLASSPATH look set; check HADOOP_CONF_DIR "
            "(core-site.xml, hdfs-site.xml) and that the namenode is reachable"
        ]
        raise ConfigError(
            f"cannot use the HDFS artifact store {uri}: {first_line}\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nSee docs/artifact-stores.md (HDFS), or use webhdfs:// to reach HDFS "
            "without a JVM."
        ) from exc


@functools.lru_cache(maxsize=8)
def _filesystem(pafs: Any, conf: tuple[tuple[str, str], ...], **args: Any) -> Any:
    # One client per cluster and identity: every run root on the cluster shares it.
    return pafs.HadoopFileSystem(**args, extra_conf=dict(conf) or None)


def open_store(uri: str, settings: Settings) -> PyArrowArtifactStore:
    base = urllib.parse.unquote(urllib.parse.urlparse(uri).path) or "/"
    return PyArrowArtifactStore(uri, connect(uri, settings), base)


def check(uri: str, settings: Settings) -> None:
    """Start-up check: libhdfs loads and a client for the cluster can be made."""
    connect(uri, settings)
