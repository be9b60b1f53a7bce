"""registered-models/search and model-versions/search: filters, order_by, paging, prompts.

Each test works on models whose names share a fresh prefix, so that the session's shared
database (other tests' models) never leaks into the expectations.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .conftest import Api

# What the 3.18 client ANDs into every registered-model search (mlflow-api.md §6.3).
NOT_PROMPT = "tag.`mlflow.prompt.is_prompt` != 'true'"


@pytest.fixture
def prefix() -> str:
    return f"srch{uuid.uuid4().hex[:8]}"


def make(api: Api, name: str, tags: dict[str, str] | None = None, versions: int = 0,
         version_tags: dict[str, str] | None = None) -> list[dict[str, Any]]:
    api.ok("POST", "registered-models/create", {
        "name": name, "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
    })
    made = []
    for _ in range(versions):
        made.append(api.ok("POST", "model-versions/create", {
            "name": name, "source": f"s3://bucket/{name}",
            "tags": [{"key": k, "value": v} for k, v in (version_tags or {}).items()],
        })["model_version"])
    return made


def model_names(api: Api, filter_string: str, **params: Any) -> list[str]:
    found = api.ok("GET", "registered-models/search", {"filter": filter_string, **params})
    return [m["name"] for m in found.get("registered_models", [])]


def version_keys(api: Api, filter_string: str, **params: Any) -> list[tuple[str, str]]:
    found = api.ok("GET", "model-versions/search", {"filter": filter_string, **params})
    return [(v["name"], v["version"]) for v in found.get("model_versions", [])]


def test_models_by_name_pattern_and_tags(api: Api, prefix: str) -> None:
    make(api, f"{prefix}-a", {"team": "red"}, versions=1)
    make(api, f"{prefix}-b", {"team": "blue"})
    # Mixed case, yet sorted after -a and -b by bytes and by MySQL's case-blind collation.
    make(api, f"{prefix}-dD", {"team": "red", "tier": "gold"})
    make(api, f"{prefix}-prompt", {"mlflow.prompt.is_prompt": "true"})

    like = f"name LIKE '{prefix}-%'"
    assert model_names(api, f"{like} AND {NOT_PROMPT}") == [
        f"{prefix}-a", f"{prefix}-b", f"{prefix}-dD",
    ]
    # Prompts are left out even without the client's clause, and shown when asked for.
    assert f"{prefix}-prompt" not in model_names(api, like)
    assert model_names(api, f"{like} AND tags.`mlflow.prompt.is_prompt` = 'true'") == [
        f"{prefix}-prompt",
    ]
    # LIKE is case-sensitive, ILIKE is not.
    assert model_names(api, f"name LIKE '{prefix}-dd'") == []
    assert model_names(api, f"name = '{prefix}-dd'") == []
    assert model_names(api, f"name ILIKE '{prefix}-dd'") == [f"{prefix}-dD"]
    assert model_names(api, f"{like} AND tags.team = 'red'") == [f"{prefix}-a", f"{prefix}-dD"]
    assert model_names(api, f"{like} AND tag.team != 'red'") == [f"{prefix}-b"]
    assert model_names(api, f"{like} AND tags.team = 'red' AND tags.tier LIKE 'go%'") == [
        f"{prefix}-dD",
    ]
    assert model_names(api, f"name IN ('{prefix}-a', '{prefix}-b')") == [
        f"{prefix}-a", f"{prefix}-b",
    ]
    assert model_names(api, f"{like} AND name NOT IN ('{prefix}-a')") == [
        f"{prefix}-b", f"{prefix}-dD",
    ]
    assert model_names(api, f"name = '{prefix}-a'") == [f"{prefix}-a"]
    assert model_names(api, f"{like} AND name != '{prefix}-a'") == [f"{prefix}-b", f"{prefix}-dD"]

    found = api.ok("GET", "registered-models/search", {"filter": f"name = '{prefix}-a'"})
    model = found["registered_models"][0]
    assert model["latest_versions"][0]["version"] == "1"
    assert model["tags"] == [{"key": "team", "value": "red"}]


def test_models_order_and_paging(api: Api, prefix: str) -> None:
    names = [f"{prefix}-{i}" for i in range(5)]
    for name in names:
        make(api, name)
    # Touch 1 last so that it is the most recently updated.
    api.ok("PATCH", "registered-models/update", {"name": names[1], "description": "x"})
    like = f"name LIKE '{prefix}-%'"
    assert model_names(api, like, order_by=["name DESC"]) == names[::-1]
    assert model_names(api, like, order_by=["last_updated_timestamp DESC"])[0] == names[1]
    assert model_names(api, like, order_by=["timestamp ASC"])[-1] == names[1]

    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"filter": like, "max_results": 2}
        if token:
            params["page_token"] = token
        page = api.ok("GET", "registered-models/search", params)
        seen += [m["name"] for m in page.get("registered_models", [])]
        pages += 1
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == names and pages == 3


def test_versions_by_name_run_source_tags(api: Api, prefix: str) -> None:
    exp = api.new_experiment(f"{prefix}-exp")
    run_id = api.new_run(exp)
    root = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["info"]["artifact_uri"]
    make(api, f"{prefix}-a", versions=2, version_tags={"stage": "dev"})
    make(api, f"{prefix}-b", versions=1)
    api.ok("POST", "model-versions/create",
           {"name": f"{prefix}-b", "source": f"{root}/model", "run_id": run_id})
    api.ok("POST", "model-versions/set-tag",
           {"name": f"{prefix}-a", "version": "2", "key": "stage", "value": "prod"})

    like = f"name LIKE '{prefix}-%'"
    # Default order: last update DESC, then name, then version DESC.
    assert sorted(version_keys(api, like)) == [
        (f"{prefix}-a", "1"), (f"{prefix}-a", "2"), (f"{prefix}-b", "1"), (f"{prefix}-b", "2"),
    ]
    assert version_keys(api, f"name = '{prefix}-a'", order_by=["version_number ASC"]) == [
        (f"{prefix}-a", "1"), (f"{prefix}-a", "2"),
    ]
    assert version_keys(api, f"run_id = '{run_id}'") == [(f"{prefix}-b", "2")]
    assert version_keys(api, f"run_id IN ('{run_id}', 'other')") == [(f"{prefix}-b", "2")]
    assert version_keys(api, f"{like} AND source_path LIKE '{root}%'") == [(f"{prefix}-b", "2")]
    assert version_keys(api, f"{like} AND tags.stage = 'prod'") == [(f"{prefix}-a", "2")]
    assert version_keys(api, f"{like} AND tags.stage != 'prod'") == [(f"{prefix}-a", "1")]
    assert version_keys(api, f"{like} AND version_number > 1", order_by=["name"]) == [
        (f"{prefix}-a", "2"), (f"{prefix}-b", "2"),
    ]
    assert version_keys(
        api, f"name IN ('{prefix}-a', '{prefix}-b')",
        order_by=["name DESC", "version_number ASC"],
    ) == [(f"{prefix}-b", "1"), (f"{prefix}-b", "2"), (f"{prefix}-a", "1"), (f"{prefix}-a", "2")]

    # Deleted versions never show up.
    api.ok("DELETE", "model-versions/delete", {"name": f"{prefix}-a", "version": "1"})
    assert version_keys(api, f"name = '{prefix}-a'") == [(f"{prefix}-a", "2")]

    # Search results carry tags, not aliases (as MLflow's).
    api.ok("POST", "registered-models/alias",
           {"name": f"{prefix}-a", "alias": "x", "version": "2"})
    found = api.ok("GET", "model-versions/search", {"filter": f"name = '{prefix}-a'"})
    assert found["model_versions"][0]["tags"] == [{"key": "stage", "value": "prod"}]
    assert "aliases" not in found["model_versions"][0]


def test_version_paging_and_prompt_versions(api: Api, prefix: str) -> None:
    make(api, f"{prefix}-m", versions=5)
    api.ok("POST", "registered-models/create", {
        "name": f"{prefix}-p", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}],
    })
    api.ok("POST", "model-versions/create", {
        "name": f"{prefix}-p", "source": "dummy-source",
        "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}],
    })
    like = f"name LIKE '{prefix}-%'"
    keys = []
    token = None
    while True:
        params: dict[str, Any] = {"filter": like, "max_results": 2,
                                  "order_by": ["version_number DESC"]}
        if token:
            params["page_token"] = token
        page = api.ok("GET", "model-versions/search", params)
        keys += [v["version"] for v in page.get("model_versions", [])]
        token = page.get("next_page_token")
        if not token:
            break
    assert keys == ["5", "4", "3", "2", "1"]
    prompt = f"{like} AND tags.`mlflow.prompt.is_prompt` = 'true'"
    assert version_keys(api, prompt) == [(f"{prefix}-p", "1")]


def test_page_token_belongs_to_its_query(api: Api, prefix: str) -> None:
    # trackd's tokens carry a fingerprint of their query (service/paging.py); MLflow's hold a
    # bare offset and would silently skip rows of the other query.
    for i in range(3):
        make(api, f"{prefix}-{i}")
    first = api.ok("GET", "registered-models/search",
                   {"filter": f"name LIKE '{prefix}-%'", "max_results": 1})
    status, body = api.get("registered-models/search", {
        "filter": "name LIKE 'other%'", "max_results": 1, "page_token": first["next_page_token"],
    })
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    status, body = api.get("registered-models/search", {"page_token": "garbage!"})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
