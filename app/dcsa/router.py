"""``/dcsa/tnt/v2``: DCSA Track & Trace 2.2.0 ``GET /events``, ``GET /events/{eventID}`` and
the event subscriptions (``/event-subscriptions``: the push model, app/dcsa/subscriptions.py).

Same bearer keys as /v1: scope events:read for the events (exporters see the events of
their own bookings), webhooks:write for the subscriptions (as /v1/webhook-subscriptions).
Every answer carries ``API-Version``; every error here, authentication and refused
subscription fields included (400, the field named first in the message), has the
spec's error shape (``inline_response_default``), not /v1's problem+json. The paths are left out of Caravan's own /openapi.json: their contract
is the official specification (app/dcsa/spec/dcsa-tnt-v2.2.0.yaml), served as this API's own
document at /dcsa/tnt/v2/openapi.json (Swagger UI at /dcsa/tnt/v2/docs).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.accounts.dependencies import (
    CurrentCaller,
    Session,
    authenticate_first,
    requires,
    unparseable_body,
)
from app.accounts.schemas import Scope
from app.accounts.service import Caller
from app.dcsa import docs, service, subscriptions
from app.dcsa.schemas import (
    API_MAJOR,
    API_VERSION,
    MAX_LIMIT,
    UUID_TEXT,
    BadQuery,
    parse_query,
)
from app.docs import swagger_page
from app.errors import AppError
from app.pagination import decode_cursor, encode_cursor
from app.webhooks import subscriptions as webhook_subscriptions

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
    """A route whose errors, from dependencies (the key) or the handler, use the DCSA error shape.

    A path under /dcsa/ that no route here matches (a newline in it, ``/events/a%0Ab``, stops
    Starlette's ``{name:path}``; or another DCSA API) is answered by ``not_routed``, from the
    app's error handler, in the same shape.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except BadQuery as error:
                if error.reason:  # a subscription's field: the message names it
                    return dcsa_error(request, 400, str(error)[:500], reason=error.reason)
                return dcsa_error(request, 400, error.message[:500], reason="invalidQuery" if error.name != "eventID"
                                  else "invalidParameter")
            except AppError as error:
                return dcsa_error(request, error.status, error.detail[:500], error.headers)
            except RequestValidationError as error:
                first = error.errors()[0] if error.errors() else {}
                if first.get("type") == "json_invalid" and (refused := await authenticate_first(request)):
                    return dcsa_error(request, refused.status, refused.detail[:500], refused.headers)
                return dcsa_error(request, 400, str(first.get("msg", "invalid request"))[:500])
            except StarletteHTTPException as error:
                if (why := unparseable_body(error)) is not None:  # the body was never JSON: who asks comes first
                    if (refused := await authenticate_first(request)) is not None:
                        return dcsa_error(request, refused.status, refused.detail[:500], refused.headers)
                    return dcsa_error(request, 400, why, reason="invalidInput")
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


# --- event subscriptions --------------------------------------------------------------------------

JsonBody = Annotated[Any, Body()]
SUBSCRIBER = Scope.WEBHOOKS_WRITE


def _answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers={"API-Version": API_VERSION, **(headers or {})})


def _list_params(request: Request) -> tuple[int, int]:
    """limit (1 or more, at most 100) and cursor; sort is accepted and not applied (creation order)."""
    params = request.query_params
    limit = params.get("limit", str(MAX_LIMIT))
    if not limit.isascii() or not limit.isdigit() or int(limit) < 1:
        raise BadQuery("limit", "a whole number of at least 1")
    try:
        after_id = decode_cursor(params.get("cursor"))
    except AppError:
        raise BadQuery("cursor", "not a cursor returned by this API") from None
    return min(int(limit), MAX_LIMIT), after_id


@router.get("/event-subscriptions")
async def list_subscriptions(
    request: Request, caller: Annotated[Caller, requires(SUBSCRIBER)], session: Session
) -> Response:
    """The caller's organisation's active subscriptions, oldest first."""
    _check_api_version(request)
    limit, after_id = _list_params(request)
    rows = await webhook_subscriptions.list_subscriptions(session, caller, after_id, limit, webhook_subscriptions.DCSA)
    headers = {"Current-Page": str(request.url)}
    if len(rows) > limit:
        rows = rows[:limit]
        headers["Next-Page"] = _page_link(request, encode_cursor(rows[-1].id))
    if after_id:
        headers["First-Page"] = _page_link(request, None)
    return _answer([subscriptions.read(row) for row in rows], headers=headers)


