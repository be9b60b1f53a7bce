"""The few service calls the pages make, in one place, so that views stay about display.

Views call services (never SQL). The search services are the same ones the JSON API uses, so
a page shows exactly what ``runs/search`` and ``experiments/search`` answer.
"""

from __future__ import annotations

from typing import Any

from trackd.entities.experiments import Experiment
from trackd.entities.runs import Run
from trackd.errors import MlflowError

# Pages read to fill one filtered page of experiments; past that the page is shown short.
_MAX_TOP_UPS = 20


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
    user: Any,
    filter_string: str | None,
    view_type: str,
    max_results: int,
    order_by: list[str],
    page_token: str | None,
) -> tuple[list[Experiment], str | None]:
    """A page of ``experiments/search`` as ``user`` may see it.

    With authentication on (``user`` is the signed-in ``auth.store.User``), experiments the
    user may not read are dropped by the same filter as the API's answer
    (``AuthService.readable``), and the page is topped up from the following ones, so a user
    who may read a few experiments among thousands is not shown a run of empty pages.
    """
    auth = services.extra.get("auth")
    kept: list[Experiment] = []
    token = page_token
    for _ in range(_MAX_TOP_UPS):
        found, token = await services.experiments.search(
            view_type=view_type,
            max_results=max_results - len(kept),
            filter_string=filter_string,
            order_by=order_by,
            page_token=token,
        )
        if auth is None or user is None:
            return list(found), token
        kept += await auth.readable(user, "experiment", found, _experiment_key)
        if token is None or len(kept) >= max_results:
            break
    return kept, token


def _experiment_key(experiment: Experiment) -> str:
    return str(experiment.experiment_id)


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
