"""Metric histories: full (paged) and sampled for charts."""

from __future__ import annotations

import base64
import binascii

import orjson
from sqlalchemy import Connection

from trackd.entities.metrics import Metric, from_stored
from trackd.errors import invalid_parameter
from trackd.service.runs import require_run
from trackd.store import metrics as store
from trackd.store.database import Database
from trackd.store.metrics import HistoryRow

MAX_RUNS_PER_BULK_REQUEST = 100
MAX_SAMPLES_PER_RUN = 2500
# get-history-bulk: MLflow's bounds.
MAX_RUNS_PER_BULK_HISTORY = 100
MAX_BULK_HISTORY_POINTS = 25_000


def _encode_position(position: tuple[int, int, float, bool]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"after": list(position)})).decode()


def _decode_position(token: str) -> tuple[int, int, float, bool]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        ts, step, value, is_nan = data["after"]
        return int(ts), int(step), float(value), bool(is_nan)
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise invalid_parameter(f"Invalid page token: {token!r}") from None


class MetricService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def history(
        self, run_id: str, key: str, max_results: int | None, page_token: str | None
    ) -> tuple[list[HistoryRow], str | None]:
        """One page of a metric's history; keyset paging stays fast at any depth."""
        if max_results is not None and max_results <= 0:
            raise invalid_parameter(
                f"Invalid value {max_results} for parameter 'max_results' supplied. "
                "It must be a positive integer."
            )
        after = _decode_position(page_token) if page_token else None

        def work(conn: Connection) -> tuple[list[HistoryRow], str | None]:
            require_run(conn, run_id)
            # One more than asked tells whether a next page exists; the +1 must stay in the
            # 64-bit range SQL's LIMIT takes (no history comes near that many points).
            limit = None if max_results is None else min(max_results, 2**63 - 2) + 1
            rows = store.history(conn, run_id, key, limit=limit, after=after)
            if max_results is not None and len(rows) > max_results:
                rows = rows[:max_results]
                ts, step, value, is_nan = rows[-1]
                return rows, _encode_position((ts, step, value, bool(is_nan)))
            return rows, None

        return await self.db.read(work)

    async def history_bulk(self, run_ids: list[str], key: str | None,
                           max_results: int | None) -> list[Metric]:
        """``get-history-bulk`` (an older chart call of MLflow's UI): each run's whole history
        of one metric, runs in id order, each in time order, at most ``max_results`` points
        in all (MLflow caps it at 25,000)."""
        if not run_ids:
            raise invalid_parameter(
                "GetMetricHistoryBulk request must specify at least one run_id.")
        if len(run_ids) > MAX_RUNS_PER_BULK_HISTORY:
            raise invalid_parameter(
                f"GetMetricHistoryBulk request cannot specify more than "
                f"{MAX_RUNS_PER_BULK_HISTORY} run_ids. Received {len(run_ids)} run_ids.")
        if key is None:
            raise invalid_parameter("GetMetricHistoryBulk request must specify a metric_key.")
        limit = min(max_results or MAX_BULK_HISTORY_POINTS, MAX_BULK_HISTORY_POINTS)
        if limit <= 0:
            raise invalid_parameter(f"max_results must be a positive integer, not {limit}.")

        def work(conn: Connection) -> list[Metric]:
            out: list[Metric] = []
            for run_id in sorted(set(run_ids)):
                rows = store.history(conn, run_id, key, limit=limit - len(out), after=None)
                rows = sorted(rows, key=lambda r: (r[0], r[1]))
                out.extend(Metric(key, from_stored(value, nan), ts, step, run_id=run_id)
                           for ts, step, value, nan in rows)
                if len(out) >= limit:
                    break
            return out

        return await self.db.read(work)

    async def sampled(
        self,
        run_ids: list[str],
        key: str,
        max_results: int,
        start_step: int | None,
        end_step: int | None,
    ) -> list[Metric]:
        """Up to ``max_results`` evenly spread points per run, first and last always kept."""
        if not run_ids:
            raise invalid_parameter("GetMetricHistoryBulkInterval request must specify run_ids.")
        if len(run_ids) > MAX_RUNS_PER_BULK_REQUEST:
            raise invalid_parameter(
                "GetMetricHistoryBulkInterval request must specify at most "
                f"{MAX_RUNS_PER_BULK_REQUEST} run_ids. Received {len(run_ids)} run_ids."
            )
        if not 1 <= max_results <= MAX_SAMPLES_PER_RUN:
            raise invalid_parameter(f"max_results must be between 1 and {MAX_SAMPLES_PER_RUN}.")
        if (start_step is None) != (end_step is None):
            raise invalid_parameter(
                "If either start step or end step are specified, both must be specified."
            )
        if start_step is not None and end_step is not None and start_step > end_step:
            raise invalid_parameter(
                "end_step must be greater than start_step. "
                f"Found start_step={start_step} and end_step={end_step}."
            )

        def work(conn: Connection) -> list[Metric]:
            for run_id in run_ids:
                require_run(conn, run_id)
            out: list[Metric] = []
            for run_id in run_ids:
                out.extend(store.sample(conn, run_id, key, max_results, start_step, end_step))
            return out

        return await self.db.read(work)
