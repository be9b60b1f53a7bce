"""Webhooks in-process: MLflow's errors for bad input, the URL rules, secrets, retries and the
delivery counter. The official-client behaviour is in tests/compat/test_webhooks.py."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from support.asgi import InProcess, in_process
from support.webhook_receiver import Delivery, Receiver, signature_is_valid

from trackd.config import Settings
from trackd.errors import MlflowError
from trackd.service.webhook_config import SecretBox, WebhookSettings
from trackd.service.webhook_delivery import _post_once, send
from trackd.service.webhook_urls import PrivateAddressRefused, check_url

from .conftest import Api

KEY = base64.urlsafe_b64encode(b"0123456789abcdef0123456789abcdef").decode()
EVENT = [{"entity": "REGISTERED_MODEL", "action": "CREATED"}]
PUBLIC = "https://93.184.215.14"  # a public address literal: checked, never called
LOCAL = WebhookSettings(allowed_schemes=("http", "https"), allow_private_ips=True,
                        request_timeout=5, max_retries=2)


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    # Only what the URL rules default to, but with a fixed key: the server's env is read once.
    settings = Settings(backend_store_uri=database_url,
                        artifacts_destination=str(tmp_path_factory.mktemp("hooks-art")))
    with pytest.MonkeyPatch.context() as mp:
        for name in ("MLFLOW_WEBHOOK_ALLOWED_SCHEMES", "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS"):
            mp.delenv(name, raising=False)
        mp.setenv("MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY", KEY)
        with in_process(settings) as app:
            yield app


@pytest.fixture(scope="module")
def hooks(served: InProcess) -> Api:
    return Api(served.client)


@pytest.fixture(scope="module")
def local(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    """A server that may call http://127.0.0.1 (the test receiver)."""
    settings = Settings(backend_store_uri=database_url,
                        artifacts_destination=str(tmp_path_factory.mktemp("hooks-local")))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_WEBHOOK_ALLOWED_SCHEMES", "http")
        mp.setenv("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", "true")
        mp.setenv("MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES", "0")
        mp.setenv("MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY", KEY)
        with in_process(settings) as app:
            yield app


def _fails(api: Api, method: str, path: str, body: Any, status: int, code: str,
           message: str | re.Pattern[str]) -> None:
    got, payload = api.call(method, path, body)
    assert (got, payload["error_code"]) == (status, code), payload
    if isinstance(message, str):
        assert payload["message"] == message
    else:
        assert message.search(payload["message"]), payload["message"]


@pytest.mark.parametrize(("body", "message"), [
    ({"url": PUBLIC, "events": EVENT},
     "Missing value for required parameter 'name'. See the API docs for more information "
     "about request parameters."),
    ({"name": "a", "events": EVENT},
     "Missing value for required parameter 'url'. See the API docs for more information "
     "about request parameters."),
    ({"name": "a", "url": PUBLIC},
     "Missing value for required parameter 'events'. See the API docs for more information "
     "about request parameters."),
    ({"name": "a", "url": PUBLIC, "events": []},
     "Webhook events must be a non-empty list of WebhookEvent objects: []."),
    ({"name": "a", "url": "http://93.184.215.14/h", "events": EVENT},
     "Invalid webhook URL scheme: 'http'. Allowed schemes are: https."),
    ({"name": "a", "url": "ftp://93.184.215.14/h", "events": EVENT},
     "Invalid webhook URL scheme: 'ftp'. Allowed schemes are: https."),
    ({"name": "a", "url": "https://", "events": EVENT},
     "Webhook URL must include a hostname: 'https://'"),
    ({"name": "a", "url": "https://127.0.0.1/h", "events": EVENT},
     "Webhook URL must not resolve to a non-public IP address. '127.0.0.1' resolves to "
     "127.0.0.1."),
    ({"name": "a", "url": "https://127.1/h", "events": EVENT},
     "Webhook URL host '127.1' is not a canonical IP address literal."),
    ({"name": "a", "url": "https://[::ffff:10.0.0.1]/h", "events": EVENT},
     re.compile("must not resolve to a non-public IP address")),
    ({"name": "bad name", "url": PUBLIC, "events": EVENT},
     re.compile(r"^Webhook name 'bad name' is invalid\. It must start and end")),
    ({"name": "x" * 64, "url": PUBLIC, "events": EVENT},
     re.compile("less than 63 characters")),
    ({"name": "a", "url": PUBLIC,
      "events": [{"entity": "REGISTERED_MODEL", "action": "DELETED"}]},
     "Invalid action 'deleted' for entity 'registered_model'. Valid actions are: ['created']"),
    ({"name": "a", "url": PUBLIC,
      "events": [{"entity": "EXPERIMENT", "action": "CREATED"}]},
     re.compile("^Invalid entity or action in webhook event: entity='EXPERIMENT'")),
    ({"name": "a", "url": PUBLIC, "events": [{"entity": {}, "action": "CREATED"}]},
     re.compile("^Invalid entity or action in webhook event: entity={}")),
    ({"name": "a", "url": PUBLIC, "events": [{"entity": "PROMPT", "action": ["SET"]}]},
     re.compile("action=\\['SET'\\]")),
    ({"name": "a", "url": PUBLIC, "events": ["registered_model.created"]},
     re.compile("expected an object with 'entity' and 'action'")),
    ({"name": "a", "url": PUBLIC, "events": EVENT[0]},
     re.compile("must be a non-empty list")),
    ({"name": "a", "url": "https://93.184.215.14/" + "x" * 500, "events": EVENT},
     "'url' exceeds the maximum length of 500 characters"),
    ({"name": "a", "url": PUBLIC, "events": EVENT, "description": "d" * 1001},
     "'description' exceeds the maximum length of 1000 characters"),
    ({"name": 7, "url": PUBLIC, "events": EVENT},
     re.compile("expected a string")),
])
def test_create_refuses(hooks: Api, body: dict[str, Any], message: Any) -> None:
    _fails(hooks, "POST", "webhooks", body, 400, "INVALID_PARAMETER_VALUE", message)


