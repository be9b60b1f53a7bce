"""Browser tests: headless Debian Chromium driven by Playwright against a live `trackd server`.

The server runs under a static prefix (as on a data platform), seeded once per session with
real runs through the official mlflow client. Screenshots go to test-artifacts/screenshots/.

Chromium comes from Debian (`apt-get install -y chromium`); Playwright never downloads a
browser here. Without /usr/bin/chromium the tier is skipped locally and fails under CI.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.server import ServerOptions, ServerProcess, start_server

PREFIX = "/app/p1/5000"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"

# The mlflow client must fail fast against a broken server rather than back off for minutes.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.web)


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("web-server")
    opts = ServerOptions(
        backend_store_uri=f"sqlite:///{workdir / 'mlflow.db'}",
        artifacts_destination=workdir / "artifacts",
        default_artifact_root="mlflow-artifacts:/",
        static_prefix=PREFIX,
        serve_artifacts=True,
    )
    server = start_server("trackd", opts, workdir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def seeded(web_server: ServerProcess) -> Any:
    from web.seed import seed, seed_bulk

    # The client's own warnings (signature inference, deprecated stages) are not under test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = seed(web_server.url)
    data.bulk_experiment_id = seed_bulk(web_server.url, "paging", 60)
    return data


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = "needs Debian's chromium: apt-get update && apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Page:
    """A browser tab on the seeded server, collecting script errors; `go` takes prefix paths."""

    def __init__(self, page: Any, server: ServerProcess) -> None:
        self.page = page
        self.server = server
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))

    def go(self, path: str) -> Any:
        return self.page.goto(self.server.url + path)

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target


@pytest.fixture
def tab(browser: Any, web_server: ServerProcess, seeded: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    page = Page(context.new_page(), web_server)
    yield page
    context.close()
    assert not page.errors, f"the page logged errors: {page.errors}"
