"""How `pytest -n N --dist loadscope` (pytest-xdist) splits this suite between workers.

xdist's own loadscope unit is a module or class; here it is a module *and one database kind*,
the same slices the serial run already makes (tests/conftest.py sorts by kind, then module), so:

* a module's fixtures are set up once per kind, on one worker, as in a serial run, instead of
  once on every worker that happens to get one of its tests;
* units go out in collection order (kind by kind), so a worker switches its session database
  and server (`live_server`) about once per kind, not once per unit.

The modules in INTEROP_MODULES share one unit per kind: they use one database and two server
processes per kind (the `interop` fixture, tests/compat/interop.py), started once per worker
that runs them; one unit makes that once per run.

Every test still runs exactly once; the grouping only decides where.
"""

from __future__ import annotations

from typing import Any

from dbs import DB_KINDS
from xdist.scheduler import LoadScopeScheduling

# The modules whose tests use the `interop` fixture.
INTEROP_MODULES = frozenset({
    "tests/compat/test_datasets_interop.py",
    "tests/compat/test_issue_references.py",
    "tests/compat/test_review_interop.py",
    "tests/compat/test_scorers_interop.py",
    "tests/compat/test_trace_filters.py",
    "tests/compat/test_traces_interop.py",
    "tests/compat/test_webhooks_interop.py",
})


def scope_of(nodeid: str) -> str:
    """`tests/x.py::T::test_y[mysql-3]` -> `tests/x.py|mysql`; no kind -> the module alone.

    The INTEROP_MODULES of one kind -> `interop|mysql`.
    """
    module = nodeid.split("::", 1)[0]
    start, end = nodeid.find("["), nodeid.rfind("]")
    if start == -1 or end < start:
        return module
    ids = nodeid[start + 1 : end].split("-")
    kind = next((k for k in DB_KINDS if k in ids), None)
    if kind is None:
        return module
    return f"{'interop' if module in INTEROP_MODULES else module}|{kind}"


class ModuleAndDatabaseScheduling(LoadScopeScheduling):
    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        # xdist would put the biggest units first, which interleaves the database kinds and
        # makes every worker restart its session server on almost every unit.
        config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid)
