"""A small experiment of traces for the trace filter tests, made with the official client, and
the filters with the trace names each must find (checked against ``mlflow server`` 3.18 too;
scripts/capture_trace_filters.py recorded its answers into docs/mlflow-captures).

Traces, by name:
- ``t_chat``: CHAIN root (attribute ``model``), LLM child ``call_llm`` (attributes ``provider``,
  ``temperature``), question "What is MLflow?"; feedback ``relevance`` true, ``score`` 0.9;
  expectation ``expected_answer``; linked to a fresh issue (``log_issue``).
- ``t_retrieve``: CHAIN root, RETRIEVER child ``search_docs`` (attribute ``index``), query
  "vector db"; feedback ``relevance`` false, ``score`` 0.3, ``tone`` "friendly".
- ``t_fail``: TOOL root that raises (span and trace ERROR); tag ``env`` = ``prod``.
- ``t_plain``: UNKNOWN root; session ``s1``, user ``alice``.
"""

from __future__ import annotations

import contextlib
import uuid

import mlflow
from mlflow.entities import SpanType


@mlflow.trace(name="t_chat", span_type=SpanType.CHAIN, attributes={"model": "gpt-4o"})
def _chat(question: str) -> str:
    with mlflow.start_span("call_llm", span_type=SpanType.LLM) as span:
        span.set_inputs({"question": question})
        span.set_attributes({"provider": "openai", "temperature": 0.2})
        span.set_outputs("MLflow is a platform")
    return "MLflow is a platform"


@mlflow.trace(name="t_retrieve", span_type=SpanType.CHAIN)
def _retrieve(query: str) -> list[str]:
    with mlflow.start_span("search_docs", span_type=SpanType.RETRIEVER) as span:
        span.set_inputs({"query": query})
        span.set_attribute("index", "docs-v2")
        span.set_outputs(["doc-1"])
    return ["doc-1"]


@mlflow.trace(name="t_fail", span_type=SpanType.TOOL)
def _fail() -> None:
    mlflow.update_current_trace(tags={"env": "prod"})
    raise ValueError("tool broke")


@mlflow.trace(name="t_plain")
def _plain(x: int) -> int:
    mlflow.update_current_trace(
        metadata={"mlflow.trace.session": "s1", "mlflow.trace.user": "alice"})
    return x + 1


def _last() -> str:
    mlflow.flush_trace_async_logging(terminate=False)
    trace_id = mlflow.get_last_active_trace_id()
    assert trace_id is not None
    return trace_id


def make_traces() -> dict[str, str]:
    """Trace the four calls in the current experiment: trace name -> trace id."""
    ids = {}
    _chat("What is MLflow?")
    ids["t_chat"] = _last()
    _retrieve("vector db")
    ids["t_retrieve"] = _last()
    with contextlib.suppress(ValueError):
        _fail()
    ids["t_fail"] = _last()
    _plain(1)
    ids["t_plain"] = _last()
    chat, retrieve = ids["t_chat"], ids["t_retrieve"]
    mlflow.log_feedback(trace_id=chat, name="relevance", value=True)
    mlflow.log_feedback(trace_id=chat, name="score", value=0.9)
    mlflow.log_expectation(trace_id=chat, name="expected_answer", value="MLflow is a platform")
    mlflow.log_feedback(trace_id=retrieve, name="relevance", value=False)
    mlflow.log_feedback(trace_id=retrieve, name="score", value=0.3)
    mlflow.log_feedback(trace_id=retrieve, name="tone", value="friendly")
    return ids


def link_issue(experiment_id: str, trace_id: str) -> str:
    """A fresh issue, referenced by the trace (``log_issue``); its id."""
    issue_id = f"iss-{uuid.uuid4().hex[:12]}"
    mlflow.genai.create_issue("Slow answers", severity="medium", description="slow",
                              issue_id=issue_id, experiment_id=experiment_id)
    mlflow.log_issue(trace_id=trace_id, issue_id=issue_id, issue_name="Slow answers")
    return issue_id


ALL = ("t_chat", "t_fail", "t_plain", "t_retrieve")

