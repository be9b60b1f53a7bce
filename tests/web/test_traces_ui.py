"""The trace pages: an experiment's traces (table, filter with an inline error) and one trace
(span tree with a timeline, a span's inputs and outputs, assessments), for traces logged with
the official client's ``@mlflow.trace``."""

from __future__ import annotations

import warnings
from typing import Any

import pytest


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
    detail = page.locator("[data-role=span-detail]").inner_text()
    assert '"query": "how fast?"' in detail and "doc-2" in detail
    assert page.locator(".span-bar").count() == 3
    assert "helpful" in page.locator("[data-role=assessments]").inner_text()
    tab.shot("trace")
