"""Issues follow their experiment's permissions, as MLflow 3.18's validators have it: READ to
get or search them, UPDATE to create or change them, and a search must name its experiment."""

from __future__ import annotations

from typing import Any

V3 = "/api/3.0/mlflow"


def test_issues_follow_their_experiments_permissions(auth_harness: Any) -> None:
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        alice, bob = h.add_user("alice"), h.add_user("bob")
        exp = h.ok(alice, "POST", "experiments/create", {"name": "alice-issues"})["experiment_id"]
        new = {"experiment_id": exp, "name": "Slow", "description": "d"}
        issue_id = h.ok(alice, "POST", f"{V3}/issues", new)["issue"]["issue_id"]
        patch = {"issue_id": issue_id, "status": "resolved"}
        denied = [
            ("POST", f"{V3}/issues", new),
            ("GET", f"{V3}/issues/{issue_id}", None),
            ("PATCH", f"{V3}/issues/{issue_id}", patch),
            ("POST", f"{V3}/issues/search", {"experiment_id": exp}),
            ("POST", "/ajax-api/3.0/mlflow/issues/search", {"experiment_id": exp}),
            ("POST", "/ajax-api/3.0/mlflow/issues/invoke", {"experiment_id": exp}),
        ]
        for method, path, body in denied:
            assert h.call(bob, method, path, body).status_code == 403, (method, path)
        # An issue that does not exist is no existence oracle: denied like a hidden one.
        assert h.call(bob, "GET", f"{V3}/issues/iss-nothing", None).status_code == 403
        # Without an experiment a search is refused before it runs (MLflow answers 403; trackd
        # names the missing field, as for every experiment-scoped route).
        unnamed = h.call(bob, "POST", f"{V3}/issues/search", {})
        assert unnamed.status_code == 400
        assert unnamed.json()["error_code"] == "INVALID_PARAMETER_VALUE"

        h.ok(alice, "POST", "experiments/permissions/create",
             {"experiment_id": exp, "username": bob[0], "permission": "READ"})
        assert h.ok(bob, "GET", f"{V3}/issues/{issue_id}")["issue"]["name"] == "Slow"
        found = h.ok(bob, "POST", f"{V3}/issues/search", {"experiment_id": exp})
        assert [i["issue_id"] for i in found["issues"]] == [issue_id]
        assert h.call(bob, "PATCH", f"{V3}/issues/{issue_id}", patch).status_code == 403
        assert h.call(bob, "POST", f"{V3}/issues", new).status_code == 403

        h.ok(alice, "PATCH", "experiments/permissions/update",
             {"experiment_id": exp, "username": bob[0], "permission": "EDIT"})
        assert h.ok(bob, "PATCH", f"{V3}/issues/{issue_id}", patch)["issue"]["status"] == \
            "resolved"
        assert h.call(bob, "POST", f"{V3}/issues", new).status_code == 200
        assert h.call(bob, "POST", "/ajax-api/3.0/mlflow/issues/invoke",
                      {"experiment_id": exp}).status_code == 501
