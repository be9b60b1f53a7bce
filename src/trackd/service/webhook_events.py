"""Registry events and their delivery to webhooks, after the commit and off the request path.

The registry services call :meth:`EventSink.emit` once their transaction has committed; the
:class:`WebhookDispatcher` hands the event to a bounded pool of threads
(``MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS``), which looks up the subscribed ACTIVE webhooks and
sends each one its request. A request never waits for a receiver, and a receiver that is slow
or down costs only a worker. Payloads are MLflow's (``mlflow.webhooks.types``); whether a
model is a prompt decides between the model and the prompt events, as in mlflow server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from trackd.entities.registry import IS_PROMPT_TAG
from trackd.entities.webhooks import Event, Webhook, event_name
from trackd.service.webhook_config import SecretBox, WebhookSettings
from trackd.service.webhook_delivery import send
from trackd.store import webhooks as store
from trackd.store.database import Database

log = logging.getLogger("trackd.webhooks")

PROMPT_TEXT_TAG = "mlflow.prompt.text"
PROMPT_TYPE_TAG = "_mlflow_prompt_type"
MAX_PENDING = 10_000  # events and deliveries queued beyond this are dropped (and counted)

Outcome = Callable[[str, str], None]  # (event name, outcome) -> None


class EventSink(Protocol):
    def emit(self, event: Event, data: dict[str, Any]) -> None: ...


class NullSink:
    def emit(self, event: Event, data: dict[str, Any]) -> None:
        return None


NULL_SINK = NullSink()


# -- payloads (the services call these with what they have just committed) ------------------


def _is_prompt(tags: Sequence[tuple[str, str]]) -> bool:
    return dict(tags).get(IS_PROMPT_TAG, "false").lower() == "true"


def model_created(name: str, tags: Sequence[tuple[str, str]], description: str | None
                  ) -> tuple[Event, dict[str, Any]]:
    if _is_prompt(tags):
        hidden = {IS_PROMPT_TAG, PROMPT_TYPE_TAG}
        return ("prompt", "created"), {"name": name, "tags": {
            k: v for k, v in tags if k not in hidden}, "description": description}
    return ("registered_model", "created"), {
        "name": name, "tags": dict(tags), "description": description}


def version_created(name: str, version: int, source: str | None, run_id: str | None,
                    tags: Sequence[tuple[str, str]], description: str | None
                    ) -> tuple[Event, dict[str, Any]]:
    if _is_prompt(tags):
        rest = dict(tags)
        template = rest.pop(PROMPT_TEXT_TAG, None)
        rest.pop(IS_PROMPT_TAG, None)
        rest.pop(PROMPT_TYPE_TAG, None)
        return ("prompt_version", "created"), {
            "name": name, "version": str(version), "template": template, "tags": rest,
            "description": description or None}
    return ("model_version", "created"), {
        "name": name, "version": str(version), "source": source, "run_id": run_id or None,
        "tags": dict(tags), "description": description or None}


def tagged(prompt: bool, model_level: bool, action: str, data: dict[str, Any]
           ) -> tuple[Event, dict[str, Any]] | None:
    """Tag set/deleted: a registered model's own tags fire only for prompts."""
    if model_level:
        return (("prompt_tag", action), data) if prompt else None
    return (("prompt_version_tag" if prompt else "model_version_tag", action), data)


def aliased(prompt: bool, action: str, data: dict[str, Any]) -> tuple[Event, dict[str, Any]]:
    return ("prompt_alias" if prompt else "model_version_alias", action), data


def emit(sink: EventSink, found: tuple[Event, dict[str, Any]] | None) -> None:
    if found is not None:
        sink.emit(*found)


# -- delivery -----------------------------------------------------------------------------


class WebhookDispatcher:
    def __init__(self, db: Database, settings: WebhookSettings, box: SecretBox) -> None:
        self.db = db
        self.settings = settings
        self.box = box
        self.on_outcome: Outcome | None = None  # set by observability: a Prometheus counter
        self._pool = ThreadPoolExecutor(settings.max_workers,
                                        thread_name_prefix="trackd-webhook")
        self._pending = 0
        self._lock = threading.Lock()

    def emit(self, event: Event, data: dict[str, Any]) -> None:
        self._submit(event, self._fan_out, event, data)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _submit(self, event: Event, fn: Callable[..., None], *args: Any) -> None:
        with self._lock:
            if self._pending >= MAX_PENDING:
                full = True
            else:
                full = False
                self._pending += 1
        if full:
            log.error("webhook queue full: %s dropped", event_name(event))
            self._record(event, "dropped")
            return

        def run() -> None:
            try:
                fn(*args)
            except Exception:  # a worker must survive anything one event does
                log.exception("webhook work for %s failed", event_name(event))
            finally:
                with self._lock:
                    self._pending -= 1

        try:
            self._pool.submit(run)
        except RuntimeError:  # shutting down
            with self._lock:
                self._pending -= 1

    def _fan_out(self, event: Event, data: dict[str, Any]) -> None:
        for webhook in self.db.read_sync(lambda conn: store.by_event(conn, event)):
            self._submit(event, self.deliver, webhook, event, data)

    def deliver(self, webhook: Webhook, event: Event, data: dict[str, Any]) -> None:
        name = event_name(event)
        secret: str | None = None
        if webhook.encrypted_secret:
            secret = self.box.open(webhook.encrypted_secret)
            if secret is None:
                log.error("webhook %s (%s): its secret was encrypted under another key "
                          "(MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY); %s not sent",
                          webhook.webhook_id, webhook.name, name)
                self._record(event, "secret_unreadable")
                return
        try:
            reply = send(webhook.url, event, data, secret, self.settings)
        except Exception as exc:
            log.warning("webhook %s (%s): %s to %s failed: %r", webhook.webhook_id,
                        webhook.name, name, webhook.url, exc)
            self._record(event, "error")
            return
        outcome = "delivered" if reply.status < 400 else "failed"
        log.info("webhook %s (%s): %s to %s answered %d after %d attempt(s)",
                 webhook.webhook_id, webhook.name, name, webhook.url, reply.status,
                 reply.attempts)
        self._record(event, outcome)

    def _record(self, event: Event, outcome: str) -> None:
        if self.on_outcome is not None:
            self.on_outcome(event_name(event), outcome)
