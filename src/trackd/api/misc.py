"""Endpoints about the server itself."""

from __future__ import annotations

from typing import Any

from trackd.api.router import Call
from trackd.artifacts.capabilities import proxy_transfer_capabilities


async def server_info(call: Call) -> dict[str, Any]:
    """Capabilities the MLflow 3 client reads before its first proxied artifact transfer."""
    settings = call.services.settings
    return {
        "store_type": "SqlStore",
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        **proxy_transfer_capabilities(settings, call.services.artifacts.registry),
        "artifact_serving_enabled": settings.serve_artifacts,
        "artifacts_presigned_only": False,
        "tracking_auth": "",
        "read_only": call.services.db.read_only,
        "server": "trackd",
    }
