"""Model-registry records (registered models, model versions) with their MLflow JSON shapes.

The shapes follow what MLflow 3.18's server puts on the wire (mlflow-api.md §3.1 and the live
captures): versions travel as strings, empty lists are left out, a model version always carries
``current_stage`` and the ``description``/``run_link``/``run_id`` it was stored with (MLflow's
handler stores ``""`` for absent ones, so they come back as ``""``), while a registered model
leaves out an empty description.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trackd.entities.common import tags_json
from trackd.errors import invalid_parameter

STAGE_NONE = "None"
STAGE_STAGING = "Staging"
STAGE_PRODUCTION = "Production"
STAGE_ARCHIVED = "Archived"
ALL_STAGES = (STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED)
# Stages whose current holders may be archived by a transition (archive_existing_versions).
ACTIVE_STAGES = (STAGE_STAGING, STAGE_PRODUCTION)
# MLflow deletes a model version by parking it in this stage (with its fields redacted), so
# that its number is never handed out again; every read must skip such rows.
STAGE_DELETED_INTERNAL = "Deleted_Internal"

STATUS_READY = "READY"
MODEL_VERSION_STATUSES = ("PENDING_REGISTRATION", "FAILED_REGISTRATION", "READY")

# Prompts are registered models (and versions) carrying this tag.
IS_PROMPT_TAG = "mlflow.prompt.is_prompt"

_STAGE_BY_LOWER = {stage.lower(): stage for stage in ALL_STAGES}


def canonical_stage(stage: str) -> str:
    """MLflow accepts stage names in any case and stores the canonical spelling."""
    found = _STAGE_BY_LOWER.get(stage.lower())
    if found is None:
        raise invalid_parameter(
            f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(ALL_STAGES)}."
        )
    return found


@dataclass
class ModelVersion:
    name: str
    version: int
    creation_time: int | None
    last_updated_time: int | None
    description: str | None = None
    user_id: str | None = None
    current_stage: str | None = STAGE_NONE
    source: str | None = None
    run_id: str | None = None
    status: str | None = STATUS_READY
    status_message: str | None = None
    run_link: str | None = None
    storage_location: str | None = None
    tags: list[tuple[str, str | None]] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)

    @property
    def download_uri(self) -> str:
        """Where the client fetches the files: the resolved location, else the source itself."""
        return self.storage_location or self.source or ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "version": str(self.version),
            "creation_timestamp": self.creation_time or 0,
        }
        if self.last_updated_time is not None:
            out["last_updated_timestamp"] = self.last_updated_time
        if self.user_id is not None:
            out["user_id"] = self.user_id
        out["current_stage"] = self.current_stage or STAGE_NONE
        if self.description is not None:
            out["description"] = self.description
        if self.source is not None:
            out["source"] = self.source
        if self.run_id is not None:
            out["run_id"] = self.run_id
        out["status"] = self.status or STATUS_READY
        if self.status_message:
            out["status_message"] = self.status_message
        if self.tags:
            out["tags"] = tags_json(self.tags)
        if self.run_link is not None:
            out["run_link"] = self.run_link
        if self.aliases:
            out["aliases"] = list(self.aliases)
        return out


@dataclass
class RegisteredModel:
    name: str
    creation_time: int | None
    last_updated_time: int | None
    description: str | None = None
    latest_versions: list[ModelVersion] = field(default_factory=list)
    tags: list[tuple[str, str | None]] = field(default_factory=list)
    aliases: list[tuple[str, int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.creation_time is not None:
            out["creation_timestamp"] = self.creation_time
        if self.last_updated_time:
            out["last_updated_timestamp"] = self.last_updated_time
        if self.description:
            out["description"] = self.description
        if self.latest_versions:
            # Versions inside a model carry no aliases: the model lists them itself.
            out["latest_versions"] = [
                {k: v for k, v in mv.to_json().items() if k != "aliases"}
                for mv in self.latest_versions
            ]
        if self.tags:
            out["tags"] = tags_json(self.tags)
        if self.aliases:
            out["aliases"] = [{"alias": a, "version": str(v)} for a, v in self.aliases]
        return out
