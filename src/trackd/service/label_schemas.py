"""Label schemas (MLflow 3.18 ``mlflow.genai.label_schemas``): MLflow's validation rules, the
protected default question every experiment gets, and the list's paging."""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from typing import Any

from sqlalchemy import Connection

from trackd.entities.label_schemas import (
    DEFAULT_INSTRUCTION,
    DEFAULT_NAME,
    INPUT_KINDS,
    LabelSchema,
)
from trackd.errors import already_exists, invalid_parameter, not_found
from trackd.service.validation import parse_experiment_id
from trackd.store import experiments as experiment_store
from trackd.store import label_schemas as store
from trackd.store.database import Database

_CLASS = {"pass_fail": "InputPassFail", "categorical": "InputCategorical",
          "numeric": "InputNumeric", "text": "InputText"}
_MAX_RESULTS = 50000


def _now_ms() -> int:
    return int(time.time() * 1000)


def parse_type(value: Any) -> str:
    # The proto enum: FEEDBACK = 1, EXPECTATION = 2; anything else reads as unset (0).
    by_wire = {"FEEDBACK": "feedback", "EXPECTATION": "expectation", 1: "feedback",
               2: "expectation"}
    found = by_wire.get(value) if isinstance(value, str | int) else None
    if found is None:
        raise invalid_parameter("Label schema `type` must be one of FEEDBACK or EXPECTATION; "
                                "got proto enum value 0.")
    return found


def parse_input(value: Any) -> tuple[str, dict[str, Any]]:
    """(input kind, its settings as ``input_config`` stores them) from the ``input`` oneof."""
    kinds = [k for k in INPUT_KINDS if isinstance(value, dict) and value.get(k) is not None]
    if len(kinds) != 1 or not isinstance(value[kinds[0]], dict):
        raise invalid_parameter("Label schema `input` must have exactly one of `pass_fail`, "
                                "`categorical`, `numeric`, or `text` set; got an empty oneof.")
    kind, body = kinds[0], value[kinds[0]]
    if kind == "pass_fail":
        config: dict[str, Any] = {"positive_label": body.get("positive_label", ""),
                                  "negative_label": body.get("negative_label", "")}
        _check_pass_fail(config)
    elif kind == "categorical":
        config = {"options": body.get("options", []),
                  "multi_select": body.get("multi_select", False)}
        _check_options(config["options"])
        if not isinstance(config["multi_select"], bool):
            raise invalid_parameter("`InputCategorical.multi_select` must be a bool; got "
                                    f"{type(config['multi_select']).__name__}.")
    elif kind == "numeric":
        config = {k: _number(k, body.get(k)) for k in ("min_value", "max_value")}
        low, high = config["min_value"], config["max_value"]
        if low is not None and high is not None and low >= high:
            raise invalid_parameter("`InputNumeric.min_value` must be strictly less than "
                                    f"`max_value`; got min={low}, max={high}.")
    else:
        config = {"max_length": _max_length(body.get("max_length"))}
    return kind, config


def _check_pass_fail(config: dict[str, Any]) -> None:
    for field in ("positive_label", "negative_label"):
        label = config[field]
        if not isinstance(label, str) or not label:
            raise invalid_parameter(
                f"`InputPassFail.{field}` must be a non-empty string; got {label!r}.")
        if len(label) > 64:
            raise invalid_parameter(f"`InputPassFail.{field}` must be at most 64 characters; "
                                    f"got {len(label)}.")
    if config["positive_label"] == config["negative_label"]:
        raise invalid_parameter("`InputPassFail.positive_label` and `negative_label` must be "
                                f"distinct; got {config['positive_label']!r} for both.")


