"""Issue 12, findings 1 and 4 (locations): an artifact location is all path, or it is refused.

A ``file:`` location ending in ``?``, ``#`` or ``?x=`` used to make the server append a run's
``/<run id>/artifacts`` to the URI's query or fragment, so the run's artifact root became the
directory itself: ``file:///etc?`` served ``/etc/passwd``. These tests fail on the code before
the rule: creation is refused, and a location already stored (written here straight into the
database, as an older server would have) answers 400, never a file outside the run's root.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from trackd.artifacts import registry

BAD_LOCATIONS = [
    "file:///etc?",
    "file:///etc#",
    "file:///etc?x=",
    "file:///etc%00",
    "/etc?",
    "/tmp/a#b",
    "s3://bucket/path?versionId=1",
]


def _name() -> str:
    return f"loc-{uuid.uuid4().hex[:10]}"


@pytest.mark.parametrize("location", BAD_LOCATIONS)
def test_create_refuses_a_location_that_is_not_all_path(api: Any, location: str) -> None:
    status, body = api.post("experiments/create", {"name": _name(),
                                                   "artifact_location": location})
    assert status == 400, body
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "artifact location" in body["message"]


def test_create_refuses_an_unknown_scheme(api: Any) -> None:
    status, body = api.post("experiments/create", {"name": _name(),
                                                   "artifact_location": "nosuch://x/y"})
    assert status == 400
    assert "no artifact store for the URI scheme 'nosuch'" in body["message"]


def test_create_refuses_a_store_whose_library_is_missing(
        api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.LIBRARIES, "s3", ("trackd_test_no_such_library", "s3"))
    status, body = api.post("experiments/create", {"name": _name(),
                                                   "artifact_location": "s3://bucket/p"})
    assert status == 400
    assert "pip install 'trackd[s3]'" in body["message"]


def test_plain_locations_still_work(api: Any, tmp_path: Path) -> None:
    for location in (str(tmp_path / "plain"), (tmp_path / "uri").as_uri(), "s3://bucket/p"):
        api.ok("POST", "experiments/create", {"name": _name(), "artifact_location": location})


def _as_stored(database_url: str, sql: str, **params: Any) -> None:
    """Change rows straight in the database, as a server before the location rule left them."""
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql), params)
    finally:
        engine.dispose()


def _stored_experiment(api: Any, database_url: str, location: str) -> str:
    """An experiment whose location was stored before the rule (straight into the database)."""
    experiment_id = api.new_experiment(_name())
    _as_stored(database_url, "UPDATE experiments SET artifact_location = :l "
               "WHERE experiment_id = :e", l=location, e=int(experiment_id))
    return experiment_id


def _stored_run(api: Any, database_url: str, location: str) -> str:
    """A run whose root was built from such a location by an older server."""
    experiment_id = api.new_experiment(_name())
    run_id = api.new_run(experiment_id)
    _as_stored(database_url, "UPDATE runs SET artifact_uri = :u WHERE run_uuid = :r",
               u=f"{location}/{run_id}/artifacts", r=run_id)
    return run_id


def test_new_runs_under_a_stored_bad_location_are_refused(api: Any, database_url: str) -> None:
    experiment_id = _stored_experiment(api, database_url, "file:///etc?")
    status, body = api.post("runs/create", {"experiment_id": experiment_id})
    assert status == 400, body
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize("location", ["file:///etc?", "file:///etc#", "file:///etc?x="])
def test_a_stored_bad_run_root_reads_nothing(api: Any, database_url: str, location: str) -> None:
    run_id = _stored_run(api, database_url, location)
    got = api.client.get("/get-artifact", params={"run_uuid": run_id, "path": "passwd"})
    assert got.status_code == 400, got.text[:200]
    assert "root:" not in got.text
    status, body = api.get("artifacts/list", {"run_id": run_id})
    assert status == 400, body
    assert "passwd" not in str(body)


def test_a_stored_nul_location_answers_400_not_500(api: Any, database_url: str) -> None:
    run_id = _stored_run(api, database_url, "file:///etc%00")
    status, body = api.get("artifacts/list", {"run_id": run_id})
    assert status == 400, body


def test_a_logged_model_under_a_stored_bad_location_reads_nothing(
        api: Any, database_url: str) -> None:
    experiment_id = api.new_experiment(_name())
    model = api.ok("POST", "logged-models", {"experiment_id": experiment_id, "name": "m"})["model"]
    model_id = model["info"]["model_id"]
    _as_stored(database_url, "UPDATE logged_models SET artifact_location = :u "
               "WHERE model_id = :m", u="file:///etc?", m=model_id)
    got = api.client.get(f"/api/2.0/mlflow/logged-models/{model_id}/artifacts/files",
                         params={"artifact_file_path": "passwd"})
    assert got.status_code == 400, got.text[:200]
    got = api.client.get(f"/api/2.0/mlflow/logged-models/{model_id}/artifacts/directories")
    assert got.status_code == 400, got.text[:200]


def test_a_stored_location_this_server_cannot_open_answers_400(
        api: Any, database_url: str) -> None:
    """hdfs:// needs libhdfs (a JVM and Hadoop), which no test machine has: opening the store
    fails the way a missing library does, and must answer 400 naming why, not 500."""
    run_id = _stored_run(api, database_url, "hdfs://namenode:8020/trackd-test")
    status, body = api.get("artifacts/list", {"run_id": run_id})
    assert status == 400, body
    assert "cannot serve the artifact location hdfs://" in body["message"]
    got = api.client.get("/get-artifact", params={"run_uuid": run_id, "path": "x"})
    assert got.status_code == 400, got.text[:200]


def test_a_model_version_with_a_stored_bad_source_reads_nothing(
        api: Any, database_url: str) -> None:
    """The route walk's last file-reading route: model-versions/get-artifact."""
    experiment_id = api.new_experiment(_name())
    run_id = api.new_run(experiment_id)
    name = _name()
    api.ok("POST", "registered-models/create", {"name": name})
    api.ok("POST", "model-versions/create",
           {"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id})
    _as_stored(database_url, "UPDATE model_versions SET source = :s, storage_location = :s "
               "WHERE name = :n", s="file:///etc?", n=name)
    got = api.client.get("/model-versions/get-artifact",
                         params={"name": name, "version": "1", "path": "passwd"})
    assert got.status_code == 400, got.text[:200]
    assert "root:" not in got.text


def test_new_sources_that_are_not_all_path_are_refused(api: Any) -> None:
    experiment_id = api.new_experiment(_name())
    run_id = api.new_run(experiment_id)
    name = _name()
    api.ok("POST", "registered-models/create", {"name": name})
    for source in ("file:///etc?", f"runs:/{run_id}/model#x", "s3://b/k?versionId=2"):
        status, body = api.post("model-versions/create",
                                {"name": name, "source": source, "run_id": run_id})
        assert status == 400, (source, body)
        assert body["error_code"] == "INVALID_PARAMETER_VALUE"
