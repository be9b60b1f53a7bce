"""Experiments list and an experiment's runs table, in a real browser under a static prefix."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx


def _names(tab: Any) -> list[str]:
    return tab.page.locator("table.runs tbody tr[data-run] td.name a").all_inner_texts()


def _column(tab: Any, column: str) -> list[float]:
    """The numbers of one column of the runs table, top to bottom."""
    return [float(v) for v in tab.page.evaluate(
        """col => {
            const heads = [...document.querySelectorAll('table.runs thead th')];
            const i = heads.findIndex(h => h.dataset.col === col);
            return [...document.querySelectorAll('table.runs tbody tr[data-run]')]
                .map(r => r.children[i].textContent.trim());
        }""", column)]


def test_experiments_list_create_rename_delete_restore(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go("/")  # redirects to the experiments list, inside the prefix
    assert urlparse(page.url).path == tab.server.prefix + "/experiments"
    assert page.get_by_role("link", name="demo-classifier").is_visible()
    tab.shot("experiments")

    page.get_by_role("button", name="New experiment").click()
    page.get_by_label("Name", exact=True).fill("ui-made")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/experiments/\d+$"))
    assert page.locator(".page-head h1").inner_text() == "ui-made"

    tab.go("/experiments?q=ui-made")
    page.locator("tr", has_text="ui-made").get_by_role("button", name="Rename").click()
    page.get_by_label("Name", exact=True).fill("ui-renamed")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    tab.go("/experiments?q=ui-renamed")

    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.locator("tr", has_text="ui-renamed").get_by_role("button", name="Delete").click()
    assert page.get_by_role("link", name="ui-renamed").count() == 0
    page.get_by_label("Show").select_option("deleted")
    page.wait_for_url(re.compile(r"view=deleted"))
    with page.expect_navigation():
        page.locator("tr", has_text="ui-renamed").get_by_role("button", name="Restore").click()
    tab.go("/experiments?q=renamed")
    assert page.get_by_role("link", name="ui-renamed").is_visible()


def test_runs_table_shows_runs_with_param_and_metric_columns(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go(f"/experiments/{seeded.experiment_id}")
    assert set(_names(tab)) == set(seeded.run_names)
    headers = page.locator("table.runs thead th").all_inner_texts()
    flat = " ".join(h.replace("\n", " ") for h in headers)
    for label in ("Run name", "Status", "Started", "Duration", "User", "loss", "lr", "optimizer"):
        assert label in flat
    running = page.locator("tr", has_text="live-run")
    assert "running" in running.inner_text()
    tab.shot("runs-table")


def test_valid_filter_narrows_the_table(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go(f"/experiments/{seeded.experiment_id}")
    box = page.get_by_label("Filter runs")
    box.fill("params.optimizer = 'adam' and metrics.loss < 1.5")
    box.press("Enter")
    page.wait_for_url(re.compile(r"filter="))
    names = _names(tab)
    assert names and all(n.endswith("-adam") for n in names)
    assert "run-03-adam" not in names  # its loss stays above 1.5
    assert page.locator("[role=alert]").count() == 0
    tab.shot("runs-filter-valid")


def test_invalid_filter_shows_the_error_inline(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go(f"/experiments/{seeded.experiment_id}")
    box = page.get_by_label("Filter runs")
    box.fill("params.lr >>> 1 or")
    box.press("Enter")
    page.wait_for_url(re.compile(r"filter="))
    alert = page.locator("#filter-error")
    assert alert.is_visible()
    assert "Invalid filter" in alert.inner_text()
    assert box.get_attribute("aria-invalid") == "true"
    assert box.input_value() == "params.lr >>> 1 or"  # kept for fixing
    assert _names(tab) == []
    tab.shot("runs-filter-invalid")


def test_sort_by_a_metric_column_both_ways(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go(f"/experiments/{seeded.experiment_id}?filter=attributes.status+%3D+%27FINISHED%27")
    page.locator("th[data-col='m:loss'] a").click()
    page.wait_for_url(re.compile(r"sort=m%3Aloss"))
    values = _column(tab, "m:loss")
    assert len(values) == 10 and values == sorted(values)  # 12 runs, one failed, one killed
    assert page.locator("th[data-col='m:loss']").get_attribute("aria-sort") == "ascending"
    page.locator("th[data-col='m:loss'] a").click()
    page.wait_for_url(re.compile(r"dir=desc"))
    values = _column(tab, "m:loss")
    assert values == sorted(values, reverse=True)


def test_choose_and_order_columns(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go(f"/experiments/{seeded.experiment_id}")
    page.get_by_text("Columns (").click()
    menu = page.locator("[data-role=columns]")
    menu.locator("button[data-action=columns-none][data-kind=m]").click()
    menu.locator("button[data-action=columns-none][data-kind=p]").click()
    menu.locator("input[data-col='t:team']").check()
    menu.locator("input[data-col='m:accuracy']").check()
    menu.locator("input[data-col='p:lr']").check()
    # Move lr to the top of the order list.
    menu.get_by_role("button", name="Move lr up").click()
    menu.get_by_role("button", name="Move lr up").click()
    tab.shot("runs-columns-menu")
    menu.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"cols="))
    query = parse_qs(urlparse(page.url).query)
    assert query["cols"] == ["p:lr,t:team,m:accuracy"]
    cols = page.locator("thead th[data-col]").evaluate_all("hs => hs.map(h => h.dataset.col)")
    assert cols[-3:] == ["p:lr", "t:team", "m:accuracy"]
    assert "nlp" in page.locator("table.runs tbody").inner_text()


def test_group_by_a_param(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go(f"/experiments/{seeded.experiment_id}")
    page.get_by_label("Group by").select_option("p:optimizer")
    page.wait_for_url(re.compile(r"group=p%3Aoptimizer"))
    heads = page.locator("tr.group-head th").all_inner_texts()
    assert any("optimizer = adam" in h for h in heads)
    assert any("(none)" in h for h in heads)  # live-run has no optimizer
    first = page.locator("button[data-action=toggle-group]").first
    first.click()
    assert first.get_attribute("aria-expanded") == "false"
    tab.shot("runs-grouped")


def test_server_side_paging(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go(f"/experiments/{seeded.bulk_experiment_id}?size=25")
    first = _names(tab)
    assert len(first) == 25 and first[0] == "bulk-059"
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"token="))
    second = _names(tab)
    assert len(second) == 25 and not set(first) & set(second)
    assert "Page 2" in page.locator(".pager").inner_text()
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"trail="))
    assert len(_names(tab)) == 10
    page.get_by_role("link", name="← Previous").click()
    page.wait_for_load_state()
    assert _names(tab) == second


def test_running_rows_update_in_place(tab: Any, seeded: Any, web_server: Any) -> None:
    page = tab.page
    tab.go(f"/experiments/{seeded.experiment_id}?cols=m:loss")
    row = page.locator("tr", has_text="live-run")
    row.locator("input.run-select").check()
    api = web_server.url + "/api/2.0/mlflow/"
    httpx.post(api + "runs/log-metric", json={
        "run_id": seeded.running_run_id, "key": "loss", "value": 0.0123,
        "timestamp": int(time.time() * 1000), "step": 1000}).raise_for_status()
    page.locator("tr", has_text="live-run").locator("td", has_text="0.0123").wait_for(
        timeout=15_000)
    assert page.locator("tr", has_text="live-run").locator("input.run-select").is_checked()


def test_select_runs_and_compare(tab: Any, seeded: Any) -> None:
    page = tab.page
    tab.go(f"/experiments/{seeded.experiment_id}")
    for name in ("run-00-adam", "run-01-sgd"):
        page.locator("tr", has_text=name).locator("input.run-select").check()
    assert page.get_by_role("button", name="Compare (2)").is_enabled()
    page.get_by_role("button", name="Compare (2)").click()
    page.wait_for_url(re.compile(r"/compare\?runs="))
    assert urlparse(page.url).path == tab.server.prefix + "/compare"
    assert "Compare 2 runs" in page.locator("h1").inner_text()
