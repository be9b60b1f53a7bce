"""The UI without a browser: its pure parts, and its pages served in-process under a prefix."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import anyio.from_thread
import httpx
import pytest

from trackd.app import create_app
from trackd.config import Settings
from trackd.web.columns import Column, parse_columns
from trackd.web.markdown import render_markdown
from trackd.web.render import format_duration, format_number
from trackd.web.views.experiments import name_filter
from trackd.web.views.runs_table import TableState

PREFIX = "/app/p1/5000"


# ---- pure parts --------------------------------------------------------------------------

def test_columns_round_trip_through_the_url() -> None:
    cols = parse_columns("m:val loss,p:lr,t:mlflow.user,x:bad,p:lr,m:,t:a`b")
    assert cols == [Column("m", "val loss"), Column("p", "lr"), Column("t", "mlflow.user")]
    assert parse_columns(None) is None
    assert parse_columns("") == []
    assert Column("m", "val loss").order_field() == "metrics.`val loss`"
    assert Column("a", "start_time").order_field() == "attributes.start_time"


def test_table_state_reads_and_writes_its_query() -> None:
    state = TableState.from_query({"filter": " params.a = '1' ", "sort": "m:loss", "dir": "asc",
                                   "cols": "m:loss,p:a", "group": "p:a", "size": "30",
                                   "token": "T2", "trail": "T1"})
    assert state.filter == "params.a = '1'"
    assert state.sort == Column("m", "loss") and not state.descending
    assert state.size == 25  # nearest offered page size
    assert state.page_number == 3
    query = state.query()
    assert query["token"] is None and query["trail"] is None  # a changed view starts at page 1
    assert query["sort"] == "m:loss" and query["dir"] == "asc" and query["cols"] == "m:loss,p:a"
    flipped = state.sort_query(Column("m", "loss"))
    assert flipped["dir"] == "desc"
    # The default sort and defaults in general stay out of the URL.
    assert TableState.from_query({}).query() == {
        "filter": "", "view": None, "sort": None, "dir": None, "cols": None, "group": None,
        "size": None, "token": None, "trail": None}
    # Duration is computed, so it is no sort key; an unknown one falls back to the default.
    assert TableState.from_query({"sort": "a:duration"}).sort == Column("a", "start_time")


def test_markdown_is_rendered_without_html_or_script_links() -> None:
    html = str(render_markdown(
        "# T\n<script>alert(1)</script>\n[x](javascript:alert(1)) [y](https://e.org) "
        "![i](data:text/html;base64,AAAA)\n"))
    assert "<h1>T</h1>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and 'src="data' not in html
    assert '<a rel="noopener noreferrer nofollow" target="_blank" href="https://e.org">' in html


def test_number_and_duration_formats() -> None:
    assert format_number(0.123456789) == "0.123457"
    assert format_number(1234567.0) == "1.2346e+06"
    assert format_number(math.nan) == "NaN" and format_number(-math.inf) == "-Infinity"
    assert format_number(3) == "3" and format_number(None) == ""
    assert format_duration(0, 1500) == "1.5s"
    assert format_duration(0, 3_723_000) == "1h 2m"
    assert format_duration(None, 5) == ""


def test_name_filter_quotes_safely() -> None:
    assert name_filter("  ") is None
    assert name_filter("abc") == "name ILIKE '%abc%'"
    assert name_filter("it's") == "name ILIKE \"%it's%\""


# ---- pages in-process ----------------------------------------------------------------------

class Client:
    def __init__(self, app: Any, portal: Any) -> None:
        self.portal = portal
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                      base_url="http://trackd.test")

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.portal.call(lambda: self.http.get(PREFIX + path, **kw))

    def post(self, path: str, body: Any) -> Any:
        response = self.portal.call(
            lambda: self.http.post(PREFIX + "/api/2.0/mlflow/" + path, json=body))
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    settings = Settings(backend_store_uri=f"sqlite:///{tmp_path / 'ui.db'}",
                        artifacts_destination=str(tmp_path / "art"), static_prefix=PREFIX)
    app = create_app(settings)
    with anyio.from_thread.start_blocking_portal() as portal:
        c = Client(app, portal)
        yield c
        portal.call(c.http.aclose)
    app.services.db.close()


def _seed(client: Client, runs: int = 3) -> tuple[str, list[str]]:
    exp = client.post("experiments/create", {"name": "ui <exp>"})["experiment_id"]
    ids = []
    for i in range(runs):
        run = client.post("runs/create", {"experiment_id": exp, "run_name": f"r{i}",
                                          "start_time": 1000 + i})["run"]["info"]["run_id"]
        client.post("runs/log-batch", {
            "run_id": run,
            "params": [{"key": "opt", "value": "adam" if i % 2 else "sgd"}],
            "metrics": [{"key": "loss", "value": 1.0 / (i + 1), "timestamp": 5, "step": 1}],
            "tags": [{"key": "note", "value": "<b>x</b>"}]})
        ids.append(run)
    return exp, ids


def test_root_redirects_inside_the_prefix(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert urlparse(response.headers["location"]).path == PREFIX + "/experiments"


def test_experiments_page_lists_and_escapes(client: Client) -> None:
    _seed(client, 0)
    html = client.get("/experiments").text
    assert "ui &lt;exp&gt;" in html and "<exp>" not in html
    assert f'href="{PREFIX}/static/trackd.css?v=' in html


def test_runs_page_table_sort_filter_and_error(client: Client) -> None:
    exp, ids = _seed(client)
    html = client.get(f"/experiments/{exp}").text
    assert all(f'data-run="{i}"' in html for i in ids)
    assert 'data-col="m:loss"' in html and 'data-col="p:opt"' in html
    assert "&lt;b&gt;x&lt;/b&gt;" not in html  # tags are not default columns
    html = client.get(f"/experiments/{exp}?" + urlencode(
        {"sort": "m:loss", "dir": "asc", "cols": "t:note,m:loss"})).text
    order = [html.index(f'data-run="{i}"') for i in reversed(ids)]
    assert order == sorted(order)  # loss ascending is r2, r1, r0
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    html = client.get(f"/experiments/{exp}?" + urlencode({"filter": "params.opt = 'adam'"})).text
    assert f'data-run="{ids[1]}"' in html and f'data-run="{ids[0]}"' not in html
    bad = client.get(f"/experiments/{exp}?" + urlencode({"filter": "params.opt == == 'adam'"}))
    assert bad.status_code == 200
    assert 'id="filter-error"' in bad.text and 'aria-invalid="true"' in bad.text


def test_runs_page_pages_with_tokens(client: Client) -> None:
    exp, ids = _seed(client, 30)
    first = client.get(f"/experiments/{exp}?size=25").text
    assert first.count("data-run=") == 25
    found = re.search(r'href="([^"]+)" rel="next"', first)
    assert found is not None
    query = parse_qs(urlparse(found.group(1).replace("&amp;", "&")).query)
    second = client.get(f"/experiments/{exp}", params={k: v[0] for k, v in query.items()}).text
    assert second.count("data-run=") == 5 and "Page 2" in second


def test_run_and_compare_pages(client: Client) -> None:
    _, ids = _seed(client)
    client.post("runs/set-tag", {"run_id": ids[0], "key": "mlflow.note.content",
                                 "value": "**bold** <i>raw</i>"})
    html = client.get(f"/runs/{ids[0]}").text
    assert "<strong>bold</strong>" in html and "&lt;i&gt;raw&lt;/i&gt;" in html
    assert client.get(f"/runs/{ids[0]}?tab=charts").status_code == 200
    assert 'data-role="artifact-browser"' in client.get(f"/runs/{ids[0]}?tab=artifacts").text
    html = client.get(f"/compare?runs={ids[0]},{ids[1]}").text
    assert 'class="differs"' in html  # opt differs
    assert '<script type="application/json" id="compare-data">' in html


def test_error_pages_and_methods(client: Client) -> None:
    assert client.get("/runs/" + "a" * 32).status_code == 404
    assert client.get("/runs/not-a-run-id").status_code == 404
    assert client.get("/experiments/99").status_code == 404
    assert client.get("/nowhere").status_code == 404  # the API's plain 404
    response = client.portal.call(lambda: client.http.post(PREFIX + "/experiments"))
    assert response.status_code == 405


def test_static_files_are_cached_compressed_and_confined(client: Client) -> None:
    page = client.get("/experiments").text
    start = page.index(PREFIX + "/static/trackd.js?v=")
    url = page[start : page.index('"', start)][len(PREFIX):]
    response = client.get(url, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    etag = response.headers["etag"]
    assert client.get("/static/trackd.js", headers={"if-none-match": etag}).status_code == 304
    assert client.get("/static/../render.py").status_code == 404
    assert client.get("/static/%2e%2e/render.py").status_code == 404
    vendor = client.get("/static/vendor/uPlot.iife.min.js")
    assert vendor.status_code == 200, "run `pip install -e .`: the build step copies uPlot"
    raw = client.get("/experiments", headers={"accept-encoding": "gzip"})
    assert raw.headers.get("content-encoding") == "gzip" or len(raw.content) < 1024
