"""With auth on, the OpenAPI document needs credentials like every other route, and says so."""

from __future__ import annotations

from typing import Any


def test_any_signed_in_user_reads_the_document_nobody_else(auth_harness: Any) -> None:
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        assert h.call(None, "GET", "/openapi.json").status_code == 401
        user = h.add_user("reader")
        response = h.call(user, "GET", "/openapi.json")
        assert response.status_code == 200, response.text
        document = response.json()
    assert set(document["components"]["securitySchemes"]) == {"basic", "bearer"}
    assert document["security"] == [{"basic": []}, {"bearer": []}]
    # server-info stays open, as in MLflow, and the document marks it so.
    assert document["paths"]["/api/3.0/mlflow/server-info"]["get"]["security"] == []
    create = document["paths"]["/api/2.0/mlflow/experiments/create"]["post"]
    assert {"401", "403"} <= set(create["responses"])
