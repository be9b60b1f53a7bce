"""Artifacts in S3 and S3-compatible stores (MinIO, Ceph RGW, ...): ``s3://bucket/prefix``.

Configured as MLflow configures its S3 repository, so a platform's environment carries over:

* ``MLFLOW_S3_ENDPOINT_URL``: a non-AWS endpoint (``http://minio:9000``);
* ``MLFLOW_S3_IGNORE_TLS=true``: do not verify the endpoint's certificate;
* ``MLFLOW_S3_UPLOAD_EXTRA_ARGS``: JSON of extra upload arguments (``{"ServerSideEncryption":
  "aws:kms", "SSEKMSKeyId": "..."}``);
* ``MLFLOW_S3_EXPECTED_BUCKET_OWNER``: refuse buckets of another account;
* ``MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE``: ``auto`` (default), ``path`` or ``virtual``;
* credentials and region: boto3's own chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/
  ``AWS_SESSION_TOKEN``, ``AWS_PROFILE``, ``AWS_DEFAULT_REGION``, instance roles, ...).

Values in ``Settings.extra`` win over the process environment (in-process tests use that).
boto3 blocks, so every call runs in a worker thread; one client per store is shared by them
(boto3 clients are thread-safe).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from trackd.artifacts.base import (
    MultipartCredential,
    MultipartUpload,
    PresignedUrl,
    directory_not_file,
    missing_artifact,
)
from trackd.artifacts.blobs import BlobInfo, BlobStore, Readable, setting, split_bucket_uri
from trackd.config import ConfigError, Settings
from trackd.errors import MlflowError, invalid_parameter, not_found

_run = anyio.to_thread.run_sync

# S3's limit on parts per upload; MLflow's client never asks for more.
MAX_PARTS = 10_000
# Part URLs must outlive a slow client uploading many parts; downloads get MLflow's TTL.
PART_URL_TTL_S = 3600


def _truthy(raw: str | None) -> bool:
    return (raw or "").strip().lower() in ("1", "true", "yes", "on")


def _import_boto3() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise ConfigError("s3:// artifact stores need boto3: pip install 'trackd[s3]'") from exc
    return boto3


@dataclass
class _Upload:
    key: str
    upload_id: str
    parts: list[dict[str, Any]]


class S3ArtifactStore(BlobStore):
    schemes = ("s3",)
    supports_multipart_upload = True
    supports_presigned_download = True

    def __init__(
        self,
        root_uri: str,
        client: Any,
        *,
        extra_args: dict[str, Any] | None = None,
        expected_owner: str | None = None,
        presign_ttl: int = 300,
    ) -> None:
        bucket, prefix = split_bucket_uri(root_uri, "s3")
        if not bucket:
            raise invalid_parameter(f"No bucket in the S3 URI {root_uri!r}")
        super().__init__(root_uri, prefix)
        self.bucket = bucket
        self.client = client
        self.extra_args = extra_args or {}
        self.presign_ttl = presign_ttl
        # Every call names the bucket; with an expected owner it also names the account.
        self._where: dict[str, Any] = {"Bucket": bucket}
        if expected_owner:
            self._where["ExpectedBucketOwner"] = expected_owner

    # -- primitives ----------------------------------------------------------------------------

    def _list_level(self, prefix: str) -> tuple[list[BlobInfo], list[str]]:
        blobs: list[BlobInfo] = []
        prefixes: list[str] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Prefix=prefix, Delimiter="/", **self._where
        )
        for page in pages:
            for item in page.get("Contents", ()):
                blobs.append(
                    BlobInfo(item["Key"], int(item["Size"]), item["LastModified"].timestamp())
                )
            prefixes.extend(p["Prefix"] for p in page.get("CommonPrefixes", ()))
        return blobs, prefixes

    def _head(self, key: str) -> BlobInfo | None:
        try:
            found = self.client.head_object(Key=key, **self._where)
        except self.client.exceptions.ClientError as exc:
            if _status(exc) == 404:
                return None
            raise _storage_error(exc) from exc
        return BlobInfo(key, int(found["ContentLength"]), found["LastModified"].timestamp())

    def _any_under(self, prefix: str) -> bool:
        page = self.client.list_objects_v2(Prefix=prefix, MaxKeys=1, **self._where)
        return bool(page.get("KeyCount") or page.get("Contents"))

    def _open(self, key: str, start: int, length: int | None) -> Readable:
        wanted = f"bytes={start}-" if length is None else f"bytes={start}-{start + length - 1}"
        try:
            return self.client.get_object(Key=key, Range=wanted, **self._where)["Body"]  # type: ignore[no-any-return]
        except self.client.exceptions.ClientError as exc:
            raise _storage_error(exc) from exc

    def _put(self, key: str, data: bytes) -> None:
        self.client.put_object(Key=key, Body=data, **self._where, **self.extra_args)

    def _begin(self, key: str) -> _Upload:
        created = self.client.create_multipart_upload(Key=key, **self._where, **self.extra_args)
        return _Upload(key, created["UploadId"], [])

    def _send_part(self, handle: _Upload, number: int, data: bytes) -> None:
        sent = self.client.upload_part(
            Key=handle.key,
            UploadId=handle.upload_id,
            PartNumber=number,
            Body=data,
            **self._where,
        )
        handle.parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    def _finish(self, handle: _Upload) -> None:
        self.client.complete_multipart_upload(
            Key=handle.key,
            UploadId=handle.upload_id,
            MultipartUpload={"Parts": handle.parts},
            **self._where,
        )

    def _cancel(self, handle: _Upload) -> None:
        self.client.abort_multipart_upload(Key=handle.key, UploadId=handle.upload_id, **self._where)

    def _keys_under(self, prefix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Prefix=prefix, **self._where)
        for page in pages:
            for item in page.get("Contents", ()):
                yield item["Key"]

    def _delete_keys(self, keys: list[str]) -> None:
        answer = self.client.delete_objects(
            Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}, **self._where
        )
        failed = answer.get("Errors") or []
        if failed:
            first = failed[0]
            raise MlflowError(
                f"Could not delete {first.get('Key')!r} from S3: "
                f"{first.get('Code')} {first.get('Message')}"
            )

    # -- the proxy's multipart protocol and presigned downloads --------------------------------

    async def create_multipart_upload(self, path: str, num_parts: int) -> MultipartUpload:
        if not 1 <= num_parts <= MAX_PARTS:
            raise invalid_parameter(f"num_parts must be between 1 and {MAX_PARTS}, got {num_parts}")
        key = self.key(path)

        def work() -> MultipartUpload:
            upload = self._begin(key)
            credentials = [
                MultipartCredential(
                    self._presign(
                        "upload_part",
                        {
                            "Key": key,
                            "UploadId": upload.upload_id,
                            "PartNumber": n,
                        },
                        PART_URL_TTL_S,
                    ),
                    n,
                )
                for n in range(1, num_parts + 1)
            ]
            return MultipartUpload(upload.upload_id, credentials)

        return await _run(work)

    async def complete_multipart_upload(
        self, path: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        if not upload_id or not parts:
            raise invalid_parameter("upload_id and parts are required to complete an upload")
        upload = _Upload(
            self.key(path),
            upload_id,
            [{"PartNumber": n, "ETag": etag} for n, etag in sorted(parts)],
        )
        await _run(self._call_upload, self._finish, upload)

    async def abort_multipart_upload(self, path: str, upload_id: str) -> None:
        if not upload_id:
            raise invalid_parameter("upload_id is required to abort an upload")
        await _run(self._call_upload, self._cancel, _Upload(self.key(path), upload_id, []))

    def _call_upload(self, fn: Any, upload: _Upload) -> None:
        try:
            fn(upload)
        except self.client.exceptions.ClientError as exc:
            raise _storage_error(exc) from exc

    async def presigned_download_url(self, path: str, expiration_s: int = 0) -> PresignedUrl:
        found = await self.stat(path)
        if found is None or found.is_dir:
            raise missing_artifact(path) if found is None else directory_not_file(path)
        url = await _run(
            self._presign, "get_object", {"Key": self.key(path)}, expiration_s or self.presign_ttl
        )
        return PresignedUrl(url, {}, found.size)

    def _presign(self, operation: str, params: dict[str, Any], ttl: int) -> str:
        return str(
            self.client.generate_presigned_url(
                operation, Params={**params, "Bucket": self.bucket}, ExpiresIn=ttl
            )
        )


def _status(exc: Any) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _storage_error(exc: Any) -> MlflowError:
    """A storage failure the client cannot fix, with S3's own words (no secrets in them)."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or _status(exc))
    if code in ("NoSuchKey", "404"):
        return not_found(f"No such object in S3: {error.get('Message') or code}")
    if code in ("NoSuchUpload",):
        return invalid_parameter(f"No such multipart upload: {error.get('Message') or code}")
    return MlflowError(f"S3 request failed: {code} {error.get('Message') or ''}".strip())


