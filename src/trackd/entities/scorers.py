"""Registered scorers (MLflow 3 GenAI): an experiment's named judges, each registration a new
version holding the client's serialized scorer (JSON text trackd stores and never runs), plus
the online-scoring settings (sample rate, trace filter) of a scorer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ScorerVersion:
    experiment_id: int
    scorer_id: str
    name: str
    version: int
    serialized_scorer: str
    creation_time: int

    def to_json(self) -> dict[str, Any]:
        """MLflow's ``Scorer`` proto as JSON (``experiment_id`` is a number there)."""
        return {"experiment_id": self.experiment_id, "scorer_name": self.name,
                "scorer_version": self.version, "serialized_scorer": self.serialized_scorer,
                "creation_time": self.creation_time, "scorer_id": self.scorer_id}

    def registered_json(self) -> dict[str, Any]:
        """The register answer: other field names, ``experiment_id`` as a string."""
        return {"version": self.version, "scorer_id": self.scorer_id,
                "experiment_id": str(self.experiment_id), "name": self.name,
                "serialized_scorer": self.serialized_scorer,
                "creation_time": self.creation_time}


@dataclass
class OnlineScoringConfig:
    config_id: str
    scorer_id: str
    sample_rate: float
    experiment_id: int
    filter_string: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"online_scoring_config_id": self.config_id,
                               "scorer_id": self.scorer_id, "sample_rate": self.sample_rate,
                               "experiment_id": str(self.experiment_id)}
        if self.filter_string is not None:
            out["filter_string"] = self.filter_string
        return out
