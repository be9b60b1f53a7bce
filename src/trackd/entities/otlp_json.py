"""OTLP/JSON export bodies into protobuf messages, faster than protobuf's own ``ParseDict``.

``ParseDict`` walks a message's fields in pure Python with error bookkeeping at every step:
~50 µs per span of a typical export, five times the rest of the span's decoding. An OTLP
export uses a handful of message types with plain fields, so this module fills the message
from the parsed JSON with tables made once per message type, doing for each field exactly what
``ParseDict(..., ignore_unknown_fields=True)`` does for it (the same names accepted, the same
conversions, ``SetInParent`` on sub-messages).

It does so only for JSON about which there can be no doubt: a value of an unexpected type,
a ``null``, a field given under both its JSON and its proto name, two members of one oneof, an
enum or number written as a string other than plain digits or a known name, a non-finite
double, a string holding a surrogate, anything nested deeper than a few levels. On any of those
``fill`` answers False and the caller parses the body again with ``ParseDict``, which then
accepts it or raises its own error, as before. So a body gives the same message either way
(tests/service/test_otlp_json.py compares them).
"""

from __future__ import annotations

import base64
import re
import threading
from typing import Any

# Field kinds.
_INT, _FLOAT, _BOOL, _STR, _BYTES, _ENUM, _MESSAGE, _REPEATED = range(8)
_MAX_DEPTH = 24  # ParseDict allows 100 levels; deeper bodies take its path
_SURROGATE = re.compile("[\ud800-\udfff]")

# A message type's fields by every name ParseDict accepts for them (JSON name, proto name):
# (proto name, kind, the field's other name or None, sub-table or enum names, oneof name).
_Entry = tuple[str, int, str | None, Any, str | None]
_tables: dict[str, dict[str, _Entry]] = {}


_tables_lock = threading.Lock()


def fill(data: Any, message: Any) -> bool:
    """Fill the empty ``message`` from ``data`` (parsed JSON) as ParseDict would; False when the
    body must go to ParseDict instead (``message`` is then half-filled: discard it)."""
    table = _tables.get(message.DESCRIPTOR.full_name)
    if table is None:
        with _tables_lock:
            # Built aside and published whole: a table half made would drop fields.
            building: dict[str, dict[str, _Entry]] = {}
            table = _table(message.DESCRIPTOR, building)
            _tables.update(building)
    return _fill(data, message, table, 0)


def _table(descriptor: Any, building: dict[str, dict[str, _Entry]]) -> dict[str, _Entry]:
    found = _tables.get(descriptor.full_name) or building.get(descriptor.full_name)
    if found is not None:
        return found
    from google.protobuf.descriptor import FieldDescriptor as F

    table: dict[str, _Entry] = {}
    building[descriptor.full_name] = table  # before recursing: message types may nest
    for field in descriptor.fields:
        sub: Any = None
        if field.type == F.TYPE_MESSAGE:
            kind = _REPEATED if _is_repeated(field) else _MESSAGE
            sub = _table(field.message_type, building)
            if field.message_type.GetOptions().map_entry:
                kind = -1  # maps: never in an OTLP export; ParseDict's
        elif _is_repeated(field):
            kind = -1  # repeated scalars: likewise
        elif field.type in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
            kind = _FLOAT if field.type == F.TYPE_DOUBLE else -1
        elif field.type == F.TYPE_BOOL:
            kind = _BOOL
        elif field.type == F.TYPE_STRING:
            kind = _STR
        elif field.type == F.TYPE_BYTES:
            kind = _BYTES
        elif field.type == F.TYPE_ENUM:
            kind = _ENUM
            sub = {value.name: value.number for value in field.enum_type.values}
        elif field.type == F.TYPE_GROUP:
            kind = -1
        else:
            kind = _INT
        oneof = field.containing_oneof.name if field.containing_oneof is not None else None
        names = {field.json_name, field.name}
        for name in names:
            other = next(iter(names - {name}), None)
            table[name] = (field.name, kind, other, sub, oneof)
    return table


def _is_repeated(field: Any) -> bool:
    # FieldDescriptor.label is deprecated in newer protobuf releases.
    flag = getattr(field, "is_repeated", None)
    if flag is not None:
        return bool(flag)
    return bool(field.label == field.LABEL_REPEATED)


def _fill(data: Any, message: Any, table: dict[str, _Entry], depth: int) -> bool:
    if type(data) is not dict or depth > _MAX_DEPTH:
        return False
    oneof_seen: str | None = None
    for key, value in data.items():
        entry = table.get(key)
        if entry is None:
            if key.startswith("["):  # ParseDict reads "[...]" as an extension: its error
                return False
            continue  # an unknown field: ignored, as ParseDict is told to
        name, kind, other, sub, oneof = entry
        if value is None or (other is not None and other in data):
            return False
        if oneof is not None:
            if oneof_seen == oneof:
                return False
            oneof_seen = oneof
        if kind == _REPEATED:
            if type(value) is not list:
                return False
            container = getattr(message, name)
            for item in value:
                if not _fill(item, container.add(), sub, depth + 1):
                    return False
        elif kind == _MESSAGE:
            child = getattr(message, name)
            child.SetInParent()
            if not _fill(value, child, sub, depth + 1):
                return False
        else:
            converted = _scalar(kind, value, sub)
            if converted is _DOUBT:
                return False
            try:
                setattr(message, name, converted)
            except (ValueError, TypeError):  # out of range: ParseDict's error
                return False
    return True


_DOUBT: Any = object()


def _scalar(kind: int, value: Any, enum_names: Any) -> Any:
    """``value`` converted as ParseDict converts it for a field of ``kind``, or _DOUBT."""
    kind_of_value = type(value)
    if kind == _STR:
        if kind_of_value is str and (value.isascii() or not _SURROGATE.search(value)):
            return value
        return _DOUBT
    if kind == _INT:
        if kind_of_value is int:
            return value
        if kind_of_value is str and value.isascii() and value.isdigit():
            return int(value)
        return _DOUBT
    if kind == _BYTES:
        if kind_of_value is not str:
            return _DOUBT
        try:  # ParseDict's very conversion
            encoded = value.encode("utf-8")
            return base64.urlsafe_b64decode(encoded + b"=" * (4 - len(encoded) % 4))
        except ValueError:
            return _DOUBT
    if kind == _ENUM:
        if kind_of_value is str:
            number = enum_names.get(value)
            return _DOUBT if number is None else number
        return value if kind_of_value is int else _DOUBT
    if kind == _BOOL:
        return value if kind_of_value is bool else _DOUBT
    if kind == _FLOAT:
        if kind_of_value is float:
            return value if value - value == 0 else _DOUBT  # NaN and infinities: doubt
        if kind_of_value is int and -(2**53) <= value <= 2**53:
            return float(value)
        return _DOUBT
    return _DOUBT
