"""Model-version endpoints: create, read, update, delete, stages, tags, download URI, search."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from trackd.api._http import Fields
from trackd.api.artifacts import send_file
from trackd.api.router import Call
from trackd.artifacts import paths
from trackd.errors import invalid_parameter, missing_parameter
from trackd.service.model_versions import tags_of


def version_field(f: Fields) -> str:
    """``version`` is a string in the proto; a JSON number is accepted as protobuf does."""
    value = f.raw("version")
    if isinstance(value, list) and f.from_query and value:
        value = value[-1]
    if value is None or value == "":
        raise missing_parameter("version")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise invalid_parameter(f"Parameter 'version' must be an integer, got '{value}'.")
    return str(value)


async def create(call: Call) -> dict[str, Any]:
    f = await call.fields()
    version = await call.services.model_versions.create(
        f.string("name", required=True),
        f.string("source", required=True),
        f.string("run_id"),
        tags_of(f.objects("tags")),
        f.string("run_link"),
        f.string("description"),
        f.string("model_id") or None,
    )
    return {"model_version": version.to_json()}


async def get(call: Call) -> dict[str, Any]:
    f = await call.fields()
    version = await call.services.model_versions.get(
        f.string("name", required=True), version_field(f)
    )
    return {"model_version": version.to_json()}


async def update(call: Call) -> dict[str, Any]:
    f = await call.fields()
    # An absent description clears it, as in MLflow (only a present field is applied as given).
    version = await call.services.model_versions.update(
        f.string("name", required=True), version_field(f), f.string("description")
    )
    return {"model_version": version.to_json()}


async def delete(call: Call) -> None:
    f = await call.fields()
    await call.services.model_versions.delete(f.string("name", required=True), version_field(f))


async def transition_stage(call: Call) -> dict[str, Any]:
    f = await call.fields()
    version = await call.services.model_versions.transition_stage(
        f.string("name", required=True),
        version_field(f),
        f.string("stage", required=True),
        f.boolean("archive_existing_versions"),
    )
    return {"model_version": version.to_json()}


async def get_download_uri(call: Call) -> dict[str, Any]:
    f = await call.fields()
    uri = await call.services.model_versions.download_uri(
        f.string("name", required=True), version_field(f)
    )
    return {"artifact_uri": uri}


async def get_artifact(call: Call) -> Response:
    """``GET /model-versions/get-artifact?name=&version=&path=``: a file of a version, as the web
    UI downloads it, read from the version's download location."""
    f = await call.fields()
    uri = await call.services.model_versions.download_uri(
        f.string("name", required=True), version_field(f)
    )
    path = f.string("path", required=True)
    artifacts = call.services.artifacts
    if paths.scheme_of(uri) == "runs":
        # runs:/<run_id>/<sub path> is stored as given: resolve it against the run's root.
        run_id, _, sub = uri.split(":", 1)[1].lstrip("/").partition("/")
        root = await artifacts.run_root(run_id)
        found = await artifacts.file_under(root, paths.join(paths.check_relative_path(sub), path))
    else:
        found = await artifacts.file_under(uri, path)
    return send_file(call.request, found)


async def set_tag(call: Call) -> None:
    f = await call.fields()
    await call.services.model_versions.set_tag(
        f.string("name", required=True),
        version_field(f),
        f.string("key", required=True),
        f.string("value"),
    )


async def delete_tag(call: Call) -> None:
    f = await call.fields()
    await call.services.model_versions.delete_tag(
        f.string("name", required=True), version_field(f), f.string("key", required=True)
    )


async def search(call: Call) -> dict[str, Any]:
    f = await call.fields()
    versions, token = await call.services.model_versions.search(
        f.string("filter"),
        f.integer("max_results"),
        f.string_list("order_by"),
        f.string("page_token"),
    )
    out: dict[str, Any] = {}
    if versions:
        out["model_versions"] = [mv.to_json() for mv in versions]
    if token:
        out["next_page_token"] = token
    return out
