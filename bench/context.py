"""What every scenario gets: the server, the run's settings, a set-up connection, helpers."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.httpclient import Connection
from bench.procs import PeakSampler
from bench.servers import HOST, Server

API = "/api/2.0/mlflow"
JSON = b"Content-Type: application/json\r\n"


@dataclass
class Config:
    """Sizes and bounds of one benchmark run (``--quick`` shrinks them)."""

    duration: float = 4.0  # seconds per load level
    warmup: float = 0.5
    max_requests: int = 60_000  # per load level
    log_metric_clients: tuple[int, ...] = (1, 8, 32)
    create_clients: tuple[int, ...] = (1, 8)
    batch_size: int = 1000
    batch_clients: int = 4
    history_steps: int = 100_000
    search_runs: int = 10_000
    seed_clients: int = 8
    seed_budget: float = 90.0  # seconds a server may take to seed the search experiment
    mlflow_seed_budget: float = 15.0  # mlflow seeds a timed sample; it searches a clone
    query_repeats: int = 15
    query_budget: float = 4.0
    paging_repeats: int = 3
    paging_budget: float = 20.0
    history_repeats: int = 5
    history_budget: float = 10.0
    artifact_bytes: int = 1 << 30
    quick: bool = False

    @classmethod
    def quick_mode(cls) -> Config:
        return cls(duration=1.5, warmup=0.2, max_requests=20_000, history_steps=20_000,
                   search_runs=1_000, seed_budget=60.0, mlflow_seed_budget=8.0,
                   query_repeats=5, query_budget=2.0, paging_repeats=1, paging_budget=10.0,
                   history_repeats=2, history_budget=5.0, artifact_bytes=128 << 20, quick=True)


@dataclass
class Ctx:
    server: Server
    cfg: Config
    conn: Connection
    sampler: PeakSampler
    workdir: Path
    shared: dict[str, Any] = field(default_factory=dict)  # per-server state across scenarios

    @property
    def host(self) -> str:
        return HOST

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def pid(self) -> int:
        return self.server.pid

    async def experiment(self, prefix: str) -> str:
        name = f"bench-{prefix}-{uuid.uuid4().hex[:8]}"
        reply = await self.conn.post_json(f"{API}/experiments/create", {"name": name})
        return str(reply["experiment_id"])

    async def run(self, experiment_id: str, conn: Connection | None = None) -> str:
        reply = await (conn or self.conn).post_json(f"{API}/runs/create",
                                                    create_run_body(experiment_id))
        return str(reply["run"]["info"]["run_id"])


def now_ms() -> int:
    return int(time.time() * 1000)


def create_run_body(experiment_id: str, start_time: int | None = None) -> dict[str, Any]:
    """What ``mlflow.start_run()`` sends (see the API captures)."""
    return {
        "experiment_id": experiment_id,
        "user_id": "bench",
        "start_time": start_time if start_time is not None else now_ms(),
        "tags": [
            {"key": "mlflow.user", "value": "bench"},
            {"key": "mlflow.source.name", "value": "bench.py"},
            {"key": "mlflow.source.type", "value": "LOCAL"},
        ],
    }
