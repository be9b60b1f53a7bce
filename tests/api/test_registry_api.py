"""Model registry over HTTP: shapes, lifecycle, aliases, stages, rename/delete, concurrency.

Shapes are those of MLflow 3.18's server as captured in mlflow-api-captures.md (sections C-E):
versions as strings, ``description: ""`` and ``run_link: ""`` on versions, ``current_stage:
"None"``, empty lists left out.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import sqlalchemy as sa

from .conftest import Api


def unique(prefix: str = "model") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_model(api: Api, **fields: Any) -> str:
    name = fields.pop("name", None) or unique()
    api.ok("POST", "registered-models/create", {"name": name, **fields})
    return name


def run_with_root(api: Api) -> tuple[str, str]:
    """A fresh run: (run_id, artifact_uri)."""
    exp = api.new_experiment(unique("exp"))
    run_id = api.new_run(exp)
    info = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["info"]
    return run_id, info["artifact_uri"]


def new_version(api: Api, name: str, **fields: Any) -> dict[str, Any]:
    if "source" not in fields:
        run_id, root = run_with_root(api)
        fields = {"source": f"{root}/model", "run_id": run_id, **fields}
    return api.ok("POST", "model-versions/create", {"name": name, **fields})["model_version"]


# -- registered models -------------------------------------------------------------------------


def test_create_and_get_shape(api: Api) -> None:
    name = unique()
    before = int(time.time() * 1000)
    created = api.ok(
        "POST", "registered-models/create",
        {"name": name, "tags": [{"key": "team", "value": "a"}], "description": "first"},
    )["registered_model"]
    assert created["name"] == name
    assert created["creation_timestamp"] == created["last_updated_timestamp"] >= before - 5000
    assert created["tags"] == [{"key": "team", "value": "a"}]
    assert created["description"] == "first"
    assert "latest_versions" not in created and "aliases" not in created

    got = api.ok("GET", "registered-models/get", {"name": name})["registered_model"]
    assert got == created


def test_empty_model_has_minimal_shape(api: Api) -> None:
    name = unique()
    created = api.ok("POST", "registered-models/create", {"name": name})["registered_model"]
    # MLflow leaves out an empty description, tags and aliases on registered models.
    assert set(created) == {"name", "creation_timestamp", "last_updated_timestamp"}


def test_version_shape_and_numbering(api: Api) -> None:
    name = new_model(api)
    run_id, root = run_with_root(api)
    v1 = new_version(api, name, source=f"{root}/model", run_id=run_id)
    assert v1 == {
        "name": name,
        "version": "1",
        "creation_timestamp": v1["creation_timestamp"],
        "last_updated_timestamp": v1["creation_timestamp"],
        "current_stage": "None",
        "description": "",
        "source": f"{root}/model",
        "run_id": run_id,
        "status": "READY",
        "run_link": "",
    }
    v2 = new_version(
        api, name, source=f"runs:/{run_id}/model", run_id=run_id, description="d",
        tags=[{"key": "k", "value": "v"}], run_link="http://link",
    )
    assert v2["version"] == "2"
    assert v2["description"] == "d" and v2["run_link"] == "http://link"
    assert v2["tags"] == [{"key": "k", "value": "v"}]

    got = api.ok("GET", "model-versions/get", {"name": name, "version": "2"})["model_version"]
    assert got == v2
    uri = api.ok("GET", "model-versions/get-download-uri", {"name": name, "version": "1"})
    assert uri == {"artifact_uri": f"{root}/model"}

    model = api.ok("GET", "registered-models/get", {"name": name})["registered_model"]
    # latest_versions: the newest version per stage; both are in stage "None".
    assert [v["version"] for v in model["latest_versions"]] == ["2"]
    assert model["last_updated_timestamp"] >= v2["creation_timestamp"]


def test_numbers_are_never_reused_after_delete(api: Api) -> None:
    name = new_model(api)
    new_version(api, name)
    new_version(api, name)
    api.ok("DELETE", "model-versions/delete", {"name": name, "version": "2"})
    assert new_version(api, name)["version"] == "3"


def test_update_descriptions(api: Api) -> None:
    name = new_model(api)
    new_version(api, name)
    model = api.ok("PATCH", "registered-models/update", {"name": name, "description": "new"})
    assert model["registered_model"]["description"] == "new"
    args = {"name": name, "version": "1"}
    mv = api.ok("PATCH", "model-versions/update", {**args, "description": "x"})["model_version"]
    assert mv["description"] == "x"
    assert mv["last_updated_timestamp"] >= mv["creation_timestamp"]
    # As in MLflow, an update without a description clears it.
    cleared = api.ok("PATCH", "model-versions/update", args)["model_version"]
    assert "description" not in cleared


def test_tags_set_overwrite_delete(api: Api) -> None:
    name = new_model(api)
    new_version(api, name)
    api.ok("POST", "registered-models/set-tag", {"name": name, "key": "a", "value": "1"})
    api.ok("POST", "registered-models/set-tag", {"name": name, "key": "a", "value": "2"})
    api.ok("POST", "registered-models/set-tag", {"name": name, "key": "b", "value": "3"})
    api.ok("DELETE", "registered-models/delete-tag", {"name": name, "key": "b"})
    # Deleting an absent tag is not an error in MLflow.
    api.ok("DELETE", "registered-models/delete-tag", {"name": name, "key": "never"})
    model = api.ok("GET", "registered-models/get", {"name": name})["registered_model"]
    assert model["tags"] == [{"key": "a", "value": "2"}]

    args = {"name": name, "version": "1"}
    api.ok("POST", "model-versions/set-tag", {**args, "key": "k", "value": "v"})
    api.ok("POST", "model-versions/set-tag", {**args, "key": "k", "value": "w"})
    api.ok("POST", "model-versions/set-tag", {**args, "key": "gone", "value": "x"})
    api.ok("DELETE", "model-versions/delete-tag", {**args, "key": "gone"})
    mv = api.ok("GET", "model-versions/get", args)["model_version"]
    assert mv["tags"] == [{"key": "k", "value": "w"}]


def test_aliases(api: Api) -> None:
    name = new_model(api)
    new_version(api, name)
    new_version(api, name)
    api.ok("POST", "registered-models/alias", {"name": name, "alias": "champion", "version": "1"})
    # Moving an alias just overwrites it.
    api.ok("POST", "registered-models/alias", {"name": name, "alias": "champion", "version": "2"})
    api.ok("POST", "registered-models/alias", {"name": name, "alias": "challenger", "version": "1"})

    mv = api.ok("GET", "registered-models/alias", {"name": name, "alias": "champion"})
    assert mv["model_version"]["version"] == "2"
    assert mv["model_version"]["aliases"] == ["champion"]
    model = api.ok("GET", "registered-models/get", {"name": name})["registered_model"]
    assert sorted(model["aliases"], key=lambda a: a["alias"]) == [
        {"alias": "challenger", "version": "1"},
        {"alias": "champion", "version": "2"},
    ]
    # Versions inside a model carry no aliases (the model lists them).
    assert all("aliases" not in v for v in model["latest_versions"])
    v1 = api.ok("GET", "model-versions/get", {"name": name, "version": "1"})["model_version"]
    assert v1["aliases"] == ["challenger"]
    # 'latest' resolves to the newest version although it can never be set.
    latest = api.ok("GET", "registered-models/alias", {"name": name, "alias": "latest"})
    assert latest["model_version"]["version"] == "2"

    api.ok("DELETE", "registered-models/alias", {"name": name, "alias": "champion"})
    status, body = api.get("registered-models/alias", {"name": name, "alias": "champion"})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")

    # Deleting a version drops the aliases that pointed at it.
    api.ok("DELETE", "model-versions/delete", {"name": name, "version": "1"})
    model = api.ok("GET", "registered-models/get", {"name": name})["registered_model"]
    assert "aliases" not in model


def test_stages_and_latest_versions(api: Api) -> None:
    name = new_model(api)
    for _ in range(4):
        new_version(api, name)
    stage = "model-versions/transition-stage"
    moved = api.ok("POST", stage, {"name": name, "version": "1", "stage": "production",
                                   "archive_existing_versions": False})["model_version"]
    assert moved["current_stage"] == "Production"  # stored canonical
    api.ok("POST", stage, {"name": name, "version": "2", "stage": "Production",
                           "archive_existing_versions": False})
    api.ok("POST", stage, {"name": name, "version": "3", "stage": "Staging"})

    def stages() -> dict[str, str]:
        found = api.ok("GET", "model-versions/search", {"filter": f"name='{name}'"})
        return {v["version"]: v["current_stage"] for v in found["model_versions"]}

    assert stages() == {"1": "Production", "2": "Production", "3": "Staging", "4": "None"}
    latest = api.ok("POST", "registered-models/get-latest-versions", {"name": name})
    assert {v["current_stage"]: v["version"] for v in latest["model_versions"]} == {
        "Production": "2", "Staging": "3", "None": "4",
    }
    only = api.ok("GET", "registered-models/get-latest-versions",
                  {"name": name, "stages": ["production"]})
    assert [v["version"] for v in only["model_versions"]] == ["2"]

    api.ok("POST", stage, {"name": name, "version": "4", "stage": "Production",
                           "archive_existing_versions": True})
    assert stages() == {"1": "Archived", "2": "Archived", "3": "Staging", "4": "Production"}


def test_rename_keeps_versions_tags_and_aliases(api: Api) -> None:
    name, new_name = new_model(api, tags=[{"key": "t", "value": "1"}]), unique("renamed")
    new_version(api, name, tags=[{"key": "vk", "value": "vv"}])
    new_version(api, name)
    api.ok("POST", "registered-models/alias", {"name": name, "alias": "prod", "version": "2"})
    renamed = api.ok("POST", "registered-models/rename", {"name": name, "new_name": new_name})
    model = renamed["registered_model"]
    assert model["name"] == new_name
    assert model["tags"] == [{"key": "t", "value": "1"}]
    assert model["aliases"] == [{"alias": "prod", "version": "2"}]
    assert [v["name"] for v in model["latest_versions"]] == [new_name]

    v1 = api.ok("GET", "model-versions/get", {"name": new_name, "version": "1"})["model_version"]
    assert v1["tags"] == [{"key": "vk", "value": "vv"}]
    by_alias = api.ok("GET", "registered-models/alias", {"name": new_name, "alias": "prod"})
    assert by_alias["model_version"]["version"] == "2"
    status, body = api.get("registered-models/get", {"name": name})
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert new_version(api, new_name)["version"] == "3"


def test_delete_model_removes_everything(api: Api, database_url: str) -> None:
    name = new_model(api, tags=[{"key": "t", "value": "1"}])
    new_version(api, name, tags=[{"key": "k", "value": "v"}])
    api.ok("POST", "registered-models/alias", {"name": name, "alias": "a", "version": "1"})
    api.ok("DELETE", "registered-models/delete", {"name": name})
    status, body = api.get("model-versions/get", {"name": name, "version": "1"})
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            for table in ("registered_models", "registered_model_tags", "model_versions",
                          "model_version_tags", "registered_model_aliases"):
                count = conn.execute(
                    sa.text(f"SELECT COUNT(*) FROM {table} WHERE name = :n"), {"n": name}
                ).scalar()
                assert count == 0, table
    finally:
        engine.dispose()
    # The name is free again.
    new_model(api, name=name)


def test_ajax_prefix_serves_the_registry(api: Api) -> None:
    name = new_model(api)
    status, body = api.get(f"/ajax-api/2.0/mlflow/registered-models/get?name={name}")
    assert status == 200 and body["registered_model"]["name"] == name


def test_concurrent_creates_get_distinct_numbers(api: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    name = new_model(api)
    run_id, root = run_with_root(api)
    body = {"name": name, "source": f"{root}/model", "run_id": run_id}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: api.post("model-versions/create", body), range(24)))
    assert all(status == 200 for status, _ in answers), answers
    numbers = sorted(int(b["model_version"]["version"]) for _, b in answers)
    assert numbers == list(range(1, 25))
