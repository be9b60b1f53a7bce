"""A small, fixed GenAI experiment for the trace metrics tests, logged through the official
client: traces with spans (LLM spans carrying token usage, model, provider and cost), sessions,
an error trace and feedback assessments (one overridden, so one row is invalid)."""

from __future__ import annotations

import contextlib

import mlflow
from mlflow.entities import AssessmentSource, SpanType
from mlflow.tracing.constant import SpanAttributeKey

# (trace name, session, model, provider, input tokens, output tokens, fails, feedback score)
TRACES = [
    ("chat", "s1", "gpt-a", "openai", 10, 5, False, 1.0),
    ("chat", "s1", "gpt-a", "openai", 20, 8, False, 0.0),
    ("chat", "s2", "claude-b", "anthropic", 30, 12, False, 1.0),
    ("summarize", "s2", "claude-b", "anthropic", 40, 20, False, 0.5),
    ("summarize", None, "gpt-a", "openai", 55, 21, True, None),
    ("summarize", None, "claude-b", "anthropic", 7, 3, False, 0.25),
]


def _one(name: str, session: str | None, model: str, provider: str, tin: int, tout: int,
         fails: bool) -> None:
    with mlflow.start_span(name, span_type=SpanType.CHAIN) as root:
        root.set_inputs({"q": name})
        if session:
            mlflow.update_current_trace(metadata={"mlflow.trace.session": session},
                                        tags={"team": "blue" if session == "s1" else "red"})
        with mlflow.start_span("retrieve", span_type=SpanType.RETRIEVER) as r:
            r.set_outputs(["doc"])
        with mlflow.start_span("llm", span_type=SpanType.LLM) as llm:
            llm.set_attribute(SpanAttributeKey.CHAT_USAGE, {
                "input_tokens": tin, "output_tokens": tout, "total_tokens": tin + tout})
            llm.set_attribute(SpanAttributeKey.MODEL, model)
            llm.set_attribute(SpanAttributeKey.MODEL_PROVIDER, provider)
            llm.set_attribute(SpanAttributeKey.LLM_COST, {
                "input_cost": tin / 1000, "output_cost": tout / 1000,
                "total_cost": (tin + tout) / 1000})
            if fails:
                raise ValueError("model failed")
        root.set_outputs("done")


def log_traces(experiment_id: str) -> list[str]:
    """Log TRACES into the experiment; return their ids in order."""
    mlflow.set_experiment(experiment_id=experiment_id)
    ids: list[str] = []
    for name, session, model, provider, tin, tout, fails, _score in TRACES:
        with contextlib.suppress(ValueError):  # the failing trace is logged as ERROR
            _one(name, session, model, provider, tin, tout, fails)
        mlflow.flush_trace_async_logging(terminate=False)
        trace_id = mlflow.get_last_active_trace_id()
        assert trace_id is not None
        ids.append(trace_id)
    human = AssessmentSource(source_type="HUMAN", source_id="rev")
    for trace_id, row in zip(ids, TRACES, strict=True):
        score = row[7]
        if score is None:
            continue
        mlflow.log_feedback(trace_id=trace_id, name="quality", value=score, source=human)
        mlflow.log_feedback(trace_id=trace_id, name="relevant", value=score >= 0.5, source=human)
    # One overridden feedback: the old row turns invalid and must not be counted.
    first = mlflow.get_trace(ids[0])
    assert first is not None
    quality = next(a for a in first.info.assessments if a.name == "quality")
    mlflow.override_feedback(trace_id=ids[0], assessment_id=quality.assessment_id, value=0.75,
                             source=human)
    return ids
