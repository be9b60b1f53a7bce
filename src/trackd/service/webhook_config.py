"""Webhook settings, read from MLflow's own environment variables so that one configuration
serves either server, and the encryption of stored secrets.

MLflow encrypts ``webhooks.secret`` with Fernet (AES-128-CBC + HMAC-SHA256, base64 tokens) under
the key in ``MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY``; a server started without it makes up a key
per process, so secrets it stores are unreadable after a restart. trackd does the same, so
that a row either server wrote is signed identically by the other when both share the key.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
    """Encrypts webhook secrets for storage and decrypts them for signing.

    ``cryptography`` (7 MiB of memory, a Rust extension) is imported on the first seal or open,
    not at start-up: most servers never store a webhook. The key is still checked at start-up
    (a Fernet key is 32 bytes in url-safe base64), so a bad one stops the server as before.
    """

    def __init__(self, key: str | None) -> None:
        self.ephemeral = key is None
        if key is None:
            # What Fernet.generate_key() makes: 32 random bytes, url-safe base64.
            key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        elif not _is_fernet_key(key):
            raise ConfigError(
                "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY must be 32 url-safe base64-encoded bytes "
                "(make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            )
        self._key = key
        self._fernet: Any = None

    def _cipher(self) -> Any:
        if self._fernet is None:
            from cryptography.fernet import Fernet

            self._fernet = Fernet(self._key)
        return self._fernet

    def seal(self, secret: str) -> str:
        if self.ephemeral:
            log.warning("MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY is not set: webhook secrets are "
                        "encrypted with a key that dies with this process (as mlflow server "
                        "does); set it to keep them usable across restarts")
        return str(self._cipher().encrypt(secret.encode()).decode())

    def open(self, token: str) -> str | None:
        """The secret, or None when it was sealed under another key."""
        from cryptography.fernet import InvalidToken

        try:
            return str(self._cipher().decrypt(token.encode()).decode())
        except (InvalidToken, ValueError):
            return None


def _is_fernet_key(key: str) -> bool:
    """The check Fernet's constructor makes, without importing cryptography."""
    try:
        return len(base64.urlsafe_b64decode(key)) == 32
    except (binascii.Error, ValueError):
        return False
