"""Scale-out: several trackd processes on one database lose, duplicate and invent nothing.

Two shapes of deployment, each on a fresh database of every kind:

- ``workers``: one ``trackd server --workers 3`` (one listening socket, three processes);
- ``instances``: two separate ``trackd server`` processes on their own ports, started at the
  same moment on the same *empty* database (as two replicas of a deployment would be), so
  they also race to create the schema.

Clients spread over the processes log concurrently the way the MLflow client does
(create-run, log-metric, log-batch, set-tag, log-parameter), write to one shared run from every
process, and race each other on purpose: the same experiment name created by every client at
once (exactly one may win, the rest get RESOURCE_ALREADY_EXISTS) and the same param key logged
with different values at once (exactly one may win, the rest get INVALID_PARAMETER_VALUE),
while an identical re-log of a param always succeeds. Afterwards the database itself is read
with SQLAlchemy: every acknowledged write is there exactly once, nothing else is, the latest
value of each metric is its largest (step, timestamp, value), and no request was answered 5xx.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from support.db import enter_database

from ops.conftest import Proc, trackd_process
from trackd.store.tables import experiments, latest_metrics, metrics, params, runs, tags

CLIENTS = 12
STEPS = 30  # log-metric calls per client on its own run, and as many on the shared run
BATCH_EVERY = 5  # a log-batch and a set-tag every this many steps
RACE_ROUNDS = 4  # simultaneous create-experiment / conflicting log-param rounds
WORKERS = 3
T0 = 1_700_000_000_000

Point = tuple[str, str, int, int, float]  # run, key, step, timestamp, value


@dataclass
class Ledger:
    """What the servers acknowledged, and everything that went wrong on the wire."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    runs: set[str] = field(default_factory=set)
    points: list[Point] = field(default_factory=list)
    params: dict[tuple[str, str], str] = field(default_factory=dict)
    tags: dict[tuple[str, str], str] = field(default_factory=dict)
    shared_tag_values: set[str] = field(default_factory=set)
    # race round -> [(client, status, error_code, experiment_id)]
    experiment_races: dict[int, list[tuple[int, int, str, str]]] = field(default_factory=dict)
    param_races: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)


class Client:
    """One MLflow-client-like caller pinned to one process (its own keep-alive connection)."""

    def __init__(self, index: int, url: str, ledger: Ledger) -> None:
        self.index = index
        self.http = httpx.Client(base_url=f"{url}/api/2.0/mlflow", timeout=60)
        self.ledger = ledger

    def close(self) -> None:
        self.http.close()

    def post(self, path: str, body: dict[str, Any], *, allowed: tuple[str, ...] = ()
             ) -> tuple[int, dict[str, Any]]:
        """POST and record; a status other than 200 is a failure unless its error code is
        in ``allowed``. Transport errors are failures too (a worker must never drop a call)."""
        try:
            resp = self.http.post(path, json=body)
        except httpx.HTTPError as exc:
            with self.ledger.lock:
                self.ledger.unexpected.append(f"{path}: {type(exc).__name__}: {exc}")
            return 0, {}
        try:
            data = resp.json() if resp.content else {}
        except ValueError:
            data = {"raw": resp.text[:300]}
        code = str(data.get("error_code", "")) if isinstance(data, dict) else ""
        with self.ledger.lock:
            self.ledger.statuses[resp.status_code] += 1
            if resp.status_code != 200 and code not in allowed:
                self.ledger.unexpected.append(f"{path} -> {resp.status_code} {resp.text[:300]}")
        return resp.status_code, data if isinstance(data, dict) else {}

    def create_run(self, experiment_id: str) -> str | None:
        status, data = self.post("runs/create", {"experiment_id": experiment_id,
                                                 "start_time": T0})
        if status != 200:
            return None
        run_id = str(data["run"]["info"]["run_id"])
        with self.ledger.lock:
            self.ledger.runs.add(run_id)
        return run_id

    def log_metric(self, run_id: str, key: str, step: int, timestamp: int, value: float) -> None:
        status, _ = self.post("runs/log-metric", {"run_id": run_id, "key": key, "value": value,
                                                  "timestamp": timestamp, "step": step})
        if status == 200:
            with self.ledger.lock:
                self.ledger.points.append((run_id, key, step, timestamp, value))

    def log_batch(self, run_id: str, batch: int) -> None:
        me = self.index
        batch_params = {f"c{me}-b{batch}-p{j}": f"v{me}.{batch}.{j}" for j in range(3)}
        batch_tags = {f"c{me}-b{batch}-t{j}": f"t{me}.{batch}.{j}" for j in range(3)}
        points = [(run_id, f"batch{j}", batch, T0 + batch * 10 + j, me + batch / 8 + j)
                  for j in range(5)]
        status, _ = self.post("runs/log-batch", {
            "run_id": run_id,
            "params": [{"key": k, "value": v} for k, v in batch_params.items()],
            "tags": [{"key": k, "value": v} for k, v in batch_tags.items()],
            "metrics": [{"key": k, "value": v, "timestamp": ts, "step": s}
                        for _, k, s, ts, v in points],
        })
        if status == 200:
            with self.ledger.lock:
                self.ledger.points.extend(points)
                self.ledger.params.update({(run_id, k): v for k, v in batch_params.items()})
                self.ledger.tags.update({(run_id, k): v for k, v in batch_tags.items()})

    def set_tag(self, run_id: str, key: str, value: str) -> bool:
        status, _ = self.post("runs/set-tag", {"run_id": run_id, "key": key, "value": value})
        return status == 200

    def log_param(self, run_id: str, key: str, value: str, *, allowed: tuple[str, ...] = ()
                  ) -> tuple[int, str]:
        status, data = self.post("runs/log-parameter",
                                 {"run_id": run_id, "key": key, "value": value}, allowed=allowed)
        return status, str(data.get("error_code", ""))


