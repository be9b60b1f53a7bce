"""PostgreSQL stopped under load: trackd answers a retryable 503, then recovers by itself.

Runs a private PostgreSQL cluster (initdb in a temporary folder, its own port), so stopping it
touches nothing else on the machine.
"""

from __future__ import annotations

import collections
import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.server import free_port

from ops.conftest import trackd_process

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
pytestmark = pytest.mark.skipif(not BIN or os.geteuid() != 0 or not shutil.which("runuser"),
                                reason="needs PostgreSQL's server binaries and root (runuser)")


class Cluster:
    def __init__(self, root: Path) -> None:
        self.data, self.port = root / "pgdata", free_port()
        self.root = root

    def pg(self, *args: str) -> None:
        cmd = ["runuser", "-u", "postgres", "--", f"{BIN[-1]}/{args[0]}", *args[1:]]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.pg("pg_ctl", "-D", str(self.data), "-l", str(self.root / "pg.log"), "-w", "-o",
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        self.pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@contextlib.contextmanager
def private_postgres() -> Iterator[Cluster]:
    # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
    with tempfile.TemporaryDirectory(prefix="trackd-pg-") as raw:
        root = Path(raw)
        shutil.chown(root, "postgres", "postgres")
        cluster = Cluster(root)
        cluster.pg("initdb", "-D", str(cluster.data), "-A", "trust", "-U", "postgres")
        cluster.start()
        try:
            yield cluster
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                cluster.stop()


def test_postgres_restart_under_load(tmp_path: Path) -> None:
    with private_postgres() as pg:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{pg.port}/postgres"
        with trackd_process(tmp_path, "--backend-store-uri", url,
                            "--artifacts-destination", str(tmp_path / "art")) as server:
            api = f"{server.url}/api/2.0/mlflow"
            with httpx.Client(timeout=30) as http:
                exp = http.post(f"{api}/experiments/create", json={"name": "x"}).json()
                runs = [http.post(f"{api}/runs/create", json={
                    "experiment_id": exp["experiment_id"]}).json()["run"]["info"]["run_id"]
                    for _ in range(8)]
            statuses: collections.Counter[int] = collections.Counter()
            bodies: list[str] = []
            stop = threading.Event()
            phase = {"name": "before"}
            seen: dict[str, collections.Counter[int]] = collections.defaultdict(
                collections.Counter)

            def client(run_id: str) -> None:
                with httpx.Client(timeout=60) as http:
                    step = 0
                    while not stop.is_set() and step < 5_000:
                        step += 1
                        resp = http.post(f"{api}/runs/log-metric", json={
                            "run_id": run_id, "key": "m", "value": 1.0, "timestamp": step,
                            "step": step})
                        statuses[resp.status_code] += 1
                        seen[phase["name"]][resp.status_code] += 1
                        if resp.status_code not in (200, 503) and len(bodies) < 5:
                            bodies.append(resp.text)
                        time.sleep(0.01)

            threads = [threading.Thread(target=client, args=(r,)) for r in runs]
            for thread in threads:
                thread.start()
            try:
                _wait_for(lambda: seen["before"][200] >= 20)
                pg.stop()
                phase["name"] = "down"
                _wait_for(lambda: seen["down"][503] >= 5)
                with httpx.Client(timeout=30) as http:
                    ready = http.get(f"{server.url}/ready")
                    assert ready.status_code == 503
                pg.start()
                phase["name"] = "after"
                _wait_for(lambda: seen["after"][200] >= 20)
            finally:
                stop.set()
                for thread in threads:
                    thread.join(timeout=120)
            assert set(statuses) <= {200, 503}, (statuses, bodies)
            with httpx.Client(timeout=30) as http:
                assert http.get(f"{server.url}/ready").status_code == 200
                error = http.post(f"{api}/runs/log-metric", json={})  # still a normal server
                assert error.status_code == 400


def _wait_for(condition: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the load to reach the next phase")
        time.sleep(0.1)
