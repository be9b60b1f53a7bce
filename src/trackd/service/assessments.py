"""Assessments on traces: MLflow 3.18's rules for creating, overriding, updating and deleting
feedback, expectations and issue references (``mlflow.log_feedback``, ``log_expectation``,
``log_issue``, ``override_feedback``, ``update_assessment``, ``delete_assessment``)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from sqlalchemy import Connection

from trackd.entities.assessments import EXPECTATION, FEEDBACK, ISSUE, SOURCE_TYPES, Assessment
from trackd.entities.traces import parse_timestamp
from trackd.errors import invalid_parameter, not_found
from trackd.service.validation import optional_string
from trackd.store import assessments as store
from trackd.store import traces as trace_store
from trackd.store.database import Database

# FieldMask paths, as protobuf's JSON writes them (camelCase) or as they are (snake_case).
_MASK_PATHS = {"assessmentName": "assessment_name", "assessment_name": "assessment_name",
               "feedback": "feedback", "expectation": "expectation", "rationale": "rationale",
               "metadata": "metadata", "valid": "valid"}


def _now_ms() -> int:
    return int(time.time() * 1000)


def _strings(name: str, value: Any) -> dict[str, str] | None:
    if value is None or value == {}:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid_parameter(f"Invalid value for '{name}': expected a map of strings")
    return {str(k): v for k, v in value.items()}


def _expectation_value(expectation: Any) -> Any:
    if not isinstance(expectation, dict):
        raise invalid_parameter("Invalid value for 'expectation': expected an object")
    serialized = expectation.get("serialized_value")
    if isinstance(serialized, dict):
        if serialized.get("serialization_format") not in (None, "JSON_FORMAT"):
            raise invalid_parameter("Only the JSON_FORMAT serialization of expectations is "
                                    "supported")
        try:
            return json.loads(serialized.get("value") or "null")
        except ValueError:
            raise invalid_parameter("expectation.serialized_value.value is not JSON") from None
    return expectation.get("value")


def _feedback(feedback: Any) -> tuple[Any, dict[str, Any] | None]:
    if not isinstance(feedback, dict):
        raise invalid_parameter("Invalid value for 'feedback': expected an object")
    error = feedback.get("error")
    if error is not None and not isinstance(error, dict):
        raise invalid_parameter("Invalid value for 'feedback.error': expected an object")
    if feedback.get("value") is None and not error:
        raise invalid_parameter("Either value or error must be provided for feedback.")
    return feedback.get("value"), error or None


def _issue_value(issue: Any) -> dict[str, str]:
    """An issue reference's stored value. MLflow keeps an absent name as "" (the proto
    default); the issue itself is not looked up, as in MLflow (the client checks it)."""
    if not isinstance(issue, dict):
        raise invalid_parameter("Invalid value for 'issue': expected an object")
    name = issue.get("issue_name")
    if name is not None and not isinstance(name, str):
        raise invalid_parameter("Invalid value for 'issue.issue_name': expected a string")
    return {"issue_name": name or ""}


def parse_new(trace_id: str, body: Any) -> Assessment:
    """An assessment as a create request (or a trace's start) sends it."""
    if not isinstance(body, dict):
        raise invalid_parameter("assessment is required")
    name = body.get("assessment_name")
    if not isinstance(name, str) or not name.strip():
        raise invalid_parameter("assessment.assessment_name is required")
    if len(name) > 250:
        raise invalid_parameter("assessment_name may be at most 250 characters")
    if sum(key in body for key in ("feedback", "expectation", "issue")) != 1:
        raise invalid_parameter(
            "Assessment must have either feedback, expectation, or issue value"
        )
    if "feedback" in body:
        kind = FEEDBACK
        value, error = _feedback(body["feedback"])
    elif "issue" in body:
        kind, value, error = ISSUE, _issue_value(body["issue"]), None
    else:
        kind, value, error = EXPECTATION, _expectation_value(body["expectation"]), None
    source = body.get("source") or {}
    if not isinstance(source, dict):
        raise invalid_parameter("Invalid value for 'source': expected an object")
    source_type = source.get("source_type") or "SOURCE_TYPE_UNSPECIFIED"
    if source_type not in SOURCE_TYPES:
        raise invalid_parameter(f"Invalid assessment source type '{source_type}'; expected one "
                                f"of {SOURCE_TYPES}")
    for field, limit, given in (("assessment_id", 50, body.get("assessment_id")),
                                ("source.source_id", 250, source.get("source_id")),
                                ("span_id", 50, body.get("span_id")),
                                ("run_id", 32, body.get("run_id")),
                                ("overrides", 50, body.get("overrides"))):
        if isinstance(given, str) and len(given) > limit:  # the width of its column
            raise invalid_parameter(f"Invalid value for '{field}': at most {limit} characters")
    now = _now_ms()
    created = body.get("create_time")
    updated = body.get("last_update_time")
    assessment_id = optional_string(body, "assessment_id") or f"a-{uuid.uuid4().hex}"
    return Assessment(
        assessment_id=assessment_id, trace_id=trace_id, name=name, kind=kind, value=value,
        source_type=source_type, source_id=optional_string(source, "source_id") or "default",
        created_ms=parse_timestamp("create_time", created) if created else now,
        updated_ms=parse_timestamp("last_update_time", updated) if updated else now,
        error=error, rationale=optional_string(body, "rationale"),
        metadata=_strings("metadata", body.get("metadata")),
        span_id=optional_string(body, "span_id"),
        run_id=optional_string(body, "run_id"), overrides=optional_string(body, "overrides"),
    )


def insert_new(conn: Connection, a: Assessment) -> None:
    """Store a new assessment; an override marks the overridden one invalid (MLflow's rule)."""
    found = trace_store.load_rows(conn, [a.trace_id])
    if not found:
        raise not_found(f"Trace with ID {a.trace_id} is not found.")
    columns = found[0][0]
    if a.overrides and store.set_valid(conn, a.trace_id, a.overrides, False) == 0:
        raise not_found(f"Assessment with ID '{a.overrides}' not found for trace '{a.trace_id}'")
    store.insert(conn, a, int(columns["experiment_id"]), int(columns["timestamp_ms"]))


class AssessmentService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, trace_id: str, body: Any) -> Assessment:
        assessment = parse_new(trace_id, body)

        def work(conn: Connection) -> Assessment:
            insert_new(conn, assessment)
            return self._require(conn, trace_id, assessment.assessment_id)

        return await self.db.write(work)

    async def get(self, trace_id: str, assessment_id: str) -> Assessment:
        return await self.db.read(lambda conn: self._require(conn, trace_id, assessment_id))

    async def update(self, trace_id: str, assessment_id: str, body: Any,
                     mask: str | list[str] | None) -> Assessment:
        if not isinstance(body, dict):
            raise invalid_parameter("assessment is required")
        raw_paths = mask.split(",") if isinstance(mask, str) else (mask or [])
        paths = {_MASK_PATHS.get(str(p).strip(), str(p).strip()) for p in raw_paths if p}
        unknown = paths - set(_MASK_PATHS.values())
        if unknown:
            raise invalid_parameter(f"Invalid update_mask path(s): {sorted(unknown)}")
        if {"feedback", "expectation"} <= paths:
            raise invalid_parameter("Cannot specify both `expectation` and `feedback` "
                                    "parameters.")

        def work(conn: Connection) -> Assessment:
            current = self._require(conn, trace_id, assessment_id)
            if "expectation" in paths:
                if current.kind != EXPECTATION:
                    raise invalid_parameter(
                        "Cannot update expectation value on a Feedback assessment.")
                current.value = _expectation_value(body.get("expectation"))
            if "feedback" in paths:
                if current.kind != FEEDBACK:
                    raise invalid_parameter(
                        "Cannot update feedback value on an Expectation assessment.")
                current.value, current.error = _feedback(body.get("feedback"))
            if "assessment_name" in paths:
                name = body.get("assessment_name")
                if not isinstance(name, str) or not name.strip():
                    raise invalid_parameter("assessment_name must be a non-empty string")
                current.name = name
            # An issue reference's rationale is its explanation (mlflow server 3.18 fails with
            # a 500 here); an expectation has none.
            if "rationale" in paths and current.kind in (FEEDBACK, ISSUE):
                current.rationale = optional_string(body, "rationale")
            if "metadata" in paths:
                merged = dict(current.metadata or {})
                merged.update(_strings("metadata", body.get("metadata")) or {})
                current.metadata = merged or None
            if "valid" in paths and isinstance(body.get("valid"), bool):
                current.valid = body["valid"]
            current.updated_ms = _now_ms()
            store.update(conn, current)
            return current

        return await self.db.write(work)

    async def delete(self, trace_id: str, assessment_id: str) -> None:
        def work(conn: Connection) -> None:
            if trace_store.experiment_of(conn, trace_id) is None:
                raise not_found(f"Trace with ID {trace_id} is not found.")
            found = store.get(conn, trace_id, assessment_id)
            if found is None:
                return  # MLflow: deleting what is not there is a no-op
            store.delete(conn, trace_id, assessment_id)
            if found.overrides:  # the assessment it had overridden counts again
                store.set_valid(conn, trace_id, found.overrides, True)

        await self.db.write(work)

    def _require(self, conn: Connection, trace_id: str, assessment_id: str) -> Assessment:
        found = store.get(conn, trace_id, assessment_id)
        if found is None:
            if trace_store.experiment_of(conn, trace_id) is None:
                raise not_found(f"Trace with ID {trace_id} is not found.")
            raise not_found(
                f"Assessment with ID '{assessment_id}' not found for trace '{trace_id}'"
            )
        return found
