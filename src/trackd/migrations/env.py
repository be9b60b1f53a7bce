"""Alembic environment for trackd's revisions.

Always run online on a connection that the caller (``trackd.store.schema``) opened and put in
``config.attributes["connection"]``; trackd never needs offline SQL scripts.
"""

from __future__ import annotations

from alembic import context


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "trackd migrations run through trackd.store.schema (trackd db upgrade), "
            "which provides the database connection"
        )
    # target_metadata stays None: autogenerate is never used, each revision carries frozen DDL.
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


_run()
