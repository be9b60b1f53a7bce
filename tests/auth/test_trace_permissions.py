"""Per-experiment permissions cover traces, their spans and assessments as they cover runs."""

from __future__ import annotations

import uuid
from typing import Any

from auth.conftest import ADMIN

V3 = "/api/3.0/mlflow"


def _start(h: Any, who: Any, experiment_id: str) -> str:
    trace_id = "tr-" + uuid.uuid4().hex
    info = {"trace_id": trace_id, "request_time": "2026-12-03T10:00:00Z", "state": "OK",
            "trace_location": {"type": "MLFLOW_EXPERIMENT",
                               "mlflow_experiment": {"experiment_id": experiment_id}}}
    h.ok(who, "POST", f"{V3}/traces", {"trace": {"trace_info": info}})
    return trace_id


def test_traces_follow_their_experiments_permissions(auth_harness: Any) -> None:
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        alice, bob = h.add_user("alice"), h.add_user("bob")
        exp = h.ok(alice, "POST", "experiments/create", {"name": "alice-genai"})["experiment_id"]
        trace_id = _start(h, alice, exp)
        feedback = {"assessment": {"assessment_name": "q", "feedback": {"value": 1}}}
        denied = [
            ("GET", f"{V3}/traces/{trace_id}", None),
            ("GET", f"{V3}/traces/get", {"trace_id": trace_id}),
            ("GET", f"{V3}/traces/batchGet", {"trace_ids": [trace_id]}),
            ("GET", f"{V3}/get-trace-artifact", {"request_id": trace_id}),
            ("POST", f"{V3}/traces/search", {"experiment_ids": [exp]}),
            ("PATCH", f"{V3}/traces/{trace_id}/tags", {"key": "k", "value": "v"}),
            ("POST", f"{V3}/traces/{trace_id}/assessments", feedback),
            ("POST", f"{V3}/traces/delete-traces", {"experiment_id": exp,
                                                    "request_ids": [trace_id]}),
            ("GET", f"/traces/{trace_id}", None),
            ("GET", f"/experiments/{exp}/traces", None),
        ]
        for method, path, body in denied:
            assert h.call(bob, method, path, body).status_code == 403, (method, path)
        info = {"trace_id": "tr-" + uuid.uuid4().hex, "request_time": "2026-12-03T10:00:00Z",
                "trace_location": {"type": "MLFLOW_EXPERIMENT",
                                   "mlflow_experiment": {"experiment_id": exp}}}
        assert h.call(bob, "POST", f"{V3}/traces",
                      {"trace": {"trace_info": info}}).status_code == 403
        # READ lets bob look, not write.
        h.ok(alice, "POST", "experiments/permissions/create",
             {"experiment_id": exp, "username": bob[0], "permission": "READ"})
        assert h.ok(bob, "GET", f"{V3}/traces/{trace_id}")["trace"]["trace_info"]["trace_id"]
        found = h.ok(bob, "POST", f"{V3}/traces/search", {"experiment_ids": [exp]})
        assert [t["trace_id"] for t in found["traces"]] == [trace_id]
        assert h.call(bob, "POST", f"{V3}/traces/{trace_id}/assessments",
                      feedback).status_code == 403
        assert h.call(ADMIN, "POST", f"{V3}/traces/{trace_id}/assessments",
                      feedback).status_code == 200
