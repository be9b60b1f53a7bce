"""Registry sources are read as the caller: a model version may only point at files its creator
may read.

A model version's files are served to anyone who may read its registered model
(``model-versions/get-artifact``, ``get-download-uri``). Without this check a user could
register ``runs:/<someone else's run>/model`` under a model of their own and read another
team's artifacts through it. So, for a non-admin caller, ``model-versions/create`` also needs
READ on what the source names:

- the run in ``run_id`` and the logged model in ``model_id`` (every file-backed source MLflow
  accepts is tied to one of them: ``runs:/``, proxied and local paths must lie inside that run's
  or model's root, ``models:/<model_id>`` must match ``model_id``);
- the registered model in a ``models:/<name>/<version|stage|@alias>`` source
  (``copy_model_version``);
- nothing for MLflow's prompt placeholders, which carry no files.

Any other source (an object-store URI with neither id) could name any path of the server's own
storage, so only an admin may register it. Versions created before this check are not
re-checked; docs/operations.md says how to find them.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from starlette.responses import Response

from trackd.api._http import error_response
from trackd.auth.fields import value
from trackd.auth.service import AuthService
from trackd.auth.store import User
from trackd.errors import PERMISSION_DENIED, MlflowError
from trackd.service.model_version_sources import PROMPT_SOURCES


def _denied(message: str) -> Response:
    return error_response(MlflowError(message, PERMISSION_DENIED))


def _registry_model_name(source: str) -> str | None:
    """``models:/<name>/<ref>`` or ``models:/<name>@<alias>`` -> name; None for other sources."""
    parsed = urllib.parse.urlparse(source, allow_fragments=False)
    if parsed.scheme.lower() != "models":
        return None
    parts = parsed.path.lstrip("/").split("/")
    if len(parts) == 2:
        return parts[0]
    if len(parts) == 1 and "@" in parts[0]:
        return parts[0].rpartition("@")[0]
    return None  # models:/<model_id>: tied to model_id, checked with it


async def _readable(auth: AuthService, user: User, kind: str, key: str) -> bool:
    experiment = await auth.lookups.experiment_of(kind, key)
    if experiment is None:
        return True  # does not exist: the handler answers MLflow's own error for it
    return (await auth.permission(user, "experiment", experiment)).allows("read")


async def source_denial(auth: AuthService, user: User, fields: dict[str, Any]) -> Response | None:
    """None when a non-admin may create a version from this source; else the 403 to send."""
    source = value(fields, "source")
    if not isinstance(source, str) or source in PROMPT_SOURCES:
        return None  # missing or a placeholder: the handler decides
    run_id, model_id = value(fields, "run_id"), value(fields, "model_id")
    tied = False
    if isinstance(run_id, str):
        tied = True
        if not await _readable(auth, user, "run", run_id):
            return _denied(f"Permission denied: the source's run '{run_id}' is not readable "
                           "by this user.")
    if isinstance(model_id, str):
        tied = True
        if not await _readable(auth, user, "logged_model", model_id):
            return _denied(f"Permission denied: the source's logged model '{model_id}' is not "
                           "readable by this user.")
    name = _registry_model_name(source)
    if name is not None:
        if not (await auth.permission(user, "registered_model", name)).allows("read"):
            return _denied(f"Permission denied: the source's registered model '{name}' is not "
                           "readable by this user.")
        return None
    if not tied:
        return _denied(
            f"Permission denied: the source '{source}' is tied to no run (run_id) or logged "
            "model (model_id) this user can read; only an admin may register such a source."
        )
    return None
