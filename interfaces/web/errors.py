"""How page routes answer errors: a browser gets a page (or, signed out, the way to the login
page); anything else gets the API's problem+json, so programs and tests see one error format."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from domain.shared.errors import DomainError
from interfaces.http.problems import (
    ApiProblem,
    on_api_problem,
    on_domain_error,
    on_http_exception,
    status_of,
)

LOGIN_PATH = "/dashboard/login"


def wants_html(request: Request[Any, Any, Any]) -> bool:
    return "hx-request" in request.headers or "text/html" in request.headers.get("accept", "")


def to_login(request: Request[Any, Any, Any]) -> Response[Any]:
    if "hx-request" in request.headers:
        # A fragment must not swap the login page in, and signing in again should lead back
        # to the page the fragment belongs to, not to the fragment.
        page = urlsplit(request.headers.get("hx-current-url", "")).path or request.url.path
        target = f"{LOGIN_PATH}?next={quote(page)}"
        return Response(None, status_code=204, headers={"HX-Redirect": target})
    return Redirect(f"{LOGIN_PATH}?next={quote(request.url.path)}", status_code=303)


def error_page(request: Request[Any, Any, Any], status: int, detail: str) -> Response[Any]:
    if status == 401:
        return to_login(request)
    return Template("error.html", status_code=status, context={"status": status, "detail": detail})


def on_page_problem(request: Request[Any, Any, Any], error: ApiProblem) -> Response[Any]:
    if not wants_html(request):
        return on_api_problem(request, error)
    return error_page(request, error.status, error.detail)


def on_page_domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    if not wants_html(request):
        return on_domain_error(request, error)
    return error_page(request, status_of(error), error.detail)


def on_page_http_exception(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if not wants_html(request):
        return on_http_exception(request, error)
    return error_page(request, error.status_code, str(error.detail))


PAGE_EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ApiProblem: on_page_problem,
    DomainError: on_page_domain_error,
    HTTPException: on_page_http_exception,
}
