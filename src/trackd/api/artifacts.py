"""Artifact endpoints: MLflow's proxy API (``mlflow-artifacts``) and the tracking API's run and
logged-model artifact listings and downloads.

Bodies are streamed both ways: an upload is read from the ASGI receive channel chunk by chunk
into the store, a download is sent from the store chunk by chunk, so a transfer's size never
decides the server's memory.
"""

from __future__ import annotations

import posixpath
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from trackd.api._http import Fields
from trackd.api.router import Call
from trackd.artifacts.base import ArtifactStore, FileEntry
from trackd.artifacts.mime import attachment, guess_type
from trackd.artifacts.paths import check_file_path, check_relative_path, join
from trackd.artifacts.ranges import RangeNotSatisfiable, parse_range
from trackd.errors import missing_parameter
from trackd.service import validation as v
from trackd.service.artifacts import ArtifactFile

_SERVING_DISABLED = (
    "Endpoint: {} disabled due to the mlflow server running with `--no-serve-artifacts`. "
    "To enable artifacts server functionality, run `mlflow server` with `--serve-artifacts`"
)


def _disabled(call: Call) -> Response | None:
    """MLflow's answer to proxy calls on a server that does not proxy artifacts."""
    if call.services.artifacts.serving:
        return None
    return PlainTextResponse(_SERVING_DISABLED.format(call.request.url.path), 503)


def files_json(entries: list[FileEntry], *, basenames: bool = False) -> dict[str, Any]:
    files = []
    for e in entries:
        item: dict[str, Any] = {"path": e.name if basenames else e.path, "is_dir": e.is_dir}
        if not e.is_dir and e.file_size is not None:
            item["file_size"] = e.file_size
        files.append(item)
    return {"files": files} if files else {}


# -- the proxy API: /mlflow-artifacts/... -----------------------------------------------------


async def proxied_list(call: Call) -> Any:
    if (refused := _disabled(call)) is not None:
        return refused
    f = await call.fields()
    entries = await call.services.artifacts.list_proxied(f.string("path"))
    return files_json(entries, basenames=True)


async def proxied_download(call: Call) -> Response:
    if (refused := _disabled(call)) is not None:
        return refused
    found = await call.services.artifacts.proxied_file(call.params["artifact_path"])
    return send_file(call.request, found)


async def proxied_upload(call: Call) -> Any:
    if (refused := _disabled(call)) is not None:
        return refused
    try:
        await call.services.artifacts.upload(call.params["artifact_path"], _body(call.request))
    except ClientDisconnect:
        # Nothing was kept; the client is gone and will not read an answer.
        return Response(status_code=400)
    return {}


async def proxied_delete(call: Call) -> Any:
    if (refused := _disabled(call)) is not None:
        return refused
    await call.services.artifacts.delete(call.params["artifact_path"])
    return {}


def _upload_target(call: Call, name: object) -> tuple[ArtifactStore, str]:
    """(store, file path) of a multipart upload: the route's directory plus the file name the
    body gives (older clients send a local path; only its last part counts, as in MLflow)."""
    directory = check_relative_path(call.params["artifact_path"])
    if not isinstance(name, str) or not name:
        raise missing_parameter("path")
    base = posixpath.basename(name.replace("\\", "/"))
    return call.services.artifacts.destination, check_file_path(join(directory, base))


async def mpu_create(call: Call) -> Any:
    if (refused := _disabled(call)) is not None:
        return refused
    f = await call.fields()
    store, path = _upload_target(call, f.raw("path"))
    upload = await store.create_multipart_upload(path, f.integer("num_parts", default=1))
    return {
        "upload_id": upload.upload_id,
        "credentials": [
            {"url": c.url, "part_number": c.part_number, "headers": c.headers}
            for c in upload.credentials
        ],
    }


async def mpu_complete(call: Call) -> Any:
    if (refused := _disabled(call)) is not None:
        return refused
    f = await call.fields()
    store, path = _upload_target(call, f.raw("path"))
    parts = [(part.integer("part_number", default=0), part.string("etag", default=""))
             for part in (Fields(p, from_query=False) for p in f.objects("parts"))]
    await store.complete_multipart_upload(path, f.string("upload_id") or "", parts)
    return {}


