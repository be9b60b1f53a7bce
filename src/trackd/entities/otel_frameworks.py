"""Frameworks whose OTLP spans mlflow server 3.18 translates with rules beyond a table (see
trackd.entities.otel_conventions for the table-driven ones and the helpers)."""

from __future__ import annotations

import json
from typing import Any

from trackd.entities.otel_conventions import (
    GENAI_KINDS,
    Convention,
    GenAi,
    kind_of,
    loads,
    not_redacted,
)

_GENAI_INPUT_EVENTS: dict[str, str | None] = {
    "gen_ai.system.message": "system", "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant"}
_GENAI_OUTPUT_EVENTS: dict[str, str | None] = {"gen_ai.choice": None}


class GeminiCli(GenAi):
    """Gemini CLI: GenAI attributes with its own operation names; messages wrapped in the
    Gemini SDK's shape so MLflow's UI renders them. Only spans of ``gen_ai.agent.name``
    ``gemini-cli`` (token counts, model and tools are read as GenAI's, for any span)."""

    kinds = {"llm_call": "LLM", "tool_call": "TOOL", "agent_call": "AGENT"}

    @staticmethod
    def _mine(attributes: dict[str, Any]) -> bool:
        return loads(attributes.get("gen_ai.agent.name")) == "gemini-cli"

    def span_type(self, attributes: dict[str, Any]) -> str | None:
        return super().span_type(attributes) if self._mine(attributes) else None

    def message_format(self, attributes: dict[str, Any]) -> str | None:
        return "gemini" if self._mine(attributes) else None

    def inputs(self, attributes: dict[str, Any]) -> Any:
        if not self._mine(attributes) or not (value := super().inputs(attributes)):
            return None
        decoded = loads(value)
        # MLflow rewrites system prompts' role only when the operation name is the bare
        # string, which a stored (JSON-encoded) attribute never is: so never, over OTLP.
        if isinstance(decoded, dict) and "contents" in decoded:
            return value
        return json.dumps({"contents": decoded}) if isinstance(decoded, list | str) else value

    def outputs(self, attributes: dict[str, Any]) -> Any:
        if not self._mine(attributes) or not (value := super().outputs(attributes)):
            return None
        decoded = loads(value)
        if isinstance(decoded, list):
            parts = [part for item in decoded if isinstance(item, dict)
                     and isinstance(item.get("parts"), list) for part in item["parts"]]
            if parts:
                return json.dumps({"candidates": [{"content": {"role": "model",
                                                               "parts": parts}}]})
        return value


_CLAUDE_KINDS = {"claude_code.interaction": "AGENT", "claude_code.llm_request": "LLM",
                 "claude_code.tool": "TOOL"}
_CLAUDE_TOOL_DETAILS = ("full_command", "file_path", "skill_name", "subagent_type")


class ClaudeCode(Convention):
    """Claude Code: ``span.type`` names the span (with or without the ``claude_code.``
    prefix); bare token keys, input counted with cache tokens; redacted content skipped."""

    @staticmethod
    def _kind(attributes: dict[str, Any]) -> str | None:
        kind = loads(attributes.get("span.type"))
        if not isinstance(kind, str):
            return None
        if not kind.startswith("claude_code."):
            kind = "claude_code." + kind
        return kind if kind in _CLAUDE_KINDS else None

    @staticmethod
    def _int(attributes: dict[str, Any], key: str) -> int | None:
        value = loads(attributes.get(key))
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    def span_type(self, attributes: dict[str, Any]) -> str | None:
        kind = self._kind(attributes)
        return _CLAUDE_KINDS[kind] if kind else None

    def tokens(self, attributes: dict[str, Any]) -> list[Any]:
        if self._kind(attributes) != "claude_code.llm_request":
            return [None] * 5
        read = self._int(attributes, "cache_read_tokens")
        created = self._int(attributes, "cache_creation_tokens")
        given = self._int(attributes, "input_tokens")
        inputs = None if given is None else given + (read or 0) + (created or 0)
        return [inputs, self._int(attributes, "output_tokens"), None, read, created]

    def inputs(self, attributes: dict[str, Any]) -> Any:
        kind = self._kind(attributes)
        if kind == "claude_code.interaction":
            return (not_redacted(attributes, "user_prompt")
                    or not_redacted(attributes, "new_context"))
        if kind == "claude_code.llm_request":
            return not_redacted(attributes, "new_context")
        if kind == "claude_code.tool":
            if tool_input := not_redacted(attributes, "tool_input"):
                return tool_input
            details = {key: loads(value) for key in _CLAUDE_TOOL_DETAILS
                       if (value := not_redacted(attributes, key))}
            return json.dumps(details) if details else None
        return None

    def outputs(self, attributes: dict[str, Any]) -> Any:
        kind = self._kind(attributes)
        if kind == "claude_code.llm_request":
            return not_redacted(attributes, "response.model_output")
        if kind == "claude_code.tool":
            return not_redacted(attributes, "new_context")
        return None

    def outputs_from_events(self, events: list[dict[str, Any]],
                            attributes: dict[str, Any]) -> Any:
        if self._kind(attributes) != "claude_code.tool":
            return None
        for event in events:
            if event.get("name") == "tool.output":
                event_attributes = event.get("attributes") or {}
                for key in ("output", "content", "diff"):
                    value = loads(event_attributes.get(key))
                    if value and value != "<REDACTED>":
                        return json.dumps(value, ensure_ascii=False, default=str)
        return None


