"""The runs table's columns, sort and grouping, as plain data the URL can carry.

A column is ``kind:key`` with kind ``m`` (metric, latest value), ``p`` (param), ``t`` (tag)
or ``a`` (run attribute). The URL holds the chosen columns in order (``cols=m:loss,p:lr``),
the sort (``sort=m:loss&dir=asc``) and the grouping (``group=p:optimizer``); MLflow keys may
hold spaces, dots, slashes and colons but never commas, so a comma list is unambiguous.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from trackd.entities.runs import Run

KINDS = {"m": "metrics", "p": "params", "t": "tags", "a": "attributes"}
KIND_LABELS = {"m": "Metric", "p": "Param", "t": "Tag", "a": "Attribute"}
# Attributes MLflow can order runs by; duration is computed, so it has no server-side order.
SORTABLE_ATTRIBUTES = ("run_name", "status", "start_time", "end_time", "user_id", "run_id")
DEFAULT_SORT = ("a:start_time", True)
# Tags every run carries that would only crowd the column chooser.
HIDDEN_TAG_PREFIXES = ("mlflow.log-model.history", "mlflow.note.content", "mlflow.runName")
MAX_DEFAULT_COLUMNS = 40


@dataclass(frozen=True, order=True)
class Column:
    kind: str
    key: str

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.key}"

    @property
    def sortable(self) -> bool:
        return self.kind != "a" or self.key in SORTABLE_ATTRIBUTES

    def order_field(self) -> str:
        if self.kind == "a":
            return f"attributes.{self.key}"
        return f"{KINDS[self.kind]}.`{self.key}`"

    def value(self, row: RunRow) -> Any:
        if self.kind == "m":
            return row.metrics.get(self.key)
        if self.kind == "p":
            return row.params.get(self.key)
        if self.kind == "t":
            return row.tags.get(self.key)
        return getattr(row.run.info, self.key, None)


def parse_column(text: str) -> Column | None:
    kind, sep, key = text.partition(":")
    if not sep or kind not in KINDS or not key or "`" in key:
        return None
    return Column(kind, key)


def parse_columns(raw: str | None) -> list[Column] | None:
    """The chosen columns in order, or None when the URL leaves the choice to the defaults."""
    if raw is None:
        return None
    out: list[Column] = []
    for part in raw.split(","):
        column = parse_column(part.strip())
        if column is not None and column not in out:
            out.append(column)
    return out


def format_columns(columns: Iterable[Column]) -> str:
    return ",".join(c.id for c in columns)


def order_by(sort: Column, descending: bool) -> list[str]:
    return [f"{sort.order_field()} {'DESC' if descending else 'ASC'}"]


@dataclass
class RunRow:
    run: Run
    metrics: dict[str, float]
    params: dict[str, str]
    tags: dict[str, str]

    @property
    def name(self) -> str:
        return self.run.info.run_name or self.tags.get("mlflow.runName") or self.run.info.run_id


def to_rows(runs: Sequence[Run]) -> list[RunRow]:
    return [
        RunRow(
            run,
            {m.key: m.value for m in run.metrics},
            dict(run.params),
            {k: v or "" for k, v in run.tags},
        )
        for run in runs
    ]


def available_keys(rows: Sequence[RunRow], chosen: Sequence[Column]) -> dict[str, list[str]]:
    """Keys the column chooser offers: every key on this page plus the chosen ones."""
    found: dict[str, set[str]] = {"m": set(), "p": set(), "t": set()}
    for row in rows:
        found["m"].update(row.metrics)
        found["p"].update(row.params)
        found["t"].update(k for k in row.tags if not k.startswith(HIDDEN_TAG_PREFIXES))
    for column in chosen:
        if column.kind in found:
            found[column.kind].add(column.key)
    return {kind: sorted(keys) for kind, keys in found.items()}


def default_columns(keys: dict[str, list[str]]) -> list[Column]:
    """Metrics first (what people compare), then params; tags only when asked for."""
    columns = [Column("m", k) for k in keys["m"]] + [Column("p", k) for k in keys["p"]]
    return columns[:MAX_DEFAULT_COLUMNS]


@dataclass
class Group:
    value: str
    rows: list[RunRow]
    # metric key -> (mean, min, max) over the group's runs that logged it
    summary: dict[str, tuple[float, float, float]] = field(default_factory=dict)


def group_rows(rows: Sequence[RunRow], by: Column, metric_keys: Sequence[str]) -> list[Group]:
    groups: dict[str, Group] = {}
    for row in rows:
        raw = by.value(row)
        label = "(none)" if raw in (None, "") else str(raw)
        groups.setdefault(label, Group(label, [])).rows.append(row)
    for group in groups.values():
        for key in metric_keys:
            values = [
                r.metrics[key] for r in group.rows
                if key in r.metrics and not math.isnan(r.metrics[key])
            ]
            if values:
                group.summary[key] = (sum(values) / len(values), min(values), max(values))
    return sorted(groups.values(), key=lambda g: (g.value == "(none)", g.value))
