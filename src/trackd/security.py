"""Host checking, CORS and security headers: ``mlflow server`` 3.x's security middleware.

The same settings as MLflow (``--allowed-hosts``, ``--cors-allowed-origins``,
``--x-frame-options``, ``--disable-security-middleware`` and their ``MLFLOW_SERVER_*``
variables) with the same defaults and answers:

- **Host check** (DNS rebinding): a request whose ``Host`` header is not allowed gets 403
  ``Invalid Host header - possible DNS rebinding attack detected``. The default allows loopback
  names and private addresses on any port; ``/health``, ``/version`` and ``/ready`` are never
  checked, so container and orchestrator probes work whatever name they use.
- **CORS**: preflights are answered for localhost origins and the configured ones (400 for
  others); a state-changing request (POST, PUT, PATCH, DELETE) that carries another site's
  ``Origin`` gets 403 ``Cross-origin request blocked``. ``*`` allows every origin (without
  credentials, as in MLflow).
- **Headers**: ``X-Content-Type-Options: nosniff`` and ``X-Frame-Options`` on every answer.

Where trackd differs, it is on purpose: a request from the server's own origin (``Origin``
names the checked ``Host`` it was sent to) is same-origin, never blocked, so trackd's web UI
keeps working when it is opened under a name other than localhost; a host entry without a port
matches every port; entries may be CIDR networks (``10.0.0.0/8``); the rejections are MLflow
error JSON, so the client shows the message itself.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import logging
import re
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trackd.config import DEFAULT_ALLOWED_HOSTS, Settings
from trackd.errors import PERMISSION_DENIED

log = logging.getLogger("trackd.security")

INVALID_HOST_MESSAGE = "Invalid Host header - possible DNS rebinding attack detected"
CORS_BLOCKED_MESSAGE = "Cross-origin request blocked"
# Probes: a container health check or a Kubernetes probe uses whatever address it has.
UNCHECKED_PATHS = frozenset({"/health", "/version", "/ready"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
CORS_METHODS = b"DELETE, GET, OPTIONS, PATCH, POST, PUT"
PREFLIGHT_MAX_AGE = b"600"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# "10.*", "192.168.*:5000": patterns meant for IPv4 addresses, never for names like 10.evil.com.
_IPV4_PATTERN = re.compile(r"(?:\d+\.)+\*(?:\.(?:\d+|\*))*(?::[\d*]+)?")
_LOG_EVERY_S = 60.0


def split_host(host: str) -> tuple[str, int | None]:
    """``Host`` header → (lower-case name without brackets, port or None)."""
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif host.count(":") == 1:
        name, _, port = host.partition(":")
    else:
        name, port = host, ""
    return name, int(port) if port.isdigit() else None


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


class HostRule:
    """Which ``Host`` headers are served: names, ``fnmatch`` patterns and CIDR networks."""

    def __init__(self, entries: Iterable[str]) -> None:
        items = [e.strip().lower() for e in entries if e.strip()] or list(DEFAULT_ALLOWED_HOSTS)
        self.entries = tuple(items)
        self.any = "*" in items
        self.names: set[tuple[str, int | None]] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.patterns: list[tuple[str, bool]] = []
        self._seen: dict[str, bool] = {}  # Host header -> verdict; a client uses one name
        for entry in items:
            if "*" in entry:
                self.patterns.append((entry, bool(_IPV4_PATTERN.fullmatch(entry))))
                continue
            if "/" in entry:
                try:
                    self.networks.append(ipaddress.ip_network(entry, strict=False))
                    continue
                except ValueError:
                    pass
            self.names.add(split_host(entry))

    def allows(self, host: str) -> bool:
        if self.any:
            return True
        known = self._seen.get(host)
        if known is None:
            known = self._matches(host)
            if len(self._seen) >= 1024:  # bounded: Host is chosen by the client
                self._seen.clear()
            self._seen[host] = known
        return known

    def _matches(self, host: str) -> bool:
        if not host:
            return False
        name, port = split_host(host)
        if (name, port) in self.names or (name, None) in self.names:
            return True
        address = _ip(name)
        if address is not None and any(address in net for net in self.networks):
            return True
        lowered = host.strip().lower()
        for pattern, ipv4_only in self.patterns:
            if ipv4_only and not isinstance(address, ipaddress.IPv4Address):
                continue
            if fnmatch.fnmatchcase(lowered, pattern) or fnmatch.fnmatchcase(name, pattern):
                return True
        return False


class OriginRule:
    """Which browser origins may call across sites: localhost ones plus the configured list."""

    def __init__(self, entries: Iterable[str]) -> None:
        items = [e.strip().lower().rstrip("/") for e in entries if e.strip()]
        self.any = "*" in items
        self.exact = {e for e in items if "*" not in e}
        self.patterns = [e for e in items if "*" in e and e != "*"]

    def allows(self, origin: str) -> bool:
        if self.any:
            return True
        lowered = origin.lower()
        if lowered in self.exact or _is_local(lowered):
            return True
        return any(fnmatch.fnmatchcase(lowered, p) for p in self.patterns)


def _is_local(origin: str) -> bool:
    try:
        return urlsplit(origin).hostname in LOCAL_NAMES
    except ValueError:
        return False


def same_origin(origin: str, host: str) -> bool:
    """Whether ``Origin`` names the host the request was sent to: a page of this server.

    Ports are compared only when ``Host`` has one: behind a TLS-terminating proxy the browser's
    origin is ``https://name`` (443) while the request arrives as plain HTTP for ``name``.
    """
    try:
        parts = urlsplit(origin)
        origin_port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    name, port = split_host(host)
    return bool(parts.hostname) and parts.hostname == name and port in (None, origin_port)


def _names(headers: list[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """Header names the layer sets, replacing the app's own (``Vary`` is added to, never lost)."""
    return frozenset(name for name, _ in headers if name != b"vary")


