"""Issues (MLflow 3.18 ``mlflow.genai.create_issue`` / ``get_issue`` / ``update_issue`` /
``search_issues``): MLflow's validation rules, defaults and search semantics."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from trackd.entities.issues import SEVERITIES, STATUSES, Issue
from trackd.errors import MlflowError, already_exists, invalid_parameter, not_found
from trackd.service import paging
from trackd.service.filter_syntax import split_clauses
from trackd.service.validation import parse_experiment_id
from trackd.store import experiments as experiment_store
from trackd.store import issues as store
from trackd.store.database import Database
from trackd.store.issues import IssueQuery

_ISSUE_ID = re.compile(r"iss-[A-Za-z0-9_-]{1,32}")
_MAX_RESULTS = 50000  # MLflow's store-wide ceiling; the default page is 100
_FILTER_FIELDS = ("status", "source_run_id")
_SORT_FIELDS = ("name", "status", "severity", "created_timestamp", "last_updated_timestamp",
                "last_seen_timestamp")


def _now_ms() -> int:
    return int(time.time() * 1000)


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 250:
        raise invalid_parameter("Issue name must contain 1 to 250 characters")
    return name


def check_choice(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise invalid_parameter(f"Invalid issue {field}: {value!r}")
    return str(value)


def check_timestamp(value: Any) -> int:
    # Protobuf JSON may carry an int64 as a decimal string; a bool is never a timestamp.
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = int(value)
    if type(value) is not int or not 0 <= value < 2**63:
        raise invalid_parameter("last_seen_timestamp must be nonnegative milliseconds")
    return value


def check_strings(field: str, values: Any) -> list[str]:
    if not isinstance(values, list) or len(values) > 100 or any(
            not isinstance(v, str) or not 1 <= len(v) <= 250 for v in values):
        raise invalid_parameter(
            f"{field} must contain at most 100 nonempty strings of at most 250 characters")
    return values


def check_metadata(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > 100 or any(
            not isinstance(k, str) or not 1 <= len(k) <= 250 or not isinstance(v, str)
            or len(v) > 65536 for k, v in value.items()):
        raise invalid_parameter("metadata must be a string map with at most 100 entries")
    return value


def check_actor(field: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 255:
        raise invalid_parameter(f"Invalid {field}")
    return value


@dataclass
class NewIssue:
    experiment_id: str
    name: str
    description: str
    status: str | None = None
    severity: str | None = None
    root_causes: list[str] | None = None
    source_run_id: str | None = None
    categories: list[str] | None = None
    created_by: str | None = None
    issue_id: str | None = None
    last_seen_timestamp: Any = None
    metadata: dict[str, str] | None = None


@dataclass
class IssueChanges:
    name: str | None = None
    description: str | None = None
    status: str | None = None
    severity: str | None = None
    categories: list[str] | None = None  # [] clears them; None leaves them
    last_seen_timestamp: Any = None
    last_updated_by: str | None = None
    metadata: dict[str, str] | None = None
    delete_metadata_keys: list[str] | None = None


@dataclass
class IssueSearch:
    experiment_id: str | None = None
    filter_string: str | None = None
    max_results: int | None = None
    page_token: str | None = None
    include_trace_count: bool = False
    name: str | None = None
    statuses: list[str] | None = None
    severities: list[str] | None = None
    categories: list[str] | None = None
    order_by: list[str] | None = None
    include_total_count: bool = False
    view: str | None = None


def _parse_filter(text: str | None) -> tuple[tuple[str, str, str], ...]:
    if not text:
        return ()
    out = []
    for raw in split_clauses(text):
        key = raw.lhs.text.strip("`")
        if key not in _FILTER_FIELDS:
            raise invalid_parameter(
                f"Invalid filter field '{key}'. Supported fields: {set(_FILTER_FIELDS)}")
        if raw.op not in ("=", "!="):
            raise invalid_parameter(
                f"Invalid comparator '{raw.op}'. Supported comparators: {{'!=', '='}}")
        if raw.rhs is None or raw.rhs.kind != "str":
            raise invalid_parameter(f"Invalid value for '{key}': expected a quoted string")
        out.append((key, raw.op, raw.rhs.text[1:-1]))
    return tuple(out)


def _parse_order_by(order_by: list[str]) -> tuple[tuple[str, bool], ...]:
    out = []
    for order in order_by:
        parts = order.split()
        if not 1 <= len(parts) <= 2 or parts[0] not in _SORT_FIELDS or (
                len(parts) == 2 and parts[1].upper() not in ("ASC", "DESC")):
            raise invalid_parameter(f"Invalid issue order_by: {order!r}")
        out.append((parts[0], len(parts) == 2 and parts[1].upper() == "DESC"))
    return tuple(out)


def _mlflow_offset(token: str) -> int | None:
    """The offset in a token ``mlflow server`` made for a plain search (base64 of
    ``{"offset": n}``), so that a client's paging survives swapping the server."""
    try:
        data = json.loads(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError):
        return None
    offset = data.get("offset") if isinstance(data, dict) and set(data) == {"offset"} else None
    return offset if type(offset) is int and offset >= 0 else None


