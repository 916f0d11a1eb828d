"""The one place where errors become HTTP: JSON ``{"error": {"code", "message"}}`` for the API, a page otherwise.

No stack trace ever reaches a user; unexpected errors are logged on the server with a reference shown to the user.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, RedirectResponse, Response

from yiwang.core.errors import AuthenticationRequired, DomainError, FieldErrors, TooManyRequests
from yiwang.core.i18n import N_, Translate, translator
from yiwang.core.identity import Actor
from yiwang.web.bodies import RefuseNul
from yiwang.web.deps import page_actor
from yiwang.web.templating import render

logger = logging.getLogger("yiwang.web")
BUSY_RETRY_AFTER_S = 5

HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    # FastAPI and Starlette answer 400 for a JSON body that does not parse (bad UTF-8, nested past the recursion
    # limit) and for a form field over the parser's 1 MiB part limit
    400: ("http.bad_request", N_("The request could not be read: its body is malformed or a field is too large")),
    404: ("http.not_found", N_("This page does not exist")),
    405: ("http.method_not_allowed", N_("This method is not allowed here")),
    413: ("http.too_large", N_("The request is too large")),
}


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/healthz" or "application/json" in request.headers.get("accept", "")


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    fields: dict[str, str] | None = None,
) -> Response:
    if wants_json(request):
        body: dict[str, object] = {"code": code, "message": message}
        if fields:
            body["fields"] = fields
        return JSONResponse({"error": body}, status_code=status, headers=headers)
    response = render(
        request,
        "error.html",
        _actor_for_error_page(request),
        status_code=status,
        code=code,
        message=message,
        status=status,
        fields=fields or {},
    )
    if headers:
        response.headers.update(headers)
    return response


def _actor_for_error_page(request: Request) -> Actor:
    """The signed-in user for the page header; anonymous if even that cannot be found (the database may be down)."""
    try:
        return page_actor(request, request.app.state.database)
    except Exception:  # an error page must render whatever else is broken
        return Actor.anonymous()


def _translate(request: Request) -> Translate:
    return translator(str(getattr(request.state, "locale", "zh_CN")))


async def handle_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if isinstance(exc, AuthenticationRequired) and not wants_json(request) and request.method == "GET":
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    headers: dict[str, str] | None = None
    if isinstance(exc, AuthenticationRequired):
        headers = {"WWW-Authenticate": 'Bearer realm="yiwang"'}
    elif isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    translate = _translate(request)
    fields = exc.render_fields(translate) if isinstance(exc, FieldErrors) else None
    return error_response(request, exc.http_status, exc.code, exc.render(translate), headers, fields)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, message = HTTP_MESSAGES.get(exc.status_code, (f"http.{exc.status_code}", N_("The request failed")))
    return error_response(
        request, exc.status_code, code, _translate(request)(message), dict(exc.headers) if exc.headers else None
    )


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = ", ".join(
        ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")) for err in exc.errors()
    )
    message = _translate(request)(N_("Some input is missing or malformed: {fields}")).format(fields=fields)
    return error_response(request, 422, "request.invalid", message)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    reference = secrets.token_hex(4)
    logger.error("unexpected error %s on %s %s", reference, request.method, request.url.path, exc_info=exc)
    message = _translate(request)(N_("Something went wrong on our side (reference {reference})")).format(
        reference=reference
    )
    return error_response(request, 500, "server.error", message)


async def handle_database_error(request: Request, exc: Exception) -> Response:
    """SQLite's write lock still taken after the busy timeout (many writers at once) is a 503 to retry, not a 500."""
    assert isinstance(exc, OperationalError)
    if "database is locked" not in str(exc.orig):
        return await handle_unexpected(request, exc)
    logger.warning("database busy on %s %s: answered 503", request.method, request.url.path)
    message = _translate(request)(N_("The service is busy: try again in a few seconds"))
    return error_response(request, 503, "database.busy", message, {"Retry-After": str(BUSY_RETRY_AFTER_S)})


def install(app: FastAPI) -> None:
    # innermost (inside the locale and session middleware): its refusals are translated and get security headers
    app.user_middleware.append(Middleware(RefuseNul))
    app.add_exception_handler(DomainError, handle_domain_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(OperationalError, handle_database_error)
    app.add_exception_handler(Exception, handle_unexpected)
