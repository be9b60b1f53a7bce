"""A local artifact destination that breaks while the server runs: the client gets MLflow's
500 INTERNAL_ERROR (never a 400 "Invalid path" that blames its request), and the log says once
which destination failed and why, without a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
from support.server import ServerOptions, running_server


def test_destination_replaced_by_a_file(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    opts = ServerOptions(backend_store_uri=f"sqlite:///{tmp_path}/mlflow.db",
                         artifacts_destination=dest, serve_artifacts=True)
    with running_server("trackd", opts, tmp_path / "work") as server:
        url = server.url + "/api/2.0/mlflow-artifacts/artifacts/0/run/"
        assert httpx.put(url + "a.txt", content=b"one").status_code == 200
        shutil.rmtree(dest)
        dest.write_text("not a folder any more")
        answers = [httpx.put(url + f"b{i}.txt", content=b"two") for i in range(3)]
        for answer in answers:
            assert answer.status_code == 500, answer.text
            body = answer.json()
            assert body["error_code"] == "INTERNAL_ERROR"
            assert "Invalid path" not in body["message"]
            assert str(dest) not in body["message"]  # server paths stay in the server's log
        dest.unlink()
        dest.mkdir()
        assert httpx.put(url + "c.txt", content=b"three").status_code == 200
        log = server.log_text()
    failures = [line for line in log.splitlines() if "cannot store files" in line]
    assert len(failures) == 1, log
    assert str(dest) in failures[0] and "no longer a folder" in failures[0]
    assert "Traceback" not in log
