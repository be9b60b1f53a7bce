"""Traces as MLflow 3's REST API shows them (``TraceInfoV3`` in MLflow's protos).

Times travel as protobuf JSON: ``request_time`` an RFC 3339 timestamp
(``2026-12-03T23:56:01.579Z``), ``execution_duration`` a duration in seconds (``0.034s``).
trackd keeps them as milliseconds, the unit of MLflow's ``trace_info`` columns.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from trackd.errors import invalid_parameter

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATES = ("STATE_UNSPECIFIED", "OK", "ERROR", "IN_PROGRESS")
TRACE_NAME_TAG = "mlflow.traceName"
ARTIFACT_LOCATION_TAG = "mlflow.artifactLocation"
INFO_FINALIZED_METADATA = "mlflow.trace.infoFinalized"
SESSION_METADATA = "mlflow.trace.session"
TOKEN_USAGE_METADATA = "mlflow.trace.tokenUsage"
COST_METADATA = "mlflow.trace.cost"
SOURCE_RUN_METADATA = "mlflow.sourceRun"
# Metadata JSON key -> trace_info column (MLflow keeps these in columns, not rows).
TOKEN_COLUMNS = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "total_tokens": "total_tokens",
    "cache_read_input_tokens": "cache_read_input_tokens",
    "cache_creation_input_tokens": "cache_creation_input_tokens",
    "cache_creation_input_tokens_above_1hr": "cache_creation_input_tokens_above_1hr",
}
COST_COLUMNS = {"input_cost": "input_cost", "output_cost": "output_cost",
                "total_cost": "total_cost"}


@dataclass
class TraceInfo:
    trace_id: str
    experiment_id: int
    request_time_ms: int
    execution_ms: int | None
    state: str
    client_request_id: str | None = None
    request_preview: str | None = None
    response_preview: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    assessments: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"trace_id": self.trace_id}
        if self.client_request_id is not None:
            out["client_request_id"] = self.client_request_id
        out["trace_location"] = {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": str(self.experiment_id)},
        }
        out["request_time"] = timestamp_json(self.request_time_ms)
        if self.execution_ms is not None:
            out["execution_duration"] = duration_json(self.execution_ms)
        out["state"] = self.state
        if self.metadata:
            out["trace_metadata"] = self.metadata
        if self.tags:
            out["tags"] = self.tags
        if self.assessments:
            out["assessments"] = self.assessments
        if self.request_preview is not None:
            out["request_preview"] = self.request_preview
        if self.response_preview is not None:
            out["response_preview"] = self.response_preview
        return out


# Protobuf's Timestamp, the v3 API's time, spans the years 1 to 9999.
MIN_TIMESTAMP_MS = -62_135_596_800_000
MAX_TIMESTAMP_MS = 253_402_300_799_999


def check_timestamp_ms(name: str, ms: int) -> int:
    """A time a trace may be stored with: one the v3 API can write back."""
    if not MIN_TIMESTAMP_MS <= ms <= MAX_TIMESTAMP_MS:
        raise invalid_parameter(f"Invalid value {ms} for '{name}': expected a time between the "
                                "years 1 and 9999, in milliseconds since the epoch")
    return ms


def timestamp_json(ms: int) -> str:
    """Protobuf's JSON form of a timestamp: UTC, ``Z``, 3 fractional digits unless whole."""
    # A time beyond protobuf's range (stored by another server) is shown at the range's end,
    # rather than failing every page that lists its trace.
    ms = min(max(ms, MIN_TIMESTAMP_MS), MAX_TIMESTAMP_MS)
    moment = _second_json(ms // 1000)
    fraction = ms % 1000
    return f"{moment}.{fraction:03d}Z" if fraction else f"{moment}Z"


@lru_cache(maxsize=4096)
def _second_json(seconds: int) -> str:
    # Every trace of a search page or batchGet writes its start time; strftime costs more
    # than the rest of a trace's info, and a page's traces often share their seconds.
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def duration_json(ms: int) -> str:
    seconds, fraction = divmod(ms, 1000)
    return f"{seconds}.{fraction:03d}s" if fraction else f"{seconds}s"


def parse_timestamp(name: str, value: Any) -> int:
    """Milliseconds since the epoch from an RFC 3339 string (or a number of milliseconds)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return check_timestamp_ms(name, value)
    if not isinstance(value, str) or not value:
        raise invalid_parameter(f"Invalid value for '{name}': expected an RFC 3339 timestamp")
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise invalid_parameter(
            f"Invalid value for '{name}': '{value}' is not an RFC 3339 timestamp"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def parse_duration(name: str, value: Any) -> int | None:
    """Milliseconds from a protobuf duration string such as ``0.034s``."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str) or not value.endswith("s"):
        raise invalid_parameter(f"Invalid value for '{name}': expected a duration such as '1.5s'")
    try:
        seconds = float(value[:-1])
    except ValueError:
        raise invalid_parameter(
            f"Invalid value for '{name}': '{value}' is not a duration"
        ) from None
    if not seconds >= 0 or seconds > 1e12:
        raise invalid_parameter(f"Invalid value for '{name}': '{value}' is out of range")
    return round(seconds * 1000)


def json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# -- the metadata MLflow keeps in trace_info columns --------------------------------------


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    number = int(value)
    return number if -(2**63) <= number < 2**63 else None


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def promoted_columns(metadata: dict[str, str]) -> dict[str, Any]:
    """The metadata MLflow keeps in trace_info columns, removed from ``metadata``."""
    columns: dict[str, Any] = {}
    if SESSION_METADATA in metadata:
        columns["session_id"] = metadata.pop(SESSION_METADATA)[:250]
    if TOKEN_USAGE_METADATA in metadata:
        usage = json_object(metadata.pop(TOKEN_USAGE_METADATA))
        columns |= {col: _int_or_none(usage[k]) for k, col in TOKEN_COLUMNS.items() if k in usage}
    if COST_METADATA in metadata:
        cost = json_object(metadata.pop(COST_METADATA))
        columns |= {col: _float_or_none(cost[k]) for k, col in COST_COLUMNS.items() if k in cost}
    return columns


PROMOTED_COLUMNS = ("session_id", *TOKEN_COLUMNS.values(), *COST_COLUMNS.values())


def restored_metadata(columns: dict[str, Any]) -> dict[str, str]:
    """What a reader sees of those columns: MLflow's metadata keys, JSON as MLflow writes it."""
    # Most traces have none of them: found out in C, without a Python loop over the columns.
    if list(map(columns.get, PROMOTED_COLUMNS)).count(None) == len(PROMOTED_COLUMNS):
        return {}
    out: dict[str, str] = {}
    if columns.get("session_id") is not None:
        out[SESSION_METADATA] = columns["session_id"]
    usage = {k: columns[c] for k, c in TOKEN_COLUMNS.items() if columns.get(c) is not None}
    if usage:
        out[TOKEN_USAGE_METADATA] = json.dumps(usage)
    cost = {k: columns[c] for k, c in COST_COLUMNS.items() if columns.get(c) is not None}
    if cost:
        out[COST_METADATA] = json.dumps(cost)
    return out
