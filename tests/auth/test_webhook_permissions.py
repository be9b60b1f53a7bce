"""Webhooks are for admins only, as MLflow's basic-auth app rules (sender_is_admin)."""

from __future__ import annotations

from typing import Any

from auth.conftest import ADMIN

EVENTS = [{"entity": "REGISTERED_MODEL", "action": "CREATED"}]
PUBLIC = "https://93.184.215.14/hook"  # a public address literal: validated, never called


def test_webhooks_are_admin_only(auth_harness: Any) -> None:
    with auth_harness(default_permission="MANAGE") as h:
        alice = h.add_user("alice")
        made = h.ok(ADMIN, "POST", "webhooks", {"name": "w", "url": PUBLIC,
                                                "events": EVENTS})["webhook"]
        path = f"webhooks/{made['webhook_id']}"
        for method, where, body in (("POST", "webhooks", {"name": "x", "url": PUBLIC,
                                                          "events": EVENTS}),
                                    ("GET", "webhooks", None), ("GET", path, None),
                                    ("PATCH", path, {"description": "mine"}),
                                    ("DELETE", path, {}), ("POST", f"{path}/test", {})):
            answer = h.call(alice, method, where, body)
            assert answer.status_code == 403, (method, where, answer.text)
            assert "Permission denied" in answer.text  # MLflow's plain-text refusal
        assert "description" not in h.ok(ADMIN, "GET", path)["webhook"]  # alice changed nothing
        assert [w["webhook_id"] for w in h.ok(ADMIN, "GET", "webhooks")["webhooks"]] == [
            made["webhook_id"]]
        h.ok(ADMIN, "DELETE", path, {})
