"""One resolver per root field, plus the two fields a run gains in GraphQL.

Each takes the field's ``input`` (camelCase keys, as the schema declares them), checks it as the
REST handler of the same operation does, asks ``Access``, calls the service and returns the
REST-shaped dict; trackd.graphql.schema maps that onto the GraphQL types. An error raised here
becomes an entry of the answer's ``errors`` and the field reads null, as in MLflow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLResolveInfo

from trackd.api.artifacts import files_json
from trackd.errors import missing_parameter
from trackd.graphql.access import Access
from trackd.service import validation as v
from trackd.service.metrics import MAX_SAMPLES_PER_RUN

Input = dict[str, Any]


@dataclass
class Context:
    services: Any
    access: Access
    # Experiments already loaded in this request: a page of runs mostly shares one.
    experiments: dict[str, Any] = field(default_factory=dict)


def _context(info: GraphQLResolveInfo) -> Context:
    return info.context  # type: ignore[no-any-return]


def _run_id(data: Input) -> str:
    return v.check_run_id(str(data.get("runId") or data.get("runUuid") or ""))


async def get_experiment(_root: Any, info: GraphQLResolveInfo, input: Input | None = None
                         ) -> dict[str, Any] | None:
    ctx, data = _context(info), input or {}
    experiment_id = v.parse_experiment_id(data.get("experimentId"))
    if not await ctx.access.experiment(experiment_id):
        return None
    return {"experiment": await _experiment(ctx, str(experiment_id))}


async def _experiment(ctx: Context, experiment_id: str) -> dict[str, Any]:
    if experiment_id not in ctx.experiments:
        found = await ctx.services.experiments.get(v.parse_experiment_id(experiment_id))
        ctx.experiments[experiment_id] = found.to_json()
    return ctx.experiments[experiment_id]  # type: ignore[no-any-return]


async def get_run(_root: Any, info: GraphQLResolveInfo, input: Input | None = None
                  ) -> dict[str, Any] | None:
    ctx = _context(info)
    run_id = _run_id(input or {})
    if not await ctx.access.run(run_id):
        return None
    run = await ctx.services.runs.get(run_id)
    return {"run": run.to_json()}


async def _readable_experiments(ctx: Context, data: Input,
                                tier: str | None = None) -> list[str] | None:
    """The input's ``experimentIds`` the caller may read; None when it named some and may
    read none of them (the field then reads null, as in MLflow)."""
    experiment_ids = [str(i) for i in data.get("experimentIds") or []]
    readable = await ctx.access.readable_experiments(experiment_ids, tier)
    return None if experiment_ids and not readable else readable


async def search_runs(_root: Any, info: GraphQLResolveInfo, input: Input | None = None
                      ) -> dict[str, Any] | None:
    ctx, data = _context(info), input or {}
    readable = await _readable_experiments(ctx, data, "run")
    if readable is None:
        return None
    runs, token = await ctx.services.runs.search_json(
        readable,
        data.get("filter"),
        data.get("runViewType") or "ACTIVE_ONLY",
        data.get("maxResults"),
        [str(o) for o in data.get("orderBy") or []],
        data.get("pageToken"),
    )
    return {"runs": runs, "next_page_token": token or ""}


async def run_experiment(run: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    return await _experiment(_context(info), str(run["info"]["experiment_id"]))


async def run_model_versions(run: dict[str, Any], info: GraphQLResolveInfo
                             ) -> list[dict[str, Any]]:
    ctx = _context(info)
    versions, _ = await ctx.services.model_versions.search(
        f"run_id = '{run['info']['run_id']}'", None, [], None)
    return await ctx.access.model_versions([mv.to_json() for mv in versions])


async def metric_history_bulk_interval(_root: Any, info: GraphQLResolveInfo,
                                       input: Input | None = None) -> dict[str, Any] | None:
    ctx, data = _context(info), input or {}
    run_ids = [str(i) for i in data.get("runIds") or []]
    for run_id in run_ids:
        if not await ctx.access.run(run_id):
            return None
    key = data.get("metricKey")
    if not key:
        raise missing_parameter("metric_key")
    points = await ctx.services.metrics.sampled(
        run_ids, key, data.get("maxResults") or MAX_SAMPLES_PER_RUN,
        data.get("startStep"), data.get("endStep"))
    return {"metrics": [p.to_json() for p in points]}


async def list_artifacts(_root: Any, info: GraphQLResolveInfo, input: Input | None = None
                         ) -> dict[str, Any] | None:
    ctx, data = _context(info), input or {}
    run_id = _run_id(data)
    if not await ctx.access.run(run_id):
        return None
    service = ctx.services.artifacts
    listing = await service.list_under(await service.run_root(run_id), data.get("path"))
    return {"root_uri": listing.root_uri, "next_page_token": "", **files_json(listing.files)}


async def search_model_versions(_root: Any, info: GraphQLResolveInfo,
                                input: Input | None = None) -> dict[str, Any]:
    ctx, data = _context(info), input or {}
    versions, token = await ctx.services.model_versions.search(
        data.get("filter"), data.get("maxResults"),
        [str(o) for o in data.get("orderBy") or []], data.get("pageToken"))
    kept = await ctx.access.model_versions([mv.to_json() for mv in versions])
    return {"model_versions": kept, "next_page_token": token or ""}


async def search_datasets(_root: Any, info: GraphQLResolveInfo, input: Input | None = None
                          ) -> dict[str, Any] | None:
    ctx, data = _context(info), input or {}
    readable = await _readable_experiments(ctx, data)
    if readable is None:
        return None
    return {"dataset_summaries": await ctx.services.experiments.dataset_summaries(readable)}


def echo(_root: Any, _info: GraphQLResolveInfo, inputString: str | None = None  # noqa: N803
         ) -> dict[str, Any]:
    return {"output": inputString}


Resolver = Callable[..., Awaitable[Any] | Any]

# type name -> field name -> resolver; every other field is read off the REST-shaped dicts.
FIELDS: dict[str, dict[str, Resolver]] = {
    "Query": {
        "mlflowGetExperiment": get_experiment,
        "mlflowGetRun": get_run,
        "mlflowSearchRuns": search_runs,
        "mlflowGetMetricHistoryBulkInterval": metric_history_bulk_interval,
        "mlflowListArtifacts": list_artifacts,
        "mlflowSearchModelVersions": search_model_versions,
        "test": echo,
    },
    "Mutation": {
        "mlflowSearchRuns": search_runs,
        "mlflowSearchDatasets": search_datasets,
        "testMutation": echo,
    },
    "MlflowRunExtension": {
        "experiment": run_experiment,
        "modelVersions": run_model_versions,
    },
}
