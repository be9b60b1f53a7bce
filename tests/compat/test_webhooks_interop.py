"""Swap the server, keep the webhooks: a webhook (and its encrypted secret) stored by one server
is listed, fired and signed by the other on the same database, both ways round.

Webhooks belong to no experiment: on the kind's shared interop database (tests/compat/interop.py)
each test deletes the ones it made, so that the next one lists only its own.
"""

from __future__ import annotations

import contextlib
import uuid

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from support.webhook_receiver import Receiver, signature_is_valid

from .interop import InteropServers, other_role

pytestmark = [pytest.mark.compat, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

SECRET = "shared-between-servers"


@pytest.mark.parametrize("first", ["trackd", "mlflow"])
def test_webhooks_move_between_servers(interop: InteropServers, first: str) -> None:
    second = other_role(first)
    with Receiver() as receiver:
        client = MlflowClient(interop.url(first))
        assert client.list_webhooks() == []  # an earlier test left none behind
        hook = client.create_webhook(f"made-by-{first}", receiver.url("/hook"),
                                     ["registered_model.created", "prompt_alias.deleted"],
                                     description="travels", secret=SECRET)
        disabled = client.create_webhook(f"off-{first}", receiver.url("/off"),
                                         ["registered_model.created"], status="DISABLED")
        try:
            client = MlflowClient(interop.url(second))
            seen = client.get_webhook(hook.webhook_id)
            assert (seen.name, seen.description, seen.url) == (
                f"made-by-{first}", "travels", receiver.url("/hook"))
            assert sorted(str(e) for e in seen.events) == ["prompt_alias.deleted",
                                                            "registered_model.created"]
            assert seen.creation_timestamp == hook.creation_timestamp
            listed = [w.webhook_id for w in client.list_webhooks()]
            assert listed == [disabled.webhook_id, hook.webhook_id]  # newest first
            name = f"m-{uuid.uuid4().hex[:8]}"
            client.create_registered_model(name)
            got = receiver.wait_for(lambda ds: any(d.path == "/hook" for d in ds))
            delivery = next(d for d in got if d.path == "/hook")
            # The secret the first server encrypted is the one the second signs with.
            assert signature_is_valid(delivery, SECRET)
            assert delivery.payload["data"]["name"] == name
            assert client.test_webhook(hook.webhook_id).success
            client.update_webhook(hook.webhook_id, description=f"edited by {second}")
            client.delete_webhook(disabled.webhook_id)
            # Back through the first server: the second one's changes are in the database.
            client = MlflowClient(interop.url(first))
            assert client.get_webhook(hook.webhook_id).description == f"edited by {second}"
            assert [w.webhook_id for w in client.list_webhooks()] == [hook.webhook_id]
        finally:
            for webhook in (hook, disabled):
                with contextlib.suppress(MlflowException):
                    MlflowClient(interop.url(first)).delete_webhook(webhook.webhook_id)
        assert receiver.on("/off") == []
