"""One database, two servers: what one writes, the other reads (the schema promise).

The ``interop`` fixture (tests/compat/conftest.py) gives each database kind one database with a
trackd process and an ``mlflow server`` process on it, both running, kept for every interop
test of that kind in the test process. Starting the pair once instead of a fresh database and
two servers per test saves an ``mlflow server`` start-up (6-8 s of CPU) and a trackd one per
test. What a test writes through one process it reads through the other, so every value still
crosses from one implementation to the other through the database (and the shared artifact
destination) only; tests keep to experiments of their own (``unique_name``), so they never see
each other's data. The database is empty when trackd starts on it: trackd builds the schema and
mlflow server opens that (tests/schema proves the schema the same whoever builds it).

tests/support/scheduling.py (INTEROP_MODULES) sends the tests of one database kind of every
module that uses the fixture to one xdist worker, so each kind's pair starts once per run. A
module missing from that list still works; it only starts a pair on its own worker too.

With ``--compat-target mlflow`` both processes are ``mlflow server`` (the ``trackd`` role too):
the tests' expectations are then checked against MLflow alone.

Both processes run with what webhook deliveries to a receiver on this machine need
(tests/compat/webhook_env.py), for test_webhooks_interop.py; the other tests send no events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from dbs import fresh_database
from support.server import ServerOptions, ServerProcess, start_server

from .conftest import reset_fluent_state
from .webhook_env import WEBHOOK_ENV

T = TypeVar("T")

ROLES = ("trackd", "mlflow")

@dataclass
class InteropServers:
    """Two running server processes on one database, by role ("trackd", "mlflow")."""

    servers: dict[str, ServerProcess]

    def url(self, role: str) -> str:
        """The tracking URI of the ``role``'s server, which must still be running."""
        _check_role(role)
        server = self.servers[role]
        if not server.alive():
            pytest.fail(f"the {role} role's {server.target} server died (exit code "
                        f"{server.proc.returncode}); its log:\n{server.log_text()}")
        return server.url

    def hand_over(self, first: str, write: Callable[[str], T],
                  read: Callable[[str, T], Any]) -> None:
        """``write(url)`` through the ``first`` role's server, then ``read(url, what write
        returned)`` through the other one's."""
        second = other_role(first)
        writer, reader = self.url(first), self.url(second)
        try:
            written = write(writer)
        finally:
            reset_fluent_state()
        try:
            read(reader, written)
        finally:
            reset_fluent_state()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")


def other_role(role: str) -> str:
    _check_role(role)
    return ROLES[1] if role == ROLES[0] else ROLES[0]


@contextmanager
def interop_servers(db_kind: str, compat_target: str, workdir: Path) -> Iterator[InteropServers]:
    """A fresh database of ``db_kind`` with both servers on it; everything gone on exit."""
    with fresh_database(db_kind, workdir) as url, ExitStack() as stack:
        opts = ServerOptions(backend_store_uri=url, artifacts_destination=workdir / "artifacts",
                             default_artifact_root="mlflow-artifacts:/")
        servers = {}
        with pytest.MonkeyPatch.context() as mp:
            for name, value in WEBHOOK_ENV.items():
                mp.setenv(name, value)  # each process copies the environment it starts with
            # In this order: the first server builds the schema in the empty database, and two
            # processes must not build it at once.
            for role in ROLES:
                target = compat_target if role == "trackd" else role
                server = start_server(target, opts, workdir / role)
                stack.callback(server.stop)
                servers[role] = server
        yield InteropServers(servers)
