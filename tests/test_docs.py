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


# ---- every route of MLflow 3.18: served, or named in docs/api.md as not served --------------

MLFLOW_ROUTES = ROOT / "docs" / "mlflow-captures" / "routes-318.txt"
UNSERVED_HEADING = "## MLflow 3.18 routes trackd does not serve"
# Served by the app itself rather than the route table (trackd.app, trackd.web.mlflow_ui).
OUTSIDE_THE_ROUTE_TABLE = {("GET", "/"), ("GET", "/health"), ("GET", "/version"),
                           ("GET", "/static-files/{}"), ("GET", "/build/{}")}


def _shape(path: str) -> str:
    """A path with its parameters blanked, so `<id>`, `{id}` and `<path:p>` compare equal."""
    return re.sub(r"[<{][^>}]*[>}]", "{}", path).rstrip("/") or "/"


def _mlflow_routes() -> list[tuple[str, str, str]]:
    rows = [line.split() for line in MLFLOW_ROUTES.read_text().splitlines()
            if line and not line.startswith("#")]
    return [(group, method, path) for group, method, path in rows]


def _served_by_trackd(method: str, path: str) -> bool:
    """Under either of the prefixes `/X/2/` stands for (`/api/2.0/`, `/ajax-api/2.0/`)."""
    served = {(r.method, _shape(r.path)) for r in api_routes()} | OUTSIDE_THE_ROUTE_TABLE
    return any(
        (method, _shape(path.replace("/X/2/", f"/{api}/2.0/").replace("/X/3/", f"/{api}/3.0/")))
        in served
        for api in ("api", "ajax-api")
    )


def test_every_mlflow_318_route_is_served_or_named_as_not_served() -> None:
    section = API_DOC[API_DOC.index(UNSERVED_HEADING):]
    named = set(re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (\S+)`", section))
    groups = {name for line in section.splitlines() if line.startswith("- `")
              for name in re.findall(r"`([a-z-]+)`", line.split(":")[0])}
    routes = _mlflow_routes()
    assert len(routes) == 305
    unserved = {(m, p) for _, m, p in routes if not _served_by_trackd(m, p)}
    unaccounted = sorted(f"{m} {p}" for g, m, p in routes
                         if (m, p) in unserved and (m, p) not in named and g not in groups)
    assert not unaccounted, f"not served and not named in docs/api.md: {unaccounted}"
    stale = sorted(f"{m} {p}" for m, p in named - unserved)
    assert not stale, f"docs/api.md names as not served what trackd serves: {stale}"
    assert groups <= {g for g, _, _ in routes}, groups


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
