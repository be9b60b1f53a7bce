"""Registry requests MLflow refuses: the error code and HTTP status for each, and no write.

Every case runs against a fresh model ``M`` with versions 1 and 2 (alias ``champ`` on 1) so
that the expected codes are those of a populated registry.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from .conftest import Api


@dataclass
class Ctx:
    name: str
    run_id: str
    root: str


@dataclass
class Case:
    id: str
    method: str
    path: str
    body: Callable[[Ctx], dict[str, Any]]
    status: int
    code: str


BAD_REQUEST = (400, "INVALID_PARAMETER_VALUE")
EXISTS = (400, "RESOURCE_ALREADY_EXISTS")
MISSING = (404, "RESOURCE_DOES_NOT_EXIST")


def case(id: str, method: str, path: str, body: Callable[[Ctx], dict[str, Any]],
         expected: tuple[int, str]) -> Case:
    return Case(id, method, path, body, *expected)


CASES = [
    # registered models
    case("create duplicate", "POST", "registered-models/create", lambda c: {"name": c.name},
         EXISTS),
    case("create no name", "POST", "registered-models/create", lambda c: {}, BAD_REQUEST),
    case("create blank name", "POST", "registered-models/create", lambda c: {"name": "  "},
         BAD_REQUEST),
    case("create slash", "POST", "registered-models/create", lambda c: {"name": "a/b"},
         BAD_REQUEST),
    case("create colon", "POST", "registered-models/create", lambda c: {"name": "a:b"},
         BAD_REQUEST),
    case("create dotdot", "POST", "registered-models/create", lambda c: {"name": ".."},
         BAD_REQUEST),
    case("create bad tag key", "POST", "registered-models/create",
         lambda c: {"name": c.name + "x", "tags": [{"key": "../k", "value": "v"}]}, BAD_REQUEST),
    case("create long tag key", "POST", "registered-models/create",
         lambda c: {"name": c.name + "x", "tags": [{"key": "k" * 251, "value": "v"}]},
         BAD_REQUEST),
    case("get unknown", "GET", "registered-models/get", lambda c: {"name": c.name + "-nope"},
         MISSING),
    case("get no name", "GET", "registered-models/get", lambda c: {}, BAD_REQUEST),
    case("update unknown", "PATCH", "registered-models/update",
         lambda c: {"name": c.name + "-nope", "description": "d"}, MISSING),
    case("rename unknown", "POST", "registered-models/rename",
         lambda c: {"name": c.name + "-nope", "new_name": c.name + "-x"}, MISSING),
    case("rename onto existing", "POST", "registered-models/rename",
         lambda c: {"name": c.name, "new_name": c.name + "-other"}, EXISTS),
    case("rename bad new name", "POST", "registered-models/rename",
         lambda c: {"name": c.name, "new_name": "a/b"}, BAD_REQUEST),
    case("rename no new name", "POST", "registered-models/rename",
         lambda c: {"name": c.name}, BAD_REQUEST),
    case("delete unknown", "DELETE", "registered-models/delete",
         lambda c: {"name": c.name + "-nope"}, MISSING),
    case("set tag unknown model", "POST", "registered-models/set-tag",
         lambda c: {"name": c.name + "-nope", "key": "k", "value": "v"}, MISSING),
    case("set tag bad key", "POST", "registered-models/set-tag",
         lambda c: {"name": c.name, "key": "a//b", "value": "v"}, BAD_REQUEST),
    case("delete tag unknown model", "DELETE", "registered-models/delete-tag",
         lambda c: {"name": c.name + "-nope", "key": "k"}, MISSING),
    case("latest versions unknown", "POST", "registered-models/get-latest-versions",
         lambda c: {"name": c.name + "-nope"}, MISSING),
    case("latest versions bad stage", "POST", "registered-models/get-latest-versions",
         lambda c: {"name": c.name, "stages": ["Prod"]}, BAD_REQUEST),
    case("search max_results too big", "GET", "registered-models/search",
         lambda c: {"max_results": 1001}, BAD_REQUEST),
    case("search bad filter", "GET", "registered-models/search",
         lambda c: {"filter": "name = 'a' OR name = 'b'"}, BAD_REQUEST),
    case("search bad attribute", "GET", "registered-models/search",
         lambda c: {"filter": "run_id = 'a'"}, BAD_REQUEST),
    case("search bad order_by", "GET", "registered-models/search",
         lambda c: {"order_by": ["version_number DESC"]}, BAD_REQUEST),
    # aliases
    case("alias invalid chars", "POST", "registered-models/alias",
         lambda c: {"name": c.name, "alias": "bad alias!", "version": "1"}, BAD_REQUEST),
    case("alias empty", "POST", "registered-models/alias",
         lambda c: {"name": c.name, "alias": "", "version": "1"}, BAD_REQUEST),
    case("alias too long", "POST", "registered-models/alias",
         lambda c: {"name": c.name, "alias": "a" * 256, "version": "1"}, BAD_REQUEST),
    case("alias reserved latest", "POST", "registered-models/alias",
         lambda c: {"name": c.name, "alias": "LaTeSt", "version": "1"}, BAD_REQUEST),
    case("alias reserved v1", "POST", "registered-models/alias",
         lambda c: {"name": c.name, "alias": "v1", "version": "1"}, BAD_REQUEST),
    case("alias reserved V22", "POST", "registered-models/alias",
         lambda c: {"name": c.name, "alias": "V22", "version": "2"}, BAD_REQUEST),
    case("alias unknown version", "POST", "registered-models/alias",
         lambda c: {"name": c.name, "alias": "x", "version": "9"}, MISSING),
    case("alias unknown model", "POST", "registered-models/alias",
         lambda c: {"name": c.name + "-nope", "alias": "x", "version": "1"}, MISSING),
    case("alias non-numeric version", "POST", "registered-models/alias",
         lambda c: {"name": c.name, "alias": "x", "version": "one"}, BAD_REQUEST),
    case("alias missing version", "POST", "registered-models/alias",
         lambda c: {"name": c.name, "alias": "x"}, BAD_REQUEST),
    case("get unknown alias", "GET", "registered-models/alias",
         lambda c: {"name": c.name, "alias": "nope"}, BAD_REQUEST),
    case("get alias unknown model", "GET", "registered-models/alias",
         lambda c: {"name": c.name + "-nope", "alias": "champ"}, MISSING),
    case("delete alias unknown model", "DELETE", "registered-models/alias",
         lambda c: {"name": c.name + "-nope", "alias": "champ"}, MISSING),
    # model versions
    case("version of unknown model", "POST", "model-versions/create",
         lambda c: {"name": c.name + "-nope", "source": f"{c.root}/m", "run_id": c.run_id},
         MISSING),
    case("version without source", "POST", "model-versions/create",
         lambda c: {"name": c.name}, BAD_REQUEST),
    case("version traversal source", "POST", "model-versions/create",
         lambda c: {"name": c.name, "source": f"{c.root}/../../x", "run_id": c.run_id},
         BAD_REQUEST),
    # Deliberate: MLflow stores this on SQLite (which ignores VARCHAR(5000)) and fails with a
    # database error on PostgreSQL/MySQL; trackd says 400 on every database.
    case("version long description", "POST", "model-versions/create",
         lambda c: {"name": c.name, "source": f"{c.root}/m", "run_id": c.run_id,
                    "description": "d" * 5001}, BAD_REQUEST),
    case("version bad tag", "POST", "model-versions/create",
         lambda c: {"name": c.name, "source": f"{c.root}/m", "run_id": c.run_id,
                    "tags": [{"key": "/abs", "value": "v"}]}, BAD_REQUEST),
    case("get unknown version", "GET", "model-versions/get",
         lambda c: {"name": c.name, "version": "99"}, MISSING),
    case("get version of unknown model", "GET", "model-versions/get",
         lambda c: {"name": c.name + "-nope", "version": "1"}, MISSING),
    case("get non-numeric version", "GET", "model-versions/get",
         lambda c: {"name": c.name, "version": "abc"}, BAD_REQUEST),
    case("get version missing", "GET", "model-versions/get", lambda c: {"name": c.name},
         BAD_REQUEST),
    case("update unknown version", "PATCH", "model-versions/update",
         lambda c: {"name": c.name, "version": "99", "description": "d"}, MISSING),
    case("delete unknown version", "DELETE", "model-versions/delete",
         lambda c: {"name": c.name, "version": "99"}, MISSING),
    case("download uri unknown", "GET", "model-versions/get-download-uri",
         lambda c: {"name": c.name, "version": "99"}, MISSING),
    case("bad stage", "POST", "model-versions/transition-stage",
         lambda c: {"name": c.name, "version": "1", "stage": "Prod"}, BAD_REQUEST),
    # Deliberate: MLflow raises this without an error code, so it answers 500 INTERNAL_ERROR.
    case("archive into None", "POST", "model-versions/transition-stage",
         lambda c: {"name": c.name, "version": "1", "stage": "None",
                    "archive_existing_versions": True}, BAD_REQUEST),
    case("transition unknown version", "POST", "model-versions/transition-stage",
         lambda c: {"name": c.name, "version": "99", "stage": "Staging"}, MISSING),
    case("transition bad bool", "POST", "model-versions/transition-stage",
         lambda c: {"name": c.name, "version": "1", "stage": "Staging",
                    "archive_existing_versions": "maybe"}, BAD_REQUEST),
    case("set tag unknown version", "POST", "model-versions/set-tag",
         lambda c: {"name": c.name, "version": "99", "key": "k", "value": "v"}, MISSING),
    case("set tag long value", "POST", "model-versions/set-tag",
         lambda c: {"name": c.name, "version": "1", "key": "k", "value": "v" * 100_001},
         BAD_REQUEST),
    case("delete tag unknown version", "DELETE", "model-versions/delete-tag",
         lambda c: {"name": c.name, "version": "99", "key": "k"}, MISSING),
    case("search versions bad attribute", "GET", "model-versions/search",
         lambda c: {"filter": "stage = 'x'"}, BAD_REQUEST),
    case("search versions max_results", "GET", "model-versions/search",
         lambda c: {"max_results": 200_001}, BAD_REQUEST),
    case("search versions bad order_by", "GET", "model-versions/search",
         lambda c: {"order_by": ["stage"]}, BAD_REQUEST),
]


def make_ctx(api: Api) -> Ctx:
    name = f"errs-{uuid.uuid4().hex[:10]}"
    api.ok("POST", "registered-models/create", {"name": name})
    api.ok("POST", "registered-models/create", {"name": name + "-other"})
    exp = api.new_experiment(f"exp-{uuid.uuid4().hex[:10]}")
    run_id = api.new_run(exp)
    root = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["info"]["artifact_uri"]
    for _ in range(2):
        api.ok("POST", "model-versions/create",
               {"name": name, "source": f"{root}/model", "run_id": run_id})
    api.ok("POST", "registered-models/alias", {"name": name, "alias": "champ", "version": "1"})
    return Ctx(name, run_id, root)


@pytest.fixture
def ctx(api: Api) -> Ctx:
    return make_ctx(api)


def snapshot(api: Api, ctx: Ctx) -> Any:
    model = api.ok("GET", "registered-models/get", {"name": ctx.name})["registered_model"]
    versions = [
        api.ok("GET", "model-versions/get", {"name": ctx.name, "version": v})["model_version"]
        for v in ("1", "2")
    ]
    return model, versions


def test_error_cases(api: Api, ctx: Ctx) -> None:
    # One test over the table (not a parametrization): pytest would interleave the database
    # kinds of a parametrized test and rebuild the session's databases over and over.
    failures = []
    before = snapshot(api, ctx)
    for c in CASES:
        status, body = api.call(c.method, c.path, c.body(ctx))
        code = body.get("error_code") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        if (status, code) != (c.status, c.code) or not message:
            failures.append(f"{c.id}: expected {c.status} {c.code}, got {status} {body}")
        elif snapshot(api, ctx) != before:
            failures.append(f"{c.id}: the refused request changed the registry")
            before = snapshot(api, ctx)
    assert not failures, "\n".join(failures)


def test_there_are_many_cases() -> None:
    assert len(CASES) >= 50


def test_deleting_a_model_with_versions_is_allowed(api: Api, ctx: Ctx) -> None:
    # MLflow deletes a model together with its versions, tags and aliases.
    api.ok("DELETE", "registered-models/delete", {"name": ctx.name})
    for path, body in (
        ("registered-models/get", {"name": ctx.name}),
        ("model-versions/get", {"name": ctx.name, "version": "1"}),
    ):
        status, answer = api.get(path, body)
        assert (status, answer["error_code"]) == MISSING


def test_deleted_version_is_gone_everywhere(api: Api, ctx: Ctx) -> None:
    api.ok("DELETE", "model-versions/delete", {"name": ctx.name, "version": "1"})
    for method, path, body in (
        ("GET", "model-versions/get", {"name": ctx.name, "version": "1"}),
        ("GET", "model-versions/get-download-uri", {"name": ctx.name, "version": "1"}),
        ("DELETE", "model-versions/delete", {"name": ctx.name, "version": "1"}),
        ("POST", "model-versions/set-tag", {"name": ctx.name, "version": "1", "key": "k",
                                            "value": "v"}),
        ("POST", "registered-models/alias", {"name": ctx.name, "alias": "x", "version": "1"}),
    ):
        status, answer = api.call(method, path, body)
        assert (status, answer["error_code"]) == MISSING, path
    status, answer = api.get("registered-models/alias", {"name": ctx.name, "alias": "champ"})
    assert (status, answer["error_code"]) == BAD_REQUEST
