"""``/dcsa/bkg/v2``: DCSA Booking 2.0.0 ``POST /bookings`` and ``GET``/``PUT``/``PATCH
/bookings/{bookingReference}`` over Caravan's bookings (app/dcsa_booking/service.py).

Same bearer keys as /v1 (``bookings:write`` to book, update and cancel; ``bookings:read`` to
read). Every answer carries ``API-Version``; every error, authentication included, has the
spec's ``ErrorResponse`` shape, never /v1's problem+json. The paths are left out of Caravan's
own /openapi.json: their contract is the official specification, served with this server and
bearer keys added at /dcsa/bkg/v2/openapi.json.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.accounts.dependencies import (
    Session,
    authenticate_first,
    requires,
    unparseable_body,
)
from app.accounts.schemas import Scope
from app.accounts.service import Caller
from app.dcsa_booking import notifications, service
from app.dcsa_booking.mapping import BadRequest, spec
from app.errors import AppError

log = logging.getLogger("caravan.dcsa.bkg")

API_VERSION = "2.0.0"
REFERENCE = re.compile(r"^\S(?:.*\S)?$")
TEXTS = {400: "invalidInput", 401: "unauthorized", 403: "forbidden", 404: "notFound", 405: "methodNotAllowed",
         409: "conflict", 412: "preconditionFailed", 413: "payloadTooLarge", 429: "tooManyRequests",
         500: "internalError", 503: "serviceUnavailable"}
METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTION", "PATCH"}


def bkg_error(request: Request, status: int, message: str, headers: dict[str, str] | None = None,
              json_path: str | None = None) -> JSONResponse:
    """An error in the spec's ``ErrorResponse`` shape."""
    detail: dict[str, Any] = {"errorCodeText": TEXTS.get(status, "error"), "errorCodeMessage": message[:5000]}
    if json_path:
        detail["jsonPath"] = json_path[:500]
        detail["property"] = json_path.rsplit(".", 1)[-1].split("[")[0][:100] or "$"
    body = {
        "httpMethod": request.method if request.method in METHODS else "GET",
        "requestUri": request.url.path[:2000],
        "statusCode": status,
        "statusCodeText": HTTPStatus(status).phrase[:50],
        "statusCodeMessage": message[:200],
        "errorDateTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "errors": [detail],
    }
    return JSONResponse(body, status_code=status, headers={**(headers or {}), "API-Version": API_VERSION})


