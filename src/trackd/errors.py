"""The one error type trackd raises, and how it reaches the client.

MLflow's client branches on ``error_code`` (``RESOURCE_DOES_NOT_EXIST`` turns a lookup into
``None``, ``RESOURCE_ALREADY_EXISTS`` is tolerated by ``register_model``...), so every failure
that is the caller's fault is raised as :class:`MlflowError` with the exact code MLflow uses,
and the HTTP status comes from the same table MLflow's server uses.
"""

from __future__ import annotations

from typing import Any

INTERNAL_ERROR = "INTERNAL_ERROR"
TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
BAD_REQUEST = "BAD_REQUEST"
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
MALFORMED_REQUEST = "MALFORMED_REQUEST"
INVALID_STATE = "INVALID_STATE"
PERMISSION_DENIED = "PERMISSION_DENIED"
UNAUTHENTICATED = "UNAUTHENTICATED"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
ABORTED = "ABORTED"
RESOURCE_CONFLICT = "RESOURCE_CONFLICT"
# trackd's own: the artifact store is full. HTTP 507 (Insufficient Storage), which MLflow's
# client does not retry, so an upload fails at once with the message instead of after minutes
# of retries (it retries 429 and 500); the client reads an unknown code as INTERNAL_ERROR.
INSUFFICIENT_STORAGE = "INSUFFICIENT_STORAGE"

# MLflow's ERROR_CODE_TO_HTTP_STATUS; any code not listed answers 500.
_STATUS_BY_CODE: dict[str, int] = {
    BAD_REQUEST: 400,
    INVALID_PARAMETER_VALUE: 400,
    RESOURCE_ALREADY_EXISTS: 400,
    MALFORMED_REQUEST: 400,
    UNAUTHENTICATED: 401,
    "CUSTOMER_UNAUTHORIZED": 401,
    PERMISSION_DENIED: 403,
    RESOURCE_DOES_NOT_EXIST: 404,
    "NOT_FOUND": 404,
    ENDPOINT_NOT_FOUND: 404,
    ABORTED: 409,
    RESOURCE_CONFLICT: 409,
    "ALREADY_EXISTS": 409,
    REQUEST_LIMIT_EXCEEDED: 429,
    RESOURCE_EXHAUSTED: 429,
    "CANCELLED": 499,
    INTERNAL_ERROR: 500,
    INVALID_STATE: 500,
    "DATA_LOSS": 500,
    NOT_IMPLEMENTED: 501,
    TEMPORARILY_UNAVAILABLE: 503,
    "DEADLINE_EXCEEDED": 504,
    INSUFFICIENT_STORAGE: 507,
}

# MLflow 3.x adds these to error bodies; the client derives them when absent, but sending
# them keeps trackd's answers byte-compatible with what tooling may have learnt to expect.
_ERROR_CLASS_BY_CODE: dict[str, str] = {
    RESOURCE_DOES_NOT_EXIST: "RESOURCE_NOT_FOUND",
    RESOURCE_ALREADY_EXISTS: "RESOURCE_ALREADY_EXISTS",
    INVALID_PARAMETER_VALUE: "INVALID_PARAMETER_VALUE",
}


def http_status_for(code: str) -> int:
    return _STATUS_BY_CODE.get(code, 500)


class MlflowError(Exception):
    """A failure with an MLflow error code; the API answers it as ``{error_code, message}``."""

    def __init__(self, message: str, code: str = INTERNAL_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    @property
    def http_status(self) -> int:
        return http_status_for(self.code)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error_code": self.code, "message": self.message}
        error_class = _ERROR_CLASS_BY_CODE.get(self.code)
        if error_class is not None:
            body["error_class"] = error_class
        return body


def invalid_parameter(message: str) -> MlflowError:
    return MlflowError(message, INVALID_PARAMETER_VALUE)


def not_found(message: str) -> MlflowError:
    return MlflowError(message, RESOURCE_DOES_NOT_EXIST)


def already_exists(message: str) -> MlflowError:
    return MlflowError(message, RESOURCE_ALREADY_EXISTS)


def missing_parameter(name: str) -> MlflowError:
    return invalid_parameter(
        f"Missing value for required parameter '{name}'. "
        "See the API docs for more information about request parameters."
    )
