"""The few service calls the pages make, in one place, so that views stay about display.

Views call services (never SQL). The search services are the same ones the JSON API uses, so
a page shows exactly what ``runs/search`` and ``experiments/search`` answer.
"""

from __future__ import annotations

from typing import Any

from trackd.entities.experiments import Experiment
from trackd.entities.runs import Run
from trackd.errors import MlflowError


async def search_runs(
    services: Any,
    *,
    experiment_id: int,
    filter_string: str | None,
    view_type: str,
    max_results: int,
    order_by: list[str],
    page_token: str | None,
) -> tuple[list[Run], str | None]:
    runs, token = await services.runs.search(
        experiment_ids=[experiment_id],
        filter_string=filter_string,
        view_type=view_type,
        max_results=max_results,
        order_by=order_by,
        page_token=page_token,
    )
    return list(runs), token


async def search_experiments(
    services: Any,
    *,
    filter_string: str | None,
    view_type: str,
    max_results: int,
    order_by: list[str],
    page_token: str | None,
) -> tuple[list[Experiment], str | None]:
    experiments, token = await services.experiments.search(
        view_type=view_type,
        max_results=max_results,
        filter_string=filter_string,
        order_by=order_by,
        page_token=page_token,
    )
    return list(experiments), token


async def get_runs(services: Any, run_ids: list[str]) -> list[Run]:
    """Several runs for the compare page, in the order asked; unknown ids are skipped."""
    found: list[Run] = []
    for run_id in run_ids:
        try:
            found.append(await services.runs.get(run_id))
        except MlflowError as exc:
            if exc.http_status != 404:
                raise
    return found
