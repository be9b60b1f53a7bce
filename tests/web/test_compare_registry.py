"""Compare runs, the registry and logged-model pages, links under the static prefix, and the
keyboard."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

import httpx


def test_compare_two_runs(tab: Any, seeded: Any) -> None:
    page = tab.page
    a, b = seeded.run_ids[0], seeded.run_ids[1]
    tab.go(f"/compare?runs={a},{b}")
    params = page.locator("table[data-kind=params]")
    assert params.locator("tr.differs th", has_text="optimizer").is_visible()
    assert params.locator("tr[data-same] th", has_text="model").is_visible()  # both 'tree'
    page.get_by_label("Only differences").check()
    assert params.locator("tr[data-same]").first.is_hidden()
    assert "diff=1" in page.url
    for key in ("loss", "accuracy"):
        page.locator(f"figure[data-metric='{key}'][data-drawn='1'] canvas").wait_for()
    legend = page.locator("figure[data-metric='loss'] .u-legend").inner_text()
    assert "run-00-adam" in legend and "run-01-sgd" in legend
    assert page.locator("[data-role=parallel] polyline").count() >= 2
    assert page.locator("[data-role=scatter] circle").count() == 2
    page.get_by_label("X", exact=True).select_option("p:lr")
    page.get_by_label("Y", exact=True).select_option("m:val_loss")
    assert "sx=p%3Alr" in page.url and "sy=m%3Aval_loss" in page.url
    tab.shot("compare")


def test_parallel_coordinates_axes_follow_the_url(tab: Any, seeded: Any) -> None:
    page = tab.page
    ids = ",".join(seeded.run_ids[:6])
    tab.go(f"/compare?runs={ids}&axes=p:lr,p:optimizer,m:loss&color=m:accuracy")
    labels = page.locator("[data-role=parallel] .pc-label").all_text_contents()
    assert labels == ["lr", "optimizer", "loss"]
    assert page.locator("[data-role=parallel] polyline").count() == 6
    tab.shot("compare-parallel")


def test_registry_model_and_version_link_to_run_and_logged_model(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go("/models")
    page.get_by_role("link", name=seeded.model_name).first.wait_for()
    row = page.locator("tr", has_text=seeded.model_name)
    assert "@champion" in row.inner_text()
    tab.shot("models")
    page.get_by_role("link", name=seeded.model_name).first.click()
    page.wait_for_url(re.compile(r"/models/demo-model$"))
    versions = page.locator("[data-role=versions]")
    versions.locator("tr", has_text="Version 2").wait_for()
    assert "staging" in versions.locator("tr", has_text="Version 2").inner_text().lower()
    assert "@champion" in versions.locator("tr", has_text="Version 1").inner_text()
    tab.shot("model")
    versions.get_by_role("link", name="Version 1").click()
    page.wait_for_url(re.compile(r"/versions/1$"))
    facts = page.locator("[data-role=facts]")
    facts.get_by_role("link", name=re.compile(r"^m-")).wait_for()
    run_href = facts.locator("a[href*='/runs/']").get_attribute("href") or ""
    assert run_href == f"{tab.server.prefix}/runs/{seeded.artifact_run_id}"
    # Aliases can be added and removed from the page.
    page.get_by_label("Add alias").fill("candidate")
    page.get_by_role("button", name="Set alias").click()
    page.locator("[data-role=aliases] .chip", has_text="@candidate").wait_for()
    page.get_by_role("button", name="Remove alias candidate").click()
    page.locator("[data-role=aliases] .chip", has_text="@candidate").wait_for(state="detached")
    tab.shot("model-version")
    facts.get_by_role("link", name=re.compile(r"^m-")).click()
    page.wait_for_url(re.compile(r"/logged-models/m-"))
    page.locator("[data-role=facts] a[href*='/runs/']").wait_for()
    tree = page.locator("[data-role=tree]")
    tree.get_by_role("treeitem", name=re.compile(r"^MLmodel")).click()
    viewer = page.locator("[data-role=viewer]")
    viewer.locator(".mlmodel", has_text="sklearn").wait_for()
    tab.shot("logged-model")


def test_every_link_stays_under_the_static_prefix(tab: Any, seeded: Any) -> None:
    page = tab.page
    prefix = tab.server.prefix
    for path in ("/experiments", f"/experiments/{seeded.experiment_id}",
                 f"/runs/{seeded.artifact_run_id}", f"/compare?runs={seeded.run_ids[0]}"):
        tab.go(path)
        hrefs = page.locator("a[href]").evaluate_all("as => as.map(a => a.getAttribute('href'))")
        local = [h for h in hrefs if not h.startswith(("http", "mailto:", "#"))]
        assert local and all(h.startswith(prefix + "/") for h in local), (path, local)
        sources = page.locator("script[src], link[href]").evaluate_all(
            "ns => ns.map(n => n.getAttribute('src') || n.getAttribute('href'))")
        assert all(s.startswith(prefix + "/static/") for s in sources), sources
    # Following links works end to end behind the prefix.
    tab.go("/experiments")
    main = page.locator("#main")
    main.get_by_role("link", name="demo-classifier").click()
    main.get_by_role("link", name="run-02-rmsprop").click()
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    crumbs.get_by_role("link", name="demo-classifier").click()
    page.wait_for_url(re.compile(r"/experiments/\d+$"))
    assert urlparse(page.url).path == f"{prefix}/experiments/{seeded.experiment_id}"
    # Outside the prefix nothing is served.
    assert httpx.get(tab.server.root_url + "/experiments").status_code == 404
    assert httpx.get(tab.server.url + "/static/vendor/uPlot.iife.min.js").status_code == 200


def test_keyboard_navigation(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go(f"/experiments/{seeded.experiment_id}")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "run-filter"
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert "2 selected" in page.locator("[data-role=selection-count]").inner_text()
    page.keyboard.press("c")
    page.wait_for_url(re.compile(r"/compare\?runs="))
    page.keyboard.press("?")
    assert page.locator("#shortcuts").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("g")
    page.keyboard.press("m")
    page.wait_for_url(re.compile(r"/models$"))
    page.keyboard.press("g")
    page.keyboard.press("e")
    page.wait_for_url(re.compile(r"/experiments$"))
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/experiments/\d+$"))


def test_unknown_pages_answer_404(tab: Any, seeded: Any) -> None:
    response = tab.go("/runs/" + "0" * 32)
    assert response.status == 404
    assert "RESOURCE_DOES_NOT_EXIST" in tab.page.locator("h1").inner_text()
    response = tab.go("/experiments/notanumber")
    assert response.status == 400
    tab.errors.clear()  # the browser logs the 4xx document loads themselves


def test_model_page_lists_the_webhooks_its_events_trigger(tab: Any, seeded: Any) -> None:
    import requests

    base = f"{tab.server.url}/api/2.0/mlflow/webhooks"
    made = []
    for name, entity, status in (("ci-deploy", "MODEL_VERSION_ALIAS", "ACTIVE"),
                                 ("prompts-only", "PROMPT", "ACTIVE"),
                                 ("paused", "MODEL_VERSION", "DISABLED")):
        r = requests.post(base, json={"name": name, "url": "https://93.184.216.34/hook",
                                      "events": [{"entity": entity, "action": "CREATED"}],
                                      "status": status}, timeout=30)
        assert r.status_code == 200, r.text
        made.append(r.json()["webhook"]["webhook_id"])
    try:
        tab.go(f"/models/{seeded.model_name}")
        box = tab.page.locator("[data-role='webhooks']")
        box.get_by_text("ci-deploy").wait_for()
        text = box.inner_text()
        assert "model_version_alias.created" in text and "93.184.216.34" in text
        assert "prompts-only" not in text and "paused" not in text
    finally:
        for webhook_id in made:
            requests.delete(f"{base}/{webhook_id}", timeout=30)
