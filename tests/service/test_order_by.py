"""order_by parsing against MLflow's parser plus its SQL stores' checks (the oracle)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from trackd.errors import INVALID_PARAMETER_VALUE, MlflowError
from trackd.service.order_by import (
    OrderKey,
    parse_logged_model_order_by,
    parse_order_by,
    with_tiebreakers,
)

mlflow_search = pytest.importorskip("mlflow.utils.search_utils")
from mlflow.store.model_registry.sqlalchemy_store import (  # noqa: E402
    SqlAlchemyStore as _Registry,
)
from mlflow.store.tracking.sqlalchemy_store import (  # noqa: E402
    _get_orderby_clauses,
    _get_search_experiments_order_by_clauses,
)

S = mlflow_search.SearchUtils


def _runs(entry: str) -> tuple[Any, ...]:
    _get_orderby_clauses([entry], Session())
    kind, key, ascending = S.parse_order_by_for_search_runs(entry)
    return ({"parameter": "param"}.get(kind, kind), S.translate_key_alias(key), ascending)


def _experiments(entry: str) -> tuple[Any, ...]:
    _get_search_experiments_order_by_clauses([entry])
    return tuple(mlflow_search.SearchExperimentsUtils.parse_order_by_for_search_experiments(entry))


def _registered_models(entry: str) -> tuple[Any, ...]:
    _Registry._parse_search_registered_models_order_by([entry])
    key, ascending = S.parse_order_by_for_search_registered_models(entry)
    return ("attribute", {"timestamp": "last_updated_timestamp"}.get(key, key), ascending)


def _model_versions(entry: str) -> tuple[Any, ...]:
    _Registry._parse_search_model_versions_order_by([entry])
    utils = mlflow_search.SearchModelVersionUtils
    return tuple(utils.parse_order_by_for_search_model_versions(entry))


ORACLES = {
    "runs": _runs,
    "experiments": _experiments,
    "registered_models": _registered_models,
    "model_versions": _model_versions,
}

CORPUS = {
    "runs": [
        "metrics.acc DESC", "metrics.acc desc", "metrics.acc Desc", "metrics.acc ASC",
        "metrics.acc", "metrics.acc  DESC", "metrics.acc\tDESC", " metrics.acc DESC ",
        "metrics.acc ", "metrics.acc DESC ", "metrics.acc DESC ASC", "metrics.acc FOO",
        "metrics.acc DESCX", "metrics.acc DESC NULLS LAST", "metrics.acc DESC NULLS",
        "metric.acc DESC", "metrics.`val loss` DESC", 'metrics."val loss" DESC',
        "metrics.'val loss' DESC", "`metrics`.`a b` DESC", '"metrics".acc', "`metrics`.acc",
        "tags.`mlflow.user` ASC", "tags.mlflow.user ASC", "params.lr", "params.`a b`",
        "param.lr DESC", "params.x ASC", "params.`a.b`.c", "metrics.select DESC",
        "metrics.in DESC", "metrics.a-b", "metrics.a\\b", 'metrics.`a"b` DESC', "metrics.",
        "metrics", "start_time", "start_time DESC", "created DESC", "Created", "end_time ASC",
        "run_name", '"run name"', "`run name` ASC", "run_id", "status DESC", "user_id",
        "artifact_uri", "attribute.start_time", "attributes.status DESC", "attr.status",
        "run.status", "attributes.run_name", "datasets.name", "dataset.name", "foo",
        "foo.bar", "timestamp", "timestamp DESC", "metrics.acc,params.b", "metrics.acc;",
        "", "start_time DESC, run_id", "metrics.acc > 1", "(metrics.acc)", "metrics.acc -- c",
    ],
    "experiments": [
        "name", "name DESC", "name asc", "attribute.name", "attributes.experiment_id ASC",
        "attr.name", "tags.x", "creation_time DESC", "last_update_time", '"name"', "foo",
        "`attribute`.name", "experiment_id DESC", "metrics.x",
    ],
    "registered_models": [
        "name", "name DESC", "name desc", "timestamp", "timestamp DESC", "timestamp  asc",
        "last_updated_timestamp DESC", "attribute.name", '"name" ASC', '"name"', "`name`",
        "tags.x", "foo",
    ],
    "model_versions": [
        "name", "version_number DESC", "attribute.version_number", "creation_timestamp",
        "last_updated_timestamp DESC", "tags.x", "run_id", "timestamp", '"name"',
        "source_path", "attributes.name ASC",
    ],
}  # fmt: skip

# Where trackd answers differently on purpose.
DIFFERENCES = {
    # MLflow's SQL store rejects it, its docs and file store accept it: sort by creation time.
    ("registered_models", "creation_timestamp"): ("ok", ("attribute", "creation_timestamp", True)),
}
CASES = [(kind, entry) for kind, entries in CORPUS.items() for entry in entries]


def _ours(kind: str, entry: str) -> tuple[str, Any]:
    try:
        (key,) = parse_order_by(kind, [entry])
        return "ok", (key.entity, key.key, key.ascending)
    except MlflowError as exc:
        assert exc.code == INVALID_PARAMETER_VALUE
        return "error", exc.message


def _oracle(kind: str, entry: str) -> tuple[str, Any]:
    try:
        return "ok", ORACLES[kind](entry)
    except Exception as exc:
        return "error", str(exc)


@pytest.mark.parametrize(("kind", "entry"), CASES + list(DIFFERENCES))
def test_same_as_mlflow(kind: str, entry: str) -> None:
    expected = DIFFERENCES.get((kind, entry)) or _oracle(kind, entry)
    got = _ours(kind, entry)
    assert got[0] == expected[0], f"MLflow: {expected[1]!r}; trackd: {got[1]!r}"
    if expected[0] == "ok":
        assert got[1] == expected[1]


def test_duplicates_are_refused_like_mlflow() -> None:
    for kind, entries in [
        ("runs", ["created", "start_time DESC"]),
        ("runs", ["metrics.a", "metric.a DESC"]),
        ("model_versions", ["name", "attribute.name"]),
        ("registered_models", ["timestamp", "last_updated_timestamp"]),
    ]:
        with pytest.raises(MlflowError, match="duplicate"):
            parse_order_by(kind, entries)
    # MLflow's experiment search does not check; a repeated key is harmless there.
    assert len(parse_order_by("experiments", ["name", "name DESC"])) == 2


def test_tiebreakers() -> None:
    runs = with_tiebreakers("runs", parse_order_by("runs", ["metrics.acc DESC"]))
    assert [(k.key, k.ascending) for k in runs] == [
        ("acc", False),
        ("start_time", False),
        ("run_id", True),
    ]
    assert [k.key for k in with_tiebreakers("runs", parse_order_by("runs", ["created"]))] == [
        "start_time",
        "run_id",
    ]
    default = with_tiebreakers("experiments", ())
    assert [(k.key, k.ascending) for k in default] == [
        ("creation_time", False),
        ("experiment_id", True),
    ]
    named = with_tiebreakers("experiments", parse_order_by("experiments", ["name"]))
    assert [(k.key, k.ascending) for k in named] == [("name", True), ("experiment_id", False)]
    versions = with_tiebreakers("model_versions", ())
    assert [(k.key, k.ascending) for k in versions] == [
        ("name", True),
        ("version_number", False),
    ]
    models = with_tiebreakers("logged_models", ())
    assert [(k.key, k.ascending) for k in models] == [
        ("creation_timestamp", False),
        ("model_id", True),
    ]


def test_logged_model_order_by() -> None:
    keys = parse_logged_model_order_by(
        [
            {"field_name": "metrics.acc", "ascending": False, "dataset_name": "eval"},
            {"field_name": "creation_time"},
            {"field_name": "name", "ascending": True},
        ]
    )
    assert keys == (
        OrderKey("metric", "acc", False, "eval", None),
        OrderKey("attribute", "creation_timestamp", True),
        OrderKey("attribute", "name", True),
    )
    for bad, message in [
        ("name", "list of dictionaries"),
        ({}, "must be specified"),
        ({"field_name": "params.x"}, "only `metrics.<name>`"),
        ({"field_name": "bogus"}, "Invalid order by field name: bogus."),
        ({"field_name": "name", "ascending": "yes"}, "must be a boolean"),
        ({"field_name": "metrics.a", "dataset_digest": "d"}, "dataset_name"),
    ]:
        with pytest.raises(MlflowError, match=message) as info:
            parse_logged_model_order_by([bad])
        assert info.value.code == INVALID_PARAMETER_VALUE


def test_no_order_by() -> None:
    assert parse_order_by("runs", None) == () == parse_order_by("runs", [])
