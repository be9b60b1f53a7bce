"""Every `trackd` command explains a configuration or connection problem in at most two lines
on stderr, with the URL's password masked, and exits 1; a traceback only with --debug."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SECRET = "s3cr3t-pw"


def trackd(*args: str, cwd: Path, env: dict[str, str] | None = None,
           timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `python -m trackd ARGS` as a user would run `trackd ARGS`."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "TRACKD_"))}
    full_env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "trackd", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _serving(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_short_error(result: subprocess.CompletedProcess[str], *expected: str) -> list[str]:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert 1 <= len(lines) <= 2, result.stderr
    assert all(line.startswith("trackd: ") for line in lines), result.stderr
    assert SECRET not in result.stderr + result.stdout
    for text in expected:
        assert text in result.stderr, result.stderr
    return lines


def _bad_urls(tmp_path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (URL, texts the message must hold: the masked URL, the driver's words, a hint)."""
    refused = _closed_port()
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    urls = {
        "not-a-url": ("notaurl", ["notaurl", "Could not parse", "sqlite:///"]),
        "unknown-dialect": ("nosuchdb://x/y", ["no database driver for 'nosuchdb'"]),
        "refused-port": (
            f"postgresql://someone:{SECRET}@127.0.0.1:{refused}/db",
            [f"postgresql://someone:***@127.0.0.1:{refused}/db", "Connection refused",
             "check that the database server is running"]),
        "sqlite-missing-folder": (
            f"sqlite:///{tmp_path}/missing/folder/mlflow.db",
            ["unable to open database file", f"{tmp_path}/missing/folder exists"]),
        "sqlite-folder-is-a-file": (
            f"sqlite:///{a_file}/mlflow.db", [str(a_file), "a file"]),
        "driver-not-installed": ("postgresql+nosuchdriver://u@127.0.0.1/x",
                                 ["nosuchdriver"]),
        # Installed or not, a driver trackd is not tested with is refused before connecting.
        "driver-unsupported": ("mysql+mysqlconnector://u@127.0.0.1/x",
                               ["mysql+mysqlconnector://", "mysql+mysqldb://"]),
        # mysqlclient's option in a URL that reaches the bundled PyMySQL (MLflow URLs have it).
        "driver-option": (f"mysql://u:{SECRET}@127.0.0.1:{refused}/x?ssl_mode=REQUIRED",
                          ["takes no option 'ssl_mode'", "mysql+mysqldb://"]),
    }
    if _serving(5432):
        urls["postgresql-missing-database"] = (
            f"postgresql://root:{SECRET}@127.0.0.1:5432/trackd_no_such_database",
            ['"trackd_no_such_database" does not exist', "create the database first"])
    if _serving(3306):
        urls["mysql-missing-database"] = (
            "mysql://root@127.0.0.1:3306/trackd_no_such_database",
            ["Unknown database 'trackd_no_such_database'", "create the database first"])
        urls["mysql-wrong-password"] = (
            f"mysql://root:{SECRET}@127.0.0.1:3306/test",
            ["mysql://root:***@127.0.0.1:3306/test", "Access denied",
             "user name and password"])
    return urls


CASES = ["not-a-url", "unknown-dialect", "refused-port", "sqlite-missing-folder",
         "sqlite-folder-is-a-file", "driver-not-installed", "driver-unsupported",
         "driver-option", "postgresql-missing-database",
         "mysql-missing-database", "mysql-wrong-password"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("command", ["server", "db current", "db upgrade", "gc",
                                     "auth upgrade"])
def test_bad_backend_store_is_two_lines(case: str, command: str, tmp_path: Path) -> None:
    urls = _bad_urls(tmp_path)
    if case not in urls:
        pytest.skip(f"{case} needs its database server on 127.0.0.1")
    url, expected = urls[case]
    if case == "sqlite-missing-folder" and command in ("server", "db upgrade"):
        pytest.skip("server and db upgrade create the folder, as MLflow does (tested below)")
    if command == "server":
        args = ["server", "--backend-store-uri", url, "--port", str(_closed_port()),
                "--artifacts-destination", str(tmp_path / "artifacts")]
    elif command == "gc":
        args = ["gc", "--backend-store-uri", url]
    elif command == "auth upgrade":
        args = ["auth", "upgrade", "--database-uri", url]
    else:
        args = [*command.split(), url]
    lines = assert_short_error(trackd(*args, cwd=tmp_path), *expected)
    if command == "auth upgrade":
        assert "the auth database" in lines[0]


def test_debug_brings_the_traceback_back(tmp_path: Path) -> None:
    result = trackd("--debug", "db", "current", f"sqlite:///{tmp_path}/missing/x.db",
                    cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "unable to open database file" in result.stderr
    same = trackd("db", "current", f"sqlite:///{tmp_path}/missing/x.db", cwd=tmp_path,
                  env={"TRACKD_DEBUG": "1"})
    assert "Traceback" in same.stderr


def test_unexpected_errors_are_not_explained_away() -> None:
    # Anything that is not a configuration or connection problem keeps its traceback (the
    # group re-raises when the explainer has nothing to say).
    from trackd.preflight import explain

    assert explain(RuntimeError("boom"), "sqlite:///x.db") is None
    assert explain(KeyError("k")) is None


def test_alembic_is_quiet_unless_debug(tmp_path: Path) -> None:
    quiet = trackd("db", "upgrade", f"sqlite:///{tmp_path}/a.db", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "alembic" not in quiet.stderr
    loud = trackd("--debug", "db", "upgrade", f"sqlite:///{tmp_path}/b.db", cwd=tmp_path)
    assert loud.returncode == 0, loud.stderr
    assert "INFO alembic.runtime.plugins" in loud.stderr


@pytest.mark.parametrize("command", ["server", "db upgrade"])
def test_the_folder_of_an_sqlite_file_is_created_as_mlflow_does(command: str,
                                                                tmp_path: Path) -> None:
    database = tmp_path / "fresh" / "volume" / "mlflow.db"
    url = f"sqlite:///{database}"
    if command == "db upgrade":
        result = trackd("db", "upgrade", url, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    else:
        # The folder is made before the database opens: a port in use stops the server
        # before either (tested in test_startup_checks), so use a free port and stop it.
        proc = subprocess.Popen(
            [sys.executable, "-m", "trackd", "server", "--backend-store-uri", url, "--port",
             str(_closed_port()), "--artifacts-destination", str(tmp_path / "art")],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"})
        try:
            import time

            deadline = time.monotonic() + 60
            while not database.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=30)
        assert database.exists(), err
