"""Experiments through the official client: CRUD, tags, search with filter/order/paging, errors."""

from __future__ import annotations

import time

import pytest
from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

from .conftest import must, unique_name

pytestmark = pytest.mark.compat


def test_create_get_and_get_by_name(client: MlflowClient) -> None:
    name = unique_name("exp")
    before_ms = int(time.time() * 1000)
    exp_id = client.create_experiment(name, tags={"team": "vision", "note": "x" * 300})

    assert exp_id.isdigit()
    exp = client.get_experiment(exp_id)
    assert exp.experiment_id == exp_id
    assert exp.name == name
    assert exp.lifecycle_stage == "active"
    assert exp.tags["team"] == "vision"
    assert exp.tags["note"] == "x" * 300
    # Served artifacts: new experiments live under the proxy scheme, one folder per id.
    assert exp.artifact_location == f"mlflow-artifacts:/{exp_id}"
    # Allow a little clock skew between the test process and the server.
    assert must(exp.creation_time) >= before_ms - 5_000
    assert must(exp.last_update_time) >= must(exp.creation_time)

    by_name = client.get_experiment_by_name(name)
    assert by_name is not None
    assert by_name.experiment_id == exp_id
    assert by_name.tags == exp.tags


def test_default_experiment_exists(client: MlflowClient) -> None:
    default = client.get_experiment("0")
    assert default.name == "Default"
    assert must(client.get_experiment_by_name("Default")).experiment_id == "0"


def test_create_with_artifact_location(client: MlflowClient) -> None:
    exp_id = client.create_experiment(unique_name("loc"), artifact_location="/tmp/trackd-elsewhere")
    assert client.get_experiment(exp_id).artifact_location.endswith("/tmp/trackd-elsewhere")


@pytest.mark.parametrize("given", ["relative/place", "file:relative/file-place"])
def test_relative_artifact_location_is_made_absolute(client: MlflowClient, given: str) -> None:
    """As mlflow server does: against the server's working directory, so that every process
    (a second worker, the next server) finds the same folder."""
    exp_id = client.create_experiment(unique_name("relative"), artifact_location=given)
    stored = must(client.get_experiment(exp_id)).artifact_location
    tail = given.removeprefix("file:")
    assert stored.endswith("/" + tail) and stored != given
    path = stored.removeprefix("file://")
    assert path.startswith("/"), stored
    assert stored.startswith("file:///") == given.startswith("file:")


def test_rename(client: MlflowClient) -> None:
    old, new = unique_name("old"), unique_name("new")
    exp_id = client.create_experiment(old)
    client.rename_experiment(exp_id, new)
    assert client.get_experiment(exp_id).name == new
    assert must(client.get_experiment_by_name(new)).experiment_id == exp_id
    assert client.get_experiment_by_name(old) is None


def test_delete_and_restore(client: MlflowClient) -> None:
    name = unique_name("del")
    exp_id = client.create_experiment(name)
    client.delete_experiment(exp_id)

    deleted = client.get_experiment(exp_id)
    assert deleted.lifecycle_stage == "deleted"
    # A deleted experiment is still found by name, and its name stays taken.
    assert must(client.get_experiment_by_name(name)).lifecycle_stage == "deleted"
    with pytest.raises(MlflowException) as exc:
        client.create_experiment(name)
    assert exc.value.error_code == "RESOURCE_ALREADY_EXISTS"
    # No new runs in a deleted experiment.
    with pytest.raises(MlflowException) as exc:
        client.create_run(exp_id)
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"

    active_ids = {e.experiment_id for e in client.search_experiments(max_results=50000)}
    deleted_ids = {
        e.experiment_id
        for e in client.search_experiments(view_type=ViewType.DELETED_ONLY, max_results=50000)
    }
    assert exp_id not in active_ids
    assert exp_id in deleted_ids

    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"
    assert client.create_run(exp_id).info.experiment_id == exp_id


def test_set_and_delete_experiment_tag(client: MlflowClient) -> None:
    exp_id = client.create_experiment(unique_name("tags"))
    client.set_experiment_tag(exp_id, "stage", "dev")
    client.set_experiment_tag(exp_id, "owner", "ana")
    assert client.get_experiment(exp_id).tags == {"stage": "dev", "owner": "ana"}

    # Setting a tag again overwrites it (tags are mutable, unlike params).
    client.set_experiment_tag(exp_id, "stage", "prod")
    assert client.get_experiment(exp_id).tags["stage"] == "prod"

    client.delete_experiment_tag(exp_id, "owner")
    assert client.get_experiment(exp_id).tags == {"stage": "prod"}