def _workload(client: Client, experiment_id: str, shared_run: str, start: threading.Barrier,
              ledger: Ledger) -> None:
    me = client.index
    for round_ in range(RACE_ROUNDS):
        # Every client at once, so that the processes really collide on the same row.
        start.wait()
        status, data = client.post("experiments/create", {"name": f"race-{round_}"},
                                   allowed=("RESOURCE_ALREADY_EXISTS",))
        with ledger.lock:
            ledger.experiment_races.setdefault(round_, []).append(
                (me, status, str(data.get("error_code", "")), str(data.get("experiment_id", ""))))
        start.wait()
        status, code = client.log_param(shared_run, f"conflict-{round_}", f"client-{me}",
                                        allowed=("INVALID_PARAMETER_VALUE",))
        with ledger.lock:
            ledger.param_races.setdefault(round_, []).append((me, status, code))
            if status == 200:
                ledger.params[(shared_run, f"conflict-{round_}")] = f"client-{me}"
        # The same value from everyone: an identical re-log is always allowed.
        status, _ = client.log_param(shared_run, "same-everywhere", "one-value")
        if status == 200:
            with ledger.lock:
                ledger.params[(shared_run, "same-everywhere")] = "one-value"

    run_id = client.create_run(experiment_id)
    if run_id is None:
        return
    for step in range(STEPS):
        client.log_metric(run_id, "loss", step, T0 + step, 1.0 / (step + 1))
        # Every client writes the same key of the same run at the same steps, with its own
        # timestamps and values: the latest row of that key is fought over by every process.
        client.log_metric(shared_run, "shared", step % 7, T0 + step * CLIENTS + me,
                          me + step / 100)
        if step % BATCH_EVERY == 0:
            batch = step // BATCH_EVERY
            client.log_batch(run_id, batch)
            key, value = f"c{me}-tag", f"value-{step}"
            if client.set_tag(run_id, key, value):
                with ledger.lock:
                    ledger.tags[(run_id, key)] = value  # one writer per key: last one wins
            value = f"client-{me}-step-{step}"
            if client.set_tag(shared_run, "shared-tag", value):
                with ledger.lock:
                    ledger.shared_tag_values.add(value)


def _drive(urls: list[str]) -> tuple[Ledger, str, str]:
    """Run the workload over ``urls`` (clients spread round-robin); return what was acked."""
    ledger = Ledger()
    clients = [Client(i, urls[i % len(urls)], ledger) for i in range(CLIENTS)]
    try:
        status, data = clients[0].post("experiments/create", {"name": "scale-out"})
        assert status == 200, data
        experiment_id = str(data["experiment_id"])
        shared_run = clients[1].create_run(experiment_id)
        assert shared_run is not None, ledger.unexpected
        start = threading.Barrier(CLIENTS, timeout=120)

        def one(client: Client) -> None:
            try:
                _workload(client, experiment_id, shared_run, start, ledger)
            except BaseException:
                start.abort()  # never leave the others waiting for a client that died
                raise

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            for future in [pool.submit(one, c) for c in clients]:
                future.result()
    finally:
        for client in clients:
            client.close()
    return ledger, experiment_id, shared_run


