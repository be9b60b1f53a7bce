"""Model-version sources over HTTP: runs, logged models, other versions, object stores,
prompts, and the crafted sources MLflow refuses (traversal in any encoding, paths outside the
named run's or model's root, foreign hosts); plus the web UI's download of version files."""

from __future__ import annotations

import json
import time
import uuid

import sqlalchemy as sa

from .conftest import Api
from .test_registry_api import new_model, new_version, run_with_root, unique


def logged_model(api: Api, database_url: str, experiment_id: str, run_id: str) -> tuple[str, str]:
    """A logged model (id, artifact_location): through the API when it is served, else by SQL."""
    status, body = api.post(
        "logged-models", {"experiment_id": experiment_id, "name": "model", "source_run_id": run_id}
    )
    if status == 200:
        info = body["model"]["info"]
        return info["model_id"], info["artifact_uri"]
    model_id = "m-" + uuid.uuid4().hex
    location = f"mlflow-artifacts:/{experiment_id}/models/{model_id}/artifacts"
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location,"
                    " creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage,"
                    " model_type, source_run_id) VALUES (:id, :exp, 'model', :loc, :now, :now,"
                    " 2, 'active', '', :run)"
                ),
                {"id": model_id, "exp": int(experiment_id), "loc": location,
                 "now": int(time.time() * 1000), "run": run_id},
            )
    finally:
        engine.dispose()
    return model_id, location


def logged_model_tags(api: Api, database_url: str, model_id: str) -> dict[str, str]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT tag_key, tag_value FROM logged_model_tags WHERE model_id = :m"),
                {"m": model_id},
            ).all()
    finally:
        engine.dispose()
    return {k: v for k, v in rows}


def test_version_from_logged_model(api: Api, database_url: str) -> None:
    exp = api.new_experiment(unique("exp"))
    run_id = api.new_run(exp)
    model_id, location = logged_model(api, database_url, exp, run_id)
    name = new_model(api)
    # What the 3.x client sends for register_model('runs:/<id>/model').
    mv = new_version(api, name, source=f"models:/{model_id}", run_id=run_id, model_id=model_id)
    assert mv["source"] == f"models:/{model_id}" and mv["run_id"] == run_id
    uri = api.ok("GET", "model-versions/get-download-uri", {"name": name, "version": "1"})
    assert uri["artifact_uri"] == location
    # Without run_id the server fills it from the logged model's source run.
    mv2 = new_version(api, name, source=f"models:/{model_id}", model_id=model_id)
    assert mv2["run_id"] == run_id
    tag = logged_model_tags(api, database_url, model_id)["mlflow.modelVersions"]
    assert json.loads(tag) == [{"name": name, "version": 1}, {"name": name, "version": 2}]


def test_version_from_another_version(api: Api) -> None:
    name = new_model(api)
    first = new_version(api, name)
    api.ok("POST", "registered-models/alias", {"name": name, "alias": "gold", "version": "1"})
    other = new_model(api)
    mv = new_version(api, other, source=f"models:/{name}@gold")
    assert mv["source"] == f"models:/{name}/1"
    assert mv["run_id"] == first["run_id"]
    uri = api.ok("GET", "model-versions/get-download-uri", {"name": other, "version": "1"})
    assert uri["artifact_uri"] == first["source"]


def test_plain_object_store_source(api: Api) -> None:
    name = new_model(api)
    mv = new_version(api, name, source="s3://bucket/path/model")
    assert mv["source"] == "s3://bucket/path/model" and mv["run_id"] == ""


