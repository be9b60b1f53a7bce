"""The filter parser against MLflow's own parser (the oracle), string by string.

For every string of the corpus, MLflow 3.18's parser plus the checks its SQL stores make
decide accept or reject; trackd must decide the same, and for accepted strings produce the
same meaning (entity, key after aliasing, comparator, typed value). The few places where trackd
deliberately differs are listed in DIFFERENCES with the reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from trackd.errors import INVALID_PARAMETER_VALUE, MlflowError
from trackd.service.filter_syntax import tokenize
from trackd.service.filters import RULES, Clause, parse_filter

mlflow_search = pytest.importorskip("mlflow.utils.search_utils")
from mlflow.store.model_registry.sqlalchemy_store import (  # noqa: E402
    SqlAlchemyStore as _RegistryStore,
)
from mlflow.store.tracking.dbmodels.models import SqlLoggedModel  # noqa: E402
from mlflow.store.tracking.sqlalchemy_store import (  # noqa: E402
    _get_search_datasets_filter_clauses,
    _get_search_experiments_filter_clauses,
    _get_sqlalchemy_filter_clauses,
)
from mlflow.utils.search_logged_model_utils import EntityType, parse_filter_string  # noqa: E402

S = mlflow_search.SearchUtils
_TYPES = {"metric": "metric", "parameter": "param", "tag": "tag", "attribute": "attribute"}
_TYPES["dataset"] = "dataset"


# --- the oracle: MLflow's parser, then the validation its SQL stores do before querying ------


def _norm(d: dict[str, Any], key: str | None = None, value: Any = None) -> tuple[Any, ...]:
    return (
        _TYPES[d["type"]],
        d["key"] if key is None else key,
        d["comparator"].upper(),
        d["value"] if value is None else value,
    )


def _runs(text: str) -> list[tuple[Any, ...]]:
    parsed = S.parse_search_filter(text)
    _get_sqlalchemy_filter_clauses(parsed, Session(), "sqlite")
    return [
        _norm(
            d, S.translate_key_alias(d["key"]), float(d["value"]) if d["type"] == "metric" else None
        )
        for d in parsed
    ]


def _experiments(text: str) -> list[tuple[Any, ...]]:
    parsed = mlflow_search.SearchExperimentsUtils.parse_search_filter(text)
    _get_search_experiments_filter_clauses(parsed, "sqlite")
    out = []
    for d in parsed:
        value = d["value"]
        if d["type"] == "attribute" and d["key"] == "experiment_id":
            value = tuple(int(v) for v in value) if isinstance(value, tuple) else int(value)
        elif d["type"] == "attribute" and d["key"] in ("creation_time", "last_update_time"):
            value = int(value)
        out.append(_norm(d, value=value))
    return out


_registry = object.__new__(_RegistryStore)  # only its filter-building methods are used


def _registered_models(text: str) -> list[tuple[Any, ...]]:
    parsed = mlflow_search.SearchModelUtils.parse_search_filter(text)
    _registry._get_search_registered_model_filter_query(Session(), parsed, "sqlite")
    return [_norm(d) for d in parsed]


def _model_versions(text: str) -> list[tuple[Any, ...]]:
    parsed = mlflow_search.SearchModelVersionUtils.parse_search_filter(text)
    _registry._get_search_model_versions_filter_clauses(parsed, "sqlite")
    return [
        _norm(d, value=int(d["value"]) if d["key"] == "version_number" else None) for d in parsed
    ]


_LM_TYPES = {
    EntityType.ATTRIBUTE: "attribute",
    EntityType.METRIC: "metric",
    EntityType.PARAM: "param",
    EntityType.TAG: "tag",
}
_LM_COLUMNS = {
    "creation_timestamp_ms": "creation_timestamp",
    "last_updated_timestamp_ms": "last_updated_timestamp",
}


def _logged_models(text: str) -> list[tuple[Any, ...]]:
    out = []
    for c in parse_filter_string(text):
        key = c.entity.key
        if c.entity.type == EntityType.ATTRIBUTE:
            getattr(SqlLoggedModel, key)  # MLflow's store looks the column up like this
            key = _LM_COLUMNS.get(key, key)
            if key == "status" and c.op not in ("=", "!=", "IN", "NOT IN"):
                raise ValueError("Invalid comparison operator for status")
        out.append((_LM_TYPES[c.entity.type], key, c.op, c.value))
    return out


def _evaluation_datasets(text: str) -> list[tuple[Any, ...]]:
    parsed = mlflow_search.SearchEvaluationDatasetsUtils.parse_search_filter(text)
    _get_search_datasets_filter_clauses(parsed, "sqlite")
    out = []
    for d in parsed:
        numeric = d["type"] == "attribute" and d["key"] in ("created_time", "last_update_time")
        out.append(_norm(d, value=int(d["value"]) if numeric else None))
    return out


ORACLES = {
    "evaluation_datasets": _evaluation_datasets,
    "runs": _runs,
    "experiments": _experiments,
    "registered_models": _registered_models,
    "model_versions": _model_versions,
    "logged_models": _logged_models,
}


def oracle(kind: str, text: str) -> tuple[str, Any]:
    try:
        return "ok", ORACLES[kind](text)
    except Exception as exc:  # MLflow sometimes fails with a plain ValueError: still a reject
        return "error", str(exc)


def ours(kind: str, text: str) -> tuple[str, Any]:
    try:
        return "ok", [(c.entity, c.key, c.op, c.value) for c in parse_filter(kind, text)]
    except MlflowError as exc:
        assert exc.code == INVALID_PARAMETER_VALUE
        return "error", exc.message


CORPUS: dict[str, list[str]] = {
    "evaluation_datasets": [
        "name = 'qa'",
        'name = "qa"',
        "name != 'qa'",
        "name LIKE 'q%'",
        "name ILIKE 'Q%'",
        "name IN ('a', 'b')",
        "name NOT IN ('a')",
        "name > 'a'",
        "name = qa",
        "created_by = 'alice'",
        "last_updated_by LIKE 'a%'",
        "created_by IN ('a')",
        "created_time >= 1795752205717",
        "last_update_time < 5",
        "created_time = 1.5",
        "created_time > 'x'",
        "created_time LIKE 'a'",
        "tags.team = 'ml'",
        "tags.`a.b` = 'x'",
        "tags.team != 'ml'",
        "tags.team LIKE 'm%'",
        "tags.team ILIKE 'M%'",
        "tags.team > 'a'",
        "tags.team IS NULL",
        "tags.team = ml",
        "tag.team = 'ml'",
        "attribute.name = 'x'",
        "bogus = 1",
        "digest = 'x'",
        "name = 'a' AND tags.t = 'b'",
        "name = 'a' OR name = 'b'",
        "name = 'a';",
    ],
    "runs": [
        "metrics.acc > 0.5",
        "metrics.acc>0.5",
        "metrics.acc > -1",
        "metrics.acc > - 1",
        "metrics.acc > 1e5",
        "metrics.acc > 1E-5",
        "metrics.acc > 1.5e3",
        "metrics.acc > .5",
        "metrics.acc > 5.",
        "metrics.acc > +1",
        "metrics.acc > '0.5'",
        'metrics.acc > "0.5"',
        "metrics.acc > 0x10",
        "metric.acc = 1",
        "metrics.`acc` = 1",
        'metrics."acc" = 1',
        "metrics.'acc' = 1",
        "`metrics`.acc = 1",
        "metrics.`val loss` = 1",
        "metrics.val-loss = 1",
        "metrics.val loss = 1",
        "metrics.acc IS NULL",
        "params.lr = '0.1'",
        'params.lr = "0.1"',
        "params.lr = 0.1",
        "params.lr = abc",
        "params.lr like '%a'",
        "params.lr ILIKE '%a'",
        "params.lr IS NULL",
        "params.lr is null",
        "params.lr IS NOT NULL",
        "params.lr is not null",
        "params.lr IN ('a','b')",
        "params.\"my param\" = 'x'",
        "params.`my param` = 'x'",
        "tags.`mlflow.user` = 'x'",
        "tags.mlflow.user = 'x'",
        "tags.\"mlflow.user\" = 'x'",
        "tag.a = 'x'",
        "parameter.a = 'x'",
        "parameters.a = 'x'",
        "param.a = 'x'",
        "attribute.status = 'FINISHED'",
        "attributes.status = 'FINISHED'",
        "attr.status = 'FINISHED'",
        "run.status = 'FINISHED'",
        "status = 'FINISHED'",
        'status = "FINISHED"',
        "status = FINISHED",
        "status != 'FINISHED'",
        "status IN ('FINISHED')",
        "run_id IN ('a', 'b')",
        "run_id IN ('a')",
        "run_id IN ('a',)",
        "run_id IN ()",
        "run_id IN (1, 2)",
        "run_id NOT IN ('a', 'b')",
        "run_id not in ('a', 'b')",
        "run_id in ('a', 'b')",
        "run_name = 'x'",
        "run_name LIKE 'x%'",
        "\"run name\" = 'x'",
        "\"Run Name\" = 'x'",
        "`run name` = 'x'",
        "attributes.\"run name\" = 'x'",
        "attributes.`run name` = 'x'",
        "created > 1",
        "Created > 1",
        "start_time > 1",
        "start_time > 1.5",
        "start_time > '1'",
        "end_time <= 100",
        "user_id = 'bob'",
        "artifact_uri LIKE '%s3%'",
        "foo = 'x'",
        "attributes.foo = 'x'",
        "datasets.name = 'x'",
        "dataset.digest = 'x'",
        "datasets.context = 'training'",
        "datasets.name IN ('a','b')",
        "datasets.foo = 'x'",
        "datasets.name = x",
        "metrics.acc > 1 and params.lr = 'x'",
        "metrics.acc > 1 AND params.lr = 'x'",
        "metrics.acc > 1 And params.lr = 'x'",
        "metrics.acc > 1 OR params.lr = 'x'",
        "metrics.acc > 1 AND AND params.lr = 'x'",
        "metrics.acc > 1 AND",
        "AND metrics.acc > 1",
        "metrics.acc > 1 params.lr = 'x'",
        "(metrics.acc > 1)",
        "NOT metrics.acc > 1",
        "metrics.acc > 1; params.a = 'b'",
        "metrics.acc > 1;",
        "   metrics.acc   >   1   ",
        "foo.bar = 'x'",
        "metrics.acc",
        "metrics.acc >",
        "> 1",
        "'a' = params.x",
        "metrics.acc == 1",
        "metrics.acc <> 1",
        "metrics.acc LIKE 1",
        "metrics.acc => 1",
        "params.lr NOT LIKE '%a'",
        "params.a1 = 'x'",
        "metrics.acc_2 > 1",
        "metrics.2x > 1",
        "params.select = 'x'",
        "params.order = 'x'",
        "params.in = 'x'",
        "params.and = 'x'",
        "params.null = 'x'",
        "params.is = 'x'",
        "params.from = 'x'",
        "params.values = 'x'",
        "params.as = 'x'",
        "params.case = 'x'",
        "params.end = 'x'",
        "params.like = 'x'",
        "params.not = 'x'",
        "params.Select = 'x'",
        "metrics . acc > 1",
        "metrics .acc > 1",
        "metrics. acc > 1",
        "metrics.acc\t>\t1",
        "metrics.acc > 1 -- comment",
        "params.a = 'it''s'",
        "params.a = 'it\\'s'",
        'params.a = "say ""hi"""',
        "params.a = 'a AND b'",
        "params.a = ''",
        'params.a = ""',
        "params.a = 'x' AND params.b = 'y' AND metrics.c < 2",
        "tags.\"a b\" = 'x'",
        'tags."a""b" = \'x\'',
        "tags.`a``b` = 'x'",
        "params.é = 'x'",
        "params.日本 = 'x'",
        "params.a/b = 'x'",
        "params.`a/b` = 'x'",
        "params.a:b = 'x'",
        "params.a-b = 'x'",
        "params.`a-b` = 'x'",
        "params.a.b.c = 'x'",
        "params.a. = 'x'",
        "params. = 'x'",
        ".a = 'x'",
        "params = 'x'",
        "metrics.acc = 1.0e+5",
        "metrics.acc = 1e",
        "metrics.acc = -.5",
        "metrics.acc = -5.",
        "metrics.acc = 00012",
        "metrics.acc = 1_000",
        "metrics.acc = inf",
        "metrics.acc = NaN",
        "metrics.acc = 'NaN'",
        "status LIKE 'F%'",
        "status ILIKE 'f%'",
        "start_time IN (1, 2)",
        "start_time IN ('1')",
        "start_time LIKE 1",
        "start_time = -1",
        "start_time != 5",
        "user_id IS NULL",
        "tags.a IS NULL AND params.b IS NOT NULL",
        "tags.a IS  NOT   NULL",
        "tags.a IS NOT NULL AND metrics.x > 1",
        "tags.a ISNULL",
        "tags.a IS 'x'",
        "tags.a = NULL",
        "params.a IN ('x')",
        "datasets.name NOT IN ('a')",
        "datasets.digest LIKE 'a%'",
        "datasets.context IN ('a', \"b\")",
        'run_id IN ("a", "b")',
        "run_id IN ('a' 'b')",
        "run_id IN ('a', 1)",
        "run_id IN ('a', ('b'))",
        "run_id IN ('a', NULL)",
        "run_id IN 'a'",
        "run_id = ('a')",
        "run_id IN (  'a'  ,  'b'  )",
        "run_id NOT   IN ('a')",
        "run_id IN ('a',,'b')",
        'run_id IN ("a" + "b")',
        "run_id IN ('a'",
        "run_id = 'a",
        "params.x = 'a' and (metrics.y > 1)",
        "params.x = 'a' OR",
        "metrics.a > 1 AND NOT metrics.b > 2",
        "metrics.a BETWEEN 1 AND 2",
        "params.x = 'a' AND params.x = 'b'",
        "attribute.run_id = 'x'",
        "run.run_id = 'x'",
        "`attributes`.status = 'x'",
        "`attr`.status = 'x'",
        "`tags`.x = 'y'",
        "\"tags\".x = 'y'",
        "Tags.x = 'y'",
        "METRICS.x > 1",
        "STATUS = 'x'",
        "Status = 'x'",
        "params.x = 'a' ; ",
        "params.x = 'a';;",
        "metrics.acc foo > 1",
        "params.a b = 'x'",
        "metrics.2 > 1",
        "metrics.1e5 > 1",
        "metrics.acc > 1 AND metrics.b > 2 AND",
        "metrics.acc > 1 ANDmetrics.b > 2",
        "metrics.acc > 1 AND(metrics.b > 2)",
        "params.a = 'x'AND params.b = 'y'",
        "params.a='x'and params.b='y'",
        "metrics.a>1and metrics.b>2",
        "run_id IN('a')",
        "run_id NOT IN('a')",
        "tags.x IS NULL AND",
        "tags.x IS NULLAND params.b = 'y'",
        "tags.x IS NOT\tNULL",
        "run_id in ('a') and run_id not in ('b')",
        "metrics.acc = 1 = 2",
        "params.a LIKE 'x' ESCAPE '\\'",
        "1 = 1",
        "params.a = 'x' AND 1",
        "params.a = 'x' x",
        "metrics.acc > 1e5x",
        'metrics."a.b" > 1',
        "metrics.`a.b` > 1",
        "metrics.a.b > 1",
        "params.`a`.b = 'x'",
        "params.\"a b\".c = 'x'",
        "`params.a` = 'x'",
        "_x.y = 'x'",
        "tags.x = 'a' 'b'",
        "tags.x = 'a''b'",
        'tags.x = "a\'b"',
        "tags.x = 'a\"b'",
        "tags.x = N'abc'",
        "tags.x = $$abc$$",
        "tags.x = :param",
        "tags.x = ?",
        "tags.x = %s",
        "tags.x = @abc",
        "tags.x = x'00'",
        "metrics.x = 1 /* c */",
        "datasets.context = 'train' AND datasets.name = 'd1'",
        "status = 'RUNNING' AND start_time >= 1700000000000 AND end_time < 1800000000000",
        "params.p = 'a' AND params.q != 'b' AND tags.t LIKE '%x%' AND tags.u ILIKE 'Y%'",
        "metrics.m != 0",
        "metrics.m >= 1.5e-3 and metrics.n <= -2",
        "params.`a b`.`c` = 'x'",
        "tags.\"mlflow.source.git.commit\" = 'abc'",
    ],
    "experiments": [
        "name = 'x'",
        "name LIKE 'x%'",
        "name ILIKE 'x%'",
        "name != 'x'",
        "name IN ('a')",
        "name > 'a'",
        "attribute.name = 'x'",
        "attributes.name = 'x'",
        "attr.name = 'x'",
        "`attribute`.name = 'x'",
        "experiment_id = '1'",
        "experiment_id = 1",
        "experiment_id = 'abc'",
        "experiment_id IN ('1','2')",
        "experiment_id NOT IN ('1')",
        "experiment_id IN ('1','x')",
        "experiment_id > '1'",
        "experiment_id LIKE '1'",
        "creation_time > 1",
        "creation_time > 1.5",
        "creation_time > '1'",
        "creation_time LIKE 1",
        "creation_time IN (1)",
        "last_update_time <= 5",
        "last_update_time != -5",
        "tags.a = 'b'",
        "tag.a = 'b'",
        "tags.a IS NULL",
        "tags.a IS NOT NULL",
        "tags.a LIKE 'b%'",
        "tags.a ILIKE 'b%'",
        "tags.a IN ('b')",
        "tags.a > 'b'",
        "tags.`mlflow.note.content` = 'x'",
        "name IS NULL",
        "tags.`a b` = 'c'",
        "`tags`.x = 'c'",
        "metrics.a > 1",
        "params.a = 'x'",
        "\"name\" = 'x'",
        "`name` = 'x'",
        "'name' = 'x'",
        "lifecycle_stage = 'active'",
        "name = 'a' AND tags.x = 'y' AND creation_time > 0",
        "name = 'a' OR name = 'b'",
        "name = 'a';",
        "name = a",
    ],
    "registered_models": [
        "name = 'x'",
        "name != 'x'",
        "name LIKE 'x%'",
        "name ilike 'x%'",
        "name like 'x%'",
        "name IN ('a', 'b')",
        "name NOT IN ('a')",
        "name > 'a'",
        "\"name\" = 'x'",
        "`name` = 'x'",
        "attribute.name = 'x'",
        "attributes.name = 'x'",
        "attribute.\"name\" = 'x'",
        "tags.x = 'a'",
        "tag.x = 'a'",
        "tags.`mlflow.prompt.is_prompt` != 'true'",
        "name = 'x' AND tag.`mlflow.prompt.is_prompt` != 'true'",
        "tags.x LIKE 'a'",
        "tags.x IN ('a')",
        "tags.x IS NULL",
        "name IS NULL",
        "tags.x = 1",
        "name = 1",
        "creation_timestamp > 1",
        "foo = 'x'",
        "metrics.x > 1",
        "`tags`.x = 'a'",
    ],
    "model_versions": [
        "name = 'x'",
        "name = 'x' AND version_number = 1",
        "version_number = '1'",
        "version_number = 'x'",
        "version_number > 1",
        "version_number >= -1",
        "version_number = 1.5",
        "version_number LIKE 1",
        "version_number IN ('1')",
        "run_id = 'abc'",
        "run_id IN ('a')",
        "run_id NOT IN ('a', 'b')",
        "source_path = 'x'",
        "source_path LIKE 's3://%'",
        "source_path IN ('a')",
        "source_path = 1",
        "name = 1",
        "tags.x = 'a'",
        "tags.x IN ('a')",
        "tags.x IS NULL",
        "version_number IS NULL",
        "creation_timestamp > 1",
        "\"name\" = 'x'",
        "attribute.run_id = 'x'",
        "tag.x != 'y'",
        "name like 'x%' and tags.y ilike 'Z%'",
    ],
    "logged_models": [
        "name = 'model'",
        'name = "model"',
        "name = model",
        "name != 'm'",
        "name LIKE 'm%'",
        "name like 'm%'",
        "name IN ('a', 'b')",
        "name IN ('a')",
        "name > 'a'",
        "model_id = 'm-123'",
        "model_type = 'agent'",
        "status = 'READY'",
        "source_run_id = 'abc'",
        "creation_timestamp > 100",
        "creation_time > 100",
        "last_updated_timestamp <= 5",
        "last_updated_time <= 5",
        "creation_timestamp LIKE 1",
        "metrics.acc > 0.5",
        "metrics.acc >= 1e-3",
        "metrics.acc = -1",
        "metrics.acc LIKE 1",
        "metrics.`val loss` < 1",
        "params.lr = '0.01'",
        "params.lr = 0.01",
        "params.lr LIKE '0.%'",
        "params.lr IN ('a')",
        "tags.t = 'x'",
        "tags.`a.b` = 'x'",
        "attributes.name = 'x'",
        "attribute.name = 'x'",
        "metric.acc > 1",
        "foo = 'x'",
        "tags.t IS NULL",
        "name = 'a' AND metrics.acc > 0.1",
        "name = 'a' OR name = 'b'",
        "name = 'a' AND AND name = 'b'",
        "name = 'a';",
        "datasets.name = 'x'",
        "experiment_id = '1'",
    ],
}

