"""Metric points."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# SQL has no infinity: MLflow stores +-inf as the largest finite doubles, and NaN as 0 with
# is_nan set. trackd keeps exactly that representation, so both servers read the same rows.
MAX_DOUBLE = 1.7976931348623157e308
isfinite = math.isfinite


def metric_value_out(value: float) -> float | str:
    """MLflow's JSON for doubles: non-finite values travel as strings (protobuf JSON rules)."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def history_json(key: str, rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """``get-history``'s points from stored ``(timestamp, step, value, is_nan)`` rows, as
    ``Metric(...).to_json()`` would write them: one comprehension instead of a Metric and two
    calls per point (a 25,000-point page spent more here than in encoding the JSON)."""
    return [
        {
            "key": key,
            # Stored values are finite unless the row is a NaN; the general mapping is kept
            # for infinities that a database outside MLflow's own writes may hold.
            "value": "NaN" if nan else value if isfinite(value) else metric_value_out(value),
            "timestamp": ts,
            "step": step,
        }
        for ts, step, value, nan in rows
    ]


def to_stored(value: float) -> tuple[float, bool]:
    """(value, is_nan) as the metrics tables hold them."""
    if math.isnan(value):
        return 0.0, True
    if math.isinf(value):
        return (MAX_DOUBLE if value > 0 else -MAX_DOUBLE), False
    return value, False


def from_stored(value: float, is_nan: int) -> float:  # bool, or 0/1 from the driver
    return math.nan if is_nan else value


@dataclass(slots=True)
class Metric:
    key: str
    value: float
    timestamp: int
    step: int
    run_id: str | None = None
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "value": metric_value_out(self.value),
            "timestamp": self.timestamp,
            "step": self.step,
        }
        if self.run_id is not None:
            out["run_id"] = self.run_id
        if self.model_id is not None:
            out["model_id"] = self.model_id
        if self.dataset_name is not None:
            out["dataset_name"] = self.dataset_name
        if self.dataset_digest is not None:
            out["dataset_digest"] = self.dataset_digest
        return out