@router.post("/event-subscriptions")
async def create_subscription(
    request: Request, body: JsonBody, caller: Annotated[Caller, requires(SUBSCRIBER)], session: Session
) -> Response:
    """Subscribe callbackUrl to the events the filters match; the secret is kept, never shown again."""
    _check_api_version(request)
    settings = request.app.state.settings
    row = await subscriptions.create(session, caller, body, settings.webhook_allow_private_urls,
                                     settings.webhook_secret_key, require_https=settings.webhook_require_https)
    return _answer(subscriptions.read(row), 201)


@router.get("/event-subscriptions/{subscriptionID}")
async def get_subscription(  # noqa: N803
    subscriptionID: str, request: Request, caller: Annotated[Caller, requires(SUBSCRIBER)], session: Session
) -> Response:
    _check_api_version(request)
    return _answer(subscriptions.read(await subscriptions.get(session, caller, subscriptionID)))


@router.put("/event-subscriptions/{subscriptionID}")
async def replace_subscription(  # noqa: N803
    subscriptionID: str, request: Request, body: JsonBody, caller: Annotated[Caller, requires(SUBSCRIBER)],
    session: Session,
) -> Response:
    """Replace the callback and the filters (the secret has its own PUT)."""
    _check_api_version(request)
    settings = request.app.state.settings
    row = await subscriptions.replace(session, caller, subscriptionID, body, settings.webhook_allow_private_urls,
                                      require_https=settings.webhook_require_https)
    return _answer(subscriptions.read(row))


@router.delete("/event-subscriptions/{subscriptionID}")
async def delete_subscription(  # noqa: N803
    subscriptionID: str, request: Request, caller: Annotated[Caller, requires(SUBSCRIBER)], session: Session
) -> Response:
    """Stop the subscription; notifications not yet sent are cancelled."""
    _check_api_version(request)
    await subscriptions.delete(session, caller, subscriptionID)
    return Response(status_code=204, headers={"API-Version": API_VERSION})


@router.put("/event-subscriptions/{subscriptionID}/secret")
async def replace_secret(  # noqa: N803
    subscriptionID: str, request: Request, body: JsonBody, caller: Annotated[Caller, requires(SUBSCRIBER)],
    session: Session,
) -> Response:
    """Replace the shared secret: every notification sent from now on is signed with the new one."""
    _check_api_version(request)
    await subscriptions.replace_secret(session, caller, subscriptionID, body,
                                       request.app.state.settings.webhook_secret_key)
    return Response(status_code=204, headers={"API-Version": API_VERSION})


# --- this API's own OpenAPI document and docs page (public, like /openapi.json) ---------------------------

@router.get("/openapi.json", include_in_schema=False)
async def openapi_document() -> Response:
    """The DCSA Track & Trace 2.2 specification as Caravan serves it (app/dcsa/docs.py)."""
    return JSONResponse(docs.dcsa_openapi(), headers={"API-Version": API_VERSION})


@router.get("/docs", include_in_schema=False)
async def docs_page() -> Response:
    """Swagger UI for that document, its assets served by Caravan itself."""
    return swagger_page(docs.OPENAPI_PATH, "Caravan – DCSA Track & Trace 2.2")


_ALLOWED = (
    (re.compile(r"^events/?$"), "GET"),
    (re.compile(r"^events/.+$"), "GET"),
    (re.compile(r"^event-subscriptions/?$"), "GET, POST"),
    (re.compile(r"^event-subscriptions/[^/]+/?$"), "GET, PUT, DELETE"),
    (re.compile(r"^event-subscriptions/[^/]+/secret/?$"), "PUT"),
)


ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@router.api_route("/{rest:path}", methods=ANY_METHOD)
async def not_offered(rest: str, request: Request, caller: CurrentCaller) -> Response:
    """Anything else under /dcsa/tnt/v2, once the key is good: 405 for a method a resource does not
    take, else 404, in the DCSA shape."""
    for pattern, allowed in _ALLOWED:
        if pattern.match(rest):
            return dcsa_error(request, 405, f"{request.method} is not allowed here; use {allowed}", {"Allow": allowed})
    return dcsa_error(request, 404, "no such DCSA resource")


async def not_routed(request: Request, error: StarletteHTTPException) -> Response:
    """The app's answer to a path under /dcsa/ that reached no DCSA route (another DCSA API, or a
    path Starlette's patterns cannot match, such as one holding a newline): the key first, then
    the error in the DCSA shape, with API-Version, never /v1's problem+json."""
    if (refused := await authenticate_first(request)) is not None:
        return dcsa_error(request, refused.status, refused.detail[:500], refused.headers)
    if error.status_code == 404:
        return dcsa_error(request, 404, "no such DCSA resource: Caravan serves DCSA Track & Trace 2.2 at /dcsa/tnt/v2")
    return dcsa_error(request, error.status_code, str(error.detail)[:500], getattr(error, "headers", None))
