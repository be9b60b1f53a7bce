"""Issues (MLflow 3.18): quality problems found in an experiment's traces, as the ``issues``
table holds them and as MLflow's protobuf JSON writes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("pending", "rejected", "resolved")
# Lowest to highest: MLflow's default search order puts the most severe first.
SEVERITIES = ("not_an_issue", "low", "medium", "high")


@dataclass
class Issue:
    issue_id: str
    experiment_id: int
    name: str
    description: str
    status: str
    created_ms: int
    updated_ms: int
    severity: str | None = None
    root_causes: list[str] = field(default_factory=list)
    source_run_id: str | None = None
    categories: list[str] = field(default_factory=list)
    created_by: str | None = None
    last_seen_ms: int | None = None
    last_updated_by: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    trace_count: int | None = None  # only when a search asks for it

    def to_json(self, *, basic: bool = False) -> dict[str, Any]:
        """Protobuf JSON: unset optional fields and empty lists/maps are left out.

        The ``basic`` view (search ``view=basic``) blanks the description and drops the root
        causes and metadata, as MLflow does to keep list pages small.
        """
        out: dict[str, Any] = {
            "issue_id": self.issue_id,
            "experiment_id": str(self.experiment_id),
            "name": self.name,
            "description": "" if basic else self.description,
            "status": self.status,
            "created_timestamp": self.created_ms,
            "last_updated_timestamp": self.updated_ms,
            # Rows written before the column existed fall back to their creation time.
            "last_seen_timestamp": self.last_seen_ms if self.last_seen_ms is not None
            else self.created_ms,
        }
        optional: dict[str, Any] = {
            "severity": self.severity, "source_run_id": self.source_run_id,
            "created_by": self.created_by, "last_updated_by": self.last_updated_by,
            "categories": self.categories or None, "trace_count": self.trace_count,
        }
        if not basic:
            optional["root_causes"] = self.root_causes or None
            optional["metadata"] = self.metadata or None
        out.update({k: v for k, v in optional.items() if v is not None})
        return out
