"""The auth service: who is calling, and what they may do to one resource.

Opened once per process by :func:`open_auth`; the middleware and the auth endpoints share it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from sqlalchemy import Connection

from trackd.auth import permissions, store, tiers
from trackd.auth.config import LEGACY_ADMIN_PASSWORD, MIN_PASSWORD_LENGTH, AuthConfig
from trackd.auth.lookups import ExperimentLookups
from trackd.auth.passwords import PasswordChecker, hash_password, token_digest
from trackd.auth.permissions import MANAGE, Permission
from trackd.auth.schema import prepare_auth_schema
from trackd.auth.store import User
from trackd.config import ConfigError
from trackd.errors import invalid_parameter
from trackd.store.database import Database

log = logging.getLogger("trackd.auth")

# A registered model and a prompt share the registry's names; a grant on either applies.
MODEL_TYPES = ("registered_model", "prompt")

Item = TypeVar("Item")


class AuthService:
    def __init__(self, config: AuthConfig, db: Database, tracking_db: Database) -> None:
        self.config = config
        self.db = db
        self.lookups = ExperimentLookups(tracking_db)
        self.passwords = PasswordChecker()

    # -- who -------------------------------------------------------------------------------

    async def authenticate(self, authorization: str | None) -> User | None:
        if not authorization:
            return None
        scheme, _, credentials = authorization.partition(" ")
        scheme = scheme.lower()
        credentials = credentials.strip()
        if scheme == "basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            username, sep, password = decoded.partition(":")
            if not sep:
                return None
            return await self.db.read(lambda conn: self._check_password(conn, username, password))
        if scheme == "bearer" and credentials:
            digest = token_digest(credentials)
            now = int(time.time() * 1000)
            return await self.db.read(lambda conn: store.user_for_token(conn, digest, now))
        return None

    def _check_password(self, conn: Connection, username: str, password: str) -> User | None:
        user = store.find_user(conn, username)
        if user is None or not self.passwords.check(user.password_hash, password):
            return None
        if user.is_admin and password == LEGACY_ADMIN_PASSWORD:
            log.warning("rejected a login by admin %r with the insecure default password that "
                        "old MLflow releases shipped; set MLFLOW_AUTH_ADMIN_PASSWORD and restart "
                        "to rotate it", username)
            return None
        return user

    # -- what ------------------------------------------------------------------------------

    async def permission(self, user: User, resource_type: str, key: str) -> Permission:
        if user.is_admin:
            return MANAGE
        types = MODEL_TYPES if resource_type in MODEL_TYPES else (resource_type,)
        key = tiers.canonical_key(resource_type, key)
        grants = await self.db.read(
            lambda conn: store.user_grants(conn, user.id, types, (key, "*")))
        return self._fold(grants, types, key)

    async def allowed_keys(self, user: User, resource_type: str, keys: Iterable[str],
                           action: str = "read") -> set[str]:
        """The subset of ``keys`` the user may ``action`` (used to filter listings)."""
        wanted = set(keys)
        if user.is_admin:
            return wanted
        types = MODEL_TYPES if resource_type in MODEL_TYPES else (resource_type,)
        grants = await self.db.read(lambda conn: store.user_grants(conn, user.id, types))
        canonical = permissions.canonical_experiment_id if resource_type == "experiment" else str
        return {k for k in wanted if self._fold(grants, types, canonical(k)).allows(action)}

    async def readable(self, user: User, resource_type: str, items: Sequence[Item],
                       key: Callable[[Item], str]) -> list[Item]:
        """The ``items`` the user may read, in their order: the one filter behind every
        listing, the API's search answers and the web UI's pages alike."""
        allowed = await self.allowed_keys(user, resource_type, (key(i) for i in items))
        return [i for i in items if key(i) in allowed]

    async def meets(self, user: User, needs: Sequence[tiers.Need]) -> bool:
        """Whether every need holds for the user (tier override, see :mod:`trackd.auth.tiers`),
        from one query over the grants of the types involved."""
        if user.is_admin:
            return True
        kinds = tiers.kinds_of(needs)
        keys = tuple({tiers.canonical_key(r.kind, r.key) for n in needs for r in n.rungs()}
                     | {"*"})
        grants = await self.db.read(lambda conn: store.user_grants(conn, user.id, kinds, keys))
        if any(g.resource_type == "workspace" and g.resource_pattern == "*"
               and g.permission == "MANAGE" for g in grants):
            return True  # a workspace admin is not restrictable
        rows = [(g.resource_type, g.resource_pattern, g.permission) for g in grants]
        return tiers.all_met(needs, rows, self.config.default)

    def _fold(self, grants: list[store.Grant], types: tuple[str, ...], key: str) -> Permission:
        names = []
        for grant in grants:
            if grant.resource_type == "workspace":
                if grant.resource_pattern == "*" and grant.permission == "MANAGE":
                    return MANAGE  # a workspace admin is not restrictable
                continue
            if grant.resource_type in types and grant.resource_pattern in (key, "*"):
                names.append(grant.permission)
        return permissions.fold(names, self.config.default)

    async def grant_manage_to_creator(self, user: User, resource_type: str, key: str) -> None:
        if resource_type == "experiment":
            key = permissions.canonical_experiment_id(key)
        await self.db.write(lambda conn: store.set_own_grant(
            conn, user, resource_type, key, "MANAGE", mode="upsert"))

    async def drop_grants(self, resource_type: str, key: str) -> None:
        await self.db.write(lambda conn: store.delete_grants_for_resource(conn, resource_type,
                                                                          key))

    async def drop_model_grants(self, name: str) -> None:
        def work(conn: Connection) -> None:
            for kind in MODEL_TYPES:
                store.delete_grants_for_resource(conn, kind, name)

        await self.db.write(work)

    async def rename_model_grants(self, old: str, new: str) -> None:
        def work(conn: Connection) -> None:
            for kind in MODEL_TYPES:
                store.rename_grants_for_resource(conn, kind, old, new)

        await self.db.write(work)

    # -- lifecycle -------------------------------------------------------------------------

    def bootstrap_admin(self) -> None:
        """Create the configured admin when it does not exist (MLflow's start-up rule)."""
        name, password = self.config.admin_username, self.config.admin_password
        if not name:
            raise ConfigError("authentication needs an admin user name: set "
                              "MLFLOW_AUTH_ADMIN_USERNAME or admin_username in the auth config")
        if self.db.read_sync(lambda conn: store.find_user(conn, name)) is not None:
            return
        if not password:
            raise ConfigError(
                f"authentication needs a password to create the admin user {name!r}: set "
                "MLFLOW_AUTH_ADMIN_PASSWORD (or admin_password in the file named by "
                "MLFLOW_AUTH_CONFIG_PATH); trackd, like MLflow, ships no default password")
        if password == LEGACY_ADMIN_PASSWORD or len(password) < MIN_PASSWORD_LENGTH:
            raise ConfigError(f"the configured admin password for {name!r} is refused: it must "
                              f"have at least {MIN_PASSWORD_LENGTH} characters and not be the "
                              "old MLflow default")
        pwhash = hash_password(password)
        try:
            self.db.write_sync(lambda conn: store.create_user(conn, name, pwhash, True))
            log.info("created admin user %r", name)
        except Exception:
            # Several workers start at once; one of them wins.
            if self.db.read_sync(lambda conn: store.find_user(conn, name)) is None:
                raise

    def close(self) -> None:
        self.db.close()


def validate_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise invalid_parameter(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.")
    return password


def open_auth(config: AuthConfig, tracking_db: Database) -> AuthService:
    db = Database(config.database_uri, pool_size=4)
    try:
        prepare_auth_schema(db.engine)
        service = AuthService(config, db, tracking_db)
        service.bootstrap_admin()
    except BaseException:
        db.close()
        raise
    return service
