"""Path safety for everything that names an artifact: relative paths and artifact URIs.

Every artifact path a client sends is joined onto a trusted root (the artifacts destination,
a run's or a model's root), so a path that climbs out of that root (``..``), replaces it (an
absolute path, a drive letter, ``file://`` elsewhere) or hides either behind percent-encoding
must be refused before it reaches a store. MLflow answers all of these with 400
``INVALID_PARAMETER_VALUE`` "Invalid path"; trackd does the same, and is stricter where MLflow
leans on the platform (backslashes and NUL bytes are refused on every OS).

This module is the one place for those rules: the artifact API, logged models and the model
registry (model-version sources) all call it.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

from trackd.errors import MlflowError, invalid_parameter

INVALID_PATH = "Invalid path"

# MLflow's local store writes uploads to hidden files with this prefix and hides them from
# listings; trackd uses the same prefix so that either server hides the other's partial files.
UPLOAD_TEMP_PREFIX = ".artifact.uploading."

# Schemes whose URIs point into this server's artifact proxy rather than at a store.
PROXIED_SCHEMES = ("mlflow-artifacts", "http", "https")
_PROXY_ANCHOR = "/mlflow-artifacts/artifacts"

_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_DECODE_ROUNDS = 10


def _invalid() -> MlflowError:
    return invalid_parameter(INVALID_PATH)


def fully_unquote(text: str) -> str:
    """Percent-decode until the text stops changing, so ``%252e%252e`` is seen as ``..``."""
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = urllib.parse.unquote(text)
        if decoded == text:
            return text
        text = decoded
    raise _invalid()


def check_relative_path(path: str | None) -> str:
    """A client-supplied artifact path, made safe to join onto a root.

    Returns the normalized POSIX path (``"a/b"``; ``""`` for the root itself) or raises 400
    "Invalid path". Empty and ``.`` segments are dropped; everything that could leave the root
    is refused rather than repaired, because a client that sends it is either broken or hostile.
    """
    if path is None:
        return ""
    if not isinstance(path, str):
        raise _invalid()
    decoded = fully_unquote(path)
    if any(ord(c) < 32 or ord(c) == 127 for c in decoded) or "#" in decoded:
        raise _invalid()
    if decoded.lower().startswith("file:"):
        # MLflow turns file: URIs into paths before checking; any such path is absolute.
        raise _invalid()
    if "\\" in decoded or decoded.startswith("/") or _DRIVE.match(decoded):
        raise _invalid()
    parts = [p for p in decoded.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _invalid()
    return "/".join(parts)


def check_file_path(path: str | None) -> str:
    """Like :func:`check_relative_path`, for a path that must name a file (upload, download)."""
    if path is None or path.endswith("/"):
        raise _invalid()
    checked = check_relative_path(path)
    if not checked:
        raise _invalid()
    return checked


def join(base: str, relative: str) -> str:
    """Join two already-checked relative paths."""
    if not base:
        return relative
    if not relative:
        return base
    return f"{base.rstrip('/')}/{relative}"


# -- URIs -----------------------------------------------------------------------------------


def scheme_of(uri: str) -> str:
    """The URI's scheme in lower case, ``""`` for a plain path (``C:\\x`` is a path, too)."""
    if _DRIVE.match(uri):
        return ""
    return urllib.parse.urlparse(uri).scheme.lower()


def is_local_uri(uri: str) -> bool:
    return scheme_of(uri) in ("", "file")


def absolute_if_relative(uri: str) -> str:
    """A relative local path (``mlruns/x``, ``file:mlruns/x``) made absolute against the server's
    working directory, as ``mlflow server`` stores it: a relative location would otherwise mean
    another folder to every process started elsewhere (a second worker, a later server)."""
    scheme = scheme_of(uri)
    if scheme == "":
        return uri if uri.startswith("/") else (Path.cwd() / uri).as_posix()
    if scheme == "file":
        rest = uri[len("file:"):]
        if not rest.startswith("/"):
            return "file://" + (Path.cwd() / rest).as_posix()
    return uri


