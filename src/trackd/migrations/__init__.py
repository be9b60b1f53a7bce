"""trackd's Alembic environment: MLflow's schema, created by trackd's own migration code.

The revisions live in ``versions/``; the first one, ``f4a9b2c7d1e6``, carries MLflow 3.18's
revision id and creates its whole schema, so a database created here reads as "at head" to both
trackd and ``mlflow db upgrade``. Alembic is driven programmatically by ``trackd.store.schema``
(no alembic.ini at runtime), which is why this package only needs to ship its files.
"""

from __future__ import annotations

from pathlib import Path

# Handed to Alembic as script_location; works from a source tree and an installed wheel alike.
SCRIPT_LOCATION = str(Path(__file__).resolve().parent)
