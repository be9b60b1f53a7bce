"""Spans of other instrumentations (OpenTelemetry GenAI, OpenInference, Traceloop and the
frameworks mlflow server 3.18 also knows), sent by the real OpenTelemetry SDK's OTLP exporter,
read back with the official client: their own attributes become MLflow's span type, inputs,
outputs, token usage and model, and the trace's previews and token usage follow. Against
trackd and, with ``--compat-target mlflow``, mlflow server
(docs/mlflow-captures/otel-translation.md).
Model names are made up, so that no span is priced (pricing: test_llm_cost.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mlflow import MlflowClient
from opentelemetry.trace import Span
from support.otlp_export import otlp_provider, read_finished_trace

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

IN = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}])
OUT = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "Sunny"}]}])


def _send(url: str, experiment_id: str, build: Callable[[Any, Span], None],
          n_spans: int, client: MlflowClient) -> Any:
    """One trace whose root ``build`` fills (it may open children), read back whole."""
    provider = otlp_provider(url, experiment_id)
    tracer = provider.get_tracer("translation-test")
    with tracer.start_as_current_span("root") as root:
        build(tracer, root)
        trace_id = f"tr-{root.get_span_context().trace_id:032x}"
    provider.shutdown()
    return read_finished_trace(client, trace_id, n_spans)


def _child(tracer: Any, name: str, attributes: dict[str, Any],
           events: tuple[tuple[str, dict[str, Any]], ...] = ()) -> None:
    with tracer.start_as_current_span(name, attributes=attributes) as span:
        for event_name, event_attributes in events:
            span.add_event(event_name, event_attributes)


def _by_name(trace: Any) -> dict[str, Any]:
    return {s.name: s for s in trace.data.spans}


def test_genai_semantic_conventions(client: MlflowClient, experiment_id: str,
                                    tracking_uri: str) -> None:
    def build(tracer: Any, root: Span) -> None:
        root.set_attributes({"gen_ai.operation.name": "invoke_agent",
                             "gen_ai.input.messages": IN, "gen_ai.output.messages": OUT})
        _child(tracer, "chat", {
            "gen_ai.operation.name": "chat", "gen_ai.request.model": "acme-1",
            "gen_ai.response.model": "acme-1-2025", "gen_ai.provider.name": "acme",
            "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5,
            "gen_ai.usage.cache_read.input_tokens": 2,
            "gen_ai.usage.cache_creation.input_tokens": 1,
            "gen_ai.tool.definitions": json.dumps([{"type": "function", "name": "weather"}])})
        _child(tracer, "tool", {"gen_ai.operation.name": "execute_tool",
                                "gen_ai.tool.call.arguments": json.dumps({"city": "Paris"}),
                                "gen_ai.tool.call.result": "sunny"})
        _child(tracer, "events", {"gen_ai.operation.name": "text_completion",
                                  "gen_ai.usage.input_tokens": 3},
               (("gen_ai.system.message", {"content": "be brief"}),
                ("gen_ai.user.message", {"content": "hi"}),
                ("gen_ai.choice", {"content": "hello", "index": 0})))
        _child(tracer, "other", {"gen_ai.operation.name": "something_else"})

    trace = _send(tracking_uri, experiment_id, build, 5, client)
    spans = _by_name(trace)
    assert spans["root"].span_type == "AGENT"
    assert spans["root"].inputs == json.loads(IN)
    assert spans["root"].outputs == json.loads(OUT)
    chat = spans["chat"]
    assert chat.span_type == "CHAT_MODEL"
    assert chat.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 10, "output_tokens": 5, "total_tokens": 15,
        "cache_read_input_tokens": 2, "cache_creation_input_tokens": 1}
    assert chat.attributes["mlflow.llm.model"] == "acme-1-2025"
    assert chat.attributes["mlflow.llm.provider"] == "acme"
    assert chat.attributes["mlflow.chat.tools"] == [{"type": "function", "name": "weather"}]
    assert (spans["tool"].span_type, spans["tool"].inputs, spans["tool"].outputs) == (
        "TOOL", {"city": "Paris"}, "sunny")
    events = spans["events"]
    assert events.span_type == "LLM"
    assert events.inputs == [{"role": "system", "content": "be brief"},
                             {"role": "user", "content": "hi"}]
    assert events.outputs == [{"role": "assistant", "content": "hello"}]
    assert spans["other"].span_type is None
    assert "mlflow.spanInputs" not in spans["other"].attributes
    assert trace.info.request_preview == IN
    assert trace.info.response_preview == OUT
    # Totals are the reported totals summed (the events span reports none): 15, not 18.
    assert trace.info.token_usage == {
        "input_tokens": 13, "output_tokens": 5, "total_tokens": 15,
        "cache_read_input_tokens": 2, "cache_creation_input_tokens": 1}


def test_openinference(client: MlflowClient, experiment_id: str, tracking_uri: str) -> None:
    def build(tracer: Any, root: Span) -> None:
        root.set_attributes({"openinference.span.kind": "CHAIN",
                             "input.value": "What is 2+2?", "output.value": "4"})
        _child(tracer, "llm", {
            "openinference.span.kind": "LLM",
            "input.value": json.dumps({"messages": [{"role": "user", "content": "2+2"}]}),
            "output.value": json.dumps({"text": "4"}),
            "llm.token_count.prompt": 12, "llm.token_count.completion": 3,
            "llm.token_count.total": 15, "llm.token_count.prompt_details.cache_read": 4,
            "llm.model_name": "acme-2", "llm.provider": "acme"})
        _child(tracer, "retriever", {"openinference.span.kind": "RETRIEVER",
                                     "input.value": "", "output.value": "{}"})
        _child(tracer, "prompt", {"openinference.span.kind": "PROMPT",
                                  "llm.token_count.prompt": "8"})

    trace = _send(tracking_uri, experiment_id, build, 4, client)
    spans = _by_name(trace)
    assert (spans["root"].span_type, spans["root"].inputs, spans["root"].outputs) == (
        "CHAIN", "What is 2+2?", "4")
    llm = spans["llm"]
    assert llm.span_type == "LLM"
    assert llm.inputs == {"messages": [{"role": "user", "content": "2+2"}]}
    assert llm.outputs == {"text": "4"}
    assert llm.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 12, "output_tokens": 3, "total_tokens": 15,
        "cache_read_input_tokens": 4}
    assert llm.attributes["mlflow.llm.model"] == "acme-2"
    assert spans["retriever"].span_type == "RETRIEVER"
    assert "mlflow.spanInputs" not in spans["retriever"].attributes
    assert "mlflow.spanOutputs" not in spans["retriever"].attributes
    assert spans["prompt"].span_type is None
    assert spans["prompt"].attributes["mlflow.chat.tokenUsage"] == {"input_tokens": 8}
    assert trace.info.request_preview == '"What is 2+2?"'
    assert trace.info.response_preview == '"4"'
    assert trace.info.token_usage == {"input_tokens": 20, "output_tokens": 3,
                                      "total_tokens": 15, "cache_read_input_tokens": 4}


def test_traceloop(client: MlflowClient, experiment_id: str, tracking_uri: str) -> None:
    def build(tracer: Any, root: Span) -> None:
        root.set_attributes({"traceloop.span.kind": "workflow",
                             "traceloop.entity.input": json.dumps({"args": ["hello"]}),
                             "traceloop.entity.output": json.dumps("HELLO")})
        _child(tracer, "openai.chat", {
            "gen_ai.system": "openai", "gen_ai.request.model": "acme-3",
            "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "hello",
            "gen_ai.completion.0.content": "HELLO", "gen_ai.usage.prompt_tokens": 6,
            "gen_ai.usage.completion_tokens": 2, "llm.usage.total_tokens": 8})
        _child(tracer, "task", {"traceloop.span.kind": "task",
                                "traceloop.entity.input": "plain text in"})
        _child(tracer, "tool", {"traceloop.span.kind": "tool",
                                "gen_ai.completion.0.tool_calls.0.arguments":
                                    json.dumps({"x": 1})})

    trace = _send(tracking_uri, experiment_id, build, 4, client)
    spans = _by_name(trace)
    assert (spans["root"].span_type, spans["root"].inputs, spans["root"].outputs) == (
        "WORKFLOW", {"args": ["hello"]}, "HELLO")
    chat = spans["openai.chat"]
    assert (chat.span_type, chat.inputs, chat.outputs) == ("LLM", "hello", "HELLO")
    assert chat.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 6, "output_tokens": 2, "total_tokens": 8}
    assert chat.attributes["mlflow.llm.model"] == "acme-3"
    assert chat.attributes["mlflow.llm.provider"] == "openai"
    assert (spans["task"].span_type, spans["task"].inputs) == ("TASK", "plain text in")
    assert (spans["tool"].span_type, spans["tool"].inputs) == ("TOOL", {"x": 1})
    assert trace.info.request_preview == '{"args": ["hello"]}'
    assert trace.info.response_preview == '"HELLO"'
    assert trace.info.token_usage == {"input_tokens": 6, "output_tokens": 2, "total_tokens": 8}


def test_mlflow_attributes_win_and_conventions_are_consulted_in_order(
        client: MlflowClient, experiment_id: str, tracking_uri: str) -> None:
    def build(tracer: Any, root: Span) -> None:
        root.set_attributes({
            "mlflow.spanType": json.dumps("AGENT"), "openinference.span.kind": "TOOL",
            "mlflow.spanInputs": json.dumps({"q": "mine"}), "input.value": "theirs",
            "output.value": "oi-out", "traceloop.entity.output": "tl-out",
            "mlflow.chat.tokenUsage": json.dumps(
                {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}),
            "llm.token_count.prompt": 100})
        _child(tracer, "unknown", {
            "mlflow.spanType": json.dumps("UNKNOWN"), "gen_ai.operation.name": "chat",
            "traceloop.span.kind": "tool", "gen_ai.usage.input_tokens": 4,
            "llm.token_count.completion": 9})
        _child(tracer, "mixed", {"traceloop.span.kind": "tool", "gen_ai.operation.name": "chat",
                                 "gen_ai.output.messages": "[]",
                                 "traceloop.entity.output": "tl"})
        _child(tracer, "model-in-inputs", {
            "mlflow.spanInputs": json.dumps({"model": "acme-in", "q": 1})})

    trace = _send(tracking_uri, experiment_id, build, 4, client)
    spans = _by_name(trace)
    root = spans["root"]
    assert (root.span_type, root.inputs, root.outputs) == ("AGENT", {"q": "mine"}, "oi-out")
    assert root.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
    assert spans["unknown"].span_type == "CHAT_MODEL"
    assert spans["unknown"].attributes["mlflow.chat.tokenUsage"] == {"output_tokens": 9}
    assert (spans["mixed"].span_type, spans["mixed"].outputs) == ("CHAT_MODEL", "tl")
    assert spans["model-in-inputs"].attributes["mlflow.llm.model"] == "acme-in"
    assert trace.info.request_preview == '{"q": "mine"}'
    assert trace.info.token_usage == {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}


def test_other_frameworks(client: MlflowClient, experiment_id: str, tracking_uri: str) -> None:
    def build(tracer: Any, root: Span) -> None:
        root.set_attributes({"langfuse.observation.type": "agent",
                             "langfuse.observation.input": json.dumps({"q": "lf"}),
                             "langfuse.observation.output": "lf-out"})
        _child(tracer, "laminar", {"lmnr.span.type": "LLM", "lmnr.span.input": "x",
                                   "lmnr.span.output": "y", "gen_ai.system": "acme"})
        _child(tracer, "adk", {"gcp.vertex.agent.llm_request": json.dumps({"contents": []}),
                               "gcp.vertex.agent.llm_response": json.dumps({"text": "ok"})})
        _child(tracer, "vercel", {
            "ai.operationId": "ai.generateText.doGenerate",
            "ai.prompt.messages": json.dumps([{"role": "user", "content": "hi"}]),
            "ai.response.text": "hey", "ai.response.finishReason": "stop"})
        _child(tracer, "voltagent", {"entity.type": "agent", "span.type": "tool",
                                     "input": json.dumps({"v": 1}), "output": "vout",
                                     "voltagent.operation_id": "op1",
                                     "usage.prompt_tokens": 2})
        _child(tracer, "spring", {"gen_ai.operation.name": "chat"},
               (("gen_ai.content.prompt", {"gen_ai.prompt": "spring in"}),
                ("gen_ai.content.completion", {"gen_ai.completion": "spring out"})))
        _child(tracer, "livekit", {"lk.agent_name": "bot", "lk.user_input": "lk in"})
        _child(tracer, "claude", {"span.type": "claude_code.llm_request", "input_tokens": 10,
                                  "cache_read_tokens": 5, "output_tokens": 3,
                                  "new_context": "ctx",
                                  "response.model_output": "<REDACTED>"})
        _child(tracer, "gemini", {
            "gen_ai.agent.name": "gemini-cli", "gen_ai.operation.name": "llm_call",
            "gen_ai.input.messages": "hello gemini",
            "gen_ai.output.messages": json.dumps([{"role": "model", "parts": [{"text": "a"}]},
                                                  {"role": "model", "parts": [{"text": "b"}]}])})

    trace = _send(tracking_uri, experiment_id, build, 9, client)
    spans = _by_name(trace)
    got = {name: (s.span_type, s.inputs, s.outputs) for name, s in spans.items()}
    assert got == {
        "root": ("AGENT", {"q": "lf"}, "lf-out"),
        "laminar": ("LLM", "x", "y"),
        "adk": (None, {"contents": []}, {"text": "ok"}),
        "vercel": ("LLM", {"messages": [{"role": "user", "content": "hi"}]},
                   {"text": "hey", "finishReason": "stop"}),
        "voltagent": ("TOOL", {"v": 1}, "vout"),
        "spring": ("CHAT_MODEL", "spring in", "spring out"),
        "livekit": ("AGENT", "lk in", None),
        "claude": ("LLM", "ctx", None),
        "gemini": ("LLM", {"contents": "hello gemini"},
                   {"candidates": [{"content": {"role": "model",
                                                "parts": [{"text": "a"}, {"text": "b"}]}}]}),
    }
    formats = {name: s.attributes.get("mlflow.message.format") for name, s in spans.items()}
    assert formats == {"root": None, "laminar": "openai", "adk": None, "vercel": "vercel_ai",
                       "voltagent": "voltagent", "spring": None, "livekit": "livekit",
                       "claude": None, "gemini": "gemini"}
    assert spans["claude"].attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 15, "output_tokens": 3, "total_tokens": 18,
        "cache_read_input_tokens": 5}
    assert spans["laminar"].attributes["mlflow.llm.provider"] == "acme"
    assert trace.info.token_usage == {"input_tokens": 17, "output_tokens": 3,
                                      "total_tokens": 18, "cache_read_input_tokens": 5}


def test_previews_of_chat_shaped_and_long_values(client: MlflowClient, experiment_id: str,
                                                 tracking_uri: str) -> None:
    def chat(tracer: Any, root: Span) -> None:
        root.set_attributes({
            "openinference.span.kind": "LLM",
            "input.value": json.dumps({"messages": [
                {"role": "system", "content": "be brief"}, {"role": "user", "content": "2+2?"},
                {"role": "assistant", "content": "4"},
                {"role": "user", "content": [{"type": "text", "text": "and 3+3?"}]}]}),
            "output.value": json.dumps({"choices": [
                {"message": {"role": "assistant", "content": "6"}}]})})

    trace = _send(tracking_uri, experiment_id, chat, 1, client)
    assert (trace.info.request_preview, trace.info.response_preview) == ("and 3+3?", "6")

    def long(tracer: Any, root: Span) -> None:
        root.set_attributes({"input.value": "é" * 1200, "output.value": "x" * 998})

    trace = _send(tracking_uri, experiment_id, long, 1, client)
    # The stored value is JSON: its quotes count.
    assert trace.info.request_preview == '"' + "é" * 996 + "..."
    assert trace.info.response_preview == '"' + "x" * 998 + '"'  # exactly 1000

    def unencoded(tracer: Any, root: Span) -> None:
        # Spring AI's event values are stored as sent: a number is no preview, for either.
        root.set_attribute("gen_ai.operation.name", "chat")
        root.add_event("gen_ai.content.prompt", {"gen_ai.prompt": "spring in"})
        root.add_event("gen_ai.content.completion", {"gen_ai.completion": 42})

    trace = _send(tracking_uri, experiment_id, unencoded, 1, client)
    assert (trace.info.request_preview, trace.info.response_preview) == ("spring in", None)
    assert trace.data.spans[0].outputs == 42
