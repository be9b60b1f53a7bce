"""Registry webhooks as MLflow 3.18 stores and serializes them (tables ``webhooks`` and
``webhook_events``; proto ``mlflow.webhooks.Webhook``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ACTIVE = "ACTIVE"
DISABLED = "DISABLED"
STATUSES = (ACTIVE, DISABLED)

# Every (entity, action) pair MLflow 3.18 accepts, lower case as stored in webhook_events and
# sent in payloads. budget_policy.exceeded belongs to MLflow's AI gateway, which trackd does
# not serve: a webhook may subscribe to it (a database shared with mlflow server may hold such
# webhooks) but trackd never fires it.
VALID_ACTIONS: dict[str, tuple[str, ...]] = {
    "registered_model": ("created",),
    "model_version": ("created",),
    "model_version_tag": ("set", "deleted"),
    "model_version_alias": ("created", "deleted"),
    "prompt": ("created",),
    "prompt_version": ("created",),
    "prompt_tag": ("set", "deleted"),
    "prompt_version_tag": ("set", "deleted"),
    "prompt_alias": ("created", "deleted"),
    "budget_policy": ("exceeded",),
}
ALL_ACTIONS = ("created", "updated", "deleted", "set", "exceeded")

Event = tuple[str, str]  # (entity, action), lower case


def event_name(event: Event) -> str:
    return f"{event[0]}.{event[1]}"


@dataclass
class Webhook:
    webhook_id: str
    name: str
    url: str
    events: list[Event]
    status: str
    creation_timestamp: int | None
    last_updated_timestamp: int | None
    description: str | None = None
    # The secret as stored (Fernet token); decrypted only when a delivery is signed.
    encrypted_secret: str | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"webhook_id": self.webhook_id, "name": self.name}
        if self.description:  # MLflow leaves an empty description out
            out["description"] = self.description
        out["url"] = self.url
        out["events"] = [{"entity": e.upper(), "action": a.upper()} for e, a in self.events]
        out["status"] = self.status
        out["creation_timestamp"] = self.creation_timestamp
        out["last_updated_timestamp"] = self.last_updated_timestamp
        return out


@dataclass
class TestResult:
    success: bool
    response_status: int | None = None
    response_body: str | None = None
    error_message: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"success": self.success}
        if self.response_status:
            out["response_status"] = self.response_status
        if self.response_body:
            out["response_body"] = self.response_body
        if self.error_message:
            out["error_message"] = self.error_message
        return out
