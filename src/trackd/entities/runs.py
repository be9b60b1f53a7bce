"""Run records: info, data (latest metrics, params, tags), inputs and outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trackd.entities.common import tags_json
from trackd.entities.metrics import Metric

RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")


@dataclass
class RunInfo:
    run_id: str
    experiment_id: int
    run_name: str | None
    user_id: str | None
    status: str | None
    start_time: int | None
    end_time: int | None
    artifact_uri: str | None
    lifecycle_stage: str | None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "run_uuid": self.run_id,
            "experiment_id": str(self.experiment_id),
            "run_name": self.run_name or "",
            "user_id": self.user_id or "",
            "status": self.status or "RUNNING",
        }
        if self.start_time is not None:
            out["start_time"] = self.start_time
        if self.end_time is not None:
            out["end_time"] = self.end_time
        out["artifact_uri"] = self.artifact_uri or ""
        out["lifecycle_stage"] = self.lifecycle_stage or "active"
        out["run_id"] = self.run_id
        return out


@dataclass
class Dataset:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None
    profile: str | None

    def to_json(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "digest": self.digest,
            "source_type": self.source_type,
            "source": self.source,
        }
        if self.schema is not None:
            out["schema"] = self.schema
        if self.profile is not None:
            out["profile"] = self.profile
        return out


@dataclass
class DatasetInput:
    dataset: Dataset
    tags: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.tags:
            out["tags"] = tags_json(self.tags)
        out["dataset"] = self.dataset.to_json()
        return out


@dataclass
class Run:
    info: RunInfo
    metrics: list[Metric] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    tags: list[tuple[str, str | None]] = field(default_factory=list)
    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[str] = field(default_factory=list)
    model_outputs: list[tuple[str, int]] = field(default_factory=list)

    def to_json(self, *, with_outputs: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.metrics:
            data["metrics"] = [m.to_json() for m in self.metrics]
        if self.params:
            data["params"] = tags_json(self.params)
        if self.tags:
            data["tags"] = tags_json(self.tags)
        out: dict[str, Any] = {"info": self.info.to_json(), "data": data,
                               "inputs": self.inputs_json()}
        if with_outputs:
            out["outputs"] = self.outputs_json()
        return out

    def inputs_json(self) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        if self.dataset_inputs:
            inputs["dataset_inputs"] = [d.to_json() for d in self.dataset_inputs]
        if self.model_inputs:
            inputs["model_inputs"] = [{"model_id": m} for m in self.model_inputs]
        return inputs

    def outputs_json(self) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        if self.model_outputs:
            outputs["model_outputs"] = [{"model_id": m, "step": s} for m, s in self.model_outputs]
        return outputs
