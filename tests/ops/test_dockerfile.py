"""The container images' key properties, checked without a container engine.

No Docker engine runs on the development machines, so these tests read the Dockerfiles (a small
parser for the instructions used) and run the image's HEALTHCHECK command and its environment
against a real `trackd server` process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from ops.conftest import trackd_process

ROOT = Path(__file__).resolve().parents[2]


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending = f"{pending} {line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        word, _, rest = pending.partition(" ")
        out.append((word.upper(), rest.strip()))
        pending = ""
    return out


def final_stage(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last = max(i for i, (word, _) in enumerate(items) if word == "FROM")
    return items[last:]


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in stage:
        if word == "ENV":
            for key, value in re.findall(r"(\w+)=(\S+)", rest):
                env[key] = value
    return env


def test_runtime_image_properties() -> None:
    items = instructions(ROOT / "Dockerfile")
    args = {m.group(1): m.group(2) for w, r in items if w == "ARG"
            for m in [re.match(r"(\w+)=(\S+)", r)] if m}
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", args["PYTHON_IMAGE"])
    stage = final_stage(items)
    assert stage[0] == ("FROM", "${PYTHON_IMAGE}")
    users = [rest for word, rest in stage if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")  # runs as non-root
    assert ("EXPOSE", "5000") in stage
    env = env_of(stage)
    assert env["MLFLOW_HOST"] == "0.0.0.0" and env["MLFLOW_PORT"] == "5000"
    assert env["MLFLOW_BACKEND_STORE_URI"].startswith("sqlite:////data/")
    # Configured by environment only: the command carries no flags.
    entry = [json.loads(rest) for word, rest in stage if word == "ENTRYPOINT"][-1]
    cmd = [json.loads(rest) for word, rest in stage if word == "CMD"][-1]
    assert entry == ["trackd"] and cmd == ["server"]
    health = [rest for word, rest in stage if word == "HEALTHCHECK"]
    assert len(health) == 1 and "/health" in health[0]
    # The wheel is built in its own stage; the runtime image has no compilers or npm.
    assert sum(1 for word, _ in items if word == "FROM") == 3
    assert not any("apt-get" in rest for word, rest in stage if word == "RUN")


def test_dockerignore_keeps_the_context_small() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "node_modules", "tests"} <= ignored
    for needed in ("src", "pyproject.toml", "setup.py", "README.md", "package-lock.json"):
        assert needed not in ignored


def test_hdfs_image_adds_jre_and_hadoop() -> None:
    items = instructions(ROOT / "Dockerfile.hdfs")
    stage = final_stage(items)
    runs = " ".join(rest for word, rest in stage if word == "RUN")
    assert "openjdk-17-jre-headless" in runs and "pyarrow" in runs
    env = env_of(stage)
    assert {"JAVA_HOME", "HADOOP_HOME", "HADOOP_CONF_DIR", "ARROW_LIBHDFS_DIR"} <= set(env)
    assert [rest for word, rest in stage if word == "USER"][-1].startswith("10001")
    hadoop = " ".join(rest for word, rest in items if word == "RUN")
    assert "sha512sum -c" in hadoop  # the download is verified


def test_healthcheck_and_env_only_configuration_work(tmp_path: Path) -> None:
    """Start trackd the way the image does (no flags, its ENV) and run its HEALTHCHECK."""
    stage = final_stage(instructions(ROOT / "Dockerfile"))
    env = env_of(stage)
    env["MLFLOW_BACKEND_STORE_URI"] = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env["MLFLOW_ARTIFACTS_DESTINATION"] = str(tmp_path / "mlartifacts")
    env["MLFLOW_HOST"] = "127.0.0.1"
    env["MLFLOW_STATIC_PREFIX"] = "/mlflow"
    health = [rest for word, rest in stage if word == "HEALTHCHECK"][0]
    command = json.loads(health[health.index("CMD") + 3:].strip())
    assert command[0] == "python"
    with trackd_process(tmp_path, env=env, static_prefix="/mlflow", env_only=True) as server:
        env["MLFLOW_PORT"] = server.url.rsplit(":", 1)[1]
        ok = subprocess.run([sys.executable, *command[1:]], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=60)
        assert ok.returncode == 0, ok.stderr
    down = subprocess.run([sys.executable, *command[1:]], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60)
    assert down.returncode != 0  # a stopped server is unhealthy
