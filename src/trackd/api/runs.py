"""Run endpoints: lifecycle, params, tags, metrics, batches, outputs."""

from __future__ import annotations

from typing import Any

from trackd.api._http import POINTS_STATE_KEY, Fields
from trackd.api.router import Call
from trackd.entities.experiments import VIEW_TYPES
from trackd.entities.metrics import Metric
from trackd.entities.runs import RUN_STATUSES, Dataset, DatasetInput
from trackd.errors import invalid_parameter
from trackd.service import validation as v
from trackd.service.runs import check_metric


async def _run_id(f: Fields) -> str:
    return v.check_run_id(f.first_string("run_id", "run_uuid"))


async def create(call: Call) -> dict[str, Any]:
    f = await call.fields()
    experiment_id = v.parse_experiment_id(f.string("experiment_id") or "0")
    run = await call.services.runs.create(
        experiment_id,
        f.string("user_id"),
        f.string("run_name"),
        f.integer("start_time"),
        [(t.get("key"), t.get("value")) for t in f.objects("tags")],
    )
    return {"run": run.to_json(with_outputs=False)}


async def get(call: Call) -> dict[str, Any]:
    f = await call.fields()
    run = await call.services.runs.get(await _run_id(f))
    return {"run": run.to_json()}


async def search(call: Call) -> dict[str, Any]:
    f = await call.fields()
    runs, token = await call.services.runs.search_json(
        f.string_list("experiment_ids"),
        f.string("filter"),
        f.enum("run_view_type", VIEW_TYPES, default="ACTIVE_ONLY"),
        f.integer("max_results"),
        f.string_list("order_by"),
        f.string("page_token"),
    )
    out: dict[str, Any] = {}
    if runs:
        out["runs"] = runs
    if token:
        out["next_page_token"] = token
    return out


async def update(call: Call) -> dict[str, Any]:
    f = await call.fields()
    info = await call.services.runs.update(
        await _run_id(f),
        f.enum("status", RUN_STATUSES),
        f.integer("end_time"),
        f.string("run_name"),
    )
    return {"run_info": info.to_json()}


async def delete(call: Call) -> None:
    f = await call.fields()
    await call.services.runs.delete(await _run_id(f))


async def restore(call: Call) -> None:
    f = await call.fields()
    await call.services.runs.restore(await _run_id(f))


async def set_tag(call: Call) -> None:
    f = await call.fields()
    await call.services.runs.set_tag(
        await _run_id(f), f.string("key", required=True), f.string("value")
    )


async def delete_tag(call: Call) -> None:
    f = await call.fields()
    await call.services.runs.delete_tag(await _run_id(f), f.string("key", required=True))


async def log_param(call: Call) -> None:
    f = await call.fields()
    await call.services.runs.log_param(
        await _run_id(f), f.string("key", required=True), f.raw("value")
    )


def _metric(item: dict[str, Any], path: str = "") -> Metric:
    key, value, ts, step = check_metric(
        item.get("key"), item.get("value"), item.get("timestamp"), item.get("step"), path
    )
    return _point(item, key, value, ts, step, path)


def _metrics(items: list[dict[str, Any]]) -> list[Metric]:
    """The points of a batch, each checked as :func:`_metric` checks it.

    A batch mostly repeats one or a few names with plain JSON numbers; full checks of every
    point would cost more than writing it. A point whose name was already accepted in this
    batch and whose value, timestamp and step are JSON numbers of the right kind passes as
    is; anything else gets the full checks (and MLflow's error naming ``metrics[i]``).
    """
    accepted: set[str] = set()
    points = []
    for i, item in enumerate(items):
        key, value, ts, step = (
            item.get("key"),
            item.get("value"),
            item.get("timestamp"),
            item.get("step"),
        )
        if (
            type(key) is str
            and key in accepted
            and type(value) in _JSON_NUMBERS
            and type(ts) is int
            and 0 <= ts <= _INT64_MAX
            and (step is None or (type(step) is int and _INT64_MIN <= step <= _INT64_MAX))
        ):
            point = _point(item, key, float(value), ts, step or 0, f"metrics[{i}]")  # type: ignore[arg-type]
            points.append(point)
        else:
            point = _metric(item, f"metrics[{i}]")
            accepted.add(point.key)
            points.append(point)
    return points


_JSON_NUMBERS = (int, float)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# The columns of logged_model_metrics (and of inputs, for model ids) hold at most this many
# characters; a longer value names nothing and would make PostgreSQL refuse the insert.
_MODEL_ID_LENGTH = 36
_POINT_LINKS = {"model_id": _MODEL_ID_LENGTH, "dataset_name": 500, "dataset_digest": 36}


def _optional_text(item: dict[str, Any], name: str, limit: int, path: str) -> str | None:
    """An optional string field of a nested object: absent or empty is None."""
    value = item.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        shown = repr(value)
        shown = shown if len(shown) <= 100 else shown[:100] + "..."
        where = f"{path}.{name}" if path else name
        raise invalid_parameter(
            f"Invalid value {shown} for parameter '{where}' supplied: expected a string of at "
            f"most {limit} characters."
        )
    return value


def _point(
    item: dict[str, Any], key: str, value: float, ts: int, step: int, path: str = ""
) -> Metric:
    links = {name: _optional_text(item, name, limit, path) for name, limit in _POINT_LINKS.items()}
    return Metric(key, value, ts, step, **links)