# (kind, filter) -> what trackd answers instead of MLflow's answer, and why.
DIFFERENCES: dict[tuple[str, str], tuple[str, Any]] = {
    # MLflow's dataset search keeps the backticks in the key, so it can never match a tag;
    # trackd unquotes it as every other MLflow search does.
    ("evaluation_datasets", "tags.`a.b` = 'x'"): ("ok", [("tag", "a.b", "=", "x")]),
    # MLflow accepts a one-element "list" with = and then fails in SQL (HTTP 500).
    ("runs", "run_id = ('a')"): ("error", None),
    # MLflow keeps the double quotes of a logged-model value, so it can never match anything.
    ("logged_models", 'name = "model"'): ("ok", [("attribute", "name", "=", "model")]),
    # Documented alias of last_updated_timestamp; MLflow's SQL store forgot it.
    ("logged_models", "last_updated_time <= 5"): (
        "ok",
        [("attribute", "last_updated_timestamp", "<=", 5)],
    ),
    # Redundant with the request's experiment_ids; trackd's logged-model store has no such key.
    ("logged_models", "experiment_id = '1'"): ("error", None),
}

CASES = [(kind, text) for kind, texts in CORPUS.items() for text in texts]


@pytest.mark.parametrize(("kind", "text"), CASES)
def test_same_decision_and_meaning_as_mlflow(kind: str, text: str) -> None:
    got = ours(kind, text)
    if (kind, text) in DIFFERENCES:
        status, meaning = DIFFERENCES[(kind, text)]
        assert got[0] == status
        if status == "ok":
            assert got[1] == meaning
        return
    expected = oracle(kind, text)
    assert got[0] == expected[0], f"MLflow: {expected[1]!r}; trackd: {got[1]!r}"
    if expected[0] == "ok":
        assert got[1] == expected[1]


