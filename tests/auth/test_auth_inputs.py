"""Auth looks objects up before handlers check their input: bad input must still get a 400.

Also: what handlers note in the request state (the metric points they stored) still reaches
the observability layer outside the auth layer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dbs import fresh_database


def test_nul_characters_get_a_400_not_a_database_error(
    auth_harness: Any, db_kind: str, tmp_path: Path
) -> None:
    with fresh_database(db_kind, tmp_path) as url, auth_harness(
        default_permission="READ", backend_store_uri=url
    ) as h:
        user = h.add_user("alice")
        cases = [
            ("GET", "runs/get", {"run_id": "abc\x00def"}),
            ("GET", "experiments/get-by-name", {"experiment_name": "x\x00y"}),
            ("POST", "runs/log-metric",
             {"run_id": "abc\x00", "key": "m", "value": 1.0, "timestamp": 1, "step": 0}),
            ("POST", "experiments/create", {"name": "n\x00"}),
        ]
        for method, path, body in cases:
            response = h.call(user, method, path, body)
            assert response.status_code == 400, (path, response.status_code, response.text)
            assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
            assert "NUL" in response.json()["message"]


def _points(text: str) -> float:
    found = re.search(r"^trackd_metric_points_ingested_total (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_ingested_points_are_counted_with_auth_on(auth_harness: Any) -> None:
    with auth_harness(default_permission="EDIT") as h:
        user = h.add_user("bob")
        exp = h.ok(user, "POST", "experiments/create", {"name": "counted"})["experiment_id"]
        run = h.ok(user, "POST", "runs/create", {"experiment_id": exp})["run"]["info"]["run_id"]
        before = _points(h.call(("admin", "admin-password-123"), "GET", "/metrics").text)
        h.ok(user, "POST", "runs/log-metric",
             {"run_id": run, "key": "m", "value": 1.0, "timestamp": 1, "step": 0})
        h.ok(user, "POST", "runs/log-batch", {"run_id": run, "metrics": [
            {"key": "m", "value": 2.0, "timestamp": 2, "step": s} for s in range(1, 4)]})
        after = _points(h.call(("admin", "admin-password-123"), "GET", "/metrics").text)
    assert after - before == 4
