"""Artifacts in Google Cloud Storage: ``gs://bucket/prefix``.

Credentials are Google's Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``,
workload identity, ``gcloud auth application-default login``), project from
``GOOGLE_CLOUD_PROJECT``, exactly as MLflow's GCS repository gets them. ``STORAGE_EMULATOR_HOST``
(``http://127.0.0.1:4443``) points the client at an emulator with anonymous credentials.

Large uploads use a resumable upload session that is finalized by the last part, so the object
appears only complete; a failed one is cancelled. Downloads are ranged reads of
:data:`READ_WINDOW` bytes. Multipart through presigned URLs and presigned downloads need
signing credentials and are not offered: MLflow's client then proxies through the server.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from trackd.artifacts.blobs import (
    PART_SIZE,
    BlobInfo,
    BlobStore,
    Readable,
    setting,
    split_bucket_uri,
)
from trackd.config import ConfigError, Settings
from trackd.errors import invalid_parameter

READ_WINDOW = 8 * 1024 * 1024


def _import_storage() -> Any:
    try:
        from google.cloud import storage
    except ImportError as exc:
        raise ConfigError(
            "gs:// artifact stores need google-cloud-storage: pip install 'trackd[gcs]'"
        ) from exc
    return storage


class _RangedReader:
    """Reads ``[start, stop)`` of a blob in windows, one ranged GET per window."""

    def __init__(self, blob: Any, start: int, stop: int) -> None:
        self.blob, self.pos, self.stop = blob, start, stop
        self.buffer = b""

    def read(self, size: int) -> bytes:
        if not self.buffer and self.pos < self.stop:
            end = min(self.pos + READ_WINDOW, self.stop)
            # Ranged reads cannot be checked against the whole object's checksum.
            self.buffer = self.blob.download_as_bytes(
                start=self.pos, end=end - 1, checksum=None, raw_download=True
            )
            self.pos += len(self.buffer)
            if not self.buffer:
                self.pos = self.stop
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out

    def close(self) -> None:
        self.buffer = b""


class GcsArtifactStore(BlobStore):
    schemes = ("gs",)

    def __init__(self, root_uri: str, client: Any) -> None:
        name, prefix = split_bucket_uri(root_uri, "gs")
        if not name:
            raise invalid_parameter(f"No bucket in the GCS URI {root_uri!r}")
        super().__init__(root_uri, prefix)
        self.client = client
        self.bucket = client.bucket(name)

    def _list_level(self, prefix: str) -> tuple[list[BlobInfo], list[str]]:
        pages = self.client.list_blobs(self.bucket, prefix=prefix or None, delimiter="/")
        blobs = [BlobInfo(b.name, int(b.size or 0), _mtime(b)) for b in pages]
        return blobs, sorted(pages.prefixes)

    def _head(self, key: str) -> BlobInfo | None:
        blob = self.bucket.get_blob(key)
        return None if blob is None else BlobInfo(key, int(blob.size or 0), _mtime(blob))

    def _any_under(self, prefix: str) -> bool:
        found = self.client.list_blobs(self.bucket, prefix=prefix or None, max_results=1)
        return any(True for _ in found)

    def _open(self, key: str, start: int, length: int | None) -> Readable:
        blob = self.bucket.blob(key)
        if length is None:
            found = self.bucket.get_blob(key)
            length = int(found.size or 0) - start if found is not None else 0
        return _RangedReader(blob, start, start + length)

    def _put(self, key: str, data: bytes) -> None:
        self.bucket.blob(key).upload_from_string(data, content_type="application/octet-stream")

    def _begin(self, key: str) -> Any:
        # chunk_size must be a multiple of 256 KiB; parts are, so each write goes out whole.
        return self.bucket.blob(key, chunk_size=PART_SIZE).open(
            "wb", ignore_flush=True, content_type="application/octet-stream"
        )

    def _send_part(self, handle: Any, number: int, data: bytes) -> None:
        handle.write(data)

    def _finish(self, handle: Any) -> None:
        handle.close()

    def _cancel(self, handle: Any) -> None:
        # terminate() deletes the resumable session and closes the writer without finalizing;
        # a plain close (also run when the writer is garbage-collected) would publish the
        # parts sent so far as the whole object.
        try:
            handle.terminate()
        finally:
            # Even if the session could not be deleted, the writer must never finalize.
            buffer = getattr(handle, "_buffer", None)
            if buffer is not None:
                buffer.close()

    def _keys_under(self, prefix: str) -> Iterator[str]:
        for blob in self.client.list_blobs(self.bucket, prefix=prefix or None):
            yield blob.name

    def _delete_keys(self, keys: list[str]) -> None:
        # on_error swallows "not found": deleting what is already gone is not a failure.
        self.bucket.delete_blobs([self.bucket.blob(k) for k in keys], on_error=lambda b: None)


def _mtime(blob: Any) -> float | None:
    updated = getattr(blob, "updated", None)
    return updated.timestamp() if updated is not None else None


def make_client(settings: Settings) -> Any:
    """The client for these settings, shared by every store using them (as for S3)."""
    return _client(
        setting(settings, "GOOGLE_CLOUD_PROJECT"), setting(settings, "STORAGE_EMULATOR_HOST")
    )


@functools.lru_cache(maxsize=8)
def _client(project: str | None, emulator: str | None) -> Any:
    storage = _import_storage()
    if emulator:
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(
            project=project or "trackd",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emulator},
        )
    return storage.Client(project=project)


def open_store(uri: str, settings: Settings) -> GcsArtifactStore:
    return GcsArtifactStore(uri, make_client(settings))


def check(uri: str, settings: Settings) -> None:
    """Start-up check: the client library is installed and the URI names a bucket."""
    _import_storage()
    if not split_bucket_uri(uri, "gs")[0]:
        raise ConfigError(f"No bucket in the GCS artifact URI {uri!r}")
