"""``trackd server --mlflow-ui``: MLflow 3.18's own React UI (from the installed mlflow package)
served by trackd under a static prefix, driven in headless Chromium.

The pages MLflow's users live in must load with their data and without a failed GraphQL call:
the experiment's runs, a run's overview (GraphQL ``GetRun``), its metric charts and artifacts,
the registry, a GenAI experiment's overview (``traces/metrics``), the traces tab and a trace's
spans, the prompts. No API call may fail (but the ``users/current`` that mlflow server also
answers 404 without authentication). Without the mlflow package's UI files the server refuses
to start and says why.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.server import ServerOptions, ServerProcess, start_server

from web.conftest import PREFIX, SCREENSHOTS


@pytest.fixture(scope="module")
def mlflow_ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("mlflow-ui")
    opts = ServerOptions(
        backend_store_uri=f"sqlite:///{workdir / 'mlflow.db'}",
        artifacts_destination=workdir / "artifacts",
        default_artifact_root="mlflow-artifacts:/",
        static_prefix=PREFIX,
        extra_args=["--mlflow-ui"],
    )
    server = start_server("trackd", opts, workdir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def logged(mlflow_ui_server: ServerProcess) -> dict[str, str]:
    import mlflow
    from mlflow import MlflowClient

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.set_tracking_uri(mlflow_ui_server.url)
        try:
            client = MlflowClient()
            experiment_id = client.create_experiment("ui-on-trackd")
            with mlflow.start_run(experiment_id=experiment_id, run_name="sunny-run") as run:
                mlflow.log_param("depth", "7")
                for step in range(20):
                    mlflow.log_metric("val_loss", 1 / (step + 1), step=step)
                mlflow.log_text("hello from trackd", "notes/hello.txt")
            client.create_registered_model("ui-model")
            client.create_model_version("ui-model", f"runs:/{run.info.run_id}/model",
                                        run_id=run.info.run_id)
            mlflow.genai.register_prompt("ui-greeting", "Hello {{name}}, welcome to trackd.",
                                         commit_message="first words")
            mlflow.set_experiment(experiment_id=experiment_id)

            @mlflow.trace(name="answer-question")
            def answer(question: str) -> str:
                with mlflow.start_span("lookup") as span:
                    span.set_inputs({"q": question})
                    span.set_outputs({"found": 3})
                return "forty-two"

            answer("what is the answer?")
            mlflow.flush_trace_async_logging()
            trace_id = mlflow.get_last_active_trace_id()
        finally:
            mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    return {"experiment": experiment_id, "run": run.info.run_id, "trace": trace_id or ""}


# mlflow server answers users/current 404 too when it runs without authentication; the
# assistant is out of trackd's scope (docs/api.md); the UI takes both in its stride.
NOT_SERVED_WITHOUT_AUTH = ("/users/current", "/assistant/config", "/assistant/providers")


class Watch:
    """Failed API calls and GraphQL answers with errors, seen by the page."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        self.graphql_operations: list[str] = []
        self.api_calls: list[str] = []
        page.on("response", self._response)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _response(self, response: Any) -> None:
        url = response.url
        if "/ajax-api/" in url:
            self.api_calls.append(url.split("/ajax-api/", 1)[1].split("?")[0])
        if url.endswith("/graphql"):
            request = json.loads(response.request.post_data or "{}")
            self.graphql_operations.append(request.get("operationName") or "?")
            body = response.json()
            if response.status != 200 or body.get("errors"):
                self.problems.append(f"graphql {response.status}: {body}")
        elif "/ajax-api/" in url and response.status >= 400 and not url.split("?")[0].endswith(
                NOT_SERVED_WITHOUT_AUTH):
            self.problems.append(f"{response.status} {url}")


def _open(page: Any, server: ServerProcess, fragment: str) -> None:
    # Not "networkidle": the UI polls, so the network never goes quiet; each step waits for
    # the text it needs instead.
    page.goto(f"{server.url}/{fragment}", wait_until="domcontentloaded")


