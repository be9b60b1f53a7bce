"""Artifacts in HDFS over its REST gateway: ``webhdfs://namenode:9870/path`` (``swebhdfs://``
for HTTPS, default port 9871). No JVM and no libhdfs: plain HTTP through httpx.

The protocol's two-step transfers are followed by hand so that the body goes straight to the
datanode: ``OPEN`` and ``CREATE`` ask the namenode, which answers 307 with a datanode URL, and
the data is then read from / streamed to that URL.

Uploads are atomic: a file is written under a hidden staging directory at the store root
(``.artifact.uploading.staging/<random>``, same prefix as the local store's in-progress files,
so listings hide it), its parent directory is made only once all bytes have arrived, and it is
RENAMEd into place. HDFS's RENAME refuses to replace a file, so an overwrite deletes the old
file first; a reader may see the artifact missing for that moment, never half-written.

Configuration (``Settings.extra`` first, then the environment):

* ``TRACKD_WEBHDFS_USER`` (else ``HADOOP_USER_NAME``): ``user.name`` for simple auth;
* ``TRACKD_WEBHDFS_DELEGATION_TOKEN``: sent as ``delegation=`` on every call;
* ``TRACKD_WEBHDFS_KERBEROS=true``: SPNEGO to the namenode, with the Kerberos ticket cache
  (``KRB5CCNAME``); needs ``httpx-gssapi`` or ``pyspnego``
  (``pip install 'trackd[webhdfs-kerberos]'``);
* ``TRACKD_WEBHDFS_CA_BUNDLE``: CA file for ``swebhdfs://``; ``TRACKD_WEBHDFS_TIMEOUT`` (s).
"""

from __future__ import annotations

import base64
import contextlib
import posixpath
import urllib.parse
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Generator
from typing import Any

import anyio
import httpx

from trackd.artifacts.base import (
    ArtifactStore,
    FileEntry,
    FileStat,
)
from trackd.artifacts.blobs import reserved_name, setting
from trackd.artifacts.paths import INVALID_PATH, UPLOAD_TEMP_PREFIX
from trackd.config import ConfigError, Settings
from trackd.errors import PERMISSION_DENIED, MlflowError, invalid_parameter

STAGING_DIR = UPLOAD_TEMP_PREFIX + "staging"
DEFAULT_PORTS = {"webhdfs": 9870, "swebhdfs": 9871}
_REDIRECTS = (301, 302, 303, 307, 308)


class WebHdfsError(MlflowError):
    def __init__(self, message: str, code: str, exception: str) -> None:
        super().__init__(message, code)
        self.exception = exception


