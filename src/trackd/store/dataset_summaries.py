"""The datasets that runs of some experiments logged as inputs, with each input's context tag
(``experiments/search-datasets``, which MLflow's runs table calls). SQL only."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, and_, select

from trackd.store.tables import datasets, input_tags, inputs

CONTEXT_TAG = "mlflow.data.context"
MAX_SUMMARIES = 1000  # MLflow's limit


def summaries(conn: Connection, experiment_ids: Sequence[int]) -> list[tuple[int, str, str,
                                                                            str | None]]:
    """(experiment_id, name, digest, context) of each distinct dataset use."""
    query = (
        select(datasets.c.experiment_id, datasets.c.name, datasets.c.digest,
               input_tags.c.value)
        .select_from(datasets)
        .join(inputs, inputs.c.source_id == datasets.c.dataset_uuid)
        .outerjoin(input_tags, and_(input_tags.c.input_uuid == inputs.c.input_uuid,
                                    input_tags.c.name == CONTEXT_TAG))
        .where(datasets.c.experiment_id.in_(list(experiment_ids)))
        .distinct()
        .limit(MAX_SUMMARIES)
    )
    return [(int(r[0]), r[1], r[2], r[3]) for r in conn.execute(query)]
