"""Label schemas follow their experiment's permissions as MLflow 3.18's validators have it:
READ to see one, MANAGE (not EDIT) to create, change or delete one."""

from __future__ import annotations

from typing import Any

LS = "/api/3.0/mlflow/label-schemas"


def test_label_schemas_need_manage_to_change(auth_harness: Any) -> None:
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        alice, bob = h.add_user("alice"), h.add_user("bob")
        exp = h.ok(alice, "POST", "experiments/create", {"name": "alice-ls"})["experiment_id"]
        new = {"experiment_id": exp, "name": "Q", "type": "FEEDBACK", "input": {"text": {}}}
        schema_id = h.ok(alice, "POST", f"{LS}/create", new)["label_schema"]["schema_id"]
        reads = [("GET", f"{LS}/get", {"schema_id": schema_id}),
                 ("GET", f"{LS}/get-by-name", {"experiment_id": exp, "name": "Q"}),
                 ("GET", f"{LS}/list", {"experiment_id": exp})]
        changes = [("POST", f"{LS}/create", {**new, "name": "Q2"}),
                   ("PATCH", f"{LS}/update", {"schema_id": schema_id, "instruction": "i"}),
                   ("DELETE", f"{LS}/delete", {"schema_id": schema_id})]
        for method, path, body in reads + changes:
            assert h.call(bob, method, path, body).status_code == 403, (method, path)
        # An unknown id is denied like a hidden one: no existence oracle.
        assert h.call(bob, "GET", f"{LS}/get", {"schema_id": "ls-nope"}).status_code == 403

        h.ok(alice, "POST", "experiments/permissions/create",
             {"experiment_id": exp, "username": bob[0], "permission": "EDIT"})
        for method, path, body in reads:
            assert h.call(bob, method, path, body).status_code == 200, (method, path)
        for method, path, body in changes:
            assert h.call(bob, method, path, body).status_code == 403, (method, path)

        h.ok(alice, "PATCH", "experiments/permissions/update",
             {"experiment_id": exp, "username": bob[0], "permission": "MANAGE"})
        for method, path, body in changes:
            assert h.call(bob, method, path, body).status_code == 200, (method, path)
