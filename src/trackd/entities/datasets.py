"""Evaluation datasets (MLflow 3 GenAI): a named set of records, each ``inputs`` with optional
``outputs``, ``expectations`` (ground truth), ``tags`` and a ``source``.

The REST shape is MLflow's ``Dataset`` proto as JSON, where ``tags``, ``schema`` and ``profile``
travel as JSON *text*; records travel as one JSON text too (a list of record objects), shaped
as MLflow's ``DatasetRecord.to_dict`` writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Record sources MLflow accepts (``DatasetRecordSourceType``), as stored.
SOURCE_TYPES = ("UNSPECIFIED", "TRACE", "HUMAN", "DOCUMENT", "CODE")
# MLflow wraps outputs under this key in the JSON column, so that any JSON value fits.
WRAPPED_OUTPUT_KEY = "mlflow_wrapped"
USER_TAG = "mlflow.user"


@dataclass
class EvaluationDataset:
    dataset_id: str
    name: str
    digest: str
    created_time: int
    last_update_time: int
    tags: dict[str, str | None] = field(default_factory=dict)
    schema: str | None = None
    profile: str | None = None
    created_by: str | None = None
    last_updated_by: str | None = None
    # Set only where MLflow's answer carries them (create); other answers leave them out.
    experiment_ids: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dataset_id": self.dataset_id,
            "name": self.name,
            "tags": json.dumps(self.tags),
        }
        if self.schema is not None:
            out["schema"] = self.schema
        if self.profile is not None:
            out["profile"] = self.profile
        out |= {"digest": self.digest, "created_time": self.created_time,
                "last_update_time": self.last_update_time}
        if self.created_by is not None:
            out["created_by"] = self.created_by
        if self.last_updated_by is not None:
            out["last_updated_by"] = self.last_updated_by
        if self.experiment_ids:
            out["experiment_ids"] = self.experiment_ids
        return out


@dataclass
class DatasetRecord:
    """One record as stored: ``outputs`` unwrapped, ``source`` as its dict or None."""

    dataset_record_id: str
    dataset_id: str
    inputs: Any
    created_time: int
    last_update_time: int
    outputs: Any = None
    expectations: dict[str, Any] | None = None
    tags: dict[str, Any] | None = None
    source: dict[str, Any] | None = None
    source_id: str | None = None
    created_by: str | None = None
    last_updated_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """MLflow's record dict: the proto's fields in their order, unset ones left out."""
        out: dict[str, Any] = {"dataset_record_id": self.dataset_record_id,
                               "dataset_id": self.dataset_id, "inputs": self.inputs}
        if self.expectations is not None:
            out["expectations"] = self.expectations
        out["tags"] = self.tags if self.tags is not None else {}
        source_type = None
        source_id = self.source_id
        if self.source is not None:
            out["source"] = self.source
            source_type = self.source.get("source_type")
            data = self.source.get("source_data") or {}
            if not source_id and isinstance(data, dict):
                # MLflow derives the id from the source when the column has none.
                source_id = data.get("trace_id" if source_type == "TRACE" else "source_id")
        if source_id is not None:
            out["source_id"] = source_id
        if source_type is not None:
            out["source_type"] = source_type
        out["created_time"] = self.created_time
        out["last_update_time"] = self.last_update_time
        if self.created_by is not None:
            out["created_by"] = self.created_by
        if self.last_updated_by is not None:
            out["last_updated_by"] = self.last_updated_by
        if self.outputs is not None:
            out["outputs"] = self.outputs
        return out