class WebHdfsArtifactStore(ArtifactStore):
    schemes = ("webhdfs", "swebhdfs")

    def __init__(
        self,
        root_uri: str,
        client: httpx.AsyncClient,
        *,
        user: str | None = None,
        delegation: str | None = None,
    ) -> None:
        super().__init__(root_uri)
        parsed = urllib.parse.urlparse(root_uri)
        scheme = parsed.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parsed.hostname:
            raise invalid_parameter(f"Not a WebHDFS URI: {root_uri!r}")
        port = parsed.port or DEFAULT_PORTS[scheme]
        http = "https" if scheme == "swebhdfs" else "http"
        self.base_url = f"{http}://{parsed.hostname}:{port}/webhdfs/v1"
        self.root = "/" + urllib.parse.unquote(parsed.path).strip("/")
        self.client = client
        self.auth_params: dict[str, str] = {}
        if user:
            self.auth_params["user.name"] = user
        if delegation:
            self.auth_params["delegation"] = delegation

    # -- plumbing ------------------------------------------------------------------------------

    def hdfs_path(self, path: str) -> str:
        return posixpath.join(self.root, path) if path else self.root

    def _url(self, hdfs_path: str) -> str:
        return self.base_url + urllib.parse.quote(hdfs_path, safe="/")

    async def _call(self, method: str, hdfs_path: str, op: str, **params: Any) -> Any:
        query = {"op": op, **self.auth_params, **{k: str(v) for k, v in params.items()}}
        response = await self.client.request(method, self._url(hdfs_path), params=query)
        if response.status_code >= 400:
            raise _remote_error(response, hdfs_path)
        return response.json() if response.content else {}

    async def _status(self, hdfs_path: str) -> dict[str, Any] | None:
        try:
            answer = await self._call("GET", hdfs_path, "GETFILESTATUS")
        except WebHdfsError as exc:
            if exc.exception == "FileNotFoundException":
                return None
            raise
        return dict(answer["FileStatus"])

    async def _datanode_location(
        self, method: str, hdfs_path: str, op: str, **params: Any
    ) -> str | None:
        """The datanode URL the namenode redirects ``op`` to; None if it answered itself."""
        query = {"op": op, **self.auth_params, **{k: str(v) for k, v in params.items()}}
        response = await self.client.request(method, self._url(hdfs_path), params=query)
        if response.status_code in _REDIRECTS:
            return response.headers["location"]
        if response.status_code >= 400:
            raise _remote_error(response, hdfs_path)
        # Some gateways (noredirect=true semantics) name the datanode in the body instead.
        location = response.json().get("Location") if response.content else None
        return str(location) if location else None

    # -- reading -------------------------------------------------------------------------------

    async def list(self, path: str = "") -> list[FileEntry]:
        try:
            answer = await self._call("GET", self.hdfs_path(path), "LISTSTATUS")
        except WebHdfsError as exc:
            if exc.exception == "FileNotFoundException":
                return []
            raise
        statuses = answer.get("FileStatuses", {}).get("FileStatus", [])
        base = f"{path}/" if path else ""
        entries = []
        for status in statuses:
            name = status.get("pathSuffix", "")
            if not name:
                return []  # LISTSTATUS of a file names the file itself
            if name.startswith(UPLOAD_TEMP_PREFIX):
                continue
            if status.get("type") == "DIRECTORY":
                entries.append(FileEntry(base + name, True))
            else:
                entries.append(FileEntry(base + name, False, int(status.get("length", 0))))
        entries.sort(key=lambda e: e.path)
        return entries

    async def stat(self, path: str) -> FileStat | None:
        status = await self._status(self.hdfs_path(path))
        if status is None:
            return None
        mtime = status.get("modificationTime")
        seconds = mtime / 1000.0 if mtime is not None else None
        if status.get("type") == "DIRECTORY":
            return FileStat(True, None, seconds)
        return FileStat(False, int(status.get("length", 0)), seconds)

    async def read(
        self, path: str, start: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        found = await self.require_file(path)
        if length == 0 or start >= (found.size or 0):
            return
        params: dict[str, Any] = {"offset": start}
        if length is not None:
            params["length"] = length
        hdfs_path = self.hdfs_path(path)
        query = {"op": "OPEN", **self.auth_params, **params}
        request = self.client.build_request("GET", self._url(hdfs_path), params=query)
        response = await self.client.send(request, stream=True)
        try:
            if response.status_code in _REDIRECTS:
                # The namenode names a datanode holding the blocks; gateways such as HttpFS
                # answer with the bytes themselves and skip this step.
                location = response.headers["location"]
                await response.aclose()
                response = await self.client.send(
                    self.client.build_request("GET", location), stream=True
                )
            if response.status_code >= 400:
                await response.aread()
                raise _remote_error(response, hdfs_path)
            async for chunk in response.aiter_bytes():
                yield chunk
        finally:
            await response.aclose()

    # -- writing -------------------------------------------------------------------------------

    async def write(self, path: str, chunks: AsyncIterable[bytes]) -> int:
        directory, name = posixpath.split(path)
        if name.startswith(UPLOAD_TEMP_PREFIX):
            raise reserved_name(name)
        staging = posixpath.join(self.root, STAGING_DIR, uuid.uuid4().hex)
        counted = _Counter(chunks)
        published = False
        try:
            location = await self._datanode_location("PUT", staging, "CREATE", overwrite="false")
            if location is None:
                raise MlflowError("The WebHDFS namenode did not redirect CREATE to a datanode")
            response = await self.client.put(
                location,
                content=counted.stream(),
                headers={"Content-Type": "application/octet-stream"},
            )
            if response.status_code >= 400:
                raise _remote_error(response, staging)
            await self._publish(staging, path, directory)
            published = True
            return counted.total
        finally:
            if not published:
                with anyio.CancelScope(shield=True):
                    await self._forget(staging)

    async def _publish(self, staging: str, path: str, directory: str) -> None:
        final = self.hdfs_path(path)
        parent = self.hdfs_path(directory)
        try:
            await self._call("PUT", parent, "MKDIRS")
        except WebHdfsError as exc:
            if exc.exception in ("FileAlreadyExistsException", "ParentNotDirectoryException"):
                raise invalid_parameter(
                    INVALID_PATH + ": a parent of the artifact is a file"
                ) from None
            raise
        for _ in range(3):
            moved = await self._call("PUT", staging, "RENAME", destination=final)
            if moved.get("boolean"):
                return
            existing = await self._status(final)
            if existing is None:
                continue  # raced with a delete; try again
            if existing.get("type") == "DIRECTORY":
                raise invalid_parameter(f"Cannot overwrite the directory '{path}' with a file")
            await self._call("DELETE", final, "DELETE", recursive="false")
        raise MlflowError(f"Could not move the upload of '{path}' into place")

    async def _forget(self, staging: str) -> None:
        # The upload's own error is the one to report, not the clean-up's.
        with contextlib.suppress(MlflowError, httpx.HTTPError):
            await self._call("DELETE", staging, "DELETE", recursive="false")

    async def delete(self, path: str) -> None:
        try:
            await self._call("DELETE", self.hdfs_path(path), "DELETE", recursive="true")
        except WebHdfsError as exc:
            if exc.exception != "FileNotFoundException":
                raise

    async def close(self) -> None:
        await self.client.aclose()


class _Counter:
    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self.chunks = chunks
        self.total = 0

    async def stream(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks:
            self.total += len(chunk)
            yield chunk


def _remote_error(response: httpx.Response, hdfs_path: str) -> WebHdfsError:
    """WebHDFS answers errors as ``{"RemoteException": {"exception", "message"}}``."""
    try:
        remote = response.json().get("RemoteException", {})
    except ValueError:
        remote = {}
    exception = str(remote.get("exception") or f"HTTP {response.status_code}")
    message = str(remote.get("message") or response.text[:200] or response.reason_phrase)
    if response.status_code == 404 and not remote:
        exception = "FileNotFoundException"
    code = (
        PERMISSION_DENIED
        if exception in ("AccessControlException", "SecurityException", "AuthorizationException")
        or response.status_code in (401, 403)
        else "INTERNAL_ERROR"
    )
    return WebHdfsError(f"WebHDFS {exception} on {hdfs_path}: {message}", code, exception)


class SpnegoAuth(httpx.Auth):
    """Kerberos SPNEGO to the namenode only (datanode URLs carry a delegation token)."""

    def __init__(self, namenode_host: str) -> None:
        self.host = namenode_host
        self.spnego = _import_spnego()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.url.host == self.host:
            context = self.spnego.client(hostname=self.host, service="HTTP", protocol="kerberos")
            token = base64.b64encode(context.step()).decode("ascii")
            request.headers["Authorization"] = f"Negotiate {token}"
        yield request


def _import_spnego() -> Any:
    try:
        import spnego
    except ImportError as exc:
        raise ConfigError(
            "TRACKD_WEBHDFS_KERBEROS=true needs pyspnego (or httpx-gssapi): "
            "pip install 'trackd[webhdfs-kerberos]'"
        ) from exc
    return spnego


def _kerberos_auth(host: str) -> httpx.Auth:
    try:
        from httpx_gssapi import OPTIONAL, HTTPSPNEGOAuth
    except ImportError:
        return SpnegoAuth(host)
    return HTTPSPNEGOAuth(mutual_authentication=OPTIONAL)  # type: ignore[no-any-return]


def open_store(uri: str, settings: Settings) -> WebHdfsArtifactStore:
    host = urllib.parse.urlparse(uri).hostname or ""
    kerberos = (setting(settings, "TRACKD_WEBHDFS_KERBEROS") or "").lower() in ("1", "true", "yes")
    timeout = float(setting(settings, "TRACKD_WEBHDFS_TIMEOUT") or 60)
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        verify=setting(settings, "TRACKD_WEBHDFS_CA_BUNDLE") or True,
        auth=_kerberos_auth(host) if kerberos else None,
        follow_redirects=False,
    )
    user = (
        None
        if kerberos
        else (setting(settings, "TRACKD_WEBHDFS_USER") or setting(settings, "HADOOP_USER_NAME"))
    )
    return WebHdfsArtifactStore(
        uri,
        client,
        user=user,
        delegation=setting(settings, "TRACKD_WEBHDFS_DELEGATION_TOKEN"),
    )


def check(uri: str, settings: Settings) -> None:
    """Start-up check: a namenode in the URI, and SPNEGO support when Kerberos is asked for."""
    if not urllib.parse.urlparse(uri).hostname:
        raise ConfigError(f"No namenode host in the WebHDFS artifact URI {uri!r}")
    if (setting(settings, "TRACKD_WEBHDFS_KERBEROS") or "").lower() in ("1", "true", "yes"):
        try:
            import httpx_gssapi  # noqa: F401
        except ImportError:
            _import_spnego()
