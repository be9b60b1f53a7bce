"""search_runs through the official client: filters, ordering, and paging past 1,000 runs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, Run, ViewType
from mlflow.exceptions import MlflowException
from support.server import ServerProcess

pytestmark = pytest.mark.compat

BULK_RUNS = 1100  # more than one 1,000-run page, the client's own page size


@dataclass
class Sample:
    """Six runs with known metrics/params/tags/status, in start_time order."""

    experiment_id: str
    run_ids: list[str]
    base_time: int


def make_sample(client: MlflowClient, experiment_id: str) -> Sample:
    base = 1_700_000_000_000
    specs = [
        # name,   acc,  model, team, status
        ("alpha", 0.10, "cnn", "a", "FINISHED"),
        ("beta", 0.55, "cnn", "b", "FINISHED"),
        ("gamma", 0.70, "rnn", "a", "FAILED"),
        ("delta", 0.90, "mlp", "b", "FINISHED"),
        ("eps", 0.95, "Big-CNN", "c", "KILLED"),
        ("zeta", None, None, None, "RUNNING"),
    ]
    run_ids = []
    for i, (name, acc, model, team, status) in enumerate(specs):
        run = client.create_run(experiment_id, start_time=base + i * 1000, run_name=name)
        metrics = [] if acc is None else [Metric("acc", acc, base + i, 0)]
        params = [] if model is None else [Param("model", model)]
        tags = [] if team is None else [mlflow.entities.RunTag("team", team)]
        client.log_batch(run.info.run_id, metrics=metrics, params=params, tags=tags)
        if status != "RUNNING":
            client.set_terminated(run.info.run_id, status=status, end_time=base + i * 1000 + 500)
        run_ids.append(run.info.run_id)
    return Sample(experiment_id, run_ids, base)


# Session scope (cached per database kind): the filter and order cases only read it, and
# building it once instead of for each of 30 cases keeps the tier quick.
@pytest.fixture(scope="session")
def sample(live_server: ServerProcess) -> Sample:
    client = MlflowClient(live_server.url)
    return make_sample(client, client.create_experiment(f"sample-{uuid.uuid4().hex[:10]}"))


def names(runs: list[Run]) -> list[str]:
    return [r.info.run_name for r in runs]


def search(
    client: MlflowClient, s: Sample, flt: str = "", order: list[str] | None = None
) -> list[str]:
    return names(client.search_runs([s.experiment_id], filter_string=flt, order_by=order))


def test_default_order_is_newest_first(client: MlflowClient, sample: Sample) -> None:
    assert search(client, sample) == ["zeta", "eps", "delta", "gamma", "beta", "alpha"]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("metrics.acc > 0.5", {"beta", "gamma", "delta", "eps"}),
        ("metrics.acc <= 0.55", {"alpha", "beta"}),
        ("metrics.`acc` = 0.7", {"gamma"}),
        ("metrics.acc != 0.7", {"alpha", "beta", "delta", "eps"}),
        ("params.model = 'cnn'", {"alpha", "beta"}),
        ("params.model != 'cnn'", {"gamma", "delta", "eps"}),
        ("params.model LIKE '%cnn%'", {"alpha", "beta"}),
        ("params.model ILIKE '%CNN%'", {"alpha", "beta", "eps"}),
        ("params.model IS NULL", {"zeta"}),
        ("tags.team = 'a'", {"alpha", "gamma"}),
        ("tags.team IS NOT NULL AND tags.team != 'a'", {"beta", "delta", "eps"}),
        ("attributes.run_name = 'delta'", {"delta"}),
        ("run_name LIKE '%ta'", {"beta", "delta", "zeta"}),
        ("attributes.status = 'FINISHED'", {"alpha", "beta", "delta"}),
        ("status != 'FINISHED'", {"gamma", "eps", "zeta"}),
        ("metrics.acc > 0.5 AND params.model = 'cnn' AND tags.team = 'b'", {"beta"}),
    ],
)
def test_filters(client: MlflowClient, sample: Sample, flt: str, expected: set[str]) -> None:
    assert set(search(client, sample, flt)) == expected


def test_filter_on_start_time_and_run_id_in(client: MlflowClient, sample: Sample) -> None:
    base = sample.base_time
    assert set(search(client, sample, f"attributes.start_time >= {base + 3000}")) == {
        "delta",
        "eps",
        "zeta",
    }
    assert set(search(client, sample, f"start_time < {base + 1000}")) == {"alpha"}
    assert set(search(client, sample, f"attributes.end_time > {base + 2000}")) == {
        "gamma",
        "delta",
        "eps",
    }

    wanted = [sample.run_ids[1], sample.run_ids[4]]
    quoted = ", ".join(f"'{r}'" for r in wanted)
    assert set(search(client, sample, f"attributes.run_id IN ({quoted})")) == {"beta", "eps"}
    assert set(search(client, sample, f"run_id NOT IN ({quoted})")) == {
        "alpha",
        "gamma",
        "delta",
        "zeta",
    }


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (["metrics.acc DESC"], ["eps", "delta", "gamma", "beta", "alpha", "zeta"]),
        (["metrics.acc ASC"], ["alpha", "beta", "gamma", "delta", "eps", "zeta"]),
        (
            ["params.model DESC", "attributes.start_time DESC"],
            ["gamma", "delta", "beta", "alpha", "eps", "zeta"],
        ),
        (["tags.team DESC", "run_name ASC"], ["eps", "beta", "delta", "alpha", "gamma", "zeta"]),
        (["attributes.run_name ASC"], ["alpha", "beta", "delta", "eps", "gamma", "zeta"]),
        (["start_time ASC"], ["alpha", "beta", "gamma", "delta", "eps", "zeta"]),
    ],
)
def test_order_by(
    client: MlflowClient, sample: Sample, order: list[str], expected: list[str]
) -> None:
    assert search(client, sample, order=order) == expected


def test_filter_and_order_with_small_pages(client: MlflowClient, sample: Sample) -> None:
    page = client.search_runs(
        [sample.experiment_id], "metrics.acc >= 0.1", order_by=["metrics.acc DESC"], max_results=2
    )
    collected = names(page)
    while page.token:
        page = client.search_runs(
            [sample.experiment_id],
            "metrics.acc >= 0.1",
            order_by=["metrics.acc DESC"],
            max_results=2,
            page_token=page.token,
        )
        collected += names(page)
    assert collected == ["eps", "delta", "gamma", "beta", "alpha"]


def test_search_deleted_runs_by_view_type(client: MlflowClient, experiment_id: str) -> None:
    sample = make_sample(client, experiment_id)  # its own: this test deletes a run
    client.delete_run(sample.run_ids[0])
    assert "alpha" not in search(client, sample)
    deleted = client.search_runs([sample.experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert names(deleted) == ["alpha"]


def test_invalid_filter_is_invalid_parameter(client: MlflowClient, sample: Sample) -> None:
    for bad in ("metrics.acc > 'x'", "params.model = cnn", "metrics.acc > 1 OR metrics.acc < 0"):
        with pytest.raises(MlflowException) as exc:
            client.search_runs([sample.experiment_id], filter_string=bad)
        assert exc.value.error_code == "INVALID_PARAMETER_VALUE", bad


# ---------------------------------------------------------------- more than 1,000 runs


# Session scope (cached per database kind): pytest interleaves modules when it groups tests by
# parameter, and a module-scoped fixture would then be built more than once.
@pytest.fixture(scope="session")
def bulk_experiment(live_server: ServerProcess) -> Iterator[str]:
    """BULK_RUNS runs in one experiment, made once per database: run i has metric m=i,
    param p=v{i%3}, tag bucket={i%10}, and start_time base+i."""
    client = MlflowClient(live_server.url)
    exp_id = client.create_experiment(f"bulk-{uuid.uuid4().hex[:10]}")
    base = int(time.time() * 1000) - 10 * BULK_RUNS

    def make(i: int) -> None:
        run = client.create_run(
            exp_id, start_time=base + i, run_name=f"bulk-{i:04d}", tags={"bucket": str(i % 10)}
        )
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("m", float(i), base + i, 0)],
            params=[Param("p", f"v{i % 3}")],
        )

    # Several clients at once, as real training fleets do; also keeps the set-up short.
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(make, range(BULK_RUNS)))
    yield exp_id


def test_paging_over_1000_runs_with_client(client: MlflowClient, bulk_experiment: str) -> None:
    first = client.search_runs([bulk_experiment], max_results=1000)
    assert len(first) == 1000
    assert first.token
    second = client.search_runs([bulk_experiment], max_results=1000, page_token=first.token)
    assert len(second) == BULK_RUNS - 1000
    assert not second.token
    ids = [r.info.run_id for r in first] + [r.info.run_id for r in second]
    assert len(set(ids)) == BULK_RUNS
    # Default order: newest start_time first.
    assert [r.info.run_name for r in first[:3]] == [f"bulk-{i:04d}" for i in (1099, 1098, 1097)]


def test_paging_with_order_and_filter(client: MlflowClient, bulk_experiment: str) -> None:
    collected: list[float] = []
    token = None
    while True:
        page = client.search_runs(
            [bulk_experiment],
            "metrics.m >= 100 AND params.p != 'v0'",
            order_by=["metrics.m DESC"],
            max_results=250,
            page_token=token,
        )
        collected += [r.data.metrics["m"] for r in page]
        token = page.token
        if not token:
            break
    expected = [float(i) for i in reversed(range(100, BULK_RUNS)) if i % 3 != 0]
    assert collected == expected


def test_fluent_search_runs_dataframe(tracking_uri: str, bulk_experiment: str) -> None:
    frame = mlflow.search_runs(experiment_ids=[bulk_experiment])
    assert len(frame) == BULK_RUNS
    for column in (
        "run_id",
        "experiment_id",
        "status",
        "start_time",
        "metrics.m",
        "params.p",
        "tags.bucket",
        "tags.mlflow.runName",
    ):
        assert column in frame.columns, column
    assert frame["run_id"].is_unique
    assert sorted(frame["metrics.m"].tolist()) == [float(i) for i in range(BULK_RUNS)]
    assert (frame["status"] == "RUNNING").all()

    ones = mlflow.search_runs(
        experiment_ids=[bulk_experiment],
        filter_string="params.p = 'v1' AND tags.bucket = '7'",
        order_by=["metrics.m ASC"],
    )
    wanted = [float(i) for i in range(BULK_RUNS) if i % 3 == 1 and i % 10 == 7]
    assert ones["metrics.m"].tolist() == wanted

    as_list = mlflow.search_runs(
        experiment_ids=[bulk_experiment],
        max_results=1050,
        output_format="list",
        order_by=["attributes.start_time ASC"],
    )
    assert [r.info.run_name for r in as_list[:2]] == ["bulk-0000", "bulk-0001"]
    assert len(as_list) == 1050
