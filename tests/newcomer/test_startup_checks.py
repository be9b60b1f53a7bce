"""At start-up, before serving: the port is bound before anything is written, and a local
artifact destination (or default root) is created and proven writable, or the server exits
naming the path and the reason."""

from __future__ import annotations

import os
import socket
import urllib.request
from pathlib import Path

import pytest
from support.server import ServerOptions, running_server

from newcomer.test_cli_errors import _closed_port, assert_short_error, trackd


def _server(tmp_path: Path, *extra: str, port: int | None = None) -> list[str]:
    return ["server", "--backend-store-uri", f"sqlite:///{tmp_path}/mlflow.db",
            "--port", str(port or _closed_port()), *extra]


def _bad_destinations(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o555)
    cases = {
        "under-proc": (Path("/proc/trackd-artifacts"), "No such file or directory"),
        "parent-is-a-file": (a_file / "artifacts", "a file is in the way"),
        "is-a-file": (a_file, "a file is in the way"),
    }
    if os.geteuid() != 0:  # root writes into a 0555 folder anyway
        cases["read-only-folder"] = (read_only / "artifacts", "Permission denied")
    return cases


@pytest.mark.parametrize("case", ["under-proc", "parent-is-a-file", "is-a-file",
                                  "read-only-folder"])
@pytest.mark.parametrize("flag", ["--artifacts-destination", "--default-artifact-root"])
def test_unusable_artifact_folder_stops_the_server(case: str, flag: str, tmp_path: Path) -> None:
    cases = _bad_destinations(tmp_path)
    if case not in cases:
        pytest.skip("root can write into a read-only folder")
    path, reason = cases[case]
    extra = [flag, str(path)]
    if flag == "--default-artifact-root":
        extra.append("--no-serve-artifacts")  # a local root the server itself writes
    result = trackd(*_server(tmp_path, *extra), cwd=tmp_path)
    assert_short_error(result, flag, str(path), reason)
    # Refused before the database was touched.
    assert not (tmp_path / "mlflow.db").exists()


def test_missing_artifact_folders_are_created(tmp_path: Path) -> None:
    dest = tmp_path / "new" / "nested" / "dest"
    root = tmp_path / "deep" / "root"
    opts = ServerOptions(
        backend_store_uri=f"sqlite:///{tmp_path}/mlflow.db",
        artifacts_destination=tmp_path / "made-by-the-harness",
        default_artifact_root=str(root),
        serve_artifacts=True,
        # The harness creates the folder it is given; the one that counts comes last (click
        # keeps the last value of a repeated option), and nobody but the server creates it.
        extra_args=["--artifacts-destination", str(dest)],
    )
    with running_server("trackd", opts, tmp_path / "work") as server:
        with urllib.request.urlopen(server.url + "/health", timeout=10) as resp:
            assert resp.status == 200
        assert dest.is_dir()
        assert root.is_dir()
        # The write probe leaves nothing behind.
        assert list(dest.iterdir()) == [] and list(root.iterdir()) == []


def test_port_in_use_is_reported_before_anything_is_written(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = trackd(*_server(tmp_path, "--artifacts-destination", str(tmp_path / "art"),
                                 port=port), cwd=tmp_path)
    assert_short_error(result, f"127.0.0.1:{port}", "address already in use", "--port")
    assert "serving" not in result.stderr
    assert not (tmp_path / "mlflow.db").exists()
    assert not (tmp_path / "art").exists()


def test_unknown_host_is_one_line(tmp_path: Path) -> None:
    result = trackd(*_server(tmp_path, "--host", "no-such-host.invalid"), cwd=tmp_path)
    assert_short_error(result, "no-such-host.invalid", "--host")
    assert not (tmp_path / "mlflow.db").exists()


def test_localhost_binds_ipv4_as_uvicorn_does() -> None:
    from trackd.preflight import bind

    sock = bind("localhost", 0)
    try:
        assert sock.family == socket.AF_INET and sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()
