"""MLflow 3 logged models, with the JSON shape MLflow 3.18's server sends.

The database keeps the status as an integer (0-3, MLflow's ``LoggedModelStatus.to_int``); the
wire carries the proto enum names. Fields stored as NULL are left out of the JSON and ones
stored as ``""`` are sent as ``""`` (the stock server stores the client's empty ``model_type``,
so every model it created says ``"model_type": ""``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from trackd.entities.common import tags_json
from trackd.entities.metrics import Metric
from trackd.errors import invalid_parameter

# Proto enum names by stored integer, and the names the search filter accepts for each.
STATUS_NAMES = {
    0: "LOGGED_MODEL_STATUS_UNSPECIFIED",
    1: "LOGGED_MODEL_PENDING",
    2: "LOGGED_MODEL_READY",
    3: "LOGGED_MODEL_UPLOAD_FAILED",
}
_FILTER_STATUS = {"UNSPECIFIED": 0, "PENDING": 1, "READY": 2, "FAILED": 3}
STATUS_PENDING = 1

# register_model appends {name, version} entries to this tag of the logged model.
MODEL_VERSIONS_TAG = "mlflow.modelVersions"


def status_from_wire(value: object) -> int:
    """A status as a request spells it: the proto enum name or its number."""
    if isinstance(value, bool):
        raise invalid_parameter(f"Invalid value {value!r} for parameter 'status' supplied.")
    if isinstance(value, int) and value in STATUS_NAMES:
        return value
    if isinstance(value, str):
        for number, name in STATUS_NAMES.items():
            if value == name or value == str(number):
                return number
    raise invalid_parameter(f"Unknown model status: {value}")


def status_from_filter(value: object) -> int:
    """A status in a search filter: MLflow's short names (``READY``); proto names also work."""
    if isinstance(value, str):
        if value in _FILTER_STATUS:
            return _FILTER_STATUS[value]
        for number, name in STATUS_NAMES.items():
            if value == name:
                return number
    raise invalid_parameter(f"Unknown model status in filter: {value!r}")


@dataclass
class LoggedModel:
    model_id: str
    experiment_id: int
    name: str
    artifact_location: str
    creation_timestamp_ms: int
    last_updated_timestamp_ms: int
    status: int
    lifecycle_stage: str | None
    model_type: str | None
    source_run_id: str | None
    status_message: str | None
    tags: list[tuple[str, str]] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)

    def registrations(self) -> list[dict[str, str]]:
        """Registry versions made from this model, read from ``mlflow.modelVersions``."""
        raw = dict(self.tags).get(MODEL_VERSIONS_TAG)
        if not raw:
            return []
        try:
            entries = json.loads(raw)
        except ValueError:
            return []
        seen: list[dict[str, str]] = []
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and "name" in entry and "version" in entry:
                item = {"name": str(entry["name"]), "version": str(entry["version"])}
                if item not in seen:
                    seen.append(item)
        return seen

    def to_json(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "model_id": self.model_id,
            "experiment_id": str(self.experiment_id),
            "name": self.name,
            "creation_timestamp_ms": self.creation_timestamp_ms,
            "last_updated_timestamp_ms": self.last_updated_timestamp_ms,
            "artifact_uri": self.artifact_location,
            "status": STATUS_NAMES.get(self.status, STATUS_NAMES[0]),
        }
        for name in ("model_type", "source_run_id", "status_message"):
            value = getattr(self, name)
            if value is not None:
                info[name] = value
        if self.tags:
            info["tags"] = tags_json(self.tags)
        registrations = self.registrations()
        if registrations:
            info["registrations"] = registrations
        data: dict[str, Any] = {}
        if self.params:
            data["params"] = tags_json(self.params)
        if self.metrics:
            data["metrics"] = [m.to_json() for m in self.metrics]
        return {"info": info, "data": data}
