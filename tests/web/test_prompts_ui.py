"""The prompt registry pages: prompts registered with the official client's
``mlflow.genai.register_prompt`` (a text and a chat version, an alias), a traced function that
loads one, and what /prompts and /prompts/<name> show of them."""

from __future__ import annotations

import uuid
import warnings
from typing import Any

import pytest

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module")
def prompt(web_server: Any) -> dict[str, str]:
    import mlflow

    name = f"qa-{uuid.uuid4().hex[:6]}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.set_tracking_uri(web_server.url)
        try:
            mlflow.genai.register_prompt(name=name, template="Answer {{question}} in {{style}}.",
                                         commit_message="first draft", tags={"team": "nlp"})
            mlflow.genai.register_prompt(
                name=name, commit_message="as a chat",
                template=[{"role": "system", "content": "You are brief."},
                          {"role": "user", "content": "{{question}}"}])
            mlflow.genai.set_prompt_alias(name, alias="production", version=1)
            experiment_id = mlflow.set_experiment(f"uses-{name}").experiment_id

            @mlflow.trace
            def answer(question: str) -> str:
                loaded = mlflow.genai.load_prompt(f"prompts:/{name}/1")
                return str(loaded.format(question=question, style="one line"))

            answer("why?")
            mlflow.flush_trace_async_logging()
            trace_id = mlflow.get_last_active_trace_id()
        finally:
            mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    assert trace_id is not None
    return {"name": name, "trace": trace_id, "experiment": experiment_id}


def test_prompts_list_and_page(tab: Any, prompt: dict[str, str]) -> None:
    name, page = prompt["name"], tab.page
    tab.go("/prompts")
    row = page.locator("[data-role='prompts'] tr", has_text=name)
    row.wait_for()
    assert "Version 2" in row.inner_text() and "@production" in row.inner_text()
    assert "as a chat" in row.inner_text() and "team=nlp" in row.inner_text()
    # Registered models that are not prompts are not listed here.
    assert "No prompts match" not in page.inner_text("body")

    row.get_by_role("link", name=name).click()
    page.get_by_text("Template · version 2").wait_for()
    template = page.locator("[data-role='template']")
    assert "You are brief." in template.inner_text() and "system" in template.inner_text()
    assert "Chat prompt" in page.locator("[data-role='template-meta']").inner_text()
    traces = page.locator("[data-role='traces']")
    traces.get_by_text(prompt["trace"]).wait_for()
    assert "v1" in traces.inner_text()
    tab.shot("prompt")

    page.locator("[data-role='versions']").get_by_role("link", name="Version 1").click()
    page.get_by_text("Template · version 1").wait_for()
    assert page.locator("[data-role='template-text']").inner_text() == (
        "Answer {{question}} in {{style}}.")
    meta = page.locator("[data-role='template-meta']").inner_text()
    assert "Text prompt" in meta and "question, style" in meta and "first draft" in meta
    assert "@production" in page.locator("[data-role='versions']").inner_text()


def test_unknown_prompt_says_so(browser: Any, web_server: Any) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{web_server.url}/prompts/no-such-prompt")
        error = page.locator("[data-role='error']")
        error.wait_for()
        assert "no-such-prompt" in error.inner_text()
    finally:
        page.close()
