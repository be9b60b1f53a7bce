"""Artifact operations: the proxy API (``mlflow-artifacts``) and the tracking API's listings and
downloads (api/artifacts.py, and the web UI's model-version download)."""

from __future__ import annotations

from trackd.api.openapi.spec import (
    INT64,
    NAME,
    STRING,
    Operation,
    Operations,
    array,
    message,
    ref,
    text,
)

_PATH = {"artifact_path": text("a path under --artifacts-destination; may contain slashes")}
_RUN_ID = text("32 hex digits; one of run_id and run_uuid is required", min_length=1)
# The proxy routes answer 503 (plain text) on a server started with --no-serve-artifacts.
_PROXY_ERRORS = (400, 404, 503)
_MPU = "/mlflow-artifacts/mpu"
_FILES = message(files=array(ref("FileInfo")))
_SIGNED = message(("presigned_url",), presigned_url=STRING,
                  headers={"type": "object", "additionalProperties": STRING}, file_size=INT64)

OPERATIONS: Operations = {
    ("GET", "/mlflow/artifacts/list"): Operation(
        "List a run's artifacts",
        message(run_id=_RUN_ID, run_uuid=_RUN_ID, path=STRING, page_token=STRING),
        message(("root_uri",), root_uri=STRING, files=array(ref("FileInfo"))),
    ),
    ("GET", "/mlflow-artifacts/artifacts"): Operation(
        "List a directory of the artifact destination (base names only)",
        message(path=STRING),
        _FILES,
        errors=_PROXY_ERRORS,
    ),
    ("GET", "/mlflow-artifacts/artifacts/{artifact_path:path}"): Operation(
        "Download an artifact (single byte ranges supported)",
        kind="download",
        path_params=_PATH,
        errors=_PROXY_ERRORS,
    ),
    ("PUT", "/mlflow-artifacts/artifacts/{artifact_path:path}"): Operation(
        "Upload an artifact: the request body is the file",
        kind="upload",
        path_params=_PATH,
        errors=_PROXY_ERRORS,
    ),
    ("DELETE", "/mlflow-artifacts/artifacts/{artifact_path:path}"): Operation(
        "Delete an artifact file or directory", path_params=_PATH, errors=_PROXY_ERRORS
    ),
    ("POST", _MPU + "/create/{artifact_path:path}"): Operation(
        "Start a multipart upload",
        message(("path",), path=text("the file name", min_length=1), num_parts=INT64),
        message(
            ("upload_id",),
            upload_id=STRING,
            credentials=array(
                message(
                    url=STRING,
                    part_number=INT64,
                    headers={"type": "object", "additionalProperties": STRING},
                )
            ),
        ),
        path_params=_PATH,
        errors=(*_PROXY_ERRORS, 501),
    ),
    ("POST", _MPU + "/complete/{artifact_path:path}"): Operation(
        "Complete a multipart upload",
        message(
            ("path", "upload_id"),
            path=NAME,
            upload_id=STRING,
            parts=array(message(part_number=INT64, etag=STRING, url=STRING)),
        ),
        path_params=_PATH,
        errors=(*_PROXY_ERRORS, 501),
    ),
    ("POST", _MPU + "/abort/{artifact_path:path}"): Operation(
        "Abort a multipart upload",
        message(("path", "upload_id"), path=NAME, upload_id=STRING),
        path_params=_PATH,
        errors=(*_PROXY_ERRORS, 501),
    ),
    ("GET", "/mlflow-artifacts/presigned/{artifact_path:path}"): Operation(
        "A presigned download URL for an artifact",
        response=message(
            ("url",),
            url=STRING,
            headers={"type": "object", "additionalProperties": STRING},
            file_size=INT64,
        ),
        path_params=_PATH,
        errors=(*_PROXY_ERRORS, 501),
    ),
    ("POST", "/mlflow/artifacts/presigned-download-url"): Operation(
        "A presigned URL to download a run's file straight from cloud storage (S3, Azure)",
        message(("run_id", "path"), run_id=STRING, path=NAME, expiration=INT64),
        _SIGNED,
        errors=(400, 404, 501),
    ),
    ("POST", "/mlflow/artifacts/presigned-upload-url"): Operation(
        "A presigned upload URL for a run's or a logged model's file: checked, then 501 "
        "(no trackd store signs uploads yet)",
        message(("path",), run_id=STRING, model_id=STRING, path=NAME, expiration=INT64),
        _SIGNED,
        errors=(400, 404, 501),
    ),
    ("POST", "/mlflow/upload-artifact"): Operation(
        "The web UI's upload of one file (at most 10 MB) into a run: the body is the file "
        "(/ajax-api only)",
        message(("path",), run_id=_RUN_ID, run_uuid=_RUN_ID, path=NAME),
        kind="upload",
    ),
    ("GET", "/get-artifact"): Operation(
        "Download a run artifact, as the web UI does",
        message(("path",), run_id=_RUN_ID, run_uuid=_RUN_ID, path=NAME),
        kind="download",
    ),
    ("GET", "/model-versions/get-artifact"): Operation(
        "Download a file of a model version, as the web UI does",
        message(("name", "version", "path"), name=NAME, version=NAME, path=NAME),
        kind="download",
    ),
}
