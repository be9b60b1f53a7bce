"""Start-up validation of the configured artifact locations.

A server whose artifact store cannot work should not start and fail on the first upload: an
``hdfs://`` root without libhdfs, an ``s3://`` one without boto3, a destination with a scheme
no backend serves. Each backend module may define ``check(uri, settings)``, raising
:class:`~trackd.config.ConfigError` with a message that names what is missing and how to fix
it; the CLI prints that message and exits non-zero.
"""

from __future__ import annotations

import importlib
import logging

from trackd.artifacts.paths import PROXIED_SCHEMES, check_location, scheme_of
from trackd.artifacts.registry import BACKENDS
from trackd.config import ConfigError, Settings
from trackd.errors import MlflowError

log = logging.getLogger("trackd")


def configured_locations(settings: Settings) -> list[tuple[str, str]]:
    """(what, uri) of every artifact location this server itself reads or writes."""
    found = []
    if settings.serve_artifacts:
        found.append(("--artifacts-destination", settings.artifacts_destination))
    root = settings.default_artifact_root
    if root and scheme_of(root) not in PROXIED_SCHEMES:
        found.append(("--default-artifact-root", root))
    return found


def check_artifact_locations(settings: Settings) -> None:
    for what, uri in configured_locations(settings):
        try:
            check_location(uri, what)
        except MlflowError as exc:
            raise ConfigError(exc.message) from exc
        scheme = scheme_of(uri)
        module_name = BACKENDS.get(scheme)
        if module_name is None:
            if what == "--default-artifact-root":
                # Clients write such roots themselves (their own artifact repositories); this
                # server only cannot list them.
                log.warning(
                    "no artifact store for %s scheme %r: the server cannot list artifacts under %s",
                    what,
                    scheme,
                    uri,
                )
                continue
            raise ConfigError(
                f"{what} {uri}: no artifact store for URI scheme '{scheme}'; trackd supports: "
                + ", ".join(sorted(s for s in BACKENDS if s))
            )
        check = getattr(importlib.import_module(module_name), "check", None)
        if check is None:
            continue
        try:
            check(uri, settings)
        except ConfigError as exc:
            raise ConfigError(f"{what} {uri}: {exc}") from exc
