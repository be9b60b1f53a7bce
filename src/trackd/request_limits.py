"""The size limit on API request bodies (``--max-request-body-mb``).

Enforced in a layer outside authentication and the handlers, because both read a JSON body
whole before parsing it: a multi-gigabyte POST must be refused before anything buffers it.
A declared ``Content-Length`` over the limit is answered at once, without reading the body
(uvicorn discards the unread rest and keeps the connection usable); a chunked body without a
length is counted as it arrives and refused when it crosses the limit. Artifact uploads
(``PUT .../mlflow-artifacts/artifacts/...``) stream to the store and are never limited.

The answer is MLflow's ``INVALID_PARAMETER_VALUE`` (400), the code MLflow gives every request
that is over one of its size limits (a log-batch body over 1 MB, a value too long). HTTP's own
413 has no MLflow error code, and MLflow's client retries some 413s; a 400 it reports at once.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trackd.api._http import json_response
from trackd.errors import INVALID_PARAMETER_VALUE, MlflowError

_UPLOAD_PATH = "/mlflow-artifacts/artifacts/"
MIB = 1024 * 1024


class BodyTooLarge(MlflowError):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(
            f"The request body is larger than this server's limit of {limit_bytes // MIB} MiB "
            "(--max-request-body-mb, TRACKD_MAX_REQUEST_BODY_MB). Artifacts are not limited: "
            "upload files through the artifact API.",
            INVALID_PARAMETER_VALUE,
        )


def is_streamed_upload(scope: Scope) -> bool:
    return scope["method"] == "PUT" and _UPLOAD_PATH in scope["path"]


def declared_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class RequestBodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_streamed_upload(scope):
            await self.app(scope, receive, send)
            return
        length = declared_length(scope)
        if length is not None:
            # The server hands the app exactly Content-Length bytes, so the header is the size.
            if length > self.max_bytes:
                await _refuse(send, BodyTooLarge(self.max_bytes))
            else:
                await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An MlflowError: the router answers it when a handler was reading.
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge as exc:  # raised through a layer that reads bodies (auth)
            if started:
                raise
            await _refuse(send, exc)


async def _refuse(send: Send, error: MlflowError) -> None:
    response = json_response(error.to_dict(), error.http_status)
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