def _error_json(message: str) -> bytes:
    return orjson.dumps({"error_code": PERMISSION_DENIED, "message": message})


class SecurityMiddleware:
    """The Host check, CORS and security headers in one pass over the request headers."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.prefix = settings.static_prefix
        self.hosts = HostRule(settings.allowed_hosts)
        self.origins = OriginRule(settings.cors_allowed_origins)
        self.fixed: list[tuple[bytes, bytes]] = [(b"x-content-type-options", b"nosniff")]
        if settings.x_frame_options.upper() != "NONE":
            self.fixed.append((b"x-frame-options", settings.x_frame_options.upper().encode()))
        self.fixed_names = _names(self.fixed)
        self._logged: dict[str, float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = origin = wanted_method = wanted_headers = ""
        for key, value in scope["headers"]:
            if key == b"host":
                host = value.decode("latin-1")
            elif key == b"origin":
                origin = value.decode("latin-1")
            elif key == b"access-control-request-method":
                wanted_method = value.decode("latin-1")
            elif key == b"access-control-request-headers":
                wanted_headers = value.decode("latin-1")
        path = scope["path"]
        if self.prefix and path.startswith(self.prefix):
            path = path[len(self.prefix):] or "/"
        if path not in UNCHECKED_PATHS and not self.hosts.allows(host):
            self._log_rejected_host(host)
            await self._send(send, 403, _error_json(
                f"{INVALID_HOST_MESSAGE}. To serve this name, add it to --allowed-hosts "
                "(MLFLOW_SERVER_ALLOWED_HOSTS)."))
            return
        cors: list[tuple[bytes, bytes]] = []
        # Same-origin is only proven by a checked Host: with any Host allowed, a DNS-rebinding
        # page would look like one of ours.
        if origin and (self.hosts.any or not same_origin(origin, host)):
            allowed = self.origins.allows(origin)
            method = scope["method"]
            if method == "OPTIONS" and wanted_method:
                await self._preflight(send, origin, allowed, wanted_headers)
                return
            if method in STATE_CHANGING and not allowed:
                log.warning("blocked a cross-origin %s %s from %s", method, scope["path"], origin)
                await self._send(send, 403, _error_json(CORS_BLOCKED_MESSAGE))
                return
            if allowed:
                cors = self._cors_headers(origin)
        extra = self.fixed + cors if cors else self.fixed
        replaced = _names(extra) if cors else self.fixed_names

        async def secured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in replaced]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, secured_send)

    def _cors_headers(self, origin: str) -> list[tuple[bytes, bytes]]:
        if self.origins.any:
            # As MLflow: '*' means any site, and then never with the user's credentials.
            return [(b"access-control-allow-origin", b"*"),
                    (b"access-control-expose-headers", b"*")]
        return [(b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-credentials", b"true"),
                (b"access-control-expose-headers", b"*"),
                (b"vary", b"Origin")]

    async def _preflight(self, send: Send, origin: str, allowed: bool, wanted: str) -> None:
        if not allowed:  # Starlette's (and so MLflow's) answer
            await self._send(send, 400, b"Disallowed CORS origin", b"text/plain; charset=utf-8")
            return
        headers = [*self.fixed, *self._cors_headers(origin),
                   (b"access-control-allow-methods", CORS_METHODS),
                   (b"access-control-max-age", PREFLIGHT_MAX_AGE),
                   (b"content-length", b"0")]
        if wanted:
            headers.append((b"access-control-allow-headers", wanted.encode("latin-1")))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _send(self, send: Send, status: int, body: bytes,
                    media: bytes = b"application/json") -> None:
        headers = [(b"content-type", media), (b"content-length", str(len(body)).encode()),
                   *self.fixed]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _log_rejected_host(self, host: str) -> None:
        # Loud enough to find a misconfigured proxy, bounded so that a flood cannot fill the log.
        now = time.monotonic()
        if now - self._logged.get(host, -_LOG_EVERY_S) < _LOG_EVERY_S:
            return
        if len(self._logged) > 256:
            self._logged.clear()
        self._logged[host] = now
        log.warning("refused a request for Host %r, which is not in the allowed hosts (%s); if "
                    "this server is meant to answer to that name (a proxy forwarding its own "
                    "Host), add it to --allowed-hosts / MLFLOW_SERVER_ALLOWED_HOSTS",
                    host, ", ".join(self.hosts.entries))


def describe(settings: Settings) -> str:
    """One line for the start-up log: what the security layer will refuse."""
    if settings.disable_security_middleware:
        return ("security middleware DISABLED: no Host check, no CORS protection, no "
                "security headers")
    hosts = "any" if "*" in settings.allowed_hosts else ", ".join(
        HostRule(settings.allowed_hosts).entries)
    origins = ", ".join(settings.cors_allowed_origins) or "localhost only"
    return (f"Host headers served: {hosts}; cross-origin browser calls from: {origins}; "
            f"X-Frame-Options: {settings.x_frame_options.upper()}")
