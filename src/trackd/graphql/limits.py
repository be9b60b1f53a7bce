"""Bounds on a query's shape, checked on the parsed document before anything runs.

A GraphQL document can ask for the same expensive field many times under different aliases,
or nest selections without end; both cost the server far more than the request costs the
sender. The bounds are MLflow 3.18's: at most 10 root fields and 10 aliases in one selection
set (both settable with MLflow's variables, MLFLOW_SERVER_GRAPHQL_MAX_ROOT_FIELDS and
MLFLOW_SERVER_GRAPHQL_MAX_ALIASES), a depth of 10 and 1,000 selections in all. Fragments count
where they are spread, so splitting a query into fragments does not get around them.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

MAX_DEPTH = 10
MAX_SELECTIONS = 1000


@dataclass(frozen=True)
class Limits:
    root_fields: int = 10
    aliases: int = 10


def _fields_of(selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode],
               seen: frozenset[str]) -> list[FieldNode]:
    """The fields one selection set asks for, fragments (inline or spread) merged in."""
    out: list[FieldNode] = []
    pending = list(selection_set.selections)
    seen_here = set(seen)
    while pending:
        node = pending.pop()
        if isinstance(node, FieldNode):
            out.append(node)
        elif isinstance(node, InlineFragmentNode):
            pending.extend(node.selection_set.selections)
        elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen_here:
            seen_here.add(node.name.value)
            fragment = fragments.get(node.name.value)
            if fragment is not None:
                pending.extend(fragment.selection_set.selections)
    return out


def violation(document: DocumentNode, limits: Limits) -> str | None:
    """Why the document is refused, or None when it is within bounds."""
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    selections = 0
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        stack = [(operation.selection_set, 1)]
        while stack:
            selection_set, depth = stack.pop()
            if depth > MAX_DEPTH:
                return f"GraphQL queries may nest at most {MAX_DEPTH} levels deep."
            fields = _fields_of(selection_set, fragments, frozenset())
            if depth == 1 and len(fields) > limits.root_fields:
                return (f"GraphQL queries may have at most {limits.root_fields} root fields; "
                        f"this one has {len(fields)} (MLFLOW_SERVER_GRAPHQL_MAX_ROOT_FIELDS "
                        "raises the limit).")
            aliases = sum(1 for f in fields if f.alias is not None)
            if aliases > limits.aliases:
                return (f"GraphQL queries may use at most {limits.aliases} aliases in one "
                        f"selection; this one uses {aliases} (MLFLOW_SERVER_GRAPHQL_MAX_ALIASES "
                        "raises the limit).")
            selections += len(fields)
            if selections > MAX_SELECTIONS:
                return f"GraphQL queries may select at most {MAX_SELECTIONS} fields in all."
            stack.extend((f.selection_set, depth + 1) for f in fields if f.selection_set)
    return None
