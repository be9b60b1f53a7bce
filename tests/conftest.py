"""Suite-wide fixtures: which server implementation is under test, and one database per kind.

Options (each also settable through the environment, for `bash scripts/test`):
  --compat-target trackd|mlflow   (TRACKD_COMPAT_TARGET) server the compat tier starts;
                                  `mlflow` runs the suite against MLflow's own server to prove
                                  that the expectations are MLflow's real behaviour.
  --db-kinds sqlite,postgresql,mysql  (TRACKD_TEST_DBS) databases to parametrize over.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
# Helpers (`dbs`, `support`) are imported by plain name whatever import mode pytest picks.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

# Set before anything imports mlflow: the client must never try to phone home from a test.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from support.db import enter_database  # noqa: E402
from support.server import TARGETS, ServerOptions, ServerProcess, start_server  # noqa: E402

DB_KINDS = ("sqlite", "postgresql", "mysql")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("trackd")
    group.addoption(
        "--compat-target",
        choices=TARGETS,
        default=os.environ.get("TRACKD_COMPAT_TARGET", "trackd"),
        help="server process the compat tier drives (default: trackd; env TRACKD_COMPAT_TARGET)",
    )
    group.addoption(
        "--db-kinds",
        default=os.environ.get("TRACKD_TEST_DBS", ",".join(DB_KINDS)),
        help="comma-separated database kinds to run against (env TRACKD_TEST_DBS)",
    )


def selected_db_kinds(config: pytest.Config) -> list[str]:
    kinds = [k.strip() for k in str(config.getoption("--db-kinds")).split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(DB_KINDS))
    if unknown or not kinds:
        raise pytest.UsageError(f"--db-kinds: unknown {unknown}; choose from {DB_KINDS}")
    return kinds


def pytest_configure(config: pytest.Config) -> None:
    selected_db_kinds(config)
    # A plain SIGTERM (e.g. `timeout`) would end pytest without teardown and leave servers and
    # databases behind; as an interrupt, pytest stops and tears down as it does for Ctrl-C.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt_on_sigterm)


def _interrupt_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_report_header(config: pytest.Config) -> str:
    from dbs import url_drivers

    drivers = ",".join(f"{kind}={driver}" for kind, driver in url_drivers().items())
    return (
        f"compat target: {config.getoption('--compat-target')}; "
        f"databases: {','.join(selected_db_kinds(config))} (drivers: {drivers})"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Session scope groups the tests by database, so each kind gets one database and one
    # server for the whole run instead of one per test.
    if "db_kind" in metafunc.fixturenames:
        metafunc.parametrize("db_kind", selected_db_kinds(metafunc.config), scope="session")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run all tests of one database kind together, module by module.

    pytest 9 keys its own grouping on the index of the whole parameter combination, not of the
    `db_kind` value, so a test with further parameters scatters the kinds and every switch
    tears the session server down and starts another. The stable sort keeps the order within
    each (kind, module) group; tests without a database kind run first.
    """
    kinds = selected_db_kinds(config)
    module_rank: dict[Path, int] = {}
    for item in items:
        module_rank.setdefault(item.path, len(module_rank))

    def key(item: pytest.Item) -> tuple[int, int]:
        callspec = getattr(item, "callspec", None)
        kind = callspec.params.get("db_kind") if callspec is not None else None
        return (-1 if kind is None else kinds.index(kind), module_rank[item.path])

    items.sort(key=key)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`-n N --dist loadscope` (what scripts/test runs): units of one module and database kind.

    optionalhook: the suite still loads without pytest-xdist (or with `-p no:xdist`).
    """
    if config.getvalue("dist") != "loadscope":
        return None
    from support.scheduling import ModuleAndDatabaseScheduling

    return ModuleAndDatabaseScheduling(config, log)


@pytest.fixture(scope="session")
def compat_target(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--compat-target"))


@pytest.fixture(scope="session")
def database_url(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database of `db_kind`, shared by the session."""
    with enter_database(db_kind, tmp_path_factory.mktemp(f"db-{db_kind}")) as url:
        yield url


@pytest.fixture(scope="session")
def live_server(
    request: pytest.FixtureRequest,
    compat_target: str,
    db_kind: str,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    """A real server process (the compat target) on the session's database of `db_kind`."""
    workdir = tmp_path_factory.mktemp(f"server-{compat_target}-{db_kind}")
    opts = ServerOptions(
        backend_store_uri=database_url,
        artifacts_destination=workdir / "artifacts",
        default_artifact_root="mlflow-artifacts:/",
        serve_artifacts=True,
    )
    server = start_server(compat_target, opts, workdir)
    failed_before = request.session.testsfailed
    yield server
    code = server.stop()
    if request.session.testsfailed > failed_before:
        # Failing tests got their slice of the log; the whole log helps with cross-test state.
        print_server_log(request.config, server, f"exit code {code}")


def print_server_log(config: pytest.Config, server: ServerProcess, why: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    text = server.log_text(limit=8_000)
    if reporter is None:
        print(text, file=sys.stderr)
        return
    reporter.write_sep("-", f"{server.target} server log ({why}): {server.log_path}")
    reporter.write_line(text)


# Tests that drive a live server set `item._trackd_server = (server, log offset at start)`, or a
# list of such pairs; when such a test fails, its report gets the part of each server's log
# written during the test.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    mark = getattr(item, "_trackd_server", None)
    if mark is not None and report.failed:
        for server, offset in mark if isinstance(mark, list) else [mark]:
            state = "running" if server.alive() else f"EXITED with code {server.proc.returncode}"
            report.sections.append((
                f"{server.target} server log ({state}, port {server.port})",
                server.log_text(start=offset, limit=20_000),
            ))
    return report
