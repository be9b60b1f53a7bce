"""Run artifacts moved by MLflow's web UI and by direct-to-cloud clients: the UI's small file
upload into a run (``upload-artifact``) and presigned URLs for a run's or a logged model's root.

Presigning needs a store that can sign (S3 and Azure can sign downloads); a proxied root
(``mlflow-artifacts:/``, ``http(s)``) is refused as MLflow refuses it, and any other store answers
MLflow's ``NOT_IMPLEMENTED``. No trackd store signs uploads yet, so a presigned upload is always
``NOT_IMPLEMENTED`` once the request is valid.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from trackd.artifacts.base import NotSupported, PresignedUrl
from trackd.artifacts.paths import PROXIED_SCHEMES, check_file_path, join, scheme_of
from trackd.errors import invalid_parameter
from trackd.service.artifacts import ArtifactService

UI_UPLOAD_MAX = 10 * 1024 * 1024  # MLflow's cap on the UI's single-request upload
MAX_EXPIRATION_S = 604800  # cloud providers refuse signed URLs that live longer than 7 days
DEFAULT_DOWNLOAD_TTL_S = 300  # MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS's default
DEFAULT_UPLOAD_TTL_S = 900

TOO_LARGE = "Artifact size is too large. Max size is 10MB."


class ArtifactTransferService:
    def __init__(self, artifacts: ArtifactService) -> None:
        self.artifacts = artifacts

    async def presigned_download(self, run_id: str, path: str,
                                 expiration: int | None) -> PresignedUrl:
        relative = check_file_path(path)
        ttl = DEFAULT_DOWNLOAD_TTL_S if expiration is None else expiration
        if not 1 <= ttl <= MAX_EXPIRATION_S:
            raise invalid_parameter(f"expiration must be between 1 and {MAX_EXPIRATION_S} "
                                    f"seconds (got {ttl}).")
        root = await self.artifacts.run_root(run_id)
        if (scheme := scheme_of(root)) in PROXIED_SCHEMES:
            raise invalid_parameter(
                "Presigned download is not supported for runs with proxied artifact storage "
                f"(artifact URI scheme: {scheme}). This endpoint requires a run with a direct "
                "cloud storage artifact URI.")
        location = self.artifacts.registry.locate(root)
        return await location.store.presigned_download_url(join(location.base, relative), ttl)

    async def presigned_upload(self, run_id: str | None, model_id: str | None, path: str,
                               expiration: int | None) -> PresignedUrl:
        if bool(run_id) == bool(model_id):
            raise invalid_parameter("Exactly one of run_id and model_id must be provided.")
        check_file_path(path)
        if run_id:
            root = await self.artifacts.run_root(run_id)
        else:
            root = await self.artifacts.model_root(str(model_id))
        if (scheme := scheme_of(root)) in PROXIED_SCHEMES:
            raise invalid_parameter(
                "Presigned upload is not supported for proxied artifact storage (artifact URI "
                f"scheme: {scheme}). This endpoint requires a direct cloud storage artifact URI.")
        self.artifacts.registry.locate(root)  # an unknown scheme fails as it would on a write
        raise NotSupported("Presigned upload is not supported for the current artifact repository")

    async def upload_to_run(self, run_id: str, path: str, body: bytes) -> None:
        """Write one small file below a run's root (the UI's upload), as one transaction-free
        store write: the run is looked up first, so nothing is written for a missing run."""
        relative = check_file_path(path)
        if not body:
            raise invalid_parameter("Request must specify data.")
        if len(body) > UI_UPLOAD_MAX:
            raise invalid_parameter(TOO_LARGE)
        root = await self.artifacts.run_root(run_id)
        location = self.artifacts.registry.locate(root)

        async def chunks() -> AsyncIterator[bytes]:
            yield body

        await location.store.write(join(location.base, relative), chunks())
