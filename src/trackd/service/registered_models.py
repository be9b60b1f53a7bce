"""Registered models: names, tags, aliases, rename/delete and search, with MLflow's rules."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from trackd.entities.registry import (
    ALL_STAGES,
    IS_PROMPT_TAG,
    ModelVersion,
    RegisteredModel,
    canonical_stage,
)
from trackd.errors import already_exists, invalid_parameter, missing_parameter, not_found
from trackd.service import validation as v
from trackd.service.clock import now_ms
from trackd.service.paging import fingerprint, offset_token, read_offset
from trackd.service.search_query import parse_search
from trackd.service.webhook_events import NULL_SINK, EventSink, aliased, emit, model_created, tagged
from trackd.store import model_versions as mv_store
from trackd.store import registered_models as store
from trackd.store import webhooks as wh_store
from trackd.store.database import Database

MAX_ALIAS_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 5000  # registered_models/model_versions.description is VARCHAR(5000)
# registered_model_tags.value is VARCHAR(5000) in MLflow's schema although MLflow validates
# 100000: a longer value cannot be stored on PostgreSQL/MySQL, so trackd says so with a 400.
MAX_MODEL_TAG_VALUE_LENGTH = 5000
MAX_NAME_LENGTH = 256
_VERSION_NUMBER = re.compile(r"[+-]?[0-9]+")  # int() would also take "²" and "1_0"

_ALIAS = re.compile(r"[\w\-]*")
_VERSION_ALIAS = re.compile(r"[vV]\d+")


# -- validation (shared with model versions) --------------------------------------------------


def check_model_name(name: object, field: str = "name") -> str:
    if name is None or (isinstance(name, str) and not name.strip()):
        raise missing_parameter(field)
    if not isinstance(name, str):
        raise invalid_parameter(
            f"Invalid value {name!r} for parameter '{field}': expected a string."
        )
    if "/" in name or ":" in name:
        raise invalid_parameter(f"Invalid model name '{name}'. Names cannot contain '/' or ':'.")
    normal = posixpath.normpath(name)
    if normal != name or normal == "." or normal.startswith(".."):
        raise invalid_parameter(
            f"Invalid value {name!r} for parameter '{field}' supplied: Names may be treated as "
            "files in certain cases, and must not resolve to other names when treated as such. "
            f"This name would resolve to {normal!r}"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise invalid_parameter(
            f"'{field}' exceeds the maximum length of {MAX_NAME_LENGTH} characters"
        )
    return name


def parse_version(version: object) -> int:
    """A version number; model_versions.version is a 32-bit INTEGER, so a bigger number names
    no version (and would overflow the query on PostgreSQL)."""
    text = str(version).strip()
    number = int(text) if _VERSION_NUMBER.fullmatch(text) else None
    if number is None or not -(2**31) <= number < 2**31:
        raise invalid_parameter(f"Parameter 'version' must be an integer, got '{version}'.")
    return number


def check_alias(alias: object) -> str:
    if alias is None or alias == "":
        raise invalid_parameter("Registered model alias name cannot be empty.")
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise invalid_parameter(
            f"Invalid alias name: '{alias}'. Alias names may only contain alphanumerics, "
            "underscores, and dashes."
        )
    v.check_length("Registered model alias name", MAX_ALIAS_LENGTH, alias)
    return alias


def check_alias_not_reserved(alias: str) -> None:
    if alias.lower() == "latest":
        raise invalid_parameter("'latest' alias name (case insensitive) is reserved.")
    if _VERSION_ALIAS.fullmatch(alias):
        raise invalid_parameter(f"Version alias name '{alias}' is reserved.")


def check_registry_tag(key: object, value: object, value_limit: int) -> tuple[str, str]:
    key = v.check_key(key)
    text = v.check_tag_value(value)
    v.check_length("key", v.MAX_REGISTRY_TAG_KEY_LENGTH, key)
    v.check_length("value", min(value_limit, v.MAX_REGISTRY_TAG_VALUE_LENGTH), text)
    return key, text


def check_description(description: str | None) -> str | None:
    v.check_length("description", MAX_DESCRIPTION_LENGTH, description)
    return description


def require_model(conn: Connection, name: str, *, lock: bool = False) -> None:
    if not store.exists(conn, name, lock=lock):
        raise not_found(f"Registered Model with name={name} not found")


def require_version(conn: Connection, name: str, version: int) -> ModelVersion:
    found = mv_store.get(conn, name, version)
    if found is None:
        raise not_found(f"Model Version (name={name}, version={version}) not found")
    return found


def _last_wins(items: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict(items).items())


class RegisteredModelService:
    def __init__(self, db: Database, events: EventSink = NULL_SINK) -> None:
        self.db = db
        self.events = events  # told of each committed change webhooks may subscribe to

    async def create(
        self, name: object, tags: Sequence[tuple[object, object]], description: str | None
    ) -> RegisteredModel:
        name = check_model_name(name)
        checked = _last_wins(
            [check_registry_tag(k, value, MAX_MODEL_TAG_VALUE_LENGTH) for k, value in tags]
        )
        check_description(description)
        new_is_prompt = dict(checked).get(IS_PROMPT_TAG, "").lower() == "true"

        def work(conn: Connection) -> RegisteredModel:
            if store.exists(conn, name):
                _raise_taken(conn, name, new_is_prompt)
            try:
                with conn.begin_nested():
                    store.insert_model(conn, name, now_ms(), description, checked)
            except IntegrityError:
                _raise_taken(conn, name, new_is_prompt)
            return store.load_models(conn, [name])[0]

        made = await self.db.write(work)
        emit(self.events, model_created(name, checked, description or ""))
        return made

    async def get(self, name: object) -> RegisteredModel:
        name = check_model_name(name)

        def work(conn: Connection) -> RegisteredModel:
            found = store.load_models(conn, [name])
            if not found:
                raise not_found(f"Registered Model with name={name} not found")
            return found[0]

        return await self.db.read(work)

    async def update(self, name: object, description: str | None) -> RegisteredModel:
        name = check_model_name(name)
        check_description(description)

        def work(conn: Connection) -> RegisteredModel:
            require_model(conn, name)
            store.update_model(
                conn, name, {"description": description, "last_updated_time": now_ms()}
            )
            return store.load_models(conn, [name])[0]

        return await self.db.write(work)

    async def rename(self, name: object, new_name: object) -> RegisteredModel:
        new_name = check_model_name(new_name, "new_name")
        name = check_model_name(name)

        def work(conn: Connection) -> RegisteredModel:
            require_model(conn, name, lock=True)
            if new_name != name:
                if store.exists(conn, new_name):
                    raise already_exists(f"Registered Model (name={new_name}) already exists.")
                try:
                    with conn.begin_nested():
                        store.rename_model(conn, name, new_name, now_ms())
                except IntegrityError as exc:  # a concurrent create took the name
                    raise already_exists(
                        f"Registered Model (name={new_name}) already exists."
                    ) from exc
            return store.load_models(conn, [new_name])[0]

        return await self.db.write(work)

    async def delete(self, name: object) -> None:
        name = check_model_name(name)

        def work(conn: Connection) -> None:
            require_model(conn, name, lock=True)
            store.delete_model(conn, name)

        await self.db.write(work)

    async def search(
        self,
        filter_string: str | None,
        max_results: int | None,
        order_by: Sequence[str],
        page_token: str | None,
    ) -> tuple[list[RegisteredModel], str | None]:
        parsed = parse_search(
            "registered_models", filter_string, order_by, max_results, tiebreakers=True
        )
        limit = parsed.limit
        query = fingerprint("registered_models", filter_string or "", list(order_by))
        offset = read_offset(page_token, query)
        order = [(k.key, k.ascending) for k in parsed.order_by]

        def work(conn: Connection) -> tuple[list[RegisteredModel], bool]:
            # One row more than asked tells whether another page exists.
            names = store.search_names(conn, parsed.clauses, order, offset, limit + 1)
            return store.load_models(conn, names[:limit]), len(names) > limit

        models, more = await self.db.read(work)
        return models, offset_token(query, offset + limit) if more else None

    # -- tags ------------------------------------------------------------------------------

    async def set_tag(self, name: object, key: object, value: object) -> None:
        name = check_model_name(name)
        key, text = check_registry_tag(key, value, MAX_MODEL_TAG_VALUE_LENGTH)

        def work(conn: Connection) -> bool:
            require_model(conn, name)
            store.set_tag(conn, name, key, text)
            return wh_store.model_is_prompt(conn, name)

        prompt = await self.db.write(work)
        emit(self.events, tagged(prompt, True, "set", {"name": name, "key": key, "value": text}))

    async def delete_tag(self, name: object, key: object) -> None:
        name = check_model_name(name)
        key = v.check_key(key)

        def work(conn: Connection) -> bool:
            # Deleting a tag that is not there is fine in MLflow; an unknown model is not.
            require_model(conn, name)
            store.delete_tag(conn, name, key)
            return wh_store.model_is_prompt(conn, name)

        prompt = await self.db.write(work)
        emit(self.events, tagged(prompt, True, "deleted", {"name": name, "key": key}))

    # -- versions seen from the model --------------------------------------------------------

    async def latest_versions(self, name: object, stages: Sequence[str]) -> list[ModelVersion]:
        name = check_model_name(name)
        wanted = {canonical_stage(s) for s in stages} if stages else set(ALL_STAGES)

        def work(conn: Connection) -> list[ModelVersion]:
            require_model(conn, name)
            found = [mv for mv in store.latest_versions(conn, [name]) if mv.current_stage in wanted]
            aliases = store.aliases_by_model(conn, [name])[name]
            for mv in found:
                mv.aliases = [a for a, version in aliases if version == mv.version]
            return found

        return await self.db.read(work)

    # -- aliases -----------------------------------------------------------------------------

    async def set_alias(self, name: object, alias: object, version: object) -> None:
        name = check_model_name(name)
        alias = check_alias(alias)
        check_alias_not_reserved(alias)
        number = parse_version(version)

        def work(conn: Connection) -> bool:
            require_version(conn, name, number)
            store.set_alias(conn, name, alias, number)
            return wh_store.model_is_prompt(conn, name)

        prompt = await self.db.write(work)
        emit(self.events, aliased(prompt, "created",
                                  {"name": name, "alias": alias, "version": str(version)}))

    async def delete_alias(self, name: object, alias: object) -> None:
        name = check_model_name(name)
        alias = check_alias(alias)

        def work(conn: Connection) -> bool:
            require_model(conn, name)
            store.delete_alias(conn, name, alias)
            return wh_store.model_is_prompt(conn, name)

        prompt = await self.db.write(work)
        emit(self.events, aliased(prompt, "deleted", {"name": name, "alias": alias}))

    async def get_by_alias(self, name: object, alias: object) -> ModelVersion:
        name = check_model_name(name)
        alias = check_alias(alias)

        def work(conn: Connection) -> ModelVersion:
            require_model(conn, name)
            if alias.lower() == "latest":
                # MLflow resolves the reserved alias to the newest live version.
                newest = max(
                    store.latest_versions(conn, [name]), key=lambda mv: mv.version, default=None
                )
                if newest is None:
                    raise not_found(f"Latest version not found for model {name}.")
                return require_version(conn, name, newest.version)
            number = store.alias_version(conn, name, alias)
            if number is None:
                # MLflow answers 400 here, not 404: clients rely on it (prompt alias lookups).
                raise invalid_parameter(f"Registered model alias {alias} not found.")
            return require_version(conn, name, number)

        return await self.db.read(work)


def _raise_taken(conn: Connection, name: str, new_is_prompt: bool) -> None:
    """MLflow's three wordings: model vs model, prompt vs prompt, and a model/prompt clash."""
    tags = dict(store.load_models(conn, [name])[0].tags) if store.exists(conn, name) else {}
    old_is_prompt = (tags.get(IS_PROMPT_TAG) or "").lower() == "true"
    old = "Prompt" if old_is_prompt else "Registered Model"
    new = "Prompt" if new_is_prompt else "Registered Model"
    if old != new:
        raise already_exists(
            f"Tried to create a {new.lower()} with name {name!r}, but the name is already taken "
            f"by a {old.lower()}. MLflow does not allow creating a model and a prompt with the "
            "same name."
        )
    raise already_exists(f"{new} (name={name}) already exists.")
