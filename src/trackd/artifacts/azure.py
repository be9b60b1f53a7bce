"""Artifacts in Azure Blob Storage and ADLS Gen2:
``wasbs://container@account.blob.core.windows.net/path`` and
``abfss://container@account.dfs.core.windows.net/path``.

Both go through the Blob API (ADLS Gen2 accounts serve it too, on ``account.blob.<suffix>``).
Credentials as MLflow takes them: ``AZURE_STORAGE_CONNECTION_STRING`` (which also names the
endpoint, e.g. an emulator's), else ``AZURE_STORAGE_ACCESS_KEY`` for the URI's account, else
``DefaultAzureCredential`` from ``azure-identity`` (managed identity, workload identity, CLI).

Uploads are block blobs: parts are staged as uncommitted blocks and the blob appears whole
when the block list is committed. Uncommitted blocks of a failed upload cannot be deleted;
Azure drops them within a week. The proxy's multipart protocol hands out SAS URLs for Put Block
(account key or user delegation key), so clients send parts straight to storage.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import functools
import re
import urllib.parse
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

from trackd.artifacts.base import (
    MultipartCredential,
    MultipartUpload,
    NotSupported,
    PresignedUrl,
)
from trackd.artifacts.blobs import BlobInfo, BlobStore, Readable, setting
from trackd.config import ConfigError, Settings
from trackd.errors import invalid_parameter

_run = anyio.to_thread.run_sync
_URI = re.compile(
    r"^(wasbs?|abfss?)://([^@/]+)@([^./]+)\.(blob|dfs)\.([^/]+?)(?::\d+)?(/.*)?$", re.IGNORECASE
)
MAX_BLOCKS = 50_000
SAS_TTL = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class AzureLocation:
    container: str
    account: str
    endpoint_suffix: str  # core.windows.net, or a sovereign cloud's
    prefix: str


def parse_uri(uri: str) -> AzureLocation:
    match = _URI.match(uri)
    if match is None:
        raise invalid_parameter(
            f"Not an Azure artifact URI: {uri!r}; expected "
            "wasbs://<container>@<account>.blob.core.windows.net/<path> or "
            "abfss://<container>@<account>.dfs.core.windows.net/<path>"
        )
    _, container, account, _, suffix, path = match.groups()
    return AzureLocation(container, account, suffix, urllib.parse.unquote(path or "").strip("/"))


def block_id(upload_id: str, number: int) -> str:
    """A block's ID as the SDK takes it (it base64-encodes IDs on the wire itself).

    Every block ID of a blob must have the same length; 32 hex + 5 digits always does.
    """
    return f"{upload_id}-{number:05d}"


def wire_block_id(upload_id: str, number: int) -> str:
    """The ID as it appears in a Put Block URL: base64, then percent-encoded."""
    raw = base64.b64encode(block_id(upload_id, number).encode()).decode("ascii")
    return urllib.parse.quote(raw, safe="")


@dataclass
class _Upload:
    key: str
    upload_id: str
    ids: list[str] = field(default_factory=list)


class _ChunkReader:
    """``read(n)`` over a download's chunk iterator."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks, self.buffer = chunks, b""

    def read(self, size: int) -> bytes:
        while not self.buffer:
            chunk = next(self.chunks, None)
            if chunk is None:
                return b""
            self.buffer = chunk
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out

    def close(self) -> None:
        self.buffer = b""


