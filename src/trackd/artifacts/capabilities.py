"""What ``server-info`` says about direct (presigned) artifact transfers.

MLflow's rule: ``multipart_uploads_enabled`` / ``multipart_downloads_enabled`` are true only
while the server proxies artifacts, the operator opted in with
``MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD`` / ``MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD``, and the
destination store can hand out presigned URLs (S3, Azure). Clients that see them send large
files straight to storage; clients that set the same variables themselves try regardless and
fall back to the proxy on a 501.
"""

from __future__ import annotations

import logging

from trackd.artifacts.blobs import setting
from trackd.artifacts.registry import ArtifactRegistry
from trackd.config import Settings

log = logging.getLogger("trackd")

UPLOAD_VARIABLE = "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"
DOWNLOAD_VARIABLE = "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"


def _enabled(settings: Settings, name: str) -> bool:
    return (setting(settings, name) or "").strip().lower() in ("1", "true", "yes", "on")


def proxy_transfer_capabilities(settings: Settings, registry: ArtifactRegistry) -> dict[str, bool]:
    """The two ``server-info`` fields, ready to merge into its payload."""
    upload = _enabled(settings, UPLOAD_VARIABLE)
    download = _enabled(settings, DOWNLOAD_VARIABLE)
    result = {"multipart_uploads_enabled": False, "multipart_downloads_enabled": False}
    if not settings.serve_artifacts or not (upload or download):
        return result
    try:
        store = registry.destination
    except Exception:  # noqa: BLE001 - server-info must answer even if the store cannot open
        log.debug("artifact destination unavailable for server-info", exc_info=True)
        return result
    result["multipart_uploads_enabled"] = upload and store.supports_multipart_upload
    result["multipart_downloads_enabled"] = download and store.supports_presigned_download
    return result
