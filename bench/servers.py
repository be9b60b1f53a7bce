"""The servers under test: how to find, start, wait for and stop each one.

Each server is started by the benchmark in its own session (process group), so stopping it
ends exactly the processes it started and nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.databases import Db

HOST = "127.0.0.1"
VENV_BIN = Path(sys.executable).parent
FASTTRACKML_VERSION = "0.6.0"
FASTTRACKML_VENV = Path.home() / ".cache" / "trackd-bench" / "fasttrackml"


@dataclass
class ServerKind:
    name: str  # key in results: trackd, mlflow, mlflow-4w, fasttrackml
    label: str  # column header
    scenarios: tuple[str, ...] | None = None  # None = all
    note: str = ""

    def argv(self, db: Db, port: int, artifacts: Path) -> list[str]:
        if self.name == "trackd":
            return [str(VENV_BIN / "trackd"), "server", "--backend-store-uri",
                    db.sqlalchemy_url(), "--host", HOST, "--port", str(port),
                    "--artifacts-destination", str(artifacts)]
        if self.name == "trackd-granian":
            # Same app, granian's Rust HTTP server instead of uvicorn (bench.granian_app).
            return [str(VENV_BIN / "granian"), "--interface", "asgi", "--host", HOST,
                    "--port", str(port), "--workers", "1", "--loop", "uvloop",
                    "--working-dir", str(Path(__file__).resolve().parents[1]),
                    "--factory", "bench.granian_app:app"]
        if self.name.startswith("mlflow"):
            workers = ["--workers", "1"] if self.name == "mlflow" else []  # 4w: its default
            return [str(VENV_BIN / "mlflow"), "server", "--backend-store-uri",
                    db.sqlalchemy_url(), "--host", HOST, "--port", str(port),
                    "--artifacts-destination", str(artifacts), *workers]
        if self.name == "fasttrackml":
            binary = find_fasttrackml()
            assert binary is not None
            return [str(binary), "server", "--database-uri", db.fasttrackml_url(),
                    "--listen-address", f"{HOST}:{port}",
                    "--default-artifact-root", str(artifacts)]
        raise ValueError(self.name)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        # Keep mlflow's background job runner (and its extra processes) out of the figures,
        # and stop it from trying to phone home.
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        env["DO_NOT_TRACK"] = "true"
        return env


KINDS = {
    "trackd": ServerKind("trackd", "trackd"),
    # Not in the default run (bench.run leaves it out unless named): the runtime comparison.
    "trackd-granian": ServerKind("trackd-granian", "trackd on granian"),
    "mlflow": ServerKind("mlflow", "mlflow 1 worker"),
    "mlflow-4w": ServerKind(
        "mlflow-4w", "mlflow 4 workers",
        scenarios=("startup", "log-metric", "log-batch", "create-runs"),
        note="mlflow's default worker count; measured on the write paths only",
    ),
    "fasttrackml": ServerKind("fasttrackml", f"FastTrackML {FASTTRACKML_VERSION}"),
}


def unsupported(name: str, backend: str) -> str | None:
    """Why a server cannot run on a backend at all (None when it can)."""
    if name == "fasttrackml" and backend == "mysql":
        return "FastTrackML supports SQLite and PostgreSQL only, not MySQL/MariaDB"
    return None


def find_fasttrackml() -> Path | None:
    candidates = [os.environ.get("FASTTRACKML_BIN"), shutil.which("fml"),
                  str(FASTTRACKML_VENV / "bin" / "fml")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def install_fasttrackml() -> str | None:
    """Install FastTrackML's wheel (a Go binary) into a venv of its own; None on success."""
    if find_fasttrackml() is not None:
        return None
    try:
        subprocess.run([sys.executable, "-m", "venv", str(FASTTRACKML_VENV)], check=True,
                       capture_output=True, timeout=120)
        # --no-deps: the wheel's dependency is the mlflow client, which the server never uses.
        subprocess.run([str(FASTTRACKML_VENV / "bin" / "pip"), "install", "-q", "--no-deps",
                        f"fasttrackml=={FASTTRACKML_VERSION}"], check=True,
                       capture_output=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        return f"could not install fasttrackml: {exc} {detail[-300:].decode(errors='replace')}"
    return None if find_fasttrackml() else "fasttrackml installed but no fml binary found"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _health(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as s:
            s.sendall(f"GET /health HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                      "Connection: close\r\n\r\n".encode())
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@dataclass
class Server:
    kind: ServerKind
    db: Db
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    startup_s: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, n: int = 800) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        # uvicorn's workers may outlive their parent by a moment; end the group's rest.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


def start(kind: ServerKind, db: Db, workdir: Path, timeout: float = 180.0,
          port: int | None = None) -> Server:
    """Start a server and wait until /health answers 200; startup_s is start → first 200."""
    port = port or free_port()
    artifacts = workdir / f"artifacts-{kind.name}"
    artifacts.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{kind.name}-{db.name}.log"
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child, closed with it
    env = kind.env()
    if kind.name == "trackd-granian":  # granian has no trackd flags: MLflow's variables
        env["MLFLOW_BACKEND_STORE_URI"] = db.sqlalchemy_url()
        env["MLFLOW_ARTIFACTS_DESTINATION"] = str(artifacts)
    t0 = time.perf_counter()
    proc = subprocess.Popen(kind.argv(db, port, artifacts), stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env, cwd=workdir,
                            start_new_session=True)
    log.close()
    server = Server(kind, db, port, proc, log_path)
    while True:
        if _health(port):
            server.startup_s = time.perf_counter() - t0
            return server
        if proc.poll() is not None:
            raise RuntimeError(f"{kind.name} exited with {proc.returncode}: {server.log_tail()}")
        if time.perf_counter() - t0 > timeout:
            server.stop()
            raise RuntimeError(f"{kind.name} not healthy after {timeout:.0f} s")
        time.sleep(0.01)


def footprint(kind: ServerKind) -> dict[str, object]:
    """Installed size of a server and everything it needs (see bench/footprint.py)."""
    if kind.name == "fasttrackml":
        binary = find_fasttrackml()
        if binary is None:
            return {"error": "not installed"}
        python = binary.parent / "python"
        dist, follow = "fasttrackml", False  # a static Go binary: needs nothing else
    else:
        python = Path(sys.executable)
        dist, follow = ("trackd" if kind.name.startswith("trackd") else "mlflow"), True
    script = Path(__file__).with_name("footprint.py")
    out = subprocess.run([str(python), str(script), dist] + ([] if follow else ["--no-deps"]),
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        return {"error": out.stderr.strip()[-300:]}
    return json.loads(out.stdout)
