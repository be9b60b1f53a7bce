"""The UI's own JS/CSS and the vendored npm files, served from memory with strong caching.

Pages link every asset as ``/static/<name>?v=<content hash>``: such a URL never changes its
content, so browsers keep it for a year and a page view costs only its HTML. The files are
few and small, so they are read once and kept.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

STATIC_DIR = Path(__file__).resolve().parent / "static"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    digest: str
    media_type: str


class StaticFiles:
    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.directory = directory.resolve()
        self._cache: dict[str, Asset | None] = {}

    def _load(self, name: str) -> Asset | None:
        if name in self._cache:
            return self._cache[name]
        if "\x00" in name:
            return None  # no file has one; the OS would refuse it with an error (a 500)
        asset: Asset | None = None
        path = (self.directory / name).resolve()
        # Only files under the static folder: '..' or absolute names never escape it.
        if path.is_relative_to(self.directory) and path.is_file():
            body = path.read_bytes()
            suffix = path.suffix.lower()
            media = _TYPES.get(suffix) or mimetypes.guess_type(path.name)[0]
            asset = Asset(body, hashlib.sha256(body).hexdigest()[:16],
                          media or "application/octet-stream")
            # Only found assets are remembered: names are chosen by clients, and remembering
            # every miss would let them grow this cache without bound.
            self._cache[name] = asset
        return asset

    def versioned(self, name: str) -> str:
        asset = self._load(name)
        return f"/static/{name}?v={asset.digest}" if asset else f"/static/{name}"

    def response(self, request: Request, name: str) -> Response:
        asset = self._load(name)
        if asset is None:
            if name.startswith("vendor/"):
                return PlainTextResponse(
                    f"{name} is missing: trackd was installed without its web build step "
                    "(reinstall with `pip install .`, which runs npm ci).",
                    status_code=404,
                )
            return PlainTextResponse("Not Found", status_code=404)
        etag = f'"{asset.digest}"'
        if request.query_params.get("v") == asset.digest:
            cache = "public, max-age=31536000, immutable"
        else:
            cache = "no-cache"
        headers = {"ETag": etag, "Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)