def _check_database(url: str, ledger: Ledger, experiment_id: str, shared_run: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            _check_experiments(conn, ledger)
            run_ids = sorted(ledger.runs)
            stored_runs = set(conn.scalars(sa.select(runs.c.run_uuid).where(
                runs.c.experiment_id == int(experiment_id))))
            assert stored_runs == ledger.runs
            assert conn.scalar(sa.select(sa.func.count()).select_from(runs)) == len(run_ids)
            _check_metrics(conn, ledger, run_ids)
            _check_params(conn, ledger, run_ids)
            _check_tags(conn, ledger, run_ids, shared_run)
    finally:
        engine.dispose()


def _check_experiments(conn: sa.Connection, ledger: Ledger) -> None:
    for round_, answers in sorted(ledger.experiment_races.items()):
        winners = [a for a in answers if a[1] == 200]
        losers = [a for a in answers if a[1] != 200]
        assert len(answers) == CLIENTS
        assert len(winners) == 1, (round_, answers)
        assert all(a[1] == 400 and a[2] == "RESOURCE_ALREADY_EXISTS" for a in losers), answers
        stored = conn.execute(sa.select(experiments.c.experiment_id).where(
            experiments.c.name == f"race-{round_}")).scalars().all()
        assert [str(i) for i in stored] == [winners[0][3]], (round_, stored, winners)
    names = set(conn.scalars(sa.select(experiments.c.name)))
    assert names == {"Default", "scale-out", *(f"race-{r}" for r in range(RACE_ROUNDS))}


def _check_metrics(conn: sa.Connection, ledger: Ledger, run_ids: list[str]) -> None:
    m = metrics.c
    stored = Counter(
        (r, k, int(s), int(ts), float(v))
        for r, k, s, ts, v in conn.execute(sa.select(m.run_uuid, m.key, m.step, m.timestamp,
                                                     m.value)))
    acked = Counter(ledger.points)
    assert len(ledger.points) > CLIENTS * STEPS, "the load never got going"
    assert max(acked.values()) == 1  # every point the clients sent is distinct
    missing = acked - stored
    extra = stored - acked
    assert not missing, f"{sum(missing.values())} acknowledged points lost: {list(missing)[:5]}"
    assert not extra, f"{sum(extra.values())} points stored that nobody logged: {list(extra)[:5]}"
    best: dict[tuple[str, str], tuple[int, int, float]] = {}
    for run_id, key, step, ts, value in ledger.points:
        best[(run_id, key)] = max(best.get((run_id, key), (step, ts, value)), (step, ts, value))
    lm = latest_metrics.c
    latest = {
        (r, k): (int(s), int(ts), float(v))
        for r, k, s, ts, v in conn.execute(sa.select(lm.run_uuid, lm.key, lm.step,
                                                     lm.timestamp, lm.value))
    }
    assert latest == best
    assert set(run for run, _ in latest) <= set(run_ids)


def _check_params(conn: sa.Connection, ledger: Ledger, run_ids: list[str]) -> None:
    for round_, answers in sorted(ledger.param_races.items()):
        winners = [a for a in answers if a[1] == 200]
        assert len(answers) == CLIENTS
        assert len(winners) == 1, (round_, answers)
        assert all(a[1] == 400 and a[2] == "INVALID_PARAMETER_VALUE"
                   for a in answers if a[1] != 200), answers
    p = params.c
    stored = [((r, k), v) for r, k, v in conn.execute(sa.select(p.run_uuid, p.key, p.value))]
    assert len(stored) == len(dict(stored))
    assert dict(stored) == ledger.params
    assert {r for (r, _), _ in stored} <= set(run_ids)


def _check_tags(conn: sa.Connection, ledger: Ledger, run_ids: list[str], shared_run: str) -> None:
    t = tags.c
    stored = {(r, k): v for r, k, v in conn.execute(sa.select(t.run_uuid, t.key, t.value))
              if not k.startswith("mlflow.")}
    shared = stored.pop((shared_run, "shared-tag"))
    assert shared in ledger.shared_tag_values
    assert stored == ledger.tags
    names = conn.execute(sa.select(t.run_uuid).where(t.key == "mlflow.runName")).scalars()
    assert sorted(names) == run_ids  # each run got exactly its one name tag


def _server_args(url: str, tmp_path: Path) -> tuple[str, ...]:
    return ("--backend-store-uri", url, "--artifacts-destination", str(tmp_path / "artifacts"))


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                # Field 4 of stat is the parent pid; the name (field 2) may hold spaces.
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


@contextlib.contextmanager
def _deployment(shape: str, url: str, tmp_path: Path) -> Iterator[list[Proc]]:
    args = _server_args(url, tmp_path)
    if shape == "workers":
        with trackd_process(tmp_path, *args, "--workers", str(WORKERS)) as proc:
            yield [proc]
        return
    with contextlib.ExitStack() as stack, ThreadPoolExecutor(max_workers=2) as pool:
        # Both processes start at the same moment on the empty database.
        started = list(pool.map(lambda _: stack.enter_context(trackd_process(tmp_path, *args)),
                                range(2)))
        yield started


def _log_tail(procs: list[Proc]) -> str:
    return "\n".join(f"--- {p.url}\n{p.log_text()[-3000:]}" for p in procs)


@pytest.mark.parametrize("shape", ["workers", "instances"])
def test_concurrent_writers_lose_and_duplicate_nothing(db_kind: str, shape: str,
                                                       tmp_path: Path) -> None:
    with enter_database(db_kind, tmp_path) as url, _deployment(shape, url, tmp_path) as procs:
        if shape == "workers":
            # The workers are real processes of their own, not threads of one.
            assert len(_children(procs[0].proc.pid)) >= WORKERS
        ledger, experiment_id, shared_run = _drive([p.url for p in procs])
        assert all(p.proc.poll() is None for p in procs), _log_tail(procs)
        assert not [s for s in ledger.statuses if s >= 500], (ledger.statuses, _log_tail(procs))
        assert not ledger.unexpected, (ledger.unexpected[:10], _log_tail(procs))
        _check_database(url, ledger, experiment_id, shared_run)


def test_instances_with_auth_start_together_and_share_users(db_kind: str, tmp_path: Path) -> None:
    """Two instances with authentication on, started at the same moment on a new tracking
    database and a new auth database: both come up, a user and a grant made through one
    instance hold on the other, and the other's UI lists exactly what that user may read."""
    # MLflow's auth schema names two foreign keys fk_user_id, which MySQL/MariaDB refuse within
    # one database (MLflow's basic-auth cannot use them either): there, auth is on PostgreSQL.
    auth_kind = "postgresql" if db_kind == "mysql" else db_kind
    admin = ("admin", "admin-password-123")
    with enter_database(db_kind, tmp_path) as url, \
            enter_database(auth_kind, tmp_path) as auth_url:
        ini = tmp_path / "basic_auth.ini"
        ini.write_text(f"[mlflow]\ndefault_permission = NO_PERMISSIONS\n"
                       f"database_uri = {auth_url}\nadmin_username = {admin[0]}\n"
                       f"admin_password = {admin[1]}\n")
        args = (*_server_args(url, tmp_path), "--app-name", "basic-auth")
        env = {"MLFLOW_AUTH_CONFIG_PATH": str(ini)}
        with contextlib.ExitStack() as stack, ThreadPoolExecutor(max_workers=2) as pool:
            first, second = pool.map(
                lambda _: stack.enter_context(trackd_process(tmp_path, *args, env=env)), range(2))
            api = "/api/2.0/mlflow/"
            with httpx.Client(base_url=first.url, auth=admin, timeout=30) as one, \
                    httpx.Client(base_url=second.url, timeout=30) as two:
                alice = ("alice", "alice-password-123")
                made = one.post(api + "users/create",
                                json={"username": alice[0], "password": alice[1]})
                assert made.status_code == 200, made.text
                ids = [two.post(api + "experiments/create", auth=admin,
                                json={"name": f"exp-{i}"}).json()["experiment_id"]
                       for i in range(2)]
                granted = one.post(api + "experiments/permissions/create", json={
                    "experiment_id": ids[1], "username": "alice", "permission": "READ"})
                assert granted.status_code == 200, granted.text
                page = two.get("/experiments", auth=alice)
                assert page.status_code == 200
                assert re.findall(r'<tr data-href="/experiments/(\d+)"', page.text) == [ids[1]]
                assert two.get(f"/experiments/{ids[0]}", auth=alice).status_code == 403
