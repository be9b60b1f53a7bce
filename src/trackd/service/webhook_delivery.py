"""One webhook request, as MLflow sends it: JSON envelope, headers, HMAC, retries.

The body is ``{"entity", "action", "timestamp", "data"}`` serialized with Python's default JSON
separators; it goes out with ``X-MLflow-Delivery-Id`` (a UUID), ``X-MLflow-Timestamp`` (Unix
seconds) and, when the webhook has a secret, ``X-MLflow-Signature: v1,<base64 HMAC-SHA256>``
over ``"{delivery_id}.{timestamp}.{body}"`` (the Standard Webhooks scheme). A receiver that
verifies MLflow's signatures verifies trackd's the same way.

Retries follow MLflow's session: up to ``MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES`` more attempts
after a connection failure or a 429/500/502/503/504 answer, waiting 0 s, 2 s, 4 s... (capped
at 60 s, plus up to 1 s of jitter), or what ``Retry-After`` asks. Redirects are not followed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import random
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from trackd import __version__
from trackd.entities.webhooks import Event
from trackd.service.webhook_config import WebhookSettings
from trackd.service.webhook_urls import PrivateAddressRefused, check_peer, check_url

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BODY = 1 << 20  # a receiver's answer is kept for the test endpoint; no more than 1 MiB
MAX_BACKOFF = 60.0


@dataclass
class Reply:
    status: int
    body: str
    attempts: int


def envelope(event: Event, data: dict[str, Any]) -> str:
    return json.dumps({
        "entity": event[0],
        "action": event[1],
        "timestamp": datetime.now(UTC).isoformat(),
        "data": data,
    })


def sign(secret: str, delivery_id: str, timestamp: str, body: str) -> str:
    digest = hmac.new(secret.encode(), f"{delivery_id}.{timestamp}.{body}".encode(),
                      hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers_for(body: str, secret: str | None) -> dict[str, str]:
    delivery_id, timestamp = str(uuid.uuid4()), str(int(time.time()))
    out = {"Content-Type": "application/json", "User-Agent": f"trackd/{__version__}",
           "X-MLflow-Delivery-Id": delivery_id,
           "X-MLflow-Timestamp": timestamp}
    if secret:
        out["X-MLflow-Signature"] = sign(secret, delivery_id, timestamp, body)
    return out


def send(url: str, event: Event, data: dict[str, Any], secret: str | None,
         settings: WebhookSettings) -> Reply:
    """POST one event; the last answer, or the last connection error raised."""
    check_url(url, settings)
    body = envelope(event, data)
    headers = headers_for(body, secret)
    attempt = 0
    while True:
        attempt += 1
        retry_after: float | None = None
        try:
            status, text, retry_after = _post_once(url, body.encode(), headers, settings)
        except PrivateAddressRefused:
            raise
        except (OSError, http.client.HTTPException):
            if attempt > settings.max_retries:
                raise
        else:
            if status not in RETRY_STATUSES or attempt > settings.max_retries:
                return Reply(status, text, attempt)
        time.sleep(retry_after if retry_after is not None else _backoff(attempt))


def _backoff(attempt: int) -> float:
    if attempt <= 1:
        return 0.0
    return min(MAX_BACKOFF, 2.0 ** (attempt - 1)) + random.random()


def _post_once(url: str, body: bytes, headers: dict[str, str],
               settings: WebhookSettings) -> tuple[int, str, float | None]:
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname or "", parts.port,
                                           timeout=settings.request_timeout)
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port,
                                          timeout=settings.request_timeout)

    # The peer is checked on the connected socket, before TLS or any byte of the request.
    def connect(address: tuple[str, int], timeout: Any = None, source: Any = None
                ) -> socket.socket:
        sock = socket.create_connection(address, timeout, source)
        check_peer(sock, settings)
        return sock

    conn._create_connection = connect  # type: ignore[attr-defined]
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read(MAX_BODY)
        charset = response.headers.get_content_charset() or "utf-8"
        return response.status, raw.decode(charset, "replace"), _retry_after(response)
    finally:
        conn.close()


def _retry_after(response: http.client.HTTPResponse) -> float | None:
    value = response.getheader("Retry-After")
    if value is None or response.status not in (413, 429, 503):
        return None
    try:
        return min(MAX_BACKOFF, max(0.0, float(value)))
    except ValueError:
        return None
