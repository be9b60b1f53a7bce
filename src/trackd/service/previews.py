"""A trace's request/response preview from its root span's stored inputs/outputs, as mlflow
server 3.18 derives it on OTLP ingest: for chat-shaped values (OpenAI chat messages or choices,
Responses API input/output, a ResponsesAgent ``request``) the text of the last message of the
role (user for the request, assistant for the response; the last message when none has it),
else the stored value; at most 1000 characters, longer ones cut to 997 and ``...``.
"""

from __future__ import annotations

import json
from typing import Any

_MAX_CHARS = 1000  # trace_info.request_preview / response_preview are VARCHAR(1000)


class NoPreview(Exception):
    """The stored value is not text (an event value copied as is): MLflow sets no preview from
    it, nor any after it (the response preview, when the request's fails)."""


def preview(raw: Any, role: str) -> str | None:
    if not raw:
        return None
    if not isinstance(raw, str):
        raise NoPreview
    content = None
    try:
        decoded = json.loads(raw)
    except ValueError:
        decoded = None
    if decoded is not None and (messages := _messages(decoded)):
        content = _text(_last(messages, role))
    text = content or raw
    if not isinstance(text, str):
        raise NoPreview
    text = text.replace("\x00", "\ufffd")
    return text if len(text) <= _MAX_CHARS else text[:_MAX_CHARS - 3] + "..."


def _is_message(item: Any) -> bool:
    return isinstance(item, dict) and "role" in item and "content" in item


def _messages(value: Any) -> list[dict[str, Any]] | None:
    if not isinstance(value, dict):
        return None
    if (messages := value.get("messages")) and isinstance(messages, list):
        return [m for m in messages if _is_message(m)]
    choices = value.get("choices")
    if choices and isinstance(choices, list) and isinstance(choices[0], dict) and (
            message := choices[0].get("message")) and _is_message(message):
        return [message]
    for key in ("input", "output"):  # OpenAI Responses API request / response
        if (items := value.get(key)) and isinstance(items, list):
            return [m for m in items if _is_message(m)]
    if "request" in value:  # a ResponsesAgent request wraps a Responses API one
        return _messages(value["request"])
    return None


def _last(messages: list[dict[str, Any]], role: str) -> dict[str, Any]:
    for message in reversed(messages):
        if message.get("role") == role:
            return message
    return messages[-1]


def _text(message: dict[str, Any]) -> Any:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        for part in content:
            if isinstance(part, str):
                return part
            if isinstance(part, dict) and part.get("type") in ("text", "output_text"):
                return part.get("text")
    return ""
