"""Swap the server, keep the traces: a trace stored through trackd is read by ``mlflow server``
3.18 on the same database and artifact destination, and the other way round, with the official
client (info, spans, search, tags)."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient

from .conftest import must, unique_name
from .interop import InteropServers

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*type hint is inferred as AnyType:UserWarning"),
]


@mlflow.trace(name="answer")
def _answer(question: str) -> str:
    with mlflow.start_span("lookup") as span:
        span.set_inputs({"q": question})
        span.set_outputs({"hits": 2})
    mlflow.update_current_trace(tags={"origin": "first-server"},
                                metadata={"mlflow.trace.session": "s-42"})
    return question[::-1]


def _write(url: str) -> tuple[str, str]:
    mlflow.set_tracking_uri(url)
    experiment_id = mlflow.create_experiment(unique_name("traces-interop"))
    mlflow.set_experiment(experiment_id=experiment_id)
    _answer("abc")
    mlflow.flush_trace_async_logging(terminate=False)
    return experiment_id, must(mlflow.get_last_active_trace_id())


def _read(url: str, experiment_id: str, trace_id: str) -> None:
    mlflow.set_tracking_uri(url)
    trace = mlflow.get_trace(trace_id)
    assert trace is not None
    assert trace.info.tags["origin"] == "first-server"
    assert trace.info.tags["mlflow.traceName"] == "answer"
    assert trace.info.trace_metadata["mlflow.trace.session"] == "s-42"
    assert sorted(s.name for s in trace.data.spans) == ["answer", "lookup"]
    lookup = next(s for s in trace.data.spans if s.name == "lookup")
    assert lookup.inputs == {"q": "abc"} and lookup.outputs == {"hits": 2}
    found = mlflow.search_traces(locations=[experiment_id], filter_string="tags.origin = "
                                 "'first-server'", return_type="list")
    assert [t.info.trace_id for t in found] == [trace_id]
    MlflowClient(url).set_trace_tag(trace_id, "seen-by", "second-server")
    assert MlflowClient(url).get_trace(trace_id).info.tags["seen-by"] == "second-server"


@pytest.mark.parametrize("first", ["trackd", "mlflow"])
def test_traces_move_between_servers(interop: InteropServers, first: str) -> None:
    interop.hand_over(first, _write, lambda url, w: _read(url, *w))
