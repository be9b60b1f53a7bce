"""The web UI's upload into a run needs EDIT on the run's experiment (as MLflow 3.18's
``validate_can_update_run_artifact``), with the run named as ``run_uuid`` (what the UI sends) or
``run_id``; presigned downloads need READ, presigned uploads EDIT."""

from __future__ import annotations

from typing import Any

UPLOAD = "/ajax-api/2.0/mlflow/upload-artifact"
SIGN = "/api/2.0/mlflow/artifacts/presigned"


def _upload(h: Any, who: Any, params: dict[str, str]) -> int:
    return int(h.call(who, "POST", UPLOAD, None, params=params, content=b"x").status_code)


def test_uploads_and_presigning_follow_the_run(auth_harness: Any) -> None:
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        alice, bob = h.add_user("alice"), h.add_user("bob")
        exp = h.ok(alice, "POST", "experiments/create", {"name": "alice-up"})["experiment_id"]
        run_id = h.ok(alice, "POST", "runs/create", {"experiment_id": exp})["run"]["info"][
            "run_id"]
        down = {"run_id": run_id, "path": "a.txt"}
        assert _upload(h, bob, {"run_uuid": run_id, "path": "a.txt"}) == 403
        assert h.call(bob, "POST", f"{SIGN}-download-url", down).status_code == 403
        h.ok(alice, "POST", "experiments/permissions/create",
             {"experiment_id": exp, "username": bob[0], "permission": "READ"})
        assert _upload(h, bob, {"run_id": run_id, "path": "a.txt"}) == 403
        assert h.call(bob, "POST", f"{SIGN}-download-url", down).status_code != 403
        assert h.call(bob, "POST", f"{SIGN}-upload-url", down).status_code == 403
        h.ok(alice, "PATCH", "experiments/permissions/update",
             {"experiment_id": exp, "username": bob[0], "permission": "EDIT"})
        assert _upload(h, bob, {"run_uuid": run_id, "path": "a.txt"}) == 200
        assert _upload(h, bob, {"run_id": run_id, "path": "b.txt"}) == 200
        assert h.call(bob, "POST", f"{SIGN}-upload-url", down).status_code != 403
