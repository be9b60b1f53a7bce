"""The auth settings, read the way MLflow's basic-auth app reads them.

An INI file (``MLFLOW_AUTH_CONFIG_PATH``; MLflow's defaults when unset) with a ``[mlflow]``
section::

    [mlflow]
    default_permission = READ
    database_uri = sqlite:///basic_auth.db
    admin_username = admin
    admin_password = ...            # only used to create the first admin
    auth_cache_ttl_seconds = 0      # read, see passwords.py for why trackd needs no TTL

``MLFLOW_AUTH_ADMIN_USERNAME`` / ``MLFLOW_AUTH_ADMIN_PASSWORD`` beat the file when set (an empty
value counts as set, so an empty injected secret fails loudly instead of falling back).
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trackd.auth import permissions
from trackd.config import ConfigError

DEFAULT_DATABASE_URI = "sqlite:///basic_auth.db"
DEFAULT_PERMISSION = "READ"
DEFAULT_ADMIN_USERNAME = "admin"
# The password older MLflow releases shipped in basic_auth.ini; MLflow 3.18 refuses it for
# admins, and so does trackd.
LEGACY_ADMIN_PASSWORD = "password1234"
MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class AuthConfig:
    default_permission: str = DEFAULT_PERMISSION
    database_uri: str = DEFAULT_DATABASE_URI
    admin_username: str | None = DEFAULT_ADMIN_USERNAME
    admin_password: str | None = None
    path: str | None = None

    @property
    def default(self) -> permissions.Permission:
        return permissions.ALL[self.default_permission]


def read_auth_config(environ: Mapping[str, str] | None = None) -> AuthConfig:
    env = os.environ if environ is None else environ
    path = env.get("MLFLOW_AUTH_CONFIG_PATH") or None
    section: Mapping[str, str] = {}
    if path is not None:
        if not Path(path).is_file():
            raise ConfigError(f"MLFLOW_AUTH_CONFIG_PATH={path!r}: no such file")
        parser = configparser.ConfigParser()
        try:
            parser.read(path)
        except configparser.Error as exc:
            raise ConfigError(f"cannot read the auth configuration {path!r}: {exc}") from exc
        if not parser.has_section("mlflow"):
            raise ConfigError(f"the auth configuration {path!r} has no [mlflow] section")
        section = parser["mlflow"]
    default_permission = section.get("default_permission", DEFAULT_PERMISSION).strip()
    if default_permission not in permissions.ALL:
        raise ConfigError(
            f"default_permission = {default_permission!r} in {path}: use one of "
            f"{', '.join(permissions.ALL)}"
        )
    username = _setting(env, section, "MLFLOW_AUTH_ADMIN_USERNAME", "admin_username",
                        DEFAULT_ADMIN_USERNAME if path is None else None)
    password = _setting(env, section, "MLFLOW_AUTH_ADMIN_PASSWORD", "admin_password", None)
    return AuthConfig(
        default_permission=default_permission,
        database_uri=section.get("database_uri", DEFAULT_DATABASE_URI).strip(),
        admin_username=username,
        admin_password=password,
        path=path,
    )


def _setting(env: Mapping[str, str], section: Mapping[str, str], variable: str, key: str,
             fallback: str | None) -> str | None:
    if variable in env:
        return env[variable] or None
    value = section.get(key, fallback)
    return value.strip() or None if isinstance(value, str) else None
