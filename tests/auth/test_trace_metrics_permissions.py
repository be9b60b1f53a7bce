"""traces/metrics and calculate-filter-correlation need READ on every experiment they name."""

from __future__ import annotations

import uuid
from typing import Any

V3 = "/api/3.0/mlflow"


def test_trace_metrics_need_read_on_each_experiment(auth_harness: Any) -> None:
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        alice, bob = h.add_user("alice"), h.add_user("bob")
        exp = h.ok(alice, "POST", "experiments/create", {"name": "alice-overview"})["experiment_id"]
        own = h.ok(bob, "POST", "experiments/create", {"name": "bob-overview"})["experiment_id"]
        info = {"trace_id": "tr-" + uuid.uuid4().hex, "request_time": "2026-12-03T10:00:00Z",
                "state": "OK", "trace_location": {"type": "MLFLOW_EXPERIMENT",
                                                  "mlflow_experiment": {"experiment_id": exp}}}
        h.ok(alice, "POST", f"{V3}/traces", {"trace": {"trace_info": info}})

        def metrics(ids: list[str]) -> dict[str, Any]:
            return {"experiment_ids": ids, "view_type": "TRACES", "metric_name": "trace_count",
                    "aggregations": [{"aggregation_type": "COUNT"}]}

        def correlation(ids: list[str]) -> dict[str, Any]:
            return {"experiment_ids": ids, "filter_string1": "trace.status = 'OK'",
                    "filter_string2": "trace.status = 'OK'"}

        for path, body in ((f"{V3}/traces/metrics", metrics),
                           (f"{V3}/traces/calculate-filter-correlation", correlation)):
            assert h.call(bob, "POST", path, body([exp])).status_code == 403, path
            # one readable experiment does not open the others named with it
            assert h.call(bob, "POST", path, body([own, exp])).status_code == 403, path
            assert h.call(bob, "POST", path, body([own])).status_code == 200, path
        h.ok(alice, "POST", "experiments/permissions/create",
             {"experiment_id": exp, "username": bob[0], "permission": "READ"})
        counted = h.ok(bob, "POST", f"{V3}/traces/metrics", metrics([exp]))
        assert counted["data_points"][0]["values"] == {"COUNT": 1.0}
        assert h.ok(bob, "POST", f"{V3}/traces/calculate-filter-correlation",
                    correlation([exp]))["total_count"] == 1
