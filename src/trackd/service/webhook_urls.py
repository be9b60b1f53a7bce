"""Where a webhook may point: MLflow's URL rules (allowed schemes, a host, and unless
``MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS`` is on, only public addresses).

The address is checked twice, as MLflow does: when the URL is saved (its name must resolve to
public addresses only) and again on the connected socket of every delivery, because a name
can resolve elsewhere by the time the request is sent (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from trackd.errors import invalid_parameter
from trackd.service.webhook_config import WebhookSettings

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(ip: IPAddress) -> bool:
    # An IPv6 wrapper (mapped, 6to4, NAT64) must not smuggle a private IPv4 address through.
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is None and ip in _NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            ip = inner
    return ip.is_global


def check_url(url: object, settings: WebhookSettings) -> str:
    """The URL if it may be saved or called; MLflow's INVALID_PARAMETER_VALUE otherwise."""
    if not isinstance(url, str):
        raise invalid_parameter(f"Webhook URL must be a string, got {type(url).__name__!r}")
    if not url.strip():
        raise invalid_parameter(f"Webhook URL cannot be empty or just whitespace: {url!r}")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:
        raise invalid_parameter(f"Invalid webhook URL {url!r}: {exc!r}") from exc
    if parts.scheme not in settings.allowed_schemes:
        raise invalid_parameter(
            f"Invalid webhook URL scheme: {parts.scheme!r}. "
            f"Allowed schemes are: {', '.join(settings.allowed_schemes)}."
        )
    if not hostname:
        raise invalid_parameter(f"Webhook URL must include a hostname: {url!r}")
    if not settings.allow_private_ips:
        _check_public_host(hostname)
    return url


def _check_public_host(hostname: str) -> None:
    # Numeric hosts must be canonical: socket reads "127.1" or "0177.0.0.1" as loopback.
    if ":" in hostname or hostname.replace(".", "").isdigit():
        try:
            ipaddress.ip_address(hostname)
        except ValueError as exc:
            raise invalid_parameter(
                f"Webhook URL host {hostname!r} is not a canonical IP address literal."
            ) from exc
    try:
        infos = socket.getaddrinfo(hostname, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise invalid_parameter(
            f"Cannot resolve Webhook URL hostname {hostname!r}: {exc}") from exc
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not is_public(ip):
            raise invalid_parameter(
                "Webhook URL must not resolve to a non-public IP address. "
                f"{hostname!r} resolves to {ip}."
            )


class PrivateAddressRefused(OSError):
    """A delivery's socket connected to a non-public address: never retried."""


def check_peer(sock: socket.socket, settings: WebhookSettings) -> None:
    if settings.allow_private_ips:
        return
    try:
        ip = ipaddress.ip_address(str(sock.getpeername()[0]).split("%")[0])
    except (OSError, ValueError) as exc:
        sock.close()
        raise PrivateAddressRefused(f"Could not determine the webhook peer address: {exc}") \
            from exc
    if not is_public(ip):
        sock.close()
        raise PrivateAddressRefused(
            f"Webhook connection blocked: {ip} is not a public IP address. "
            "This may indicate a DNS rebinding attempt.")
