"""Errors on console pages: a page in the reader's language, never problem+json.

``app.main`` hands every error under ``/console`` here. A 404 says "not found" whether the
thing is missing or another organisation's, as the API does.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.console.words import N_
from app.console.web import FormRefused, NotSignedIn, redirect, render, sign_in_url
from app.errors import AppError

TITLES = {
    400: N_("The request could not be read"),
    401: N_("Please sign in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not allowed"),
    409: N_("That cannot be done now"),
    412: N_("Someone changed this in the meantime"),
    422: N_("Please check the form"),
    429: N_("Too many requests"),
    503: N_("The server is busy"),
}


def is_console(request: Request) -> bool:
    return request.url.path == "/console" or request.url.path.startswith("/console/")


async def console_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, NotSignedIn):
        return redirect(request, sign_in_url(request.url.path))
    if isinstance(exc, FormRefused):
        status, detail = 403, exc.reason
    elif isinstance(exc, AppError):
        status, detail = exc.status, exc.detail
    elif isinstance(exc, RequestValidationError):
        # A path or query that is not in the expected form names nothing that exists.
        status, detail = 404, None
    elif isinstance(exc, StarletteHTTPException):
        status, detail = exc.status_code, None
    else:
        status, detail = 500, None
    title = TITLES.get(status, N_("Something went wrong"))
    response = render(request, "error.html", status=status, status_code=status, title=title, detail=detail)
    if isinstance(exc, AppError) and exc.headers and "Retry-After" in exc.headers:
        response.headers["Retry-After"] = exc.headers["Retry-After"]
    return response
