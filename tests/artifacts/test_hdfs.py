"""Native HDFS (libhdfs through pyarrow). No cluster runs here: the backend's code is covered by
the contract suite on pyarrow's LocalFileSystem (backend ``hdfs-pyarrow``); this module tests
how it connects and the refusal to start without libhdfs. A real cluster runs the contract and
the live flows as backend ``hdfs`` (marker ``hdfs``) when ``TRACKD_TEST_HDFS_URI`` is set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trackd.artifacts.hdfs import connection_args, libhdfs_problems
from trackd.artifacts.startup import check_artifact_locations
from trackd.config import ConfigError, Settings

LIBHDFS_VARS = (
    "JAVA_HOME",
    "HADOOP_HOME",
    "ARROW_LIBHDFS_DIR",
    "CLASSPATH",
    "LD_LIBRARY_PATH",
    "HADOOP_CONF_DIR",
)


def test_connection_arguments_follow_mlflow() -> None:
    settings = Settings(
        extra={
            "MLFLOW_KERBEROS_USER": "mlflow@EXAMPLE.COM",
            "MLFLOW_KERBEROS_TICKET_CACHE": "/tmp/krb5cc_trackd",
            "MLFLOW_PYARROW_EXTRA_CONF": "dfs.client.use.datanode.hostname=true,a=b=c",
        }
    )
    args = connection_args("hdfs://nn.example.com:8020/artifactory/mlflow", settings)
    assert args == {
        "host": "hdfs://nn.example.com",
        "port": 8020,
        "user": "mlflow@EXAMPLE.COM",
        "kerb_ticket": "/tmp/krb5cc_trackd",
        "extra_conf": {"dfs.client.use.datanode.hostname": "true", "a": "b=c"},
    }
    # No host: fs.defaultFS from core-site.xml (an HA nameservice), as MLflow does.
    ha = connection_args("hdfs:///artifactory/mlflow", Settings())
    assert (ha["host"], ha["port"], ha["extra_conf"]) == ("default", 0, None)


def test_problems_name_each_missing_piece(tmp_path: Path) -> None:
    problems = libhdfs_problems({})
    assert len(problems) == 3
    assert "JAVA_HOME is not set" in problems[0]
    assert "libhdfs.so not found" in problems[1] and "HADOOP_HOME" in problems[1]
    assert "hadoop classpath --glob" in problems[2]

    (tmp_path / "jdk/lib/server").mkdir(parents=True)
    (tmp_path / "jdk/lib/server/libjvm.so").touch()
    (tmp_path / "hadoop/lib/native").mkdir(parents=True)
    (tmp_path / "hadoop/lib/native/libhdfs.so").touch()
    complete = {
        "JAVA_HOME": str(tmp_path / "jdk"),
        "HADOOP_HOME": str(tmp_path / "hadoop"),
        "CLASSPATH": "/opt/hadoop/etc/hadoop:/opt/hadoop/share/hadoop/common/hadoop-common.jar",
    }
    assert libhdfs_problems(complete) == []
    no_jvm = libhdfs_problems({**complete, "JAVA_HOME": str(tmp_path)})
    assert len(no_jvm) == 1 and "libjvm.so" in no_jvm[0]
    no_ticket = libhdfs_problems({**complete, "KRB5CCNAME": f"FILE:{tmp_path}/krb5cc_0"})
    assert len(no_ticket) == 1 and "kinit" in no_ticket[0]


@pytest.fixture
def no_hadoop_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LIBHDFS_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_hadoop_env")
def test_startup_check_refuses_without_libhdfs() -> None:
    settings = Settings(artifacts_destination="hdfs://127.0.0.1:8020/artifactory/mlflow")
    with pytest.raises(ConfigError) as refused:
        check_artifact_locations(settings)
    message = str(refused.value)
    assert message.startswith("--artifacts-destination hdfs://127.0.0.1:8020/artifactory/mlflow")
    assert "Unable to load" in message  # pyarrow's own words, first line only
    assert "JAVA_HOME is not set" in message and "hadoop classpath --glob" in message
    assert "webhdfs://" in message  # the way around a missing JVM


@pytest.mark.usefixtures("no_hadoop_env")
def test_server_refuses_to_start_without_libhdfs(tmp_path: Path) -> None:
    trackd = Path(sys.executable).parent / "trackd"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    result = subprocess.run(
        [
            str(trackd),
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp_path}/db.sqlite",
            "--default-artifact-root",
            "hdfs:///artifactory/mlflow",
            "--port",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "trackd: --default-artifact-root hdfs:///artifactory/mlflow: cannot use the HDFS"
        in result.stderr
    )
    assert "JAVA_HOME is not set" in result.stderr
    assert not (tmp_path / "db.sqlite").exists()  # refused before touching the database
