"""Start a real tracking-server process (trackd, or `mlflow server` as the reference) for tests.

The compat tier talks to a server over real HTTP, the way users do. The same helper starts
either implementation with the same flags, so every expectation can first be checked against
MLflow's own server (`TRACKD_COMPAT_TARGET=mlflow`) and then held against trackd.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

TARGETS = ("trackd", "mlflow")

# `mlflow server` 3.18 needs 12 s to answer on an idle machine and was seen taking over 120 s on
# a 2-core box shared with other test runs; trackd is far quicker, but a loaded machine must not
# turn slowness into failure. The wait ends at once if the process exits.
STARTUP_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 20.0


class ServerStartError(RuntimeError):
    """The server process died or never answered /health; the message carries its log."""


def free_port() -> int:
    """A port that was free a moment ago (the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def executable(target: str) -> str:
    """The console script of `target`, preferring the one beside the running interpreter."""
    if target not in TARGETS:
        raise ValueError(f"unknown server target {target!r}; expected one of {TARGETS}")
    # The venv running pytest is the one scripts/test installed: its scripts come first, so an
    # unrelated `mlflow` on PATH never stands in for the reference.
    beside = Path(sys.executable).parent / target
    if beside.exists():
        return str(beside)
    found = shutil.which(target)
    if found is None:
        raise ServerStartError(f"cannot find the `{target}` command (is the venv installed?)")
    return found


def normalize_prefix(prefix: str | None) -> str:
    if not prefix:
        return ""
    return "/" + prefix.strip("/")


@dataclass
class ServerOptions:
    """Flags shared by `trackd server` and `mlflow server`."""

    backend_store_uri: str
    artifacts_destination: Path
    default_artifact_root: str | None = None
    static_prefix: str | None = None
    serve_artifacts: bool | None = True
    extra_args: list[str] = field(default_factory=list)


def server_command(target: str, opts: ServerOptions, port: int) -> list[str]:
    cmd = [
        executable(target),
        "server",
        "--backend-store-uri",
        opts.backend_store_uri,
        "--artifacts-destination",
        str(opts.artifacts_destination),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if opts.default_artifact_root is not None:
        cmd += ["--default-artifact-root", opts.default_artifact_root]
    if opts.static_prefix:
        cmd += ["--static-prefix", normalize_prefix(opts.static_prefix)]
    if opts.serve_artifacts is True:
        cmd.append("--serve-artifacts")
    elif opts.serve_artifacts is False:
        cmd.append("--no-serve-artifacts")
    if target == "mlflow":
        # One worker keeps the reference's memory and start-up within reason on 2 cores.
        cmd += ["--workers", "1"]
    return cmd + list(opts.extra_args)


@dataclass
class ServerProcess:
    """A running server: its URLs, its process and its log file."""

    target: str
    port: int
    prefix: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The tracking URI: root plus static prefix, as a user would configure it."""
        return self.root_url + self.prefix

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log_text(self, start: int = 0, limit: int = 40_000) -> str:
        """The log from byte `start`, keeping the last `limit` bytes (tracebacks are at the end)."""
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(start)
                data = fh.read()
        except FileNotFoundError:
            return "<no log file>"
        if len(data) > limit:
            data = b"...[cut]...\n" + data[-limit:]
        return data.decode("utf-8", "replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int | None:
        """Stop the whole process group (mlflow spawns uvicorn and a job runner) and reap it."""
        if self.proc.poll() is None:
            _signal_group(self.proc, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc, signal.SIGKILL)
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        # Children (uvicorn workers) may outlive the parent briefly; make sure none keep the port.
        _signal_group(self.proc, signal.SIGKILL)
        return self.proc.returncode


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    # The server was started in its own session, so its pid is the group id of every process
    # it spawned, and only those.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


# Looked up here, in the parent: the child must do nothing between fork and exec that could
# wait on a lock another thread held at fork time (dlopen would).
_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1
_SIGTERM = int(signal.SIGTERM)


def _die_with_parent() -> None:
    """Runs in the child between fork and exec.

    If the test process is killed outright (a CI time limit), teardown never runs; with this the
    kernel sends the server SIGTERM instead of leaving it running with its port and database.
    """
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, _SIGTERM)


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    # A developer's shell may carry server settings; the flags given here must be all there is.
    for name in (
        "MLFLOW_BACKEND_STORE_URI",
        "MLFLOW_DEFAULT_ARTIFACT_ROOT",
        "MLFLOW_DEFAULT_ARTIFACTORY_ROOT",
        "MLFLOW_ARTIFACTS_DESTINATION",
        "MLFLOW_SERVE_ARTIFACTS",
        "MLFLOW_STATIC_PREFIX",
        "MLFLOW_HOST",
        "MLFLOW_PORT",
        "MLFLOW_WORKERS",
        "MLFLOW_TRACKING_URI",
        "PYTEST_CURRENT_TEST",
    ):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    # mlflow server's job runner (scorer and prompt-optimization jobs, which trackd does not
    # run) is a second process importing all of mlflow plus its workers: ~11 s of CPU on every
    # start, half of the suite's mlflow start-ups on 2 cores. No test submits a job.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    return env


def start_server(
    target: str,
    opts: ServerOptions,
    workdir: Path,
    startup_timeout: float = STARTUP_TIMEOUT_S,
) -> ServerProcess:
    """Start a server and wait until `GET <prefix>/health` answers 200.

    Retries with another port when the chosen one was taken in the meantime.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    opts.artifacts_destination.mkdir(parents=True, exist_ok=True)
    last_error: ServerStartError | None = None
    for attempt in range(3):
        port = free_port()
        log_path = workdir / f"{target}-server-{port}.log"
        with log_path.open("wb") as log:
            log.write(f"$ {' '.join(server_command(target, opts, port))}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                server_command(target, opts, port),
                cwd=workdir,
                env=_server_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if _PRCTL is not None else None,
            )
        server = ServerProcess(target, port, normalize_prefix(opts.static_prefix), proc, log_path)
        try:
            _wait_healthy(server, startup_timeout)
            return server
        except ServerStartError as exc:
            server.stop()
            last_error = exc
            if "address already in use" not in server.log_text().lower() or attempt == 2:
                raise
    assert last_error is not None
    raise last_error


def _wait_healthy(server: ServerProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise ServerStartError(
                f"{server.target} server exited with code {server.proc.returncode} before "
                f"answering {server.url}/health; its log:\n{server.log_text()}"
            )
        if _health_ok(server.url):
            return
        time.sleep(0.2)
    raise ServerStartError(
        f"{server.target} server did not answer {server.url}/health within {timeout:.0f} s; "
        f"its log:\n{server.log_text()}"
    )


@contextlib.contextmanager
def running_server(
    target: str,
    opts: ServerOptions,
    workdir: Path,
    startup_timeout: float = STARTUP_TIMEOUT_S,
) -> Iterator[ServerProcess]:
    """Context manager form: the server is stopped on exit, whatever happened inside."""
    server = start_server(target, opts, workdir, startup_timeout)
    try:
        yield server
    finally:
        server.stop()
