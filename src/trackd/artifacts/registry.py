"""Which artifact store serves a URI: one backend module per URI scheme.

Adding a backend is one module in this package with

    def open_store(uri: str, settings: Settings) -> ArtifactStore: ...

plus one line in :data:`BACKENDS`. Modules are imported on first use, so a deployment that
never touches ``s3://`` never needs boto3.

The registry also knows this server's own proxy: ``mlflow-artifacts:/...`` (and the
``http(s)://.../mlflow-artifacts/artifacts/...`` form) is resolved onto the store behind
``--artifacts-destination`` when ``--serve-artifacts`` is on.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from trackd.artifacts.base import ArtifactStore
from trackd.artifacts.paths import PROXIED_SCHEMES, check_location, proxied_path, scheme_of
from trackd.config import ConfigError, Settings
from trackd.errors import invalid_parameter

# scheme -> module holding `open_store`; "" is a plain filesystem path.
BACKENDS: dict[str, str] = {
    "": "trackd.artifacts.local",
    "file": "trackd.artifacts.local",
    "s3": "trackd.artifacts.s3",
    "gs": "trackd.artifacts.gcs",
    "wasbs": "trackd.artifacts.azure",
    "wasb": "trackd.artifacts.azure",
    "abfss": "trackd.artifacts.azure",
    "abfs": "trackd.artifacts.azure",
    "webhdfs": "trackd.artifacts.webhdfs",
    "swebhdfs": "trackd.artifacts.webhdfs",
    "hdfs": "trackd.artifacts.hdfs",
    "viewfs": "trackd.artifacts.hdfs",
}

# The library each backend imports on first use, and the extra that installs it: checked when a
# location is accepted, so that a store the server cannot open is refused at creation, not
# discovered by the first upload.
LIBRARIES: dict[str, tuple[str, str]] = {
    "s3": ("boto3", "s3"),
    "gs": ("google.cloud.storage", "gcs"),
    "wasbs": ("azure.storage.blob", "azure"),
    "wasb": ("azure.storage.blob", "azure"),
    "abfss": ("azure.storage.blob", "azure"),
    "abfs": ("azure.storage.blob", "azure"),
    "hdfs": ("pyarrow.fs", "hdfs"),
    "viewfs": ("pyarrow.fs", "hdfs"),
}

Opener = Callable[[str, Settings], ArtifactStore]


def _missing_library(scheme: str) -> str | None:
    needed = LIBRARIES.get(scheme)
    if needed is None:
        return None
    module, extra = needed
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        found = False
    if found:
        return None
    return f"{scheme}:// artifact stores need {module.split('.')[0]}: pip install 'trackd[{extra}]'"

# Stores are cheap for local paths but hold clients and connection pools for object stores;
# runs and models each have their own root, so keep the most recently used ones.
_CACHE_SIZE = 64


@dataclass(frozen=True)
class Location:
    """Where a root URI's artifacts really are: a store and a path inside it."""

    store: ArtifactStore
    base: str  # relative path of the root inside the store ("" = the store's root)
    proxied: bool


class ArtifactRegistry:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._openers: dict[str, Opener] = {}
        self._stores: OrderedDict[str, ArtifactStore] = OrderedDict()
        self._destination: ArtifactStore | None = None

    def opener(self, scheme: str) -> Opener:
        found = self._openers.get(scheme)
        if found is None:
            module_name = BACKENDS.get(scheme)
            if module_name is None:
                raise invalid_parameter(
                    f"No artifact store for URI scheme '{scheme}'; trackd supports: "
                    + ", ".join(repr(s) for s in sorted(BACKENDS) if s)
                )
            found = importlib.import_module(module_name).open_store
            self._openers[scheme] = found
        return found

    def check_servable(self, uri: str, what: str = "artifact location") -> str:
        """``uri`` if this server could serve artifacts there; else 400 naming the problem."""
        check_location(uri, what)
        scheme = scheme_of(uri)
        if scheme in PROXIED_SCHEMES:
            if proxied_path(uri) is None:
                raise invalid_parameter(
                    f"Invalid {what} '{uri}': an http(s) location must point at an artifact "
                    "proxy (.../api/2.0/mlflow-artifacts/artifacts/...)"
                )
            return uri
        if scheme not in BACKENDS:
            raise invalid_parameter(
                f"Invalid {what} '{uri}': no artifact store for the URI scheme '{scheme}'; "
                "trackd supports: " + ", ".join(repr(s) for s in sorted(BACKENDS) if s)
            )
        missing = _missing_library(scheme)
        if missing is not None:
            raise invalid_parameter(f"Invalid {what} '{uri}': {missing}")
        return uri

    def store_for(self, uri: str) -> ArtifactStore:
        """The store rooted at ``uri`` (a direct artifact root such as a run's)."""
        store = self._stores.get(uri)
        if store is not None:
            self._stores.move_to_end(uri)
            return store
        check_location(uri)  # also at resolution: locations stored before the rule existed
        try:
            store = self.opener(scheme_of(uri))(uri, self.settings)
        except ConfigError as exc:  # e.g. s3:// while boto3 is not installed
            raise invalid_parameter(
                f"This server cannot serve the artifact location {uri}: {exc}"
            ) from exc
        self._stores[uri] = store
        if len(self._stores) > _CACHE_SIZE:
            self._stores.popitem(last=False)
        return store

    @property
    def destination(self) -> ArtifactStore:
        """The store behind ``mlflow-artifacts:/`` (``--artifacts-destination``)."""
        if self._destination is None:
            self._destination = self.store_for(self.settings.artifacts_destination)
        return self._destination

    def is_served_proxy(self, uri: str) -> bool:
        """MLflow's rule: proxied roots are resolved here only while serving artifacts."""
        return self.settings.serve_artifacts and scheme_of(uri) in PROXIED_SCHEMES and (
            proxied_path(uri) is not None
        )

    def locate(self, root_uri: str) -> Location:
        """The store and base path holding the artifacts of a run's or a model's root URI."""
        if self.is_served_proxy(root_uri):
            return Location(self.destination, proxied_path(root_uri) or "", True)
        if scheme_of(root_uri) in PROXIED_SCHEMES:
            raise invalid_parameter(
                f"The artifact root {root_uri} is served by an artifact proxy, and this server "
                "runs with --no-serve-artifacts"
            )
        return Location(self.store_for(root_uri), "", False)

    async def close(self) -> None:
        for store in list(self._stores.values()):
            await store.close()
        self._stores.clear()
        self._destination = None
