"""`trackd server` starts without importing what no request needs yet (issue 16, start-up).

Start-up time and idle memory are mostly imports, and a timed assertion would only be flaky on a
shared machine: this checks the cause instead. The real command runs in a subprocess, on an
existing database, up to the point where uvicorn would start serving; there uvicorn is replaced
by a probe that answers one /health request through the app and lists the heavy modules loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from trackd.store.schema import create_schema

# Each is needed by one feature only, and imported on its first use (see the module named).
LAZY = (
    "cryptography",  # webhook secrets: trackd.service.webhook_config.SecretBox
    "boto3", "botocore",  # s3:// stores: trackd.artifacts.registry imports backends on use
    "google.cloud", "azure", "pyarrow",  # gs://, wasbs://, hdfs:// stores: the same
    "graphql",  # /graphql: trackd.api.graphql
    "jinja2", "markdown",  # the web UI: TrackdApp._web_ui
    "alembic",  # `trackd db upgrade` only; the start-up check reads alembic_version itself
    "mlflow",  # --mlflow-ui only
    "google.protobuf",  # OTLP protobuf bodies: trackd.api.traces
    # trackd's own handlers and services: on their route's first request (router.Lazy,
    # app.Services); these two stand for the rest.
    "trackd.api.runs", "trackd.service.runs",
)

PROBE = """
import json, sys
import uvicorn

lazy = json.loads(sys.argv[1])

def probe(server, sockets=None):
    app = server.config.app
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    import asyncio
    scope = {"type": "http", "method": "GET", "path": "/health", "raw_path": b"/health",
             "query_string": b"", "headers": [(b"host", b"localhost")], "root_path": "",
             "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
             "http_version": "1.1"}
    asyncio.run(app(scope, receive, send))
    for socket in sockets or ():
        socket.close()
    loaded = sorted(m for m in lazy if m in sys.modules)
    print(json.dumps({"status": sent[0]["status"], "loaded": loaded}))

uvicorn.Server.run = probe
sys.argv = ["trackd", "server"] + sys.argv[2:]
from trackd.cli import main
main()
"""


def test_server_start_leaves_feature_libraries_unloaded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    engine = sa.create_engine(url)
    create_schema(engine)
    engine.dispose()

    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(LAZY), "--backend-store-uri", url,
         "--host", "127.0.0.1", "--port", "0",
         "--artifacts-destination", str(tmp_path / "artifacts")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 200
    assert result["loaded"] == [], f"imported at start-up: {result['loaded']}"
