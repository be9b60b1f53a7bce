"""A `trackd server` process started with arbitrary flags and environment, for ops tests."""

from __future__ import annotations

import contextlib
import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from support.server import executable, free_port


@dataclass
class Proc:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _answers(url: str, context: ssl.SSLContext | None) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2, context=context) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


@contextlib.contextmanager
def trackd_process(workdir: Path, *args: str, env: dict[str, str] | None = None,
                   https: bool = False, static_prefix: str = "", env_only: bool = False,
                   timeout: float = 120.0) -> Iterator[Proc]:
    """``env_only``: no flags at all, the port goes in MLFLOW_PORT (as in the image)."""
    port = free_port()
    log = workdir / f"trackd-{port}.log"
    cmd = [executable("trackd"), "server"]
    if not env_only:
        cmd += ["--host", "127.0.0.1", "--port", str(port)]
    cmd += list(args)
    full_env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "PYTHONUNBUFFERED": "1",
                **(env or {})}
    if env_only:
        full_env["MLFLOW_PORT"] = str(port)
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=workdir, env=full_env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"{'https' if https else 'http'}://127.0.0.1:{port}"
    context = ssl._create_unverified_context() if https else None  # noqa: S323 (self-signed)
    running = Proc(proc, url, log)
    try:
        deadline = time.monotonic() + timeout
        while not _answers(url + static_prefix, context):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"trackd did not start: {running.log_text()[-4000:]}")
            time.sleep(0.2)
        yield running
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
