"""The OpenAPI document: valid, complete against the route table, served at /openapi.json."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from support.asgi import SyncClient, in_process

from trackd.api.openapi import SchemaCoverageError, build_document, coverage_problems
from trackd.api.router import Route
from trackd.api.routes import api_routes
from trackd.config import Settings

from .conftest import Api

_METHODS = ("get", "post", "put", "patch", "delete")


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in _METHODS
    }


def _openapi_path(route: Route) -> str:
    return re.sub(r"\{(\w+):path\}", r"{\1}", route.path)


@pytest.mark.parametrize("auth", [False, True])
@pytest.mark.parametrize("prefix", ["", "/mlflow"])
def test_the_document_is_valid_openapi(auth: bool, prefix: str) -> None:
    document = build_document(api_routes(), static_prefix=prefix, auth=auth)
    validate(document)  # raises on any violation of the OpenAPI 3.0 schema
    assert document["servers"] == [{"url": prefix or "/"}]


def test_every_route_in_the_table_has_a_schema() -> None:
    """Adding a route to api/routes.py without describing it in api/openapi/ fails here."""
    assert coverage_problems(api_routes()) == []


def test_the_document_names_every_route_and_nothing_else() -> None:
    routes = api_routes()
    documented = _operations(build_document(routes))
    assert documented == {(r.method, _openapi_path(r)) for r in routes}
    # Both prefixes, and the 3.0 routes, come from the table without being written twice.
    assert ("POST", "/ajax-api/2.0/mlflow/runs/log-batch") in documented
    assert ("GET", "/api/3.0/mlflow/server-info") in documented


async def _dummy(call: Any) -> None:
    return None


def test_a_route_without_a_schema_is_refused() -> None:
    extra = Route("POST", "/api/2.0/mlflow/runs/frobnicate", _dummy)
    assert coverage_problems([*api_routes(), extra]) == [
        "no schema for POST /mlflow/runs/frobnicate"
    ]
    with pytest.raises(SchemaCoverageError, match="frobnicate"):
        build_document([*api_routes(), extra])


def test_a_schema_without_its_route_is_refused() -> None:
    routes = [r for r in api_routes() if not r.path.endswith("/runs/log-model")]
    assert coverage_problems(routes) == ["schema for unserved POST /mlflow/runs/log-model"]


def test_fields_match_how_the_handlers_read_them() -> None:
    paths = build_document(api_routes())["paths"]
    get_run = paths["/api/2.0/mlflow/runs/get"]["get"]
    assert {p["name"]: p["in"] for p in get_run["parameters"]} == {
        "run_id": "query", "run_uuid": "query"
    }
    batch = paths["/api/2.0/mlflow/runs/log-batch"]["post"]["requestBody"]
    schema = batch["content"]["application/json"]["schema"]
    assert schema["required"] == ["run_id"]
    assert schema["properties"]["metrics"]["items"]["required"] == ["key", "value", "timestamp"]
    upload = paths["/api/2.0/mlflow-artifacts/artifacts/{artifact_path}"]["put"]["requestBody"]
    assert "application/octet-stream" in upload["content"]
    tag = paths["/api/2.0/mlflow/logged-models/{model_id}/tags/{tag_key}"]["delete"]
    assert [p["name"] for p in tag["parameters"] if p["in"] == "path"] == ["model_id", "tag_key"]


def test_served_at_openapi_json(api: Api) -> None:
    response = api.client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": "/"}]
    assert "/api/2.0/mlflow/experiments/create" in document["paths"]


@pytest.fixture
def prefixed(tmp_path: Path) -> Iterator[SyncClient]:
    settings = Settings(backend_store_uri=f"sqlite:///{tmp_path / 'db.sqlite'}",
                        artifacts_destination=str(tmp_path / "artifacts"),
                        static_prefix="/tracking")
    with in_process(settings) as served:
        yield served.client


def test_the_static_prefix_is_the_server_url(prefixed: SyncClient) -> None:
    assert prefixed.get("/openapi.json").status_code == 404
    document = prefixed.get("/tracking/openapi.json").json()
    assert document["servers"] == [{"url": "/tracking"}]
    # Paths stay as the route table writes them: the server URL carries the prefix.
    assert "/api/2.0/mlflow/runs/create" in document["paths"]
