"""``trackd gc``: permanently delete what users deleted, once it has been deleted long enough.

What goes, following ``mlflow gc``'s rules:
- runs in the ``deleted`` stage whose ``deleted_time`` is older than ``--older-than``, with their
  metrics, latest metrics, params, tags, inputs/outputs and artifacts;
- experiments in the ``deleted`` stage last updated before that, with all their runs, logged
  models, traces, datasets and tags (so the name can be used again);
- logged models in the ``deleted`` stage, with their rows and artifacts.
``--run-ids`` / ``--experiment-ids`` narrow the work to those ids (each must be deleted and old
enough, or nothing is done).

Work goes in bounded batches, artifacts before rows: an interrupted gc leaves every remaining
row still marked deleted, so running it again finishes the job (deleting artifacts that are
already gone is not an error).
"""

from __future__ import annotations

import logging
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from trackd.artifacts import paths
from trackd.artifacts.registry import ArtifactRegistry, Location
from trackd.errors import MlflowError, invalid_parameter
from trackd.store import gc as sql
from trackd.store.database import Database

log = logging.getLogger("trackd.gc")

_DURATION = re.compile(r"^(?:(?P<days>[\d.]+)d)?(?:(?P<hours>[\d.]+)h)?"
                       r"(?:(?P<minutes>[\d.]+)m)?(?:(?P<seconds>[\d.]+)s)?$")


