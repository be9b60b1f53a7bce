"""Model versions: registration, stages, tags, download locations and search.

Where a version may come from, and what its source resolves to, is decided in
:mod:`trackd.service.model_version_sources`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from trackd.config import Settings
from trackd.entities.registry import (
    ACTIVE_STAGES,
    IS_PROMPT_TAG,
    STAGE_NONE,
    STATUS_READY,
    ModelVersion,
    canonical_stage,
)
from trackd.errors import invalid_parameter
from trackd.service import validation as v
from trackd.service.clock import now_ms
from trackd.service.model_version_sources import (
    check_host,
    host_of,
    prompt_source,
    resolve_source,
)
from trackd.service.paging import fingerprint, offset_token, read_offset
from trackd.service.registered_models import (
    check_description,
    check_model_name,
    check_registry_tag,
    parse_version,
    require_model,
    require_version,
)
from trackd.service.search_query import parse_search
from trackd.service.webhook_events import NULL_SINK, EventSink, emit, tagged, version_created
from trackd.store import model_versions as store
from trackd.store import registered_models as rm_store
from trackd.store import webhooks as wh_store
from trackd.store.database import Database

MAX_SOURCE_LENGTH = 500  # model_versions.source / storage_location / run_link: VARCHAR(500)
# MLflow's order when a version search asks for none.
DEFAULT_ORDER = ("last_updated_timestamp DESC", "name ASC", "version_number DESC")


class ModelVersionService:
    def __init__(self, db: Database, settings: Settings, events: EventSink = NULL_SINK) -> None:
        self.db = db
        self.events = events  # told of each committed change webhooks may subscribe to
        # Hosts that URIs in a source may name: those of the server's own artifact storage.
        self.trusted_hosts = {
            host
            for uri in (settings.artifact_root, settings.artifacts_destination)
            if uri and (host := host_of(uri)) is not None
        }

    async def create(
        self,
        name: object,
        source: str,
        run_id: str | None,
        tags: Sequence[tuple[object, object]],
        run_link: str | None,
        description: str | None,
        model_id: str | None,
    ) -> ModelVersion:
        name = check_model_name(name)
        checked = list(
            dict(
                check_registry_tag(k, value, v.MAX_REGISTRY_TAG_VALUE_LENGTH) for k, value in tags
            ).items()
        )
        check_description(description)
        for label, text in (("source", source), ("run_link", run_link)):
            v.check_length(label, MAX_SOURCE_LENGTH, text)
        is_prompt = dict(checked).get(IS_PROMPT_TAG, "false").lower() == "true"
        check_host(source, self.trusted_hosts)

        def work(conn: Connection) -> ModelVersion:
            if is_prompt:
                found = prompt_source(source, run_id, model_id)
            else:
                found = resolve_source(conn, source, run_id, model_id)
            v.check_length("storage_location", MAX_SOURCE_LENGTH, found.storage_location)
            v.check_length("run_id", v.MAX_RUN_ID_LENGTH, found.run_id)  # VARCHAR(32)
            require_model(conn, name, lock=True)  # the lock serialises version numbering
            now = now_ms()
            rm_store.update_model(conn, name, {"last_updated_time": now})
            number = store.next_version(conn, name)
            store.insert_version(
                conn,
                {
                    "name": name,
                    "version": number,
                    "creation_time": now,
                    "last_updated_time": now,
                    "description": description if description is not None else "",
                    "current_stage": STAGE_NONE,
                    "source": found.source,
                    "storage_location": found.storage_location,
                    "run_id": found.run_id,
                    "run_link": run_link if run_link is not None else "",
                    "status": STATUS_READY,
                },
                checked,
            )
            if found.model_id and found.logged_model_experiment is not None and not is_prompt:
                store.record_registration(
                    conn, found.model_id, found.logged_model_experiment, name, number
                )
            return require_version(conn, name, number)

        made = await self.db.write(work)
        # The source and run as resolved (a models:/ source names its version's run).
        emit(self.events, version_created(name, made.version, made.source, made.run_id,
                                          checked, description))
        return made

    async def get(self, name: object, version: object) -> ModelVersion:
        name, number = check_model_name(name), parse_version(version)
        return await self.db.read(lambda conn: require_version(conn, name, number))

    async def download_uri(self, name: object, version: object) -> str:
        name, number = check_model_name(name), parse_version(version)
        return (await self.db.read(lambda conn: require_version(conn, name, number))).download_uri

    async def update(self, name: object, version: object, description: str | None) -> ModelVersion:
        name, number = check_model_name(name), parse_version(version)
        check_description(description)

        def work(conn: Connection) -> ModelVersion:
            require_version(conn, name, number)
            store.update_version(
                conn, name, number, {"description": description, "last_updated_time": now_ms()}
            )
            return require_version(conn, name, number)

        return await self.db.write(work)

    async def transition_stage(
        self, name: object, version: object, stage: str, archive_existing: bool
    ) -> ModelVersion:
        name, number = check_model_name(name), parse_version(version)
        target = canonical_stage(stage)
        if archive_existing and target not in ACTIVE_STAGES:
            raise invalid_parameter(
                "Model version transition cannot archive existing model versions because "
                f"'{stage}' is not an Active stage. Valid stages are {list(ACTIVE_STAGES)}"
            )

        def work(conn: Connection) -> ModelVersion:
            require_version(conn, name, number)
            now = now_ms()
            if archive_existing:
                store.archive_stage(conn, name, number, target, now)
            store.update_version(
                conn, name, number, {"current_stage": target, "last_updated_time": now}
            )
            rm_store.update_model(conn, name, {"last_updated_time": now})
            return require_version(conn, name, number)

        return await self.db.write(work)

    async def delete(self, name: object, version: object) -> None:
        name, number = check_model_name(name), parse_version(version)

        def work(conn: Connection) -> None:
            require_version(conn, name, number)
            now = now_ms()
            rm_store.update_model(conn, name, {"last_updated_time": now})
            rm_store.delete_aliases_of_version(conn, name, number)
            store.mark_deleted(conn, name, number, now)

        await self.db.write(work)

    async def set_tag(self, name: object, version: object, key: object, value: object) -> None:
        name, number = check_model_name(name), parse_version(version)
        key, text = check_registry_tag(key, value, v.MAX_REGISTRY_TAG_VALUE_LENGTH)

        def work(conn: Connection) -> bool:
            require_version(conn, name, number)
            store.set_tag(conn, name, number, key, text)
            return wh_store.model_is_prompt(conn, name)

        prompt = await self.db.write(work)
        emit(self.events, tagged(prompt, False, "set", {
            "name": name, "version": str(version), "key": key, "value": text}))

    async def delete_tag(self, name: object, version: object, key: object) -> None:
        name, number = check_model_name(name), parse_version(version)
        key = v.check_key(key)

        def work(conn: Connection) -> bool:
            require_version(conn, name, number)
            store.delete_tag(conn, name, number, key)
            return wh_store.model_is_prompt(conn, name)

        prompt = await self.db.write(work)
        emit(self.events, tagged(prompt, False, "deleted", {
            "name": name, "version": str(version), "key": key}))

    async def search(
        self,
        filter_string: str | None,
        max_results: int | None,
        order_by: Sequence[str],
        page_token: str | None,
    ) -> tuple[list[ModelVersion], str | None]:
        parsed = parse_search(
            "model_versions",
            filter_string,
            order_by or DEFAULT_ORDER,
            max_results,
            tiebreakers=True,
        )
        limit = parsed.limit
        query = fingerprint("model_versions", filter_string or "", list(order_by))
        offset = read_offset(page_token, query)
        order = [(k.key, k.ascending) for k in parsed.order_by]

        def work(conn: Connection) -> list[ModelVersion]:
            # One row more than asked tells whether another page exists.
            return store.search(conn, parsed.clauses, order, offset, limit + 1)

        found = await self.db.read(work)
        token = offset_token(query, offset + limit) if len(found) > limit else None
        return found[:limit], token


def tags_of(items: list[dict[str, Any]]) -> list[tuple[object, object]]:
    return [(t.get("key"), t.get("value")) for t in items]
