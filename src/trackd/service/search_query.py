"""One search request's parsed parts, checked in MLflow's order: page size, filter, order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trackd.service.filters import Clause, parse_filter
from trackd.service.order_by import OrderKey, parse_order_by, with_tiebreakers
from trackd.service.paging import check_max_results


@dataclass(frozen=True)
class SearchQuery:
    clauses: tuple[Clause, ...]
    order_by: tuple[OrderKey, ...]
    limit: int


def parse_search(
    kind: str,
    filter_string: str | None,
    order_by: Sequence[str],
    max_results: int | None,
    *,
    tiebreakers: bool = False,
) -> SearchQuery:
    """Parse a search of ``kind``; ``tiebreakers`` appends the store's final sort keys (the
    run and experiment searches add their own)."""
    limit = check_max_results(kind, max_results)
    clauses = parse_filter(kind, filter_string)
    keys = parse_order_by(kind, order_by)
    return SearchQuery(clauses, with_tiebreakers(kind, keys) if tiebreakers else keys, limit)
