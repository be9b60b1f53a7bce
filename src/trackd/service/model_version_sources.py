"""Where a model version comes from: MLflow 3.18's checks on ``source``, and what it resolves to.

A version's ``source`` is where clients will download the model from, so it is checked the way
MLflow's server checks it before anything is stored: no traversal in any encoding, local paths
only inside the artifact directory of the named run or logged model, proxied
(``mlflow-artifacts:``) URIs only below that run's or model's root, ``runs:/`` and
``models:/<model_id>`` only for the run or model named in the request, and no URI that would
send the server (or a client reading through it) to a host other than its own artifact storage.

What a source resolves to (:class:`Lineage`) is what MLflow stores: ``models:/<model_id>``
downloads from the logged model's artifact location, ``models:/<name>/<ref>`` from that
version's download location (and is stored as ``models:/<name>/<version>``), anything else from
the source itself.
"""

from __future__ import annotations

import posixpath
import re
import urllib.parse
from dataclasses import dataclass

from sqlalchemy import Connection

from trackd.artifacts import paths
from trackd.entities.registry import IS_PROMPT_TAG, ModelVersion, canonical_stage
from trackd.errors import MlflowError, invalid_parameter, not_found
from trackd.service.registered_models import parse_version, require_version
from trackd.store import model_versions as store
from trackd.store import registered_models as rm_store
from trackd.store import runs as run_store

PROMPT_SOURCES = frozenset({"dummy-source", "prompt-template"})
# Schemes that make a reader connect to the host named in the URI (MLflow's host policy).
HOST_SCHEMES = frozenset(
    {"ftp", "sftp", "hdfs", "viewfs", "http", "https", "mlflow-artifacts", "r2", "b2", "abfss"}
)
_SCHEME_FAMILY = {"https": "http", "mlflow-artifacts": "http", "viewfs": "hdfs"}
_RUN_ID = re.compile(r"[a-zA-Z0-9][\w\-]{0,255}")


@dataclass
class Lineage:
    """What a checked source resolves to."""

    source: str
    run_id: str | None
    model_id: str | None
    storage_location: str
    logged_model_experiment: int | None = None  # set when the version comes from a logged model


def check_host(source: str, trusted: set[tuple[str, str]]) -> None:
    """Refuse a URI naming a host other than those of the server's own artifact storage."""
    host = host_of(source)
    if host is not None and host not in trusted:
        raise invalid_parameter(
            f"Invalid value for 'source': the '{paths.scheme_of(source)}' scheme addresses a host "
            "other than the tracking server's configured artifact storage, so the server would "
            "connect to the host named in the URI."
        )


def prompt_source(source: str, run_id: str | None, model_id: str | None) -> Lineage:
    """Prompt versions carry no files: MLflow only accepts its own placeholders."""
    if source not in PROMPT_SOURCES:
        raise invalid_parameter(
            f"Invalid prompt source: '{source}'. Prompt sources must use an MLflow placeholder."
        )
    return Lineage(source, run_id or "", model_id, source)


def host_of(uri: str) -> tuple[str, str] | None:
    """``(scheme family, host:port)`` when ``uri`` makes a reader connect to a named host."""
    scheme = paths.scheme_of(uri)
    if scheme not in HOST_SCHEMES:
        return None
    parsed = urllib.parse.urlparse(uri)
    if not parsed.netloc:
        return None  # mlflow-artifacts:/x is this server's own proxy
    return _SCHEME_FAMILY.get(scheme, scheme), parsed.netloc.rsplit("@", 1)[-1].lower()


def _invalid_source(source: str, what: str) -> Exception:
    return invalid_parameter(
        f"Invalid model version source: '{source}'. The {what} request parameter must identify "
        "the resource that contains the source."
    )


def _check_no_relative_parts(source: str) -> None:
    """MLflow's guard: after decoding, the URI path must already be absolute and normal."""
    decoded = source
    for _ in range(10):
        step = urllib.parse.unquote_plus(decoded)
        if step == decoded:
            break
        decoded = step
    path = re.sub(r"/+", "/", urllib.parse.urlparse(decoded).path.rstrip("/"))
    if (
        "\x00" in decoded
        or ".." in decoded.split("/")
        or paths.has_traversal(source)
        or not path.startswith("/")
        or posixpath.normpath(path) != path
    ):
        raise invalid_parameter(
            f"Invalid model version source: '{source}'. If supplying a source as an http, "
            "https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path "
            "must be provided without relative path references present. Please provide an "
            "absolute path."
        )


def _is_proxied(source: str) -> bool:
    try:
        return paths.proxied_path(source) is not None
    except MlflowError:  # a traversal inside a proxied URI: still proxied, and refused
        return True


def _parse_models_uri(source: str) -> tuple[str | None, str | None, str | None]:
    """``models:/`` URI -> (model_id, name, suffix-or-@alias); malformed -> 400."""
    parsed = urllib.parse.urlparse(source, allow_fragments=False)
    if parsed.netloc:
        raise invalid_parameter(
            f"Invalid model version source: '{source}'. Registered model sources must use the "
            "active model registry."
        )
    parts = parsed.path.lstrip("/").split("/") if parsed.path.startswith("/") else []
    if not parts or len(parts) > 2 or not parts[0].strip():
        raise _invalid_source(source, "model_id")
    if len(parts) == 2:
        if not parts[1].strip():
            raise _invalid_source(source, "model_id")
        return None, parts[0], parts[1]
    if "@" in parts[0]:
        name, _, alias = parts[0].rpartition("@")
        if not alias.strip():
            raise _invalid_source(source, "model_id")
        return None, name, "@" + alias
    return parts[0], None, None


