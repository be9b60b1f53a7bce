"""Settings: what `trackd server` is told, by flags or by MLflow's environment variables.

Data platforms configure "an MLflow server" through MLflow's variable names, so trackd reads
exactly those (plus ``MLFLOW_DEFAULT_ARTIFACTORY_ROOT``, a name platforms ship). Flags beat the
environment; with nothing configured trackd runs on an embedded default in the working
directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_BACKEND_STORE_URI = "sqlite:///mlflow.db"
DEFAULT_ARTIFACTS_DESTINATION = "./mlartifacts"
PROXIED_ARTIFACT_ROOT = "mlflow-artifacts:/"

# flag name -> environment variables read for it, first found wins.
ENV_NAMES: dict[str, tuple[str, ...]] = {
    "backend_store_uri": ("MLFLOW_BACKEND_STORE_URI",),
    "default_artifact_root": (
        "MLFLOW_DEFAULT_ARTIFACT_ROOT",
        "MLFLOW_DEFAULT_ARTIFACTORY_ROOT",
    ),
    "artifacts_destination": ("MLFLOW_ARTIFACTS_DESTINATION",),
    "serve_artifacts": ("MLFLOW_SERVE_ARTIFACTS",),
    "host": ("MLFLOW_HOST",),
    "port": ("MLFLOW_PORT",),
    "workers": ("MLFLOW_WORKERS",),
    "static_prefix": ("MLFLOW_STATIC_PREFIX",),
    # MLflow 3.x's security middleware settings, same names and meaning.
    "allowed_hosts": ("MLFLOW_SERVER_ALLOWED_HOSTS",),
    "cors_allowed_origins": ("MLFLOW_SERVER_CORS_ALLOWED_ORIGINS",),
    "x_frame_options": ("MLFLOW_SERVER_X_FRAME_OPTIONS",),
    "disable_security_middleware": ("MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE",),
    # trackd's own production settings (MLflow has no variables for these).
    "auth": ("TRACKD_AUTH",),
    "ssl_certfile": ("TRACKD_SSL_CERTFILE",),
    "ssl_keyfile": ("TRACKD_SSL_KEYFILE",),
    "access_log_format": ("TRACKD_ACCESS_LOG_FORMAT",),
    "max_request_body_mb": ("TRACKD_MAX_REQUEST_BODY_MB",),
    "header_timeout": ("TRACKD_HEADER_TIMEOUT",),
    "body_timeout": ("TRACKD_BODY_TIMEOUT",),
    "keep_alive_timeout": ("TRACKD_KEEP_ALIVE_TIMEOUT",),
    "max_connections": ("TRACKD_MAX_CONNECTIONS",),
    # MLflow's bounds on one GraphQL query (trackd.graphql.limits).
    "graphql_max_root_fields": ("MLFLOW_SERVER_GRAPHQL_MAX_ROOT_FIELDS",),
    "graphql_max_aliases": ("MLFLOW_SERVER_GRAPHQL_MAX_ALIASES",),
    # `trackd server --mlflow-ui`: MLflow's own web UI at /, from an installed mlflow package.
    "mlflow_ui": ("TRACKD_MLFLOW_UI",),
}
ACCESS_LOG_FORMATS = ("text", "json")
X_FRAME_OPTIONS = ("SAMEORIGIN", "DENY", "NONE")
# MLflow's default Host allow list: loopback names and private (RFC 1918, IPv6 unique-local)
# addresses, on any port. Entries are host names, fnmatch patterns or CIDR networks.
DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "[::1]", "0.0.0.0", "10.0.0.0/8",
                         "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
# Large enough for the largest JSON body MLflow accepts (a dataset profile of up to 16 MB,
# escaped, in log-inputs); artifact uploads stream and are not limited.
DEFAULT_MAX_REQUEST_BODY_MB = 64

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """A setting that cannot be served; the CLI prints it and exits non-zero."""


@dataclass(frozen=True)
class Settings:
    backend_store_uri: str = DEFAULT_BACKEND_STORE_URI
    default_artifact_root: str | None = None
    artifacts_destination: str = DEFAULT_ARTIFACTS_DESTINATION
    serve_artifacts: bool = True
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    static_prefix: str = ""
    # MLFLOW_TRUNCATE_LONG_VALUES: over-long param and tag values are cut, as MLflow does.
    truncate_long_values: bool = True
    # Authentication and permissions (MLflow's basic-auth app; settings in
    # MLFLOW_AUTH_CONFIG_PATH): off unless asked for.
    auth: bool = False
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    access_log_format: str = "text"
    # Host headers served. The command line's default is MLflow's, DEFAULT_ALLOWED_HOSTS
    # (settings_from_env fills it in); an app built from Settings() directly (tests,
    # embedding) checks no Host.
    allowed_hosts: tuple[str, ...] = ("*",)
    # Browser origins that may call the API across origins (besides localhost ones).
    cors_allowed_origins: tuple[str, ...] = ()
    x_frame_options: str = "SAMEORIGIN"
    disable_security_middleware: bool = False
    max_request_body_mb: int = DEFAULT_MAX_REQUEST_BODY_MB
    # Connection guards (trackd.http_timeouts), in seconds; 0 turns a timeout off. The idle
    # keep-alive time should exceed a proxy's own idle timeout (docs/operations.md).
    header_timeout: float = 30.0
    body_timeout: float = 60.0
    keep_alive_timeout: float = 120.0
    # Open connections (plus running requests) per worker before new requests get 503.
    max_connections: int = 1000
    graphql_max_root_fields: int = 10
    graphql_max_aliases: int = 10
    # Serve MLflow's React UI (from the mlflow package) at / instead of trackd's home page.
    mlflow_ui: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def artifact_root(self) -> str:
        """Root under which new experiments get their artifact location (MLflow's rule)."""
        if self.default_artifact_root:
            return _absolute_if_local(self.default_artifact_root)
        if self.serve_artifacts:
            return PROXIED_ARTIFACT_ROOT
        return _absolute_if_local("./mlruns")

    def with_overrides(self, **values: object) -> Settings:
        given = {k: v for k, v in values.items() if v is not None}
        return replace(self, **given)  # type: ignore[arg-type]


def _absolute_if_local(uri: str) -> str:
    if "://" in uri or uri.startswith(("mlflow-artifacts:", "file:")):
        return uri
    return str(Path(uri).expanduser().resolve())


def parse_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use true or false)")


