"""The attribute conventions of other instrumentations that mlflow server 3.18 translates into
MLflow span attributes on OTLP ingest, one entry per convention, in the order MLflow consults
them (the first convention that yields a value wins, per value). See
trackd.entities.otel_translation for how they are applied and
docs/mlflow-captures/otel-translation.md for what mlflow server stores.

Attribute values are as stored: JSON-encoded strings. A value counts only when it decodes to
something truthy (``""``, ``{}``, ``[]``, ``0`` and ``null`` are skipped), as in MLflow.
"""

from __future__ import annotations

import json
import re
from typing import Any

_REDACTED = "<REDACTED>"


def loads(raw: Any) -> Any:
    """A JSON-encoded value decoded; the value itself when it is not JSON."""
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        return raw


def present(attributes: dict[str, Any], key: str) -> Any:
    """An attribute as stored, or None when absent or when it decodes to an empty value."""
    value = attributes.get(key)
    if isinstance(value, str):
        try:
            return value if json.loads(value) else None
        except ValueError:
            return value
    return value


def first_present(attributes: dict[str, Any], keys: tuple[Any, ...]) -> Any:
    """The first of ``keys`` (names, or patterns matched against every attribute name in
    order) whose value is present."""
    for key in keys:
        if isinstance(key, str):
            if value := present(attributes, key):
                return value
        else:
            for name in attributes:
                if key.match(name) and (value := present(attributes, name)):
                    return value
    return None


def kind_of(table: dict[str, str], kind: Any) -> str | None:
    """The MLflow span type a convention's span kind maps to (None for a kind it lacks)."""
    return table.get(kind) if isinstance(kind, str) else None


class Convention:
    """A convention as a table: where its span kind, inputs, outputs, token counts, model,
    provider and tool definitions are. Conventions with rules beyond a table subclass this."""

    kind_key: str | None = None
    kinds: dict[str, str] = {}
    input_keys: tuple[Any, ...] = ()
    output_keys: tuple[Any, ...] = ()
    # input, output, total, cache read, cache creation
    token_keys: tuple[str | None, ...] = (None, None, None, None, None)
    model_keys: tuple[str, ...] = ()
    provider_key: str | None = None
    tool_keys: tuple[str, ...] = ()

    def __init__(self, **table: Any) -> None:
        for name, value in table.items():
            setattr(self, name, value)

    def span_type(self, attributes: dict[str, Any]) -> str | None:
        if self.kind_key and (kind := attributes.get(self.kind_key)):
            return kind_of(self.kinds, loads(kind) if isinstance(kind, str) else kind)
        return None

    def tokens(self, attributes: dict[str, Any]) -> list[Any]:
        """Raw token counts: input, output, total, cache read, cache creation."""
        return [attributes.get(key) if key else None for key in self.token_keys]

    def inputs(self, attributes: dict[str, Any]) -> Any:
        return first_present(attributes, self.input_keys)

    def outputs(self, attributes: dict[str, Any]) -> Any:
        return first_present(attributes, self.output_keys)

    def model(self, attributes: dict[str, Any]) -> Any:
        value = first_present(attributes, self.model_keys)
        return loads(value) if value else None

    def provider(self, attributes: dict[str, Any]) -> Any:
        value = present(attributes, self.provider_key) if self.provider_key else None
        return loads(value) if value else None

    def tools(self, attributes: dict[str, Any]) -> Any:
        return first_present(attributes, self.tool_keys)

    def message_format(self, attributes: dict[str, Any]) -> str | None:
        return None

    def inputs_from_events(self, events: list[dict[str, Any]],
                           attributes: dict[str, Any]) -> Any:
        return None

    def outputs_from_events(self, events: list[dict[str, Any]],
                            attributes: dict[str, Any]) -> Any:
        return None


# OpenTelemetry GenAI semantic conventions (https://opentelemetry.io/docs/specs/semconv/gen-ai/).
GENAI_KINDS = {
    "chat": "CHAT_MODEL", "create_agent": "AGENT", "embeddings": "EMBEDDING",
    "execute_tool": "TOOL", "generate_content": "LLM", "invoke_agent": "AGENT",
    "text_completion": "LLM", "response": "LLM",
}
_GENAI_TOKENS = ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", None,
                 "gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_write.input_tokens")


class GenAi(Convention):
    kind_key = "gen_ai.operation.name"
    kinds = GENAI_KINDS
    input_keys: tuple[Any, ...] = ("gen_ai.input.messages", "gen_ai.tool.call.arguments")
    output_keys: tuple[Any, ...] = ("gen_ai.output.messages", "gen_ai.tool.call.result")
    token_keys = _GENAI_TOKENS
    model_keys = ("gen_ai.response.model", "gen_ai.request.model")
    provider_key = "gen_ai.provider.name"
    tool_keys = ("gen_ai.tool.definitions",)

    def tokens(self, attributes: dict[str, Any]) -> list[Any]:
        counts = super().tokens(attributes)
        if counts[4] is None:  # the registry's earlier name for cache writes
            counts[4] = attributes.get("gen_ai.usage.cache_creation.input_tokens")
        return counts

    def genai_events(self, events: list[dict[str, Any]], roles: dict[str, str | None]) -> Any:
        """Chat messages from GenAI message events (``role`` None: the event's own role)."""
        messages = []
        for event in events:
            name = event.get("name", "")
            if name not in roles:
                continue
            event_attributes = event.get("attributes") or {}
            if content := event_attributes.get("content"):
                role = roles[name] or loads(event_attributes.get("role", "assistant"))
                messages.append({"role": role, "content": loads(content)})
        return json.dumps(messages) if messages else None


