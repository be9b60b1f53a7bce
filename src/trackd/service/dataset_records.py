"""Records of evaluation datasets: MLflow 3.18's upsert ("merge_records"), paging and deletion.

A record is identified within its dataset by its ``inputs``: SHA-256 of ``json.dumps(inputs,
sort_keys=True)``. Sending inputs that are already there merges instead of adding: outputs are
replaced when the record names them, expectations and tags are merged key by key, the
``mlflow.user`` tag becomes ``last_updated_by``; the source and creation fields stay. After each
upsert the dataset's schema (field -> inferred type, first seen wins), profile
(``{"num_records": n}``), digest and ``last_update_time`` are renewed, and ``last_updated_by``
becomes the last ``mlflow.user`` tag among the records (None when they carry none), as MLflow
does. What MLflow answers with a 500 (records that are not a JSON list of objects, inputs that
are not an object, a source of the wrong shape) is a 400 here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from typing import Any

from sqlalchemy import Connection

from trackd.entities.datasets import (
    SOURCE_TYPES,
    USER_TAG,
    WRAPPED_OUTPUT_KEY,
    DatasetRecord,
)
from trackd.errors import invalid_parameter, not_found
from trackd.service.clock import now_ms
from trackd.service.datasets import digest
from trackd.store import dataset_records as store
from trackd.store import datasets as dataset_store
from trackd.store.database import Database

DEFAULT_PAGE = 1000  # records per GET when the request does not say (MLflow's default)
# MLflow has no upper bound (a huge one overflows its LIMIT); trackd takes the searches' limit.
MAX_PAGE = 50000
_INT64 = 2**63 - 1
MAX_SOURCE_ID = 36  # evaluation_dataset_records.source_id


def input_hash(inputs: Any) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _type_name(value: Any) -> str:
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "float"), (str, "string"),
                       (list, "array"), (dict, "object")):
        if isinstance(value, kind):
            return name
    return "null" if value is None else "unknown"


def updated_schema(existing: str | None, records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The dataset schema with the fields of ``records`` added (known fields keep their type)."""
    if not records and not existing:
        return None
    schema: dict[str, Any] = json.loads(existing) if existing else {
        "inputs": {}, "outputs": {}, "expectations": {}, "version": "1.0"}
    for record in records:
        for part in ("inputs", "expectations"):
            for key, value in (record.get(part) or {}).items():
                schema[part].setdefault(key, _type_name(value))
        outputs = record.get("outputs")
        if isinstance(outputs, dict) and isinstance(schema["outputs"], dict):
            for key, value in outputs.items():
                schema["outputs"].setdefault(key, _type_name(value))
        elif outputs is not None and not isinstance(outputs, dict) and not schema["outputs"]:
            schema["outputs"] = _type_name(outputs)
    return schema


def _object(record: dict[str, Any], name: str, index: int) -> dict[str, Any] | None:
    value = record.get(name)
    if value is not None and not isinstance(value, dict):
        raise invalid_parameter(f"Invalid record at index {index}: '{name}' must be a JSON "
                                "object")
    return value


def _source(record: dict[str, Any], index: int) -> dict[str, Any] | None:
    source = _object(record, "source", index)
    if not source:
        return None
    kind = source.get("source_type")
    if set(source) - {"source_type", "source_data"} or not isinstance(kind, str):
        raise invalid_parameter(f"Invalid record at index {index}: 'source' must be "
                                "{source_type, source_data}")
    if kind.upper() not in SOURCE_TYPES:
        raise invalid_parameter(f"Invalid dataset record source type: {kind.upper()}. Valid "
                                f"source types: {list(SOURCE_TYPES)}")
    data = source.get("source_data") or {}
    if not isinstance(data, dict):
        raise invalid_parameter(f"Invalid record at index {index}: 'source.source_data' must "
                                "be a JSON object")
    return {"source_type": kind.upper(), "source_data": data}


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_records(raw: Any) -> list[dict[str, Any]]:
    """The ``records`` field: a JSON list of record objects, as text."""
    if raw is None or raw == "":
        raise invalid_parameter("Missing value for required parameter 'records'. See the API "
                                "docs for more information about request parameters.")
    if not isinstance(raw, str):
        raise invalid_parameter("Invalid value for parameter 'records': expected a JSON list "
                                "encoded as a string")
    try:
        # NaN and Infinity are not JSON: PostgreSQL's JSON columns refuse them.
        records = json.loads(raw, parse_constant=_no_constant)
    except ValueError:
        raise invalid_parameter("Invalid value for parameter 'records': not valid JSON") from None
    if not isinstance(records, list):
        raise invalid_parameter("Invalid value for parameter 'records': expected a JSON list "
                                "of record objects")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise invalid_parameter(f"Invalid record at index {index}: expected a JSON object")
        if "inputs" in record and not isinstance(record["inputs"], dict):
            raise invalid_parameter(f"Invalid record at index {index}: 'inputs' must be a JSON "
                                    "object")
        for name in ("expectations", "tags"):
            _object(record, name, index)
    return records


