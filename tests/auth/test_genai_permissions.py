"""Evaluation datasets and scorers follow their experiments' permissions, as MLflow's
validators have them: a dataset by the experiments it is linked to, a scorer (read, delete) by
its own grants and otherwise by its experiment."""

from __future__ import annotations

import json
from typing import Any

from auth.conftest import ADMIN

V3 = "/api/3.0/mlflow"
JUDGE = json.dumps({"builtin_scorer_pydantic_data": {"model": "openai:/gpt-4o-mini"}})


def _grant(h: Any, owner: Any, experiment_id: str, user: Any, permission: str) -> None:
    h.ok(owner, "POST", "experiments/permissions/create",
         {"experiment_id": experiment_id, "username": user[0], "permission": permission})


def test_datasets_follow_their_experiments(auth_harness: Any) -> None:
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        alice, bob = h.add_user("alice"), h.add_user("bob")
        exp = h.ok(alice, "POST", "experiments/create", {"name": "alice-ds"})["experiment_id"]
        other = h.ok(alice, "POST", "experiments/create", {"name": "alice-2"})["experiment_id"]
        made = h.ok(alice, "POST", f"{V3}/datasets/create", {"name": "d",
                                                             "experiment_ids": [exp]})
        ds = made["dataset"]["dataset_id"]
        records = {"records": json.dumps([{"inputs": {"q": 1}}])}
        reads = [("GET", f"{V3}/datasets/{ds}", None),
                 ("GET", f"{V3}/datasets/{ds}/records", None),
                 ("GET", f"{V3}/datasets/{ds}/experiment-ids", None),
                 ("POST", f"{V3}/datasets/search", {"experiment_ids": [exp]})]
        writes = [("POST", f"{V3}/datasets/{ds}/records", records),
                  ("PATCH", f"{V3}/datasets/{ds}/tags", {"tags": '{"a": "b"}'}),
                  ("DELETE", f"{V3}/datasets/{ds}/tags/a", None),
                  ("POST", f"{V3}/datasets/{ds}/remove-experiments",
                   {"experiment_ids": [other]}),
                  ("POST", f"{V3}/datasets/create", {"name": "x", "experiment_ids": [exp]})]
        for method, path, body in reads + writes + [("DELETE", f"{V3}/datasets/{ds}", None)]:
            assert h.call(bob, method, path, body).status_code == 403, (method, path)
        # Search and create must name experiments; a dataset linked to none is admin-only.
        assert h.call(alice, "POST", f"{V3}/datasets/search", {}).status_code == 403
        orphan = h.ok(ADMIN, "POST", f"{V3}/datasets/create", {"name": "o"})["dataset"]
        assert h.call(alice, "GET", f"{V3}/datasets/{orphan['dataset_id']}").status_code == 403

        _grant(h, alice, exp, bob, "READ")
        for method, path, body in reads:
            assert h.call(bob, method, path, body).status_code == 200, (method, path)
        for method, path, body in writes:
            assert h.call(bob, method, path, body).status_code == 403, (method, path)

        h.ok(alice, "PATCH", "experiments/permissions/update",
             {"experiment_id": exp, "username": bob[0], "permission": "EDIT"})
        for method, path, body in writes:
            assert h.call(bob, method, path, body).status_code == 200, (method, path)
        # Linking to an experiment bob may not edit is refused, even with EDIT on the dataset.
        assert h.call(bob, "POST", f"{V3}/datasets/{ds}/add-experiments",
                      {"experiment_ids": [other]}).status_code == 403
        assert h.call(bob, "DELETE", f"{V3}/datasets/{ds}").status_code == 403
        assert h.call(alice, "DELETE", f"{V3}/datasets/{ds}").status_code == 200


def test_scorers_follow_their_experiment_and_their_own_grants(auth_harness: Any) -> None:
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        alice, bob = h.add_user("alice"), h.add_user("bob")
        exp = h.ok(alice, "POST", "experiments/create", {"name": "alice-sc"})["experiment_id"]
        registered = h.ok(alice, "POST", f"{V3}/scorers/register",
                          {"experiment_id": exp, "name": "j", "serialized_scorer": JUDGE})
        named = {"experiment_id": exp, "name": "j"}
        # Listing goes by the experiment; reading one scorer by the scorer's own grants
        # (MLflow 3.18: `<experiment id>/<name>` or `*`, else the default), never the experiment's.
        listing = [("GET", f"{V3}/scorers/list", {"experiment_id": exp}),
                   ("GET", f"{V3}/scorers/online-configs",
                    {"scorer_ids": [registered["scorer_id"]]})]
        reads = [("GET", f"{V3}/scorers/get", named),
                 ("GET", f"{V3}/scorers/versions", named)]
        writes = [("POST", f"{V3}/scorers/register", {**named, "serialized_scorer": JUDGE}),
                  ("PUT", f"{V3}/scorers/online-config", {**named, "sample_rate": 0})]
        for method, path, body in [*listing, *reads, *writes,
                                   ("DELETE", f"{V3}/scorers/delete", named)]:
            assert h.call(bob, method, path, body).status_code == 403, (method, path)
        assert h.call(bob, "GET", f"{V3}/scorers/list", {}).status_code == 403
        _grant(h, alice, exp, bob, "READ")
        for method, path, body in listing:
            assert h.call(bob, method, path, body).status_code == 200, (method, path)
        for method, path, body in [*reads, *writes]:
            assert h.call(bob, method, path, body).status_code == 403, (method, path)
        # alice registered it, so she holds MANAGE on it and may share it.
        h.ok(alice, "POST", f"{V3}/users/permissions/grant",
             {"username": bob[0], "resource_type": "scorer", "resource_id": f"{exp}/j",
              "permission": "READ"})
        for method, path, body in reads:
            assert h.call(bob, method, path, body).status_code == 200, (method, path)
        assert h.call(bob, "DELETE", f"{V3}/scorers/delete", named).status_code == 403
        assert h.call(alice, "DELETE", f"{V3}/scorers/delete", named).status_code == 200
        # Deleting it dropped the grants on it.
        listed = h.ok(ADMIN, "GET", f"{V3}/users/permissions/list", {"username": bob[0]})
        assert [p for p in listed["permissions"] if p["resource_type"] == "scorer"] == []