class BkgRoute(APIRoute):
    """A route whose errors, from dependencies (the key) or the handler, use the spec's ErrorResponse."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
                response.headers["API-Version"] = API_VERSION
                return response
            except BadRequest as error:
                return bkg_error(request, error.status, f"{error.json_path}: {error.message}", json_path=error.json_path)
            except AppError as error:
                return bkg_error(request, error.status, error.detail[:500], error.headers)
            except RequestValidationError as error:
                first = error.errors()[0] if error.errors() else {}
                if first.get("type") == "json_invalid" and (refused := await authenticate_first(request)):
                    return bkg_error(request, refused.status, refused.detail[:500], refused.headers)
                where = ".".join(str(part) for part in first.get("loc", ())[1:])
                return bkg_error(request, 400, f"{where or 'request'}: {first.get('msg', 'invalid request')}"[:500])
            except StarletteHTTPException as error:
                if (why := unparseable_body(error)) is not None:
                    if (refused := await authenticate_first(request)) is not None:
                        return bkg_error(request, refused.status, refused.detail[:500], refused.headers)
                    return bkg_error(request, 400, why)
                return bkg_error(request, error.status_code, str(error.detail)[:500], getattr(error, "headers", None))
            except Exception:
                log.exception("unhandled error on %s %s", request.method, request.url.path)
                return bkg_error(request, 500, "an unexpected error occurred; it has been logged")

        return handle


router = APIRouter(prefix="/dcsa/bkg/v2", tags=["dcsa-booking"], route_class=BkgRoute, include_in_schema=False)

Reader = Annotated[Caller, requires(Scope.BOOKINGS_READ)]
Writer = Annotated[Caller, requires(Scope.BOOKINGS_WRITE)]
JsonBody = Annotated[Any, Body()]


def _check(request: Request, reference: str | None = None) -> None:
    sent = request.headers.get("api-version")
    if sent is not None and sent.strip().split(".")[0] != "2":
        raise BadRequest("API-Version", "this is version 2 of the API (send API-Version: 2)")
    if reference is not None and (len(reference) > 100 or not REFERENCE.match(reference)):
        raise BadRequest("bookingReference", "a booking reference: 1 to 100 characters, no spaces at either end")


@router.post("/bookings", status_code=202)
async def create_booking(request: Request, body: JsonBody, caller: Writer, session: Session) -> dict[str, str]:
    _check(request)
    row = await service.create_request(session, caller, body)
    return {"carrierBookingRequestReference": row.request_reference}


@router.get("/bookings/{bookingReference}")
async def get_booking(request: Request, bookingReference: str, caller: Reader, session: Session,
                      amendedContent: Annotated[str, Query()] = "false") -> JSONResponse:
    _check(request, bookingReference)
    if amendedContent not in ("true", "false"):
        raise BadRequest("amendedContent", "true or false")
    answer = await service.read(session, caller, bookingReference, amendedContent == "true")
    return JSONResponse(answer)


@router.put("/bookings/{bookingReference}", status_code=202)
async def update_booking(request: Request, bookingReference: str, body: JsonBody,
                         caller: Writer, session: Session) -> Response:
    _check(request, bookingReference)
    await service.update(session, caller, bookingReference, body)
    return Response(status_code=202)


@router.patch("/bookings/{bookingReference}", status_code=202)
async def cancel_booking(request: Request, bookingReference: str, body: JsonBody,
                         caller: Writer, session: Session) -> Response:
    _check(request, bookingReference)
    await service.cancel(session, caller, bookingReference, body)
    return Response(status_code=202)


# --- notification subscriptions (the spec leaves signing up to the provider) -----------------------

Subscriber = Annotated[Caller, requires(Scope.WEBHOOKS_WRITE)]


@router.post("/notification-subscriptions", status_code=201)
async def subscribe(request: Request, body: JsonBody, caller: Subscriber, session: Session) -> dict[str, Any]:
    """Booking notifications (CloudEvents ``org.dcsa.booking.v2``) to ``callbackUrl``, signed with
    the secret in this answer only (Standard Webhooks headers)."""
    _check(request)
    row, secret = await notifications.subscribe(session, caller, body, request.app.state.settings)
    return {**notifications.subscription_read(row), "secret": secret}


@router.get("/notification-subscriptions/{subscriptionReference}")
async def get_subscription(request: Request, subscriptionReference: str,
                           caller: Subscriber, session: Session) -> dict[str, Any]:
    _check(request)
    return notifications.subscription_read(await notifications.get(session, caller, subscriptionReference))


@router.delete("/notification-subscriptions/{subscriptionReference}", status_code=204)
async def unsubscribe(request: Request, subscriptionReference: str,
                      caller: Subscriber, session: Session) -> Response:
    _check(request)
    await notifications.unsubscribe(session, caller, subscriptionReference)
    return Response(status_code=204)


def bkg_openapi() -> dict[str, Any]:
    """The official document with Caravan's server and bearer keys (the consumer's notification endpoint left in)."""
    document = copy.deepcopy(spec())
    document["servers"] = [{"url": "/dcsa/bkg", "description": "this Caravan server"}]
    document.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
        "type": "http", "scheme": "bearer", "description": "A Caravan API key: cvn_…",
    }
    document["security"] = [{"bearer": []}]
    return document


@router.get("/openapi.json")
async def openapi_document() -> JSONResponse:
    return JSONResponse(bkg_openapi(), headers={"API-Version": API_VERSION})


async def not_routed(request: Request, error: StarletteHTTPException) -> Response:
    """A path under /dcsa/bkg/ that reached no route: the key first, then the error in the spec's shape."""
    if (refused := await authenticate_first(request)) is not None:
        return bkg_error(request, refused.status, refused.detail[:500], refused.headers)
    if error.status_code == 404:
        return bkg_error(request, 404, "no such resource: Caravan serves DCSA Booking 2.0 at /dcsa/bkg/v2/bookings")
    return bkg_error(request, error.status_code, str(error.detail)[:500], getattr(error, "headers", None))