def make_client(settings: Settings) -> Any:
    """The S3 client for these settings, shared by every store that uses them.

    Each run's root may be its own store (``s3://bucket/mlruns/1/<run>/artifacts``); a boto3
    client costs tens of milliseconds and megabytes to build, and is thread-safe, so stores
    share one per configuration and never close it.
    """
    return _client(
        setting(settings, "MLFLOW_S3_ENDPOINT_URL"),
        not _truthy(setting(settings, "MLFLOW_S3_IGNORE_TLS")),
        setting(settings, "MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE") or "auto",
    )


@functools.lru_cache(maxsize=8)
def _client(endpoint: str | None, verify: bool, style: str) -> Any:
    boto3 = _import_boto3()
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": style},
        retries={"max_attempts": 5, "mode": "standard"},
    )
    return boto3.session.Session().client("s3", endpoint_url=endpoint, verify=verify, config=config)


def open_store(uri: str, settings: Settings) -> S3ArtifactStore:
    raw_extra = setting(settings, "MLFLOW_S3_UPLOAD_EXTRA_ARGS")
    try:
        extra_args = json.loads(raw_extra) if raw_extra else {}
    except ValueError as exc:
        raise ConfigError(f"MLFLOW_S3_UPLOAD_EXTRA_ARGS is not JSON: {exc}") from exc
    ttl = setting(settings, "MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS")
    return S3ArtifactStore(
        uri,
        make_client(settings),
        extra_args=extra_args,
        expected_owner=setting(settings, "MLFLOW_S3_EXPECTED_BUCKET_OWNER"),
        presign_ttl=int(ttl) if ttl else 300,
    )


def check(uri: str, settings: Settings) -> None:
    """Start-up check: the client library is installed and the URI names a bucket."""
    _import_boto3()
    if not split_bucket_uri(uri, "s3")[0]:
        raise ConfigError(f"No bucket in the S3 artifact URI {uri!r}")