def _read_token(token: str | None, key: str) -> int:
    try:
        return paging.read_offset(token, key)
    except MlflowError:
        offset = _mlflow_offset(token or "")
        if offset is None:
            raise invalid_parameter(
                "Invalid page token or token does not match the issue query") from None
        return offset


class IssueService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, new: NewIssue) -> Issue:
        check_name(new.name)
        for field, value, allowed in (("status", new.status, STATUSES),
                                      ("severity", new.severity, SEVERITIES)):
            if value is not None:
                check_choice(field, value, allowed)
        last_seen = (None if new.last_seen_timestamp is None
                     else check_timestamp(new.last_seen_timestamp))
        if new.issue_id is not None and not _ISSUE_ID.fullmatch(new.issue_id):
            raise invalid_parameter("issue_id must be iss-* and at most 36 characters")
        if new.created_by is not None:
            check_actor("created_by", new.created_by)
        categories = check_strings("categories", new.categories or [])
        metadata = check_metadata(new.metadata or {})
        experiment_id = parse_experiment_id(new.experiment_id)
        now = _now_ms()
        issue = Issue(
            issue_id=new.issue_id or f"iss-{uuid.uuid4().hex}", experiment_id=experiment_id,
            name=new.name, description=new.description, status=new.status or "pending",
            created_ms=now, updated_ms=now, severity=new.severity,
            root_causes=list(new.root_causes or []), source_run_id=new.source_run_id,
            categories=list(categories), created_by=new.created_by,
            last_seen_ms=now if last_seen is None else last_seen,
            last_updated_by=new.created_by, metadata=dict(metadata),
        )

        def work(conn: Connection) -> Issue:
            state = experiment_store.experiment_state(conn, experiment_id)
            if state is None or state[0] != "active":
                raise not_found(f"No Experiment with id={new.experiment_id} exists")
            if store.exists(conn, issue.issue_id):
                raise already_exists("Issue ID already exists")
            if issue.source_run_id is not None:
                run_experiment = store.run_experiment(conn, issue.source_run_id)
                if run_experiment is None:
                    raise not_found(f"Run with id={issue.source_run_id} not found")
                if run_experiment != experiment_id:
                    raise invalid_parameter("Source run must belong to the Issue experiment")
            store.insert(conn, issue)
            return issue

        return await self.db.write(work)

    async def get(self, issue_id: str) -> Issue:
        found = await self.db.read(lambda conn: store.get(conn, issue_id))
        if found is None:
            raise not_found(f"Issue with ID '{issue_id}' not found")
        return found

    async def update(self, issue_id: str, ch: IssueChanges) -> Issue:
        if ch.name is not None:
            check_name(ch.name)
        for field, value, allowed in (("status", ch.status, STATUSES),
                                      ("severity", ch.severity, SEVERITIES)):
            if value is not None:
                check_choice(field, value, allowed)
        if ch.categories is not None:
            check_strings("categories", ch.categories)
        last_seen = (None if ch.last_seen_timestamp is None
                     else check_timestamp(ch.last_seen_timestamp))
        if ch.metadata is not None:
            check_metadata(ch.metadata)
        if ch.delete_metadata_keys is not None:
            check_strings("delete_metadata_keys", ch.delete_metadata_keys)
        if ch.last_updated_by is not None:
            check_actor("last_updated_by", ch.last_updated_by)
        if set(ch.metadata or {}) & set(ch.delete_metadata_keys or []):
            raise invalid_parameter("Cannot update and delete the same key")

        def work(conn: Connection) -> Issue:
            current = store.get(conn, issue_id, for_update=True)
            if current is None:
                raise not_found(f"Issue with ID '{issue_id}' not found")
            issue = replace(current, name=ch.name if ch.name is not None else current.name,
                            description=ch.description if ch.description is not None
                            else current.description,
                            status=ch.status or current.status,
                            severity=ch.severity or current.severity,
                            last_updated_by=ch.last_updated_by or current.last_updated_by,
                            updated_ms=_now_ms())
            if ch.categories is not None:
                issue.categories = list(dict.fromkeys(ch.categories))
            if last_seen is not None:  # a sighting never moves backwards
                issue.last_seen_ms = max(current.last_seen_ms or current.created_ms, last_seen)
            metadata_text = store.metadata_text(current.metadata or None)
            if ch.metadata is not None or ch.delete_metadata_keys:
                merged = {**current.metadata, **(ch.metadata or {})}
                for key in ch.delete_metadata_keys or []:
                    merged.pop(key, None)
                issue.metadata = check_metadata(merged)
                metadata_text = store.metadata_text(merged, keep_empty=True)
            store.update(conn, issue, categories_changed=ch.categories is not None,
                         metadata_text=metadata_text)
            return issue

        return await self.db.write(work)

    async def search(self, s: IssueSearch) -> tuple[list[Issue], str | None, int | None]:
        """A page of issues, the next page's token and, when asked, the total count."""
        limit = 100 if s.max_results is None else s.max_results
        if isinstance(limit, bool) or limit < 1:
            raise invalid_parameter(f"Invalid value {limit} for parameter 'max_results' "
                                    "supplied. It must be a positive integer")
        if limit > _MAX_RESULTS:
            raise invalid_parameter(f"Invalid value {limit} for parameter 'max_results' "
                                    f"supplied. It must be at most {_MAX_RESULTS}")
        if s.name is not None and len(s.name) > 250:
            raise invalid_parameter("name must be a string of at most 250 characters")
        for field, values in (("statuses", s.statuses), ("severities", s.severities),
                              ("order_by", s.order_by)):
            if values is not None and len(values) > 100:
                raise invalid_parameter(f"{field} must be a list of at most 100 strings")
        if s.categories:
            check_strings("categories", s.categories)
        statuses = tuple(check_choice("status", v, STATUSES) for v in s.statuses or [])
        severities = tuple(check_choice("severity", v, SEVERITIES) for v in s.severities or [])
        if s.view not in (None, "basic", "full"):
            raise invalid_parameter("view must be basic or full")
        query = IssueQuery(
            experiment_id=None if not s.experiment_id else parse_experiment_id(s.experiment_id),
            clauses=_parse_filter(s.filter_string), name=s.name, statuses=statuses,
            severities=severities, categories=tuple(s.categories or ()),
            order_by=_parse_order_by(s.order_by or []),
            include_trace_count=s.include_trace_count)
        key = paging.fingerprint("issues", query, s.include_total_count, s.view)
        offset = _read_token(s.page_token, key)

        def work(conn: Connection) -> tuple[list[Issue], str | None, int | None]:
            total = store.count(conn, query) if s.include_total_count else None
            rows = store.search(conn, query, offset, limit + 1)
            token = paging.offset_token(key, offset + limit) if len(rows) > limit else None
            return rows[:limit], token, total

        return await self.db.read(work)