def _new_row(dataset_id: str, record: dict[str, Any], index: int, digest_of_inputs: str,
             now: int) -> dict[str, Any]:
    tags = record.get("tags") or {}
    source = _source(record, index)
    source_id = None
    if source is not None:
        data = source["source_data"]
        found = data.get("trace_id" if source["source_type"] == "TRACE" else "source_id")
        source_id = None if found is None else str(found)
        if source_id is not None and len(source_id) > MAX_SOURCE_ID:
            raise invalid_parameter(f"Invalid record at index {index}: the source id may be at "
                                    f"most {MAX_SOURCE_ID} characters")
    outputs = record.get("outputs", {})
    return {
        "dataset_record_id": f"dr-{uuid.uuid4().hex}", "dataset_id": dataset_id,
        "inputs": record.get("inputs", {}),
        "outputs": None if outputs is None else {WRAPPED_OUTPUT_KEY: outputs},
        "expectations": record.get("expectations"), "tags": tags, "source": source,
        "source_id": source_id, "source_type": source["source_type"] if source else None,
        "created_time": now, "last_update_time": now, "created_by": tags.get(USER_TAG),
        "last_updated_by": tags.get(USER_TAG), "input_hash": digest_of_inputs,
    }


def _merge(row: dict[str, Any], record: dict[str, Any], now: int) -> None:
    if "outputs" in record:
        outputs = record["outputs"]
        row["outputs"] = None if outputs is None else {WRAPPED_OUTPUT_KEY: outputs}
    for name in ("expectations", "tags"):
        if record.get(name):
            row[name] = {**(row[name] or {}), **record[name]}
    row["last_update_time"] = now
    if USER_TAG in (record.get("tags") or {}):
        row["last_updated_by"] = record["tags"][USER_TAG]


_MERGED = ("outputs", "expectations", "tags", "last_update_time", "last_updated_by")


def upsert(conn: Connection, dataset_id: str, records: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert or merge ``records``; (inserted, updated) as MLflow counts them."""
    name = dataset_store.name_of(conn, dataset_id)
    if name is None:
        raise not_found(f"Evaluation dataset with id '{dataset_id}' not found")
    now = now_ms()
    hashes = [input_hash(r.get("inputs", {})) for r in records]
    existing = {h: dict(r._mapping) for h, r in store.by_hash(conn, dataset_id, hashes).items()}
    new: dict[str, dict[str, Any]] = {}
    changed: set[str] = set()
    updated_by = None
    for index, (record, key) in enumerate(zip(records, hashes, strict=True)):
        if USER_TAG in (record.get("tags") or {}):
            updated_by = record["tags"][USER_TAG]
        row = new.get(key) or existing.get(key)
        if row is None:
            new[key] = _new_row(dataset_id, record, index, key, now)
            continue
        _merge(row, record, now)
        if key in existing:
            changed.add(key)
    store.insert_rows(conn, list(new.values()))
    for key in changed:
        row = existing[key]
        store.update_row(conn, row["dataset_record_id"], {k: row[k] for k in _MERGED})
    values: dict[str, Any] = {"last_update_time": now, "last_updated_by": updated_by,
                              "digest": digest(name, now)}
    schema = updated_schema(dataset_store.schema_of(conn, dataset_id), records)
    if schema:
        values["schema"] = json.dumps(schema)
    total = store.count(conn, dataset_id)
    if total:
        values["profile"] = json.dumps({"num_records": total})
    dataset_store.update_dataset(conn, dataset_id, **values)
    return len(new), len(records) - len(new)


def _cursor(token: str) -> tuple[tuple[int, str] | None, int]:
    """MLflow's record page token: base64 of ``<created_time>:<record id>``, or an offset."""
    try:
        created, record_id = base64.b64decode(token.encode(), validate=True).decode().split(
            ":", 1)
        if abs(int(created)) <= _INT64:
            return (int(created), record_id), 0
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    if token.isdigit() and int(token) <= _INT64:
        return None, int(token)
    raise invalid_parameter(f"Invalid page token '{token}'")


class DatasetRecordService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def upsert(self, dataset_id: str, raw: Any) -> tuple[int, int]:
        records = parse_records(raw)
        return await self.db.write(lambda conn: upsert(conn, dataset_id, records))

    async def page(self, dataset_id: str, max_results: int | None, page_token: str | None
                   ) -> tuple[list[DatasetRecord], str | None]:
        if max_results is not None and max_results < 0:
            raise invalid_parameter(f"Invalid value {max_results} for parameter 'max_results' "
                                    "supplied. It must be a positive integer")
        if max_results is not None and max_results > MAX_PAGE:
            raise invalid_parameter(f"Invalid value {max_results} for parameter 'max_results' "
                                    f"supplied. It must be at most {MAX_PAGE}")
        limit = max_results or DEFAULT_PAGE
        after, offset = _cursor(page_token) if page_token else (None, 0)
        found = await self.db.read(
            lambda conn: store.page(conn, dataset_id, after, offset, limit + 1))
        if len(found) <= limit:
            return found, None
        last = found[limit - 1]
        token = base64.b64encode(f"{last.created_time}:{last.dataset_record_id}".encode())
        return found[:limit], token.decode()

    async def delete(self, dataset_id: str, record_ids: list[str]) -> int:
        def work(conn: Connection) -> int:
            deleted = store.delete_ids(conn, dataset_id, record_ids)
            if deleted:
                dataset = dataset_store.get(conn, dataset_id)
                profile = json.loads(dataset.profile or "null") if dataset else None
                left = max(0, (profile or {}).get("num_records", 0) - deleted)
                dataset_store.update_dataset(
                    conn, dataset_id,
                    profile=json.dumps({"num_records": left} if left > 0 else None))
            return deleted

        return await self.db.write(work)
