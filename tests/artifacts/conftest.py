"""The artifact backends under test: one entry per backend in :data:`BACKENDS`.

Each backend gives, per test, a fresh root URI plus the settings (``Settings.extra`` and, for a
live server, its environment) that reach its storage server. Adding a backend to the contract
suite and to the live-server flows is one function here and one name in the list.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.webhdfs_server import WebHdfsServer

from trackd.artifacts.base import ArtifactStore
from trackd.config import Settings

from . import emulators

AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
BUCKET = "trackd-artifacts"


@dataclass
class Backend:
    """One backend, rooted at a fresh URI for one test."""

    name: str
    uri: str
    env: dict[str, str] = field(default_factory=dict)
    # Filesystem semantics: a parent that is a file, or a file over a directory, is refused.
    hierarchical: bool = False
    opener: Callable[[], ArtifactStore] | None = None
    storage: Any = None  # the emulator-side handle, for tests that look behind the store

    def settings(self) -> Settings:
        return Settings(extra=dict(self.env))

    def open(self) -> ArtifactStore:
        if self.opener is not None:
            return self.opener()
        from trackd.artifacts.registry import ArtifactRegistry

        return ArtifactRegistry(self.settings()).store_for(self.uri)


# -- storage servers, one per session ------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = emulators.moto(tmp_path_factory.mktemp("moto"))
    with pytest.MonkeyPatch.context() as mp:
        for name, value in AWS_TEST_ENV.items():
            mp.setenv(name, value)  # boto3 reads credentials from the environment
        import boto3

        client = boto3.client("s3", endpoint_url=server.url)
        client.create_bucket(Bucket=BUCKET)
        try:
            yield {"emulator": server, "client": client}
        finally:
            client.close()
            server.stop()


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = emulators.fake_gcs(tmp_path_factory.mktemp("fake-gcs"))
    try:
        from trackd.artifacts.gcs import make_client

        client = make_client(Settings(extra={"STORAGE_EMULATOR_HOST": server.url}))
        client.create_bucket(BUCKET)
        yield {"emulator": server, "client": client}
    finally:
        server.stop()


@pytest.fixture(scope="session")
def azurite_blob(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = emulators.azurite(tmp_path_factory.mktemp("azurite"))
    try:
        from azure.storage.blob import BlobServiceClient

        connection = emulators.azurite_connection_string(server)
        service = BlobServiceClient.from_connection_string(connection)
        service.create_container(BUCKET)
        yield {"emulator": server, "service": service, "connection": connection}
        service.close()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def webhdfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebHdfsServer]:
    with WebHdfsServer(tmp_path_factory.mktemp("webhdfs"), require_user=True) as server:
        yield server


# -- backends ----------------------------------------------------------------------------------


def _local(request: pytest.FixtureRequest, tmp: Path) -> Backend:
    return Backend("local", str(tmp / "root"), hierarchical=True)


def _s3(request: pytest.FixtureRequest, tmp: Path) -> Backend:
    s3 = request.getfixturevalue("moto_s3")
    env = {"MLFLOW_S3_ENDPOINT_URL": s3["emulator"].url, **AWS_TEST_ENV}
    return Backend("s3", f"s3://{BUCKET}/{uuid.uuid4().hex}", env, storage=s3["client"])


def _gcs(request: pytest.FixtureRequest, tmp: Path) -> Backend:
    gcs = request.getfixturevalue("gcs_emulator")
    env = {"STORAGE_EMULATOR_HOST": gcs["emulator"].url}
    return Backend("gcs", f"gs://{BUCKET}/{uuid.uuid4().hex}", env, storage=gcs["client"])


def _azure(request: pytest.FixtureRequest, tmp: Path) -> Backend:
    az = request.getfixturevalue("azurite_blob")
    uri = f"wasbs://{BUCKET}@{emulators.AZURITE_ACCOUNT}.blob.core.windows.net/{uuid.uuid4().hex}"
    return Backend(
        "azure", uri, {"AZURE_STORAGE_CONNECTION_STRING": az["connection"]}, storage=az["service"]
    )


def _webhdfs(request: pytest.FixtureRequest, tmp: Path) -> Backend:
    server: WebHdfsServer = request.getfixturevalue("webhdfs")
    return Backend(
        "webhdfs",
        server.uri(f"/user/trackd/{uuid.uuid4().hex}"),
        {"TRACKD_WEBHDFS_USER": "trackd"},
        hierarchical=True,
        storage=server,
    )


def _hdfs_pyarrow(request: pytest.FixtureRequest, tmp: Path) -> Backend:
    """The hdfs:// backend's code on pyarrow's LocalFileSystem (no cluster here)."""
    import pyarrow.fs as pafs

    from trackd.artifacts.hdfs import PyArrowArtifactStore

    base = tmp / "hdfs-root"
    uri = f"hdfs://namenode:8020{base}"
    return Backend(
        "hdfs-pyarrow",
        uri,
        hierarchical=True,
        opener=lambda: PyArrowArtifactStore(uri, pafs.LocalFileSystem(), str(base)),
    )


def _hdfs_cluster(request: pytest.FixtureRequest, tmp: Path) -> Backend:
    """A real cluster through libhdfs, when one is given (marker ``hdfs``)."""
    base = os.environ.get("TRACKD_TEST_HDFS_URI")
    if not base:
        pytest.skip("set TRACKD_TEST_HDFS_URI=hdfs://namenode:8020/some/tmp/dir to run")
    return Backend("hdfs", f"{base.rstrip('/')}/trackd-test-{uuid.uuid4().hex}", hierarchical=True)


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Backend]] = {
    "local": _local,
    "s3": _s3,
    "gcs": _gcs,
    "azure": _azure,
    "webhdfs": _webhdfs,
    "hdfs-pyarrow": _hdfs_pyarrow,
    "hdfs": _hdfs_cluster,
}
MARKS = {"hdfs": pytest.mark.hdfs}


def backend_params(names: list[str]) -> list[Any]:
    return [pytest.param(name, marks=MARKS.get(name, ())) for name in names]


@pytest.fixture(params=backend_params(list(BACKENDS)))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return BACKENDS[request.param](request, tmp_path)
