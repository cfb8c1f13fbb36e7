"""``/dcsa/tnt/v2``: DCSA Track & Trace 2.2.0 ``GET /events`` and ``GET /events/{eventID}``.

Same bearer keys as /v1 (scope events:read); exporters see the events of their own
bookings. Every answer carries ``API-Version``; every error here, authentication
included, has the spec's error shape (``inline_response_default``), not /v1's
problem+json. The paths are left out of Caravan's own /openapi.json: their contract
is the official specification (shared/standards/dcsa-tnt-v2.2.0.yaml).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.accounts.dependencies import Session, requires
from app.accounts.schemas import Scope
from app.accounts.service import Caller
from app.dcsa import service
from app.dcsa.schemas import API_MAJOR, API_VERSION, UUID_TEXT, BadQuery, parse_query
from app.errors import AppError

log = logging.getLogger("caravan.dcsa")

REASONS = {
    400: "invalidQuery", 401: "unauthorized", 403: "forbidden", 404: "notFound", 405: "methodNotAllowed",
    500: "internalError",
}


def dcsa_error(request: Request, status: int, message: str, headers: dict[str, str] | None = None,
               reason: str | None = None) -> JSONResponse:
    """An error in the spec's shape (components.schemas.error)."""
    body = {
        "httpMethod": request.method,
        "requestUri": str(request.url)[:2000],
        "statusCode": status,
        "statusCodeText": HTTPStatus(status).phrase,
        "errorDateTime": datetime.now(timezone.utc).isoformat(),
        "errors": [{"reason": reason or REASONS.get(status, "error"), "message": message}],
    }
    return JSONResponse(body, status_code=status, headers={**(headers or {}), "API-Version": API_VERSION})


class DcsaRoute(APIRoute):
    """A route whose errors, from dependencies (the key) or the handler, use the DCSA error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except BadQuery as error:
                return dcsa_error(request, 400, error.message[:500], reason="invalidQuery" if error.name != "eventID"
                                  else "invalidParameter")
            except AppError as error:
                return dcsa_error(request, error.status, error.detail[:500], error.headers)
            except RequestValidationError as error:
                first = error.errors()[0] if error.errors() else {}
                return dcsa_error(request, 400, str(first.get("msg", "invalid request"))[:500])
            except StarletteHTTPException as error:
                return dcsa_error(request, error.status_code, str(error.detail)[:500], getattr(error, "headers", None))
            except Exception:
                log.exception("unhandled error on %s %s", request.method, request.url.path)
                return dcsa_error(request, 500, "an unexpected error occurred; it has been logged")

        return handle


router = APIRouter(prefix="/dcsa/tnt/v2", tags=["dcsa"], route_class=DcsaRoute, include_in_schema=False)


def _check_api_version(request: Request) -> None:
    """A client MAY send API-Version; if it does, it MUST be the major version of the URI (2)."""
    sent = request.headers.get("api-version")
    if sent is not None and sent.strip().split(".")[0] != API_MAJOR:
        raise BadQuery("API-Version", f"this is version {API_MAJOR} of the API (send API-Version: {API_MAJOR})")


def _page_link(request: Request, cursor: str | None) -> str:
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    if cursor is not None:
        items.append(("cursor", cursor))
    return str(request.url.replace(query=urlencode(items)))


@router.get("/events")
async def list_events(
    request: Request, caller: Annotated[Caller, requires(Scope.EVENTS_READ)], session: Session
) -> Response:
    """Events filtered by the spec's query parameters, in the order Caravan recorded them."""
    _check_api_version(request)
    query = parse_query(request.query_params)
    events, next_cursor = await service.list_events(session, caller, query)
    headers = {"API-Version": API_VERSION, "Current-Page": _page_link(request, query.cursor)}
    if next_cursor is not None:
        headers["Next-Page"] = _page_link(request, next_cursor)
    if query.cursor is not None:
        headers["First-Page"] = _page_link(request, None)
    return JSONResponse(events, headers=headers)


@router.get("/events/{eventID:path}")
async def get_event(  # noqa: N803
    eventID: str, request: Request, caller: Annotated[Caller, requires(Scope.EVENTS_READ)], session: Session
) -> Response:
    """One event by its eventID (a UUID)."""
    _check_api_version(request)
    if not UUID_TEXT.match(eventID):
        raise BadQuery("eventID", "the eventID is a UUID such as 123e4567-e89b-12d3-a456-426614174000")
    event = await service.get_event(session, caller, eventID)
    return JSONResponse(event, headers={"API-Version": API_VERSION})


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def not_offered(rest: str, request: Request) -> Response:
    """Anything else under /dcsa/tnt/v2 (event subscriptions included) is not offered: 404 in the DCSA shape."""
    if rest.strip("/") == "events" or rest.startswith("events/"):
        return dcsa_error(request, 405, f"{request.method} is not allowed here; use GET", {"Allow": "GET"})
    message = "no such DCSA resource"
    if rest.startswith("event-subscriptions"):
        message = "DCSA event subscriptions are not offered; use /v1/webhook-subscriptions"
    return dcsa_error(request, 404, message)
