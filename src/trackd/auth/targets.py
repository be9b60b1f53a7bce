"""Turning a request into "action A on resource R" and deciding it; hooks around the handler.

Experiments carry the grants of everything inside them (runs, metrics, logged models, traces,
artifacts), registered models carry their versions': that is MLflow's model, and the reason a
run id is looked up to its experiment before anything else.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import PlainTextResponse, Response
from starlette.types import Scope

from trackd.api._http import error_response
from trackd.auth import needs, review_queues, rules, tiers
from trackd.auth.fields import required as _required
from trackd.auth.fields import value
from trackd.auth.service import AuthService
from trackd.auth.store import User
from trackd.errors import not_found


def _forbidden() -> Response:
    return PlainTextResponse("Permission denied", status_code=403)


async def _experiment_allows(auth: AuthService, user: User, experiment_id: str | None,
                             action: str) -> bool:
    if experiment_id is None:
        return False  # a run/model/trace that does not exist: deny, not an existence oracle
    return (await auth.permission(user, "experiment", experiment_id)).allows(action)


async def _inside_allows(auth: AuthService, user: User, kind: str, key: str, tier: str,
                         action: str) -> bool:
    """An act on an existing run / trace / logged model: READ on its experiment, then the
    tier's grant (or, without one, the experiment's) decides ``action``."""
    experiment_id = await auth.lookups.experiment_of(kind, key)
    if experiment_id is None:
        return False  # does not exist: deny, not an existence oracle
    return await auth.meets(user, tiers.under_experiment(experiment_id, tier, action))


async def _all_inside_allow(auth: AuthService, user: User, kind: str, keys: list[str],
                            tier: str, action: str) -> bool:
    needs: list[tiers.Need] = []
    for key in keys:
        experiment_id = await auth.lookups.experiment_of(kind, key)
        if experiment_id is None:
            return False
        needs += tiers.under_experiment(experiment_id, tier, action)
    return await auth.meets(user, needs)


async def _creates(auth: AuthService, user: User, experiment_id: str | None, tier: str,
                   *also: tiers.Need) -> bool:
    if experiment_id is None:
        return False
    return await auth.meets(user, tiers.create_in_experiment(experiment_id, tier, *also))


async def check(auth: AuthService, user: User, rule: rules.Rule, params: dict[str, str],
                fields: dict[str, Any], scope: Scope) -> Response | None:
    """None when the (non-admin) user may go on; otherwise the answer to send instead."""
    target, action = rule.target, rule.action
    if target == rules.AUTHENTICATED:
        return None
    if target == rules.ADMIN:
        return _forbidden()
    lookups = auth.lookups
    ok: bool
    if target == rules.EXPERIMENT:
        experiment_id = params.get("experiment_id") or _required(fields, "experiment_id")
        if rule.tier is not None:  # creating a run / logged model in it
            ok = await _creates(auth, user, experiment_id, rule.tier)
            source_run = value(fields, "source_run_id")
            if ok and rule.tier == tiers.LOGGED_MODEL and source_run is not None:
                ok = await _inside_allows(auth, user, "run", str(source_run), tiers.RUN, "read")
        else:
            ok = await _experiment_allows(auth, user, experiment_id, action)
    elif target == rules.EXPERIMENT_NAME:
        name = _required(fields, "experiment_name")
        found = await lookups.experiment_by_name(name)
        if found is None:
            return error_response(not_found(f"Could not find experiment with name {name}"))
        ok = await _experiment_allows(auth, user, found, action)
    elif target == rules.EXPERIMENTS:
        ids = value(fields, "experiment_ids", as_list=True) or []
        ok = bool(ids) and all([await _experiment_allows(auth, user, str(i), action)
                                for i in ids])
    elif target == rules.RUN:
        run_id = params.get("run_id") or _required(fields, rule.source or "run_id")
        ok = await _inside_allows(auth, user, "run", run_id, tiers.RUN, action)
    elif target in (rules.RUN_WRITE, rules.RUN_LINK_TRACES):
        ok = await _run_write_allows(auth, user, target, fields)
    elif target == rules.RUNS:
        ids = value(fields, rule.source or "run_ids", as_list=True) or []
        if rule.source == "runs":  # the compare page: ?runs=a,b,c
            ids = [i.strip() for raw in ids for i in str(raw).split(",") if i.strip()]
        ok = bool(ids) or rule.source == "runs"  # an empty compare page shows nothing
        ok = ok and await _all_inside_allow(auth, user, "run", [str(i) for i in ids],
                                            tiers.RUN, action)
    elif target == rules.LOGGED_MODEL:
        model_id = params.get("model_id") or _required(fields, "model_id")
        ok = await _inside_allows(auth, user, "logged_model", model_id, tiers.LOGGED_MODEL,
                                  action)
    elif target == rules.MODEL:
        name = _required(fields, "name")
        ok = (await auth.permission(user, "registered_model", name)).allows(action)
    elif target == rules.ARTIFACT:
        raw = params.get("artifact_path") if rule.source is None else value(fields, rule.source)
        ok = await _experiment_allows(auth, user, _artifact_experiment(raw), action)
    elif target == rules.TRACE:
        name = rule.source or "trace_id"
        trace_id = params.get(name) or _required(fields, name)
        ok = await _inside_allows(auth, user, "trace", trace_id, tiers.TRACE, action)
    elif target == rules.ISSUE:
        issue_id = params.get("issue_id") or _required(fields, "issue_id")
        ok = await _experiment_allows(
            auth, user, await lookups.experiment_of("issue", issue_id), action)
    elif target == rules.LABEL_SCHEMA:
        schema_id = _required(fields, "schema_id")
        ok = await _experiment_allows(
            auth, user, await lookups.experiment_of("label_schema", schema_id), action)
    elif target == rules.REVIEW_QUEUE:
        ok = await _review_queue_allows(auth, user, rule.action, fields)
    elif target == rules.TRACES:
        ids = value(fields, rule.source or "trace_ids", as_list=True) or []
        ok = bool(ids) and await _all_inside_allow(auth, user, "trace", [str(i) for i in ids],
                                                   tiers.TRACE, action)
    elif target == rules.TRACE_START:
        # Assessments sent with a new trace are written with it: a DENY on them vetoes.
        with_assessments = needs.carries_assessments(fields)
        also = [tiers.Need(tiers.ASSESSMENT, "*", tiers.NOT_DENIED)] if with_assessments else []
        ok = await _creates(auth, user, _trace_start_experiment(fields), tiers.TRACE, *also)
    elif target == rules.TRACES_SEARCH:
        ids = _trace_search_experiments(fields)
        ok = bool(ids) and await auth.meets(user, [
            need for i in dict.fromkeys(ids)
            for need in tiers.under_experiment(i, tiers.TRACE, action)])
    elif target in (rules.ASSESSMENT, rules.ASSESSMENT_CREATE):
        ok = await _assessment_allows(auth, user, target, params["trace_id"], action)
    elif target == rules.TRACE_DELETE:
        ok = await auth.meets(user, needs.trace_delete_needs(_required(fields, "experiment_id")))
    elif target in (rules.SCORER, rules.SCORER_WRITE, rules.SCORER_INVOKE):
        ok = await auth.meets(user, needs.scorer_needs(target, action, fields))
    elif target in (rules.DATASET, rules.DATASET_LINK):
        linked = await lookups.dataset_experiments(params["dataset_id"])
        ok = bool(linked) and all([await _experiment_allows(auth, user, i, action)
                                   for i in linked])
        if ok and target == rules.DATASET_LINK:  # and may the caller edit what it joins?
            added = [str(i) for i in value(fields, "experiment_ids", as_list=True) or []]
            ok = bool(added) and all([await _experiment_allows(auth, user, i, action)
                                      for i in added])
    elif target == rules.SCORER_LIST:
        ids = [str(i) for i in value(fields, "experiment_ids", as_list=True) or []]
        single = value(fields, "experiment_id")
        ids += [] if single is None else [str(single)]
        ok = bool(ids) and all([await _experiment_allows(auth, user, i, action) for i in ids])
    elif target == rules.SCORERS:
        ok = True  # none named: the handler refuses the request
        for scorer_id in value(fields, rule.source or "scorer_ids", as_list=True) or []:
            ok = ok and await _experiment_allows(
                auth, user, await lookups.experiment_of("scorer", str(scorer_id)), action)
    elif target == rules.OTLP:  # spans written into an experiment: a trace create
        ok = await _creates(auth, user, _header(scope, b"x-mlflow-experiment-id"), tiers.TRACE)
    elif target == rules.PRESIGNED_UPLOAD:
        if value(fields, "run_id") is not None:
            ok = await _inside_allows(auth, user, "run", _required(fields, "run_id"),
                                      tiers.RUN, action)
        else:
            ok = await _inside_allows(auth, user, "logged_model", _required(fields, "model_id"),
                                      tiers.LOGGED_MODEL, action)
    else:
        ok = False
    return None if ok else _forbidden()


async def _review_queue_allows(auth: AuthService, user: User, mode: str,
                               fields: dict[str, Any]) -> bool:
    queue_id = value(fields, "queue_id")
    if queue_id is not None or mode != review_queues.VIEW:
        queue = await review_queues.facts(auth.lookups.db, _required(fields, "queue_id"))
        if queue is None:
            return False  # not an existence oracle
    else:  # get-by-name
        experiment_id = _required(fields, "experiment_id")
        queue = await review_queues.facts(auth.lookups.db, experiment_id=experiment_id,
                                          name=_required(fields, "name"))
        if queue is None:  # a reader may learn the name is free: the handler answers 404
            return await _experiment_allows(auth, user, experiment_id, "read")
    perm = await auth.permission(user, "experiment", queue.experiment_id)
    return review_queues.allows(mode, perm, queue, user.username, fields)


async def _run_write_allows(auth: AuthService, user: User, target: str,
                            fields: dict[str, Any]) -> bool:
    """UPDATE on the run, plus what else the request touches: the logged models its values
    are written to (UPDATE, each by its own experiment), or the traces it links (READ)."""
    experiment_id = await auth.lookups.experiment_of("run", _required(fields, "run_id"))
    if experiment_id is None:
        return False
    wanted = tiers.under_experiment(experiment_id, tiers.RUN, "update")
    if target == rules.RUN_WRITE:
        kind, tier, action = "logged_model", tiers.LOGGED_MODEL, "update"
        keys = needs.models_named(fields)
    else:
        kind, tier, action = "trace", tiers.TRACE, "read"
        keys = sorted({str(i) for i in value(fields, "trace_ids", as_list=True) or []})
    for key in keys:
        owner = await auth.lookups.experiment_of(kind, key)
        if owner is None:
            return False  # a missing model or trace denies: no existence oracle
        wanted += tiers.under_experiment(owner, tier, action)
    return await auth.meets(user, wanted)


async def _assessment_allows(auth: AuthService, user: User, target: str, trace_id: str,
                             action: str) -> bool:
    """The trace addresses the assessment, so it must be readable; the assessment tier (or,
    without a grant there, the experiment) decides the act. Deleting one without an assessment
    grant asks UPDATE of the experiment, as adding one does."""
    experiment_id = await auth.lookups.experiment_of("trace", trace_id)
    if experiment_id is None:
        return False

    def experiment(act: str) -> tiers.Need:
        return tiers.Need(tiers.EXPERIMENT, experiment_id, act)

    addressing = [experiment("read"),
                  tiers.Need(tiers.TRACE, "*", "read", fallback=(experiment("read"),))]
    if target == rules.ASSESSMENT:
        fallback = experiment("update" if action == "delete" else action)
        return await auth.meets(user, [*addressing, tiers.Need(
            tiers.ASSESSMENT, "*", action, fallback=(fallback,))])
    # A create: the experiment's UPDATE or the trace tier's UPDATE confers it; a lesser
    # trace grant never takes away what the experiment gives.
    if not await auth.meets(user, [*addressing,
                                   tiers.Need(tiers.ASSESSMENT, "*", tiers.NOT_DENIED)]):
        return False
    return (await auth.meets(user, [experiment("update")])
            or await auth.meets(user, [tiers.Need(tiers.TRACE, "*", "update")]))


def _artifact_experiment(raw: Any) -> str | None:
    """Proxied artifacts live under ``<experiment_id>/...``; anything else is admin-only."""
    if not isinstance(raw, str):
        return None
    parts = raw.strip("/").split("/")
    if any(p in ("..", ".") for p in parts) or not parts[0].isdigit():
        return None
    return parts[0]


def _trace_start_experiment(fields: dict[str, Any]) -> str | None:
    trace = fields.get("trace")
    if isinstance(trace, dict):  # v3: trace.trace_info.trace_location.mlflow_experiment
        info = trace.get("trace_info") or {}
        location = info.get("trace_location") or {} if isinstance(info, dict) else {}
        experiment = location.get("mlflow_experiment") or {} if isinstance(location, dict) else {}
        found = experiment.get("experiment_id") if isinstance(experiment, dict) else None
        return None if found is None else str(found)
    found = value(fields, "experiment_id")
    return None if found is None else str(found)


def _trace_search_experiments(fields: dict[str, Any]) -> list[str]:
    ids = [str(i) for i in value(fields, "experiment_ids", as_list=True) or []]
    for location in fields.get("locations") or []:
        if isinstance(location, dict):
            experiment = location.get("mlflow_experiment") or {}
            if isinstance(experiment, dict) and experiment.get("experiment_id") is not None:
                ids.append(str(experiment["experiment_id"]))
    return ids


def _header(scope: Scope, name: bytes) -> str | None:
    for key, raw in scope["headers"]:
        if key.lower() == name:
            return raw.decode("latin-1")
    return None


async def scope_experiment_ids(auth: AuthService, user: User, fields: dict[str, Any],
                               tier: str | None = None) -> list[str] | None:
    """The readable subset of a search's experiment ids; None when nothing is left. A DENY on
    the searched tier (runs, logged models) leaves nothing, whatever the experiments allow."""
    if tier is not None and not await auth.meets(user, [tiers.Need(tier, "*", tiers.NOT_DENIED)]):
        return None
    requested = [str(i) for i in value(fields, "experiment_ids", as_list=True) or []]
    allowed = await auth.allowed_keys(user, "experiment", requested)
    kept = [i for i in requested if i in allowed]
    return kept or None


async def after(auth: AuthService, user: User, rule: rules.Rule, fields: dict[str, Any],
                body: bytes) -> bytes:
    """Run the rule's hook on a successful answer; returns the body to send."""
    hook = rule.hook
    try:
        data = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return body
    if not isinstance(data, dict):
        return body
    if hook == rules.GRANT_EXPERIMENT and data.get("experiment_id") is not None:
        await auth.grant_manage_to_creator(user, "experiment", str(data["experiment_id"]))
    elif hook == rules.GRANT_MODEL and isinstance(data.get("registered_model"), dict):
        model = data["registered_model"]
        kind = "prompt" if _is_prompt(model) else "registered_model"
        await auth.grant_manage_to_creator(user, kind, str(model.get("name")))
    elif hook == rules.GRANT_SCORER and data.get("name") is not None:
        key = tiers.scorer_key(str(data.get("experiment_id")), str(data["name"]))
        await auth.grant_manage_to_creator(user, "scorer", key)
    elif hook == rules.DROP_SCORER_GRANTS and value(fields, "name") is not None:
        # Any delete, of one version too, drops the scorer's grants (as MLflow does).
        await auth.drop_grants("scorer", tiers.scorer_key(str(value(fields, "experiment_id")),
                                                          str(value(fields, "name"))))
    elif hook == rules.DROP_MODEL_GRANTS:
        await auth.drop_model_grants(str(value(fields, "name")))
    elif hook == rules.RENAME_MODEL_GRANTS and value(fields, "new_name") is not None:
        await auth.rename_model_grants(str(value(fields, "name")), str(value(fields, "new_name")))
    elif hook == rules.FILTER_REVIEW_QUEUES:
        perm = await auth.permission(user, "experiment", str(value(fields, "experiment_id")))
        return review_queues.filter_listed(perm, user.username, body)
    elif hook in (rules.FILTER_EXPERIMENTS, rules.FILTER_MODELS, rules.FILTER_VERSIONS):
        return await _filtered(auth, user, hook, data)
    elif hook == rules.WITHHOLD_ASSESSMENTS:
        return await _without_denied_assessments(auth, user, data) or body
    return body


