"""MLflow's web-UI upload into a run (``/ajax-api/2.0/mlflow/upload-artifact``) and the presigned
URL routes (``/mlflow/artifacts/presigned-{download,upload}-url``): parse, call
service/artifact_transfers.py, serialize."""

from __future__ import annotations

from typing import Any

from starlette.requests import ClientDisconnect
from starlette.responses import Response

from trackd.api._http import Fields, fields_from_pairs
from trackd.api.router import Call
from trackd.artifacts.base import PresignedUrl
from trackd.artifacts.paths import check_file_path
from trackd.errors import invalid_parameter
from trackd.service.artifact_transfers import TOO_LARGE, UI_UPLOAD_MAX


def _signed(signed: PresignedUrl) -> dict[str, Any]:
    out: dict[str, Any] = {"presigned_url": signed.url}
    if signed.headers:
        out["headers"] = signed.headers
    if signed.file_size is not None:
        out["file_size"] = signed.file_size
    return out


async def presigned_download_url(call: Call) -> dict[str, Any]:
    f = await call.fields()
    signed = await call.services.artifact_transfers.presigned_download(
        f.string("run_id", required=True), f.string("path", required=True),
        f.integer("expiration"))
    return _signed(signed)


async def presigned_upload_url(call: Call) -> dict[str, Any]:
    f = await call.fields()
    path = f.string("path", required=True)
    signed = await call.services.artifact_transfers.presigned_upload(
        f.string("run_id"), f.string("model_id"), path, f.integer("expiration"))
    return _signed(signed)


async def _capped_body(call: Call) -> bytes:
    """The request body, refused as soon as it passes MLflow's 10 MB cap (never buffered
    past it, whatever Content-Length claims)."""
    declared = call.request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > UI_UPLOAD_MAX:
        raise invalid_parameter(TOO_LARGE)
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in call.request.stream():
            size += len(chunk)
            if size > UI_UPLOAD_MAX:
                raise invalid_parameter(TOO_LARGE)
            parts.append(chunk)
    except ClientDisconnect:
        return b""
    return b"".join(parts)


async def upload_artifact(call: Call) -> Response:
    """The run id and path are in the query string even though this is a POST; the body is
    the file's bytes. MLflow answers an empty JSON-typed 200."""
    f = Fields(fields_from_pairs(call.request.query_params.multi_items()), from_query=True)
    run_id = f.string("run_id") or f.string("run_uuid")
    if not run_id:
        raise invalid_parameter("Request must specify run_id or run_uuid.")
    path = f.string("path")
    if not path:
        raise invalid_parameter("Request must specify path.")
    check_file_path(path)  # a bad path is refused before the body is read
    body = await _capped_body(call)
    await call.services.artifact_transfers.upload_to_run(run_id, path, body)
    return Response(b"", media_type="application/json")
