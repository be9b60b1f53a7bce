"""Start-up validation of artifact locations (trackd.artifacts.startup)."""

from __future__ import annotations

import logging

import pytest

from trackd.artifacts.startup import check_artifact_locations, configured_locations
from trackd.config import ConfigError, Settings


def test_locations_checked() -> None:
    settings = Settings(artifacts_destination="s3://b/p", default_artifact_root="gs://g/x")
    assert configured_locations(settings) == [
        ("--artifacts-destination", "s3://b/p"),
        ("--default-artifact-root", "gs://g/x"),
    ]
    proxied = Settings(default_artifact_root="mlflow-artifacts:/", serve_artifacts=False)
    assert configured_locations(proxied) == []


def test_unknown_destination_scheme_is_refused() -> None:
    with pytest.raises(ConfigError, match="no artifact store for URI scheme 'ftp'.*webhdfs"):
        check_artifact_locations(Settings(artifacts_destination="ftp://host/x"))


def test_unknown_default_root_only_warns(caplog: pytest.LogCaptureFixture) -> None:
    # Clients write such roots with their own repositories (dbfs:/, ...); the server can't list.
    with caplog.at_level(logging.WARNING, logger="trackd"):
        check_artifact_locations(Settings(default_artifact_root="dbfs:/databricks/mlflow"))
    assert "cannot list" in caplog.text


def test_known_backends_pass(tmp_path: object) -> None:
    for uri in (
        "s3://bucket/prefix",
        "gs://bucket",
        "webhdfs://nn:9870/x",
        "wasbs://c@acct.blob.core.windows.net/p",
        "abfss://c@acct.dfs.core.windows.net/",
    ):
        check_artifact_locations(Settings(artifacts_destination=uri))


def test_bad_uris_are_refused() -> None:
    with pytest.raises(ConfigError, match="No bucket"):
        check_artifact_locations(Settings(artifacts_destination="s3:///prefix-only"))
    with pytest.raises(ConfigError, match="Not an Azure artifact URI"):
        check_artifact_locations(Settings(artifacts_destination="wasbs://nocontainer/x"))