class AzureBlobArtifactStore(BlobStore):
    schemes = ("wasbs", "wasb", "abfss", "abfs")
    supports_multipart_upload = True
    supports_presigned_download = True

    def __init__(self, root_uri: str, service: Any) -> None:
        where = parse_uri(root_uri)
        super().__init__(root_uri, where.prefix)
        self.service = service
        self.container = service.get_container_client(where.container)

    def _blob(self, key: str) -> Any:
        return self.container.get_blob_client(key)

    # -- primitives ----------------------------------------------------------------------------

    def _list_level(self, prefix: str) -> tuple[list[BlobInfo], list[str]]:
        blobs: list[BlobInfo] = []
        prefixes: list[str] = []
        for item in self.container.walk_blobs(
            name_starts_with=prefix or None, delimiter="/", include=["metadata"]
        ):
            if item.name.endswith("/"):
                prefixes.append(item.name)
            elif not _is_folder(item):  # ADLS Gen2 lists its directories as blobs too
                blobs.append(BlobInfo(item.name, int(item.size or 0), _mtime(item)))
        return blobs, prefixes

    def _head(self, key: str) -> BlobInfo | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            found = self._blob(key).get_blob_properties()
        except ResourceNotFoundError:
            return None
        if _is_folder(found):
            return None
        return BlobInfo(key, int(found.size or 0), _mtime(found))

    def _any_under(self, prefix: str) -> bool:
        pages = self.container.list_blobs(
            name_starts_with=prefix or None, results_per_page=1
        ).by_page()
        return any(True for _ in next(pages, []))

    def _open(self, key: str, start: int, length: int | None) -> Readable:
        download = self._blob(key).download_blob(offset=start, length=length)
        return _ChunkReader(iter(download.chunks()))

    def _put(self, key: str, data: bytes) -> None:
        self._blob(key).upload_blob(data, overwrite=True)

    def _begin(self, key: str) -> _Upload:
        return _Upload(key, uuid.uuid4().hex)

    def _send_part(self, handle: _Upload, number: int, data: bytes) -> None:
        ident = block_id(handle.upload_id, number)
        self._blob(handle.key).stage_block(ident, data)
        handle.ids.append(ident)

    def _finish(self, handle: _Upload) -> None:
        from azure.storage.blob import BlobBlock

        self._blob(handle.key).commit_block_list([BlobBlock(block_id=i) for i in handle.ids])

    def _cancel(self, handle: _Upload) -> None:
        pass  # uncommitted blocks cannot be deleted; the service drops them

    def _keys_under(self, prefix: str) -> Iterator[str]:
        names = [b.name for b in self.container.list_blobs(name_starts_with=prefix or None)]
        # Deepest first, so that ADLS Gen2 directories are empty when their turn comes.
        yield from sorted(names, key=lambda n: (-n.count("/"), n))

    def _delete_keys(self, keys: list[str]) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        for key in keys:
            with contextlib.suppress(ResourceNotFoundError):
                self._blob(key).delete_blob()

    # -- SAS: the proxy's multipart protocol and presigned downloads ---------------------------

    def _sas(self, key: str, *, read: bool, write: bool) -> str:
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        now = datetime.datetime.now(datetime.UTC)
        kwargs: dict[str, Any] = {
            "account_name": self.service.account_name,
            "container_name": self.container.container_name,
            "blob_name": key,
            "permission": BlobSasPermissions(read=read, write=write),
            "expiry": now + SAS_TTL,
        }
        credential = self.service.credential
        if getattr(credential, "account_key", None):
            kwargs["account_key"] = credential.account_key
        elif hasattr(credential, "get_token"):
            start = now - datetime.timedelta(minutes=5)
            kwargs["user_delegation_key"] = self.service.get_user_delegation_key(
                start, now + SAS_TTL
            )
            kwargs["start"] = start
        else:
            raise NotSupported("Presigned URLs need an account key or an Azure AD credential")
        return str(generate_blob_sas(**kwargs))

    async def create_multipart_upload(self, path: str, num_parts: int) -> MultipartUpload:
        if not 1 <= num_parts <= MAX_BLOCKS:
            raise invalid_parameter(
                f"num_parts must be between 1 and {MAX_BLOCKS}, got {num_parts}"
            )
        key = self.key(path)
        upload_id = uuid.uuid4().hex
        sas = await _run(lambda: self._sas(key, read=True, write=True))
        url = self._blob(key).url
        credentials = [
            MultipartCredential(
                f"{url}?comp=block&blockid={wire_block_id(upload_id, n)}&{sas}",
                n,
            )
            for n in range(1, num_parts + 1)
        ]
        return MultipartUpload(upload_id, credentials)

    async def complete_multipart_upload(
        self, path: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        if not re.fullmatch(r"[0-9a-f]{32}", upload_id or "") or not parts:
            raise invalid_parameter("A valid upload_id and parts are required")
        upload = _Upload(
            self.key(path), upload_id, [block_id(upload_id, n) for n, _ in sorted(parts)]
        )
        await _run(self._finish, upload)

    async def abort_multipart_upload(self, path: str, upload_id: str) -> None:
        """Nothing to do: uncommitted blocks never become a blob and expire on their own."""

    async def presigned_download_url(self, path: str, expiration_s: int = 0) -> PresignedUrl:
        found = await self.require_file(path)
        key = self.key(path)
        sas = await _run(lambda: self._sas(key, read=True, write=False))
        return PresignedUrl(f"{self._blob(key).url}?{sas}", {}, found.size)


def _is_folder(item: Any) -> bool:
    metadata = getattr(item, "metadata", None) or {}
    return str(metadata.get("hdi_isfolder", "")).lower() == "true"


def _mtime(item: Any) -> float | None:
    modified = getattr(item, "last_modified", None)
    return modified.timestamp() if modified is not None else None


def _import_blob() -> Any:
    try:
        from azure.storage import blob
    except ImportError as exc:
        raise ConfigError(
            "wasbs:// and abfss:// artifact stores need azure-storage-blob: "
            "pip install 'trackd[azure]'"
        ) from exc
    return blob


def make_service(uri: str, settings: Settings) -> Any:
    """The service client for the URI's account, shared by every store using it (thread-safe,
    and costly enough to build that one per run root would show)."""
    where = parse_uri(uri)
    return _service(
        where.account,
        where.endpoint_suffix,
        setting(settings, "AZURE_STORAGE_CONNECTION_STRING"),
        setting(settings, "AZURE_STORAGE_ACCESS_KEY"),
    )


@functools.lru_cache(maxsize=8)
def _service(account: str, suffix: str, connection: str | None, key: str | None) -> Any:
    blob = _import_blob()
    if connection:
        return blob.BlobServiceClient.from_connection_string(connection)
    account_url = f"https://{account}.blob.{suffix}"
    if key:
        return blob.BlobServiceClient(
            account_url, credential={"account_name": account, "account_key": key}
        )
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError as exc:
        raise ConfigError(
            "No Azure credentials: set AZURE_STORAGE_CONNECTION_STRING or "
            "AZURE_STORAGE_ACCESS_KEY, or install azure-identity for DefaultAzureCredential"
        ) from exc
    return blob.BlobServiceClient(account_url, credential=DefaultAzureCredential())


def open_store(uri: str, settings: Settings) -> AzureBlobArtifactStore:
    return AzureBlobArtifactStore(uri, make_service(uri, settings))


def check(uri: str, settings: Settings) -> None:
    """Start-up check: the client library is installed and the URI parses."""
    _import_blob()
    try:
        parse_uri(uri)
    except Exception as exc:
        raise ConfigError(str(exc)) from exc
