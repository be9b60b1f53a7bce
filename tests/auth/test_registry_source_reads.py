"""Issue 12, finding 3: a registry source is read as the caller.

Before the check, a user with no permission on another user's experiment could register
``runs:/<their run>/...`` (or a proxied path, ``models:/<their model>/1``,
``models:/<their logged model id>``) under a registered model of their own and then read the
files through ``model-versions/get-artifact``. Now ``model-versions/create`` needs READ on the
run, logged model or registered model the source names, answers PERMISSION_DENIED otherwise,
and creates nothing. Runs on SQLite and PostgreSQL (and MariaDB when asked for).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from auth.conftest import ADMIN

pytestmark = pytest.mark.usefixtures("database_url")


class World:
    """alice owns an experiment with a run, a logged model and a registered model (version 1);
    bob may read none of it and owns a registered model of his own."""

    def __init__(self, h: Any) -> None:
        tag = uuid.uuid4().hex[:8]
        self.h = h
        self.alice, self.bob = h.add_user(f"alice{tag}"), h.add_user(f"bob{tag}")
        self.exp = h.ok(self.alice, "POST", "experiments/create",
                        {"name": f"alice-{tag}"})["experiment_id"]
        run = h.ok(self.alice, "POST", "runs/create", {"experiment_id": self.exp})["run"]
        self.run_id = run["info"]["run_id"]
        self.run_root = run["info"]["artifact_uri"]
        h.ok(self.alice, "PUT",
             f"/api/2.0/mlflow-artifacts/artifacts/{self.exp}/{self.run_id}/artifacts/m/secret.txt")
        model = h.ok(self.alice, "POST", "logged-models",
                     {"experiment_id": self.exp, "name": "lm"})["model"]["info"]
        self.model_id = model["model_id"]
        self.alice_model, self.bob_model = f"am-{tag}", f"bm-{tag}"
        h.ok(self.alice, "POST", "registered-models/create", {"name": self.alice_model})
        h.ok(self.alice, "POST", "model-versions/create", {
            "name": self.alice_model, "source": f"runs:/{self.run_id}/m", "run_id": self.run_id})
        h.ok(self.bob, "POST", "registered-models/create", {"name": self.bob_model})

    def bob_creates(self, **fields: Any) -> Any:
        return self.h.call(self.bob, "POST", "model-versions/create",
                           {"name": self.bob_model, **fields})

    def bob_versions(self) -> list[Any]:
        found = self.h.ok(ADMIN, "GET", "model-versions/search",
                          {"filter": f"name='{self.bob_model}'"})
        return list(found.get("model_versions") or [])


@pytest.fixture
def world(auth_harness: Any, database_url: str) -> Iterator[World]:
    with auth_harness(default_permission="NO_PERMISSIONS", backend_store_uri=database_url) as h:
        yield World(h)


def _sources(w: World) -> list[dict[str, Any]]:
    return [
        {"source": f"runs:/{w.run_id}/m", "run_id": w.run_id},
        {"source": f"{w.run_root}/m", "run_id": w.run_id},
        {"source": f"models:/{w.model_id}", "model_id": w.model_id},
        {"source": f"models:/{w.alice_model}/1"},
        {"source": "s3://some-bucket/anything"},
    ]


def test_sources_the_caller_cannot_read_are_refused(world: World) -> None:
    for fields in _sources(world):
        resp = world.bob_creates(**fields)
        assert resp.status_code == 403, (fields, resp.text)
        assert resp.json()["error_code"] == "PERMISSION_DENIED", fields
    assert world.bob_versions() == []  # nothing was created


def test_no_file_of_the_other_user_is_readable_through_a_version(world: World) -> None:
    world.bob_creates(source=f"runs:/{world.run_id}/m", run_id=world.run_id)
    got = world.h.call(world.bob, "GET", "/model-versions/get-artifact",
                       {"name": world.bob_model, "version": "1", "path": "secret.txt"})
    assert got.status_code in (403, 404), got.text
    assert got.status_code != 200


def test_readable_sources_still_work(world: World) -> None:
    h = world.h
    h.ok(world.alice, "POST", "experiments/permissions/create",
         {"experiment_id": world.exp, "username": world.bob[0], "permission": "READ"})
    h.ok(world.alice, "POST", "registered-models/permissions/create",
         {"name": world.alice_model, "username": world.bob[0], "permission": "READ"})
    for fields in _sources(world)[:4]:
        resp = world.bob_creates(**fields)
        assert resp.status_code == 200, (fields, resp.text)
    # A prompt placeholder carries no files and needs nothing; an admin may register anything.
    assert h.call(ADMIN, "POST", "model-versions/create", {
        "name": world.bob_model, "source": "s3://some-bucket/anything"}).status_code == 200
