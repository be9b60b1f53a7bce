"""The web UI under authentication: the experiment list shows exactly what the caller may read
(the same filter as the API's ``experiments/search``), and the pages of one experiment, run,
logged model or registered model refuse a caller who may not read it."""

from __future__ import annotations

import re
from typing import Any

from auth.conftest import ADMIN, AuthHarness

_ROW = re.compile(r'<tr data-href="/experiments/(\d+)"')


def listed(h: AuthHarness, who: Any, query: str = "") -> list[str]:
    """Experiment ids in the rows of the UI's experiment list, in page order."""
    resp = h.call(who, "GET", "/experiments" + query)
    assert resp.status_code == 200, resp.text[:500]
    return _ROW.findall(resp.text)


def searched(h: AuthHarness, who: Any) -> list[str]:
    """What the API's experiments/search answers the same caller, in the UI's order."""
    found = h.ok(who, "POST", "experiments/search", {
        "max_results": 1000, "order_by": ["last_update_time DESC", "experiment_id ASC"]})
    return [e["experiment_id"] for e in found.get("experiments", [])]


def grant(h: AuthHarness, experiment_id: str, username: str, permission: str) -> None:
    h.ok(ADMIN, "POST", "experiments/permissions/create",
         {"experiment_id": experiment_id, "username": username, "permission": permission})


def test_experiment_list_shows_only_readable_experiments(auth_harness: Any) -> None:
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        alice, bob = h.add_user("alice"), h.add_user("bob")
        ids = [h.ok(ADMIN, "POST", "experiments/create", {"name": f"exp-{i}"})["experiment_id"]
               for i in range(3)]
        grant(h, ids[0], "alice", "READ")
        assert listed(h, alice) == [ids[0]]
        assert listed(h, alice, "?view=all") == [ids[0]]
        assert listed(h, alice, "?q=exp-1") == []  # the name filter cannot widen the view
        assert listed(h, bob) == []
        assert sorted(listed(h, ADMIN), key=int) == ["0", *ids]
        for who in (alice, bob, ADMIN):
            assert listed(h, who) == searched(h, who)
        # alice's own new experiment appears for her (creators get MANAGE), not for bob.
        mine = h.ok(alice, "POST", "experiments/create", {"name": "alice-own"})["experiment_id"]
        assert set(listed(h, alice)) == {ids[0], mine}
        assert listed(h, bob) == []


def test_deny_grant_hides_an_experiment_under_a_default_read(auth_harness: Any) -> None:
    with auth_harness(default_permission="READ") as h:
        alice = h.add_user("alice")
        ids = [h.ok(ADMIN, "POST", "experiments/create", {"name": f"exp-{i}"})["experiment_id"]
               for i in range(3)]
        grant(h, ids[1], "alice", "NO_PERMISSIONS")
        shown = listed(h, alice)
        assert ids[1] not in shown and {ids[0], ids[2], "0"} <= set(shown)
        assert shown == searched(h, alice)
        assert ids[1] in listed(h, ADMIN)


def test_a_filtered_page_is_topped_up_from_the_next_ones(auth_harness: Any) -> None:
    """One readable experiment behind more than a page (100 rows) of unreadable ones is still
    on the first page, with no link to an empty next page."""
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        alice = h.add_user("alice")
        oldest = h.ok(ADMIN, "POST", "experiments/create", {"name": "old"})["experiment_id"]
        for i in range(105):
            h.ok(ADMIN, "POST", "experiments/create", {"name": f"newer-{i}"})
        grant(h, oldest, "alice", "READ")
        page = h.call(alice, "GET", "/experiments?order=-created")
        assert _ROW.findall(page.text) == [oldest]
        assert "token=" not in page.text
        admin_page = h.call(ADMIN, "GET", "/experiments?order=-created")
        assert len(_ROW.findall(admin_page.text)) == 100 and "token=" in admin_page.text


def test_pages_of_unreadable_resources_are_refused(auth_harness: Any) -> None:
    with auth_harness(default_permission="NO_PERMISSIONS") as h:
        alice = h.add_user("alice")
        mine, other = (h.ok(ADMIN, "POST", "experiments/create", {"name": n})["experiment_id"]
                       for n in ("readable", "secret"))
        grant(h, mine, "alice", "READ")
        run_mine, run_other = (
            h.ok(ADMIN, "POST", "runs/create", {"experiment_id": e})["run"]["info"]["run_id"]
            for e in (mine, other))
        model_other = h.ok(ADMIN, "POST", "logged-models",
                           {"experiment_id": other, "name": "m"})["model"]["info"]["model_id"]
        for page in (f"/experiments/{mine}", f"/runs/{run_mine}", f"/compare?runs={run_mine}"):
            assert h.call(alice, "GET", page).status_code == 200, page
        for page in (f"/experiments/{other}", f"/runs/{run_other}",
                     f"/compare?runs={run_other}", f"/compare?runs={run_mine},{run_other}",
                     f"/logged-models/{model_other}"):
            resp = h.call(alice, "GET", page)
            assert resp.status_code == 403, page
            assert "secret" not in resp.text
        # The registry pages are shells; what they show comes from the API, which refuses or
        # filters a model alice may not read.
        h.ok(ADMIN, "POST", "registered-models/create", {"name": "secret-model"})
        h.ok(ADMIN, "POST", "registered-models/create", {"name": "shared-model"})
        h.ok(ADMIN, "POST", "registered-models/permissions/create",
             {"name": "shared-model", "username": "alice", "permission": "READ"})
        assert h.call(alice, "GET", "/models/secret-model").status_code == 200  # the shell
        ajax = "/ajax-api/2.0/mlflow/"
        assert h.call(alice, "GET", ajax + "registered-models/get",
                      {"name": "secret-model"}).status_code == 403
        assert h.call(alice, "GET", ajax + "registered-models/get",
                      {"name": "shared-model"}).status_code == 200
        found = h.ok(alice, "GET", ajax + "registered-models/search", {"max_results": 100})
        assert [m["name"] for m in found["registered_models"]] == ["shared-model"]
