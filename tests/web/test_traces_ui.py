"""The trace pages: an experiment's traces (table, filter with an inline error) and one trace
(span tree with a timeline, a span's inputs and outputs, assessments), for traces logged with
the official client's ``@mlflow.trace``."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from support.otlp_json import post_spans


@pytest.fixture(scope="module")
def traced(web_server: Any) -> tuple[str, str]:
    import mlflow

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the client's own tracing set-up warnings
        mlflow.set_tracking_uri(web_server.url)
        experiment_id = mlflow.create_experiment("genai-ui")
        mlflow.set_experiment(experiment_id=experiment_id)

        @mlflow.trace(name="answer")
        def answer(question: str) -> str:
            with mlflow.start_span("retrieve") as span:
                span.set_inputs({"query": question})
                span.set_outputs(["doc-1", "doc-2"])
            with mlflow.start_span("generate") as span:
                span.set_inputs({"prompt": f"Q: {question}"})
                span.set_outputs({"text": question.upper()})
            return question.upper()

        for question in ("what is trackd?", "how fast?"):
            answer(question)
        mlflow.flush_trace_async_logging(terminate=False)
        trace_id = mlflow.get_last_active_trace_id()
        mlflow.log_feedback(trace_id=trace_id, name="helpful", value=True)
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    assert trace_id is not None
    return experiment_id, trace_id


def test_traces_tab_lists_and_filters(tab: Any, traced: tuple[str, str]) -> None:
    experiment_id, trace_id = traced
    page = tab.page
    tab.go(f"/experiments/{experiment_id}")
    page.get_by_role("link", name="Traces").click()
    rows = page.locator("[data-role=traces] tr[data-href]")
    rows.first.wait_for()
    assert rows.count() == 2
    assert "HOW FAST?" in page.locator("[data-role=traces]").inner_text()
    assert page.locator("[data-role=traces] .chip", has_text="helpful").count() == 1
    tab.shot("traces")
    tab.go(f"/experiments/{experiment_id}/traces?filter=trace.status%20%3E%3E%3E%20'x'")
    error = page.locator("[data-role=error]")
    error.wait_for()
    assert "comparison" in error.inner_text().lower() or "invalid" in error.inner_text().lower()
    tab.go(f"/experiments/{experiment_id}/traces?filter=trace.name%20%3D%20'nothing'")
    page.locator("[data-role=traces] tr.empty").wait_for()


def test_trace_page_shows_the_span_tree_and_details(tab: Any, traced: tuple[str, str]) -> None:
    _, trace_id = traced
    page = tab.page
    tab.go(f"/traces/{trace_id}")
    rows = page.locator(".span-row")
    rows.nth(2).wait_for()
    assert rows.count() == 3
    assert page.locator(".span-tree > li > button .span-name").inner_text() == "answer"
    page.locator(".span-row", has_text="retrieve").click()
    # A span's payload is read when it is opened.
    detail = page.locator("[data-role=span-detail]", has_text='"query": "how fast?"')
    detail.wait_for()
    assert "doc-2" in detail.inner_text()
    assert page.locator(".span-bar").count() == 3
    assert "helpful" in page.locator("[data-role=assessments]").inner_text()
    tab.shot("trace")


def test_a_30000_span_trace_paints_its_first_rows_at_once(tab: Any, traced: tuple[str, str],
                                                          web_server: Any) -> None:
    """Stored as the official client stores it (trace info + traces.json), built here directly:
    the client takes ~10 s to make 30,000 spans, which is not what this test is about."""
    import json
    import uuid

    import httpx

    experiment_id, _ = traced
    trace_id = "tr-" + uuid.uuid4().hex
    start_ns = 1_780_000_000_000_000_000
    info = {"trace_id": trace_id, "request_time": "2026-06-01T00:00:00Z",
            "execution_duration": "30s", "state": "OK", "tags": {"mlflow.traceName": "big"},
            "trace_location": {"type": "MLFLOW_EXPERIMENT",
                               "mlflow_experiment": {"experiment_id": experiment_id}}}
    spans = [{"trace_id": "AAAA", "span_id": "root", "parent_span_id": None, "name": "big",
              "start_time_unix_nano": start_ns, "end_time_unix_nano": start_ns + 30 * 10**9,
              "status": {"code": "STATUS_CODE_OK", "message": ""}, "events": [],
              "attributes": {"mlflow.spanType": '"CHAIN"'}}]
    spans += [{"trace_id": "AAAA", "span_id": f"s{i}", "parent_span_id": "root",
               "name": f"step-{i}", "start_time_unix_nano": start_ns + i * 10**6,
               "end_time_unix_nano": start_ns + (i + 1) * 10**6,
               "status": {"code": "STATUS_CODE_OK", "message": ""}, "events": [],
               "attributes": {"mlflow.spanInputs": json.dumps({"i": i})}}
              for i in range(29_999)]
    base = web_server.url
    with httpx.Client(timeout=60) as http:
        started = http.post(f"{base}/api/3.0/mlflow/traces", json={"trace": {"trace_info": info}})
        assert started.status_code == 200, started.text
        put = http.put(f"{base}/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/traces/"
                       f"{trace_id}/artifacts/traces.json", content=json.dumps({"spans": spans}))
        assert put.status_code == 200, put.text
    _opens_without_every_payload(tab, trace_id, "step-399", '"i": 399')


def _opens_without_every_payload(tab: Any, trace_id: str, span: str, its_input: str) -> None:
    """The trace page of a 30,000-span trace paints its first 200 rows from the span outline
    (no span's payload: get-trace-artifact is never asked for), shows more on request, and
    reads one span's payload when it is opened."""
    page = tab.page
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    tab.go(f"/traces/{trace_id}")
    more = page.locator(".more-spans")
    more.wait_for()
    assert page.locator(".span-row").count() == 201  # the root and its first 200 children
    assert "29799" in more.inner_text()
    more.click()
    assert page.locator(".span-row").count() == 401
    page.locator(".span-row", has_text=span).click()
    page.locator("[data-role=span-detail]", has_text=its_input).wait_for()
    assert not [url for url in asked if "get-trace-artifact" in url], asked
    assert [url for url in asked if "/span-outline" in url]


def test_a_30000_span_trace_sent_over_otlp(tab: Any, traced: tuple[str, str],
                                           web_server: Any) -> None:
    """The same for spans kept in the database (OTLP ingest, as the 3.18 client sends them)."""
    import json
    import uuid

    import httpx

    experiment_id, _ = traced
    trace = uuid.uuid4().hex
    start_ns = 1_780_000_000_000_000_000
    root = "00000000000f0000"
    spans = [{"traceId": trace, "spanId": root, "name": "big",
              "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(start_ns + 30 * 10**9),
              "status": {"code": 1}, "attributes": [
                  {"key": "mlflow.spanType", "value": {"stringValue": '"CHAIN"'}}]}]
    spans += [{"traceId": trace, "spanId": f"{i:016x}", "parentSpanId": root,
               "name": f"step-{i}", "startTimeUnixNano": str(start_ns + i * 10**6),
               "endTimeUnixNano": str(start_ns + (i + 1) * 10**6), "status": {"code": 1},
               "attributes": [{"key": "mlflow.spanInputs",
                               "value": {"stringValue": json.dumps({"i": i})}}]}
              for i in range(29_999)]
    with httpx.Client(timeout=120) as http:
        post_spans(http, experiment_id, spans, web_server.url)
    _opens_without_every_payload(tab, "tr-" + trace, "step-399", '"i": 399')


def test_assessments_are_added_edited_and_deleted_on_the_trace_page(
        tab: Any, traced: tuple[str, str], web_server: Any) -> None:
    """Through MLflow's assessment API, as the official client then reads them: a feedback
    edited is overridden by a new one (the old one stays, marked), an expectation is updated."""
    import mlflow

    _, trace_id = traced
    page = tab.page
    tab.go(f"/traces/{trace_id}")
    table = page.locator("[data-role=assessments]")
    table.locator("tr", has_text="helpful").wait_for()
    form = page.locator("[data-role=add-assessment]")
    form.get_by_label("Assessment name").fill("tone")
    form.get_by_label("Value").fill("0.25")
    form.get_by_label("Rationale").fill("a bit curt")
    form.get_by_role("button", name="Add").click()
    row = table.locator("tr", has_text="tone")
    row.wait_for()
    row.get_by_role("button", name="Edit").click()
    row.get_by_label("New value").fill("0.75")
    row.get_by_label("Rationale").fill("fine on a second read")
    row.get_by_role("button", name="Save").click()
    table.locator("tr", has_text="overridden").wait_for()
    form.get_by_label("Kind").select_option("expectation")
    form.get_by_label("Assessment name").fill("expected_answer")
    form.get_by_label("Value").fill('{"text": "HOW FAST?"}')
    form.get_by_role("button", name="Add").click()
    expected = table.locator("tr", has_text="expected_answer")
    expected.get_by_role("button", name="Edit").click()
    expected.get_by_label("New value").fill('"FAST"')
    expected.get_by_role("button", name="Save").click()
    table.locator("tr", has_text='"FAST"').wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    table.locator("tr", has_text="helpful").get_by_role("button", name="Delete").click()
    table.locator("tr", has_text="helpful").wait_for(state="detached")

    mlflow.set_tracking_uri(web_server.url)
    try:
        found = {(a.name, a.valid): a for a in mlflow.get_trace(trace_id).info.assessments}
    finally:
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    # (the client leaves an expectation's `valid` unset)
    assert set(found) == {("tone", False), ("tone", True), ("expected_answer", None)}
    old, new = found[("tone", False)], found[("tone", True)]
    assert (old.value, old.rationale) == (0.25, "a bit curt")
    assert (new.value, new.rationale, new.overrides) == (0.75, "fine on a second read",
                                                         old.assessment_id)
    assert new.source.source_type == "HUMAN"
    assert found[("expected_answer", None)].value == "FAST"


def test_a_run_links_to_its_traces(tab: Any, web_server: Any, traced: tuple[str, str]) -> None:
    import mlflow

    experiment_id, _ = traced
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.set_tracking_uri(web_server.url)
        try:
            with mlflow.start_run(experiment_id=experiment_id) as run, \
                    mlflow.start_span("inside-the-run") as span:
                span.set_inputs({"q": "run-linked"})
            mlflow.flush_trace_async_logging(terminate=False)
        finally:
            mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    page = tab.page
    tab.go(f"/runs/{run.info.run_id}")
    page.locator("[data-role=run-traces]").click()
    rows = page.locator("[data-role=traces] tr[data-href]")
    rows.first.wait_for()
    assert rows.count() == 1  # only the run's trace, not the experiment's others
    assert "inside-the-run" in rows.first.inner_text()