async def log_metric(call: Call) -> None:
    f = await call.fields()
    run_id = await _run_id(f)
    if f.raw("key") in (None, ""):
        f.string("key", required=True)
    await call.services.runs.log_batch(run_id, [_metric(f.data)], (), ())
    call.scope.setdefault("state", {})[POINTS_STATE_KEY] = 1


async def log_batch(call: Call) -> None:
    body = await call.body()
    if len(body) > v.MAX_BATCH_REQUEST_BYTES:
        raise invalid_parameter(
            f"Batched logging API requests must be at most {v.MAX_BATCH_REQUEST_BYTES} bytes, "
            f"got a request of size {len(body)}."
        )
    f = await call.fields()
    run_id = v.check_run_id(f.string("run_id", required=True))
    raw_metrics, raw_params, raw_tags = f.objects("metrics"), f.objects("params"), f.objects("tags")
    v.check_batch_limit("metrics", v.MAX_METRICS_PER_BATCH, len(raw_metrics))
    v.check_batch_limit("params", v.MAX_PARAMS_TAGS_PER_BATCH, len(raw_params))
    v.check_batch_limit("tags", v.MAX_PARAMS_TAGS_PER_BATCH, len(raw_tags))
    v.check_batch_limit(
        "metrics, params, and tags",
        v.MAX_ENTITIES_PER_BATCH,
        len(raw_metrics) + len(raw_params) + len(raw_tags),
    )
    runs = call.services.runs
    metrics = _metrics(raw_metrics)
    params = [
        runs.check_param(p.get("key"), p.get("value"), f"params[{i}].")
        for i, p in enumerate(raw_params)
    ]
    keys = [k for k, _ in params]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise invalid_parameter(
            f"Duplicate parameter keys have been submitted: {duplicates}. Please ensure the "
            "request contains only one param value per param key."
        )
    tags = [
        runs.check_tag(t.get("key"), t.get("value"), f"tags[{i}].") for i, t in enumerate(raw_tags)
    ]
    await runs.log_batch(run_id, metrics, params, tags)
    call.scope.setdefault("state", {})[POINTS_STATE_KEY] = len(metrics)


async def log_outputs(call: Call) -> None:
    f = await call.fields()
    run_id = v.check_run_id(f.string("run_id", required=True))
    models = f.objects("models")
    outputs = []
    for i, model in enumerate(models):
        model_id = _optional_text(model, "model_id", _MODEL_ID_LENGTH, f"models[{i}]")
        if model_id is None:
            raise invalid_parameter(f"Missing value for required parameter 'models[{i}].model_id'.")
        outputs.append((model_id, Fields(model, from_query=False).integer("step", default=0)))
    await call.services.runs.log_outputs(run_id, outputs)


_DATASET_LIMITS = {
    "name": 500,
    "digest": 36,
    "source_type": 36,
    "source": 65535,
    "schema": 1048575,
    "profile": 16777215,
}


def _dataset_input(item: dict[str, Any], index: int) -> DatasetInput:
    raw = item.get("dataset")
    if not isinstance(raw, dict):
        raise invalid_parameter(
            f"Missing value for required parameter 'datasets[{index}].dataset'."
        )
    values: dict[str, Any] = {}
    for name in ("name", "digest", "source_type", "source", "schema", "profile"):
        value = raw.get(name)
        if value is not None and not isinstance(value, str):
            raise invalid_parameter(
                f"Invalid value {value!r} for parameter 'datasets[{index}].dataset.{name}'."
            )
        if name in ("name", "digest", "source_type", "source") and not value:
            raise invalid_parameter(
                f"Missing value for required parameter 'datasets[{index}].dataset.{name}'."
            )
        limit = _DATASET_LIMITS.get(name)
        if limit is not None and value is not None and len(value) > limit:
            raise invalid_parameter(f"Dataset {name} exceeds the maximum length of {limit}")
        values[name] = value
    tags = []
    raw_tags = item.get("tags") or []
    if not isinstance(raw_tags, list) or not all(isinstance(t, dict) for t in raw_tags):
        raise invalid_parameter(
            f"Invalid value for parameter 'datasets[{index}].tags': expected a list of objects."
        )
    for tag in raw_tags:
        key, value = tag.get("key"), tag.get("value")
        if not isinstance(key, str) or not key or len(key) > 255:
            raise invalid_parameter(f"Invalid input tag key {key!r} (1 to 255 characters).")
        if not isinstance(value, str) or len(value) > 500:
            raise invalid_parameter(
                f"Invalid input tag value for {key!r} (at most 500 characters)."
            )
        tags.append((key, value))
    return DatasetInput(Dataset(**values), tags)


async def log_inputs(call: Call) -> None:
    f = await call.fields()
    run_id = v.check_run_id(f.string("run_id", required=True))
    datasets = [_dataset_input(d, i) for i, d in enumerate(f.objects("datasets"))]
    found = (
        _optional_text(m, "model_id", _MODEL_ID_LENGTH, f"models[{i}]")
        for i, m in enumerate(f.objects("models"))
    )
    model_ids = [model_id for model_id in found if model_id is not None]
    await call.services.runs.log_inputs(run_id, datasets, model_ids)
