"""Endpoints about the server itself."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

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
        # MLflow's web UI reads these to hide what this server does not have.
        "features_enabled": {"gateway": False, "scheduled_issue_detection": False},
        "read_only": call.services.db.read_only,
        "server": "trackd",
    }


async def openapi(call: Call) -> Response:
    """``GET /openapi.json``: the OpenAPI description of every route in the route table.

    At the root of the static prefix rather than under ``/api/2.0/mlflow/``: it describes the
    2.0 and 3.0 prefixes and the unprefixed routes alike, it stays out of MLflow's namespace,
    and ``/openapi.json`` is where OpenAPI tools look first.
    """
    # Imported on first request: the document builder pulls in every schema module and the auth
    # rules, which a server that is never asked for its OpenAPI document does not need.
    from trackd.api.openapi import document_json

    settings = call.services.settings
    return Response(document_json(settings.static_prefix, settings.auth),
                    media_type="application/json")


async def ui_telemetry_config(call: Call) -> dict[str, Any]:
    """What MLflow's web UI asks before sending usage events: trackd collects none."""
    return {"disable_ui_telemetry": True, "disable_ui_events": [], "ui_rollout_percentage": 0}


async def ui_telemetry_records(call: Call) -> dict[str, Any]:
    """Where MLflow's web UI would send usage events; they are dropped unread."""
    return {"status": "disabled"}


async def gateway_proxy(call: Call) -> dict[str, Any]:
    """MLflow's UI lists AI-gateway endpoints through this; trackd runs no gateway, so, as
    `mlflow server` without MLFLOW_DEPLOYMENTS_TARGET does, it answers an empty one."""
    return {"endpoints": []}
