"""``order_by`` of the searches, parsed as MLflow parses it, plus MLflow's tie-breakers.

    >>> parse_order_by("runs", ["metrics.acc DESC", "start_time"])
    (OrderKey(entity='metric', key='acc', ascending=False, ...),
     OrderKey(entity='attribute', key='start_time', ascending=True, ...))

An entry is one identifier, optionally followed by ASC or DESC, with nothing around it (MLflow
refuses ``" metrics.acc"``). With a direction MLflow unquotes the identifier shell-style,
without one it keeps the text as written; both are reproduced. Logged-model searches take
structured entries instead (:func:`parse_logged_model_order_by`).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from trackd.errors import invalid_parameter
from trackd.service.filter_syntax import read_identifier, tokenize
from trackd.service.filters import RULES, Rules, identify


@dataclass(frozen=True, slots=True)
class OrderKey:
    entity: str  # attribute, metric, param, tag
    key: str  # canonical: `created` is start_time, `timestamp` is last_updated_timestamp
    ascending: bool = True
    dataset_name: str | None = None  # logged-model metrics only
    dataset_digest: str | None = None


def _order_rules(kind: str, attrs: set[str], aliases: dict[str, str] | None = None) -> Rules:
    # Model versions parse their order_by with the experiments' identifier rules.
    base = RULES["experiments" if kind == "model_versions" else kind]
    return replace(
        base,
        string_attrs=frozenset(attrs),
        numeric_attrs=frozenset(),
        attr_aliases=aliases or {},
        check_key_before_unquoting=False,
    )


_RUN_ATTRS = {"run_id", "run_name", "status", "user_id", "artifact_uri", "start_time", "end_time"}
_ORDER_RULES: dict[str, Rules] = {
    "runs": _order_rules("runs", _RUN_ATTRS, {"created": "start_time", "Created": "start_time"}),
    "experiments": _order_rules(
        "experiments", {"name", "experiment_id", "creation_time", "last_update_time"}
    ),
    "model_versions": _order_rules(
        "model_versions",
        {"name", "version_number", "creation_timestamp", "last_updated_timestamp"},
    ),
}
# Entities each search can sort by; the others parse but the SQL store refuses them.
_SORTABLE = {
    "runs": ("attribute", "metric", "param", "tag"),
    "experiments": ("attribute",),
    "model_versions": ("attribute",),
}
# Registered models take bare keys; `timestamp` means the last update, as in MLflow's SQL store.
_REGISTERED_MODEL_KEYS = {
    "name": "name",
    "timestamp": "last_updated_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
    "creation_timestamp": "creation_timestamp",
}
_LOGGED_MODEL_ATTRS = {
    "name", "model_id", "model_type", "status", "source_run_id",
    "creation_timestamp", "last_updated_timestamp",
}  # fmt: skip
_LOGGED_MODEL_ALIASES = {
    "creation_time": "creation_timestamp",
    "last_updated_time": "last_updated_timestamp",
}


def _unparsable(text: str) -> Exception:
    return invalid_parameter(f"Invalid order_by clause '{text}'. Could not be parsed.")


def split_entry(text: str) -> tuple[str, bool]:
    """(identifier text, ascending) of one entry, as MLflow reads it."""
    tokens = tokenize(text)
    if not tokens or tokens[0][0] not in ("name", "sym"):
        raise _unparsable(text)
    ident, i = read_identifier(tokens, 0)
    if i == len(tokens):
        return ident, True
    rest = tokens[i:]
    if rest[0][0] != "ws" or len(rest) != 2 or rest[1][0] not in ("kw", "name"):
        raise _unparsable(text)
    word = rest[1][1]
    if word.upper() not in ("ASC", "DESC"):
        if rest[1][0] == "kw":
            raise _unparsable(text)
        raise invalid_parameter(f"Invalid ordering key in order_by clause '{text}'.")
    try:
        # With a direction MLflow shell-splits the entry, backticks counting as quotes.
        parts = shlex.split(f"{ident} {word}".replace("`", '"'))
    except ValueError:
        raise _unparsable(text) from None
    if len(parts) != 2:
        raise _unparsable(text)
    return parts[0], word.upper() == "ASC"


# Each sort key on a metric, param or tag is one more join: MySQL refuses a statement joining
# more than 61 tables, and PostgreSQL plans hundreds of joins for seconds. No client sorts by
# more than a handful of keys; MLflow has no limit of its own. Documented in docs/api.md.
MAX_ORDER_BY_KEYS = 20


def check_key_count(order_by: Sequence[Any]) -> None:
    if len(order_by) > MAX_ORDER_BY_KEYS:
        raise invalid_parameter(
            f"Invalid value for parameter 'order_by': {len(order_by)} keys given, at most "
            f"{MAX_ORDER_BY_KEYS} are allowed"
        )


def _duplicates(order_by: Sequence[str]) -> Exception:
    return invalid_parameter(f"`order_by` contains duplicate fields: {list(order_by)}")


@lru_cache(maxsize=256)
def _parse(kind: str, order_by: tuple[str, ...]) -> tuple[OrderKey, ...]:
    keys: list[OrderKey] = []
    for entry in order_by:
        ident, ascending = split_entry(entry)
        ident = ident.strip()
        if kind == "registered_models":
            if ident not in _REGISTERED_MODEL_KEYS:
                raise invalid_parameter(
                    f"Invalid order by key '{ident}' specified. Valid keys are "
                    "'{'name', 'timestamp'}'"
                )
            entity, key = "attribute", _REGISTERED_MODEL_KEYS[ident]
        else:
            entity, key = identify(_ORDER_RULES[kind], ident)
            if entity not in _SORTABLE[kind]:
                if kind == "runs":
                    raise invalid_parameter(f"Invalid identifier type '{entity}'")
                raise invalid_parameter(f"Invalid order_by entity: {entity}")
        if kind != "experiments" and any((k.entity, k.key) == (entity, key) for k in keys):
            raise _duplicates(order_by)
        keys.append(OrderKey(entity, key, ascending))
    return tuple(keys)


def parse_order_by(kind: str, order_by: Sequence[str] | None) -> tuple[OrderKey, ...]:
    """The ``order_by`` strings of a runs, experiments, registered-models or model-versions
    search, without tie-breakers (see :func:`with_tiebreakers`)."""
    if kind not in ("runs", "experiments", "registered_models", "model_versions"):
        raise ValueError(f"no string order_by for {kind!r}")
    entries = tuple(order_by or ())
    check_key_count(entries)
    if not all(isinstance(e, str) for e in entries):
        raise invalid_parameter(f"Invalid value {list(entries)!r} for parameter 'order_by'")
    return _parse(kind, entries)


def parse_logged_model_order_by(order_by: Sequence[Any] | None) -> tuple[OrderKey, ...]:
    """Structured logged-model ordering: ``[{field_name, ascending, dataset_name,
    dataset_digest}]`` where ``field_name`` is an attribute or ``metrics.<key>``."""
    check_key_count(list(order_by or ()))
    keys = []
    for entry in order_by or ():
        if not isinstance(entry, Mapping):
            raise invalid_parameter("`order_by` must be a list of dictionaries.")
        field_name = entry.get("field_name")
        if not isinstance(field_name, str):
            raise invalid_parameter("`field_name` in the `order_by` clause must be specified.")
        if "." in field_name:
            entity, key = field_name.split(".", 1)
            if entity != "metrics":
                raise invalid_parameter(
                    f"Invalid order by field name: {entity}, only `metrics.<name>` is allowed."
                )
            entity = "metric"
        else:
            key = _LOGGED_MODEL_ALIASES.get(field_name.strip(), field_name.strip())
            if key not in _LOGGED_MODEL_ATTRS:
                raise invalid_parameter(f"Invalid order by field name: {field_name}.")
            entity = "attribute"
        ascending = entry.get("ascending", True)
        if ascending not in (True, False):
            raise invalid_parameter(
                "Value of `ascending` in the `order_by` clause must be a boolean, got "
                f"{type(ascending)} for field {field_name}."
            )
        name, digest = entry.get("dataset_name") or None, entry.get("dataset_digest") or None
        if digest and not name:
            raise invalid_parameter(
                "`dataset_digest` can only be specified if `dataset_name` is also specified."
            )
        keys.append(OrderKey(entity, key, bool(ascending), name, digest))
    return tuple(keys)


def with_tiebreakers(kind: str, keys: Sequence[OrderKey]) -> tuple[OrderKey, ...]:
    """``keys`` plus the orderings MLflow's SQL stores append, so that the order is total:
    runs ``start_time DESC, run_id``; experiments ``creation_time DESC, experiment_id`` when
    nothing is asked, else ``experiment_id DESC``; registered models ``name``; model versions
    ``name, version_number DESC``; logged models ``creation_timestamp DESC, model_id``."""
    extra = {
        "runs": [("start_time", False), ("run_id", True)],
        "experiments": [("experiment_id", False)]
        if keys
        else [("creation_time", False), ("experiment_id", True)],
        "registered_models": [("name", True)],
        "model_versions": [("name", True), ("version_number", False)],
        "logged_models": [("creation_timestamp", False), ("model_id", True)],
    }[kind]
    present = {k.key for k in keys if k.entity == "attribute"}
    out = list(keys)
    for key, ascending in extra:
        # MLflow always adds run_id last for runs, even when the caller sorted by it.
        if key not in present or (kind == "runs" and key == "run_id"):
            out.append(OrderKey("attribute", key, ascending))
    return tuple(out)
