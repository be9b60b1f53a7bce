"""Review queues (MLflow 3.18): a named worklist of traces with its reviewers and questions, as
the ``review_queues`` tables hold them (lower-case kinds) and as MLflow's protobuf JSON writes
them (upper-case enum names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

QUEUE_TYPES = ("user", "custom")
STATUSES = ("pending", "complete", "declined")
ITEM_TYPES = ("trace",)

# MLflow keeps this name for the default user queue of a server without auth.
RESERVED_NAME = "default"
MAX_USERS = 10
NAME_MAX = 250  # the column width of review_queues.name (and of a user id)
SCHEMA_ID_MAX = 36
ITEM_ID_MAX = 50


@dataclass
class ReviewQueue:
    queue_id: str
    experiment_id: int
    name: str
    queue_type: str
    created_ms: int
    updated_ms: int
    created_by: str | None = None
    users: list[str] = field(default_factory=list)
    schema_ids: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "queue_id": self.queue_id, "experiment_id": str(self.experiment_id),
            "name": self.name, "queue_type": self.queue_type.upper(),
            "creation_time_ms": self.created_ms, "last_update_time_ms": self.updated_ms,
        }
        if self.created_by is not None:
            out["created_by"] = self.created_by
        if self.users:  # protobuf JSON leaves out an empty repeated field
            out["users"] = list(self.users)
        if self.schema_ids:
            out["schema_ids"] = list(self.schema_ids)
        return out


@dataclass
class ReviewItem:
    queue_id: str
    item_id: str
    item_type: str
    status: str
    created_ms: int
    updated_ms: int
    completed_by: str | None = None
    completed_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "queue_id": self.queue_id, "item_id": self.item_id,
            "item_type": self.item_type.upper(), "status": self.status.upper(),
            "creation_time_ms": self.created_ms, "last_update_time_ms": self.updated_ms,
        }
        if self.completed_by is not None:
            out["completed_by"] = self.completed_by
        if self.completed_ms is not None:
            out["completed_time_ms"] = self.completed_ms
        return out
