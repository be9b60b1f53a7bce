"""Password hashes in the format MLflow's auth app writes, and a cache that keeps them cheap.

MLflow stores ``werkzeug.security.generate_password_hash`` output (``scrypt:32768:8:1$salt$hex``
or ``pbkdf2:sha256:...``); trackd uses the same function, so users move between the servers
with their passwords.

Checking such a hash costs tens of milliseconds of CPU on purpose, which would dominate every
API call. trackd therefore remembers successful checks, keyed by the stored hash itself plus an
HMAC of the password under a per-process random key. The user row is still read on every
request, so a password change (new salt, new hash), a deletion or an admin-flag change takes
effect on the next request in every worker: unlike MLflow's opt-in TTL cache, this one can never
serve a stale answer, which is why it is always on.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict

from werkzeug.security import check_password_hash, generate_password_hash

_CACHE_SIZE = 10_000


class PasswordChecker:
    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._key = secrets.token_bytes(32)
        self._ok: OrderedDict[bytes, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def check(self, stored_hash: str | None, password: str) -> bool:
        if not stored_hash:
            return False
        key = hmac.new(self._key, stored_hash.encode() + b"\0" + password.encode(),
                       hashlib.sha256).digest()
        with self._lock:
            if key in self._ok:
                self._ok.move_to_end(key)
                return True
        try:
            ok = check_password_hash(stored_hash, password)
        except (ValueError, TypeError):  # a hash format werkzeug does not know
            return False
        if ok:
            with self._lock:
                self._ok[key] = None
                while len(self._ok) > self._size:
                    self._ok.popitem(last=False)
        return ok


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    # A recognisable prefix lets secret scanners find leaked tokens.
    return "trackd_" + secrets.token_urlsafe(32)
