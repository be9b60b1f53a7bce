"""A run's page: overview, description safety, charts (also of a 100,000-step metric and of a
run still logging), and the artifact browser's previews."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx


def test_open_a_run_from_the_table(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go(f"/experiments/{seeded.experiment_id}")
    page.get_by_role("link", name="run-00-adam").click()
    page.wait_for_url(re.compile(r"/runs/" + seeded.artifact_run_id))
    assert "run-00-adam" in page.locator(".page-head h1").inner_text()
    params = page.locator("#params-table").inner_text()
    assert "optimizer" in params and "adam" in params
    assert "train-set" in page.locator("section", has_text="Inputs and models").inner_text()
    # Sparklines are drawn for each metric.
    page.locator(".sparkline canvas").first.wait_for()
    # Logged models are listed by id and named from the logged-models API.
    page.locator("[data-role=logged-models] strong", has_text="model").first.wait_for()
    tab.shot("run-overview")


def test_description_markdown_is_rendered_without_script(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go(f"/runs/{seeded.artifact_run_id}")
    note = page.locator("[data-role=note-view]")
    assert note.locator("h1", has_text="Baseline sweep").is_visible()
    assert note.locator("strong", has_text="learning rates").is_visible()
    assert note.locator("table").is_visible()
    assert "<script>window.__pwned = true</script>" in note.inner_text()
    assert note.locator("script").count() == 0
    assert note.locator("a[href^='javascript']").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_edit_the_description(tab: Any, seeded: Any) -> None:
    page = tab.page
    run_id = seeded.run_ids[1]
    tab.go(f"/runs/{run_id}")
    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Description (markdown)").fill("Edited *here*.")
    page.get_by_role("button", name="Save").click()
    page.locator("[data-role=note-view] em", has_text="here").wait_for()


def test_metric_charts_draw_and_keep_options_in_the_url(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go(f"/runs/{seeded.run_ids[2]}?tab=charts")
    for key in ("accuracy", "loss", "val_loss"):
        page.locator(f"figure[data-metric='{key}'][data-drawn='1'] canvas").wait_for()
    page.get_by_label("Log scale").check()
    page.get_by_label("X axis").select_option("time")
    page.locator("#chart-smooth").fill("0.6")
    page.get_by_label("Filter charts by metric name").fill("loss")
    query = parse_qs(urlparse(page.url).query)
    assert query["log"] == ["1"] and query["x"] == ["time"] and query["smooth"] == ["0.6"]
    assert page.locator("figure[data-metric='accuracy']").is_hidden()
    # Smoothing draws the raw series faintly plus the smoothed one.
    legend = page.locator("figure[data-metric='loss'] .u-legend").inner_text()
    assert "(raw)" in legend
    tab.shot("run-charts")
    # Reloading the URL restores the same view.
    page.reload()
    assert page.get_by_label("Log scale").is_checked()
    assert page.get_by_label("X axis").input_value() == "time"


def test_long_metric_is_drawn_from_the_sampled_history(tab: Any, seeded: Any) -> None:
    page = tab.page
    started = time.monotonic()
    tab.go(f"/runs/{seeded.long_run_id}?tab=charts")
    card = page.locator("figure[data-metric='train_loss'][data-drawn='1']")
    card.wait_for()
    elapsed = time.monotonic() - started
    points = int(card.get_attribute("data-points") or 0)
    assert 0 < points <= 2500  # 100,000 steps arrive sampled
    # Zooming into a step range fetches that range in detail.
    box = page.locator("figure[data-metric='train_loss'] .u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.40, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.42, box["y"] + 20)
    page.mouse.up()
    page.wait_for_timeout(800)
    tab.shot("run-long-metric")
    print(f"100,000-step chart drawn {elapsed:.2f} s after navigation ({points} points)")


def test_charts_update_while_the_run_logs(tab: Any, seeded: Any, web_server: Any) -> None:
    page = tab.page
    run_id = seeded.running_run_id
    tab.go(f"/runs/{run_id}?tab=charts")
    card = page.locator("figure[data-metric='loss'][data-drawn='1']")
    card.wait_for()
    before = int(card.get_attribute("data-points") or 0)
    api = web_server.url + "/api/2.0/mlflow/"
    now = int(time.time() * 1000)
    batch = [{"key": "loss", "value": 0.1, "timestamp": now, "step": s} for s in range(5, 25)]
    batch.append({"key": "lr_now", "value": 0.01, "timestamp": now, "step": 0})
    httpx.post(api + "runs/log-batch", json={"run_id": run_id, "metrics": batch}).raise_for_status()
    page.wait_for_function(
        f"() => Number(document.querySelector(\"figure[data-metric='loss']\")"
        f".dataset.points) > {before}", timeout=15_000)
    # A metric logged after the page opened gets its own chart.
    page.locator("figure[data-metric='lr_now']").wait_for(timeout=15_000)
    assert "live" in page.locator("[data-role=chart-status]").inner_text()
    tab.shot("run-live")


def test_artifact_browser_previews(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go(f"/runs/{seeded.artifact_run_id}?tab=artifacts")
    viewer = page.locator("[data-role=viewer]")
    tree = page.locator("[data-role=tree]")

    tree.get_by_role("treeitem", name=re.compile("metrics.json")).click()
    viewer.locator("pre", has_text='"accuracy": 0.91').wait_for()

    tree.get_by_role("treeitem", name=re.compile("predictions.csv")).click()
    viewer.locator("table th", has_text="score").wait_for()
    assert viewer.locator("table tbody tr").count() == 30

    tree.get_by_role("treeitem", name=re.compile("notes.txt")).click()
    viewer.locator("pre", has_text="<b>not bold</b>").wait_for()

    tree.get_by_role("treeitem", name=re.compile(r"^config$")).click()
    tree.get_by_role("treeitem", name=re.compile("train.yaml")).click()
    viewer.locator("pre", has_text="learning_rate: 0.1").wait_for()
    assert parse_qs(urlparse(page.url).query)["path"] == ["config/train.yaml"]

    tree.get_by_role("treeitem", name=re.compile("plot.png")).click()
    image = viewer.locator("img.preview-image")
    image.wait_for()
    page.wait_for_function("() => document.querySelector('img.preview-image').naturalWidth === 64")
    link = viewer.get_by_role("link", name="Download")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "plot.png"
    tab.shot("run-artifacts-image")

    # The URL reopens the same file.
    tab.go(f"/runs/{seeded.artifact_run_id}?tab=artifacts&path=predictions.csv")
    viewer.locator("table th", has_text="label").wait_for()
    tab.shot("run-artifacts-csv")
