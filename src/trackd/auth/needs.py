"""What the sub-resource operations need (auth/tiers.py), read from the request's fields.

:mod:`trackd.auth.targets` looks the ids up and asks ``AuthService.meets`` with these.
"""

from __future__ import annotations

from typing import Any

from trackd.auth import rules, tiers
from trackd.auth.fields import required, value
from trackd.errors import missing_parameter


def trace_delete_needs(experiment_id: str) -> list[tiers.Need]:
    """Deleting traces deletes their assessments too: both tiers decide, the trace tier
    falling back to the experiment's DELETE, the assessment tier to its UPDATE."""
    def experiment(action: str) -> tiers.Need:
        return tiers.Need(tiers.EXPERIMENT, experiment_id, action)

    return [experiment("read"),
            tiers.Need(tiers.TRACE, "*", "delete", fallback=(experiment("delete"),)),
            tiers.Need(tiers.ASSESSMENT, "*", "delete", fallback=(experiment("update"),))]


def scorer_needs(target: str, action: str, fields: dict[str, Any]) -> list[tiers.Need]:
    experiment_id = required(fields, "experiment_id")
    name = value(fields, "scorer_name" if target == rules.SCORER_INVOKE else "name")
    key = None if name is None else tiers.scorer_key(experiment_id, str(name))

    def scorer(act: str) -> tiers.Need:
        return tiers.Need(tiers.SCORER, key or "", act)

    def versions(act: str) -> tiers.Need:
        return tiers.Need(tiers.SCORER_VERSION, "*", act,
                          fallback=() if key is None else (scorer(act),))

    if target == rules.SCORER:  # the scorer's own grants decide, not the experiment's
        if key is None:
            raise missing_parameter("name")
        if action == "read":
            return [scorer("read"), versions(tiers.NOT_DENIED)]
        # Deleting one version needs only to read the scorer; the whole scorer, DELETE.
        addressed = "read" if value(fields, "version") is not None else "delete"
        return [scorer(addressed), versions("delete")]
    needs = [tiers.Need(tiers.EXPERIMENT, experiment_id, "update")]
    if target == rules.SCORER_INVOKE:
        needs.append(tiers.Need(tiers.TRACE, "*", tiers.NOT_DENIED))
        if fields.get("log_assessments"):
            needs.append(tiers.Need(tiers.ASSESSMENT, "*", tiers.NOT_DENIED))
        if key is None:
            return [*needs, tiers.Need(tiers.SCORER_VERSION, "*", tiers.NOT_DENIED)]
        return [*needs, scorer(tiers.NOT_DENIED), versions(tiers.NOT_DENIED)]
    if key is None:
        raise missing_parameter("name")
    return [*needs, scorer(tiers.NOT_DENIED),
            tiers.Need(tiers.SCORER_VERSION, "*", tiers.NOT_DENIED)]


def carries_assessments(fields: dict[str, Any]) -> bool:
    trace = fields.get("trace")
    info = trace.get("trace_info") if isinstance(trace, dict) else None
    return isinstance(info, dict) and bool(info.get("assessments"))


def models_named(fields: dict[str, Any]) -> list[str]:
    found = {value(fields, "model_id")}
    for list_name in ("metrics", "models"):
        for item in fields.get(list_name) or []:
            if isinstance(item, dict):
                found.add(value(item, "model_id"))
    return sorted(str(i) for i in found if i is not None and not isinstance(i, dict | list))


def trace_infos(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The trace_info objects of a trace read's answer, whatever its shape: ``trace``
    (get), ``traces`` of traces (batchGet) or of trace infos (search v3, batchGetInfos)."""
    found = []
    holders = [data.get("trace")] + list(data.get("traces") or [])
    for holder in holders:
        if not isinstance(holder, dict):
            continue
        info = holder.get("trace_info", holder)
        if isinstance(info, dict):
            found.append(info)
    return found
