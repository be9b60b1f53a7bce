"""SQL for run inputs: datasets (shared per experiment), their links to runs, and tags."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, and_, select, tuple_

from trackd.entities.runs import DatasetInput
from trackd.store.tables import datasets, input_tags, inputs
from trackd.store.upsert import insert_ignore


def link_datasets(
    conn: Connection,
    experiment_id: int,
    run_id: str,
    items: Sequence[DatasetInput],
    new_uuid: Callable[[], str],
) -> None:
    """Record datasets as inputs of a run; a dataset already known to the experiment (same
    name and digest) is reused, and a dataset already linked to the run is left as it is."""
    if not items:
        return
    d, i = datasets.c, inputs.c
    keys = [(item.dataset.name, item.dataset.digest) for item in items]
    uuids = {
        (name, digest): dataset_uuid
        for name, digest, dataset_uuid in conn.execute(
            select(d.name, d.digest, d.dataset_uuid).where(
                d.experiment_id == experiment_id, tuple_(d.name, d.digest).in_(keys)
            )
        )
    }
    new_datasets = []
    for item in items:
        key = (item.dataset.name, item.dataset.digest)
        if key not in uuids:
            uuids[key] = new_uuid()
            ds = item.dataset
            new_datasets.append(
                {
                    "dataset_uuid": uuids[key],
                    "experiment_id": experiment_id,
                    "name": ds.name,
                    "digest": ds.digest,
                    "dataset_source_type": ds.source_type,
                    "dataset_source": ds.source,
                    "dataset_schema": ds.schema,
                    "dataset_profile": ds.profile,
                }
            )
    insert_ignore(conn, datasets, new_datasets)
    linked = set(
        conn.execute(
            select(i.source_id).where(
                i.source_type == "DATASET",
                i.source_id.in_(list(uuids.values())),
                i.destination_type == "RUN",
                i.destination_id == run_id,
            )
        ).scalars()
    )
    edges, tag_rows = [], []
    for item in items:
        dataset_uuid = uuids[(item.dataset.name, item.dataset.digest)]
        if dataset_uuid in linked:
            continue
        linked.add(dataset_uuid)
        input_uuid = new_uuid()
        edges.append(
            {
                "input_uuid": input_uuid,
                "source_type": "DATASET",
                "source_id": dataset_uuid,
                "destination_type": "RUN",
                "destination_id": run_id,
                "step": 0,
            }
        )
        tag_rows += [{"input_uuid": input_uuid, "name": k, "value": v} for k, v in item.tags]
    insert_ignore(conn, inputs, edges)
    insert_ignore(conn, input_tags, tag_rows)


def link_models(
    conn: Connection, run_id: str, model_ids: Sequence[str], new_uuid: Callable[[], str]
) -> None:
    insert_ignore(
        conn,
        inputs,
        [
            {
                "input_uuid": new_uuid(),
                "source_type": "RUN_INPUT",
                "source_id": run_id,
                "destination_type": "MODEL_INPUT",
                "destination_id": model_id,
                "step": 0,
            }
            for model_id in model_ids
        ],
    )


# At most this many summaries per search, as MLflow caps them (the UI lists them in a menu).
MAX_DATASET_SUMMARIES = 1000


def dataset_summaries(conn: Connection, experiment_ids: Sequence[int]) -> list[dict[str, str]]:
    """The distinct (experiment, dataset name, digest, context) of the experiments' run inputs,
    as ``experiments/search-datasets`` lists them; the context is the input's
    ``mlflow.data.context`` tag (training, eval, ...), absent when the input has none."""
    d, i, t = datasets.c, inputs.c, input_tags.c
    query = (
        select(d.experiment_id, d.name, d.digest, t.value)
        .select_from(datasets)
        .join(inputs, i.source_id == d.dataset_uuid)
        .outerjoin(input_tags, and_(t.input_uuid == i.input_uuid,
                                    t.name == "mlflow.data.context"))
        .where(d.experiment_id.in_(list(experiment_ids)))
        .distinct()
        .order_by(d.experiment_id, d.name, d.digest, t.value)
        .limit(MAX_DATASET_SUMMARIES)
    )
    out = []
    for experiment_id, name, digest, context in conn.execute(query):
        item = {"experiment_id": str(experiment_id), "name": name, "digest": digest}
        if context is not None:
            item["context"] = context
        out.append(item)
    return out
