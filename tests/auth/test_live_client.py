"""A live ``server --app-name basic-auth`` driven by the official mlflow client, unchanged.

Runs against trackd, or against ``mlflow server`` itself with ``--compat-target mlflow`` to show
the expectations are MLflow's (trackd-only parts are skipped there).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from support.server import ServerOptions, ServerProcess, start_server  # noqa: E402

from auth.conftest import ADMIN, write_auth_ini  # noqa: E402

pytestmark = [pytest.mark.compat,
              pytest.mark.filterwarnings("ignore:starlette.middleware.wsgi is deprecated")]

@pytest.fixture(scope="module")
def auth_server(compat_target: str, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp(f"auth-{compat_target}")
    ini = write_auth_ini(workdir / "basic_auth.ini", workdir / "auth.db", "READ")
    saved = os.environ.get("MLFLOW_AUTH_CONFIG_PATH")
    os.environ["MLFLOW_AUTH_CONFIG_PATH"] = str(ini)
    # mlflow's auth app insists on a CSRF key; trackd ignores it.
    os.environ.setdefault("MLFLOW_FLASK_SERVER_SECRET_KEY", "test-only-key")
    try:
        server = start_server(compat_target, ServerOptions(
            backend_store_uri=f"sqlite:///{workdir / 'mlflow.db'}",
            artifacts_destination=workdir / "artifacts",
            default_artifact_root="mlflow-artifacts:/",
            extra_args=["--app-name", "basic-auth"],
        ), workdir)
    finally:
        if saved is None:
            os.environ.pop("MLFLOW_AUTH_CONFIG_PATH", None)
        else:
            os.environ["MLFLOW_AUTH_CONFIG_PATH"] = saved
    yield server
    server.stop()


@pytest.fixture
def as_user(monkeypatch: pytest.MonkeyPatch, auth_server: ServerProcess):  # type: ignore[no-untyped-def]
    def switch(creds: tuple[str, str] | None, token: str | None = None) -> MlflowClient:
        for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD",
                     "MLFLOW_TRACKING_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        if creds is not None:
            monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", creds[0])
            monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", creds[1])
        if token is not None:
            monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
        mlflow.set_tracking_uri(auth_server.url)
        return MlflowClient(auth_server.url)

    yield switch
    mlflow.set_tracking_uri(None)


def test_classic_workflow_with_credentials(as_user, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client = as_user(ADMIN)
    exp = client.create_experiment("auth-classic")
    with mlflow.start_run(experiment_id=exp) as run:
        mlflow.log_param("p", "1")
        mlflow.log_metric("m", 0.5)
        (tmp_path / "note.txt").write_text("hello")
        mlflow.log_artifact(str(tmp_path / "note.txt"))
    got = client.get_run(run.info.run_id)
    assert got.data.metrics == {"m": 0.5} and got.data.params == {"p": "1"}
    local = client.download_artifacts(run.info.run_id, "note.txt", str(tmp_path / "dl"))
    assert Path(local).read_text() == "hello"

    anonymous = as_user(None)
    with pytest.raises(MlflowException, match="401"):
        anonymous.get_run(run.info.run_id)


def test_users_and_default_read(as_user) -> None:  # type: ignore[no-untyped-def]
    from mlflow.server.auth.client import AuthServiceClient

    admin = as_user(ADMIN)
    exp = admin.create_experiment("auth-read")
    run_id = admin.create_run(exp).info.run_id
    users = AuthServiceClient(mlflow.get_tracking_uri())
    erin = users.create_user("erin", "erin-password-123")
    assert erin.username == "erin" and not erin.is_admin
    assert users.get_user("erin").id == erin.id

    reader = as_user(("erin", "erin-password-123"))
    assert reader.get_run(run_id).info.run_id == run_id
    with pytest.raises(MlflowException, match="403|Permission denied"):
        reader.log_metric(run_id, "m", 1.0)
    own = reader.create_experiment("erins")  # anyone may create, and manages what they made
    reader.log_metric(reader.create_run(own).info.run_id, "m", 1.0)


def test_bearer_token_for_jobs(as_user, compat_target: str) -> None:  # type: ignore[no-untyped-def]
    if compat_target != "trackd":
        pytest.skip("tokens are trackd's own")
    import requests

    as_user(ADMIN)
    resp = requests.post(mlflow.get_tracking_uri() + "/api/2.0/trackd/tokens/create",
                         json={"name": "ci"}, auth=ADMIN, timeout=30)
    assert resp.status_code == 200, resp.text
    job = as_user(None, token=resp.json()["token"])
    exp = job.create_experiment("token-made")
    assert job.get_experiment(exp).name == "token-made"


def test_2x_legacy_grant_endpoints(as_user, compat_target: str) -> None:  # type: ignore[no-untyped-def]
    """The calls (methods, bodies, replies) of mlflow 2.x's AuthServiceClient grant methods."""
    if compat_target != "trackd":
        pytest.skip("MLflow 3.18 dropped the 2.x per-resource permission endpoints")
    import requests

    admin = as_user(ADMIN)
    exp = admin.create_experiment("legacy-grants")
    base = mlflow.get_tracking_uri() + "/api/2.0/mlflow"

    def call(method: str, path: str, **kw: object) -> dict:  # type: ignore[type-arg]
        resp = requests.request(method, f"{base}/{path}", auth=ADMIN, timeout=30, **kw)
        assert resp.status_code == 200, (path, resp.status_code, resp.text)
        return resp.json()  # type: ignore[no-any-return]

    call("POST", "users/create", json={"username": "frank", "password": "frank-password-123"})
    made = call("POST", "experiments/permissions/create",
                json={"experiment_id": exp, "username": "frank", "permission": "EDIT"})
    assert made["experiment_permission"]["permission"] == "EDIT"
    call("PATCH", "experiments/permissions/update",
         json={"experiment_id": exp, "username": "frank", "permission": "MANAGE"})
    got = call("GET", "experiments/permissions/get",
               params={"experiment_id": exp, "username": "frank"})
    assert got["experiment_permission"]["permission"] == "MANAGE"
    frank = as_user(("frank", "frank-password-123"))
    frank.delete_experiment(exp)  # MANAGE allows delete
    call("DELETE", "experiments/permissions/delete", json={"experiment_id": exp,
                                                           "username": "frank"})
    call("POST", "registered-models/permissions/create",
         json={"name": "rm", "username": "frank", "permission": "READ"})
    got = call("GET", "registered-models/permissions/get",
               params={"name": "rm", "username": "frank"})
    assert got["registered_model_permission"]["permission"] == "READ"


