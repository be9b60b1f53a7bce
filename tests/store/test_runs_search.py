"""search_run_ids on SQLite, PostgreSQL and MariaDB, checked against MLflow's own semantics.

The oracle is MLflow's in-memory search (``SearchUtils.filter`` / ``SearchUtils.sort``) over the
same runs as MLflow entities: it defines what the SQL must return, in which order, with
case-sensitive LIKE, NaN metrics, missing keys sorting last, and so on. Every query is read
page by page with several page sizes and must concatenate to exactly the oracle's list.
Sorted string values are chosen so that every database collation orders them as Python does.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from dbs import fresh_database

from trackd.errors import INVALID_PARAMETER_VALUE, MlflowError
from trackd.service.filters import parse_filter
from trackd.service.order_by import parse_order_by
from trackd.service.paging import check_max_results, decode_token, encode_token
from trackd.store import tables as T
from trackd.store.runs_search import search_run_ids

entities = pytest.importorskip("mlflow.entities")
from mlflow.utils.search_utils import SearchUtils  # noqa: E402

STAGES = {"ACTIVE_ONLY": ("active",), "DELETED_ONLY": ("deleted",), "ALL": ("active", "deleted")}


def _make_runs(n: int = 64, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    runs = []
    for i in range(n):
        metrics: dict[str, float] = {}
        if rnd.random() < 0.85:
            metrics["acc"] = (
                rnd.choice([float("nan"), 0.25]) if rnd.random() < 0.2 else round(rnd.random(), 2)
            )
        if rnd.random() < 0.7:
            metrics["loss"] = round(rnd.uniform(-1, 3), 3)
        params = {"size": f"s{rnd.randint(1, 5)}"}
        if rnd.random() < 0.8:
            params["lr"] = rnd.choice(["0.1", "0.01", "0.001"])
        if rnd.random() < 0.8:
            params["opt"] = rnd.choice(["adam", "Adam", "ADAM", "sgd", "SGD_x", "sgdx"])
        if rnd.random() < 0.3:
            del params["size"]
        tags = {"mlflow.runName": f"run-{i:02d}"}
        if rnd.random() < 0.7:
            tags["team"] = rnd.choice(["alpha", "Alpha", "beta"])
        if rnd.random() < 0.5:
            tags["grp"] = rnd.choice(["g1", "g2", "g3"])
        if rnd.random() < 0.4:
            tags["note"] = rnd.choice(["50%_done", "50x done", "a*b", "a[1]", "what?"])
        # (name, digest) -> context. "Eval" has digests of its own: MySQL's collations would
        # find ("eval", "d1") and ("Eval", "d1") to be the same primary key.
        inputs = {}
        for _ in range(rnd.choice([0, 0, 1, 2])):
            name = rnd.choice(["train_ds", "eval", "Eval"])
            digest = rnd.choice(["d1", "d2", "d3"]) + ("E" if name == "Eval" else "")
            inputs[(name, digest)] = rnd.choice(["training", "eval", None])
        runs.append(
            {
                "run_uuid": f"{i:02d}{rnd.getrandbits(120):030x}",
                "name": tags["mlflow.runName"],
                "experiment_id": rnd.choice([1, 1, 2]),
                "lifecycle_stage": "deleted" if rnd.random() < 0.15 else "active",
                "status": rnd.choice(["FINISHED", "RUNNING", "FAILED"]),
                "user_id": rnd.choice(["alice", "bob", "carol"]),
                "start_time": 1000 + 10 * rnd.randint(0, 20),  # ties exercise the run_id order
                "end_time": None if rnd.random() < 0.3 else 2000 + rnd.randint(0, 500),
                "artifact_uri": f"file:///a/{i}",
                "metrics": metrics,
                "params": params,
                "tags": tags,
                "inputs": inputs,
            }
        )
    return runs


RUNS = _make_runs()


def _insert(engine: sa.Engine, runs: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        for eid in (1, 2):
            conn.execute(
                sa.insert(T.experiments).values(
                    experiment_id=eid, name=f"e{eid}", artifact_location="a",
                    lifecycle_stage="active", creation_time=0, last_update_time=0,
                )
            )  # fmt: skip
        columns = ("run_uuid", "name", "experiment_id", "lifecycle_stage", "status", "user_id",
                   "start_time", "end_time", "artifact_uri")  # fmt: skip
        conn.execute(
            sa.insert(T.runs), [{c: r[c] for c in columns} | {"source_type": "LOCAL"} for r in runs]
        )
        metric_rows, param_rows, tag_rows = [], [], []
        for r in runs:
            for key, value in r["metrics"].items():
                nan = value != value
                metric_rows.append(
                    {"key": key, "value": 0.0 if nan else value, "timestamp": 0, "step": 0,
                     "is_nan": nan, "run_uuid": r["run_uuid"]}
                )  # fmt: skip
            param_rows += [
                {"key": k, "value": v, "run_uuid": r["run_uuid"]} for k, v in r["params"].items()
            ]
            tag_rows += [
                {"key": k, "value": v, "run_uuid": r["run_uuid"]} for k, v in r["tags"].items()
            ]
        conn.execute(sa.insert(T.latest_metrics), metric_rows)
        conn.execute(sa.insert(T.params), param_rows)
        conn.execute(sa.insert(T.tags), tag_rows)
        seen: dict[tuple[int, str, str], str] = {}
        for r in runs:
            for n, ((name, digest), context) in enumerate(r["inputs"].items()):
                key = (r["experiment_id"], name, digest)
                if key not in seen:
                    seen[key] = f"ds-{len(seen)}"
                    conn.execute(
                        sa.insert(T.datasets).values(
                            dataset_uuid=seen[key], experiment_id=key[0], name=name,
                            digest=digest, dataset_source_type="local", dataset_source="s",
                        )
                    )  # fmt: skip
                input_uuid = f"in-{r['run_uuid'][:8]}-{n}"
                conn.execute(
                    sa.insert(T.inputs).values(
                        input_uuid=input_uuid, source_type="DATASET", source_id=seen[key],
                        destination_type="RUN", destination_id=r["run_uuid"],
                    )
                )  # fmt: skip
                if context:
                    conn.execute(
                        sa.insert(T.input_tags).values(
                            input_uuid=input_uuid, name="mlflow.data.context", value=context
                        )
                    )


def _entity(r: dict[str, Any]) -> Any:
    e = entities
    info = e.RunInfo(
        run_id=r["run_uuid"], experiment_id=str(r["experiment_id"]), user_id=r["user_id"],
        status=r["status"], start_time=r["start_time"], end_time=r["end_time"],
        lifecycle_stage=r["lifecycle_stage"], artifact_uri=r["artifact_uri"], run_name=r["name"],
    )  # fmt: skip
    data = e.RunData(
        metrics=[e.Metric(k, v, 0, 0) for k, v in r["metrics"].items()],
        params=[e.Param(k, v) for k, v in r["params"].items()],
        tags=[e.RunTag(k, v) for k, v in r["tags"].items()],
    )
    dataset_inputs = [
        e.DatasetInput(
            e.Dataset(name, digest, "local", "s"),
            [e.InputTag("mlflow.data.context", ctx)] if ctx else [],
        )
        for (name, digest), ctx in r["inputs"].items()
    ]
    return e.Run(info, data, e.RunInputs(dataset_inputs))


ENTITIES = [_entity(r) for r in RUNS]


def expected_ids(experiment_ids: list[int], view: str, filt: str, order: list[str]) -> list[str]:
    runs = [
        r
        for r in ENTITIES
        if int(r.info.experiment_id) in experiment_ids and r.info.lifecycle_stage in STAGES[view]
    ]
    return [r.info.run_id for r in SearchUtils.sort(SearchUtils.filter(runs, filt), order)]


@pytest.fixture(scope="module")
def engine(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    with fresh_database(db_kind, tmp_path_factory.mktemp(f"runs-search-{db_kind}")) as url:
        eng = sa.create_engine(url)
        try:
            T.metadata.create_all(eng)
            _insert(eng, RUNS)
            yield eng
        finally:
            eng.dispose()


def read_all(
    conn: sa.Connection, experiment_ids: list[int], view: str, filt: str, order: list[str],
    page_size: int,
) -> list[str]:  # fmt: skip
    clauses, order_keys = parse_filter("runs", filt), parse_order_by("runs", order)
    out: list[str] = []
    token = None
    for _ in range(len(RUNS) + 2):
        ids, token = search_run_ids(
            conn, experiment_ids, clauses, view, order_keys, page_size, token
        )
        assert len(ids) <= page_size
        out += ids
        if token is None:
            return out
        assert len(ids) == page_size
    raise AssertionError("paging never ended")


SOME_IDS = ", ".join(f"'{r['run_uuid']}'" for r in RUNS[::5])
FILTERS = [
    "", "metrics.acc > 0.5", "metrics.acc <= 0.5", "metrics.acc != 0.25", "metrics.acc = 0.25",
    "metrics.loss < 0", "metrics.loss >= -0.5 AND metrics.acc < 0.9", "metrics.acc != 0",
    "metrics.acc >= 0", "metrics.acc < 0.3", "metrics.acc = 0", "metrics.loss > -0.5",
    "params.lr = '0.01'", "params.opt != 'adam'", "params.opt = 'Adam'",
    "params.opt LIKE 'a%'", "params.opt LIKE 'A%'", "params.opt ILIKE 'a%'",
    "params.opt LIKE 'sgd_'", "params.opt LIKE '%_x'", "params.opt ILIKE '%D_X'",
    "params.lr IS NULL", "params.opt IS NOT NULL",
    "tags.team = 'alpha'", "tags.team != 'alpha'", "tags.team ILIKE 'ALPHA'",
    "tags.team IS NULL", "tags.team IS NOT NULL", "tags.note LIKE '%*%'", "tags.note LIKE 'a[%'",
    "tags.note LIKE '50%'", "tags.note LIKE '50!%%'", "tags.note LIKE '%?'",
    "attributes.status = 'FINISHED'", "status != 'RUNNING'", "status LIKE 'f%'",
    "status ILIKE 'f%'", "user_id = 'bob'", "run_name LIKE 'run-1%'", "\"run name\" = 'run-03'",
    "start_time >= 1100", "created < 1050", "end_time < 2300", "end_time != 2100",
    f"run_id IN ({SOME_IDS})", f"run_id NOT IN ({SOME_IDS})", "artifact_uri LIKE '%/1%'",
    "datasets.name = 'eval'", "datasets.name ILIKE 'eval'", "datasets.name != 'train_ds'",
    "datasets.digest IN ('d1', 'd2')", "datasets.name NOT IN ('eval')",
    "datasets.context = 'training'", "datasets.context LIKE 'ev%'",
    "metrics.acc > 0.2 AND params.lr = '0.01' AND tags.team IS NOT NULL",
    "params.size = 's2' AND datasets.name = 'train_ds'",
]  # fmt: skip
ORDERS = [
    [], ["metrics.acc DESC"], ["metrics.acc"], ["metrics.loss DESC", "metrics.acc"],
    ["params.size"], ["params.size DESC", "metrics.loss"], ["tags.grp DESC"], ["tags.grp"],
    ["start_time"], ["start_time DESC"], ["end_time DESC"], ["end_time"], ["run_name DESC"],
    ["status", "user_id DESC"], ["created"], ["run_id DESC"],
]  # fmt: skip
CASES = (
    [(f, []) for f in FILTERS]
    + [("", o) for o in ORDERS]
    + [
        ("params.lr = '0.01'", ["metrics.acc DESC"]),
        ("metrics.acc > 0.3", ["params.size", "tags.grp DESC"]),
        ("tags.team IS NULL", ["end_time"]),
        ("datasets.context = 'eval'", ["metrics.loss"]),
    ]
)


@pytest.mark.parametrize(("filt", "order"), CASES)
def test_pages_match_mlflow(engine: sa.Engine, filt: str, order: list[str]) -> None:
    expected = expected_ids([1, 2], "ACTIVE_ONLY", filt, order)
    with engine.connect() as conn:
        assert read_all(conn, [1, 2], "ACTIVE_ONLY", filt, order, 1000) == expected
        assert read_all(conn, [1, 2], "ACTIVE_ONLY", filt, order, 7) == expected


@pytest.mark.parametrize("view", ["ACTIVE_ONLY", "DELETED_ONLY", "ALL"])
@pytest.mark.parametrize("experiment_ids", [[1], [2], [1, 2], [3]])
def test_view_types_and_experiments(
    engine: sa.Engine, view: str, experiment_ids: list[int]
) -> None:
    with engine.connect() as conn:
        got = read_all(conn, experiment_ids, view, "", ["metrics.acc DESC"], 5)
    assert got == expected_ids(experiment_ids, view, "", ["metrics.acc DESC"])


def test_page_by_page_sizes(engine: sa.Engine) -> None:
    expected = expected_ids([1, 2], "ALL", "", [])
    with engine.connect() as conn:
        for size in (1, 2, len(expected) - 1, len(expected), len(expected) + 1):
            assert read_all(conn, [1, 2], "ALL", "", [], size) == expected
        ids, token = search_run_ids(conn, [1, 2], (), "ALL", (), len(expected), None)
        assert len(ids) == len(expected) and token is None  # an exact fit has no next page


def test_no_experiments_no_runs(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert search_run_ids(conn, [], (), "ACTIVE_ONLY", (), 10, None) == ([], None)


def test_tokens_belong_to_their_query(engine: sa.Engine) -> None:
    order = parse_order_by("runs", ["metrics.acc DESC"])
    with engine.connect() as conn:
        _, token = search_run_ids(conn, [1, 2], (), "ACTIVE_ONLY", order, 3, None)
        assert token is not None
        others = [
            ([1], (), "ACTIVE_ONLY", order),
            ([1, 2], parse_filter("runs", "metrics.acc > 0"), "ACTIVE_ONLY", order),
            ([1, 2], (), "ALL", order),
            ([1, 2], (), "ACTIVE_ONLY", ()),
        ]
        for ids, clauses, view, keys in others:
            with pytest.raises(MlflowError) as info:
                search_run_ids(conn, ids, clauses, view, keys, 3, token)
            assert info.value.code == INVALID_PARAMETER_VALUE
        for bad in ("not base64 at all!", "e30", encode_token({"q": "x", "after": [1]}), "%%%"):
            with pytest.raises(MlflowError) as info:
                search_run_ids(conn, [1, 2], (), "ACTIVE_ONLY", order, 3, bad)
            assert info.value.code == INVALID_PARAMETER_VALUE
        # The experiment list order does not matter; the page size may change between pages.
        ids, _ = search_run_ids(conn, [2, 1], (), "ACTIVE_ONLY", order, 50, token)
        assert ids == expected_ids([1, 2], "ACTIVE_ONLY", "", ["metrics.acc DESC"])[3:53]


def test_paging_is_stable_while_runs_arrive(engine: sa.Engine, db_kind: str) -> None:
    """Keyset paging: a run inserted before the cursor does not shift later pages."""
    with engine.connect() as conn:
        first, token = search_run_ids(conn, [2], (), "ACTIVE_ONLY", (), 4, None)
        with engine.begin() as writer:
            writer.execute(
                sa.insert(T.runs).values(
                    run_uuid="ff" * 16, experiment_id=2, lifecycle_stage="active",
                    start_time=99999, user_id="u", status="RUNNING", source_type="LOCAL",
                )
            )  # fmt: skip
        try:
            rest = read_all_from(conn, token)
            assert first + rest == expected_ids([2], "ACTIVE_ONLY", "", [])
        finally:
            with engine.begin() as writer:
                writer.execute(sa.delete(T.runs).where(T.runs.c.run_uuid == "ff" * 16))


def read_all_from(conn: sa.Connection, token: str | None) -> list[str]:
    out: list[str] = []
    while token:
        ids, token = search_run_ids(conn, [2], (), "ACTIVE_ONLY", (), 4, token)
        out += ids
    return out


def test_duplicate_order_keys_are_refused(engine: sa.Engine) -> None:
    keys = parse_order_by("runs", ["metrics.a"]) * 2
    with engine.connect() as conn, pytest.raises(MlflowError, match="duplicate"):
        search_run_ids(conn, [1], (), "ACTIVE_ONLY", keys, 3, None)


def test_page_sizes_follow_mlflow() -> None:
    assert check_max_results("runs", None) == 1000
    assert check_max_results("runs", 50000) == 50000
    assert check_max_results("experiments", 1) == 1
    assert check_max_results("registered_models", None) == 100
    for kind, bad in [("runs", 0), ("runs", 50001), ("experiments", None), ("experiments", -1)]:
        with pytest.raises(MlflowError) as info:
            check_max_results(kind, bad)
        assert info.value.code == INVALID_PARAMETER_VALUE
        assert "max_results" in info.value.message


def test_tokens_are_opaque_url_safe_text(engine: sa.Engine) -> None:
    keys = parse_order_by("runs", ["params.size DESC"])
    with engine.connect() as conn:
        _, token = search_run_ids(conn, [1, 2], (), "ALL", keys, 2, None)
    assert token and token.isascii() and not set(token) & set("+/=")
    with pytest.raises(MlflowError):
        decode_token(token, "another query")