def test_prompt_versions(api: Api) -> None:
    name = new_model(api, tags=[{"key": "mlflow.prompt.is_prompt", "value": "true"}])
    tags = [{"key": "mlflow.prompt.is_prompt", "value": "true"},
            {"key": "mlflow.prompt.text", "value": "Hello {{name}}"}]
    mv = new_version(api, name, source="dummy-source", tags=tags)
    assert mv["run_id"] == "" and mv["source"] == "dummy-source"
    status, body = api.post("model-versions/create",
                            {"name": name, "source": "s3://b/p", "tags": tags})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    # A model may not take a prompt's name, and the message says so.
    status, body = api.post("registered-models/create", {"name": name})
    assert (status, body["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")
    assert "prompt" in body["message"]


BAD_SOURCES = [
        "mlflow-artifacts:/../../etc",
        "{root}/../../../etc/passwd",
        "{root}/%2e%2e/%2e%2e/x",
        "{root}/%252e%252e/%252e%252e/x",
        "{root}/model%00",
        "file:///etc",
        "file:///etc/passwd",
        "/etc/passwd",
        "etc/passwd",
        "{run_root_other}/model",
        "runs:/{other_run}/model",
        "runs://host/{run}/model",
        "models:/m-0123456789abcdef0123456789abcdef",
        "http://evil.example.com/api/2.0/mlflow-artifacts/artifacts/x",
        "mlflow-artifacts://evil.example.com/1/x",
        "s3://bucket/a/../b",
        "s3://bucket",
]


def test_bad_sources_are_refused(api: Api) -> None:
    # One test over all sources (not a parametrization): pytest would interleave the database
    # kinds of a parametrized test and rebuild the session's databases over and over.
    name = new_model(api)
    run_id, root = run_with_root(api)
    other_run, other_root = run_with_root(api)
    for source in BAD_SOURCES:
        text = source.format(root=root, run=run_id, other_run=other_run,
                             run_root_other=other_root)
        status, body = api.post("model-versions/create",
                                {"name": name, "source": text, "run_id": run_id})
        assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE"), (text, body)
    assert "versions" not in str(api.ok("GET", "registered-models/get", {"name": name}))


def test_model_id_sources_are_checked(api: Api, database_url: str) -> None:
    exp = api.new_experiment(unique("exp"))
    run_id = api.new_run(exp)
    model_id, location = logged_model(api, database_url, exp, run_id)
    name = new_model(api)
    run_root = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["info"]["artifact_uri"]
    for source, model in (
        (f"models:/{model_id}", "m-" + "0" * 32),  # the source names another model
        # No such logged model (MLflow fails later, with a 500; trackd refuses the source).
        (f"models:/m-{'1' * 32}", "m-" + "1" * 32),
        (f"runs:/{run_id}/model", model_id),  # runs:/ cannot come with a model_id
        (f"{run_root}/model", model_id),  # outside the model's root
        (f"{location}/../../x", model_id),
    ):
        status, body = api.post("model-versions/create",
                                {"name": name, "source": source, "model_id": model})
        assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE"), (source, body)
    # Inside the model's root is fine.
    mv = new_version(api, name, source=f"{location}/sub", model_id=model_id)
    assert mv["run_id"] == run_id


def test_ui_download_of_version_files(api: Api) -> None:
    """``/model-versions/get-artifact``: the web UI reads a version's files through the server."""
    run_id, root = run_with_root(api)
    assert root.startswith("mlflow-artifacts:/")
    relative = root.removeprefix("mlflow-artifacts:/")
    put = api.client.request("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{relative}/model/MLmodel",
                             content=b"flavors: {}\n")
    assert put.status_code == 200, put.text
    name = new_model(api)
    new_version(api, name, source=f"{root}/model", run_id=run_id)
    new_version(api, name, source=f"runs:/{run_id}/model", run_id=run_id)
    for version in ("1", "2"):
        got = api.client.get("/model-versions/get-artifact",
                             params={"name": name, "version": version, "path": "MLmodel"})
        assert got.status_code == 200 and got.content == b"flavors: {}\n", got.text
    for bad in ("../../../etc/passwd", "/etc/passwd", "%2e%2e/x"):
        got = api.client.get("/model-versions/get-artifact",
                             params={"name": name, "version": "1", "path": bad})
        assert got.status_code == 400, (bad, got.text)
    got = api.client.get("/model-versions/get-artifact",
                         params={"name": name, "version": "9", "path": "MLmodel"})
    assert got.status_code == 404
