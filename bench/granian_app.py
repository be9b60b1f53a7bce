"""trackd's app for granian, for the HTTP runtime comparison (bench.servers "trackd-granian").

granian imports this in its worker and calls :func:`app`: settings come from MLflow's
environment variables (the bench sets the store, the artifact folder) as `trackd server` reads
them, without the CLI's uvicorn options. Only for measuring; trackd serves with uvicorn.
"""

from __future__ import annotations

from typing import Any


def app() -> Any:
    from trackd.app import create_app
    from trackd.config import settings_from_env

    return create_app(settings_from_env())
