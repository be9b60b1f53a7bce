"""server-info's multipart fields follow MLflow's rule (trackd.artifacts.capabilities)."""

from __future__ import annotations

from pathlib import Path

from trackd.artifacts.capabilities import proxy_transfer_capabilities
from trackd.artifacts.registry import ArtifactRegistry
from trackd.config import Settings

ON = {
    "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "true",
    "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD": "true",
}


def _caps(destination: str, extra: dict[str, str], serve: bool = True) -> dict[str, bool]:
    settings = Settings(artifacts_destination=destination, serve_artifacts=serve, extra=extra)
    return proxy_transfer_capabilities(settings, ArtifactRegistry(settings))


def test_only_when_asked_for_and_supported(tmp_path: Path) -> None:
    both = {"multipart_uploads_enabled": True, "multipart_downloads_enabled": True}
    neither = {"multipart_uploads_enabled": False, "multipart_downloads_enabled": False}
    s3 = "s3://bucket/prefix"
    assert _caps(s3, ON) == both
    assert _caps(s3, {}) == neither
    assert _caps(s3, ON, serve=False) == neither
    assert _caps(s3, {"MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "true"}) == {
        "multipart_uploads_enabled": True,
        "multipart_downloads_enabled": False,
    }
    assert (
        _caps("wasbs://c@acct.blob.core.windows.net/p", {**ON, "AZURE_STORAGE_ACCESS_KEY": "a2V5"})
        == both
    )
    assert _caps(str(tmp_path), ON) == neither  # local files: no presigned URLs
    assert _caps("gs://bucket/p", {**ON, "STORAGE_EMULATOR_HOST": "http://127.0.0.1:1"}) == neither
