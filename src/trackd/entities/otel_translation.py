"""What mlflow server 3.18 adds to a span from another instrumentation when it stores it: the
MLflow span type, inputs, outputs, token usage, message format, tool definitions, model and
provider, read from that instrumentation's own attributes (OpenTelemetry GenAI, OpenInference,
Traceloop, and the frameworks in trackd.entities.otel_conventions / otel_frameworks). What the
span already carries under MLflow's names wins; a type counts as missing when UNKNOWN.
Captured in docs/mlflow-captures/otel-translation.md.

Ingest is a hot path: spans with no attribute or event any convention reads (what MLflow's
clients send, most other spans) skip the conventions; only their inputs/outputs are looked at
for a ``model`` field, and only when the text contains one.
"""

from __future__ import annotations

import json
from typing import Any

from trackd.entities.otel_conventions import (
    GOOGLE_ADK,
    LANGFUSE,
    OPENINFERENCE,
    TRACELOOP,
    Convention,
    GenAi,
    Laminar,
    SpringAi,
    loads,
)
from trackd.entities.otel_frameworks import ClaudeCode, GeminiCli, LiveKit, VercelAi, VoltAgent
from trackd.entities.otel_pricing import llm_cost

SPAN_TYPE = "mlflow.spanType"
INPUTS = "mlflow.spanInputs"
OUTPUTS = "mlflow.spanOutputs"
TOKEN_USAGE = "mlflow.chat.tokenUsage"
MESSAGE_FORMAT = "mlflow.message.format"
TOOLS = "mlflow.chat.tools"
MODEL = "mlflow.llm.model"
PROVIDER = "mlflow.llm.provider"
COST = "mlflow.llm.cost"
_USAGE_NAMES = ("input_tokens", "output_tokens", "total_tokens", "cache_read_input_tokens",
                "cache_creation_input_tokens")

# MLflow's order: the first convention that yields a value wins, value by value.
_SPRING_AI = SpringAi()
_LIVEKIT = LiveKit()
_CLAUDE_CODE = ClaudeCode()
CONVENTIONS: tuple[Convention, ...] = (
    OPENINFERENCE, GeminiCli(), _CLAUDE_CODE, GenAi(), _SPRING_AI, TRACELOOP, GOOGLE_ADK,
    VercelAi(), VoltAgent(), _LIVEKIT, Laminar(), LANGFUSE,
)
# Inputs and outputs are looked for in span events only when no attribute has them.
EVENT_CONVENTIONS: tuple[Convention, ...] = (_SPRING_AI, _LIVEKIT, _CLAUDE_CODE)


# Every attribute the conventions read is one of these or starts with one of these prefixes
# (Claude Code's bare keys count only on spans with ``span.type``; Gemini CLI's only with
# ``gen_ai.agent.name``), and every event they read has one of these names. A span with none of
# them is not run past the conventions: most spans (MLflow's client's, HTTP instrumentation's)
# have none, and ingest is a hot path.
_KEYS = frozenset({"input.value", "output.value", "input", "output", "span.type",
                   "entity.type"})
_PREFIXES = ("gen_ai.", "llm.", "openinference.", "traceloop.", "gcp.vertex.agent.", "ai.",
             "lmnr.", "langfuse.", "lk.", "embedding.", "usage.", "voltagent.", "agent.")
_EVENTS = frozenset({"gen_ai.content.prompt", "gen_ai.content.completion",
                     "gen_ai.system.message", "gen_ai.user.message",
                     "gen_ai.assistant.message", "gen_ai.choice"})


