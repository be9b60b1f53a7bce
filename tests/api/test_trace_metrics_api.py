"""traces/metrics and traces/calculate-filter-correlation in-process on every database: bad
input answered with MLflow's error code and a clear message, percentiles with ties, and what the
official client never sends. The client's view is in tests/compat/test_trace_metrics.py.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

V3 = "/api/3.0/mlflow"
METRICS = f"{V3}/traces/metrics"
CORRELATION = f"{V3}/traces/calculate-filter-correlation"


def _seed(api: Any, tokens: list[int]) -> str:
    """An experiment whose traces (all named ``t``) used these input token counts."""
    exp = api.new_experiment(f"tm-{uuid.uuid4().hex[:8]}")
    for n in tokens:
        info = {"trace_id": "tr-" + uuid.uuid4().hex,
                "trace_location": {"type": "MLFLOW_EXPERIMENT",
                                   "mlflow_experiment": {"experiment_id": exp}},
                "request_time": "2026-12-03T23:56:01.579Z", "execution_duration": "1.500s",
                "state": "OK", "tags": {"mlflow.traceName": "t"},
                "trace_metadata": {"mlflow.trace.tokenUsage":
                                   f'{{"input_tokens": {n}, "output_tokens": 1, '
                                   f'"total_tokens": {n + 1}}}'}}
        status, body = api.post(f"{V3}/traces", {"trace": {"trace_info": info}})
        assert status == 200, body
    return exp


def _query(exp: str, **fields: Any) -> dict[str, Any]:
    return {"experiment_ids": [exp], "view_type": "TRACES", "metric_name": "trace_count",
            "aggregations": [{"aggregation_type": "COUNT"}], **fields}


def test_percentiles_interpolate_between_tied_values(api: Any) -> None:
    exp = _seed(api, [1, 1, 2, 10])
    body = api.ok("POST", METRICS, _query(exp, metric_name="input_tokens", aggregations=[
        {"aggregation_type": "PERCENTILE", "percentile_value": p} for p in (0, 25, 50, 90, 100)
    ] + [{"aggregation_type": "AVG"}, {"aggregation_type": "SUM"}], dimensions=["trace_name"]))
    [point] = body["data_points"]
    assert point["dimensions"] == {"trace_name": "t"}
    assert point["values"] == pytest.approx({"P0.0": 1.0, "P25.0": 1.0, "P50.0": 1.5,
                                             "P90.0": 7.6, "P100.0": 10.0, "AVG": 3.5,
                                             "SUM": 14.0})


def test_served_under_ajax_api_and_ignores_page_tokens(api: Any) -> None:
    exp = _seed(api, [5])
    want = {"data_points": [{"metric_name": "trace_count", "values": {"COUNT": 1.0}}]}
    assert api.ok("POST", "/ajax-api/3.0/mlflow/traces/metrics", _query(exp)) == want
    assert api.ok("POST", METRICS, _query(exp, page_token="whatever")) == want
    assert api.ok("POST", METRICS, _query(exp, max_results=0)) == {}
    # protobuf JSON may carry enums as their numbers
    assert api.ok("POST", METRICS, _query(exp, view_type=1,
                                          aggregations=[{"aggregation_type": 1}])) == want


@pytest.mark.parametrize(("fields", "message"), [
    ({"experiment_ids": []}, "Missing value for required parameter 'experiment_ids'"),
    ({"experiment_ids": "1"}, "for parameter 'experiment_ids'"),
    ({"experiment_ids": ["abc"]}, "Invalid experiment ID 'abc'"),
    ({"view_type": None}, "Missing value for required parameter 'view_type'"),
    ({"view_type": "NOPE"}, "Invalid value 'NOPE' for parameter 'view_type'"),
    ({"metric_name": None}, "Missing value for required parameter 'metric_name'"),
    ({"metric_name": "nope"}, "metric_name must be one of ['trace_count', 'session_count'"),
    ({"aggregations": None}, "Missing value for required parameter 'aggregations'"),
    ({"aggregations": []}, "aggregations must name at least one aggregation"),
    ({"aggregations": [{"aggregation_type": "MEDIAN"}]}, "parameter 'aggregation_type'"),
    ({"aggregations": [{}]}, "'aggregations[0].aggregation_type'"),
    ({"aggregations": [{"aggregation_type": "SUM"}]},
     "Found invalid aggregation_type(s): ['SUM']. Supported aggregation types: ['COUNT']"),
    ({"metric_name": "latency", "aggregations": [{"aggregation_type": "PERCENTILE"}]},
     "percentile_value is required for PERCENTILE aggregation"),
    ({"metric_name": "latency",
      "aggregations": [{"aggregation_type": "PERCENTILE", "percentile_value": 150}]},
     "Percentile value must be between 0 and 100, got 150.0"),
    ({"metric_name": "latency",
      "aggregations": [{"aggregation_type": "AVG", "percentile_value": 5}]},
     "percentile_value is only allowed for PERCENTILE aggregation type, got AVG"),
    ({"dimensions": ["span_name"]}, "Found invalid dimension(s): ['span_name']"),
    ({"time_interval_seconds": 60}, "start_time_ms and end_time_ms are required"),
    ({"time_interval_seconds": -5, "start_time_ms": 0, "end_time_ms": 1},
     "time_interval_seconds must be positive, got -5"),
    ({"time_interval_seconds": 2**40, "start_time_ms": 0, "end_time_ms": 1},
     "time_interval_seconds must be at most 9223372036"),
    ({"max_results": "x"}, "for parameter 'max_results'"),
    ({"max_results": -1}, "max_results must be at least 0"),
    ({"filters": ["run.status = 'OK'"]}, "Invalid view type 'run'"),
    ({"filters": ["status = 'OK'"]}, "Invalid identifier 'status'"),
    ({"filters": ["status"]}, "Invalid clause(s) in filter string: status"),
    ({"filters": ["trace.name = 'x'"]}, "Invalid entity 'name' specified for view type 'trace'"),
    ({"filters": ["trace.tag = 'x'"]}, "Filtering by tag requires a key"),
    ({"filters": ["trace.status.x = 'x'"]}, "Filtering by status does not require a key"),
    ({"filters": ["trace.status != 'OK'"]}, "Invalid comparator: '!=', only '='"),
    ({"filters": ["trace.status = 5"]}, "Expected a quoted string value for status value"),
    ({"filters": ["trace.status = 'OK' AND trace.tag.a = 'b'"]}, "Expected one filter clause"),
    ({"filters": ["span.name = 'llm'"]},
     "Filtering by span is only supported for SPANS view type, got TRACES"),
    ({"filters": ["assessment.name = 'x'"]},
     "Filtering by assessment is only supported for ASSESSMENTS view type, got TRACES"),
    ({"filters": ["trace.metadata.`mlflow.trace.tokenUsage` = '{}'"]}, "is not supported"),
    ({"filters": "trace.status = 'OK'"}, "for parameter 'filters'"),
])
def test_bad_metric_queries(api: Any, fields: dict[str, Any], message: str) -> None:
    body = _query("0", **fields)
    for name, value in fields.items():
        if value is None:
            del body[name]
    status, answer = api.post(METRICS, body)
    assert status == 400, answer
    assert answer["error_code"] == "INVALID_PARAMETER_VALUE", answer
    assert message in answer["message"]


def test_correlation_counts_and_undefined_npmi(api: Any) -> None:
    exp = _seed(api, [1, 2, 3])
    body = api.ok("POST", CORRELATION, {"experiment_ids": [exp],
                                        "filter_string1": "trace.status = 'OK'",
                                        "filter_string2": "trace.name = 'nope'"})
    # no trace matches the second filter: NPMI is undefined and left out
    assert body == {"filter1_count": 3, "filter2_count": 0, "joint_count": 0, "total_count": 3}
    body = api.ok("POST", CORRELATION, {"experiment_ids": [exp],
                                        "filter_string1": "trace.status = 'OK'",
                                        "filter_string2": "trace.name = 't'"})
    assert body["npmi"] == 1.0 and body["joint_count"] == 3


@pytest.mark.parametrize(("fields", "message"), [
    ({"experiment_ids": None}, "Missing value for required parameter 'experiment_ids'"),
    ({"filter_string1": ""}, "Missing value for required parameter 'filter_string1'"),
    ({"filter_string2": None}, "Missing value for required parameter 'filter_string2'"),
    ({"filter_string1": "foo = 'x'"}, "Invalid attribute key 'foo'"),
    ({"base_filter": "trace.status >>> 1"}, ""),
    ({"experiment_ids": ["x"]}, "Invalid experiment ID 'x'"),
])
def test_bad_correlation_requests(api: Any, fields: dict[str, Any], message: str) -> None:
    body = {"experiment_ids": ["0"], "filter_string1": "trace.status = 'OK'",
            "filter_string2": "trace.status = 'ERROR'", **fields}
    body = {k: v for k, v in body.items() if v is not None}
    status, answer = api.post(CORRELATION, body)
    assert status == 400, answer
    assert answer["error_code"] == "INVALID_PARAMETER_VALUE", answer
    assert message in answer["message"]