def normalize_static_prefix(prefix: str | None) -> str:
    """MLflow's rule: starts with '/', does not end with '/'; '' means no prefix."""
    if not prefix or prefix == "/":
        return ""
    if not prefix.startswith("/"):
        raise ConfigError(f"--static-prefix must start with '/': {prefix!r}")
    if "{" in prefix or "}" in prefix:
        raise ConfigError(f"--static-prefix must not contain braces: {prefix!r}")
    return prefix.rstrip("/")


def parse_list(raw: str) -> tuple[str, ...]:
    """A comma-separated setting (``a.example.com, 10.*``) as its non-empty items."""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def check_x_frame_options(raw: str) -> str:
    value = raw.strip().upper()
    if value not in X_FRAME_OPTIONS:
        raise ConfigError(f"X-Frame-Options {raw!r}: use one of {', '.join(X_FRAME_OPTIONS)}")
    return value


def check_max_request_body_mb(value: int) -> int:
    if value < 1:
        raise ConfigError(f"the request body limit must be at least 1 MiB, not {value}")
    return value


def check_seconds(what: str, raw: str | float) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{what}={raw!r} is not a number of seconds") from exc
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{what}={raw!r}: give a number of seconds, 0 or more")
    return value


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from MLflow's environment variables alone (flags are applied on top)."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {"allowed_hosts": DEFAULT_ALLOWED_HOSTS}
    for name, variables in ENV_NAMES.items():
        raw = next((env[v] for v in variables if env.get(v)), None)
        if raw is None:
            continue
        values[name] = _convert(name, variables[0], raw)
    if env.get("MLFLOW_TRUNCATE_LONG_VALUES"):
        values["truncate_long_values"] = parse_bool(
            "MLFLOW_TRUNCATE_LONG_VALUES", env["MLFLOW_TRUNCATE_LONG_VALUES"]
        )
    return Settings(**values)  # type: ignore[arg-type]


def _convert(name: str, variable: str, raw: str) -> object:
    if name in ("serve_artifacts", "auth", "disable_security_middleware", "mlflow_ui"):
        return parse_bool(variable, raw)
    if name in ("allowed_hosts", "cors_allowed_origins"):
        return parse_list(raw)
    if name == "x_frame_options":
        return check_x_frame_options(raw)
    if name == "access_log_format" and raw not in ACCESS_LOG_FORMATS:
        raise ConfigError(f"{variable}={raw!r}: use one of {', '.join(ACCESS_LOG_FORMATS)}")
    if name in ("header_timeout", "body_timeout", "keep_alive_timeout"):
        return check_seconds(variable, raw)
    if name in ("port", "workers", "max_request_body_mb", "max_connections",
                "graphql_max_root_fields", "graphql_max_aliases"):
        try:
            number = int(raw)
        except ValueError as exc:
            raise ConfigError(f"{variable}={raw!r} is not an integer") from exc
        return check_max_request_body_mb(number) if name == "max_request_body_mb" else number
    if name == "static_prefix":
        return normalize_static_prefix(raw)
    return raw
