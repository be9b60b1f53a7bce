"""Webhooks: create, list, get, update, delete and test, with MLflow 3.18's rules and messages.

Validation runs in MLflow's order (required fields, then name, URL, events) so that a request
with several faults gets the same message from either server. Unlike mlflow server, an unknown
entity or action is answered with INVALID_PARAMETER_VALUE rather than a 500 page.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import uuid
from typing import Any

from sqlalchemy import Connection

from trackd.entities.webhooks import (
    ALL_ACTIONS,
    STATUSES,
    VALID_ACTIONS,
    Event,
    TestResult,
    Webhook,
)
from trackd.errors import invalid_parameter, missing_parameter, not_found
from trackd.service import validation as v
from trackd.service.clock import now_ms
from trackd.service.webhook_config import SecretBox, WebhookSettings
from trackd.service.webhook_delivery import send
from trackd.service.webhook_urls import check_url
from trackd.store import webhooks as store
from trackd.store.database import Database

_NAME = re.compile(r"(?=.{1,63}$)[a-z0-9]([a-z0-9._-]*[a-z0-9])?", re.IGNORECASE)
MAX_URL_LENGTH = 500  # webhooks.url is VARCHAR(500)
MAX_DESCRIPTION_LENGTH = 1000
DEFAULT_PAGE = 100

# What the test endpoint sends for each event: MLflow's example payloads, value for value.
EXAMPLES: dict[str, dict[str, Any]] = {
    "registered_model": {"name": "example_model", "tags": {"example_key": "example_value"},
                         "description": "An example registered model"},
    "model_version": {"name": "example_model", "version": "1", "source": "models:/123",
                      "run_id": "abcd1234abcd5678", "tags": {"example_key": "example_value"},
                      "description": "An example model version"},
    "prompt": {"name": "example_prompt", "tags": {"example_key": "example_value"},
               "description": "An example prompt"},
    "prompt_version": {"name": "example_prompt", "version": "1", "template": "Hello {{name}}!",
                       "tags": {"example_key": "example_value"},
                       "description": "An example prompt version"},
    "budget_policy": {"budget_policy_id": "bp-abc123", "budget_unit": "USD",
                      "budget_amount": 100.0, "current_spend": 105.5, "duration_unit": "MONTHS",
                      "duration_value": 1, "target_scope": "ENDPOINT", "workspace": "default",
                      "target_value": "ep-abc123", "window_start": 1704067200000},
}


def example_payload(event: Event) -> dict[str, Any]:
    entity, action = event
    if entity in EXAMPLES:
        return dict(EXAMPLES[entity])
    prompt = entity.startswith("prompt")
    out: dict[str, Any] = {"name": "example_prompt" if prompt else "example_model"}
    if entity.endswith("_alias"):
        out["alias"] = "example_alias"
        if action == "created":
            out["version"] = "1"
        return out
    if entity != "prompt_tag":
        out["version"] = "1"
    out["key"] = "example_key"
    if action == "set":
        out["value"] = "example_value"
    return out


def parse_event(raw: object) -> Event:
    if not isinstance(raw, dict):
        raise invalid_parameter(f"Invalid webhook event {raw!r}: expected an object with "
                                "'entity' and 'action'.")
    entity, action = raw.get("entity"), raw.get("action")
    # Anything but a known name (a number, an object...) is refused, never looked up.
    entity = entity.lower() if isinstance(entity, str) else ""
    action = action.lower() if isinstance(action, str) else ""
    if entity not in VALID_ACTIONS or action not in ALL_ACTIONS:
        raise invalid_parameter(
            f"Invalid entity or action in webhook event: entity={raw.get('entity')!r}, "
            f"action={raw.get('action')!r}. Entities are {sorted(VALID_ACTIONS)}; actions are "
            f"{list(ALL_ACTIONS)}.")
    if action not in VALID_ACTIONS[entity]:
        raise invalid_parameter(
            f"Invalid action '{action}' for entity '{entity}'. "
            f"Valid actions are: {sorted(VALID_ACTIONS[entity])}")
    return entity, action


def parse_events(raw: object) -> list[Event]:
    if not isinstance(raw, list):
        raise invalid_parameter(f"Webhook events must be a non-empty list: {raw!r}.")
    events = list(dict.fromkeys(parse_event(item) for item in raw))  # a pair is stored once
    return events


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise invalid_parameter(f"Webhook name must be a string, got {type(name).__name__!r}")
    if not _NAME.fullmatch(name):
        raise invalid_parameter(
            f"Webhook name {name!r} is invalid. It must start and end with a letter or digit, "
            "be less than 63 characters long, and contain only letters, digits, dots (.), "
            "underscores (_), and hyphens (-).")
    return name


def _status(raw: object) -> str | None:
    # MLflow's JSON parser drops an enum value it does not know, so the field counts as unset.
    if isinstance(raw, str) and raw.upper() in STATUSES:
        return raw.upper()
    return None


def _require(webhook: Webhook | None, webhook_id: str) -> Webhook:
    if webhook is None:
        raise not_found(f"Webhook with ID {webhook_id} not found.")
    return webhook


def _offset(page_token: str | None) -> int:
    if not page_token:
        return 0
    try:
        decoded = base64.b64decode(page_token)
    except (binascii.Error, ValueError):
        raise invalid_parameter("Invalid page token, could not base64-decode") from None
    try:
        offset = json.loads(decoded)["offset"]
    except (ValueError, TypeError, KeyError):
        raise invalid_parameter(f"Invalid page token, decoded value={decoded!r}") from None
    if not isinstance(offset, int) or offset < 0:
        raise invalid_parameter(f"Invalid page token, offset={offset!r}")
    return offset


class WebhookService:
    def __init__(self, db: Database, settings: WebhookSettings, box: SecretBox) -> None:
        self.db = db
        self.settings = settings
        self.box = box

    async def _check_url(self, url: object) -> str:
        if isinstance(url, str):
            v.check_length("url", MAX_URL_LENGTH, url)
        # Resolving the host (to refuse private addresses) may block: not on the event loop.
        return await asyncio.to_thread(check_url, url, self.settings)

    async def create(self, name: object, url: object, events: object, description: str | None,
                     secret: str | None, status: object) -> Webhook:
        for field, value in (("name", name), ("url", url), ("events", events)):
            if value is None or value == "":
                raise missing_parameter(field)
        parsed = parse_events(events)
        name = _check_name(name)
        url = await self._check_url(url)
        if not parsed:
            raise invalid_parameter(
                f"Webhook events must be a non-empty list of WebhookEvent objects: {events}.")
        v.check_length("description", MAX_DESCRIPTION_LENGTH, description)
        now, webhook_id = now_ms(), str(uuid.uuid4())
        row: dict[str, Any] = {"webhook_id": webhook_id, "name": name, "url": url,
               "description": description or None, "status": _status(status) or "ACTIVE",
               "secret": self.box.seal(secret) if secret else None,
               "creation_timestamp": now, "last_updated_timestamp": now}

        def work(conn: Connection) -> Webhook:
            store.insert(conn, row, parsed)
            return _require(store.get(conn, webhook_id), webhook_id)

        return await self.db.write(work)

    async def get(self, webhook_id: str) -> Webhook:
        return _require(await self.db.read(lambda conn: store.get(conn, webhook_id)), webhook_id)

    async def list(self, max_results: int | None, page_token: str | None
                   ) -> tuple[list[Webhook], str | None]:
        limit = max_results or DEFAULT_PAGE
        if not 1 <= limit <= 1000:
            raise invalid_parameter("max_results must be between 1 and 1000.")
        offset = _offset(page_token)
        found = await self.db.read(lambda conn: store.page(conn, offset, limit + 1))
        if len(found) <= limit:
            return found, None
        token = base64.b64encode(json.dumps({"offset": offset + limit}).encode()).decode()
        return found[:limit], token

    async def update(self, webhook_id: str, fields: dict[str, Any]) -> Webhook:
        values: dict[str, Any] = {}
        events: list[Event] | None = None
        name, url, raw_events = fields.get("name"), fields.get("url"), fields.get("events")
        if raw_events:
            events = parse_events(raw_events)
        await self.get(webhook_id)  # an unknown id is reported before bad fields
        if name:
            values["name"] = _check_name(name)
        if url:
            values["url"] = await self._check_url(url)
        if fields.get("description") is not None:
            values["description"] = v.check_length(
                "description", MAX_DESCRIPTION_LENGTH, fields["description"]) or ""
        if fields.get("secret") is not None:
            values["secret"] = self.box.seal(fields["secret"]) if fields["secret"] else None
        if (status := _status(fields.get("status"))) is not None:
            values["status"] = status
        values["last_updated_timestamp"] = now_ms()

        def work(conn: Connection) -> Webhook:
            _require(store.get(conn, webhook_id, lock=True), webhook_id)
            store.update(conn, webhook_id, values)
            if events:
                store.replace_events(conn, webhook_id, events)
            return _require(store.get(conn, webhook_id), webhook_id)

        return await self.db.write(work)

    async def delete(self, webhook_id: str) -> None:
        def work(conn: Connection) -> None:
            _require(store.get(conn, webhook_id, lock=True), webhook_id)
            now = now_ms()
            store.update(conn, webhook_id, {"deleted_timestamp": now,
                                            "last_updated_timestamp": now})

        await self.db.write(work)

    async def test(self, webhook_id: str, raw_event: object) -> TestResult:
        event = parse_event(raw_event) if raw_event is not None else None
        webhook = await self.get(webhook_id)
        chosen = event or webhook.events[0]
        secret = None
        if webhook.encrypted_secret:
            secret = self.box.open(webhook.encrypted_secret)
            if secret is None:
                return TestResult(False, error_message=(
                    "Failed to test webhook: its secret was encrypted under another "
                    "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY"))
        try:
            reply = await asyncio.to_thread(send, webhook.url, chosen, example_payload(chosen),
                                            secret, self.settings)
        except Exception as exc:
            return TestResult(False, error_message=f"Failed to test webhook: {exc!r}")
        return TestResult(reply.status < 400, reply.status, reply.body)
