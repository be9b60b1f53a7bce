"""``/graphql`` with authentication on: a signed-in user only, and each object checked as MLflow
3.18 checks it. What the caller may not read resolves to null with no error (so a query cannot
probe for existence), searches keep only readable experiments, model versions only those of
readable registered models (at the top level and under a run)."""

from __future__ import annotations

from typing import Any

from auth.conftest import ADMIN

RUN = ('query R($id: String) { mlflowGetRun(input: {runId: $id}) { run { info { runId } '
       'modelVersions { name } } } }')
EXPERIMENT = ('query E($id: String) { mlflowGetExperiment(input: {experimentId: $id}) '
              '{ experiment { name } } }')
SEARCH = ('query S($ids: [String]) { mlflowSearchRuns(input: {experimentIds: $ids}) '
          '{ runs { info { runId experimentId } } } }')
ARTIFACTS = ('query A($id: String) { mlflowListArtifacts(input: {runId: $id}) { rootUri } }')
HISTORY = ('query H($ids: [String]) { mlflowGetMetricHistoryBulkInterval(input: '
           '{runIds: $ids, metricKey: "m"}) { metrics { value } } }')
VERSIONS = ('query V { mlflowSearchModelVersions(input: {filter: "name LIKE \'gql-%\'"}) '
            '{ modelVersions { name } } }')
DATASETS = ('mutation D($ids: [String]) { mlflowSearchDatasets(input: {experimentIds: $ids}) '
            '{ datasetSummaries { name } } }')


def _gql(h: Any, who: Any, query: str, **variables: Any) -> dict[str, Any]:
    resp = h.call(who, "POST", "/graphql", {"query": query, "variables": variables})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_graphql_checks_each_object(auth_harness: Any) -> None:
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        alice, bob = h.add_user("alice"), h.add_user("bob")
        mine = h.ok(alice, "POST", "experiments/create", {"name": "alice-exp"})["experiment_id"]
        theirs = h.ok(bob, "POST", "experiments/create", {"name": "bob-exp"})["experiment_id"]
        run = h.ok(alice, "POST", "runs/create", {"experiment_id": mine})["run"]["info"]["run_id"]
        h.ok(alice, "POST", "runs/log-metric", {"run_id": run, "key": "m", "value": 1.0,
                                                 "timestamp": 1, "step": 0})
        bobs_run = h.ok(bob, "POST", "runs/create",
                        {"experiment_id": theirs})["run"]["info"]["run_id"]
        for owner, model in ((alice, "gql-alice"), (bob, "gql-bob")):
            h.ok(owner, "POST", "registered-models/create", {"name": model})
            h.ok(owner, "POST", "model-versions/create",
                 {"name": model, "source": f"runs:/{run if owner == alice else bobs_run}/m",
                  "run_id": run if owner == alice else bobs_run})
        h.ok(alice, "POST", "experiments/permissions/create",
             {"experiment_id": mine, "username": bob[0], "permission": "READ"})

        # Without credentials: nothing at all.
        assert h.call(None, "POST", "/graphql", {"query": "{ test { output } }"}
                      ).status_code == 401

        # Alice reads her own things; bob's run and experiment read as null, without an error.
        body = _gql(h, alice, RUN, id=run)
        assert body["data"]["mlflowGetRun"]["run"]["info"]["runId"] == run
        assert [v["name"] for v in body["data"]["mlflowGetRun"]["run"]["modelVersions"]] == [
            "gql-alice"]
        for query, variables in ((RUN, {"id": bobs_run}), (EXPERIMENT, {"id": theirs}),
                                 (ARTIFACTS, {"id": bobs_run}), (HISTORY, {"ids": [bobs_run]}),
                                 (DATASETS, {"ids": [theirs]})):
            body = _gql(h, alice, query, **variables)
            assert body["errors"] is None, (query, body)
            assert list(body["data"].values()) == [None], (query, body)
        # A search over both experiments keeps alice's.
        body = _gql(h, alice, SEARCH, ids=[mine, theirs])
        assert {r["info"]["experimentId"] for r in body["data"]["mlflowSearchRuns"]["runs"]} == {
            mine}
        assert _gql(h, alice, SEARCH, ids=[theirs])["data"]["mlflowSearchRuns"] is None
        # Model versions: only those of registered models alice may read.
        names = _gql(h, alice, VERSIONS)["data"]["mlflowSearchModelVersions"]["modelVersions"]
        assert [v["name"] for v in names] == ["gql-alice"]

        # Bob was granted READ on alice's experiment: her run reads, but the version registered
        # from it stays hidden under the run unless he may read that registered model too.
        body = _gql(h, bob, RUN, id=run)
        assert body["data"]["mlflowGetRun"]["run"]["info"]["runId"] == run
        assert body["data"]["mlflowGetRun"]["run"]["modelVersions"] == []
        assert _gql(h, bob, EXPERIMENT, id=mine)["data"]["mlflowGetExperiment"] == {
            "experiment": {"name": "alice-exp"}}

        # Admins read everything.
        body = _gql(h, ADMIN, SEARCH, ids=[mine, theirs])
        assert {r["info"]["experimentId"] for r in body["data"]["mlflowSearchRuns"]["runs"]} == {
            mine, theirs}
        names = _gql(h, ADMIN, VERSIONS)["data"]["mlflowSearchModelVersions"]["modelVersions"]
        assert sorted(v["name"] for v in names) == ["gql-alice", "gql-bob"]
