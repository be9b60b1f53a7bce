"""A webhook receiver for tests: an HTTP server thread on 127.0.0.1 that records every POST and
checks signatures the way MLflow tells receivers to.

MLflow's documented check: the signature header is ``v1,<base64>``, where the base64 is the
HMAC-SHA256, keyed with the webhook's secret, of ``"{X-MLflow-Delivery-Id}.{X-MLflow-Timestamp}.
{raw body}"``; compare in constant time and refuse timestamps more than five minutes off.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_SKEW_S = 300


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    @property
    def event(self) -> str:
        return f"{self.payload['entity']}.{self.payload['action']}"


def signature_is_valid(delivery: Delivery, secret: str) -> bool:
    signature = delivery.headers.get("X-MLflow-Signature", "")
    delivery_id = delivery.headers.get("X-MLflow-Delivery-Id", "")
    timestamp = delivery.headers.get("X-MLflow-Timestamp", "")
    if not signature.startswith("v1,") or not delivery_id or not timestamp.isdigit():
        return False
    if abs(time.time() - int(timestamp)) > MAX_SKEW_S:
        return False
    signed = f"{delivery_id}.{timestamp}.".encode() + delivery.body
    expected = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest())
    return hmac.compare_digest(expected.decode(), signature[3:])


class Receiver:
    """Records deliveries; ``status`` is what it answers (a test may change it)."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.status = 200
        self.reply = b"received"
        self._cond = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._cond:
                    receiver.deliveries.append(
                        Delivery(self.path, dict(self.headers.items()), body))
                    receiver._cond.notify_all()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def wait_for(self, predicate: Callable[[list[Delivery]], bool],
                 timeout: float = 20.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.deliveries):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"deliveries never matched; got {[d.body for d in self.deliveries]}")
                self._cond.wait(left)
            return list(self.deliveries)

    def on(self, path: str) -> list[Delivery]:
        with self._cond:
            return [d for d in self.deliveries if d.path == path]
