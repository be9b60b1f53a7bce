"""/ready, /metrics and JSON access logs of an in-process trackd."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support.asgi import in_process

from trackd.config import Settings


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    settings = Settings(backend_store_uri=f"sqlite:///{tmp_path / 'm.db'}",
                        artifacts_destination=str(tmp_path / "artifacts"),
                        access_log_format="json")
    with in_process(settings) as served:
        yield served.app, served.client.request


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample, by name and labels (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_ready_reports_database_and_schema(served: tuple[Any, Any]) -> None:
    app, call = served
    resp = call("GET", "/ready")
    assert resp.status_code == 200 and resp.json() == {"status": "ready"}
    with app.services.db.engine.begin() as conn:  # the schema goes away under the server
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'someoneelse'"))
    resp = call("GET", "/ready")
    assert resp.status_code == 503 and "schema revision" in resp.json()["reason"]
    with app.services.db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))
    resp = call("GET", "/ready")
    assert resp.status_code == 503 and resp.json()["status"] == "unavailable"


def test_metrics_count_requests_points_and_bytes(served: tuple[Any, Any]) -> None:
    _, call = served
    exp = call("POST", "/api/2.0/mlflow/experiments/create", json={"name": "obs"}).json()
    run = call("POST", "/api/2.0/mlflow/runs/create",
               json={"experiment_id": exp["experiment_id"]}).json()["run"]["info"]["run_id"]
    call("POST", "/api/2.0/mlflow/runs/log-metric",
         json={"run_id": run, "key": "a", "value": 1.0, "timestamp": 1, "step": 0})
    batch = [{"key": "b", "value": float(i), "timestamp": 1, "step": i} for i in range(5)]
    assert call("POST", "/api/2.0/mlflow/runs/log-batch",
                json={"run_id": run, "metrics": batch}).status_code == 200
    call("GET", "/api/2.0/mlflow/runs/get", params={"run_id": "nope"})
    path = f"/api/2.0/mlflow-artifacts/artifacts/{exp['experiment_id']}/{run}/artifacts/f.bin"
    put = call("PUT", path, content=b"x" * 1000)
    got = call("GET", path)

    text = call("GET", "/metrics").text
    route = "/api/2.0/mlflow/runs/log-metric"
    assert sample(text, "trackd_http_requests_total", route=route, status="200") == 1
    assert sample(text, "trackd_http_requests_total", route="/api/2.0/mlflow/runs/get",
                  status="404") == 1
    assert sample(text, "trackd_http_request_duration_seconds_count", route=route) == 1
    assert sample(text, "trackd_metric_points_ingested_total") == 6
    assert 'trackd_db_pool_size{engine="writer"}' in text
    assert (put.status_code, got.status_code) == (200, 200), (put.text, got.text)
    assert sample(text, "trackd_artifact_bytes_total", direction="upload") == 1000
    assert sample(text, "trackd_artifact_bytes_total", direction="download") == 1000
    # Labels are route templates, never raw ids.
    assert run not in text


def test_json_access_log(served: tuple[Any, Any], caplog: pytest.LogCaptureFixture) -> None:
    _, call = served
    with caplog.at_level(logging.INFO, logger="trackd.access"):
        call("GET", "/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "trackd.access"]
    assert len(records) == 1
    line = records[0]
    assert line["method"] == "GET" and line["status"] == 200
    assert line["route"] == "/api/2.0/mlflow/experiments/get"
    assert line["path"] == "/api/2.0/mlflow/experiments/get" and line["duration_ms"] >= 0
    assert set(line) >= {"ts", "bytes", "client"}