def test_the_corpus_is_large_and_mixed() -> None:
    decisions = [oracle(kind, text)[0] for kind, text in CASES]
    assert decisions.count("ok") > 150 and decisions.count("error") > 150
    assert set(CORPUS) == set(RULES)


@pytest.mark.parametrize(
    "text",
    [
        "metrics.acc == 1",
        "params.lr = 0.1",
        "params.lr = abc",
        "metrics.acc > '0.5'",
        "status IN ('FINISHED')",
        "run_id IN ()",
        "run_id IN ('a',,'b')",
        "metrics.acc > 1 OR params.lr = 'x'",
        "metrics.acc > 1; params.a = 'b'",
        "foo.bar = 'x'",
        "datasets.name = x",
        "user_id IS NULL",
        "'a' = params.x",
    ],
)
def test_runs_error_messages_match_mlflow(text: str) -> None:
    # MLflow prints Python sets, whose order varies: compare the words.
    def words(message: str) -> list[str]:
        return sorted(message.translate(str.maketrans("{}',", "    ")).split())

    assert words(ours("runs", text)[1]) == words(oracle("runs", text)[1])


def test_typed_ast() -> None:
    clauses = parse_filter(
        "runs",
        "metrics.acc >= 1e-3 AND params.`my param` LIKE 'a%' AND tags.t IS NOT NULL "
        "AND created > 5 AND \"run name\" = 'x' AND run_id NOT IN ('a', \"b\") "
        "AND datasets.context = 'eval'",
    )
    assert clauses == (
        Clause("metric", "acc", ">=", 0.001),
        Clause("param", "my param", "LIKE", "a%"),
        Clause("tag", "t", "IS NOT NULL", None),
        Clause("attribute", "start_time", ">", 5),
        Clause("attribute", "run_name", "=", "x"),
        Clause("attribute", "run_id", "NOT IN", ("a", "b")),
        Clause("dataset", "context", "=", "eval"),
    )
    assert isinstance(clauses[0].value, float) and isinstance(clauses[3].value, int)


def test_empty_filter_means_no_condition() -> None:
    for kind in RULES:
        assert parse_filter(kind, "") == () == parse_filter(kind, None)
        assert parse_filter(kind, "   ") == ()


def test_experiment_ids_and_times_become_integers() -> None:
    assert parse_filter("experiments", "experiment_id IN ('1', '2') AND creation_time > 5") == (
        Clause("attribute", "experiment_id", "IN", (1, 2)),
        Clause("attribute", "creation_time", ">", 5),
    )


def test_huge_integers_stay_bindable() -> None:
    (clause,) = parse_filter("runs", "start_time > 123456789012345678901234567890")
    assert isinstance(clause.value, float)


def test_tokenizer_follows_sqlparse_for_keys_after_a_dot() -> None:
    assert [t for t in tokenize("params.select") if t[0] != "ws"] == [
        ("name", "params"),
        ("punct", "."),
        ("name", "select"),
    ]
    assert ("kw", "in") in tokenize("params.in")
    assert tokenize("x > -1.5e3") == [
        ("name", "x"), ("ws", " "), ("cmp", ">"), ("ws", " "), ("float", "-1.5e3")
    ]  # fmt: skip
