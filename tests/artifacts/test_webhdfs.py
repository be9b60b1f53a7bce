"""WebHDFS specifics beyond the contract: the namenode→datanode redirects, authentication
parameters, and how uploads are staged and moved into place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from support.webhdfs_server import WebHdfsServer

from trackd.artifacts.webhdfs import STAGING_DIR, WebHdfsArtifactStore, open_store
from trackd.config import Settings
from trackd.errors import PERMISSION_DENIED, MlflowError


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _store(server: WebHdfsServer, **extra: str) -> WebHdfsArtifactStore:
    return open_store(server.uri("/data/mlflow"), Settings(extra=extra))


def test_transfers_go_through_the_datanode(tmp_path: Path) -> None:
    with WebHdfsServer(tmp_path / "hdfs") as server:

        async def run() -> None:
            store = _store(server)
            try:
                await store.write("1/run/artifacts/model.pkl", _chunks(b"weights"))
                assert (
                    b"".join([c async for c in store.read("1/run/artifacts/model.pkl")])
                    == b"weights"
                )
            finally:
                await store.close()

        anyio.run(run)
        calls = server.state.calls
        assert ("datanode", "PUT", "CREATE") in {c[:3] for c in calls}
        assert ("datanode", "GET", "OPEN") in {c[:3] for c in calls}
        # Written under the staging folder, then renamed into place.
        create = next(c for c in calls if c[:3] == ("namenode", "PUT", "CREATE"))
        assert create[3].startswith(f"/data/mlflow/{STAGING_DIR}/")
        rename = next(c for c in calls if c[2] == "RENAME")
        assert rename[3] == create[3]
        assert (tmp_path / "hdfs/data/mlflow/1/run/artifacts/model.pkl").read_bytes() == b"weights"
        assert list((tmp_path / f"hdfs/data/mlflow/{STAGING_DIR}").iterdir()) == []


def test_user_name_and_delegation_token(tmp_path: Path) -> None:
    with (
        WebHdfsServer(tmp_path / "a", require_user=True) as strict,
        WebHdfsServer(tmp_path / "b", delegation_token="tok-123") as tokened,
    ):

        async def run() -> None:
            anonymous = _store(strict)
            with pytest.raises(MlflowError) as refused:
                await anonymous.list()
            assert refused.value.code == PERMISSION_DENIED
            await anonymous.close()

            named = _store(strict, TRACKD_WEBHDFS_USER="alice")
            await named.write("f.txt", _chunks(b"x"))
            await named.close()

            from_hadoop_env = _store(strict, HADOOP_USER_NAME="bob")
            assert [e.path for e in await from_hadoop_env.list()] == ["f.txt"]
            await from_hadoop_env.close()

            with_token = _store(tokened, TRACKD_WEBHDFS_DELEGATION_TOKEN="tok-123")
            await with_token.write("g.txt", _chunks(b"y"))
            assert (await with_token.stat("g.txt")) is not None
            await with_token.close()

            wrong = _store(tokened, TRACKD_WEBHDFS_DELEGATION_TOKEN="nope")
            with pytest.raises(MlflowError) as denied:
                await wrong.stat("g.txt")
            assert denied.value.code == PERMISSION_DENIED
            await wrong.close()

        anyio.run(run)


def test_uri_forms() -> None:
    store = open_store("swebhdfs://nn.example.com/user/ml", Settings())
    assert store.base_url == "https://nn.example.com:9871/webhdfs/v1"
    assert store.hdfs_path("a b/c") == "/user/ml/a b/c"
    plain = open_store("webhdfs://nn:50070/", Settings())
    assert plain.base_url == "http://nn:50070/webhdfs/v1" and plain.hdfs_path("") == "/"
    anyio.run(store.close)
    anyio.run(plain.close)


def test_kerberos_needs_a_spnego_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without httpx-gssapi or pyspnego, asking for Kerberos stops the server, saying why."""
    import builtins

    from trackd.artifacts import webhdfs
    from trackd.config import ConfigError

    real_import = builtins.__import__

    def no_spnego(name: str, *args: object, **kwargs: object) -> object:
        if name in ("spnego", "httpx_gssapi"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_spnego)
    with pytest.raises(ConfigError, match="webhdfs-kerberos"):
        webhdfs.check("webhdfs://nn:9870/x", Settings(extra={"TRACKD_WEBHDFS_KERBEROS": "true"}))


def test_through_an_httpfs_style_gateway(tmp_path: Path) -> None:
    """HttpFS serves OPEN itself and redirects CREATE to itself: no datanode involved."""
    with WebHdfsServer(tmp_path / "hdfs", gateway=True) as server:

        async def run() -> None:
            store = _store(server)
            try:
                await store.write("dir/f.bin", _chunks(b"0123456789" * 1000))
                assert b"".join([c async for c in store.read("dir/f.bin", 5, 20)]) == (
                    b"56789012345678901234"
                )
            finally:
                await store.close()

        anyio.run(run)
        assert {c[0] for c in server.state.calls} == {"namenode"}
