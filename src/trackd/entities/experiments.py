"""Experiment records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trackd.entities.common import tags_json

ACTIVE = "active"
DELETED = "deleted"
DEFAULT_WORKSPACE = "default"
# ViewType of searches, in the order of their protobuf numbers (1, 2, 3).
VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")


@dataclass
class Experiment:
    experiment_id: int
    name: str
    artifact_location: str | None
    lifecycle_stage: str
    creation_time: int | None
    last_update_time: int | None
    tags: list[tuple[str, str | None]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "experiment_id": str(self.experiment_id),
            "name": self.name,
            "artifact_location": self.artifact_location or "",
            "lifecycle_stage": self.lifecycle_stage,
        }
        if self.last_update_time is not None:
            out["last_update_time"] = self.last_update_time
        if self.creation_time is not None:
            out["creation_time"] = self.creation_time
        if self.tags:
            out["tags"] = tags_json(self.tags)
        out["workspace"] = DEFAULT_WORKSPACE
        return out