OPENINFERENCE = Convention(
    kind_key="openinference.span.kind",
    kinds={"TOOL": "TOOL", "CHAIN": "CHAIN", "LLM": "LLM", "RETRIEVER": "RETRIEVER",
           "EMBEDDING": "EMBEDDING", "AGENT": "AGENT", "RERANKER": "RERANKER",
           "UNKNOWN": "UNKNOWN", "GUARDRAIL": "GUARDRAIL", "EVALUATOR": "EVALUATOR"},
    input_keys=("input.value",),
    output_keys=("output.value",),
    token_keys=("llm.token_count.prompt", "llm.token_count.completion", "llm.token_count.total",
                "llm.token_count.prompt_details.cache_read",
                "llm.token_count.prompt_details.cache_write"),
    model_keys=("llm.response.model_name", "llm.model_name", "llm.request.model_name",
                "embedding.model_name"),
    provider_key="llm.provider",
)


class SpringAi(Convention):
    """Spring AI: GenAI attributes, prompt and completion text in span events."""

    kind_key = "gen_ai.operation.name"
    kinds = {"chat": "CHAT_MODEL", "embeddings": "EMBEDDING"}
    token_keys = ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", None, None, None)

    @staticmethod
    def _event_value(events: list[dict[str, Any]], event_name: str, key: str) -> Any:
        for event in events:
            if event.get("name") == event_name and (
                    value := (event.get("attributes") or {}).get(key)):
                return value
        return None

    def inputs_from_events(self, events: list[dict[str, Any]],
                           attributes: dict[str, Any]) -> Any:
        return self._event_value(events, "gen_ai.content.prompt", "gen_ai.prompt")

    def outputs_from_events(self, events: list[dict[str, Any]],
                            attributes: dict[str, Any]) -> Any:
        return self._event_value(events, "gen_ai.content.completion", "gen_ai.completion")


# Traceloop / OpenLLMetry (patterns match at the start of an attribute name, as MLflow's do).
TRACELOOP = Convention(
    kind_key="traceloop.span.kind",
    kinds={"workflow": "WORKFLOW", "task": "TASK", "agent": "AGENT", "tool": "TOOL",
           "unknown": "UNKNOWN"},
    input_keys=("traceloop.entity.input", re.compile(r"gen_ai\.prompt\.\d+\.content"),
                re.compile(r"gen_ai\.completion\.\d+\.tool_calls\.\d+\.arguments")),
    output_keys=("traceloop.entity.output", re.compile(r"gen_ai\.completion\.\d+\.content")),
    token_keys=("gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens",
                "llm.usage.total_tokens", None, None),
    provider_key="gen_ai.system",
)

GOOGLE_ADK = Convention(
    input_keys=("gcp.vertex.agent.llm_request", "gcp.vertex.agent.tool_call_args"),
    output_keys=("gcp.vertex.agent.llm_response", "gcp.vertex.agent.tool_response"),
)


class Laminar(Convention):
    kind_key = "lmnr.span.type"
    kinds = {"LLM": "LLM", "TOOL": "TOOL", "DEFAULT": "CHAIN", "PIPELINE": "CHAIN",
             "EXECUTOR": "AGENT", "EVALUATOR": "EVALUATOR", "HUMAN_EVALUATOR": "EVALUATOR",
             "EVALUATION": "EVALUATOR", "CACHED": "LLM"}
    input_keys = ("lmnr.span.input",)
    output_keys = ("lmnr.span.output",)
    token_keys = ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", None, None, None)
    model_keys = ("gen_ai.response.model", "gen_ai.request.model")
    provider_key = "gen_ai.system"

    def message_format(self, attributes: dict[str, Any]) -> str | None:
        return "openai" if "lmnr.span.type" in attributes else None


LANGFUSE = Convention(
    kind_key="langfuse.observation.type",
    kinds={"generation": "LLM", "embedding": "EMBEDDING", "tool": "TOOL",
           "retriever": "RETRIEVER", "agent": "AGENT", "chain": "CHAIN",
           "evaluator": "EVALUATOR", "guardrail": "GUARDRAIL", "span": "UNKNOWN"},
    input_keys=("langfuse.observation.input",),
    output_keys=("langfuse.observation.output",),
)


def not_redacted(attributes: dict[str, Any], key: str) -> Any:
    """Claude Code content: absent when the user did not opt in to logging it."""
    value = present(attributes, key)
    return None if value is None or loads(value) == _REDACTED else value
