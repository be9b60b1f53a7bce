"""Experiment endpoints: parse, call the service, serialize."""

from __future__ import annotations

from typing import Any

from trackd.api.router import Call
from trackd.entities.experiments import VIEW_TYPES
from trackd.service.validation import parse_experiment_id


def _tags(items: list[dict[str, Any]]) -> list[tuple[str, object]]:
    return [(item.get("key"), item.get("value")) for item in items]  # type: ignore[misc]


async def create(call: Call) -> dict[str, Any]:
    f = await call.fields()
    experiment_id = await call.services.experiments.create(
        f.string("name", required=True),
        f.string("artifact_location"),
        _tags(f.objects("tags")),
    )
    return {"experiment_id": str(experiment_id)}


async def get(call: Call) -> dict[str, Any]:
    f = await call.fields()
    experiment_id = parse_experiment_id(f.string("experiment_id", required=True))
    experiment = await call.services.experiments.get(experiment_id)
    return {"experiment": experiment.to_json()}


async def get_by_name(call: Call) -> dict[str, Any]:
    f = await call.fields()
    experiment = await call.services.experiments.get_by_name(
        f.string("experiment_name", required=True)
    )
    return {"experiment": experiment.to_json()}


async def search(call: Call) -> dict[str, Any]:
    f = await call.fields()
    experiments, token = await call.services.experiments.search(
        view_type=f.enum("view_type", VIEW_TYPES, default="ACTIVE_ONLY"),
        max_results=f.integer("max_results"),
        filter_string=f.string("filter"),
        order_by=f.string_list("order_by"),
        page_token=f.string("page_token"),
    )
    out: dict[str, Any] = {}
    if experiments:
        out["experiments"] = [e.to_json() for e in experiments]
    if token:
        out["next_page_token"] = token
    return out


async def update(call: Call) -> None:
    f = await call.fields()
    experiment_id = parse_experiment_id(f.string("experiment_id", required=True))
    await call.services.experiments.rename(experiment_id, f.string("new_name", required=True))


async def delete(call: Call) -> None:
    f = await call.fields()
    await call.services.experiments.delete(
        parse_experiment_id(f.string("experiment_id", required=True))
    )


async def restore(call: Call) -> None:
    f = await call.fields()
    await call.services.experiments.restore(
        parse_experiment_id(f.string("experiment_id", required=True))
    )


async def set_tag(call: Call) -> None:
    f = await call.fields()
    await call.services.experiments.set_tag(
        parse_experiment_id(f.string("experiment_id", required=True)),
        f.string("key", required=True),
        f.string("value"),
    )


async def delete_tag(call: Call) -> None:
    f = await call.fields()
    await call.services.experiments.delete_tag(
        parse_experiment_id(f.string("experiment_id", required=True)),
        f.string("key", required=True),
    )


async def search_datasets(call: Call) -> dict[str, Any]:
    """``experiments/search-datasets``: the datasets runs of these experiments took as inputs
    (MLflow's runs table offers them as a filter)."""
    f = await call.fields()
    found = await call.services.experiments.dataset_summaries(f.string_list("experiment_ids"))
    return {"dataset_summaries": found} if found else {}