def test_search_filter_order_and_paging(client: MlflowClient) -> None:
    prefix = unique_name("srch")
    ids = {}
    for i in range(7):
        tags = {"group": "even" if i % 2 == 0 else "odd", "idx": str(i)}
        ids[i] = client.create_experiment(f"{prefix}-{i}", tags=tags)

    mine = f"name LIKE '{prefix}-%'"
    by_name = client.search_experiments(filter_string=mine, order_by=["name DESC"])
    assert [e.name for e in by_name] == [f"{prefix}-{i}" for i in reversed(range(7))]

    evens = client.search_experiments(
        filter_string=f"{mine} AND tags.group = 'even'", order_by=["name ASC"]
    )
    assert [e.experiment_id for e in evens] == [ids[0], ids[2], ids[4], ids[6]]

    # Paging: 3 per page gives 3 + 3 + 1, in a stable order, and no token after the last.
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = client.search_experiments(
            filter_string=mine,
            order_by=["creation_time ASC", "name ASC"],
            max_results=3,
            page_token=token,
        )
        pages += 1
        seen.extend(e.name for e in page)
        token = page.token
        if not token:
            break
        assert len(page) == 3
    assert pages == 3
    assert seen == [f"{prefix}-{i}" for i in range(7)]

    # ILIKE and attribute-qualified names.
    upper = client.search_experiments(filter_string=f"attribute.name ILIKE '{prefix.upper()}-1'")
    assert [e.experiment_id for e in upper] == [ids[1]]


def test_search_by_tag_and_last_update_time(client: MlflowClient) -> None:
    prefix = unique_name("tagsrch")
    exp_a = client.create_experiment(f"{prefix}-a", tags={"kind": "alpha"})
    exp_b = client.create_experiment(f"{prefix}-b", tags={"kind": "beta"})

    found = client.search_experiments(filter_string="tags.kind = 'beta'")
    assert exp_b in {e.experiment_id for e in found}
    assert exp_a not in {e.experiment_id for e in found}

    created = client.get_experiment(exp_a).creation_time
    recent = client.search_experiments(
        filter_string=f"name LIKE '{prefix}%' AND creation_time >= {created}",
        order_by=["last_update_time DESC"],
    )
    assert {e.experiment_id for e in recent} == {exp_a, exp_b}


def test_missing_experiment_is_resource_does_not_exist(client: MlflowClient) -> None:
    with pytest.raises(MlflowException) as exc:
        client.get_experiment("987654321")
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert exc.value.get_http_status_code() == 404

    with pytest.raises(MlflowException) as exc:
        client.delete_experiment("987654321")
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    # Looking up a name that does not exist is not an error for the client.
    assert client.get_experiment_by_name(unique_name("nope")) is None


def test_duplicate_experiment_is_resource_already_exists(client: MlflowClient) -> None:
    name = unique_name("dup")
    client.create_experiment(name)
    with pytest.raises(MlflowException) as exc:
        client.create_experiment(name)
    assert exc.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert exc.value.get_http_status_code() == 400


def test_invalid_experiment_id_is_invalid_parameter(client: MlflowClient) -> None:
    with pytest.raises(MlflowException) as exc:
        client.get_experiment("not-a-number")
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"


def test_fluent_set_experiment_creates_by_name(tracking_uri: str) -> None:
    import mlflow

    name = unique_name("fluent")
    exp = mlflow.set_experiment(name)
    assert exp.name == name
    assert must(mlflow.get_experiment_by_name(name)).experiment_id == exp.experiment_id
    # Setting it again finds the same experiment instead of creating another.
    assert mlflow.set_experiment(name).experiment_id == exp.experiment_id


@pytest.mark.parametrize(("body", "start"), [
    ({"tags": "5"}, "Invalid value \"5\" for parameter 'tags' supplied:  Hint: Value was of "
                    "type 'str'."),
    ({"tags": 5}, "Invalid value 5 for parameter 'tags' supplied:  Hint: Value was of type "
                  "'int'."),
])
def test_wrong_types_get_mlflows_wording(tracking_uri: str, body: dict[str, object],
                                         start: str) -> None:
    import requests

    r = requests.post(f"{tracking_uri}/api/2.0/mlflow/experiments/create",
                      json={"name": unique_name("typed"), **body}, timeout=30)
    assert r.status_code == 400
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert r.json()["message"].startswith(start), r.json()["message"]
