"""Reading a request's fields as the handlers will: names, aliases, repeated parameters."""

from __future__ import annotations

from typing import Any

from trackd.errors import missing_parameter


def value(fields: dict[str, Any], name: str, *, as_list: bool = False) -> Any:
    """A field by its snake_case name, its camelCase alias (JSON bodies) or run_id's legacy
    ``run_uuid``; a repeated query parameter gives its last value, as handlers read it."""
    camel = name.split("_")[0] + "".join(p.capitalize() for p in name.split("_")[1:])
    for key in (name, camel, "run_uuid" if name == "run_id" else None):
        if key is not None and fields.get(key) not in (None, ""):
            found = fields[key]
            if as_list:
                return found if isinstance(found, list) else [found]
            if isinstance(found, list):
                return found[-1] if found else None
            return found
    return None


def required(fields: dict[str, Any], name: str) -> str:
    found = value(fields, name)
    if found is None or isinstance(found, dict | list):
        raise missing_parameter(name)
    return str(found)
