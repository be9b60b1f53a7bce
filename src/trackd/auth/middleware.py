"""The ASGI middleware that puts every route behind a user: authenticate, authorize, then call.

Order of business for one request:
1. open paths (``/health``, ``/ready``, ``server-info``) go straight through, as in MLflow;
2. the caller is identified by HTTP Basic (MLflow's users) or ``Bearer`` (trackd's tokens):
   no or wrong credentials answer 401 with ``WWW-Authenticate: Basic``, so browsers prompt;
3. the auth endpoints (users, grants, tokens) are answered here;
4. everything else is checked against :mod:`trackd.auth.rules` (admins pass every check), and
   a few routes get their listing filtered or a grant recorded after the handler ran.

The request body is read here only when the rule needs a field from it (never for artifact
uploads, which stream through untouched) and is replayed to the app unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trackd.api import nul
from trackd.api._http import error_response, fields_from_pairs, json_response
from trackd.auth import api, api_roles, review_queues, rules
from trackd.auth import targets as resolve
from trackd.auth.service import AuthService
from trackd.auth.sources import source_denial
from trackd.auth.store import User
from trackd.errors import MlflowError

OPEN_PATHS = frozenset({"/health", "/ready"})
# Non-API paths an admin alone may use: they can read across every experiment.
_ADMIN_ONLY_PREFIXES = ("/graphql", "/gateway", "/api/", "/ajax-api/")
_BODY_HOOKS = {rules.SCOPE_EXPERIMENT_IDS, rules.DROP_MODEL_GRANTS, rules.RENAME_MODEL_GRANTS,
               rules.DROP_SCORER_GRANTS}
_RESPONSE_HOOKS = {rules.GRANT_EXPERIMENT, rules.GRANT_MODEL, rules.DROP_MODEL_GRANTS,
                   rules.RENAME_MODEL_GRANTS, rules.GRANT_SCORER, rules.DROP_SCORER_GRANTS}
_FILTER_HOOKS = {rules.FILTER_EXPERIMENTS, rules.FILTER_MODELS, rules.FILTER_VERSIONS,
                 rules.FILTER_REVIEW_QUEUES, rules.WITHHOLD_ASSESSMENTS}


def unauthenticated() -> Response:
    return PlainTextResponse(
        "You are not authenticated. Please see "
        "https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow "
        "on how to authenticate.",
        status_code=401,
        headers={"WWW-Authenticate": 'Basic realm="mlflow"'},
    )


def forbidden() -> Response:
    return PlainTextResponse("Permission denied", status_code=403)


class AuthMiddleware:
    def __init__(self, app: ASGIApp, auth: AuthService, static_prefix: str = "",
                 served: Callable[[str], bool] | None = None) -> None:
        self.app = app
        self.auth = auth
        self.prefix = static_prefix
        # Whether the app serves an API path at all: one it does not serve answers its 404
        # (clients fall back to older endpoints on that), never a 403 that would stop them.
        self.served = served

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._closing(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = self._bare(scope["path"])
        if path is None or path in OPEN_PATHS:
            await self.app(scope, receive, send)  # outside the prefix: the app answers 404
            return
        found = rules.find_rule(scope["method"], path)
        if found is not None and found[0].target == rules.PUBLIC:
            await self.app(scope, receive, send)
            return
        user = await self.auth.authenticate(_header(scope, b"authorization"))
        if user is None:
            await unauthenticated()(scope, receive, send)
            return
        # Handlers and pages may ask who is calling (`request.state.trackd_auth_user`). The
        # state dict is updated in place: the layers outside read what handlers note in it.
        state = scope.setdefault("state", {})
        state["trackd_user"] = user.username
        state["trackd_auth_user"] = user
        try:
            await self._serve(scope, receive, send, path, user, found)
        except MlflowError as exc:
            await error_response(exc)(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, path: str, user: User,
                     found: tuple[rules.Rule, dict[str, str]] | None) -> None:
        method = scope["method"]
        endpoint = _auth_endpoint(method, path)
        if endpoint is not None:
            fields = _fields(scope, await _read_body(receive), from_query=method == "GET")
            await json_response(await endpoint(self.auth, user, fields))(scope, receive, send)
            return
        if found is None:
            unserved = self.served is not None and not self.served(path)
            allowed = user.is_admin or unserved or not (
                rules.is_api_path(path) or path.startswith(_ADMIN_ONLY_PREFIXES))
            if not allowed:
                await forbidden()(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        rule, params = found
        if self.served is not None and rules.is_api_path(path) and not self.served(path):
            await self.app(scope, receive, send)
            return
        body: bytes | None = None
        if _needs_body(rule, method, params):
            body = await _read_body(receive)
            receive = _replay(body)
        fields = _fields(scope, body or b"", from_query=method == "GET" or rule.from_query)
        # Permission lookups query the database with these values before any handler has
        # checked them: a NUL (which PostgreSQL cannot take) gets the handlers' 400 here.
        if nul.fields_hold_nul(body or None, fields) or nul.any_has_nul(params.values()):
            raise nul.refused("request")
        if not user.is_admin:
            denial = await resolve.check(self.auth, user, rule, params, fields, scope)
            if denial is None and rule.hook == rules.CHECK_SOURCE:
                denial = await source_denial(self.auth, user, fields)
            if denial is not None:
                await denial(scope, receive, send)
                return
        if rule.hook == rules.QUEUE_NAME_NOT_USER:  # for admins too, as in MLflow
            await review_queues.refuse_username_as_name(
                self.auth, fields, renaming=path.endswith("/update"))
        if rule.hook == rules.SCOPE_EXPERIMENT_IDS and not user.is_admin:
            scoped = await resolve.scope_experiment_ids(self.auth, user, fields, rule.tier)
            if scoped is None:
                await json_response({})(scope, receive, send)  # nothing readable: no results
                return
            body = orjson.dumps({**fields, "experiment_ids": scoped})
            scope = _with_length(scope, len(body))
            receive = _replay(body)
        if rule.hook in _RESPONSE_HOOKS or (rule.hook in _FILTER_HOOKS and not user.is_admin):
            await self._call_and_rewrite(scope, receive, send, rule, user, fields)
            return
        await self.app(scope, receive, send)

    async def _call_and_rewrite(self, scope: Scope, receive: Receive, send: Send,
                                rule: rules.Rule, user: User, fields: dict[str, Any]) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if start is None:
            return
        body = b"".join(chunks)
        if start["status"] == 200:
            body = await resolve.after(self.auth, user, rule, fields, body)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def _bare(self, path: str) -> str | None:
        if not self.prefix:
            return path
        if path == self.prefix or path.startswith(self.prefix + "/"):
            return path[len(self.prefix):] or "/"
        return None

    def _closing(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                self.auth.close()
            await send(message)

        return wrapped


def _auth_endpoint(method: str, path: str) -> api.Endpoint | None:
    for version in ("/api/2.0", "/ajax-api/2.0", "/api/3.0", "/ajax-api/3.0"):
        if path.startswith(version + "/"):
            key = (method, path[len(version):])
            return api.ENDPOINTS.get(key) or api_roles.ENDPOINTS.get(key)
    return None


def _needs_body(rule: rules.Rule, method: str, params: dict[str, str]) -> bool:
    if method == "GET" or rule.from_query or rule.target in (rules.ARTIFACT, rules.OTLP):
        return False
    if rule.hook in _BODY_HOOKS:
        return True
    if rule.target in (rules.LOGGED_MODEL, rules.TRACE, rules.ISSUE, rules.ASSESSMENT,
                       rules.ASSESSMENT_CREATE) and params:
        return False  # the id is in the path
    return rule.target not in (rules.AUTHENTICATED, rules.ADMIN, rules.PUBLIC)


async def _read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _with_length(scope: Scope, length: int) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
    headers.append((b"content-length", str(length).encode()))
    return {**scope, "headers": headers}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _fields(scope: Scope, body: bytes, *, from_query: bool) -> dict[str, Any]:
    """Request fields as the handlers will see them: the query for GET, else the JSON body."""
    if not from_query and body.strip():
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return {}
        return data if isinstance(data, dict) else {}
    query = scope.get("query_string", b"").decode("latin-1")
    return fields_from_pairs(parse_qsl(query, keep_blank_values=True))
