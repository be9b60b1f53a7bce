"""The docs name every flag, setting and route: a new one without documentation fails here."""

from __future__ import annotations

import re
from pathlib import Path

import click

from trackd.api.routes import api_routes
from trackd.cli import main
from trackd.config import ENV_NAMES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
API_DOC = (ROOT / "docs" / "api.md").read_text()


def _server_command() -> click.Command:
    command = main.get_command(click.Context(main), "server")  # type: ignore[attr-defined]
    assert command is not None
    return command


def test_every_server_flag_is_in_the_readme() -> None:
    missing = []
    for param in _server_command().params:
        for flag in [*param.opts, *param.secondary_opts]:
            if flag.startswith("--") and f"`{flag}`" not in README:
                missing.append(flag)
    assert not missing, f"flags missing from README.md's configuration table: {missing}"


def test_every_environment_variable_is_in_the_readme() -> None:
    names = {name for names in ENV_NAMES.values() for name in names}
    missing = sorted(name for name in names if f"`{name}`" not in README)
    assert not missing, f"variables missing from README.md: {missing}"


def _documented_paths() -> set[tuple[str, str]]:
    return set(re.findall(r"\|\s*`?(GET|POST|PATCH|PUT|DELETE)`?\s*\|\s*`([^`]+)`", API_DOC))


def test_every_route_is_in_the_api_doc() -> None:
    documented = _documented_paths()
    missing = set()
    for route in api_routes():
        if route.path.startswith("/ajax-api/"):
            continue  # the same handlers as /api/, documented once
        if (route.method, route.path) not in documented:
            missing.add(f"{route.method} {route.path}")
    assert not missing, f"routes missing from docs/api.md: {sorted(missing)}"


def test_the_api_doc_names_no_route_that_does_not_exist() -> None:
    served = {(r.method, r.path) for r in api_routes()}
    stale = sorted(f"{m} {p}" for m, p in _documented_paths() if (m, p) not in served)
    assert not stale, f"docs/api.md documents routes trackd does not serve: {stale}"


# ---- the README's examples, run as a newcomer runs them ------------------------------------

README_URL = "http://127.0.0.1:5000"


def _readme_python_examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_examples_each_address_the_server_themselves() -> None:
    examples = _readme_python_examples()
    assert len(examples) >= 3
    for code in examples:
        # Self-contained: each sets its own tracking URI instead of relying on an earlier one.
        assert f'"{README_URL}"' in code, code


def test_readme_examples_run_on_their_own_against_trackd_server(db_kind: str,
                                                                tmp_path: Path) -> None:
    """Each example in its own fresh interpreter (no variable survives from the one before),
    in README order, against a live `trackd server` on a fresh database of each kind."""
    from dbs import fresh_database

    with fresh_database(db_kind, tmp_path) as url:
        _run_readme_examples(url, tmp_path)


def _run_readme_examples(url: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from support.server import ServerOptions, running_server

    opts = ServerOptions(backend_store_uri=url, artifacts_destination=tmp_path / "mlartifacts")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_DISABLE_TELEMETRY="true", MLFLOW_HTTP_REQUEST_MAX_RETRIES="2",
               PYTHONWARNINGS="ignore")
    with running_server("trackd", opts, tmp_path / "server") as server:
        for index, code in enumerate(_readme_python_examples()):
            workdir = tmp_path / f"example-{index}"
            workdir.mkdir()
            script = workdir / "example.py"
            script.write_text(code.replace(README_URL, server.url))
            result = subprocess.run([sys.executable, str(script)], cwd=workdir, env=env,
                                    capture_output=True, text=True, timeout=600,
                                    stdin=subprocess.DEVNULL)
            assert result.returncode == 0, (
                f"README example {index + 1} failed:\n{code}\n{result.stdout}\n{result.stderr}")
