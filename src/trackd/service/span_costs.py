"""A trace's cost (metadata ``mlflow.trace.cost``, the trace_info cost columns): the spans'
``mlflow.llm.cost`` summed as mlflow server 3.18 sums it when it stores spans, counting a span
only when no span above it has a cost (a priced parent already covers its children)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from sqlalchemy import Connection

from trackd.entities.otlp import SpanRow
from trackd.entities.traces import COST_METADATA
from trackd.store import spans as span_store
from trackd.store.spans import SpanCost

_KEYS = ("input_cost", "output_cost", "total_cost")


def batch_cost(spans: Sequence[SpanRow]) -> dict[str, str]:
    """The cost metadata of a trace that arrived whole, from its spans in hand."""
    priced = [(s.span_id, s.parent_span_id, s.costs) for s in spans if s.costs]
    return _metadata(priced, lambda: {s.span_id: s.parent_span_id for s in spans})


def stored_cost(conn: Connection, trace_id: str) -> dict[str, str]:
    """The cost metadata of a trace from all its stored spans (they may have come in pieces)."""
    return _metadata(span_store.priced_spans(conn, trace_id),
                     lambda: span_store.parents(conn, trace_id))


def _metadata(priced: list[SpanCost],
              parents: Callable[[], dict[str, str | None]]) -> dict[str, str]:
    if not priced:
        return {}
    with_cost = {span_id for span_id, _, _ in priced}
    parent_of = parents()  # every span's parent: unpriced spans may sit between priced ones
    totals = dict.fromkeys(_KEYS, 0.0)
    for _span_id, parent, cost in priced:
        if not _has_priced_ancestor(parent, with_cost, parent_of):
            for key in _KEYS:
                totals[key] += cost.get(key, 0.0)
    return {COST_METADATA: json.dumps(totals)}


def _has_priced_ancestor(parent: str | None, with_cost: set[str],
                         parent_of: dict[str, str | None]) -> bool:
    seen: set[str] = set()
    while parent is not None and parent not in seen:
        if parent in with_cost:
            return True
        seen.add(parent)
        parent = parent_of.get(parent)
    return False