# filter -> the trace names it finds (sorted)
MATCHES: dict[str, tuple[str, ...]] = {
    # spans: name, type, status (any one span of the trace)
    "span.name = 'call_llm'": ("t_chat",),
    "span.name != 'call_llm'": ALL,
    "span.name LIKE 'search%'": ("t_retrieve",),
    "span.name LIKE 'SEARCH%'": (),
    "span.name ILIKE 'SEARCH%'": ("t_retrieve",),
    "span.name IN ('call_llm', 'search_docs')": ("t_chat", "t_retrieve"),
    "span.name NOT IN ('t_chat', 't_retrieve', 'call_llm', 'search_docs')": ("t_fail", "t_plain"),
    "span.name RLIKE '^call_'": ("t_chat",),
    "span.name RLIKE '^CALL_'": (),
    "span.type = 'LLM'": ("t_chat",),
    "span.type = 'llm'": (),
    "span.type = 'RETRIEVER'": ("t_retrieve",),
    "span.type IN ('TOOL', 'UNKNOWN')": ("t_fail", "t_plain"),
    "span.status = 'ERROR'": ("t_fail",),
    "span.status = 'OK'": ("t_chat", "t_plain", "t_retrieve"),
    # one span must satisfy every span condition
    "span.name = 'call_llm' AND span.type = 'LLM'": ("t_chat",),
    "span.name = 'call_llm' AND span.type = 'CHAIN'": (),
    "span.type = 'CHAIN' AND span.name = 't_retrieve'": ("t_retrieve",),
    # span attributes: a pattern matched inside the span's JSON
    "span.attributes.provider LIKE '%openai%'": ("t_chat",),
    "span.attributes.provider LIKE '%OPENAI%'": (),
    "span.attributes.provider ILIKE '%OPENAI%'": ("t_chat",),
    "span.attributes.model ILIKE '%gpt%'": ("t_chat",),
    "span.attributes.index RLIKE 'docs'": ("t_retrieve",),
    "span.attributes.index RLIKE '^docs-v2$'": ("t_retrieve",),
    "span.attributes.index RLIKE '^v2'": (),
    "span.attributes.`mlflow.spanType` LIKE '%RETRIEVER%'": ("t_retrieve",),
    "span.attributes.provider = 'openai'": (),
    "span.attributes.nothing LIKE '%'": (),
    # span content and full text
    "span.content LIKE '%vector db%'": ("t_retrieve",),
    "span.content ILIKE '%WHAT IS MLFLOW%'": ("t_chat",),
    "trace.text LIKE '%tool broke%'": ("t_fail",),
    "trace.text ILIKE '%Vector DB%'": ("t_retrieve",),
    "span.content LIKE '%no such words%'": (),
    # assessments
    "feedback.relevance = 'true'": ("t_chat",),
    "feedback.relevance = 'false'": ("t_retrieve",),
    "feedback.relevance != 'true'": ("t_retrieve",),
    "feedback.score > 0.5": ("t_chat",),
    "feedback.score <= 0.5": ("t_retrieve",),
    "feedback.score >= 0.3 AND feedback.score < 1": ("t_chat", "t_retrieve"),
    "feedback.score = '0.9'": ("t_chat",),
    "feedback.tone = 'friendly'": ("t_retrieve",),
    "feedback.tone = 'Friendly'": (),
    "feedback.tone LIKE '%friend%'": ("t_retrieve",),
    "feedback.tone ILIKE '%FRIEND%'": ("t_retrieve",),
    "feedback.tone RLIKE 'fr.*ly'": ("t_retrieve",),
    "feedback.tone IS NOT NULL": ("t_retrieve",),
    "feedback.tone IS NULL": ("t_chat", "t_fail", "t_plain"),
    "feedback.relevance > 0": (),
    "expectation.expected_answer = 'MLflow is a platform'": ("t_chat",),
    "expectation.expected_answer IS NOT NULL": ("t_chat",),
    "expectation.relevance IS NOT NULL": (),
    "feedback.expected_answer IS NOT NULL": (),
    "issue.id = 'iss-other'": (),
    # keys MLflow maps whatever the prefix (except span.): name, run_id, prompt, text
    "issue.name = 't_chat'": ("t_chat",),
    "feedback.name = 't_fail'": ("t_fail",),
    "tags.text LIKE '%vector%'": ("t_retrieve",),
    # trace attributes, tags and metadata, with RLIKE and the newer keys
    "trace.status RLIKE '^ERR'": ("t_fail",),
    "trace.name RLIKE '^t_(chat|plain)$'": ("t_chat", "t_plain"),
    "trace.name IS NULL": (),
    "tags.env RLIKE '^pr'": ("t_fail",),
    "tags.name = 't_plain'": ("t_plain",),
    "tags.`mlflow.traceName` IS NOT NULL": ALL,
    "trace.end_time_ms > 0": ALL,
    "trace.end_time > 0 AND trace.end_time_ms < 1": (),
    "metadata.`mlflow.trace.session` = 's1'": ("t_plain",),
    "metadata.`mlflow.trace.session` IS NULL": ("t_chat", "t_fail", "t_retrieve"),
    "metadata.`mlflow.trace.session` RLIKE '^s'": ("t_plain",),
    "metadata.`mlflow.trace.user` = 'alice'": ("t_plain",),
    "metadata.`mlflow.trace.user` LIKE 'ALI%'": (),
    "metadata.`mlflow.trace.tokenUsage` IS NULL": ALL,
    "trace.timestamp_ms > 0 AND span.type = 'LLM'": ("t_chat",),
    "span.type = 'LLM' AND feedback.score > 0.5 AND trace.status = 'OK'": ("t_chat",),
}

