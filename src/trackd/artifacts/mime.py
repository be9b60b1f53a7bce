"""Content-Type and Content-Disposition for artifact downloads, as MLflow's server sends them.

Browsers and the MLflow UI preview text artifacts by their type, so the guess follows MLflow's:
a fixed list of text-like extensions (and the extension-less ``MLmodel`` / ``MLproject``) is
``text/plain``, the rest comes from :mod:`mimetypes`, and unknown files are binary. Downloads
are always attachments (never rendered on the server's origin) with ``nosniff``.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
import urllib.parse

_TEXT_EXTENSIONS = frozenset((
    "txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon",
    "toml", "yaml", "yml", "xml", "json", "js", "py", "py3", "csv", "tsv", "md", "rst", "ipynb",
    "MLmodel", "MLproject",
))
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# mimetypes reads the system's type files on first use; do it at import, not in a request.
mimetypes.init()


def guess_type(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    extension = ext if dot and stem else name
    if extension in _TEXT_EXTENSIONS:
        return "text/plain"
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def _quoted(value: str) -> str:
    if _TOKEN.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def attachment(filename: str) -> str:
    """``attachment; filename=...``; non-ASCII names also get an RFC 5987 ``filename*``."""
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        fallback = (
            unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
            or "download"
        )
        encoded = urllib.parse.quote(filename, safe="!#$&+-.^_`|~")
        return f"attachment; filename={_quoted(fallback)}; filename*=UTF-8''{encoded}"
    return f"attachment; filename={_quoted(filename)}"
