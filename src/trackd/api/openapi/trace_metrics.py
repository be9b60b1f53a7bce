"""Trace metrics and filter correlation (MLflow 3; api/trace_metrics.py)."""

from __future__ import annotations

from trackd.api.openapi.spec import (
    DOUBLE,
    INT64,
    NAME,
    STRING,
    Operation,
    Operations,
    array,
    message,
    text,
)

_AGGREGATION = message(
    ("aggregation_type",),
    aggregation_type=text("COUNT, SUM, AVG, PERCENTILE, MIN or MAX (or its proto number)"),
    percentile_value={**DOUBLE, "description": "0..100, PERCENTILE only"},
)
_POINT = message(
    metric_name=STRING,
    dimensions={"type": "object", "additionalProperties": STRING},
    values={"type": "object", "additionalProperties": DOUBLE},
)

OPERATIONS: Operations = {
    ("POST", "/mlflow/traces/metrics"): Operation(
        "Aggregate the traces, spans or assessments of some experiments, grouped by dimensions "
        "and time buckets (the GenAI overview's charts)",
        message(
            ("experiment_ids", "view_type", "metric_name", "aggregations"),
            experiment_ids=array(STRING),
            view_type=text("TRACES, SPANS or ASSESSMENTS"),
            metric_name=NAME,
            aggregations=array(_AGGREGATION),
            dimensions=array(STRING),
            filters=array(text("one clause: <trace|span|assessment>.<entity>[.<key>] = 'v'")),
            time_interval_seconds=INT64,
            start_time_ms=INT64,
            end_time_ms=INT64,
            max_results=INT64,
            page_token=text("accepted and ignored, as by mlflow server 3.18"),
        ),
        message(data_points=array(_POINT), next_page_token=STRING),
        errors=(400,),
    ),
    ("POST", "/mlflow/traces/calculate-filter-correlation"): Operation(
        "How two trace search filters co-occur among an experiment's traces: counts and NPMI",
        message(
            ("experiment_ids", "filter_string1", "filter_string2"),
            experiment_ids=array(STRING),
            filter_string1=NAME,
            filter_string2=NAME,
            base_filter=STRING,
        ),
        message(npmi=DOUBLE, npmi_smoothed=DOUBLE, filter1_count=INT64, filter2_count=INT64,
                joint_count=INT64, total_count=INT64),
        errors=(400,),
    ),
}
