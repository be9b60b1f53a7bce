"""The one trigger in MLflow's schema: secrets.secret_id and secret_name may never change.

Both are bound into the ciphertext (AES-GCM associated data), so changing either would make the
stored secret undecryptable. MLflow enforces this in the database with a trigger named
``prevent_secrets_aad_mutation`` on every dialect; trackd creates the same-named trigger with the
same effect and message so that either server behaves identically on the same database.
"""

from __future__ import annotations

import sqlalchemy as sa

NAME = "prevent_secrets_aad_mutation"
MESSAGE = "secret_id and secret_name are immutable (used as AAD in encryption)"
_CHANGED = "OLD.secret_id != NEW.secret_id OR OLD.secret_name != NEW.secret_name"

_CREATE: dict[str, list[str]] = {
    "sqlite": [
        f"CREATE TRIGGER {NAME}\nBEFORE UPDATE ON secrets\nFOR EACH ROW\nWHEN {_CHANGED}\n"
        f"BEGIN\n    SELECT RAISE(ABORT, '{MESSAGE}');\nEND",
    ],
    "postgresql": [
        f"CREATE OR REPLACE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n    IF {_CHANGED} THEN\n        RAISE EXCEPTION '{MESSAGE}';\n    END IF;\n"
        "    RETURN NEW;\nEND;\n$$",
        f"CREATE TRIGGER {NAME} BEFORE UPDATE ON secrets FOR EACH ROW EXECUTE FUNCTION {NAME}()",
    ],
    "mysql": [
        f"CREATE TRIGGER {NAME}\nBEFORE UPDATE ON secrets\nFOR EACH ROW\nBEGIN\n"
        f"    IF {_CHANGED} THEN\n"
        f"        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{MESSAGE}';\n    END IF;\nEND",
    ],
    # SQL Server has only statement-level AFTER triggers: compare the before and after images
    # (deleted/inserted); a row whose (id, name) pair vanished means one of them was changed.
    "mssql": [
        f"CREATE TRIGGER {NAME} ON secrets AFTER UPDATE AS\nBEGIN\n    SET NOCOUNT ON;\n"
        "    IF EXISTS (SELECT 1 FROM deleted d WHERE NOT EXISTS (SELECT 1 FROM inserted i\n"
        "               WHERE i.secret_id = d.secret_id AND i.secret_name = d.secret_name))\n"
        f"    BEGIN\n        RAISERROR('{MESSAGE}', 16, 1);\n        ROLLBACK TRANSACTION;\n"
        "    END\nEND",
    ],
}

_DROP: dict[str, list[str]] = {
    "sqlite": [f"DROP TRIGGER IF EXISTS {NAME}"],
    "postgresql": [
        f"DROP TRIGGER IF EXISTS {NAME} ON secrets",
        f"DROP FUNCTION IF EXISTS {NAME}()",
    ],
    "mysql": [f"DROP TRIGGER IF EXISTS {NAME}"],
    "mssql": [f"IF OBJECT_ID('{NAME}', 'TR') IS NOT NULL DROP TRIGGER {NAME}"],
}


def create(conn: sa.Connection) -> None:
    for statement in _CREATE.get(conn.dialect.name, []):
        # exec_driver_sql: the bodies contain ':' and '%' that bound-parameter parsing must not see.
        conn.exec_driver_sql(statement)


def drop(conn: sa.Connection) -> None:
    for statement in _DROP.get(conn.dialect.name, []):
        conn.exec_driver_sql(statement)