def _foreign(attributes: dict[str, Any], events: list[dict[str, Any]]) -> bool:
    for key in attributes:
        if not key.startswith("mlflow.") and (key in _KEYS or key.startswith(_PREFIXES)):
            return True
    return bool(events) and any(event.get("name") in _EVENTS for event in events)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def translate(attributes: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """Add MLflow's attributes to a span's stored ``attributes`` (JSON-encoded values), in
    place. ``events``: the span's events as stored (attribute values decoded)."""
    if not _foreign(attributes, events):
        _model_from_content(attributes)
        _add_cost(attributes)
        return
    current = attributes.get(SPAN_TYPE)
    if (loads(current) if current else None) in (None, "UNKNOWN") and (
            span_type := _first(lambda c: c.span_type(attributes))):
        attributes[SPAN_TYPE] = _dump(span_type)
    if INPUTS not in attributes and (value := (
            _first(lambda c: c.inputs(attributes))
            or (events and _first(lambda c: c.inputs_from_events(events, attributes),
                                  EVENT_CONVENTIONS)))):
        attributes[INPUTS] = value
    if OUTPUTS not in attributes and (value := (
            _first(lambda c: c.outputs(attributes))
            or (events and _first(lambda c: c.outputs_from_events(events, attributes),
                                  EVENT_CONVENTIONS)))):
        attributes[OUTPUTS] = value
    if TOKEN_USAGE not in attributes and (usage := _token_usage(attributes)):
        attributes[TOKEN_USAGE] = _dump(usage)
    if MESSAGE_FORMAT not in attributes and (
            message_format := _first(lambda c: c.message_format(attributes))):
        attributes[MESSAGE_FORMAT] = _dump(message_format)
    if TOOLS not in attributes and (tools := _first(lambda c: c.tools(attributes))):
        attributes[TOOLS] = tools
    if MODEL not in attributes:
        if model := _first(lambda c: c.model(attributes)):
            attributes[MODEL] = _dump(model)
        else:
            _model_from_content(attributes)
    if PROVIDER not in attributes and (provider := _first(lambda c: c.provider(attributes))):
        attributes[PROVIDER] = _dump(provider)
    _add_cost(attributes)


def _add_cost(attributes: dict[str, Any]) -> None:
    """mlflow server prices every span it stores that has a model and token usage, but no
    cost and no AGENT type (an agent's usage is the rollup of its LLM calls)."""
    if COST in attributes or TOKEN_USAGE not in attributes or MODEL not in attributes:
        return
    try:
        span_type = json.loads(attributes[SPAN_TYPE]) if attributes.get(SPAN_TYPE) else None
        usage = json.loads(attributes[TOKEN_USAGE])
        model = json.loads(attributes[MODEL])
        provider = json.loads(attributes[PROVIDER]) if PROVIDER in attributes else None
    except (TypeError, ValueError):
        return  # MLflow, too, leaves a span it cannot read unpriced
    if span_type != "AGENT" and (cost := llm_cost(model, usage, provider)):
        attributes[COST] = _dump(cost)


def _first(pick: Any, conventions: tuple[Convention, ...] = CONVENTIONS) -> Any:
    for convention in conventions:
        if value := pick(convention):
            return value
    return None


def _count(raw: Any) -> int | None:
    """A token count as MLflow reads one: an integer, or a string holding one; else None."""
    if raw is None or isinstance(raw, int):
        return raw
    if not isinstance(raw, str):
        return None
    try:
        decoded = json.loads(raw)
        if isinstance(decoded, int):
            return decoded
        if isinstance(decoded, str):
            return int(decoded)
    except ValueError:
        pass
    try:
        return int(raw)
    except ValueError:
        return None


def _token_usage(attributes: dict[str, Any]) -> dict[str, int] | None:
    """The first convention's counts that name any of input, output or total; total is
    their sum when not given."""
    for convention in CONVENTIONS:
        counts = [_count(raw) for raw in convention.tokens(attributes)]
        if counts[2] is None and counts[0] is not None and counts[1] is not None:
            counts[2] = counts[0] + counts[1]
        if any(count is not None for count in counts[:3]):
            return {name: count for name, count in zip(_USAGE_NAMES, counts, strict=True)
                    if count is not None}
    return None


def _model_from_content(attributes: dict[str, Any]) -> None:
    """MLflow names a span's model from a top-level ``model`` string in its inputs, or
    else its outputs, when nothing else names it."""
    if MODEL in attributes:
        return
    for key in (INPUTS, OUTPUTS):
        raw = attributes.get(key)
        if not raw:
            continue
        if isinstance(raw, str):
            if '"model"' not in raw:  # cheap test first: most inputs have no such field
                continue
            try:
                raw = json.loads(raw)
            except ValueError:
                continue
        if isinstance(raw, dict) and (model := raw.get("model")):
            if isinstance(model, str):
                attributes[MODEL] = _dump(model)
            return