@pytest.mark.parametrize(("method", "suffix"), [
    ("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/test")])
def test_unknown_id(hooks: Api, method: str, suffix: str) -> None:
    _fails(hooks, method, f"webhooks/not-a-webhook{suffix}", {} if method != "GET" else None,
           404, "RESOURCE_DOES_NOT_EXIST", "Webhook with ID not-a-webhook not found.")


@pytest.mark.parametrize(("params", "message"), [
    ({"max_results": 1001}, "max_results must be between 1 and 1000."),
    ({"max_results": -1}, "max_results must be between 1 and 1000."),
    ({"page_token": "garbage"}, "Invalid page token, could not base64-decode"),
    ({"page_token": base64.b64encode(b"[1]").decode()}, re.compile("^Invalid page token")),
    ({"max_results": "many"}, re.compile("max_results")),
])
def test_list_refuses(hooks: Api, params: dict[str, Any], message: Any) -> None:
    _fails(hooks, "GET", "webhooks", params, 400, "INVALID_PARAMETER_VALUE", message)


def test_update_checks_fields_and_keeps_absent_ones(hooks: Api) -> None:
    made = hooks.ok("POST", "webhooks", {"name": "keep", "url": "https://93.184.215.14/a",
                                         "events": EVENT, "description": "d",
                                         "secret": "x"})["webhook"]
    path = f"webhooks/{made['webhook_id']}"
    _fails(hooks, "PATCH", path, {"url": "ftp://93.184.215.14"}, 400, "INVALID_PARAMETER_VALUE",
           "Invalid webhook URL scheme: 'ftp'. Allowed schemes are: https.")
    _fails(hooks, "PATCH", path, {"events": [{"entity": "PROMPT", "action": "SET"}]}, 400,
           "INVALID_PARAMETER_VALUE",
           "Invalid action 'set' for entity 'prompt'. Valid actions are: ['created']")
    # An empty name, URL or event list means "unchanged", as in MLflow; an unknown status too.
    same = hooks.ok("PATCH", path, {"name": "", "url": "", "events": [], "status": "PAUSED"})
    assert {k: same["webhook"][k] for k in ("name", "url", "events", "status", "description")} \
        == {"name": "keep", "url": "https://93.184.215.14/a", "events": EVENT, "status": "ACTIVE",
            "description": "d"}
    cleared = hooks.ok("PATCH", path, {"description": ""})["webhook"]
    assert "description" not in cleared and "secret" not in cleared
    hooks.ok("DELETE", path)
    _fails(hooks, "DELETE", path, {}, 404, "RESOURCE_DOES_NOT_EXIST",
           f"Webhook with ID {made['webhook_id']} not found.")


def test_secrets_are_fernet_tokens_under_mlflows_key() -> None:
    box = SecretBox(KEY)
    token = box.seal("hunter2")
    assert Fernet(KEY.encode()).decrypt(token.encode()) == b"hunter2"  # what mlflow reads
    assert box.open(Fernet(KEY.encode()).encrypt(b"from mlflow").decode()) == "from mlflow"
    assert SecretBox(Fernet.generate_key().decode()).open(token) is None  # another key


def test_a_bad_encryption_key_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY"):
        SecretBox("not-a-key")


