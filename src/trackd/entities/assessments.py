"""Assessments (MLflow 3): feedback, expectations and issue references attached to a trace.

The REST shape is MLflow's ``Assessment`` proto as JSON: ``assessment_name``, ``source``
``{source_type, source_id}``, RFC 3339 ``create_time`` / ``last_update_time`` and exactly one
of ``feedback`` ``{value, error?}`` or ``expectation`` (``{value}`` for a plain value,
``{serialized_value: {serialization_format: JSON_FORMAT, value}}`` for lists and objects) or
``issue`` ``{issue_name}`` (``mlflow.log_issue``: the assessment's name is the issue's id).
In the ``assessments`` table the value is its JSON text, as MLflow stores it (an issue
reference: type ``issue``, value ``{"issue_name": ...}``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from trackd.entities.traces import timestamp_json

FEEDBACK, EXPECTATION, ISSUE = "feedback", "expectation", "issue"
SOURCE_TYPES = ("SOURCE_TYPE_UNSPECIFIED", "HUMAN", "LLM_JUDGE", "CODE")


@dataclass
class Assessment:
    assessment_id: str
    trace_id: str
    name: str
    kind: str  # feedback, expectation or issue
    value: Any
    source_type: str
    source_id: str | None
    created_ms: int
    updated_ms: int
    valid: bool = True
    error: dict[str, Any] | None = None
    rationale: str | None = None
    metadata: dict[str, str] | None = None
    span_id: str | None = None
    run_id: str | None = None
    overrides: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "assessment_id": self.assessment_id,
            "assessment_name": self.name,
            "trace_id": self.trace_id,
        }
        source: dict[str, Any] = {"source_type": self.source_type}
        if self.source_id is not None:
            source["source_id"] = self.source_id
        out["source"] = source
        out["create_time"] = timestamp_json(self.created_ms)
        out["last_update_time"] = timestamp_json(self.updated_ms)
        if self.kind == FEEDBACK:
            feedback: dict[str, Any] = {}
            if self.value is not None:
                feedback["value"] = self.value
            if self.error:
                feedback["error"] = self.error
            out["feedback"] = feedback
        elif self.kind == ISSUE:
            name = self.value.get("issue_name") if isinstance(self.value, dict) else None
            out["issue"] = {"issue_name": name if isinstance(name, str) else ""}
        elif isinstance(self.value, dict | list):
            out["expectation"] = {"serialized_value": {"serialization_format": "JSON_FORMAT",
                                                       "value": json.dumps(self.value)}}
        else:
            out["expectation"] = {"value": self.value}
        for key in ("rationale", "metadata", "span_id", "run_id", "overrides"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        out["valid"] = self.valid
        return out


def aggregate(value: Any) -> tuple[float | None, bool]:
    """MLflow's numeric summary of a value (``aggregate_value``, ``is_numeric_value``): numbers
    count as themselves, booleans and yes/no as 1/0 without being numeric."""
    if isinstance(value, bool):
        return (1.0 if value else 0.0), False
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return None, False
        return (number, True) if math.isfinite(number) else (None, False)
    if isinstance(value, str) and value.strip().lower() in ("yes", "no"):
        return (1.0 if value.strip().lower() == "yes" else 0.0), False
    return None, False