def test_index_and_assets_come_from_the_mlflow_package(mlflow_ui_server: ServerProcess) -> None:
    import mlflow
    import requests

    build = Path(mlflow.__file__).parent / "server" / "js" / "build"
    index = requests.get(f"{mlflow_ui_server.url}/", timeout=10)
    assert index.status_code == 200 and index.text == (build / "index.html").read_text()
    asset = requests.get(f"{mlflow_ui_server.url}/static-files/favicon.ico", timeout=10)
    assert asset.status_code == 200 and asset.content == (build / "favicon.ico").read_bytes()
    assert "max-age" in asset.headers["cache-control"]
    # mlflow server also answers the same files under Flask's static route.
    built = requests.get(f"{mlflow_ui_server.url}/build/favicon.ico", timeout=10)
    assert built.status_code == 200 and built.content == asset.content
    outside = requests.get(f"{mlflow_ui_server.url}/static-files/..%2F..%2F__init__.py",
                           timeout=10)
    assert outside.status_code == 404
    # trackd's own pages are still served.
    assert requests.get(f"{mlflow_ui_server.url}/experiments", timeout=10).status_code == 200


def test_mlflow_ui_pages_work_on_trackd(browser: Any, mlflow_ui_server: ServerProcess,
                                        logged: dict[str, str]) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    watch = Watch(page)
    experiment, run = logged["experiment"], logged["run"]

    _open(page, mlflow_ui_server, f"#/experiments/{experiment}/runs")
    page.get_by_text("sunny-run").first.wait_for(timeout=20_000)
    page.screenshot(path=str(SCREENSHOTS / "mlflow-ui-runs.png"))

    _open(page, mlflow_ui_server, f"#/experiments/{experiment}/runs/{run}")
    page.get_by_text("sunny-run").first.wait_for(timeout=20_000)
    page.get_by_text("ui-model").first.wait_for(timeout=20_000)  # from GraphQL modelVersions
    page.screenshot(path=str(SCREENSHOTS / "mlflow-ui-run.png"))

    _open(page, mlflow_ui_server, f"#/experiments/{experiment}/runs/{run}/model-metrics")
    page.get_by_text("val_loss").first.wait_for(timeout=20_000)

    _open(page, mlflow_ui_server, f"#/experiments/{experiment}/runs/{run}/artifacts")
    page.get_by_text("notes").first.click(timeout=20_000)
    page.get_by_text("hello.txt").first.click(timeout=20_000)
    page.get_by_text("hello from trackd").first.wait_for(timeout=20_000)

    _open(page, mlflow_ui_server, "#/models")
    page.get_by_text("ui-model").first.wait_for(timeout=20_000)

    # A GenAI experiment's overview: its trace count comes from traces/metrics.
    _open(page, mlflow_ui_server, f"#/experiments/{experiment}/overview")
    page.get_by_text("View traces").first.wait_for(timeout=20_000)
    page.screenshot(path=str(SCREENSHOTS / "mlflow-ui-overview.png"))

    _open(page, mlflow_ui_server, f"#/experiments/{experiment}/traces")
    page.get_by_text("what is the answer?").first.wait_for(timeout=20_000)  # request preview
    page.screenshot(path=str(SCREENSHOTS / "mlflow-ui-traces.png"))
    page.get_by_text("what is the answer?").first.click(timeout=20_000)
    page.get_by_text("lookup").first.wait_for(timeout=20_000)  # the span tree, from its spans
    page.screenshot(path=str(SCREENSHOTS / "mlflow-ui-trace.png"))

    _open(page, mlflow_ui_server, "#/prompts")
    page.get_by_text("ui-greeting").first.wait_for(timeout=20_000)
    _open(page, mlflow_ui_server, "#/prompts/ui-greeting")
    page.get_by_text("welcome to trackd").first.wait_for(timeout=20_000)
    page.screenshot(path=str(SCREENSHOTS / "mlflow-ui-prompt.png"))
    page.close()

    assert "GetRun" in watch.graphql_operations
    assert "MlflowGetExperimentQuery" in watch.graphql_operations
    assert "3.0/mlflow/traces/metrics" in watch.api_calls
    assert not watch.problems, watch.problems


def test_without_mlflows_ui_files_the_server_says_what_to_install(tmp_path: Path) -> None:
    # A package named mlflow without a built UI stands in for a source checkout.
    fake = tmp_path / "site" / "mlflow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    env = {"PYTHONPATH": f"{tmp_path / 'site'}:{Path(__file__).parents[2] / 'src'}",
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "trackd", "server", "--mlflow-ui", "--port", "0",
         "--backend-store-uri", f"sqlite:///{tmp_path / 'x.db'}"],
        capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert done.returncode != 0
    assert "--mlflow-ui" in done.stderr and "server/js/build/index.html" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.db").exists()  # refused before any file was made
