"""Webhook settings, read from MLflow's own environment variables so that one configuration
serves either server, and the encryption of stored secrets.

MLflow encrypts ``webhooks.secret`` with Fernet (AES-128-CBC + HMAC-SHA256, base64 tokens) under
the key in ``MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY``; a server started without it makes up a key
per process, so secrets it stores are unreadable after a restart. trackd does the same, so
that a row either server wrote is signed identically by the other when both share the key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

from trackd.config import ConfigError

log = logging.getLogger("trackd.webhooks")

_TRUE = ("true", "1", "yes", "y", "on")


@dataclass(frozen=True)
class WebhookSettings:
    allowed_schemes: tuple[str, ...] = ("https",)
    allow_private_ips: bool = False
    request_timeout: float = 30.0
    max_retries: int = 3
    max_workers: int = 10
    encryption_key: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebhookSettings:
        schemes = env.get("MLFLOW_WEBHOOK_ALLOWED_SCHEMES")
        return cls(
            allowed_schemes=(tuple(s.strip() for s in schemes.split(",") if s.strip())
                             if schemes is not None else ("https",)),
            allow_private_ips=env.get("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", "").lower() in _TRUE,
            request_timeout=_number(env, "MLFLOW_WEBHOOK_REQUEST_TIMEOUT", 30),
            max_retries=int(_number(env, "MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES", 3)),
            max_workers=max(1, int(_number(env, "MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS", 10))),
            encryption_key=env.get("MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY") or None,
        )


def _number(env: Mapping[str, str], name: str, default: int) -> float:
    text = env.get(name)
    if text is None or not text.strip():
        return default
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {text!r}") from None


class SecretBox:
    """Encrypts webhook secrets for storage and decrypts them for signing."""

    def __init__(self, key: str | None) -> None:
        self.ephemeral = key is None
        try:
            self._fernet = Fernet(key if key is not None else Fernet.generate_key())
        except ValueError:
            raise ConfigError(
                "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY must be 32 url-safe base64-encoded bytes "
                "(make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from None

    def seal(self, secret: str) -> str:
        if self.ephemeral:
            log.warning("MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY is not set: webhook secrets are "
                        "encrypted with a key that dies with this process (as mlflow server "
                        "does); set it to keep them usable across restarts")
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, token: str) -> str | None:
        """The secret, or None when it was sealed under another key."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            return None