def _check_options(options: Any) -> None:
    if not isinstance(options, list) or not options:
        raise invalid_parameter(
            f"`InputCategorical.options` must be a non-empty list; got {options!r}.")
    if len(options) > 10:
        raise invalid_parameter(
            f"`InputCategorical.options` must have at most 10 entries; got {len(options)}.")
    seen: set[str] = set()
    for opt in options:
        if not isinstance(opt, str) or not opt:
            raise invalid_parameter(
                f"`InputCategorical.options` entries must be non-empty strings; got {opt!r}.")
        if len(opt) > 64:
            raise invalid_parameter("`InputCategorical.options` entries must be at most 64 "
                                    f"characters; got {len(opt)} for {opt!r}.")
        if opt in seen:
            raise invalid_parameter(
                f"`InputCategorical.options` must be deduplicated; {opt!r} appears twice.")
        seen.add(opt)


def _number(field: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid_parameter(f"`InputNumeric.{field}` must be numeric or None; got "
                                f"{type(value).__name__}.")
    return float(value)


def _max_length(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)  # protobuf JSON may carry an int32 as a string
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_parameter(
            f"`InputText.max_length` must be an int or None; got {type(value).__name__}.")
    if value < 1:
        raise invalid_parameter(f"`InputText.max_length` must be at least 1; got {value}.")
    return value


def check_name(name: str) -> str:
    if len(name) > 250:
        raise invalid_parameter(
            f"Label schema `name` must be at most 250 characters; got {len(name)}.")
    if name.strip().lower() == DEFAULT_NAME.lower():
        raise invalid_parameter(f"`{name}` is reserved for the experiment's default question "
                                "and cannot be used for another label schema.")
    return name


def check_instruction(instruction: str | None) -> None:
    if instruction is not None and len(instruction) > 1000:
        raise invalid_parameter("Label schema `instruction` must be at most 1000 characters; "
                                f"got {len(instruction)}.")


def mlflow_offset(token: str | None) -> int:
    """MLflow's list token: base64 of ``{"offset": n}`` (kept, so paging survives a swap)."""
    if not token:
        return 0
    try:
        decoded = base64.b64decode(token)
    except (binascii.Error, ValueError):
        raise invalid_parameter("Invalid page token, could not base64-decode") from None
    try:
        offset = json.loads(decoded).get("offset")
    except (ValueError, AttributeError):
        raise invalid_parameter(f"Invalid page token, decoded value={decoded!r}") from None
    if type(offset) is not int or offset < 0:
        raise invalid_parameter(f"Invalid page token, decoded value={decoded!r}")
    return offset


def mlflow_token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def _require_experiment(conn: Connection, experiment_id: int, raw: str) -> None:
    state = experiment_store.experiment_state(conn, experiment_id)
    if state is None or state[0] != "active":
        raise not_found(f"No Experiment with id={raw} exists")


def _default_schema(experiment_id: int) -> LabelSchema:
    now = _now_ms()
    return LabelSchema(schema_id=f"ls-{uuid.uuid4().hex}", experiment_id=experiment_id,
                       name=DEFAULT_NAME, type="feedback", input_kind="text",
                       input_config={"max_length": None}, created_ms=now, updated_ms=now,
                       instruction=DEFAULT_INSTRUCTION, is_default=True)


class LabelSchemaService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, experiment_id: str, name: str, type_: Any, input_: Any,
                     instruction: str | None, enable_comment: bool) -> LabelSchema:
        kind_type = parse_type(type_)
        kind, config = parse_input(input_)
        check_name(name)
        check_instruction(instruction)
        exp = parse_experiment_id(experiment_id)
        now = _now_ms()
        schema = LabelSchema(schema_id=f"ls-{uuid.uuid4().hex}", experiment_id=exp, name=name,
                             type=kind_type, input_kind=kind, input_config=config,
                             created_ms=now, updated_ms=now, instruction=instruction,
                             enable_comment=enable_comment)

        def work(conn: Connection) -> LabelSchema:
            _require_experiment(conn, exp, experiment_id)
            if store.by_name(conn, exp, name) is not None:
                raise already_exists(f"Label schema with name '{name}' already exists for "
                                     f"experiment '{experiment_id}'.")
            store.insert(conn, schema)
            return schema

        return await self.db.write(work)

    async def get(self, schema_id: str) -> LabelSchema:
        found = await self.db.read(lambda conn: store.get(conn, schema_id))
        if found is None:
            raise not_found(f"Label schema with id '{schema_id}' not found.")
        return found

    async def get_by_name(self, experiment_id: str, name: str) -> LabelSchema:
        exp = parse_experiment_id(experiment_id)

        def work(conn: Connection) -> LabelSchema | None:
            _require_experiment(conn, exp, experiment_id)
            return store.by_name(conn, exp, name)

        found = await self.db.read(work)
        if found is None:
            raise not_found(
                f"Label schema with name '{name}' not found for experiment '{experiment_id}'.")
        return found

    async def list_schemas(self, experiment_id: str, max_results: int | None,
                   page_token: str | None) -> tuple[list[LabelSchema], str | None]:
        limit = 100 if max_results is None else max_results
        if not 1 <= limit <= _MAX_RESULTS:
            raise invalid_parameter(f"max_results must be between 1 and {_MAX_RESULTS}. See the "
                                    "API docs for more information about request parameters.")
        offset = mlflow_offset(page_token)
        exp = parse_experiment_id(experiment_id)

        def work(conn: Connection) -> tuple[list[LabelSchema], str | None]:
            _require_experiment(conn, exp, experiment_id)
            # Listing is where MLflow seeds the default question, so every experiment shows
            # at least one; a write transaction, then, like MLflow's.
            if not store.has_default(conn, exp) and store.by_name(conn, exp, DEFAULT_NAME) is None:
                store.insert(conn, _default_schema(exp))
            rows = store.page(conn, exp, offset, limit + 1)
            token = mlflow_token(offset + limit) if len(rows) > limit else None
            return rows[:limit], token

        return await self.db.write(work)

    async def update(self, schema_id: str, name: str | None, instruction: str | None,
                     enable_comment: bool | None, input_: Any) -> LabelSchema:
        def work(conn: Connection) -> LabelSchema:
            current = store.get(conn, schema_id)
            if current is None:
                raise not_found(f"Label schema with id '{schema_id}' not found.")
            if current.is_default:
                raise invalid_parameter("The experiment's default question cannot be edited.")
            if name is not None:
                if not name:
                    raise invalid_parameter(
                        f"Label schema `name` must be a non-empty string; got {name!r}.")
                check_name(name)
            check_instruction(instruction)
            if input_ is not None:
                kind, config = parse_input(input_)
                if kind != current.input_kind:
                    raise invalid_parameter(
                        "A label schema's input type cannot be changed after creation "
                        f"(existing: {_CLASS[current.input_kind]}, got: {_CLASS[kind]}).")
                if kind == "categorical" and bool(config["multi_select"]) != bool(
                        current.input_config.get("multi_select", False)):
                    raise invalid_parameter(
                        "`InputCategorical.multi_select` cannot be changed after creation.")
                current.input_config = config
            if name is not None and name != current.name:
                taken = store.by_name(conn, current.experiment_id, name)
                if taken is not None:
                    raise already_exists(f"Label schema with name '{name}' already exists for "
                                         f"experiment '{current.experiment_id}'.")
                current.name = name
            if instruction is not None:
                current.instruction = instruction
            if enable_comment is not None:
                current.enable_comment = enable_comment
            current.updated_ms = _now_ms()
            store.update(conn, current)
            return current

        return await self.db.write(work)

    async def delete(self, schema_id: str) -> None:
        def work(conn: Connection) -> None:
            current = store.get(conn, schema_id)
            if current is None:
                return  # MLflow: deleting what is not there is a no-op
            if current.is_default:
                raise invalid_parameter("The experiment's default question cannot be deleted.")
            store.delete(conn, schema_id)

        await self.db.write(work)
