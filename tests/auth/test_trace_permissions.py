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
            ("GET", f"/ajax-api/3.0/trackd/traces/{trace_id}/span-outline", None),
            ("GET", f"/ajax-api/3.0/trackd/traces/{trace_id}/span", {"span_id": "aa"}),
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
        assert h.ok(bob, "GET", f"/ajax-api/3.0/trackd/traces/{trace_id}/span-outline") == {
            "source": "artifact", "spans": []}
        found = h.ok(bob, "POST", f"{V3}/traces/search", {"experiment_ids": [exp]})
        assert [t["trace_id"] for t in found["traces"]] == [trace_id]
        assert h.call(bob, "POST", f"{V3}/traces/{trace_id}/assessments",
                      feedback).status_code == 403
        assert h.call(ADMIN, "POST", f"{V3}/traces/{trace_id}/assessments",
                      feedback).status_code == 200


def test_v2_trace_routes_follow_their_experiments_permissions(auth_harness: Any) -> None:
    """The deprecated v2 routes (mlflow-skinny 2.x) need what their v3 counterparts need."""
    v2 = "/api/2.0/mlflow"
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        alice, bob = h.add_user("alice"), h.add_user("bob")
        exp = h.ok(alice, "POST", "experiments/create", {"name": "alice-v2"})["experiment_id"]
        started = h.ok(alice, "POST", f"{v2}/traces", {"experiment_id": exp, "timestamp_ms": 1})
        request_id = started["trace_info"]["request_id"]
        end = {"timestamp_ms": 5, "status": "OK"}
        denied = [
            ("POST", f"{v2}/traces", {"experiment_id": exp}),
            ("PATCH", f"{v2}/traces/{request_id}", end),
            ("GET", f"{v2}/traces/{request_id}/info", None),
            ("GET", f"{v2}/traces", {"experiment_ids": exp}),
        ]
        for method, path, body in denied:
            assert h.call(bob, method, path, body).status_code == 403, (method, path)
        h.ok(alice, "POST", "experiments/permissions/create",
             {"experiment_id": exp, "username": bob[0], "permission": "READ"})
        info = h.ok(bob, "GET", f"{v2}/traces/{request_id}/info")["trace_info"]
        assert info["request_id"] == request_id
        found = h.ok(bob, "GET", f"{v2}/traces", {"experiment_ids": exp})
        assert [t["request_id"] for t in found["traces"]] == [request_id]
        for method, path, body in denied[:2]:
            assert h.call(bob, method, path, body).status_code == 403, (method, path)
        h.ok(alice, "PATCH", f"{v2}/traces/{request_id}", end)
        # The Databricks-only routes answer every signed-in caller alike.
        assert h.call(bob, "GET", f"{v2}/unified-traces", None).status_code == 404
