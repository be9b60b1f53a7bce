"""MLflow's input rules: names, lengths, ids. Shared by every resource's service.

The numbers and rules are MLflow 3.18's (mlflow-api.md §5): clients other than the Python one
(the UI, curl, other SDKs) skip the client-side checks, so the server enforces them.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from trackd.errors import invalid_parameter, missing_parameter

MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
# MLflow checks 500, but its experiments.name column is VARCHAR(256): PostgreSQL and MySQL
# refuse anything longer (MLflow answers them a 500), SQLite would keep a name no other backend
# can hold. The column decides, the same way on every database.
MAX_EXPERIMENT_NAME_LENGTH = 256
MAX_ARTIFACT_LOCATION_LENGTH = 256  # experiments.artifact_location
MAX_RUN_NAME_LENGTH = 250  # runs.name (also what an mlflow.runName tag sets)
MAX_USER_ID_LENGTH = 256  # runs.user_id
MAX_RUN_ARTIFACT_URI_LENGTH = 200  # runs.artifact_uri: experiment location + /<run id>/artifacts
MAX_RUN_ID_LENGTH = 32  # every run_uuid / run_id column
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 20000
MAX_REGISTRY_TAG_KEY_LENGTH = 250
MAX_REGISTRY_TAG_VALUE_LENGTH = 100000
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_BATCH_REQUEST_BYTES = 1_000_000
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1

_NAME_CHARACTERS = re.compile(r"[/\w.\- :]*")
_RUN_ID = re.compile(r"[a-zA-Z0-9][\w\-]{0,255}")
_DECIMAL = re.compile(r"-?[0-9]+")

_BAD_CHARACTERS = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
    "spaces ( ), colon(:) and slashes (/)."
)


def _invalid_value(path: str, value: object, detail: str = "") -> str:
    message = f"Invalid value {value!r} for parameter '{path}' supplied."
    return f"{message} {detail}".rstrip()


def check_key(key: object, path: str = "key", *, what: str = "key") -> str:
    """A param, metric or tag name: MLflow's characters, and path-normal (no '..', '//')."""
    if key is None or key == "":
        raise invalid_parameter(
            f"Missing value for required parameter '{path}'. A {what} name must be provided."
        )
    if not isinstance(key, str):
        raise invalid_parameter(_invalid_value(path, key, "Expected a string."))
    if not _NAME_CHARACTERS.fullmatch(key):
        raise invalid_parameter(_invalid_value(path, key, _BAD_CHARACTERS))
    normal = posixpath.normpath(key)
    if normal != key or normal == "." or normal.startswith(("..", "/")):
        raise invalid_parameter(
            _invalid_value(
                path,
                key,
                "Names may be treated as files in certain cases, and must not resolve to other "
                f"names when treated as such. This name would resolve to {normal!r}",
            )
        )
    return key


def check_length(what: str, limit: int, value: str | None, *, truncate: bool = False) -> str | None:
    """Over-long values are cut when MLflow cuts them (param and run-tag values), else refused."""
    if value is None or len(value) <= limit:
        return value
    if truncate:
        return value[:limit]
    raise invalid_parameter(f"'{what}' exceeds the maximum length of {limit} characters")


def check_run_id(run_id: str, path: str = "run_id") -> str:
    if not _RUN_ID.fullmatch(run_id):
        raise invalid_parameter(_invalid_value(path, run_id))
    return run_id


def parse_experiment_id(experiment_id: object) -> int:
    """Experiment ids are decimal integers in MLflow's SQL store.

    The column is a 32-bit INTEGER (SQLite's is wider, but MLflow's ids are sequential): a
    number outside that range names no experiment, and handed to the database it would raise
    an overflow error instead of an answer.
    """
    parsed: int | None = None
    if isinstance(experiment_id, int) and not isinstance(experiment_id, bool):
        parsed = experiment_id
    elif isinstance(experiment_id, str):
        text = experiment_id.strip()
        if _DECIMAL.fullmatch(text):  # not str.isdigit(): it admits '²', which int() refuses
            parsed = int(text)
    if parsed is None or not _INT32_MIN <= parsed <= _INT32_MAX:
        raise invalid_parameter(
            f"Invalid experiment ID '{experiment_id}'. Experiment ID must be a valid integer."
        )
    return parsed


def check_experiment_name(name: object) -> str:
    if name is None or (isinstance(name, str) and not name.strip()):
        raise invalid_parameter(f"Invalid experiment name: '{name or ''}'")
    if not isinstance(name, str):
        raise invalid_parameter(f"Invalid experiment name: {name}. Expects a string.")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise invalid_parameter(
            f"'name' exceeds the maximum length of {MAX_EXPERIMENT_NAME_LENGTH} characters"
        )
    return name


def check_tag_value(value: object, path: str = "value") -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_parameter(_invalid_value(path, value, "Expected a string."))
    return value


def check_batch_limit(what: str, limit: int, count: int) -> None:
    if count > limit:
        raise invalid_parameter(
            f"A batch logging request can contain at most {limit} {what}. Got {count} {what}. "
            f"Please split up {what} across multiple requests and try again."
        )


def parse_double(name: str, value: Any, *, required: bool = False) -> float | None:
    """A double as protobuf JSON allows it: a number, a numeric string, NaN/Infinity strings."""
    if value is None or value == "":
        if required:
            raise missing_parameter(name)
        return None
    if isinstance(value, bool):
        raise _not_a_number(name, value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise _not_a_number(name, value)


def _not_a_number(name: str, value: Any) -> Exception:
    return invalid_parameter(
        f"Invalid value {value!r} for parameter '{name}' supplied: expected a number."
    )


def optional_string(obj: Mapping[str, Any], name: str, where: str | None = None) -> str | None:
    """An optional string field of a nested object (absent or empty is None); ``where`` names
    the object in the error, as MLflow's logged-model search words it."""
    value = obj.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        if where is not None:
            raise invalid_parameter(f"`{name}` in `{where}` must be a string.")
        raise invalid_parameter(f"Invalid value for '{name}': expected a string")
    return value
