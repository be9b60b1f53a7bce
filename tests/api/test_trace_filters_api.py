"""Trace filters in-process on every database: what the official client cannot make in trackd
(issue references), session-scoped assessments, the metadata MLflow keeps in columns, and bad
filters with MLflow's error code, status and message.

The filters the client can exercise end to end are in tests/compat/test_trace_filters.py.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlalchemy as sa
from compat.trace_filter_data import INVALID

V3 = "/api/3.0/mlflow"
USAGE = '{"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}'


def _trace(api: Any, exp: str, name: str, **metadata: str) -> str:
    trace_id = "tr-" + uuid.uuid4().hex
    info = {"trace_id": trace_id,
            "trace_location": {"type": "MLFLOW_EXPERIMENT",
                               "mlflow_experiment": {"experiment_id": exp}},
            "request_time": "2026-12-03T23:56:01.579Z", "execution_duration": "1.500s",
            "state": "OK", "tags": {"mlflow.traceName": name}, "trace_metadata": metadata}
    api.ok("POST", f"{V3}/traces", {"trace": {"trace_info": info}})
    return trace_id


def _found(api: Any, exp: str, text: str, names: dict[str, str]) -> list[str]:
    body = api.ok("POST", f"{V3}/traces/search", {"experiment_ids": [exp], "filter": text})
    return sorted(names[t["trace_id"]] for t in body.get("traces", []))


def _issue_reference(database_url: str, trace_id: str, issue_id: str) -> None:
    """An issue reference row as mlflow server 3.18 writes it (log_issue)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO assessments (assessment_id, trace_id, name, assessment_type, "
                "value, created_timestamp, last_updated_timestamp, source_type, valid) VALUES "
                "(:a, :t, :n, 'issue', :v, 1, 1, 'LLM_JUDGE', :valid)"),
                {"a": "a-" + uuid.uuid4().hex, "t": trace_id, "n": issue_id,
                 "v": json.dumps({"issue_name": "Slow"}), "valid": True})
    finally:
        engine.dispose()


def test_issues_sessions_and_promoted_metadata(api: Any, database_url: str) -> None:
    exp = api.new_experiment(f"tf-{uuid.uuid4().hex[:8]}")
    ids = {
        "a": _trace(api, exp, "a", **{"mlflow.trace.session": "s1",
                                      "mlflow.trace.tokenUsage": USAGE}),
        "b": _trace(api, exp, "b", **{"mlflow.trace.session": "s1"}),
        "c": _trace(api, exp, "c"),
    }
    names = {v: k for k, v in ids.items()}
    # Feedback made for the session, logged on trace a: it holds for b as well.
    api.ok("POST", f"{V3}/traces/{ids['a']}/assessments", {"assessment": {
        "assessment_name": "quality", "feedback": {"value": "good"},
        "metadata": {"mlflow.trace.session": "s1"}}})
    api.ok("POST", f"{V3}/traces/{ids['c']}/assessments", {"assessment": {
        "assessment_name": "score", "feedback": {"value": 2}}})
    _issue_reference(database_url, ids["c"], "iss-filters")
    cases = {
        "feedback.quality = 'good'": ["a", "b"],
        "feedback.quality IS NOT NULL": ["a", "b"],
        "feedback.quality IS NULL": ["c"],
        "feedback.score > 1.5": ["c"],
        "feedback.score = '2'": ["c"],
        "issue.id = 'iss-filters'": ["c"],
        "issue.id = 'iss-filters' AND trace.name = 'c'": ["c"],
        "issue.id = 'iss-none'": [],
        "metadata.`mlflow.trace.session` = 's1'": ["a", "b"],
        "metadata.`mlflow.trace.session` IS NULL": ["c"],
        f"metadata.`mlflow.trace.tokenUsage` = '{USAGE}'": ["a"],
        "metadata.`mlflow.trace.tokenUsage` = '{\"input_tokens\": 3}'": [],
        f"metadata.`mlflow.trace.tokenUsage` != '{USAGE}'": [],
        "metadata.`mlflow.trace.tokenUsage` IS NOT NULL": ["a"],
        "metadata.`mlflow.trace.cost` IS NULL": ["a", "b", "c"],
        # run_id other than '=' reads the metadata only (no link to a run)
        "trace.run_id != 'r'": [],
        "trace.end_time_ms > 0": ["a", "b", "c"],
        "trace.name RLIKE 'a|^c$'": ["a", "c"],
        "tags.`mlflow.traceName` RLIKE '^[ab]$'": ["a", "b"],
    }
    got = {text: _found(api, exp, text, names) for text in cases}
    assert got == cases


def test_bad_trace_filters(api: Any) -> None:
    exp = api.new_experiment(f"tf-{uuid.uuid4().hex[:8]}")
    search = f"{V3}/traces/search"
    wrong = {}
    extra = {
        "span.`attributes.` LIKE 'x'": "Span attribute name cannot be empty after 'attributes.'",
        "trace.prompt != 'a/1'": "Invalid comparator '!=' for prompts filter.",
        "prompt = 'a'": "Invalid prompts filter value 'a'.",
        "tags.x = ('a', 'b')": "A list of values can only be compared with IN or NOT IN",
        "metadata.x IN ('a')": "Expected a quoted string value for request_metadata",
        "span.name RLIKE '('": "Invalid regular expression '(' for RLIKE: ",
        " AND ".join(["span.name = 'a'"] * 101): "Invalid filter string: 101 comparisons",
    }
    for text, start in {**INVALID, **extra}.items():
        status, body = api.post(search, {"experiment_ids": [exp], "filter": text})
        if (status, body.get("error_code")) != (400, "INVALID_PARAMETER_VALUE") or not str(
                body.get("message", "")).startswith(start):
            wrong[text] = (status, body)
    assert not wrong, wrong
    # Patterns Python takes but a database's regular expressions may not: found or refused
    # with 400, never a server error.
    for pattern in ("(?P<n>a)", "a{,2}", "\\p{L}", "(?<=a)b", "[[:alpha:]]"):
        status, body = api.post(search, {"experiment_ids": [exp],
                                         "filter": f"trace.name RLIKE '{pattern}'"})
        assert (status == 200 or (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
                ), (pattern, status, body)
