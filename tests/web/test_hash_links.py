"""The links MLflow prints and shares (its UI routes in the URL fragment: "View run ... at:
http://host/#/experiments/1/runs/<id>") open the matching trackd page, with and without a
static prefix, in a real browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.server import ServerOptions, ServerProcess, start_server

PREFIX = "/app/p1/5000"
MODEL = "hash-link-model"


@dataclass
class Seed:
    server: ServerProcess
    experiment_id: str
    run_ids: list[str]


@pytest.fixture(scope="module", params=["", PREFIX], ids=["no-prefix", "prefix"])
def seeded_server(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seed]:
    from mlflow import MlflowClient

    workdir = tmp_path_factory.mktemp("hash-links")
    opts = ServerOptions(backend_store_uri=f"sqlite:///{workdir / 'mlflow.db'}",
                         artifacts_destination=workdir / "artifacts",
                         static_prefix=request.param or None, serve_artifacts=True)
    server = start_server("trackd", opts, workdir)
    try:
        client = MlflowClient(server.url)
        experiment_id = client.create_experiment("hash links")
        run_ids = []
        for name in ("first-run", "second-run"):
            run = client.create_run(experiment_id, run_name=name)
            for step in range(3):
                client.log_metric(run.info.run_id, "val loss", 1.0 / (step + 1), step=step)
            client.set_terminated(run.info.run_id)
            run_ids.append(run.info.run_id)
        client.create_registered_model(MODEL)
        client.create_model_version(MODEL, f"{run.info.artifact_uri}/model", run.info.run_id)
        yield Seed(server, experiment_id, run_ids)
    finally:
        server.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    yield page
    context.close()
    assert not errors, errors


def _cases(seed: Seed) -> list[tuple[str, str, str]]:
    """(fragment, trackd path the browser must land on, text of the page's heading)."""
    exp, (one, two) = seed.experiment_id, seed.run_ids
    return [
        (f"#/experiments/{exp}", f"/experiments/{exp}", "hash links"),
        (f"#/experiments/{exp}/runs", f"/experiments/{exp}", "hash links"),
        (f"#/experiments/{exp}/runs/{one}", f"/runs/{one}", "first-run"),
        (f"#/experiments/{exp}/runs/{two}/artifacts", f"/runs/{two}?tab=artifacts",
         "second-run"),
        ("#/models", "/models", "Registered models"),
        (f"#/models/{MODEL}", f"/models/{MODEL}", MODEL),
        (f"#/models/{MODEL}/versions/1", f"/models/{MODEL}/versions/1", "version 1"),
        (f'#/compare-runs?runs=["{one}","{two}"]&experiments=["{exp}"]',
         f"/compare?runs={one},{two}", "Compare 2 runs"),
        (f'#/metric/val%20loss?runs=["{one}"]&experiments=["{exp}"]',
         f"/runs/{one}?tab=charts&find=val%20loss", "first-run"),
        (f'#/metric/val%20loss?runs=["{one}","{two}"]&experiments=["{exp}"]',
         f"/compare?runs={one},{two}&find=val%20loss", "Compare 2 runs"),
    ]


@pytest.mark.parametrize("index", range(10))
@pytest.mark.parametrize("entry", ["/", ""], ids=["slash", "no-slash"])
def test_mlflow_hash_link_opens_the_page(seeded_server: Seed, page: Any, index: int,
                                         entry: str) -> None:
    fragment, path, heading = _cases(seeded_server)[index]
    base = seeded_server.server.url  # ends in the prefix, if any
    # MLflow's link is "<tracking URI>/#/..."; behind a prefix people also drop the slash.
    start = base + ("/" if entry == "/" else "") + fragment
    page.goto(start)
    expected = seeded_server.server.url + path
    page.wait_for_url(re.compile(re.escape(expected) + "$"))
    assert heading in page.locator("h1").first.inner_text()


def test_a_page_without_an_mlflow_fragment_stays(seeded_server: Seed, page: Any) -> None:
    url = f"{seeded_server.server.url}/experiments/{seeded_server.experiment_id}#main"
    page.goto(url)
    page.wait_for_load_state("load")
    assert page.url == url


def test_shot_of_a_followed_run_link(seeded_server: Seed, page: Any) -> None:
    from web.conftest import SCREENSHOTS

    one = seeded_server.run_ids[0]
    page.goto(f"{seeded_server.server.url}/#/experiments/{seeded_server.experiment_id}/runs/{one}")
    page.wait_for_url(re.compile(f"/runs/{one}$"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = "hash-link-run" + ("-prefix" if seeded_server.server.prefix else "")
    page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))
