"""GenAI traces through the official 3.18 client: what ``@mlflow.trace`` and friends send, and
what get/search/tag/delete read back, against trackd (and ``mlflow server`` with
``--compat-target mlflow``), on each database.

Spans travel as each trace's ``traces.json`` artifact (trackd answers OTLP span ingest with
MLflow's "not supported" 501, which the client handles by uploading the spans instead).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import SpanStatusCode, SpanType
from mlflow.exceptions import MlflowException

from .conftest import must

pytestmark = [
    pytest.mark.compat,
    # The client's tracing set-up trips deprecation and type-hint warnings of its own (in
    # opentelemetry and mlflow); with warnings as errors it would silently not trace at all.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*type hint is inferred as AnyType:UserWarning"),
]


def _flush() -> None:
    mlflow.flush_trace_async_logging(terminate=False)


@mlflow.trace(span_type=SpanType.CHAIN)
def _pipeline(question: str) -> str:
    with mlflow.start_span("retrieve", span_type=SpanType.RETRIEVER) as span:
        span.set_inputs({"query": question})
        span.set_outputs(["doc-1", "doc-2"])
    return _answer(question)


@mlflow.trace(name="llm", span_type=SpanType.LLM)
def _answer(question: str) -> str:
    mlflow.update_current_trace(tags={"team": "search"})
    return question.upper()


@mlflow.trace
def _fails() -> None:
    raise ValueError("boom")


@mlflow.trace
def _streams(n: int) -> Iterator[int]:
    yield from range(n)


def _last_trace_id() -> str:
    _flush()
    return must(mlflow.get_last_active_trace_id())


def test_a_traced_call_is_stored_with_its_spans(experiment_id: str) -> None:
    assert _pipeline("why") == "WHY"
    trace_id = _last_trace_id()
    trace = mlflow.get_trace(trace_id)
    assert trace is not None
    assert trace.info.trace_id == trace_id
    assert trace.info.experiment_id == experiment_id
    assert trace.info.state.value == "OK"
    assert trace.info.tags["team"] == "search"
    assert trace.info.tags["mlflow.traceName"] == "_pipeline"
    assert '"why"' in must(trace.info.request_preview)
    assert must(trace.info.execution_duration) >= 0
    names = sorted(s.name for s in trace.data.spans)
    assert names == ["_pipeline", "llm", "retrieve"]
    retrieve = next(s for s in trace.data.spans if s.name == "retrieve")
    assert retrieve.inputs == {"query": "why"}
    assert retrieve.outputs == ["doc-1", "doc-2"]
    root = next(s for s in trace.data.spans if s.parent_id is None)
    assert root.name == "_pipeline"


def test_errors_and_generators(experiment_id: str) -> None:
    with pytest.raises(ValueError):
        _fails()
    failed = mlflow.get_trace(_last_trace_id())
    assert failed is not None
    assert failed.info.state.value == "ERROR"
    assert failed.data.spans[0].status.status_code == SpanStatusCode.ERROR
    assert list(_streams(3)) == [0, 1, 2]
    streamed = mlflow.get_trace(_last_trace_id())
    assert streamed is not None and streamed.info.state.value == "OK"
    assert streamed.data.spans[0].outputs == [0, 1, 2]


def test_context_manager_spans(experiment_id: str) -> None:
    with mlflow.start_span("outer") as outer:
        outer.set_inputs({"x": 1})
        with mlflow.start_span("inner") as inner:
            inner.set_attribute("k", "v")
        outer.set_outputs({"y": 2})
    trace = mlflow.get_trace(_last_trace_id())
    assert trace is not None
    inner_span = next(s for s in trace.data.spans if s.name == "inner")
    assert inner_span.attributes["k"] == "v"
    assert inner_span.parent_id == next(s for s in trace.data.spans if s.name == "outer").span_id


def test_search_filter_order_and_pages(experiment_id: str, client: MlflowClient) -> None:
    for question in ("a", "b", "c"):
        _pipeline(question)
        time.sleep(0.01)
    with pytest.raises(ValueError):
        _fails()
    _flush()
    found = mlflow.search_traces(locations=[experiment_id], return_type="list")
    assert len(found) == 4
    ok = mlflow.search_traces(locations=[experiment_id], filter_string="trace.status = 'OK'",
                              return_type="list")
    assert len(ok) == 3 and all(t.info.state.value == "OK" for t in ok)
    assert all(len(t.data.spans) == 3 for t in ok)  # spans come along
    tagged = mlflow.search_traces(locations=[experiment_id],
                                  filter_string="tags.team = 'search'", return_type="list")
    assert len(tagged) == 3
    named = mlflow.search_traces(locations=[experiment_id],
                                 filter_string="trace.name = '_fails'", return_type="list")
    assert len(named) == 1
    by_meta = mlflow.search_traces(
        locations=[experiment_id],
        filter_string="metadata.`mlflow.source.type` = 'LOCAL'", return_type="list")
    assert len(by_meta) == 4
    oldest_first = mlflow.search_traces(locations=[experiment_id],
                                        order_by=["timestamp_ms ASC"], return_type="list")
    times = [t.info.request_time for t in oldest_first]
    assert times == sorted(times)
    frame = mlflow.search_traces(locations=[experiment_id])
    assert len(frame) == 4 and "trace_id" in frame.columns
    # Pages of two, through the client's token.
    page = client.search_traces(locations=[experiment_id], max_results=2)
    assert len(page) == 2 and page.token
    rest = client.search_traces(locations=[experiment_id], max_results=2, page_token=page.token)
    assert len(rest) == 2 and not rest.token
    assert {t.info.trace_id for t in page} | {t.info.trace_id for t in rest} == {
        t.info.trace_id for t in found}


def test_tags_and_deletion(experiment_id: str, client: MlflowClient) -> None:
    _pipeline("q")
    first = _last_trace_id()
    _pipeline("r")
    second = _last_trace_id()
    client.set_trace_tag(first, "reviewed", "yes")
    info = client.get_trace(first).info
    assert info.tags["reviewed"] == "yes"
    client.delete_trace_tag(first, "reviewed")
    assert "reviewed" not in client.get_trace(first).info.tags
    assert client.delete_traces(experiment_id, trace_ids=[first]) == 1
    with pytest.raises(MlflowException):
        client.get_trace(first)
    cutoff = int(time.time() * 1000) + 1000
    assert client.delete_traces(experiment_id, max_timestamp_millis=cutoff, max_traces=5) == 1
    with pytest.raises(MlflowException):
        client.get_trace(second)


def test_bad_requests(experiment_id: str, client: MlflowClient) -> None:
    with pytest.raises(MlflowException) as missing:
        client.get_trace("tr-00000000000000000000000000000000")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as bad_filter:
        mlflow.search_traces(locations=[experiment_id], filter_string="trace.status >>> 'x'")
    assert bad_filter.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as both:
        client.delete_traces(experiment_id)
    assert both.value.error_code == "INVALID_PARAMETER_VALUE"


def test_assessments(experiment_id: str) -> None:
    from mlflow.entities import AssessmentSource, AssessmentSourceType, Feedback

    _pipeline("rate me")
    trace_id = _last_trace_id()
    human = AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="bob")
    feedback = mlflow.log_feedback(trace_id=trace_id, name="quality", value=0.8,
                                   rationale="fine", source=human, metadata={"round": "1"})
    expectation = mlflow.log_expectation(trace_id=trace_id, name="expected",
                                         value={"answer": "RATE ME"})
    flag = mlflow.log_feedback(trace_id=trace_id, name="safe", value=True)
    got = mlflow.get_assessment(trace_id, feedback.assessment_id)
    assert (got.name, got.value, got.rationale) == ("quality", 0.8, "fine")
    assert got.source.source_type == "HUMAN" and got.source.source_id == "bob"
    assert got.metadata == {"round": "1"}
    updated = mlflow.update_assessment(trace_id=trace_id, assessment_id=feedback.assessment_id,
                                       assessment=Feedback(name="quality", value=0.9))
    assert updated.value == 0.9
    assert mlflow.get_assessment(trace_id, feedback.assessment_id).value == 0.9
    override = mlflow.override_feedback(trace_id=trace_id, assessment_id=feedback.assessment_id,
                                        value=0.1, rationale="actually bad")
    assert override.overrides == feedback.assessment_id
    trace = mlflow.get_trace(trace_id)
    assert trace is not None
    seen = {a.assessment_id: a for a in trace.info.assessments}
    assert set(seen) == {feedback.assessment_id, expectation.assessment_id,
                         flag.assessment_id, override.assessment_id}
    assert seen[feedback.assessment_id].valid is False
    assert seen[override.assessment_id].valid is True
    assert seen[expectation.assessment_id].value == {"answer": "RATE ME"}
    assert seen[flag.assessment_id].value is True
    # Deleting the override makes the overridden feedback count again.
    mlflow.delete_assessment(trace_id=trace_id, assessment_id=override.assessment_id)
    mlflow.delete_assessment(trace_id=trace_id, assessment_id=expectation.assessment_id)
    again = mlflow.get_trace(trace_id)
    assert again is not None
    left = {a.assessment_id: a for a in again.info.assessments}
    assert set(left) == {feedback.assessment_id, flag.assessment_id}
    assert left[feedback.assessment_id].valid is True
    with pytest.raises(MlflowException) as missing:
        mlflow.get_assessment(trace_id, "a-00000000000000000000000000000000")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_traces_of_a_run(experiment_id: str, client: MlflowClient) -> None:
    with mlflow.start_run() as run:
        _pipeline("inside the run")  # recorded with the run as its source
        inside = _last_trace_id()
    _pipeline("outside")
    outside = _last_trace_id()
    client.link_traces_to_run([outside], run_id=run.info.run_id)
    found = mlflow.search_traces(locations=[experiment_id],
                                 filter_string=f"trace.run_id = '{run.info.run_id}'",
                                 return_type="list")
    assert {t.info.trace_id for t in found} == {inside, outside}
    with pytest.raises(MlflowException) as too_many:
        client.link_traces_to_run([outside] * 101, run_id=run.info.run_id)
    assert too_many.value.error_code == "INVALID_PARAMETER_VALUE"


def test_traces_that_load_a_prompt_are_found_by_it(client: MlflowClient, experiment_id: str
                                                   ) -> None:
    name = f"qa-{uuid.uuid4().hex[:8]}"
    mlflow.genai.register_prompt(name=name, template="Answer {{q}}.")
    mlflow.genai.register_prompt(name=name, template="Answer {{q}} briefly.")

    @mlflow.trace
    def answer(q: str, version: int) -> str:
        return str(mlflow.genai.load_prompt(f"prompts:/{name}/{version}").format(q=q))

    answer("why", 1)
    _flush()
    first = must(mlflow.get_last_active_trace_id())
    answer("how", 2)
    _flush()
    second = must(mlflow.get_last_active_trace_id())
    for version, expected in ((1, [first]), (2, [second])):
        found = mlflow.search_traces(locations=[experiment_id], return_type="list",
                                     filter_string=f"prompt = '{name}/{version}'")
        assert [t.info.trace_id for t in found] == expected
    with pytest.raises(MlflowException):
        mlflow.search_traces(locations=[experiment_id], filter_string=f"prompt != '{name}/1'")
