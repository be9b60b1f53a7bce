"""Issue routes (MLflow 3.18): parse, call service/issues.py, serialize."""

from __future__ import annotations

from typing import Any

from trackd.api._http import Fields
from trackd.api.router import Call
from trackd.errors import MlflowError, invalid_parameter
from trackd.service.issues import IssueChanges, IssueSearch, NewIssue


def _metadata(f: Fields) -> Any:
    value = f.raw("metadata")
    if value is not None and not isinstance(value, dict):
        raise invalid_parameter("metadata must be a string map with at most 100 entries")
    return value


def _optional_list(f: Fields, name: str) -> list[str] | None:
    return f.string_list(name) if f.raw(name) is not None else None


async def create(call: Call) -> dict[str, Any]:
    f = await call.fields()
    new = NewIssue(
        experiment_id=f.string("experiment_id", required=True),
        name=f.string("name", required=True),
        description=f.string("description", required=True),
        status=f.string("status"), severity=f.string("severity"),
        root_causes=f.string_list("root_causes"), source_run_id=f.string("source_run_id") or None,
        categories=f.string_list("categories"), created_by=f.string("created_by") or None,
        issue_id=f.string("issue_id"), last_seen_timestamp=f.raw("last_seen_timestamp"),
        metadata=_metadata(f),
    )
    return {"issue": (await call.services.issues.create(new)).to_json()}


async def get(call: Call) -> dict[str, Any]:
    return {"issue": (await call.services.issues.get(call.params["issue_id"])).to_json()}


async def update(call: Call) -> dict[str, Any]:
    f = await call.fields()
    # MLflow 3.18 insists on issue_id in the body too (its client always sends it), but the
    # issue updated is the one the path names.
    f.string("issue_id", required=True)
    changes = IssueChanges(
        name=f.string("name"), description=f.string("description"), status=f.string("status"),
        severity=f.string("severity"), categories=_optional_list(f, "categories"),
        last_seen_timestamp=f.raw("last_seen_timestamp"),
        last_updated_by=f.string("last_updated_by") or None, metadata=_metadata(f),
        delete_metadata_keys=_optional_list(f, "delete_metadata_keys"),
    )
    updated = await call.services.issues.update(call.params["issue_id"], changes)
    return {"issue": updated.to_json()}


async def search(call: Call) -> dict[str, Any]:
    f = await call.fields()
    view = f.string("view")
    query = IssueSearch(
        experiment_id=f.string("experiment_id") or None,
        filter_string=f.string("filter_string") or None,
        max_results=f.integer("max_results"), page_token=f.string("page_token") or None,
        include_trace_count=f.boolean("include_trace_count"), name=f.string("name"),
        statuses=_optional_list(f, "statuses"), severities=_optional_list(f, "severities"),
        categories=_optional_list(f, "categories"), order_by=_optional_list(f, "order_by"),
        include_total_count=f.boolean("include_total_count"), view=view,
    )
    issues, token, total = await call.services.issues.search(query)
    out: dict[str, Any] = {"next_page_token": token or ""}
    if issues:
        out["issues"] = [i.to_json(basic=view == "basic") for i in issues]
    if total is not None:
        out["total_count"] = total
    return out


async def detection_unavailable(call: Call) -> dict[str, Any]:
    """``issues/invoke`` and ``issues/schedule/state`` drive MLflow's LLM-based issue detection
    jobs (a gateway model and a job runner), which trackd does not have."""
    raise MlflowError("Issue detection (LLM-based jobs) is not available on this server",
                      "NOT_IMPLEMENTED")