def _registry_source(conn: Connection, source: str, name: str, ref: str) -> ModelVersion:
    """The version a ``models:/<name>/<version|stage|latest>`` or ``@alias`` URI points at."""
    rm = rm_store.load_models(conn, [name])
    if not rm:
        raise not_found(f"Registered Model with name={name} not found")
    if (dict(rm[0].tags).get(IS_PROMPT_TAG) or "").lower() == "true":
        raise invalid_parameter(
            f"Invalid model version source: '{source}'. Prompt versions cannot be used as "
            "model version sources."
        )
    if ref.startswith("@"):
        number = rm_store.alias_version(conn, name, ref[1:])
        if number is None:
            raise invalid_parameter(f"Registered model alias {ref[1:]} not found.")
        return require_version(conn, name, number)
    if ref.isascii() and ref.isdigit():  # not '²', which isdigit() admits and int() refuses
        return require_version(conn, name, parse_version(ref))
    stages = None if ref.lower() == "latest" else {canonical_stage(ref)}
    candidates = [
        mv for mv in rm[0].latest_versions if stages is None or mv.current_stage in stages
    ]
    if not candidates:
        raise not_found(f"No versions of model with name '{name}' and stage '{ref}' found")
    return max(candidates, key=lambda mv: mv.version)


def resolve_source(
    conn: Connection, source: str, run_id: str | None, model_id: str | None
) -> Lineage:
    """Check ``source`` against the run or logged model it claims to come from."""
    paths.check_location(source, "model version source")
    scheme = paths.scheme_of(source)
    if scheme == "models":
        ref_model_id, name, ref = _parse_models_uri(source)
        if name is not None and ref is not None:
            origin = _registry_source(conn, source, name, ref)
            if run_id is not None and run_id != (origin.run_id or ""):
                raise invalid_parameter(
                    f"Invalid model version source: '{source}'. The run_id and model_id request "
                    "parameters must match the referenced model version."
                )
            if model_id:  # MLflow's SQL store keeps no model_id on versions
                raise invalid_parameter(
                    f"Invalid model version source: '{source}'. The run_id and model_id request "
                    "parameters must match the referenced model version."
                )
            return Lineage(
                f"models:/{name}/{origin.version}",
                run_id if run_id is not None else origin.run_id,
                None,
                origin.download_uri,
            )
        if not model_id or ref_model_id != model_id:
            raise _invalid_source(source, "model_id")
        _check_no_relative_parts(source)
        return _from_logged_model(conn, source, run_id, model_id)
    if model_id:
        return _from_logged_model(conn, source, run_id, model_id)
    return _from_run(conn, source, run_id)


def _from_logged_model(
    conn: Connection, source: str, run_id: str | None, model_id: str
) -> Lineage:
    row = store.logged_model(conn, model_id)
    if row is None or row.lifecycle_stage == "deleted":
        raise _invalid_source(source, "model_id")
    root = row.artifact_location
    if paths.is_local_uri(source):
        if not (paths.is_local_uri(root) and paths.uri_within_root(source, root)):
            raise invalid_parameter(
                f"Invalid model version source: '{source}'. To use a local path as a model "
                "version source, the model_id request parameter has to be specified and the "
                "local path has to be contained within the artifact directory of the run "
                "specified by the model_id."
            )
    else:
        _check_no_relative_parts(source)
        scheme = paths.scheme_of(source)
        if scheme == "runs" or (_is_proxied(source) and not paths.uri_within_root(source, root)):
            raise _invalid_source(source, "model_id")
    storage = root if paths.scheme_of(source) == "models" else source
    return Lineage(source, run_id or row.source_run_id, model_id, storage, row.experiment_id)


def _from_run(conn: Connection, source: str, run_id: str | None) -> Lineage:
    def run_root() -> str | None:
        if not run_id or not _RUN_ID.fullmatch(run_id):
            return None
        info = run_store.get_info(conn, run_id)
        return info.artifact_uri if info is not None else None

    if paths.is_local_uri(source):
        root = run_root()
        if not (root and paths.is_local_uri(root) and paths.uri_within_root(source, root)):
            raise invalid_parameter(
                f"Invalid model version source: '{source}'. To use a local path as a model "
                "version source, the run_id request parameter has to be specified and the local "
                "path has to be contained within the artifact directory of the run specified by "
                "the run_id."
            )
        return Lineage(source, run_id, None, source)
    _check_no_relative_parts(source)
    if paths.scheme_of(source) == "runs":
        parsed = urllib.parse.urlparse(source)
        source_run = parsed.path.lstrip("/").split("/", 1)[0]
        if parsed.netloc or not run_id or source_run != run_id:
            raise _invalid_source(source, "run_id")
    elif _is_proxied(source):
        root = run_root()
        if not (root and paths.uri_within_root(source, root)):
            raise _invalid_source(source, "run_id")
    return Lineage(source, run_id if run_id is not None else "", None, source)
