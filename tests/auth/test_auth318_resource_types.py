"""Grants on MLflow 3.18's sub-resource types (run, trace, assessment, logged_model, scorer).

A live server with basic-auth (default permission READ): an admin owns one experiment holding
a run, a logged model, a trace with an assessment and a scorer; each test grants one type to a
fresh user and checks what the user may then do, route by route. The same expectations pass
against ``mlflow server --app-name basic-auth`` 3.18 with ``--compat-target mlflow``; they are
the capture in docs/mlflow-captures/auth318.md ("Sub-resource types").
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from auth.conftest import ADMIN
from auth.test_auth318_api import Api, _grant, api, server  # noqa: F401  (fixtures)

pytest.importorskip("flask_wtf")
pytestmark = [pytest.mark.compat,
              pytest.mark.filterwarnings("ignore:starlette.middleware.wsgi is deprecated")]

V2, V3 = "/api/2.0/mlflow", "/api/3.0/mlflow"
JUDGE = json.dumps({"builtin_scorer_pydantic_data": {"model": "openai:/gpt-4o-mini"}})
FEEDBACK = {"assessment_name": "q", "feedback": {"value": 1},
            "source": {"source_type": "HUMAN", "source_id": "someone"}}


@dataclass
class World:
    experiment: str
    run: str
    model: str
    trace: str
    assessment: str
    scorer: str  # the scorer's name; its grant id is "<experiment>/<name>"


def _trace(srv: Api, who: Any, experiment: str) -> str:
    trace_id = "tr-" + uuid.uuid4().hex
    info = {"trace_id": trace_id, "request_time": "2026-12-03T10:00:00Z", "state": "OK",
            "trace_location": {"type": "MLFLOW_EXPERIMENT",
                               "mlflow_experiment": {"experiment_id": experiment}}}
    srv.ok(who, "POST", f"{V3}/traces", {"trace": {"trace_info": info}})
    return trace_id


@pytest.fixture
def srv(api: Api) -> Api:  # noqa: F811  (test_auth318_api's live server and its client)
    return api


def _world(srv: Api) -> World:
    exp = srv.experiment(ADMIN)
    run = srv.ok(ADMIN, "POST", f"{V2}/runs/create", {"experiment_id": exp})["run"]["info"]
    model = srv.ok(ADMIN, "POST", f"{V2}/logged-models",
                   {"experiment_id": exp, "name": "m"})["model"]["info"]["model_id"]
    trace = _trace(srv, ADMIN, exp)
    made = srv.ok(ADMIN, "POST", f"{V3}/traces/{trace}/assessments",
                  {"assessment": {**FEEDBACK, "trace_id": trace}})
    scorer = "judge-" + uuid.uuid4().hex[:6]
    srv.ok(ADMIN, "POST", f"{V3}/scorers/register",
           {"experiment_id": exp, "name": scorer, "serialized_scorer": JUDGE})
    return World(exp, run["run_id"], model, trace, made["assessment"]["assessment_id"], scorer)


def _status(srv: Api, who: Any, method: str, path: str, body: Any = None) -> int:
    return srv.call(who, method, path, body).status_code


def _give(srv: Api, user: Any, kind: str, rid: str, level: str) -> None:
    srv.ok(ADMIN, "POST", "users/permissions/grant", _grant(user[0], kind, rid, level))


def _check(srv: Api, who: Any, expected: list[tuple[str, str, Any, int]]) -> None:
    got = [(m, p, _status(srv, who, m, p, b)) for m, p, b, _ in expected]
    assert got == [(m, p, s) for m, p, _, s in expected]


def _run_routes(w: World, update: int, delete: int, read: int) -> list[tuple[str, str, Any, int]]:
    return [
        ("GET", f"{V2}/runs/get", {"run_id": w.run}, read),
        ("GET", f"{V2}/metrics/get-history", {"run_id": w.run, "metric_key": "m"}, read),
        ("POST", f"{V2}/runs/set-tag", {"run_id": w.run, "key": "k", "value": "v"}, update),
        ("POST", f"{V2}/runs/log-metric", {"run_id": w.run, "key": "m", "value": 1,
                                           "timestamp": 1, "step": 0}, update),
        ("POST", f"{V2}/runs/restore", {"run_id": w.run}, delete),
    ]


def test_run_grant_decides_for_runs_instead_of_the_experiment(srv: Api) -> None:
    w = _world(srv)
    plain, editor, manager, denied = (srv.user(s) for s in ("plain", "rune", "runm", "rund"))
    _check(srv, plain, _run_routes(w, update=403, delete=403, read=200))
    _give(srv, editor, "run", "*", "EDIT")
    _check(srv, editor, _run_routes(w, update=200, delete=403, read=200))
    _give(srv, manager, "run", "*", "MANAGE")
    _check(srv, manager, _run_routes(w, update=200, delete=200, read=200))
    _give(srv, denied, "run", "*", "DENY")
    _check(srv, denied, _run_routes(w, update=403, delete=403, read=403))
    # The experiment itself is untouched by a run grant.
    assert _status(srv, denied, "GET", f"{V2}/experiments/get", {"experiment_id": w.experiment}) \
        == 200
    # A create needs UPDATE on the experiment, and a DENY on the run tier vetoes it.
    own = srv.experiment(denied)
    assert _status(srv, denied, "POST", f"{V2}/runs/create", {"experiment_id": own}) == 403
    assert _status(srv, editor, "POST", f"{V2}/runs/create", {"experiment_id": w.experiment}) \
        == 403
    # GraphQL reads a run the same way: a denied one resolves to null.
    run_field = 'mlflowGetRun(input: {runId: "' + w.run + '"})'
    query = {"query": "query { " + run_field + " { run { info { runId } } } }"}
    for who, readable in ((editor, True), (denied, False)):
        got = srv.ok(who, "POST", "/graphql", query)["data"]["mlflowGetRun"]
        assert (got is not None and got["run"] is not None) is readable, (who, got)
    # Denied runs drop out of a search, as an unreadable experiment does.
    found = srv.ok(denied, "POST", f"{V2}/runs/search", {"experiment_ids": [w.experiment]})
    assert found.get("runs", []) == []
    assert len(srv.ok(editor, "POST", f"{V2}/runs/search",
                      {"experiment_ids": [w.experiment]})["runs"]) == 1


def test_run_grant_never_opens_a_denied_experiment(srv: Api) -> None:
    w = _world(srv)
    user = srv.user("rexp")
    _give(srv, user, "experiment", w.experiment, "DENY")
    _give(srv, user, "run", "*", "MANAGE")
    _check(srv, user, _run_routes(w, update=403, delete=403, read=403))


def _model_routes(w: World, update: int, delete: int, read: int
                  ) -> list[tuple[str, str, Any, int]]:
    return [
        ("GET", f"{V2}/logged-models/{w.model}", None, read),
        ("PATCH", f"{V2}/logged-models/{w.model}/tags", {"tags": [{"key": "k", "value": "v"}]},
         update),
        ("DELETE", f"{V2}/logged-models/{w.model}/tags/k", None, delete),
    ]


def test_logged_model_grant(srv: Api) -> None:
    w = _world(srv)
    plain, editor, denied = (srv.user(s) for s in ("lmp", "lme", "lmd"))
    _check(srv, plain, _model_routes(w, update=403, delete=403, read=200))
    _give(srv, editor, "logged_model", "*", "EDIT")
    _check(srv, editor, _model_routes(w, update=200, delete=403, read=200))
    _give(srv, denied, "logged_model", "*", "DENY")
    _check(srv, denied, _model_routes(w, update=403, delete=403, read=403))
    own = srv.experiment(denied)
    assert _status(srv, denied, "POST", f"{V2}/logged-models",
                   {"experiment_id": own, "name": "x"}) == 403
    assert _status(srv, denied, "POST", f"{V2}/runs/create", {"experiment_id": own}) == 200
    # Values logged to a run that name a logged model write to that model too.
    runs_only, both = srv.user("lmr"), srv.user("lmb")
    for who in (runs_only, both):
        _give(srv, who, "run", "*", "EDIT")
    _give(srv, both, "logged_model", "*", "EDIT")
    metric = {"run_id": w.run, "key": "m", "value": 1, "timestamp": 1, "step": 0}
    batch = {"run_id": w.run, "metrics": [{**metric, "model_id": w.model}]}
    for who, status in ((runs_only, 403), (both, 200)):
        assert _status(srv, who, "POST", f"{V2}/runs/log-metric",
                       {**metric, "model_id": w.model}) == status
        assert _status(srv, who, "POST", f"{V2}/runs/log-batch", batch) == status
    assert _status(srv, runs_only, "POST", f"{V2}/runs/log-metric", metric) == 200
    # A new logged model's source run must be readable.
    run_denied = srv.user("lmsr")
    _give(srv, run_denied, "run", "*", "DENY")
    mine = srv.experiment(run_denied)
    assert _status(srv, run_denied, "POST", f"{V2}/logged-models",
                   {"experiment_id": mine, "name": "x"}) == 200
    assert _status(srv, plain, "POST", f"{V2}/logged-models",
                   {"experiment_id": srv.experiment(plain), "name": "x",
                    "source_run_id": w.run}) == 200
    assert _status(srv, run_denied, "POST", f"{V2}/logged-models",
                   {"experiment_id": mine, "name": "x", "source_run_id": w.run}) == 403


def _trace_routes(w: World, update: int, read: int) -> list[tuple[str, str, Any, int]]:
    return [
        ("GET", f"{V3}/traces/{w.trace}", None, read),
        ("POST", f"{V3}/traces/search", {"locations": [{
            "type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": w.experiment}}]},
         read),
        ("PATCH", f"{V3}/traces/{w.trace}/tags", {"key": "k", "value": "v"}, update),
    ]


def test_trace_grant(srv: Api) -> None:
    w = _world(srv)
    plain, editor, denied = (srv.user(s) for s in ("trp", "tre", "trd"))
    _check(srv, plain, _trace_routes(w, update=403, read=200))
    _give(srv, editor, "trace", "*", "EDIT")
    _check(srv, editor, _trace_routes(w, update=200, read=200))
    _give(srv, denied, "trace", "*", "DENY")
    _check(srv, denied, _trace_routes(w, update=403, read=403))
    own = srv.experiment(denied)
    info = {"trace_id": "tr-" + uuid.uuid4().hex, "request_time": "2026-12-03T10:00:00Z",
            "state": "OK", "trace_location": {"type": "MLFLOW_EXPERIMENT",
                                              "mlflow_experiment": {"experiment_id": own}}}
    assert _status(srv, denied, "POST", f"{V3}/traces", {"trace": {"trace_info": info}}) == 403
    # A trace EDIT grant also lets its holder add an assessment (experiment READ is enough).
    body = {"assessment": {**FEEDBACK, "trace_id": w.trace}}
    assert _status(srv, editor, "POST", f"{V3}/traces/{w.trace}/assessments", body) == 200
    assert _status(srv, plain, "POST", f"{V3}/traces/{w.trace}/assessments", body) == 403


def _assessment_routes(w: World, update: int, delete: int, read: int
                       ) -> list[tuple[str, str, Any, int]]:
    one = f"{V3}/traces/{w.trace}/assessments/{w.assessment}"
    return [
        ("GET", one, None, read),
        ("PATCH", one, {"assessment": {"feedback": {"value": 2}}, "update_mask": "feedback"},
         update),
        ("DELETE", one + "-missing", None, delete),
    ]


def test_assessment_grant(srv: Api) -> None:
    w = _world(srv)
    plain, editor, manager, denied = (srv.user(s) for s in ("asp", "ase", "asm", "asd"))
    # Deleting a missing assessment after the gate answers 404 (or MLflow's own code); the
    # point is that it passed the gate.
    _check(srv, plain, _assessment_routes(w, update=403, delete=403, read=200))
    _give(srv, editor, "assessment", "*", "EDIT")
    _check(srv, editor, _assessment_routes(w, update=200, delete=403, read=200))
    _give(srv, manager, "assessment", "*", "MANAGE")
    assert _status(srv, manager, "DELETE",
                   f"{V3}/traces/{w.trace}/assessments/{w.assessment}") == 200
    _give(srv, denied, "assessment", "*", "DENY")
    _check(srv, denied, _assessment_routes(w, update=403, delete=403, read=403))
    # Trace reads still answer, without the assessments (MLflow withholds them).
    srv.ok(ADMIN, "POST", f"{V3}/traces/{w.trace}/assessments",
           {"assessment": {**FEEDBACK, "trace_id": w.trace}})
    for who, shown in ((plain, True), (denied, False)):
        info = srv.ok(who, "GET", f"{V3}/traces/{w.trace}")["trace"]["trace_info"]
        assert ("assessments" in info) is shown, info
        found = srv.ok(who, "POST", f"{V3}/traces/search", {"locations": [{
            "type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": w.experiment}}]})
        assert ("assessments" in found["traces"][0]) is shown, found
    own = srv.experiment(denied)
    mine = _trace(srv, denied, own)
    assert _status(srv, denied, "POST", f"{V3}/traces/{mine}/assessments",
                   {"assessment": {**FEEDBACK, "trace_id": mine}}) == 403


def test_scorer_grant_by_id_and_wildcard(srv: Api) -> None:
    w = _world(srv)
    named = {"experiment_id": w.experiment, "name": w.scorer}
    key = f"{w.experiment}/{w.scorer}"
    plain, reader, manager, denied = (srv.user(s) for s in ("scp", "scr", "scm", "scd"))
    reads = [("GET", f"{V3}/scorers/get", named), ("GET", f"{V3}/scorers/versions", named)]
    for who, status in ((plain, 200), (denied, 403)):
        if who is denied:
            _give(srv, denied, "scorer", key, "DENY")
        assert [_status(srv, who, *r) for r in reads] == [status, status]
    # A scorer grant decides its reads alone: it opens them under a denied experiment.
    _give(srv, reader, "experiment", w.experiment, "DENY")
    _give(srv, reader, "scorer", "*", "READ")
    assert [_status(srv, reader, *r) for r in reads] == [200, 200]
    assert _status(srv, plain, "DELETE", f"{V3}/scorers/delete", named) == 403
    _give(srv, manager, "scorer", "0" + key, "MANAGE")  # "01/x" is stored as "1/x"
    assert srv.ok(ADMIN, "GET", "users/permissions/get",
                  _grant(manager[0], "scorer", key))["permission"] == "MANAGE"
    # Registering needs EDIT on the experiment; a scorer DENY vetoes it.
    _give(srv, denied, "experiment", w.experiment, "EDIT")
    body = {**named, "serialized_scorer": JUDGE}
    assert _status(srv, denied, "POST", f"{V3}/scorers/register", body) == 403
    assert _status(srv, denied, "POST", f"{V3}/scorers/register",
                   {**body, "name": "other"}) == 200
    assert _status(srv, manager, "DELETE", f"{V3}/scorers/delete", named) == 200


def test_wildcard_only_types_refuse_ids(srv: Api) -> None:
    user = srv.user("wild")
    # (trackd refuses registered_model_version and prompt_version: see docs/operations.md.)
    for kind in ("run", "trace", "assessment", "logged_model", "review_queue", "scorer_version"):
        message = srv.error(ADMIN, "POST", "users/permissions/grant",
                            _grant(user[0], kind, "abc", "READ"), 400,
                            "INVALID_PARAMETER_VALUE")
        assert message == (f"Invalid resource_pattern 'abc' for resource_type='{kind}'. This "
                           "resource type supports only wildcard ('*') grants.")
        srv.ok(ADMIN, "POST", "users/permissions/grant", _grant(user[0], kind, "*", "READ"))
    got = srv.ok(ADMIN, "GET", "users/permissions/get", _grant(user[0], "run", "*"))
    assert got == {"allowed": False, "permission": "READ"}
    # A non-admin may not grant on '*', whatever the type.
    exp = srv.experiment(user)
    srv.error(user, "POST", "users/permissions/grant", _grant(user[0], "trace", "*", "EDIT"), 403)
    srv.error(user, "POST", "users/permissions/grant",
              _grant(user[0], "scorer", f"{exp}/nope", "EDIT"), 403)
    srv.error(user, "POST", "users/permissions/grant",
              _grant(user[0], "scorer", "noslash", "EDIT"), 400, "INVALID_PARAMETER_VALUE")
