"""MLflow's search filter language, parsed into a small typed AST.

    >>> parse_filter("runs", "metrics.acc > 0.5 and tags.`mlflow.user` LIKE 'a%'")
    (Clause(entity='metric', key='acc', op='>', value=0.5),
     Clause(entity='tag', key='mlflow.user', op='LIKE', value='a%'))

MLflow parses filters with sqlparse and then inspects sqlparse's token tree, so what it accepts
is defined by sqlparse's lexer as much as by MLflow's checks: a key after a dot may be any word
(``params.select``) except six words the lexer always treats as keywords (``params.in``), a
quoted value keeps its doubled quotes (``'it''s'`` means ``it''s``), ``AND`` may repeat or be
left out between clauses. The tokenizer below follows those lexer rules for every token class a
filter can contain, so that trackd accepts and rejects what MLflow does; a corpus test checks
this against MLflow's own parser.

What each search allows (entities, keys, comparators, value types) is data: one
:class:`Rules` per search kind in :data:`RULES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from trackd.errors import MlflowError, invalid_parameter
from trackd.service.filter_syntax import (
    Operand,
    RawClause,
    parse_list,
    parse_number,
    split_clauses,
    strip_quotes,
    trim_backticks,
)

Value = float | int | str | tuple[str | int, ...] | None


@dataclass(frozen=True, slots=True)
class Clause:
    """One AND-ed condition. ``entity``: metric, param, tag, attribute or dataset; ``key``:
    canonical (aliases such as ``created`` are resolved); ``op``: =, !=, <, <=, >, >=, LIKE,
    ILIKE, IN, NOT IN, IS NULL, IS NOT NULL; ``value``: float for metrics, int/float for
    numeric attributes, str, a tuple for IN lists, None for IS [NOT] NULL."""

    entity: str
    key: str
    op: str
    value: Value


# ---------------------------------------------------------------------------------------------
# Rules per search kind.

NUMERIC_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE"})
LIST_OPS = frozenset({"IN", "NOT IN"})
NULL_OPS = frozenset({"IS NULL", "IS NOT NULL"})


@dataclass(frozen=True)
class Rules:
    kind: str
    entities: dict[str, str]  # prefix as written -> entity
    entity_error: str  # format() with the prefix
    string_attrs: frozenset[str]
    numeric_attrs: frozenset[str] = frozenset()
    attr_aliases: dict[str, str] = field(default_factory=dict)
    list_attrs: frozenset[str] | None = frozenset()  # None: every string attribute
    dataset_keys: frozenset[str] = frozenset()
    null_entities: frozenset[str] = frozenset()
    null_error: str = (
        "IS NULL / IS NOT NULL is only supported for tags and params, not for '{}' '{}'"
    )
    ops: dict[str, frozenset[str]] = field(default_factory=dict)  # entity or string/numeric
    key_ops: dict[str, frozenset[str]] = field(default_factory=dict)  # per attribute key
    trim_entity_backticks: bool = False
    check_key_before_unquoting: bool = False  # registry searches check the raw key
    integral_numbers: bool = False  # numeric attributes take integers only
    numbers_from_strings: bool = False  # version_number = '3' works
    int_attrs: frozenset[str] = frozenset()  # string-typed in the filter, integers in SQL
    attr_value_error: str = "Expected a quoted string value for attributes. Got value {}"
    loose: bool = False  # logged models: MLflow's lenient second parser


def _runs_rules() -> Rules:
    ents = {"metric": "metric", "metrics": "metric", "tag": "tag", "tags": "tag"}
    ents |= dict.fromkeys(("parameter", "parameters", "param", "params"), "param")
    ents |= dict.fromkeys(("attribute", "attributes", "attr", "run"), "attribute")
    ents |= {"dataset": "dataset", "datasets": "dataset"}
    return Rules(
        "runs",
        ents,
        "Invalid entity type '{}'. Valid values are "
        "['metric', 'parameter', 'tag', 'attribute', 'dataset']",
        frozenset({"run_id", "run_name", "status", "user_id", "artifact_uri"}),
        frozenset({"start_time", "end_time"}),
        {"created": "start_time", "Created": "start_time"}
        | dict.fromkeys(("run name", "Run name", "Run Name"), "run_name"),
        frozenset({"run_id"}),
        frozenset({"name", "digest", "context"}),
        frozenset({"param", "tag"}),
        ops={
            "metric": NUMERIC_OPS,
            "param": STRING_OPS | NULL_OPS,
            "tag": STRING_OPS | NULL_OPS,
            "string": STRING_OPS | LIST_OPS,
            "numeric": NUMERIC_OPS,
            "dataset": STRING_OPS | LIST_OPS,
        },
        trim_entity_backticks=True,
    )


_REGISTRY_ENTITIES = {"attribute": "attribute", "tag": "tag", "tags": "tag"}
_REGISTRY_ENTITY_ERROR = (
    "Invalid entity type '{}'. Valid entity types are ('attribute', 'tag', 'tags')"
)
_REGISTRY_VALUE_ERROR = (
    "Expected a quoted string value or a list of quoted string values for attributes. Got value {}"
)

RULES: dict[str, Rules] = {
    "runs": _runs_rules(),
    "experiments": Rules(
        "experiments",
        {"attribute": "attribute", "attributes": "attribute", "tag": "tag", "tags": "tag"},
        "Invalid entity type '{}'. Valid entity types are "
        "('attribute', 'attributes', 'tag', 'tags')",
        frozenset({"name", "experiment_id"}),
        frozenset({"creation_time", "last_update_time"}),
        list_attrs=frozenset({"experiment_id"}),
        null_entities=frozenset({"tag"}),
        null_error="IS NULL / IS NOT NULL is only supported for tags, not for attribute '{1}'",
        ops={"tag": STRING_OPS | NULL_OPS, "string": STRING_OPS, "numeric": NUMERIC_OPS},
        key_ops={"experiment_id": frozenset({"=", "!="}) | LIST_OPS},
        integral_numbers=True,
        int_attrs=frozenset({"experiment_id"}),
    ),
    "registered_models": Rules(
        "registered_models",
        _REGISTRY_ENTITIES,
        _REGISTRY_ENTITY_ERROR,
        frozenset({"name"}),
        list_attrs=frozenset({"name"}),
        null_error="IS NULL / IS NOT NULL is not supported for registered model search.",
        ops={"tag": STRING_OPS, "string": STRING_OPS | LIST_OPS},
        check_key_before_unquoting=True,
        attr_value_error=_REGISTRY_VALUE_ERROR,
    ),
    "model_versions": Rules(
        "model_versions",
        _REGISTRY_ENTITIES,
        _REGISTRY_ENTITY_ERROR,
        frozenset({"name", "run_id", "source_path"}),
        frozenset({"version_number"}),
        list_attrs=frozenset({"name", "run_id"}),
        null_error="IS NULL / IS NOT NULL is not supported for model version search.",
        ops={"tag": STRING_OPS, "string": STRING_OPS | LIST_OPS, "numeric": NUMERIC_OPS},
        check_key_before_unquoting=True,
        integral_numbers=True,
        numbers_from_strings=True,
        attr_value_error="Only the '{{'version_number'}}' attributes support comparison with "
        "numeric values.",
    ),
    "logged_models": Rules(
        "logged_models",
        {"attributes": "attribute", "metrics": "metric", "params": "param", "tags": "tag"},
        "Invalid entity type: '{}'. Expected one of ['attributes', 'metrics', 'params', 'tags'].",
        frozenset({"name", "model_id", "model_type", "status", "source_run_id"}),
        frozenset({"creation_timestamp", "last_updated_timestamp"}),
        {"creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp"},
        list_attrs=None,
        # Status names (READY...) become numbers in the logged-model store.
        key_ops={"status": frozenset({"=", "!="}) | LIST_OPS},
        ops={
            "metric": NUMERIC_OPS,
            "numeric": NUMERIC_OPS,
            "param": STRING_OPS | LIST_OPS,
            "tag": STRING_OPS | LIST_OPS,
            "string": STRING_OPS | LIST_OPS,
        },
        loose=True,
    ),
    # Evaluation datasets (MLflow's SearchEvaluationDatasetsUtils): bare attribute keys or
    # tags.<key>; MLflow checks the comparator of a string attribute only when it is one of the
    # string comparators, so `name > 'a'` compares as SQL does.
    "evaluation_datasets": Rules(
        "evaluation_datasets",
        {"tags": "tag"},
        "Invalid identifier token '{}' specified",
        frozenset({"name", "created_by", "last_updated_by"}),
        frozenset({"created_time", "last_update_time"}),
        list_attrs=frozenset({"name"}),
        null_error="IS NULL / IS NOT NULL is not supported for evaluation dataset search.",
        ops={"tag": STRING_OPS, "string": STRING_OPS | NUMERIC_OPS | {"IN"},
             "numeric": NUMERIC_OPS},
        key_ops={"created_by": STRING_OPS | NUMERIC_OPS,
                 "last_updated_by": STRING_OPS | NUMERIC_OPS},
        integral_numbers=True,
    ),
}


def _show(values: frozenset[str] | set[str]) -> str:
    return "{" + ", ".join(repr(v) for v in sorted(values)) + "}"


def _check_attribute(rules: Rules, key: str) -> None:
    valid = rules.string_attrs | rules.numeric_attrs | set(rules.attr_aliases)
    if key not in valid:
        raise invalid_parameter(
            f"Invalid attribute key '{key}' specified. Valid keys are '{_show(valid)}'"
        )


_LOOSE_IDENTIFIER = re.compile(r"([a-z]+)\.(.+)")


def identify(rules: Rules, text: str) -> tuple[str, str]:
    """(entity, canonical key) of an identifier as written, e.g. ``tags.`a b` `` -> tag, a b."""
    if rules.loose:
        m = _LOOSE_IDENTIFIER.fullmatch(text)
        entity, key = ("attribute", text) if m is None else (rules.entities.get(m[1]), m[2])
        if entity is None:
            raise invalid_parameter(rules.entity_error.format(m[1] if m else text))
        # MLflow strips backticks only; a "double-quoted" key would never match anything.
        key = strip_quotes(key.strip("`")) if m else key.strip("`")
    else:
        prefix, dot, key = text.partition(".")
        if not dot:
            entity, key = "attribute", text
        else:
            name = trim_backticks(prefix) if rules.trim_entity_backticks else prefix
            if (found := rules.entities.get(name)) is None:
                raise invalid_parameter(rules.entity_error.format(name))
            entity = found
        if entity == "attribute" and rules.check_key_before_unquoting:
            _check_attribute(rules, key)
        key = trim_backticks(strip_quotes(key))
    if entity == "attribute":
        _check_attribute(rules, key)
        key = rules.attr_aliases.get(key, key)
    elif entity == "dataset" and key not in rules.dataset_keys:
        raise invalid_parameter(
            f"Invalid dataset key '{key}' specified. Valid keys are '{_show(rules.dataset_keys)}'"
        )
    return entity, key


def _is_numeric(rules: Rules, entity: str, key: str) -> bool:
    return entity == "metric" or (entity == "attribute" and key in rules.numeric_attrs)


def _value(rules: Rules, entity: str, key: str, rhs: Operand) -> Value:
    kind, text = rhs.kind, rhs.text
    quoted = kind in ("str", "ident")
    if rules.loose:
        if _is_numeric(rules, entity, key):
            if kind not in ("int", "float"):
                raise invalid_parameter(f"Expected numeric value type for {key}. Found {text}")
            return float(text) if entity == "metric" else parse_number(text, kind)
        if kind == "paren":
            return parse_list(text)
        return text.strip("'") if kind == "str" else strip_quotes(text)
    if entity == "metric":
        if kind in ("int", "float"):
            return float(text)
        raise invalid_parameter(f"Expected numeric value type for metric. Found {text}")
    if entity in ("param", "tag"):
        if quoted:
            return strip_quotes(text, required=True)
        noun = "parameter" if entity == "param" else "tag"
        raise invalid_parameter(
            f"Expected a quoted string value for {noun} (e.g. 'my-value'). Got value {text}"
        )
    if entity == "dataset":
        if quoted:
            return strip_quotes(text, required=True)
        if kind == "paren":
            return parse_list(text)
        raise invalid_parameter(
            f"Expected a quoted string value for dataset attributes. Got value {text}"
        )
    if key in rules.numeric_attrs:
        if kind in ("int", "float"):
            return parse_number(text, kind)
        if quoted and rules.numbers_from_strings:
            return strip_quotes(text, required=True)
        raise invalid_parameter(
            f"Expected numeric value type for numeric attribute: {key}. Found {text}"
        )
    if quoted:
        return strip_quotes(text, required=True)
    if kind == "paren":
        if rules.list_attrs is not None and key not in rules.list_attrs:
            raise invalid_parameter(
                f"Only {sorted(rules.list_attrs)} attributes support comparison with a list of "
                "quoted string values."
            )
        return parse_list(text)
    raise invalid_parameter(rules.attr_value_error.format(text))


def _clause(rules: Rules, raw: RawClause) -> Clause:
    if raw.rhs is None and rules.loose:
        raise invalid_parameter(
            f"Invalid comparison: {raw.lhs.text} {raw.op}. Expected a comparison with 3 tokens."
        )
    entity, key = identify(rules, raw.lhs.text)
    if raw.rhs is None:
        if entity not in rules.null_entities:
            raise invalid_parameter(rules.null_error.format(entity, key))
        return Clause(entity, key, raw.op, None)
    return Clause(entity, key, raw.op, _value(rules, entity, key, raw.rhs))


def _checked(rules: Rules, clause: Clause) -> Clause:
    """The comparator checks MLflow makes in its SQL stores, and value conversions for SQL."""
    entity, key, op, value = clause.entity, clause.key, clause.op, clause.value
    numeric = _is_numeric(rules, entity, key)
    group = entity if entity != "attribute" else ("numeric" if numeric else "string")
    allowed = rules.key_ops.get(key) if entity == "attribute" else None
    allowed = allowed or rules.ops[group]
    if op not in allowed:
        if rules.loose:
            raise invalid_parameter(
                f"Invalid comparison operator for {entity}s.{key}: {op!r}. "
                f"Expected one of {tuple(sorted(allowed))}."
            )
        raise invalid_parameter(f"Invalid comparator '{op}' not one of '{_show(allowed)}'")
    if isinstance(value, tuple) and op not in LIST_OPS:
        raise invalid_parameter(f"A list of values can only be compared with IN or NOT IN: {op}")
    if entity == "attribute" and numeric and rules.integral_numbers:
        try:
            if isinstance(value, float):
                raise ValueError
            value = int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise invalid_parameter(
                f"Invalid value for numeric attribute '{key}': {str(value)!r}"
            ) from None
    if entity == "attribute" and key in rules.int_attrs:
        value = tuple(_int_id(v) for v in value) if isinstance(value, tuple) else _int_id(value)
    return Clause(entity, key, op, value)


def _int_id(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        raise invalid_parameter(
            f"Invalid experiment ID '{value}'. Experiment ID must be a valid integer."
        ) from None


# SQLite refuses expressions nested 1,000 deep ("Expression tree is too large") and MySQL
# statements of more than 61 tables; a few thousand AND-ed clauses also take PostgreSQL seconds
# to plan. MLflow has no limit of its own; no client sends more than a few dozen comparisons.
# Documented in docs/api.md.
MAX_FILTER_CLAUSES = 100


@lru_cache(maxsize=512)
def parse_filter(kind: str, filter_string: str | None) -> tuple[Clause, ...]:
    """Parse the filter of one search kind (a key of :data:`RULES`); empty or absent means no
    condition. Raises INVALID_PARAMETER_VALUE, worded as MLflow words it, for anything MLflow
    refuses. Results are cached: clients repeat the same filter page after page."""
    if not filter_string:
        return ()
    rules = RULES[kind]
    try:
        raws = split_clauses(filter_string, quote_invalid=kind == "runs")
    except MlflowError:
        if not rules.loose:
            raise
        raise invalid_parameter(
            f"Invalid filter string: {filter_string!r}. Expected a list of comparisons "
            "separated by 'AND' (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01')."
        ) from None
    if len(raws) > MAX_FILTER_CLAUSES:
        raise invalid_parameter(
            f"Invalid filter string: {len(raws)} comparisons, at most {MAX_FILTER_CLAUSES} may "
            "be AND-ed in one filter"
        )
    # MLflow checks every clause's shape first and the comparators afterwards.
    clauses = [_clause(rules, raw) for raw in raws]
    return tuple(_checked(rules, c) for c in clauses)
