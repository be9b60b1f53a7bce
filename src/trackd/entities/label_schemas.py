"""Label schemas (MLflow 3.18): the questions a reviewer answers about a trace, as the
``label_schemas`` table holds them and as MLflow's protobuf JSON writes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

INPUT_KINDS = ("pass_fail", "categorical", "numeric", "text")
TYPES = ("feedback", "expectation")  # stored lower-case, sent as FEEDBACK / EXPECTATION

# Every experiment has one protected free-text question, made on first listing.
DEFAULT_NAME = "Feedback"
DEFAULT_INSTRUCTION = "Share any feedback on this trace."


@dataclass
class LabelSchema:
    schema_id: str
    experiment_id: int
    name: str
    type: str
    input_kind: str
    input_config: dict[str, Any]
    created_ms: int
    updated_ms: int
    instruction: str | None = None
    enable_comment: bool = False
    created_by: str | None = None
    is_default: bool = False

    def input_json(self) -> dict[str, Any]:
        c = self.input_config
        if self.input_kind == "pass_fail":
            body = {"positive_label": c.get("positive_label"),
                    "negative_label": c.get("negative_label")}
        elif self.input_kind == "categorical":
            body = {"options": list(c.get("options") or []),
                    "multi_select": bool(c.get("multi_select", False))}
        elif self.input_kind == "numeric":  # proto doubles: 5 goes out as 5.0
            body = {k: float(c[k]) for k in ("min_value", "max_value") if c.get(k) is not None}
        else:
            body = {"max_length": c["max_length"]} if c.get("max_length") is not None else {}
        return {self.input_kind: body}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema_id": self.schema_id, "experiment_id": str(self.experiment_id),
            "name": self.name, "type": self.type.upper(), "input": self.input_json(),
            "enable_comment": self.enable_comment, "created_at": self.created_ms,
            "last_updated_at": self.updated_ms, "is_default": self.is_default,
        }
        if self.instruction is not None:
            out["instruction"] = self.instruction
        if self.created_by is not None:
            out["created_by"] = self.created_by
        return out
