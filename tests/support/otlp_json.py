"""Posting spans written as OTLP JSON straight to ``/v1/traces`` (no SDK): for tests that need
exact ids, times and attributes, or more spans than an SDK would send in one export."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


def post_spans(client: Any, experiment_id: str, spans: Iterable[dict[str, Any]],
               url: str = "") -> None:
    """One export of ``spans`` (OTLP JSON span objects) into ``experiment_id``; ``client`` is
    an httpx or in-process client, ``url`` the server's base when the client has none."""
    body = {"resourceSpans": [{"resource": {"attributes": []},
                               "scopeSpans": [{"spans": list(spans)}]}]}
    resp = client.request("POST", url + "/v1/traces", content=json.dumps(body).encode(),
                          headers={"Content-Type": "application/json",
                                   "x-mlflow-experiment-id": experiment_id})
    assert resp.status_code == 200, resp.text
