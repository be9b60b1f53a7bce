"""Reading the auth settings the way MLflow does, and refusing to start without an admin."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackd.app import create_app
from trackd.auth.config import read_auth_config
from trackd.config import ConfigError, Settings, settings_from_env


def test_defaults_without_a_file() -> None:
    config = read_auth_config({})
    assert (config.default_permission, config.database_uri, config.admin_username,
            config.admin_password) == ("READ", "sqlite:///basic_auth.db", "admin", None)


def test_file_and_environment(tmp_path: Path) -> None:
    ini = tmp_path / "auth.ini"
    ini.write_text("[mlflow]\ndefault_permission = NO_PERMISSIONS\n"
                   "database_uri = sqlite:///x.db\nadmin_username = root\n"
                   "admin_password = from-the-file-123\n")
    config = read_auth_config({"MLFLOW_AUTH_CONFIG_PATH": str(ini)})
    assert config.default_permission == "NO_PERMISSIONS" and config.admin_username == "root"
    assert config.admin_password == "from-the-file-123"
    override = read_auth_config({"MLFLOW_AUTH_CONFIG_PATH": str(ini),
                                 "MLFLOW_AUTH_ADMIN_PASSWORD": "from-the-env-1234",
                                 "MLFLOW_AUTH_ADMIN_USERNAME": ""})
    assert override.admin_password == "from-the-env-1234" and override.admin_username is None
    ini.write_text("[mlflow]\ndefault_permission = EVERYTHING\n")
    with pytest.raises(ConfigError, match="default_permission"):
        read_auth_config({"MLFLOW_AUTH_CONFIG_PATH": str(ini)})


def test_auth_switch_from_environment() -> None:
    assert settings_from_env({"TRACKD_AUTH": "true"}).auth is True
    assert settings_from_env({}).auth is False


def test_no_admin_password_refuses_to_start(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    ini = tmp_path / "auth.ini"
    ini.write_text(f"[mlflow]\ndatabase_uri = sqlite:///{tmp_path / 'a.db'}\n"
                   "admin_username = admin\n")
    monkeypatch.setenv("MLFLOW_AUTH_CONFIG_PATH", str(ini))
    monkeypatch.delenv("MLFLOW_AUTH_ADMIN_PASSWORD", raising=False)
    settings = Settings(backend_store_uri=f"sqlite:///{tmp_path / 'm.db'}", auth=True,
                        artifacts_destination=str(tmp_path / "art"))
    with pytest.raises(ConfigError, match="MLFLOW_AUTH_ADMIN_PASSWORD"):
        create_app(settings)
    monkeypatch.setenv("MLFLOW_AUTH_ADMIN_PASSWORD", "password1234")
    with pytest.raises(ConfigError, match="refused"):
        create_app(settings)
