"""Page sizes and page tokens of the searches.

A token is base64 of a small JSON object; clients treat it as opaque and send it back
unchanged with the same query. Every token carries a fingerprint of the query it belongs to
(``"q"``), so a token replayed against another filter, ordering or experiment list is refused
instead of silently skipping rows. What else it holds is up to the search: runs keep the sort
key of the last row of the page (``"after"``), so that page 500 costs what page 1 costs;
smaller searches keep an ``"offset"``.

    >>> token = encode_token({"q": "3f2a...", "offset": 100})
    >>> decode_token(token, "3f2a...")["offset"]
    100
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from trackd.errors import invalid_parameter

# search kind -> (default when the request has none, largest allowed); None: no default, the
# request must say (experiments), or no upper bound (logged models). From MLflow 3.18's
# protos, handlers and stores.
MAX_RESULTS: dict[str, tuple[int | None, int | None]] = {
    "runs": (1000, 50000),
    "experiments": (None, 50000),
    "registered_models": (100, 1000),
    "model_versions": (10000, 200000),
    "logged_models": (100, None),
    "traces": (100, 50000),
    "datasets": (50, None),
    "evaluation_datasets": (1000, 50000),
}


def check_max_results(kind: str, value: int | None) -> int:
    """The page size to use for ``value`` (None when the request did not set it)."""
    default, maximum = MAX_RESULTS[kind]
    if value is None:
        value = default
    if value is None or isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid_parameter(
            f"Invalid value {value} for parameter 'max_results' supplied. It must be a "
            "positive integer"
        )
    if maximum is not None and value > maximum:
        raise invalid_parameter(
            f"Invalid value {value} for parameter 'max_results' supplied. It must be at most "
            f"{maximum}"
        )
    return value


def fingerprint(*parts: Any) -> str:
    """A short digest of the query a token belongs to; ``parts`` must be JSON-serialisable
    (dataclasses and tuples are fine through ``repr``)."""
    data = json.dumps(parts, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.blake2b(data.encode(), digest_size=9).hexdigest()


def encode_token(payload: dict[str, Any]) -> str:
    data = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_token(token: str, query: str) -> dict[str, Any]:
    """The payload of ``token``; INVALID_PARAMETER_VALUE when it is not one of ours or was
    made for a different query (``query`` is the :func:`fingerprint` of this one)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise invalid_parameter(f"Invalid page token '{token}': it could not be decoded.") from None
    if not isinstance(payload, dict) or "q" not in payload:
        raise invalid_parameter(f"Invalid page token '{token}'.")
    if payload["q"] != query:
        raise invalid_parameter(
            "Invalid page token: it belongs to a different search (experiment ids, filter, "
            "order_by or view type changed between pages)."
        )
    return payload


def read_offset(token: str | None, query: str) -> int:
    """The offset stored in an offset token; 0 for the first page."""
    if not token:
        return 0
    offset = decode_token(token, query).get("offset")
    # A token is ours, but its JSON can be edited: an offset no database takes is refused here.
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < 2**62:
        raise invalid_parameter(f"Invalid page token '{token}'.")
    return offset


def offset_token(query: str, offset: int) -> str:
    return encode_token({"q": query, "offset": offset})
