"""The artifact-store interface every backend (local, S3, GCS, Azure, HDFS...) implements.

A store is rooted at one URI (``/data/mlartifacts``, ``s3://bucket/prefix``) and addressed by
relative POSIX paths (``"1/<run>/artifacts/model/MLmodel"``; ``""`` is the root). Paths reach a
store already checked by :func:`trackd.artifacts.paths.check_relative_path`; stores may assume
they cannot escape the root, and local ones still verify it after resolving symlinks.

Everything is async and streamed: reads yield chunks of about :data:`CHUNK_SIZE`, writes
consume an async iterator of chunks, so a transfer of any size costs a few MiB of memory.
Backends whose client libraries block run them in worker threads (``anyio.to_thread``) and
must never block the event loop.

Writes are atomic: data goes to a temporary object first and appears under its name only when
the last chunk has arrived; if the producer fails or the client disconnects, nothing is left
under the artifact's name.

Optional features (multipart uploads, presigned URLs) are advertised by class attributes; the
default implementations raise :class:`NotSupported`, which the API answers with 501
``NOT_IMPLEMENTED`` so that MLflow's client falls back to a plain proxied transfer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from trackd.errors import NOT_IMPLEMENTED, MlflowError, invalid_parameter, not_found

CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class FileEntry:
    """One listing entry; ``path`` is relative to the store root, sizes only for files."""

    path: str
    is_dir: bool
    file_size: int | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class FileStat:
    is_dir: bool
    size: int | None = None
    mtime: float | None = None


@dataclass(frozen=True)
class MultipartCredential:
    url: str
    part_number: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MultipartUpload:
    upload_id: str
    credentials: list[MultipartCredential]


@dataclass(frozen=True)
class PresignedUrl:
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    file_size: int | None = None


class NotSupported(MlflowError):
    """An optional feature this store does not have; answered 501 ``NOT_IMPLEMENTED``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, NOT_IMPLEMENTED)


# Messages shared by every backend, so that clients see the same words whatever the store.
def missing_artifact(path: str) -> MlflowError:
    return not_found(f"No such artifact: '{path}'")


def directory_not_file(path: str) -> MlflowError:
    return invalid_parameter(f"Artifact path refers to a directory, not a file: '{path}'")


class ArtifactStore(ABC):
    """A tree of artifacts under one root URI."""

    #: URI schemes this backend serves (``("s3",)``); ``""`` is a plain local path.
    schemes: ClassVar[tuple[str, ...]] = ()
    supports_multipart_upload: ClassVar[bool] = False
    supports_presigned_download: ClassVar[bool] = False

    def __init__(self, root_uri: str) -> None:
        self.root_uri = root_uri

    # -- required ---------------------------------------------------------------------------

    @abstractmethod
    async def list(self, path: str = "") -> list[FileEntry]:
        """Direct children of the directory ``path``, sorted by path.

        A missing directory, an empty one and a file all give ``[]`` (MLflow's rule). Hidden
        in-progress uploads are never listed.
        """

    @abstractmethod
    async def stat(self, path: str) -> FileStat | None:
        """Whether ``path`` is a file (with its size) or a directory; None if it is neither."""

    @abstractmethod
    def read(self, path: str, start: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """The bytes of a file from ``start``, ``length`` of them (None: to the end), in chunks.

        Raises :func:`missing_artifact` / :func:`directory_not_file` errors before the first
        chunk when the path is not a readable file.
        """

    @abstractmethod
    async def write(self, path: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the file ``path`` from ``chunks``, atomically; returns the bytes written.

        An exception from ``chunks`` (a client that went away) leaves no file and no new
        directories behind, and propagates.
        """

    @abstractmethod
    async def delete(self, path: str) -> None:
        """Remove a file or a whole directory tree; a missing path is not an error."""

    # -- conveniences -----------------------------------------------------------------------

    async def exists(self, path: str) -> bool:
        return await self.stat(path) is not None

    async def require_file(self, path: str) -> FileStat:
        """The stat of ``path``, or MLflow's error when it is missing or a directory."""
        found = await self.stat(path)
        if found is None:
            raise missing_artifact(path)
        if found.is_dir:
            raise directory_not_file(path)
        return found

    def uri_for(self, path: str) -> str:
        """The URI of ``path`` inside this store (for messages and direct-root listings)."""
        if not path:
            return self.root_uri
        return self.root_uri.rstrip("/") + "/" + path

    async def close(self) -> None:  # noqa: B027 - optional hook, most stores hold nothing
        """Release clients and connections; the registry calls it on shutdown."""

    # -- optional features ------------------------------------------------------------------

    async def create_multipart_upload(self, path: str, num_parts: int) -> MultipartUpload:
        raise NotSupported(
            "Multipart upload is not supported for the current artifact repository"
        )

    async def complete_multipart_upload(
        self, path: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        raise NotSupported(
            "Multipart upload is not supported for the current artifact repository"
        )

    async def abort_multipart_upload(self, path: str, upload_id: str) -> None:
        raise NotSupported(
            "Multipart upload is not supported for the current artifact repository"
        )

    async def presigned_download_url(self, path: str, expiration_s: int = 900) -> PresignedUrl:
        raise NotSupported(
            "Presigned download is not supported for the current artifact repository"
        )
