"""MLflow's trace filter language (``search_traces``), parsed into typed conditions.

    >>> parse_trace_filter("span.type = 'LLM' AND feedback.score > 0.5")
    (TraceCondition(entity='span', key='type', op='=', value='LLM'),
     TraceCondition(entity='feedback', key='score', op='>', value=0.5))

The lexer is the one every MLflow search shares (:mod:`trackd.service.filter_syntax`); what a
trace filter may say is MLflow 3.18's (facts in docs/mlflow-captures/trace-filters.md):

- entities: ``trace.``/``attribute(s).``/bare keys (trace columns), ``tag(s).``,
  ``metadata.``/``request_metadata.``, ``span.`` (``name``, ``type``, ``status``, ``content``,
  ``attributes.<name>``), ``feedback.<name>``, ``expectation.<name>``, ``issue.id``;
- MLflow then rewrites a few keys whatever their prefix (``span.`` excepted): ``name`` is the
  ``mlflow.traceName`` tag, ``prompt`` the ``mlflow.linkedPrompts`` tag, ``run_id`` the
  ``mlflow.sourceRun`` metadata, ``text`` the span content, and ``timestamp``,
  ``execution_time``, ``end_time`` their ``_ms`` forms; so ``feedback.name = 'x'`` is a trace
  name condition, as in MLflow;
- checks run in MLflow's order: the shape of every clause first (entity, key, value type), then
  the comparators, clause by clause, so the first error reported is MLflow's.

MLflow's messages end with Python sets, whose order changes from one process to the next;
trackd prints them sorted.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache

from trackd.errors import invalid_parameter
from trackd.service.filter_syntax import (
    Operand,
    RawClause,
    parse_list,
    parse_number,
    split_clauses,
    strip_quotes,
    trim_backticks,
)
from trackd.service.filters import MAX_FILTER_CLAUSES

TraceValue = str | int | float | tuple[str, ...] | None

TRACE_NAME_TAG = "mlflow.traceName"
LINKED_PROMPTS_TAG = "mlflow.linkedPrompts"
SOURCE_RUN_METADATA = "mlflow.sourceRun"
SESSION_METADATA = "mlflow.trace.session"
# Metadata MLflow keeps as several numeric columns: only (in)equality with its JSON, or presence.
ANALYTICS_METADATA = ("mlflow.trace.tokenUsage", "mlflow.trace.cost")


@dataclass(frozen=True, slots=True)
class TraceCondition:
    """One AND-ed condition of a trace filter.

    ``entity``: attribute, tag, metadata, span, feedback, expectation or issue. ``key``: the
    canonical key (``timestamp_ms``, ``mlflow.traceName``, span ``name``/``type``/``status``/
    ``content``/``attributes.<name>`` with the name unquoted, an assessment name, issue ``id``).
    ``op``: =, !=, <, <=, >, >=, LIKE, ILIKE, RLIKE, IN, NOT IN, IS NULL, IS NOT NULL.
    ``value``: str, int or float, a tuple for IN lists, None for IS [NOT] NULL."""

    entity: str
    key: str
    op: str
    value: TraceValue


_ENTITIES = {
    "attribute": "attribute", "attributes": "attribute", "trace": "attribute",
    "tag": "tag", "tags": "tag",
    "request_metadata": "metadata", "metadata": "metadata",
    "span": "span", "feedback": "feedback", "expectation": "expectation", "issue": "issue",
}
ATTRIBUTE_KEYS = frozenset({
    "request_id", "timestamp", "timestamp_ms", "execution_time", "execution_time_ms",
    "end_time", "end_time_ms", "status", "client_request_id", "name", "run_id", "prompt", "text",
})
NUMERIC_ATTRIBUTES = frozenset({"timestamp", "timestamp_ms", "execution_time",
                                "execution_time_ms", "end_time", "end_time_ms"})
LIST_ATTRIBUTES = frozenset({"name", "status", "request_id", "run_id", "client_request_id"})
SPAN_COLUMNS = frozenset({"name", "type", "status"})

NUMERIC_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
ORDER_OPS = frozenset({"<", "<=", ">", ">="})
STRING_OPS = frozenset({"=", "!=", "IN", "NOT IN", "LIKE", "ILIKE", "RLIKE"})
KEYED_OPS = frozenset({"=", "!=", "LIKE", "ILIKE", "RLIKE", "IS NULL", "IS NOT NULL"})
SPAN_OPS = STRING_OPS
CONTENT_OPS = frozenset({"LIKE", "ILIKE"})
ASSESSMENT_OPS = frozenset({"=", "!=", "LIKE", "ILIKE", "RLIKE", "IS NULL", "IS NOT NULL"}
                           ) | ORDER_OPS
ISSUE_OPS = frozenset({"="})

# Keys MLflow rewrites whatever the prefix (except span.): (entity or None to keep, key).
_REWRITES = {
    "name": ("tag", TRACE_NAME_TAG),
    "prompt": ("tag", LINKED_PROMPTS_TAG),
    "run_id": ("metadata", SOURCE_RUN_METADATA),
    "text": ("span", "content"),
    "timestamp": (None, "timestamp_ms"),
    "execution_time": (None, "execution_time_ms"),
    "end_time": (None, "end_time_ms"),
}


def _show(values: frozenset[str] | set[str]) -> str:
    return "{" + ", ".join(repr(v) for v in sorted(values)) + "}"


def _identify(text: str) -> tuple[str, str]:
    prefix, dot, key = text.partition(".")
    if not dot:
        prefix, key = "attribute", text
    prefix = trim_backticks(prefix)
    if prefix not in _ENTITIES:
        raise invalid_parameter(
            f"Invalid entity type '{prefix}'. Valid values are {_show(set(_ENTITIES))}")
    entity, key = _ENTITIES[prefix], trim_backticks(strip_quotes(key))
    if entity == "attribute" and key not in ATTRIBUTE_KEYS:
        raise invalid_parameter(
            f"Invalid attribute key '{key}' specified. Valid keys are '{_show(ATTRIBUTE_KEYS)}'")
    return entity, key


def _noun(entity: str) -> str:
    return "request_metadata" if entity == "metadata" else entity


def _quoted(rhs: Operand) -> bool:
    return rhs.kind in ("str", "ident")


def _check_assessment_value(entity: str, op: str, rhs: Operand) -> None:
    """MLflow wants a number after an ordering comparator and a quoted string otherwise."""
    if entity not in ("feedback", "expectation"):
        return
    ordering = op in ORDER_OPS
    if _quoted(rhs) and not ordering or rhs.kind in ("int", "float") and ordering:
        return
    if ordering:
        raise invalid_parameter(f"Expected a numeric value for {entity} when using comparator "
                                f"'{op}'. Got value {rhs.text}")
    raise invalid_parameter(f"Expected a quoted string value for {entity} (e.g. 'my-value'). "
                            f"Got value {rhs.text}")


def _value(entity: str, key: str, rhs: Operand) -> TraceValue:
    kind, text = rhs.kind, rhs.text
    if _quoted(rhs):
        return strip_quotes(text, required=True)
    if kind == "paren" and entity in ("tag", "span"):
        return parse_list(text)
    if entity == "attribute":
        if kind == "paren":
            if key not in LIST_ATTRIBUTES:
                raise invalid_parameter(
                    f"Only attributes in {_show(LIST_ATTRIBUTES)} supports comparison with a "
                    "list of quoted string values.")
            return parse_list(text)
        if kind in ("int", "float"):
            if key not in NUMERIC_ATTRIBUTES:
                raise invalid_parameter(f"Only the '{_show(NUMERIC_ATTRIBUTES)}' attributes "
                                        "support comparison with numeric values.")
            return parse_number(text, kind)
        raise invalid_parameter("Expected a quoted string value or a list of quoted string "
                                f"values for attributes. Got value {text}")
    if entity in ("feedback", "expectation") and kind in ("int", "float"):
        return parse_number(text, kind)
    extra = " or numeric value" if entity in ("feedback", "expectation") else ""
    example = "'my-value' or 0.8" if extra else "'my-value'"
    raise invalid_parameter(f"Expected a quoted string value{extra} for {_noun(entity)} "
                            f"(e.g. {example}). Got value {text}")


def _check_span(key: str, op: str) -> None:
    if key.startswith("attributes."):
        if not key[len("attributes."):]:
            raise invalid_parameter("Span attribute name cannot be empty after 'attributes.'")
        allowed = SPAN_OPS
    elif key in SPAN_COLUMNS:
        allowed = SPAN_OPS
    elif key == "content":
        allowed = CONTENT_OPS
    else:
        raise invalid_parameter(
            f"Invalid span attribute '{key}'. Supported attributes: "
            f"{', '.join(sorted(SPAN_COLUMNS))}, attributes.<attribute_name>.")
    if op not in allowed:
        raise invalid_parameter(f"span.{key} comparator '{op}' not one of '{_show(allowed)}'")


def _shaped(raw: RawClause) -> TraceCondition:
    """A clause checked for shape (entity, key, value type) and rewritten as MLflow does."""
    entity, key = _identify(raw.lhs.text)
    value: TraceValue = None
    if raw.rhs is not None:
        _check_assessment_value(entity, raw.op, raw.rhs)
        value = _value(entity, key, raw.rhs)
        if entity == "span":
            _check_span(key, raw.op)
    if entity != "span" and (rewrite := _REWRITES.get(key.lower())) is not None:
        entity, key = rewrite[0] or entity, rewrite[1]
    if entity == "span" and key.startswith("attributes."):
        key = "attributes." + trim_backticks(key[len("attributes."):])
    return TraceCondition(entity, key, raw.op, value)


def _checked(c: TraceCondition) -> TraceCondition:
    """The comparator checks MLflow's SQL store makes, in its order."""
    entity, key, op = c.entity, c.key, c.op
    if entity == "issue":
        if key != "id":
            raise invalid_parameter(
                f"Invalid issue attribute '{key}'. Supported attributes: id")
        if op not in ISSUE_OPS:
            raise invalid_parameter(f"issue.{key} comparator '{op}' not one of "
                                    f"'{_show(ISSUE_OPS)}'")
    elif entity == "attribute":
        if key in NUMERIC_ATTRIBUTES and op not in NUMERIC_OPS:
            # MLflow names the string comparators here, and drops the closing quote.
            raise invalid_parameter(f"Invalid comparator '{op}' not one of '{_show(STRING_OPS)}")
        if key not in NUMERIC_ATTRIBUTES and op not in STRING_OPS:
            raise invalid_parameter(f"Invalid comparator '{op}' not one of '{_show(STRING_OPS)}'")
    elif entity in ("tag", "metadata"):
        if op not in KEYED_OPS:
            end = "" if entity == "tag" else "'"
            raise invalid_parameter(
                f"Invalid comparator '{op}' not one of '{_show(KEYED_OPS)}{end}")
        _check_reserved(c)
    elif entity == "span":
        _check_span(key, op)
    elif entity in ("feedback", "expectation"):
        if not key:
            raise invalid_parameter("Assessment field name cannot be empty")
        if op not in ASSESSMENT_OPS:
            raise invalid_parameter(f"assessment.{key} comparator '{op}' not one of "
                                    f"'{_show(ASSESSMENT_OPS)}'")
    if op == "RLIKE":
        _check_pattern(c.value)
    if isinstance(c.value, tuple) and op not in ("IN", "NOT IN"):
        # MLflow hands the list to SQL and fails there (HTTP 500); trackd says why.
        raise invalid_parameter(f"A list of values can only be compared with IN or NOT IN: {op}")
    return c


