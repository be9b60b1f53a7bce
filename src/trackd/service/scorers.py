"""Registered scorers (MLflow 3 GenAI): MLflow 3.18's rules for registering, listing, reading
and deleting an experiment's scorers, and for their online-scoring settings.

trackd stores the client's serialized scorer as JSON text and never runs it. It refuses what
``mlflow server`` refuses with its default settings, so that a database moving between the two
never holds a scorer one of them would have turned away: scorers carrying Python code
(``@scorer``: a ``call_source``), third-party scorer options that pick the host a judge calls,
and judges on a gateway endpoint (trackd serves no gateway: an endpoint that does not exist is
MLflow's 404, one that exists is 501). Online scoring with a sample rate above 0 needs a
gateway judge in MLflow, so trackd refuses it as MLflow does for every other scorer.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import Connection

from trackd.entities.scorers import OnlineScoringConfig, ScorerVersion
from trackd.errors import (
    NOT_IMPLEMENTED,
    MlflowError,
    already_exists,
    invalid_parameter,
    not_found,
)
from trackd.service.clock import now_ms
from trackd.service.experiments import require_active_experiment
from trackd.service.trace_filters import parse_trace_filter
from trackd.store import scorers as store
from trackd.store.database import Database

MAX_NAME = 256  # scorers.scorer_name
_CUSTOM_REFUSED = (
    "Custom scorer registration (using @scorer decorator) is disabled by default outside of "
    "Databricks tracking environments due to security concerns. Custom scorers require "
    "arbitrary code execution during deserialization. trackd stores scorers without running "
    "them and accepts built-in scorers and make_judge() scorers."
)
# Options of third-party judges that choose where their LLM client sends requests (MLflow's
# GATEWAY_DESTINATION_KEYS).
_DESTINATION_KEYS = frozenset({"api_base", "base_url", "model_list", "fallbacks",
                               "custom_llm_provider"})
_MODEL_HOLDERS = ("instructions_judge_pydantic_data", "builtin_scorer_pydantic_data")


def _walk(value: Any) -> list[dict[str, Any]]:
    """Every object nested in a parsed serialized scorer (ensembles nest whole scorers)."""
    found, stack = [], [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def model_of(data: dict[str, Any]) -> Any:
    for key in _MODEL_HOLDERS:
        if isinstance(held := data.get(key), dict) and held:
            return held.get("model")
    memory = data.get("memory_augmented_judge_data")
    if isinstance(memory, dict) and memory:
        return model_of(memory.get("base_judge") or {})
    third = data.get("third_party_scorer_data")
    return third.get("model") if isinstance(third, dict) and third else None


def is_gateway(model: Any) -> bool:
    return isinstance(model, str) and model.partition(":/")[0] == "gateway" and ":/" in model


def check_serialized(serialized: str) -> dict[str, Any]:
    try:
        data = json.loads(serialized)
    except ValueError:
        raise invalid_parameter("serialized_scorer must be valid JSON") from None
    if not isinstance(data, dict):
        raise invalid_parameter("serialized_scorer must be a JSON object")
    for node in _walk(data):
        if node.get("call_source") is not None:
            raise invalid_parameter(_CUSTOM_REFUSED)
        third = node.get("third_party_scorer_data")
        if isinstance(third, dict):
            kwargs = third.get("kwargs")
            if kwargs is not None and not isinstance(kwargs, dict):
                raise invalid_parameter("third_party_scorer_data.kwargs must be a JSON object, "
                                        f"got {type(kwargs).__name__}.")
            keys = sorted({k for n in _walk(kwargs) for k in n} & _DESTINATION_KEYS)
            if keys:
                raise invalid_parameter(
                    f"third_party_scorer_data.kwargs must not contain {', '.join(map(repr, keys))}"
                    ": these options choose where the scorer's LLM client sends requests.")
    model = model_of(data)
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise invalid_parameter("Scorer model cannot be empty or contain only whitespace."
                                if isinstance(model, str) else
                                f"Scorer model must be a string, got {type(model).__name__}.")
    return data


def _parsed(serialized: str) -> dict[str, Any]:
    try:
        data = json.loads(serialized)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def experiment_number(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise invalid_parameter(f"Invalid experiment ID '{raw}'. Experiment ID must be a valid "
                                "integer.") from None


def _missing(name: str, experiment_id: str, version: int | None = None) -> MlflowError:
    if version is None:
        return not_found(f"Scorer with name '{name}' not found for experiment {experiment_id}.")
    return not_found(f"Scorer with name '{name}' and version {version} not found for "
                     f"experiment {experiment_id}.")


class ScorerService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def register(self, experiment_id: str, name: str, serialized: str) -> ScorerVersion:
        if not name.strip():
            raise invalid_parameter("Scorer name cannot be empty or contain only whitespace.")
        if len(name) > MAX_NAME:
            raise invalid_parameter(f"Scorer name may be at most {MAX_NAME} characters.")
        data = check_serialized(serialized)
        number = experiment_number(experiment_id)

        def work(conn: Connection) -> ScorerVersion:
            require_active_experiment(conn, number)
            if is_gateway(model := model_of(data)):
                endpoint = model.partition(":/")[2]
                if not store.endpoint_exists(conn, endpoint):
                    raise not_found(f"GatewayEndpoint not found (name='{endpoint}')")
                raise MlflowError("Scorers on AI gateway endpoints are not served by trackd "
                                  "yet.", NOT_IMPLEMENTED)
            scorer_id = store.find_id(conn, number, name)
            if scorer_id is None:
                if store.name_taken_by_collation(conn, number, name):
                    raise already_exists(
                        f"Experiment {experiment_id} already has a scorer whose name this "
                        f"database compares as equal to {name!r}, so a scorer named {name!r} "
                        "cannot be registered. Use a different name.")
                scorer_id = str(uuid.uuid4())
                store.add_scorer(conn, number, name, scorer_id)
            now = now_ms()
            version = store.add_version(conn, scorer_id, serialized, now)
            return ScorerVersion(number, scorer_id, name, version, serialized, now)

        return await self.db.write(work)

    def _scorer_id(self, conn: Connection, experiment_id: str, name: str) -> str:
        number = experiment_number(experiment_id)
        require_active_experiment(conn, number)
        scorer_id = store.find_id(conn, number, name)
        if scorer_id is None:
            raise _missing(name, experiment_id)
        return scorer_id

    async def get(self, experiment_id: str, name: str, version: int | None) -> ScorerVersion:
        def work(conn: Connection) -> ScorerVersion:
            found = store.version(conn, self._scorer_id(conn, experiment_id, name), version)
            if found is None:
                raise _missing(name, experiment_id, version)
            return found

        return await self.db.read(work)

    async def versions(self, experiment_id: str, name: str) -> list[ScorerVersion]:
        def work(conn: Connection) -> list[ScorerVersion]:
            found = store.versions(conn, self._scorer_id(conn, experiment_id, name))
            if not found:
                raise _missing(name, experiment_id)
            return found

        return await self.db.read(work)

    async def list_latest(self, experiment_id: str | None, experiment_ids: list[str] | None
                   ) -> list[ScorerVersion]:
        if experiment_id and experiment_ids is not None:
            raise invalid_parameter(
                "Cannot specify both 'experiment_id' and 'experiment_ids'. Use 'experiment_ids' "
                "to scope the query to multiple experiments, or 'experiment_id' to scope it to "
                "a single experiment.")
        numbers = ([experiment_number(i) for i in experiment_ids]
                   if experiment_ids is not None else None)

        def work(conn: Connection) -> list[ScorerVersion]:
            if experiment_id:
                number = experiment_number(experiment_id)
                require_active_experiment(conn, number)
                return store.latest_per_scorer(conn, [number])
            return store.latest_per_scorer(conn, store.active_experiments(conn, numbers))

        return await self.db.read(work)

    async def delete(self, experiment_id: str, name: str, version: int | None) -> None:
        def work(conn: Connection) -> None:
            scorer_id = self._scorer_id(conn, experiment_id, name)
            if store.delete_versions(conn, scorer_id, version) == 0:
                raise _missing(name, experiment_id, version)
            if version is None:
                store.delete_scorer(conn, scorer_id)

        await self.db.write(work)

    async def set_online_config(self, experiment_id: str, name: str, sample_rate: float,
                                filter_string: str | None) -> OnlineScoringConfig:
        if not 0.0 <= sample_rate <= 1.0:
            raise invalid_parameter(f"sample_rate must be between 0.0 and 1.0, got {sample_rate}")
        if filter_string:
            parse_trace_filter(filter_string)  # refused as a trace search would refuse it

        def work(conn: Connection) -> OnlineScoringConfig:
            scorer_id = self._scorer_id(conn, experiment_id, name)
            latest = store.version(conn, scorer_id, None)
            if (latest is not None and sample_rate > 0
                    and not is_gateway(model_of(_parsed(latest.serialized_scorer)))):
                raise invalid_parameter(
                    f"Scorer '{name}' does not use a gateway model. Automatic evaluation is "
                    "only supported for scorers that use gateway models.")
            config = OnlineScoringConfig(uuid.uuid4().hex, scorer_id, sample_rate,
                                         experiment_number(experiment_id), filter_string)
            store.replace_config(conn, config)
            return config

        return await self.db.write(work)

    async def online_configs(self, scorer_ids: list[str]) -> list[OnlineScoringConfig]:
        return await self.db.read(lambda conn: store.configs(conn, scorer_ids))