def _deep_loads(value: Any, depth: int = 2) -> Any:
    """Vercel's values may be JSON inside JSON: decoded up to three times."""
    if not isinstance(value, str):
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return _deep_loads(decoded, depth - 1) if depth > 0 else decoded


class VercelAi(Convention):
    """Vercel AI SDK. Its model-call spans spread the prompt over ``ai.prompt.*`` and the
    response over ``ai.response.*``: gathered into one object each."""

    kind_key = "ai.operationId"
    kinds = {"ai.generateText": "LLM", "ai.generateText.doGenerate": "LLM",
             "ai.toolCall": "TOOL", "ai.streamText": "LLM", "ai.streamText.doStream": "LLM",
             "ai.generateObject": "LLM", "ai.generateObject.doGenerate": "LLM",
             "ai.streamObject": "LLM", "ai.streamObject.doStream": "LLM",
             "ai.embed": "EMBEDDING", "ai.embed.doEmbed": "EMBEDDING",
             "ai.embedMany": "EMBEDDING"}
    input_keys = ("ai.prompt", "ai.toolCall.args", "ai.value", "ai.values")
    output_keys = ("ai.response.text", "ai.toolCall.result", "ai.response.object",
                   "ai.embedding", "ai.embeddings")
    _CALLS = ("ai.generateText.doGenerate", "ai.streamText.doStream")

    def _is_call(self, attributes: dict[str, Any]) -> bool:
        return _deep_loads(attributes.get(self.kind_key)) in self._CALLS

    @staticmethod
    def _gathered(attributes: dict[str, Any], prefix: str) -> dict[str, Any]:
        return {key[len(prefix):]: _deep_loads(value) for key, value in attributes.items()
                if key.startswith(prefix)}

    def inputs(self, attributes: dict[str, Any]) -> Any:
        if not self._is_call(attributes):
            return super().inputs(attributes)
        prompt = self._gathered(attributes, "ai.prompt.")
        if "tools" in prompt:
            prompt["tools"] = [_deep_loads(tool) for tool in prompt["tools"]]
        # MLflow marks the span's message format here, unencoded (the only such attribute).
        attributes["mlflow.message.format"] = "vercel_ai"
        return json.dumps(prompt) if prompt else None

    def outputs(self, attributes: dict[str, Any]) -> Any:
        if not self._is_call(attributes):
            return super().outputs(attributes)
        response = self._gathered(attributes, "ai.response.")
        return json.dumps(response) if response else None


class VoltAgent(Convention):
    """VoltAgent: ``span.type`` on child spans, ``entity.type`` (inherited from the agent)
    only as a fallback; bare ``input`` / ``output`` attributes."""

    kinds = {"agent": "AGENT", "llm": "LLM", "tool": "TOOL", "memory": "MEMORY"}
    input_keys = ("agent.messages", "llm.messages", "input")
    output_keys = ("output",)

    def span_type(self, attributes: dict[str, Any]) -> str | None:
        for key in ("span.type", "entity.type"):
            kind = loads(attributes.get(key))
            if kind and (mlflow_type := kind_of(self.kinds, kind)):
                return mlflow_type
        return None

    def message_format(self, attributes: dict[str, Any]) -> str | None:
        if "voltagent.operation_id" in attributes or "voltagent.conversation_id" in attributes:
            return "voltagent"
        return None

    def tokens(self, attributes: dict[str, Any]) -> list[Any]:
        return [attributes.get(f"usage.{name}") or attributes.get(f"llm.usage.{name}")
                for name in ("prompt_tokens", "completion_tokens", "total_tokens")] + [None, None]


class LiveKit(GenAi):
    """LiveKit Agents: GenAI attributes and message events plus ``lk.*`` attributes; a span
    with a requested model is an LLM call, others are typed by their ``lk.*`` keys."""

    input_keys = ("lk.user_input", "lk.user_transcript", "lk.chat_ctx", "lk.input_text")
    output_keys = ("lk.response.text", "lk.response.function_calls")

    def span_type(self, attributes: dict[str, Any]) -> str | None:
        if "gen_ai.request.model" in attributes:
            return "LLM"
        operation = attributes.get("gen_ai.operation.name")
        if operation and (mlflow_type := GENAI_KINDS.get(str(loads(operation)).lower())):
            return mlflow_type
        for key in attributes:
            if key == "lk.retry_count":
                return "LLM"
            if key.startswith("lk.function_tool"):
                return "TOOL"
            if key in ("lk.agent_name", "lk.instructions", "lk.generation_id"):
                return "AGENT"
            if key.startswith("lk.tts") or key in (
                    "lk.input_text", "lk.user_transcript", "lk.transcript_confidence",
                    "lk.transcription_delay"):
                return "UNKNOWN"
        return None

    def message_format(self, attributes: dict[str, Any]) -> str | None:
        return "livekit" if any(key.startswith("lk.") for key in attributes) else None

    def inputs_from_events(self, events: list[dict[str, Any]],
                           attributes: dict[str, Any]) -> Any:
        return self.genai_events(events, _GENAI_INPUT_EVENTS)

    def outputs_from_events(self, events: list[dict[str, Any]],
                            attributes: dict[str, Any]) -> Any:
        return self.genai_events(events, _GENAI_OUTPUT_EVENTS)

