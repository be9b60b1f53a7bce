"""`kill -9` under a 32-client log-metric load loses nothing that was acknowledged.

trackd answers a write only after the commit that holds it; this checks the promise end to end
against a real process, a real kill and the database it leaves behind.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from ops.conftest import trackd_process

CLIENTS = 32
MAX_CALLS = 2_000  # per client; the load is also bounded in time
# Kill once this many points were acknowledged (or after LOAD_SECONDS on a very busy machine),
# so the kill always lands in the middle of a running load.
KILL_AFTER_ACKS = 300
LOAD_SECONDS = 90.0


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_kill_9_loses_no_acknowledged_point(kind: str, tmp_path: Path) -> None:
    from dbs import fresh_database

    with fresh_database(kind, tmp_path) as url:
        args = ("--backend-store-uri", url, "--artifacts-destination", str(tmp_path / "art"))
        with trackd_process(tmp_path, *args) as server:
            api = f"{server.url}/api/2.0/mlflow"
            with httpx.Client(timeout=30) as http:
                exp = http.post(f"{api}/experiments/create", json={"name": "load"}).json()
                runs = [http.post(f"{api}/runs/create", json={
                    "experiment_id": exp["experiment_id"]}).json()["run"]["info"]["run_id"]
                    for _ in range(CLIENTS)]
            acked: dict[str, list[int]] = {run: [] for run in runs}
            stop = threading.Event()

            def client(run_id: str) -> None:
                with httpx.Client(timeout=10) as http:
                    for step in range(MAX_CALLS):
                        if stop.is_set():
                            return
                        try:
                            resp = http.post(f"{api}/runs/log-metric", json={
                                "run_id": run_id, "key": "loss", "value": step * 0.5,
                                "timestamp": 1_000 + step, "step": step})
                        except httpx.HTTPError:
                            return  # the server is gone
                        if resp.status_code == 200:
                            acked[run_id].append(step)

            threads = [threading.Thread(target=client, args=(r,)) for r in runs]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + LOAD_SECONDS
            while (sum(map(len, acked.values())) < KILL_AFTER_ACKS
                   and time.monotonic() < deadline):
                time.sleep(0.1)
            os.killpg(server.proc.pid, signal.SIGKILL)  # mid-load, no shutdown of any kind
            server.proc.wait(timeout=30)
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        total = sum(len(steps) for steps in acked.values())
        assert total > CLIENTS, "the load never got going"

        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                stored: dict[str, set[int]] = {run: set() for run in runs}
                for run_id, step in conn.execute(sa.text(
                        "SELECT run_uuid, step FROM metrics WHERE key = 'loss'")):
                    stored[run_id].add(int(step))
        finally:
            engine.dispose()
        lost = {run: sorted(set(steps) - stored[run])[:5] for run, steps in acked.items()
                if set(steps) - stored[run]}
        assert not lost, f"acknowledged points missing after kill -9: {lost}"

        # The server starts again on what the kill left behind and serves the history.
        with trackd_process(tmp_path, *args) as again, httpx.Client(timeout=30) as http:
            assert http.get(f"{again.url}/ready").status_code == 200
            run = runs[0]
            history = http.get(f"{again.url}/api/2.0/mlflow/metrics/get-history",
                               params={"run_id": run, "metric_key": "loss"}).json()
            got = {int(m["step"]) for m in history.get("metrics", [])}
            assert set(acked[run]) <= got
