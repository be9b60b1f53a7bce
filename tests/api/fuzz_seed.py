"""Real objects for the fuzzer to hit: without them nearly every generated id names nothing and
the request stops at a 404 before reaching the code that stores or computes anything.

:class:`Seeds` creates, over HTTP, one of each kind of object (experiment; run with a metric
history, a param, a tag and an artifact file; registered model with a version and an alias;
logged model). :func:`mix_in` is a Hypothesis strategy that swaps some of a generated request's
id fields for those real ids and keeps every other generated value, so fuzzed keys, values,
steps, ranges and filters reach the stores. :meth:`Seeds.repair` puts back what a destructive
operation (delete, rename) took away, so later operations still find live objects.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import strategies as st
from schemathesis.generation.meta import CoveragePhaseData

API = "/api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
ARTIFACT = "dir/hello.txt"
EXPERIMENT_NAME = "fuzz-experiment"
ALIAS = "champion"
METRIC = "loss"
_CONTENT = b"0123456789" * 10


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.request.url, response.status_code, response.text)
    return response.json() if response.content else {}


class Seeds:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self._names = (f"fuzz-model-{n}" for n in itertools.count())
        self.experiment_id = str(_ok(client.post(
            f"{API}/experiments/create", json={"name": EXPERIMENT_NAME}))["experiment_id"])
        run = _ok(client.post(f"{API}/runs/create", json={"experiment_id": self.experiment_id}))
        self.run_id: str = run["run"]["info"]["run_id"]
        self.run_root: str = run["run"]["info"]["artifact_uri"]
        metrics = [{"key": METRIC, "value": 1.0 / (s + 1), "timestamp": 1000 + s, "step": s}
                   for s in range(30)]
        _ok(client.post(f"{API}/runs/log-batch", json={
            "run_id": self.run_id, "metrics": metrics,
            "params": [{"key": "lr", "value": "0.1"}], "tags": [{"key": "team", "value": "fuzz"}],
        }))
        _ok(client.put(f"{PROXY}/{self.artifact_path}", content=_CONTENT))
        self.model_id = self._new_logged_model()
        self.model_name = self._new_registered_model()

    @property
    def artifact_path(self) -> str:
        """The seeded file under the artifacts destination (the proxy routes' path)."""
        return f"{self.experiment_id}/{self.run_id}/artifacts/{ARTIFACT}"

    def fields(self) -> dict[str, Any]:
        """Request fields (body or query) that name a seeded object, with its value."""
        return {
            "experiment_id": self.experiment_id,
            "experiment_ids": [self.experiment_id],
            "experiment_name": EXPERIMENT_NAME,
            "run_id": self.run_id,
            "run_uuid": self.run_id,
            "run_ids": [self.run_id],
            "source_run_id": self.run_id,
            "metric_key": METRIC,
            "model_id": self.model_id,
            "name": self.model_name,
            "version": "1",
            "alias": ALIAS,
            "path": ARTIFACT,
        }

    def path_params(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "artifact_path": self.artifact_path}

    def _new_logged_model(self) -> str:
        model = _ok(self.client.post(f"{API}/logged-models", json={
            "experiment_id": self.experiment_id, "name": "fuzz-logged",
            "source_run_id": self.run_id,
        }))
        return str(model["model"]["info"]["model_id"])

    def _new_registered_model(self) -> str:
        name = next(self._names)
        _ok(self.client.post(f"{API}/registered-models/create", json={"name": name}))
        _ok(self.client.post(f"{API}/model-versions/create", json={
            "name": name, "source": f"{self.run_root}/model", "run_id": self.run_id,
        }))
        _ok(self.client.post(f"{API}/registered-models/alias",
                             json={"name": name, "alias": ALIAS, "version": "1"}))
        return name

    def repair(self) -> None:
        """Undo what deletes and renames did (every step is a no-op when nothing is missing)."""
        c = self.client
        c.post(f"{API}/experiments/restore", json={"experiment_id": self.experiment_id})
        c.post(f"{API}/experiments/update",
               json={"experiment_id": self.experiment_id, "new_name": EXPERIMENT_NAME})
        c.post(f"{API}/runs/restore", json={"run_id": self.run_id})
        if c.get(f"{API}/logged-models/{self.model_id}").status_code != 200:
            self.model_id = self._new_logged_model()
        alias = c.get(f"{API}/registered-models/alias",
                      params={"name": self.model_name, "alias": ALIAS})
        if alias.status_code != 200:  # model, version 1 or the alias is gone: start afresh
            self.model_name = self._new_registered_model()
        if c.get(f"{PROXY}/{self.artifact_path}").status_code != 200:
            _ok(c.put(f"{PROXY}/{self.artifact_path}", content=_CONTENT))


def documented_fields(operation: Any, where: str = "") -> set[str]:
    """Names of an operation's fields in ``where`` (query, path, body; all when empty)."""
    raw = operation.definition.raw
    names = {p["name"] for p in raw.get("parameters", ()) if where in ("", p["in"])}
    if where in ("", "body"):
        body = raw.get("requestBody", {}).get("content", {}).get("application/json", {})
        names |= set(body.get("schema", {}).get("properties", {}))
    return names


_TOP_FIELD = re.compile(r"^/properties/([^/]+)")
_MISSING = re.compile(r"^Missing required property: (\w+)$")


def _varied_field(data: CoveragePhaseData) -> str | None:
    """The top-level field a coverage-phase case is about, if any."""
    if data.parameter_location is not None and data.parameter_location.value != "body":
        return data.parameter
    if data.location and (match := _TOP_FIELD.match(data.location)):
        return match.group(1)
    if data.location == "/required" and (match := _MISSING.match(data.description)):
        return match.group(1)
    return None


def pin_ids(case: Any, seeds: Seeds) -> None:
    """Give a coverage-phase case real ids in every field but the one it varies.

    That phase builds its cases around one base request made of boundary values (an empty
    string for every id), so without this nearly all of them would stop at "no such run".
    """
    data = case.meta.phase.data if case.meta is not None else None
    if not isinstance(data, CoveragePhaseData):
        return
    varied = _varied_field(data)
    real, paths = seeds.fields(), seeds.path_params()
    for container, where, known in (("query", "query", real), ("body", "body", real),
                                    ("path_parameters", "path", paths)):
        values = getattr(case, container)
        if not isinstance(values, dict):
            continue
        documented = documented_fields(case.operation, where)
        pinned = {k: v for k, v in known.items()
                  if k != varied and (k in values or k in documented)}
        if pinned:
            setattr(case, container, {**values, **pinned})


def mix_in(
    values: Any, real: Callable[[], dict[str, Any]], documented: set[str]
) -> st.SearchStrategy[Any]:
    """``values`` with a subset of the fields ``real()`` knows set to real ids: fields that
    were generated, and documented fields that were left out (a required one included)."""
    if not isinstance(values, dict):
        return st.just(values)
    keys = sorted(k for k in real() if k in values or k in documented)
    if not keys:
        return st.just(values)

    def swap(chosen: tuple[bool, ...]) -> dict[str, Any]:
        current = real()  # read when drawn: a repair may have replaced an object
        return {**values, **{k: current[k] for k, on in zip(keys, chosen, strict=True) if on}}

    # Two in three: a request usually needs several real ids at once (name and version).
    return st.tuples(*(st.sampled_from((True, True, False)) for _ in keys)).map(swap)