def check_location(uri: str, what: str = "artifact location") -> str:
    """The one rule for a location that roots artifacts (an experiment's artifact location, the
    default artifact root, a run's or model's root, a registry source): returned unchanged, or
    400 naming what is wrong.

    Roots are extended by appending path segments (``<location>/<run id>/artifacts``), so a
    location must be all path: a local path or ``file:`` URI with a ``?`` or ``#`` would have
    the appended segments parsed as its query or fragment, and the run's root would be the
    location itself (``file:///etc?`` made ``/etc`` a run's artifact root). No URI may carry a
    query or fragment, nor a NUL in any encoding.
    """
    try:
        decoded = fully_unquote(uri)
    except MlflowError:
        raise invalid_parameter(f"Invalid {what} '{uri}': too many levels of "
                                "percent-encoding") from None
    if "\x00" in decoded:
        raise invalid_parameter(f"Invalid {what} {uri!r}: it contains a NUL character")
    if is_local_uri(uri):
        if "?" in uri or "#" in uri:
            raise invalid_parameter(
                f"Invalid {what} '{uri}': a local path or file: URI cannot contain '?' or '#' "
                "(the rest would be read as a query or fragment, not as part of the path)"
            )
        local_path_of(uri)  # refuses a file: URI naming another host
        return uri
    parsed = urllib.parse.urlsplit(uri)
    if parsed.query or parsed.fragment or uri.endswith(("?", "#")):
        raise invalid_parameter(
            f"Invalid {what} '{uri}': an artifact location cannot have a query or fragment"
        )
    return uri


def local_path_of(uri: str) -> str:
    """The filesystem path of a plain path or a ``file:`` URI, made absolute."""
    if scheme_of(uri) == "file":
        if "?" in uri or "#" in uri:  # never a path: see check_location
            raise invalid_parameter(
                f"Invalid file: URI '{uri}': it has a query or fragment, not only a path"
            )
        parsed = urllib.parse.urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise invalid_parameter(f"file: URI with a remote host is not a local path: {uri}")
        uri = urllib.parse.unquote(parsed.path)
    return os.path.abspath(os.path.expanduser(uri))


def proxied_path(uri: str) -> str | None:
    """The destination-relative path behind a proxied URI, or None if ``uri`` is not proxied.

    ``mlflow-artifacts:/5/abc/artifacts`` and
    ``https://host/api/2.0/mlflow-artifacts/artifacts/5/abc/artifacts`` both give
    ``5/abc/artifacts``. The result is checked like any client path.
    """
    parsed = urllib.parse.urlparse(uri)
    scheme = parsed.scheme.lower()
    if scheme == "mlflow-artifacts":
        return check_relative_path(parsed.path.lstrip("/"))
    if scheme in ("http", "https"):
        _, anchor, rest = parsed.path.partition(_PROXY_ANCHOR)
        if not anchor:
            return None
        return check_relative_path(rest.lstrip("/"))
    return None


def _split(uri: str) -> tuple[str, str, str]:
    """(scheme, netloc, decoded path) with the path's traversal refused."""
    scheme = scheme_of(uri)
    if scheme in ("", "file"):
        return "", "", os.path.realpath(local_path_of(fully_unquote(uri)))
    parsed = urllib.parse.urlparse(uri)
    path = fully_unquote(parsed.path)
    if "\x00" in path or "\\" in path or ".." in path.split("/"):
        raise _invalid()
    return scheme, parsed.netloc.lower(), "/" + "/".join(p for p in path.split("/") if p)


def uri_within_root(uri: str, root: str) -> bool:
    """Whether ``uri`` names ``root`` or something below it.

    Local paths are compared after resolving symlinks and ``..``; other URIs must have the same
    scheme and host and a path below the root's, with no traversal anywhere (decoded or not).
    """
    try:
        scheme, netloc, path = _split(uri)
        root_scheme, root_netloc, root_path = _split(root)
    except MlflowError:
        return False
    if (scheme, netloc) != (root_scheme, root_netloc):
        return False
    if scheme == "":
        return path == root_path or path.startswith(root_path.rstrip(os.sep) + os.sep)
    root_path = root_path.rstrip("/")
    return path == root_path or path.startswith(root_path + "/") or root_path == ""


def check_uri_under_roots(uri: str, roots: Iterable[str], message: str = INVALID_PATH) -> str:
    """Return ``uri`` if it lies under one of ``roots``; else 400 with ``message``."""
    if not any(uri_within_root(uri, root) for root in roots):
        raise invalid_parameter(message)
    return uri


def has_traversal(uri: str) -> bool:
    """Whether a URI's path climbs with ``..`` (in any encoding) or carries a NUL byte."""
    try:
        decoded = fully_unquote(uri)
    except MlflowError:
        return True
    path = urllib.parse.urlparse(decoded).path if scheme_of(decoded) else decoded
    return "\x00" in decoded or ".." in path.replace("\\", "/").split("/")


def relative_to_root(uri: str, root: str) -> str | None:
    """The POSIX path of ``uri`` below ``root`` (``""`` for the root), None if not below it."""
    if not uri_within_root(uri, root):
        return None
    _, _, path = _split(uri)
    _, _, root_path = _split(root)
    if is_local_uri(root):
        rest = os.path.relpath(path, root_path).replace(os.sep, "/")
        return "" if rest == "." else rest
    return path[len(root_path.rstrip("/")) :].strip("/")