async def _without_denied_assessments(auth: AuthService, user: User,
                                      data: dict[str, Any]) -> bytes | None:
    """Trace reads leave out the assessments the caller may not read (an assessment grant,
    else the experiment's, decides), as MLflow 3.18 does; None when nothing was left out."""
    infos = [i for i in needs.trace_infos(data) if i.get("assessments")]
    decided: dict[str, bool] = {}
    withheld = False
    for info in infos:
        location = info.get("trace_location") or {}
        experiment_id = str((location.get("mlflow_experiment") or {}).get("experiment_id"))
        if experiment_id not in decided:
            experiment = tiers.Need(tiers.EXPERIMENT, experiment_id, "read")
            decided[experiment_id] = await auth.meets(user, [tiers.Need(
                tiers.ASSESSMENT, "*", "read", fallback=(experiment,))])
        if not decided[experiment_id]:
            info.pop("assessments")
            withheld = True
    return orjson.dumps(data) if withheld else None


async def _filtered(auth: AuthService, user: User, hook: str, data: dict[str, Any]) -> bytes:
    key, kind, id_field = {
        rules.FILTER_EXPERIMENTS: ("experiments", "experiment", "experiment_id"),
        rules.FILTER_MODELS: ("registered_models", "registered_model", "name"),
        rules.FILTER_VERSIONS: ("model_versions", "registered_model", "name"),
    }[hook]
    items = [i for i in data.get(key) or [] if isinstance(i, dict)]
    kept = await auth.readable(user, kind, items, lambda i: str(i.get(id_field)))
    if kept:
        data[key] = kept
    else:
        data.pop(key, None)  # MLflow omits an empty list
    return orjson.dumps(data)


def _is_prompt(model: dict[str, Any]) -> bool:
    for tag in model.get("tags") or []:
        if isinstance(tag, dict) and tag.get("key") == "mlflow.prompt.is_prompt":
            return str(tag.get("value")).lower() == "true"
    return False
