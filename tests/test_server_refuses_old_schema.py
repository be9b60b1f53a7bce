"""`trackd server` on a database at an older MLflow revision exits non-zero and says what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from trackd.store.schema import HEAD, KNOWN_MLFLOW_REVISIONS, create_schema


def test_server_exits_with_the_upgrade_command_on_a_rewound_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    create_schema(engine)
    older = KNOWN_MLFLOW_REVISIONS[-1]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": older})
    engine.dispose()

    done = subprocess.run(
        [sys.executable, "-m", "trackd", "server", "--backend-store-uri", url, "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    message = done.stderr
    assert older in message and HEAD in message, message
    assert "mlflow db upgrade" in message and "trackd db upgrade" in message, message
    # Nothing was changed: the revision is still the old one.
    with sa.create_engine(url).connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == older
