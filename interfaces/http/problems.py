"""RFC 9457 problem details for every error the API answers with."""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from application.errors import PreconditionFailed
from application.users import NotGrantable
from domain.shared.errors import DomainError, InvalidCommand, NotFound

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://kontor.dev/problems/"
log = structlog.get_logger()


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None
    context: dict[str, Any] | None = None


class ApiProblem(Exception):
    """Raised by route code to answer with a specific problem."""

    def __init__(self, status: int, code: str, detail: str, **headers: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    context: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    body = Problem(
        type=PROBLEM_BASE + code.replace("_", "-"),
        title=code.replace("_", " ").capitalize(),
        status=status,
        detail=detail,
        code=code,
        errors=errors,
        context=context or None,
    )
    return Response(
        msgspec.json.encode(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def status_of(error: DomainError) -> int:
    """Refusals of the current state (the default, including `Conflict`) are 409; granting more
    than one holds is 403."""
    if isinstance(error, PreconditionFailed):
        return 412
    if isinstance(error, NotGrantable):
        return 403
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, InvalidCommand):
        return 422
    return 409


def _jsonable(context: dict[str, Any]) -> dict[str, Any]:
    return msgspec.json.decode(msgspec.json.encode(context, enc_hook=str))  # type: ignore[no-any-return]


def on_domain_error(_: Request[Any, Any, Any], error: DomainError) -> Response[bytes]:
    field = error.context.get("field")
    context = {k: v for k, v in error.context.items() if k not in ("field", "errors")}
    errors = [FieldError(str(field), error.detail)] if field else None
    if isinstance(many := error.context.get("errors"), list):  # several fields at once
        errors = [FieldError(str(name), str(message)) for name, message in many]
    return problem(
        status_of(error), error.code, error.detail, errors=errors, context=_jsonable(context)
    )


def on_api_problem(_: Request[Any, Any, Any], error: ApiProblem) -> Response[bytes]:
    return problem(error.status, error.code, error.detail, headers=error.headers or None)


def on_validation(_: Request[Any, Any, Any], error: ValidationException) -> Response[bytes]:
    extra = error.extra if isinstance(error.extra, list) else []
    errors = [
        FieldError(str(item.get("key") or item.get("source") or "body"), str(item.get("message")))
        for item in extra
        if isinstance(item, dict)
    ]
    detail = str(error.detail)
    if any(e.field == "data" and e.message == "'data'" for e in errors):
        return problem(422, "body_required", "this request needs a JSON object as its body")
    if "malformed" in detail.lower() or ("json" in detail.lower() and not errors):
        return problem(400, "malformed_json", f"the request body is not valid JSON: {detail}")
    message = "; ".join(f"{e.field}: {e.message}" for e in errors) or detail
    return problem(422, "validation_failed", message, errors=errors)


def on_http_exception(_: Request[Any, Any, Any], error: HTTPException) -> Response[bytes]:
    codes = {
        401: "unauthorized",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        415: "unsupported_media_type",
    }
    code = codes.get(error.status_code, "http_error")
    detail = str(error.detail)
    if error.status_code == 400 and any(w in detail.lower() for w in ("json", "truncated")):
        code = "malformed_json"
        detail = f"the request body is not valid JSON: {detail}"
    return problem(error.status_code, code, detail, headers=error.headers)


def on_unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    log.exception("unhandled error", path=request.url.path, error=repr(error))
    return problem(500, "internal_error", "an unexpected error occurred; it has been logged")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: on_domain_error,
    ApiProblem: on_api_problem,
    ValidationException: on_validation,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}
