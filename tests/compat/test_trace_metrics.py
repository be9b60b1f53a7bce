"""Trace metrics and filter correlation through the official 3.18 client (its REST store's
``query_trace_metrics`` and the tracing client's ``calculate_trace_filter_correlation``), against
trackd and, with ``--compat-target mlflow``, mlflow server: each answer is checked against
numbers worked out here from the traces as the client reads them back, so both servers must
give the same numbers for the same data.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities.trace_metrics import AggregationType, MetricAggregation, MetricViewType
from mlflow.exceptions import MlflowException
from mlflow.store.analytics.trace_correlation import calculate_npmi_from_counts
from mlflow.tracing.constant import SpanAttributeKey
from mlflow.tracking._tracking_service.utils import _get_store

from .conftest import must
from .trace_metrics_data import log_traces

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*type hint is inferred as AnyType:UserWarning"),
]

COUNT = [MetricAggregation(AggregationType.COUNT)]


def approx(expected: Any) -> Any:
    """Equal as doubles; mlflow server on MySQL averages integers to four decimals."""
    return pytest.approx(expected, rel=1e-6, abs=1e-4)


def _p(value: float) -> MetricAggregation:
    return MetricAggregation(AggregationType.PERCENTILE, value)


def _aggs(*kinds: str) -> list[MetricAggregation]:
    return [MetricAggregation(AggregationType(k)) for k in kinds]


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * p / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass
class Seeded:
    experiment_id: str
    traces: list[Any]  # mlflow.entities.Trace, as read back

    def infos(self) -> list[Any]:
        return [t.info for t in self.traces]

    def spans(self) -> list[Any]:
        return [s for t in self.traces for s in t.data.spans]


_SEEDED: dict[str, Seeded] = {}


@pytest.fixture
def seeded(tracking_uri: str, client: MlflowClient) -> Seeded:
    """The fixed data set, logged once per server (a database kind) and read back."""
    if tracking_uri not in _SEEDED:
        experiment_id = client.create_experiment(f"trace-metrics-{tracking_uri[-5:]}")
        ids = log_traces(experiment_id)
        traces = [must(mlflow.get_trace(i)) for i in ids]
        _SEEDED[tracking_uri] = Seeded(experiment_id, traces)
    return _SEEDED[tracking_uri]


def query(seeded: Seeded, view: str, metric: str, aggregations: list[MetricAggregation],
          **kwargs: Any) -> list[tuple[dict[str, str], dict[str, float]]]:
    points = _get_store().query_trace_metrics(
        experiment_ids=[seeded.experiment_id], view_type=MetricViewType(view),
        metric_name=metric, aggregations=aggregations, **kwargs)
    for p in points:
        assert p.metric_name == metric
    return [(p.dimensions, p.values) for p in points]


def by(points: list[tuple[dict[str, str], dict[str, float]]], *names: str
       ) -> dict[tuple[str, ...], dict[str, float]]:
    return {tuple(d[n] for n in names): v for d, v in points}


def test_trace_counts_by_name_and_status(seeded: Seeded) -> None:
    got = by(query(seeded, "TRACES", "trace_count", COUNT,
                   dimensions=["trace_name", "trace_status"]), "trace_name", "trace_status")
    want = Counter((i.tags["mlflow.traceName"], i.state.value) for i in seeded.infos())
    assert got == {k: {"COUNT": float(n)} for k, n in want.items()}
    assert query(seeded, "TRACES", "trace_count", COUNT) == [({}, {"COUNT": 6.0})]
    sessions = {i.trace_metadata.get("mlflow.trace.session") for i in seeded.infos()} - {None}
    assert query(seeded, "TRACES", "session_count", COUNT) == [
        ({}, {"COUNT": float(len(sessions))})]


def test_token_usage_and_latency(seeded: Seeded) -> None:
    aggs = [*_aggs("SUM", "AVG", "MIN", "MAX"), _p(50), _p(25)]
    got = by(query(seeded, "TRACES", "input_tokens", aggs, dimensions=["trace_name"]),
             "trace_name")
    groups: dict[str, list[float]] = defaultdict(list)
    for info in seeded.infos():
        groups[info.tags["mlflow.traceName"]].append(must(info.token_usage)["input_tokens"])
    assert set(got) == {(name,) for name in groups}
    for name, values in groups.items():
        assert got[(name,)] == approx({
            "SUM": sum(values), "AVG": sum(values) / len(values), "MIN": min(values),
            "MAX": max(values), "P50.0": percentile(values, 50), "P25.0": percentile(values, 25)})
    totals = [must(i.token_usage)["total_tokens"] for i in seeded.infos()]
    [(dims, p95)] = query(seeded, "TRACES", "total_tokens", [_p(95)])
    assert dims == {} and p95 == approx({"P95.0": percentile(totals, 95)})
    latencies = [must(i.execution_duration) for i in seeded.infos()]
    [(_, stats)] = query(seeded, "TRACES", "latency", _aggs("AVG", "MIN", "MAX"))
    assert stats == approx({"AVG": sum(latencies) / 6, "MIN": min(latencies),
                            "MAX": max(latencies)})
    assert query(seeded, "TRACES", "cache_read_input_tokens", _aggs("SUM")) == []


def _bucket(ms: float, seconds: int) -> str:
    start = ms // (seconds * 1000) * seconds
    return datetime.fromtimestamp(start, tz=UTC).isoformat()


@pytest.mark.parametrize("seconds", [2, 3600])
def test_time_buckets(seeded: Seeded, seconds: int) -> None:
    points = query(seeded, "TRACES", "trace_count", COUNT, dimensions=["trace_status"],
                   time_interval_seconds=seconds, start_time_ms=0, end_time_ms=4102444800000)
    want = Counter((_bucket(i.request_time, seconds), i.state.value) for i in seeded.infos())
    assert by(points, "time_bucket", "trace_status") == {
        k: {"COUNT": float(n)} for k, n in want.items()}
    assert [d["time_bucket"] for d, _ in points] == sorted(d["time_bucket"] for d, _ in points)
    first = min(i.request_time for i in seeded.infos())
    assert query(seeded, "TRACES", "trace_count", COUNT, start_time_ms=0,
                 end_time_ms=first - 1) == [({}, {"COUNT": 0.0})]
    assert query(seeded, "TRACES", "trace_count", COUNT, start_time_ms=first,
                 end_time_ms=first) == [({}, {"COUNT": 1.0})]


def test_span_counts_costs_and_latency(seeded: Seeded) -> None:
    spans = seeded.spans()
    got = by(query(seeded, "SPANS", "span_count", COUNT, dimensions=["span_type"]), "span_type")
    types = Counter(s.span_type for s in spans)
    assert got == {(k,): {"COUNT": float(n)} for k, n in types.items()}
    llm = [s for s in spans if s.get_attribute(SpanAttributeKey.MODEL)]
    got = by(query(seeded, "SPANS", "span_count", COUNT,
                   dimensions=["span_model_name", "span_model_provider"]),
             "span_model_name", "span_model_provider")
    want = Counter((s.get_attribute(SpanAttributeKey.MODEL),
                    s.get_attribute(SpanAttributeKey.MODEL_PROVIDER)) for s in llm)
    assert got == {k: {"COUNT": float(n)} for k, n in want.items()}
    costs: dict[str, list[float]] = defaultdict(list)
    for s in llm:
        costs[s.get_attribute(SpanAttributeKey.MODEL)].append(
            s.get_attribute(SpanAttributeKey.LLM_COST)["total_cost"])
    aggs = [*_aggs("SUM", "AVG", "MIN", "MAX"), _p(50)]
    got = by(query(seeded, "SPANS", "total_cost", aggs, dimensions=["span_model_name"]),
             "span_model_name")
    for model, values in costs.items():
        assert got[(model,)] == approx({
            "SUM": sum(values), "AVG": sum(values) / len(values), "MIN": min(values),
            "MAX": max(values), "P50.0": percentile(values, 50)})
    durations: dict[str, list[int]] = defaultdict(list)
    for s in spans:
        durations[s.name].append((s.end_time_ns - s.start_time_ns) // 1_000_000)
    got = by(query(seeded, "SPANS", "latency", _aggs("AVG", "MAX"), dimensions=["span_name"]),
             "span_name")
    assert got == {(n,): approx({"AVG": sum(v) / len(v), "MAX": max(v)})
                   for n, v in durations.items()}
    llm_ok = sum(1 for t in seeded.traces for s in t.data.spans
                 if s.span_type == "LLM" and t.info.state.value == "OK")
    assert query(seeded, "SPANS", "span_count", COUNT,
                 filters=["span.type = 'LLM'", "trace.status = 'OK'"]) == [
        ({}, {"COUNT": float(llm_ok)})]
    day = _bucket(seeded.infos()[0].request_time, 86400)
    assert query(seeded, "SPANS", "span_count", COUNT, time_interval_seconds=86400,
                 start_time_ms=0, end_time_ms=4102444800000) == [
        ({"time_bucket": day}, {"COUNT": float(len(spans))})]


def _valid_feedback(seeded: Seeded) -> list[Any]:
    return [a for i in seeded.infos() for a in i.assessments if a.valid is not False]


def test_assessment_counts_and_values(seeded: Seeded) -> None:
    valid = _valid_feedback(seeded)
    got = by(query(seeded, "ASSESSMENTS", "assessment_count", COUNT,
                   dimensions=["assessment_name"]), "assessment_name")
    assert got == {(k,): {"COUNT": float(n)} for k, n in Counter(a.name for a in valid).items()}
    got = by(query(seeded, "ASSESSMENTS", "assessment_count", COUNT,
                   dimensions=["assessment_name", "assessment_value"]),
             "assessment_name", "assessment_value")
    shown = Counter((a.name, str(a.value).lower() if isinstance(a.value, bool) else str(a.value))
                    for a in valid)
    assert got == {k: {"COUNT": float(n)} for k, n in shown.items()}
    quality = [float(a.value) for a in valid if a.name == "quality"]
    got = by(query(seeded, "ASSESSMENTS", "assessment_value",
                   [*_aggs("AVG", "MIN", "MAX"), _p(50)], dimensions=["assessment_name"]),
             "assessment_name")
    assert got[("quality",)] == approx({
        "AVG": sum(quality) / len(quality), "MIN": min(quality), "MAX": max(quality),
        "P50.0": percentile(quality, 50)})
    relevant = [1.0 if a.value else 0.0 for a in valid if a.name == "relevant"]
    assert got[("relevant",)]["AVG"] == approx(sum(relevant) / len(relevant))
    ok_quality = sum(1 for i in seeded.infos() if i.state.value == "OK"
                     for a in i.assessments if a.valid is not False and a.name == "quality")
    assert query(seeded, "ASSESSMENTS", "assessment_count", COUNT, filters=[
        "assessment.name = 'quality'", "trace.status = 'OK'", "assessment.type = 'feedback'",
    ]) == [({}, {"COUNT": float(ok_quality)})]


def test_trace_filters_and_limits(seeded: Seeded) -> None:
    infos = seeded.infos()

    def count(*filters: str) -> float:
        [(_, values)] = query(seeded, "TRACES", "trace_count", COUNT, filters=list(filters))
        return values["COUNT"]

    assert count("trace.status = 'ERROR'") == sum(i.state.value == "ERROR" for i in infos)
    assert count("trace.tag.team = 'red'", "trace.metadata.`mlflow.trace.session` = 's2'") == sum(
        i.tags.get("team") == "red" and i.trace_metadata.get("mlflow.trace.session") == "s2"
        for i in infos)
    assert count("trace.tag.`mlflow.traceName` = 'chat'") == sum(
        i.tags["mlflow.traceName"] == "chat" for i in infos)
    assert count("trace.tag.team = 'nobody'") == 0
    limited = query(seeded, "TRACES", "trace_count", COUNT, dimensions=["trace_name"],
                    max_results=1)
    assert limited == [({"trace_name": "chat"}, {"COUNT": 3.0})]
    points = _get_store().query_trace_metrics(
        experiment_ids=["987654"], view_type=MetricViewType.TRACES, metric_name="trace_count",
        aggregations=COUNT)
    assert [(p.dimensions, p.values) for p in points] == [({}, {"COUNT": 0.0})]


@pytest.mark.parametrize(("first", "second", "base"), [
    ("trace.status = 'ERROR'", "tags.team = 'red'", None),
    ("trace.name = 'chat'", "metadata.`mlflow.trace.session` = 's1'", None),
    ("trace.name = 'chat'", "trace.name = 'chat'", None),
    ("trace.name = 'chat'", "trace.name = 'summarize'", None),
    ("trace.name = 'nope'", "trace.status = 'OK'", None),
    ("trace.status = 'OK'", "tags.team = 'red'", "trace.name = 'chat'"),
    ("trace.status = 'OK'", "tags.team = 'red'", "trace.name = 'zzz'"),
])
def test_filter_correlation(seeded: Seeded, client: MlflowClient, first: str, second: str,
                            base: str | None) -> None:
    def ids(f: str) -> set[str]:
        return {t.info.trace_id for t in mlflow.search_traces(
            locations=[seeded.experiment_id], filter_string=f, return_type="list")}

    population = ids(base) if base else {i.trace_id for i in seeded.infos()}
    one, two = ids(first) & population, ids(second) & population
    result = client._tracing_client.calculate_trace_filter_correlation(
        experiment_ids=[seeded.experiment_id], filter_string1=first, filter_string2=second,
        base_filter=base)
    assert (result.total_count, result.filter1_count, result.filter2_count,
            result.joint_count) == (len(population), len(one), len(two), len(one & two))
    want = calculate_npmi_from_counts(len(one & two), len(one), len(two), len(population))
    for got, expected in ((result.npmi, want.npmi), (result.npmi_smoothed, want.npmi_smoothed)):
        if expected is None or math.isnan(expected):
            assert got is None or math.isnan(got)
        else:
            assert got == approx(expected)


@pytest.mark.parametrize(("view", "metric", "aggs", "kwargs", "message"), [
    ("TRACES", "nope", COUNT, {}, "metric_name must be one of"),
    ("TRACES", "trace_count", _aggs("SUM"), {}, "Found invalid aggregation_type(s): ['SUM']"),
    ("TRACES", "latency", _aggs("AVG"), {"dimensions": ["trace_status"]},
     "Found invalid dimension(s): ['trace_status']"),
    ("TRACES", "trace_count", COUNT, {"time_interval_seconds": 60},
     "start_time_ms and end_time_ms are required"),
    ("TRACES", "trace_count", COUNT, {"filters": ["span.name = 'llm'"]},
     "Filtering by span is only supported for SPANS view type"),
    ("TRACES", "trace_count", COUNT, {"filters": ["trace.status != 'OK'"]},
     "only '=' operator is supported"),
    ("SPANS", "span_count", COUNT, {"filters": ["trace.nope = 'x'"]},
     "Invalid entity 'nope' specified for view type 'trace'"),
])
def test_bad_queries_are_refused(seeded: Seeded, view: str, metric: str,
                                 aggs: list[MetricAggregation], kwargs: dict[str, Any],
                                 message: str) -> None:
    with pytest.raises(MlflowException) as info:
        query(seeded, view, metric, aggs, **kwargs)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert message in info.value.message
