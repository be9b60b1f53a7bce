"""Record what a tracking server answers to the trace filters of tests/compat/trace_filter_data.py.

    python scripts/capture_trace_filters.py http://127.0.0.1:56400 > out.md

Makes the traces with the official client in a fresh experiment, runs every filter through
``mlflow.search_traces`` and every invalid filter through a raw ``POST traces/search``, and
prints markdown: the trace names found, or status, error_code and message.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import mlflow
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "compat"))
import trace_filter_data as data  # noqa: E402


def main(url: str) -> None:
    mlflow.set_tracking_uri(url)
    exp = mlflow.set_experiment(f"trace-filters-{uuid.uuid4().hex[:8]}").experiment_id
    ids = data.make_traces()
    issue = data.link_issue(exp, ids["t_chat"])
    names = {v: k for k, v in ids.items()}
    print("| filter | traces found | expected |")
    print("|---|---|---|")
    for text, expected in {**data.MATCHES, **data.ISSUE_MATCHES}.items():
        try:
            found = mlflow.search_traces(locations=[exp], return_type="list",
                                         filter_string=text.replace("{issue}", issue))
            got = ", ".join(sorted(names[t.info.trace_id] for t in found)) or "(none)"
        except Exception as exc:  # noqa: BLE001 - recorded as it is
            got = f"ERROR {exc}"
        mark = "" if got == (", ".join(expected) or "(none)") else " **differs**"
        print(f"| `{text}` | {got} | {', '.join(expected) or '(none)'}{mark} |")
    print()
    print("| filter | status | error_code | message |")
    print("|---|---|---|---|")
    for text in data.INVALID:
        r = requests.post(f"{url}/api/3.0/mlflow/traces/search", timeout=30, json={
            "locations": [{"type": "MLFLOW_EXPERIMENT",
                           "mlflow_experiment": {"experiment_id": exp}}],
            "filter": text})
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        msg = str(body.get("message", r.text[:200])).replace("|", "\\|")
        print(f"| `{text}` | {r.status_code} | {body.get('error_code')} | {msg} |")


if __name__ == "__main__":
    main(sys.argv[1])
