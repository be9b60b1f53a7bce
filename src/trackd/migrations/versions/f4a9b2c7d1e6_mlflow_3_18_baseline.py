"""Baseline: MLflow 3.18's whole schema, on an empty database.

The revision id is MLflow's own head, f4a9b2c7d1e6: a database created here is, to both trackd
and ``mlflow db upgrade``, a database at MLflow 3.18's head. There is no down revision, because
trackd does not replay MLflow's history: older MLflow databases are upgraded by MLflow's tool.

Revision ID: f4a9b2c7d1e6
Revises:
"""

from __future__ import annotations

from alembic import op

from trackd.migrations import baseline

revision = "f4a9b2c7d1e6"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    baseline.create(op.get_bind())


def downgrade() -> None:
    baseline.drop(op.get_bind())
