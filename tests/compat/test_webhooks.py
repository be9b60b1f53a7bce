"""Registry webhooks with the official client: CRUD, signed deliveries of every registry event,
the test endpoint and MLflow's errors, against trackd or (``--compat-target mlflow``) mlflow
server 3.18, each started with the MLFLOW_WEBHOOK_* settings a local receiver needs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
import requests
from dbs import fresh_database
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from support.server import ServerProcess
from support.webhook_receiver import Delivery, Receiver, signature_is_valid

from .conftest import reset_fluent_state
from .webhook_env import webhook_server

pytestmark = [pytest.mark.compat,
              pytest.mark.filterwarnings("ignore::FutureWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

SECRET = "s3cret-for-tests"
MODEL_EVENTS = ["registered_model.created", "model_version.created", "model_version_tag.set",
                "model_version_tag.deleted", "model_version_alias.created",
                "model_version_alias.deleted"]
PROMPT_EVENTS = ["prompt.created", "prompt_version.created", "prompt_tag.set",
                 "prompt_tag.deleted", "prompt_version_tag.set", "prompt_version_tag.deleted",
                 "prompt_alias.created", "prompt_alias.deleted"]


@pytest.fixture(scope="module")
def hook_server(compat_target: str, db_kind: str,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp(f"webhooks-{compat_target}-{db_kind}")
    with fresh_database(db_kind, workdir) as url, webhook_server(compat_target, url,
                                                                 workdir / "server") as server:
        yield server


@pytest.fixture
def client(hook_server: ServerProcess) -> Iterator[MlflowClient]:
    mlflow.set_tracking_uri(hook_server.url)
    try:
        yield MlflowClient(hook_server.url)
    finally:
        reset_fluent_state()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _run_root(client: MlflowClient) -> tuple[str, str]:
    experiment_id = client.create_experiment(unique("webhooks"))
    run = client.create_run(experiment_id)
    return run.info.run_id, run.info.artifact_uri


def _mine(deliveries: list[Delivery], path: str) -> list[Delivery]:
    return [d for d in deliveries if d.path == path]


def test_create_get_list_update_delete(client: MlflowClient, receiver: Receiver) -> None:
    name = unique("crud")
    made = client.create_webhook(name, receiver.url(), ["registered_model.created",
                                 "model_version_tag.set"], description="first", secret=SECRET)
    assert made.name == name and made.url == receiver.url() and made.description == "first"
    assert str(made.status) == "ACTIVE"
    assert sorted(str(e) for e in made.events) == ["model_version_tag.set",
                                                    "registered_model.created"]
    assert made.secret is None  # never sent back
    got = client.get_webhook(made.webhook_id)
    assert (got.name, got.creation_timestamp) == (name, made.creation_timestamp)

    updated = client.update_webhook(made.webhook_id, description="second", status="DISABLED",
                                    events=["model_version.created"])
    assert updated.description == "second" and str(updated.status) == "DISABLED"
    assert [str(e) for e in updated.events] == ["model_version.created"]
    assert updated.last_updated_timestamp >= made.last_updated_timestamp
    assert client.update_webhook(made.webhook_id, name=f"{name}-2").name == f"{name}-2"

    client.delete_webhook(made.webhook_id)
    with pytest.raises(MlflowException) as gone:
        client.get_webhook(made.webhook_id)
    assert gone.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert made.webhook_id not in {w.webhook_id for w in client.list_webhooks(max_results=1000)}


def test_list_pages_newest_first(client: MlflowClient, receiver: Receiver) -> None:
    ids = [client.create_webhook(unique("page"), receiver.url(), ["prompt.created"]).webhook_id
           for _ in range(3)]
    first = client.list_webhooks(max_results=2)
    assert len(first) == 2 and first.token
    second = client.list_webhooks(max_results=2, page_token=first.token)
    seen = [w.webhook_id for w in [*first, *second]]
    assert seen[:3] == ids[::-1]  # newest first: the three just made lead the listing
    for webhook_id in ids:
        client.delete_webhook(webhook_id)


def test_model_events_are_delivered_signed(client: MlflowClient, receiver: Receiver) -> None:
    path = f"/{unique('models')}"
    hook = client.create_webhook(unique("models"), receiver.url(path), MODEL_EVENTS,
                                 secret=SECRET)
    run_id, root = _run_root(client)
    name = unique("model")
    client.create_registered_model(name, tags={"team": "a"}, description="about")
    version = client.create_model_version(name, f"{root}/model", run_id=run_id,
                                          tags={"k": "v"}, description="v1")
    client.set_model_version_tag(name, version.version, "stage", "qa")
    client.delete_model_version_tag(name, version.version, "stage")
    client.set_registered_model_alias(name, "champion", version.version)
    client.delete_registered_model_alias(name, "champion")
    client.set_registered_model_tag(name, "no", "event")  # a model's own tags fire nothing
    got = receiver.wait_for(lambda ds: len(_mine(ds, path)) >= 6)
    mine = _mine(got, path)
    by_event = {d.event: d.payload["data"] for d in mine}
    assert sorted(by_event) == sorted(MODEL_EVENTS)
    assert by_event["registered_model.created"] == {
        "name": name, "tags": {"team": "a"}, "description": "about"}
    created = by_event["model_version.created"]
    assert (created["name"], created["version"], created["run_id"]) == (name, "1", run_id)
    assert created["tags"] == {"k": "v"} and created["description"] == "v1"
    assert by_event["model_version_tag.set"] == {
        "name": name, "version": "1", "key": "stage", "value": "qa"}
    assert by_event["model_version_tag.deleted"] == {"name": name, "version": "1",
                                                     "key": "stage"}
    assert by_event["model_version_alias.created"] == {
        "name": name, "alias": "champion", "version": "1"}
    assert by_event["model_version_alias.deleted"] == {"name": name, "alias": "champion"}
    for delivery in mine:
        assert delivery.headers["Content-Type"] == "application/json"
        assert signature_is_valid(delivery, SECRET), delivery.headers
        assert not signature_is_valid(delivery, "another secret")
        assert set(delivery.payload) == {"entity", "action", "timestamp", "data"}
    assert len({d.headers["X-MLflow-Delivery-Id"] for d in mine}) == 6
    client.delete_webhook(hook.webhook_id)


def test_prompt_events(client: MlflowClient, receiver: Receiver) -> None:
    path = f"/{unique('prompts')}"
    hook = client.create_webhook(unique("prompts"), receiver.url(path), PROMPT_EVENTS)
    name = unique("prompt")
    mlflow.genai.register_prompt(name=name, template="Hello {{who}}", tags={"lang": "en"})
    mlflow.genai.set_prompt_alias(name, "live", 1)
    mlflow.genai.delete_prompt_alias(name, "live")
    client.set_prompt_version_tag(name, "1", "rating", "good")
    client.delete_prompt_version_tag(name, "1", "rating")
    client.set_prompt_tag(name, "owner", "me")
    client.delete_prompt_tag(name, "owner")
    owner_tag = {"name": name, "key": "owner", "value": "me"}

    def tags_set(ds: list[Delivery]) -> list[dict]:
        return [d.payload["data"] for d in _mine(ds, path) if d.event == "prompt_tag.set"]

    # The client also tags the prompt with the experiments it is linked to (the
    # `_mlflow_experiment_ids` tag, its own prompt_tag.set); deliveries are sent
    # in the background, so that one can arrive before or after the owner tag's.
    got = _mine(receiver.wait_for(
        lambda ds: {d.event for d in _mine(ds, path)} >= set(PROMPT_EVENTS)
        and owner_tag in tags_set(ds)), path)
    by_event = {d.event: d.payload["data"] for d in got}
    assert sorted(by_event) == sorted(PROMPT_EVENTS)  # and no model event among them
    assert by_event["prompt_version.created"]["template"] == "Hello {{who}}"
    assert by_event["prompt_alias.created"] == {"name": name, "alias": "live", "version": "1"}
    assert owner_tag in tags_set(got)
    assert "X-MLflow-Signature" not in got[0].headers  # no secret, no signature
    client.delete_webhook(hook.webhook_id)


def test_disabled_and_unsubscribed_webhooks_get_nothing(client: MlflowClient,
                                                        receiver: Receiver) -> None:
    off = client.create_webhook(unique("off"), receiver.url("/off"),
                                ["registered_model.created"], status="DISABLED")
    other = client.create_webhook(unique("other"), receiver.url("/other"),
                                  ["model_version.created"])
    on = client.create_webhook(unique("on"), receiver.url("/on"),
                               ["registered_model.created"])
    client.create_registered_model(unique("quiet"))
    receiver.wait_for(lambda ds: len(_mine(ds, "/on")) >= 1)
    assert receiver.on("/off") == [] and receiver.on("/other") == []
    for hook in (off, other, on):
        client.delete_webhook(hook.webhook_id)


def test_the_test_endpoint(client: MlflowClient, receiver: Receiver) -> None:
    hook = client.create_webhook(unique("probe"), receiver.url("/probe"),
                                 ["model_version_alias.deleted", "model_version.created"],
                                 secret=SECRET)
    result = client.test_webhook(hook.webhook_id)
    assert (result.success, result.response_status, result.response_body) == (
        True, 200, "received")
    assert result.error_message is None
    first = receiver.on("/probe")[-1]
    assert signature_is_valid(first, SECRET)
    # With no event named, the first of the webhook's events (as stored) is sent.
    assert first.event == "model_version.created"
    assert first.payload["data"]["name"] == "example_model"

    result = client.test_webhook(hook.webhook_id, event="registered_model.created")
    assert result.success
    assert receiver.on("/probe")[-1].payload["data"] == {
        "name": "example_model", "tags": {"example_key": "example_value"},
        "description": "An example registered model"}

    receiver.status, receiver.reply = 500, b"broken"
    failed = client.test_webhook(hook.webhook_id)
    assert (failed.success, failed.response_status, failed.response_body) == (
        False, 500, "broken")
    client.delete_webhook(hook.webhook_id)

    dead = client.create_webhook(unique("dead"), "http://127.0.0.1:9/nothing",
                                 ["registered_model.created"])
    refused = client.test_webhook(dead.webhook_id)
    assert refused.success is False and refused.response_status is None
    assert refused.error_message and refused.error_message.startswith("Failed to test webhook")
    client.delete_webhook(dead.webhook_id)


def _error(exc: pytest.ExceptionInfo[MlflowException]) -> tuple[str, str]:
    # The client prefixes the server's message with its code.
    return exc.value.error_code, exc.value.message.removeprefix(f"{exc.value.error_code}: ")


def test_bad_input(client: MlflowClient, receiver: Receiver, hook_server: ServerProcess) -> None:
    with pytest.raises(MlflowException) as scheme:
        client.create_webhook(unique("bad"), "ftp://example.com/x", ["prompt.created"])
    assert _error(scheme) == ("INVALID_PARAMETER_VALUE", "Invalid webhook URL scheme: 'ftp'. "
                              "Allowed schemes are: http, https.")
    with pytest.raises(MlflowException) as name:
        client.create_webhook("-no good", receiver.url(), ["prompt.created"])
    assert name.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Webhook name '-no good' is invalid" in name.value.message
    for call in (lambda: client.get_webhook("no-such-id"),
                 lambda: client.update_webhook("no-such-id", description="x"),
                 lambda: client.delete_webhook("no-such-id"),
                 lambda: client.test_webhook("no-such-id")):
        with pytest.raises(MlflowException) as unknown:
            call()
        assert _error(unknown) == ("RESOURCE_DOES_NOT_EXIST",
                                   "Webhook with ID no-such-id not found.")

    api = f"{hook_server.url}/api/2.0/mlflow/webhooks"
    event = [{"entity": "REGISTERED_MODEL", "action": "CREATED"}]
    missing = requests.post(api, json={"url": receiver.url(), "events": event}, timeout=30)
    assert missing.status_code == 400
    assert missing.json()["message"].startswith("Missing value for required parameter 'name'")
    wrong = requests.post(api, json={"name": unique("bad"), "url": receiver.url(),
                                     "events": [{"entity": "REGISTERED_MODEL",
                                                 "action": "DELETED"}]}, timeout=30)
    assert (wrong.status_code, wrong.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert wrong.json()["message"] == ("Invalid action 'deleted' for entity "
                                       "'registered_model'. Valid actions are: ['created']")
    empty = requests.post(api, json={"name": unique("bad"), "url": receiver.url(),
                                     "events": []}, timeout=30)
    assert empty.status_code == 400 and "non-empty list" in empty.json()["message"]
    big = requests.get(api, params={"max_results": 1001}, timeout=30)
    assert big.status_code == 400
    assert big.json()["message"] == "max_results must be between 1 and 1000."


def test_unknown_entity(client: MlflowClient, compat_target: str, hook_server: ServerProcess,
                        receiver: Receiver, tmp_path: Path) -> None:
    """mlflow server answers an unknown entity with a 500 page; trackd says what is wrong."""
    answer = requests.post(f"{hook_server.url}/api/2.0/mlflow/webhooks", json={
        "name": unique("bad"), "url": receiver.url(),
        "events": [{"entity": "EXPERIMENT", "action": "CREATED"}]}, timeout=30)
    if compat_target == "mlflow":
        assert answer.status_code == 500
        return
    assert (answer.status_code, answer.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "entity='EXPERIMENT'" in answer.json()["message"]