async def mpu_abort(call: Call) -> Any:
    if (refused := _disabled(call)) is not None:
        return refused
    f = await call.fields()
    store, path = _upload_target(call, f.raw("path"))
    await store.abort_multipart_upload(path, f.string("upload_id") or "")
    return {}


async def presigned_download(call: Call) -> Any:
    if (refused := _disabled(call)) is not None:
        return refused
    path = check_file_path(call.params["artifact_path"])
    signed = await call.services.artifacts.destination.presigned_download_url(path)
    out: dict[str, Any] = {"url": signed.url, "headers": signed.headers}
    if signed.file_size is not None:
        out["file_size"] = signed.file_size
    return out


# -- the tracking API: run and logged-model roots -----------------------------------------------


async def list_run_artifacts(call: Call) -> dict[str, Any]:
    f = await call.fields()
    run_id = v.check_run_id(f.first_string("run_id", "run_uuid"))
    service = call.services.artifacts
    listing = await service.list_under(await service.run_root(run_id), f.string("path"))
    return {"root_uri": listing.root_uri, **files_json(listing.files)}


async def get_artifact(call: Call) -> Response:
    """``GET /get-artifact?run_id=&path=``: a run's file, as the web UI downloads it."""
    f = await call.fields()
    run_id = v.check_run_id(f.first_string("run_id", "run_uuid"))
    path = f.string("path", required=True)
    service = call.services.artifacts
    found = await service.file_under(await service.run_root(run_id), path)
    return send_file(call.request, found)


async def list_model_artifacts(call: Call) -> dict[str, Any]:
    f = await call.fields()
    service = call.services.artifacts
    root = await service.model_root(call.params["model_id"])
    listing = await service.list_under(root, f.string("artifact_directory_path"))
    return {"root_uri": listing.root_uri, **files_json(listing.files)}


async def get_model_artifact(call: Call) -> Response:
    f = await call.fields()
    service = call.services.artifacts
    root = await service.model_root(call.params["model_id"])
    found = await service.file_under(root, f.string("artifact_file_path", required=True))
    return send_file(call.request, found)


# -- streaming ------------------------------------------------------------------------------


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


def send_file(request: Request, found: ArtifactFile) -> Response:
    """A download: attachment, never sniffed, with single-range support (206/416)."""
    size = found.stat.size or 0
    headers = {
        "Content-Disposition": attachment(posixpath.basename(found.name)),
        "X-Content-Type-Options": "nosniff",
        "Accept-Ranges": "bytes",
        "Cache-Control": "no-cache",
    }
    validators: tuple[str, ...] = ()
    if found.stat.mtime is not None:
        headers["Last-Modified"] = formatdate(found.stat.mtime, usegmt=True)
        headers["ETag"] = f'"{int(found.stat.mtime * 1000):x}-{size:x}"'
        validators = (headers["Last-Modified"], headers["ETag"])
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range not in validators:
        wanted = None  # the file changed since the client's partial copy: send it whole
    try:
        byte_range = parse_range(wanted, size)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    start, length, status = 0, size, 200
    if byte_range is not None:
        start, length, status = byte_range.start, byte_range.length, 206
        headers["Content-Range"] = byte_range.content_range(size)
    headers["Content-Length"] = str(length)
    media_type = guess_type(found.name)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    return _Download(_chunks(found, start, length), status, headers, media_type=media_type)


async def _chunks(found: ArtifactFile, start: int, length: int) -> AsyncIterator[bytes]:
    stream = found.store.read(found.path, start, length)
    try:
        async for chunk in stream:
            yield chunk
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


class _Download(StreamingResponse):
    """A streamed download that ends quietly when the client hangs up half-way."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except (ClientDisconnect, OSError):
            pass
        finally:
            await self.body_iterator.aclose()  # type: ignore[attr-defined]