# Issue references, with the issue linked to t_chat ("{issue}" stands for its id).
ISSUE_MATCHES: dict[str, tuple[str, ...]] = {
    "issue.id = '{issue}'": ("t_chat",),
    "issue.id = '{issue}' AND span.type = 'LLM'": ("t_chat",),
}

# filter -> a start of the message MLflow refuses it with (INVALID_PARAMETER_VALUE, 400).
# Several messages end with a Python set, whose order varies from one process to the next.
INVALID: dict[str, str] = {
    "span.foo = 'x'": "Invalid span attribute 'foo'. Supported attributes: name, status, type, "
                      "attributes.<attribute_name>.",
    "span.name > 'a'": "span.name comparator '>' not one of '{",
    "span.type IS NULL": "span.type comparator 'IS NULL' not one of '{",
    "span.name = 5": "Expected a quoted string value for span (e.g. 'my-value'). Got value 5",
    "span.content = 'x'": "span.content comparator '=' not one of '{",
    "trace.text = 'x'": "span.content comparator '=' not one of '{",
    "span.attributes.model > 'a'": "span.attributes.model comparator '>' not one of '{",
    "feedback.score > 'a'": "Expected a numeric value for feedback when using comparator '>'. "
                            "Got value 'a'",
    "feedback.score = 1": "Expected a quoted string value for feedback (e.g. 'my-value'). "
                          "Got value 1",
    "expectation.x IN ('a')": "Expected a quoted string value for expectation (e.g. "
                              "'my-value'). Got value ('a')",
    "feedback.score NOT IN ('a')": "Expected a quoted string value for feedback",
    "issue.title = 'x'": "Invalid issue attribute 'title'. Supported attributes: id",
    "issue.id != 'x'": "issue.id comparator '!=' not one of '{'='}'",
    "issue.id = 5": "Expected a quoted string value for issue (e.g. 'my-value'). Got value 5",
    "assessment.x = 'y'": "Invalid entity type 'assessment'. Valid values are {",
    "trace.request_preview = 'x'": "Invalid attribute key 'request_preview' specified. "
                                   "Valid keys are '{",
    "trace.status = 5": "Only the '{",
    "trace.timestamp_ms RLIKE '1'": "Invalid comparator 'RLIKE' not one of '{",
    "metadata.`mlflow.trace.tokenUsage` LIKE '%1%'":
        "Comparator 'LIKE' is not supported for reserved metadata 'mlflow.trace.tokenUsage'. "
        "Only '=', '!=', 'IS NULL', and 'IS NOT NULL' are supported.",
    "tags.env > 'a'": "Invalid comparator '>' not one of '{",
    "span.name = 'a' OR span.name = 'b'": "Invalid clause(s) in filter string: ",
}
