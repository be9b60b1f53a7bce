"""What MLflow 3.18 accepts for a review queue, item and status, and how it normalises them:
user ids are trimmed and lower-cased (they are matched against assessment sources), custom queue
names trimmed but kept in their case, ids trimmed; lists are de-duplicated in order."""

from __future__ import annotations

from typing import Any

from trackd.entities.review_queues import (
    ITEM_ID_MAX,
    MAX_USERS,
    NAME_MAX,
    RESERVED_NAME,
    SCHEMA_ID_MAX,
)
from trackd.errors import invalid_parameter


def _enum(value: Any, names: tuple[str, ...]) -> str | None:
    """A protobuf enum by name or number (1-based); anything else reads as unset, as the
    protobuf JSON parser leaves an unknown value."""
    if isinstance(value, str) and value in (n.upper() for n in names):
        return value.lower()
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(names):
        return names[value - 1]
    return None


def queue_type(value: Any) -> str:
    found = _enum(value, ("user", "custom"))
    if found is None:
        raise invalid_parameter(
            "`queue_type` must be one of USER or CUSTOM; got proto enum value 0.")
    return found


def status(value: Any) -> str:
    found = _enum(value, ("pending", "complete", "declined"))
    if found is None:
        raise invalid_parameter("`status` must be one of PENDING, COMPLETE, or DECLINED; "
                                "got proto enum value 0.")
    return found


def optional_status(value: Any) -> str | None:
    return _enum(value, ("pending", "complete", "declined"))


def _non_empty(value: str, field: str, limit: int) -> str:
    if not value:
        raise invalid_parameter(f"`{field}` must be a non-empty string; got {value!r}.")
    if len(value) > limit:
        raise invalid_parameter(f"`{field}` must be at most {limit} characters; got {len(value)}.")
    return value


def user(value: str) -> str:
    return value.strip().lower()


def users(values: list[str]) -> list[str]:
    found = list(dict.fromkeys(_non_empty(user(v), "user", NAME_MAX) for v in values))
    if len(found) > MAX_USERS:
        raise invalid_parameter(
            f"A review queue can have at most {MAX_USERS} assigned users; got {len(found)}.")
    return found


def schema_ids(values: list[str]) -> list[str]:
    return list(dict.fromkeys(_non_empty(v.strip(), "schema_id", SCHEMA_ID_MAX) for v in values))


def item_ids(values: list[str]) -> list[str]:
    if not values:
        raise invalid_parameter(f"`item_ids` must be a non-empty list; got {values!r}.")
    return list(dict.fromkeys(_non_empty(v.strip(), "item_id", ITEM_ID_MAX) for v in values))


def custom_name(value: str) -> str:
    name = _non_empty(value.strip(), "name", NAME_MAX)
    if name.lower() == RESERVED_NAME:
        raise invalid_parameter(
            f"`{name}` is a reserved queue name and cannot be used for a custom queue.")
    return name


def owner(value: str) -> str:
    return _non_empty(value.strip(), "new_owner", NAME_MAX)


def new_queue(kind: str, name: str, assigned: list[str],
              questions: list[str]) -> tuple[str, list[str], list[str]]:
    """(name, users, schema ids) of a queue about to be made. A USER queue is one reviewer's
    own list: named after them, assigned to them alone, asking every question of the
    experiment (so none is attached)."""
    assigned, questions = users(assigned), schema_ids(questions)
    if kind == "custom":
        return custom_name(name), assigned, questions
    name = _non_empty(user(name), "name", NAME_MAX)
    if not assigned:
        assigned = [name]
    elif assigned != [name]:
        raise invalid_parameter("A user queue must have exactly one assigned user equal to its "
                                f"name; got name={name!r} and users={assigned!r}.")
    if questions:
        raise invalid_parameter("A user queue cannot have explicitly-attached schemas; it "
                                "resolves to all of the experiment's label schemas.")
    return name, assigned, questions


def completed_by(new_status: str, value: str | None) -> str | None:
    who = None if value is None else user(value)
    if new_status == "pending":
        if who is not None:
            raise invalid_parameter(
                "`completed_by` must not be set when reopening an item to `pending`.")
        return None
    if not who:
        raise invalid_parameter(f"`completed_by` is required when setting status to "
                                f"`{new_status}`.")
    if len(who) > NAME_MAX:
        raise invalid_parameter(
            f"`completed_by` must be at most {NAME_MAX} characters; got {len(who)}.")
    return who
