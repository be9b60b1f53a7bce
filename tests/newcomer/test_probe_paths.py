"""One rule for the plain endpoints behind a static prefix: every one is under the prefix, and
the two probes a load balancer calls, /health and /ready, also at the root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.asgi import InProcess, in_process

from trackd.config import Settings

PREFIX = "/app/p1/5000"
UNDER_PREFIX = ["/health", "/ready", "/metrics", "/version", "/openapi.json",
                "/api/2.0/mlflow/experiments/search?max_results=1"]
ROOT_PROBES = ["/health", "/ready"]


@pytest.fixture(scope="module", params=["", PREFIX], ids=["no-prefix", "prefix"])
def served(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InProcess, str]]:
    tmp: Path = tmp_path_factory.mktemp("probes")
    settings = Settings(backend_store_uri=f"sqlite:///{tmp / 'mlflow.db'}",
                        artifacts_destination=str(tmp / "artifacts"),
                        static_prefix=request.param)
    with in_process(settings) as server:
        yield server, request.param


@pytest.mark.parametrize("path", UNDER_PREFIX)
def test_everything_answers_under_the_prefix(served: tuple[InProcess, str], path: str) -> None:
    server, prefix = served
    assert server.client.get(prefix + path).status_code == 200


@pytest.mark.parametrize("path", ROOT_PROBES)
def test_load_balancer_probes_also_answer_at_the_root(served: tuple[InProcess, str],
                                                      path: str) -> None:
    server, _ = served
    answer = server.client.get(path)
    assert answer.status_code == 200
    assert answer.text == "OK" if path == "/health" else answer.json() == {"status": "ready"}


@pytest.mark.parametrize("path", ["/metrics", "/version", "/openapi.json"])
def test_nothing_else_answers_outside_the_prefix(served: tuple[InProcess, str],
                                                 path: str) -> None:
    server, prefix = served
    if not prefix:
        pytest.skip("without a prefix the root is the prefix")
    assert server.client.get(path).status_code == 404
    # ...nor a path that only starts like the prefix.
    assert server.client.get(prefix + "x" + path).status_code == 404


def test_the_rule_is_documented() -> None:
    root = Path(__file__).resolve().parents[2]
    for doc in (root / "README.md", root / "docs" / "operations.md"):
        text = " ".join(doc.read_text().split())  # line breaks do not matter
        assert "`/health` and `/ready` also at the root" in text, doc