def _check_pattern(value: TraceValue) -> None:
    """A pattern Python cannot compile is refused here, the same on every database: MLflow
    finds nothing on SQLite and on PostgreSQL passes on the database's error and SQL (400)."""
    try:
        with warnings.catch_warnings():  # "possible nested set" and the like: still valid
            warnings.simplefilter("ignore")
            re.compile(str(value))
    except re.error as exc:
        raise invalid_parameter(
            f"Invalid regular expression '{value}' for RLIKE: {exc}") from None


def _check_reserved(c: TraceCondition) -> None:
    if c.entity == "tag" and c.key == LINKED_PROMPTS_TAG:
        if c.op != "=":
            raise invalid_parameter(
                f"Invalid comparator '{c.op}' for prompts filter. Only '=' is supported with "
                'format: prompt = "name/version"')
        if str(c.value).count("/") != 1:
            raise invalid_parameter(f"Invalid prompts filter value '{c.value}'. "
                                    'Expected format: prompt = "name/version"')
    if c.entity == "metadata" and c.key in ANALYTICS_METADATA and c.op not in (
            "=", "!=", "IS NULL", "IS NOT NULL"):
        raise invalid_parameter(
            f"Comparator '{c.op}' is not supported for reserved metadata '{c.key}'. "
            "Only '=', '!=', 'IS NULL', and 'IS NOT NULL' are supported.")


@lru_cache(maxsize=512)
def parse_trace_filter(filter_string: str | None) -> tuple[TraceCondition, ...]:
    """Parse a trace filter (``search_traces``' ``filter``); empty or absent means no
    condition. Raises INVALID_PARAMETER_VALUE, worded as MLflow words it, for anything MLflow
    refuses. Cached: clients repeat the same filter page after page."""
    if not filter_string:
        return ()
    raws = split_clauses(filter_string, quote_invalid=True)
    if len(raws) > MAX_FILTER_CLAUSES:
        raise invalid_parameter(
            f"Invalid filter string: {len(raws)} comparisons, at most {MAX_FILTER_CLAUSES} may "
            "be AND-ed in one filter")
    shaped = [_shaped(raw) for raw in raws]
    return tuple(_checked(c) for c in shaped)


def span_time_floor_ms(conditions: tuple[TraceCondition, ...]) -> int | float | None:
    """The latest lower bound a filter puts on the trace timestamp (``> x`` or ``>= x``):
    MLflow skips spans that started well before it."""
    bounds = [c.value for c in conditions
              if c.entity == "attribute" and c.key == "timestamp_ms" and c.op in (">", ">=")
              and isinstance(c.value, int | float)]
    return max(bounds) if bounds else None