def test_review_queue_owners_and_reviewers(as_user) -> None:  # type: ignore[no-untyped-def]
    from mlflow.server.auth.client import AuthServiceClient
    from mlflow.tracing.client import TracingClient

    admin = as_user(ADMIN)
    exp = admin.create_experiment("auth-queues")
    users = AuthServiceClient(mlflow.get_tracking_uri())
    users.create_user("quinn", "quinn-password-123")
    users.create_user("rita", "rita-password-123")
    users.grant_user_permission("quinn", "experiment", exp, "EDIT")

    as_user(("quinn", "quinn-password-123"))
    owner = TracingClient()
    queue = owner._create_review_queue(exp, name="Work", queue_type="custom", users=["rita"])
    assert queue.created_by == "quinn"  # the signed-in user, never the body
    with pytest.raises(MlflowException, match="is a registered user"):
        owner._create_review_queue(exp, name="Rita", queue_type="custom")
    with pytest.raises(MlflowException, match="403|Permission denied"):
        owner._set_review_queue_item_status(queue.queue_id, item_id="tr-x", status="complete")
    assert owner._update_review_queue(queue.queue_id, name="Work 2").name == "Work 2"

    as_user(("rita", "rita-password-123"))  # READ by default, and a reviewer of the queue
    reviewer = TracingClient()
    assert reviewer._get_review_queue(queue.queue_id).name == "Work 2"
    assert [q.queue_id for q in reviewer._list_review_queues(exp)] == [queue.queue_id]
    with pytest.raises(MlflowException, match="403|Permission denied"):
        reviewer._delete_review_queue(queue.queue_id)
    with pytest.raises(MlflowException, match="403|Permission denied"):
        reviewer._set_review_queue_item_status(queue.queue_id, item_id="tr-x",
                                               status="complete")