def test_env_is_read_like_mlflow() -> None:
    parsed = WebhookSettings.from_env({
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http, https", "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "True",
        "MLFLOW_WEBHOOK_REQUEST_TIMEOUT": "7", "MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS": "3"})
    assert parsed == WebhookSettings(("http", "https"), True, 7, 0, 3, None)
    assert WebhookSettings.from_env({}) == WebhookSettings()


def test_retries_a_5xx_then_delivers() -> None:
    with Receiver() as receiver:
        receiver.status = 503
        reply = send(receiver.url("/r"), ("registered_model", "created"), {"name": "m"}, "k",
                     LOCAL)
        assert (reply.status, reply.attempts) == (503, 3)  # one try and MAX_RETRIES=2 more
        assert len(receiver.deliveries) == 3
        # Every retry carries the same delivery id and a valid signature.
        assert len({d.headers["X-MLflow-Delivery-Id"] for d in receiver.deliveries}) == 1
        assert all(signature_is_valid(d, "k") for d in receiver.deliveries)
        receiver.status = 404
        assert send(receiver.url("/r"), ("prompt", "created"), {}, None, LOCAL).attempts == 1


def test_private_peers_are_refused_at_connect_time() -> None:
    strict = WebhookSettings(allowed_schemes=("http",), allow_private_ips=False)
    with Receiver() as receiver:
        with pytest.raises(MlflowError, match="non-public"):
            send(receiver.url(), ("prompt", "created"), {}, None, strict)
        # A name that passed the save-time check but connects to a private address (DNS
        # rebinding) is stopped on the socket, before any byte is sent.
        with pytest.raises(PrivateAddressRefused):
            _post_once(receiver.url(), b"{}", {}, strict)
        assert receiver.deliveries == []
    assert check_url("https://93.184.215.14/x", LOCAL) == "https://93.184.215.14/x"


def _metric(served: InProcess, outcome: str) -> float:
    text = served.client.get("/metrics").text
    found = re.search(r'trackd_webhook_deliveries_total\{event="registered_model.created",'
                      rf'outcome="{outcome}"\}} ([0-9.]+)', text)
    return float(found.group(1)) if found else 0.0


def _wait(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_deliveries_are_counted_and_logged(local: InProcess, tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    api = Api(local.client)
    caplog.set_level("INFO", logger="trackd.webhooks")
    with Receiver() as receiver:
        ok = api.ok("POST", "webhooks", {"name": "ok", "url": receiver.url("/ok"),
                                         "events": EVENT, "secret": "k"})["webhook"]
        down = api.ok("POST", "webhooks", {"name": "down", "url": "http://127.0.0.1:9/x",
                                           "events": EVENT})["webhook"]
        before = {o: _metric(local, o) for o in ("delivered", "error")}
        api.ok("POST", "registered-models/create", {"name": "counted-model"})
        deliveries: list[Delivery] = receiver.wait_for(lambda ds: len(ds) >= 1)
        assert signature_is_valid(deliveries[0], "k")
        _wait(lambda: _metric(local, "error") > before["error"])
        # The receiver has the request before the sender has read the answer and counted it.
        _wait(lambda: _metric(local, "delivered") > before["delivered"])
        assert _metric(local, "delivered") == before["delivered"] + 1
        _wait(lambda: "answered 200" in caplog.text)
        assert ok["webhook_id"] in caplog.text and down["webhook_id"] in caplog.text
    for hook in (ok, down):
        api.ok("DELETE", f"webhooks/{hook['webhook_id']}")


def test_a_secret_under_another_key_is_not_sent_unsigned(local: InProcess) -> None:
    api = Api(local.client)
    with Receiver() as receiver:
        hook = api.ok("POST", "webhooks", {"name": "rekeyed", "url": receiver.url(),
                                           "events": EVENT, "secret": "k"})["webhook"]
        foreign = Fernet(Fernet.generate_key()).encrypt(b"k").decode()

        def rekey(conn: Any) -> None:
            from trackd.store import webhooks as store

            store.update(conn, hook["webhook_id"], {"secret": foreign})

        local.portal.call(local.app.services.db.write, rekey)
        before = _metric(local, "secret_unreadable")
        api.ok("POST", "registered-models/create", {"name": "rekeyed-model"})
        _wait(lambda: _metric(local, "secret_unreadable") > before)
        result = api.ok("POST", f"webhooks/{hook['webhook_id']}/test", {})["result"]
        assert result["success"] is False and "another" in result["error_message"]
        assert receiver.deliveries == []
    api.ok("DELETE", f"webhooks/{hook['webhook_id']}")