def parse_duration(text: str) -> int:
    """``30d``, ``2d8h5m20s``, ``90m`` -> milliseconds (MLflow's ``--older-than`` format)."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None or not any(match.groupdict().values()):
        raise invalid_parameter(f"Could not parse any time information from '{text}'. "
                                "Examples of valid strings: '30d', '8h', '2d8h5m20s'")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return int(timedelta(**parts).total_seconds() * 1000)


@dataclass
class GcReport:
    runs: int = 0
    experiments: int = 0
    logged_models: int = 0
    traces: int = 0
    metric_rows: int = 0
    artifact_errors: list[str] = field(default_factory=list)


class GarbageCollector:
    def __init__(self, db: Database, artifacts: ArtifactRegistry, *, default_root: str,
                 batch_size: int = 100, echo: Callable[[str], None] = log.info) -> None:
        self.db = db
        self.artifacts = artifacts
        self.default_root = default_root.rstrip("/")
        settings = artifacts.settings
        self.destination = settings.artifacts_destination if settings.serve_artifacts else ""
        self.batch = max(1, batch_size)
        self.echo = echo
        self.report = GcReport()

    async def collect(self, older_than_ms: int = 0, *, experiment_ids: Sequence[str] | None = None,
                      run_ids: Sequence[str] | None = None) -> GcReport:
        cutoff = int(time.time() * 1000) - older_than_ms
        exp_ids = [_experiment_id(e) for e in experiment_ids] if experiment_ids else None
        if run_ids:
            await self._check_runs(list(run_ids), cutoff)
        if exp_ids:
            await self._check_experiments(exp_ids, cutoff)
        everything = not run_ids and not exp_ids
        if run_ids or everything:
            await self._collect_runs(cutoff, list(run_ids) if run_ids else None)
        if exp_ids or everything:
            doomed = await self.db.read(lambda c: sql.deleted_experiments(
                c, cutoff, experiment_ids=exp_ids))
            for experiment in doomed:
                await self._collect_experiment(experiment)
        if everything:
            await self._collect_models(cutoff)
        return self.report

    # -- checks (all before any deletion) ------------------------------------------------------

    async def _check_runs(self, run_ids: list[str], cutoff: int) -> None:
        states = await self.db.read(lambda c: sql.run_states(c, run_ids))
        for run_id in run_ids:
            if run_id not in states:
                raise MlflowError(f"Run with id={run_id} not found", "RESOURCE_DOES_NOT_EXIST")
            stage, deleted_time = states[run_id]
            if stage != "deleted":
                raise invalid_parameter(f"Run {run_id} is not in `deleted` lifecycle stage. Only "
                                        "runs in `deleted` lifecycle stage can be deleted.")
            if deleted_time is None or deleted_time > cutoff:
                raise invalid_parameter(f"Run {run_id} is not older than the required age.")

    async def _check_experiments(self, experiment_ids: list[int], cutoff: int) -> None:
        states = await self.db.read(lambda c: sql.experiment_states(c, experiment_ids))
        for experiment_id in map(str, experiment_ids):
            if experiment_id not in states:
                raise MlflowError(f"No Experiment with id={experiment_id} exists",
                                  "RESOURCE_DOES_NOT_EXIST")
            stage, updated = states[experiment_id]
            if stage != "deleted":
                raise invalid_parameter(
                    f"Experiments ['{experiment_id}'] are not in the deleted lifecycle stage. "
                    "Only experiments in the deleted lifecycle stage can be hard-deleted.")
            if updated is None or updated > cutoff:
                raise invalid_parameter(
                    f"Experiments ['{experiment_id}'] are not older than the required age.")

    # -- runs ------------------------------------------------------------------------------------

    async def _collect_runs(self, cutoff: int, run_ids: list[str] | None) -> None:
        after = ""
        while True:
            batch = await self.db.read(lambda c: sql.deleted_runs(
                c, cutoff, self.batch, run_ids=run_ids, after=after))  # noqa: B023
            if not batch:
                return
            after = batch[-1].id
            await self._delete_runs(batch)

    async def _delete_runs(self, batch: list[sql.Doomed]) -> None:
        cleared = [run for run in batch
                   if await self._remove_artifacts(_run_folder(run), (run.id,))]
        for run in cleared:
            self.report.metric_rows += await self.db.write(
                lambda c: sql.delete_run_metrics(c, run.id))  # noqa: B023
        ids = [run.id for run in cleared]
        await self.db.write(lambda c: sql.delete_runs(c, ids))
        self.report.runs += len(ids)
        for run_id in ids:
            self.echo(f"Run with ID {run_id} has been permanently deleted.")

    # -- experiments and logged models -----------------------------------------------------------

    async def _collect_experiment(self, experiment: sql.Doomed) -> None:
        experiment_id = int(experiment.id)
        while True:
            runs = await self.db.read(lambda c: sql.runs_of_experiment(
                c, experiment_id, self.batch))  # noqa: B023
            if not runs:
                break
            before = self.report.runs
            await self._delete_runs(runs)
            if self.report.runs == before:  # artifacts we cannot delete: leave the rest
                self.report.artifact_errors.append(f"experiment {experiment_id} kept")
                return
        if not await self._collect_models(0, experiment_id=experiment_id):
            return
        while count := await self.db.write(lambda c: sql.delete_traces(
                c, experiment_id, self.batch)):
            self.report.traces += count
        if self._is_default_location(experiment):
            await self._remove_artifacts(experiment.artifact_uri, (experiment.id,))
        await self.db.write(lambda c: sql.delete_experiment_rows(c, experiment_id))
        self.report.experiments += 1
        self.echo(f"Experiment with ID {experiment_id} has been permanently deleted.")

    async def _collect_models(self, cutoff: int, *, experiment_id: int | None = None) -> bool:
        """Returns False when some model's artifacts could not be removed."""
        after, complete = "", True
        while True:
            batch = await self.db.read(lambda c: sql.deleted_logged_models(
                c, cutoff, self.batch, experiment_id=experiment_id, after=after))  # noqa: B023
            if not batch:
                return complete
            after = batch[-1].id
            ids = [m.id for m in batch
                   if await self._remove_artifacts(m.artifact_uri, (m.id, "artifacts"))]
            complete = complete and len(ids) == len(batch)
            await self.db.write(lambda c: sql.delete_logged_models(c, ids))  # noqa: B023
            self.report.logged_models += len(ids)

    def _is_default_location(self, experiment: sql.Doomed) -> bool:
        # Only the root the server itself gave the experiment: a location the user chose may
        # be shared with other experiments or hold other data.
        return experiment.artifact_uri == f"{self.default_root}/{experiment.id}"

    async def _remove_artifacts(self, uri: str | None, own_tail: tuple[str, ...]) -> bool:
        """Delete the artifacts at ``uri`` if gc owns that place; False (and a report line)
        when they could not or may not be deleted."""
        if not uri:
            return True
        try:
            where = self.artifacts.locate(uri)
            if not self._owns(uri, where, own_tail):
                raise invalid_parameter(
                    "refused: it is neither inside the artifact destination or the default "
                    f"artifact root, nor a folder named {'/'.join(own_tail)} (its owner's root)"
                )
            await where.store.delete(where.base)
        except Exception as exc:  # report, keep the rows, let a rerun try again
            message = f"could not delete artifacts at {uri}: {exc}"
            log.warning(message)
            self.report.artifact_errors.append(message)
            return False
        return True


    def _owns(self, uri: str, where: Location, own_tail: tuple[str, ...]) -> bool:
        """Whether gc may delete what ``uri`` resolves to: a place strictly inside the artifact
        destination or the default artifact root, or the owner's own folder (its path, after
        resolution, ends with ``own_tail``: ``<run id>``, ``<model id>/artifacts``...).

        Checked after resolution (symlinks, ``..``, percent-encoding), so a location that
        names a directory it does not own cannot make gc delete it.
        """
        if where.proxied:
            return where.base != ""  # inside the destination, never the destination itself
        if paths.has_traversal(uri):
            return False
        roots = [self.default_root, self.destination]
        if any(root and paths.relative_to_root(uri, root) not in (None, "") for root in roots):
            return True
        if paths.is_local_uri(uri):
            resolved = os.path.realpath(paths.local_path_of(uri)).split(os.sep)
        else:
            resolved = [p for p in urllib.parse.urlsplit(uri).path.split("/") if p]
        return len(resolved) > len(own_tail) and tuple(resolved[-len(own_tail):]) == own_tail


def _run_folder(run: sql.Doomed) -> str | None:
    """The server-made ``<experiment root>/<run id>/artifacts`` goes with its run-id folder."""
    uri = run.artifact_uri
    suffix = f"/{run.id}/artifacts"
    if uri and uri.rstrip("/").endswith(suffix):
        return uri.rstrip("/")[: -len("/artifacts")]
    return uri


def _experiment_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise invalid_parameter(f"Invalid experiment ID: '{value}'") from None
