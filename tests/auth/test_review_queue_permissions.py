"""Review queues under auth, as MLflow 3.18's validators decide (auth/review_queues.py): the
experiment's permission, plus the queue's owner and its pool of reviewers."""

from __future__ import annotations

import uuid
from typing import Any

from .conftest import ADMIN

RQ = "/api/3.0/mlflow/review-queues"


def _grant(h: Any, owner: Any, exp: str, who: Any, permission: str) -> None:
    h.ok(owner, "POST", "experiments/permissions/create",
         {"experiment_id": exp, "username": who[0], "permission": permission})


def _status(h: Any, who: Any, method: str, path: str, body: Any) -> int:
    return int(h.call(who, method, f"{RQ}/{path}", body).status_code)


def test_owner_reviewers_and_experiment_grants_decide(auth_harness: Any) -> None:
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        alice, bob, dave = h.add_user("alice"), h.add_user("bob"), h.add_user("dave")
        exp = h.ok(alice, "POST", "experiments/create", {"name": "alice-rq"})["experiment_id"]
        trace_id = f"tr-{uuid.uuid4().hex}"
        h.ok(alice, "POST", "/api/3.0/mlflow/traces", {"trace": {"trace_info": {
            "trace_id": trace_id, "request_time": "2024-01-01T00:00:00Z", "state": "OK",
            "trace_location": {"type": "MLFLOW_EXPERIMENT",
                               "mlflow_experiment": {"experiment_id": exp}}}}})
        team = h.ok(alice, "POST", f"{RQ}/create", {
            "experiment_id": exp, "name": "Team", "queue_type": "CUSTOM",
            "users": ["BOB"]})["review_queue"]
        assert team["created_by"] == "alice"  # the signed-in user owns what they make
        queue_id = team["queue_id"]
        h.ok(alice, "POST", f"{RQ}/items/add", {"queue_id": queue_id, "item_ids": [trace_id]})
        by_id = {"queue_id": queue_id}
        review = {**by_id, "item_id": trace_id, "status": "COMPLETE", "completed_by": "eve"}

        # No grant: nothing, and an unknown queue looks the same as a hidden one.
        for who in (bob, dave):
            assert _status(h, who, "GET", "get", by_id) == 403
            assert _status(h, who, "GET", "list", {"experiment_id": exp}) == 403
        assert _status(h, bob, "GET", "get", {"queue_id": "rq-nope"}) == 403

        # READ: a reviewer sees their queue; others list nothing and open nothing.
        _grant(h, alice, exp, bob, "READ")
        _grant(h, alice, exp, dave, "READ")
        assert _status(h, bob, "GET", "get", by_id) == 200
        assert _status(h, bob, "GET", "get-by-name", {"experiment_id": exp, "name": "team"}) == 200
        assert _status(h, bob, "GET", "items/list", by_id) == 200
        assert [q["name"] for q in h.ok(bob, "GET", f"{RQ}/list", {"experiment_id": exp})[
            "review_queues"]] == ["Team"]
        assert "review_queues" not in h.ok(dave, "GET", f"{RQ}/list", {"experiment_id": exp})
        assert _status(h, dave, "GET", "get", by_id) == 403
        assert _status(h, bob, "POST", "items/add", {**by_id, "item_ids": [trace_id]}) == 403
        assert _status(h, bob, "POST", "items/set-status", review) == 403

        # EDIT: work can be added; a reviewer reviews (stamped as themselves, whatever the
        # body says); a non-reviewer cannot; the owner's queue stays the owner's.
        _grant_update = {"experiment_id": exp, "permission": "EDIT"}
        for who in (bob, dave):
            h.ok(alice, "PATCH", "experiments/permissions/update",
                 {**_grant_update, "username": who[0]})
        assert _status(h, dave, "POST", "items/add", {**by_id, "item_ids": [trace_id]}) == 200
        assert len(h.ok(dave, "GET", f"{RQ}/list", {"experiment_id": exp})[
            "review_queues"]) == 1  # EDIT lists every queue
        assert _status(h, dave, "POST", "items/set-status", review) == 403
        item = h.ok(bob, "POST", f"{RQ}/items/set-status", review)["item"]
        assert (item["status"], item["completed_by"]) == ("COMPLETE", "bob")
        for path, body in (("update", {**by_id, "name": "Mine now"}), ("delete", by_id),
                           ("items/remove", {**by_id, "item_ids": [trace_id]})):
            assert _status(h, bob, "POST", path, body) == 403, path

        # An EDIT owner shapes and drops their own queue, but cannot hand it on.
        own = h.ok(dave, "POST", f"{RQ}/create", {"experiment_id": exp, "name": "Dave's",
                                                  "queue_type": "CUSTOM"})["review_queue"]
        own_id = {"queue_id": own["queue_id"]}
        assert _status(h, dave, "POST", "update", {**own_id, "name": "Dave's 2"}) == 200
        assert _status(h, dave, "POST", "update", {**own_id, "new_owner": "bob"}) == 403
        assert _status(h, dave, "POST", "delete", own_id) == 200

        # MANAGE: anything, including a new owner.
        changed = h.ok(alice, "POST", f"{RQ}/update", {**by_id, "new_owner": "bob"})
        assert changed["review_queue"]["created_by"] == "bob"
        assert _status(h, bob, "POST", "update", {**by_id, "name": "Bob's"}) == 200
        assert _status(h, alice, "POST", "delete", by_id) == 200


def test_a_custom_queue_cannot_take_a_username(auth_harness: Any) -> None:
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        alice, bob = h.add_user("alice"), h.add_user("Bob")
        exp = h.ok(alice, "POST", "experiments/create", {"name": "alice-names"})["experiment_id"]
        for who in (alice, ADMIN):  # admins are held to it too
            resp = h.call(who, "POST", f"{RQ}/create", {
                "experiment_id": exp, "name": " bob ", "queue_type": "CUSTOM"})
            assert resp.status_code == 400, resp.text
            assert resp.json()["message"] == (
                "'Bob' is a registered user. A custom review queue cannot use a username as "
                "its name; assign that user to a queue instead.")
        # A user's own queue is named after them, as it should be.
        mine = h.ok(alice, "POST", f"{RQ}/create", {"experiment_id": exp, "name": "bob",
                                                    "queue_type": "USER"})["review_queue"]
        assert mine["users"] == ["bob"]
        team = h.ok(alice, "POST", f"{RQ}/create", {"experiment_id": exp, "name": "Team",
                                                    "queue_type": "CUSTOM"})["review_queue"]
        resp = h.call(alice, "POST", f"{RQ}/update", {"queue_id": team["queue_id"],
                                                      "name": "ALICE"})
        assert resp.status_code == 400 and "cannot be renamed to a username" in resp.json()[
            "message"]
        # Refused by permission first: a stranger learns nothing about usernames.
        assert h.call(bob, "POST", f"{RQ}/update", {"queue_id": team["queue_id"],
                                                    "name": "alice"}).status_code == 403
