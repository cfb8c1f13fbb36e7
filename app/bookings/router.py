from __future__ import annotations

from typing import Annotated

from typing import Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse

from app.accounts.dependencies import Session, requires
from app.accounts.schemas import Scope
from app.accounts.service import Caller
from app.booking_desk import change, create, receipt
from app.bookings import emissions, records
from app.bookings.emissions_schemas import BookingEmissionsRead, EmissionsReportRead, ReportFormat
from app.bookings.schemas import (
    BookingCreate,
    BookingMergePatch,
    BookingRead,
    BookingStatus,
    BookingUpdate,
    DeliveryIn,
    ReceiptIn,
    RejectIn,
)
from app.errors import Problem
from app.emissions import factor_table
from app.fields import MAX_ID, DayEndOrTimestamp, DayOrTimestamp
from app.pagination import Cursor, Limit, Page, decode_cursor, page_of

router = APIRouter(prefix="/v1/bookings", tags=["bookings"])

Reference = Annotated[str, Path(pattern=r"^CVN[A-Z0-9]{8}$", description="Booking reference such as CVN7K3QX9PA")]


ETAG_HEADER = {"ETag": {"description": "The booking's version; send it as If-Match to amend", "schema": {"type": "string"}}}
WITH_ETAG: dict[int | str, dict] = {200: {"headers": ETAG_HEADER}}
CREATED: dict[int | str, dict] = {201: {"headers": {
    **ETAG_HEADER, "Location": {"description": "The new booking", "schema": {"type": "string"}},
}}}
AMENDMENT: dict[int | str, dict] = {
    **WITH_ETAG,
    412: {"model": Problem, "description": "If-Match does not match the booking's current ETag"},
    428: {"model": Problem, "description": "If-Match is missing: amendments must name the version they change"},
}


MERGE_PATCH = "application/merge-patch+json"


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its $defs written in place (the document's components name them otherwise)."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if isinstance(ref := node.get("$ref"), str) and ref.startswith("#/$defs/"):
                return resolve({**definitions[ref.removeprefix("#/$defs/")],
                                **{k: v for k, v in node.items() if k != "$ref"}})
            return {key: resolve(value) for key, value in node.items()}
        return [resolve(item) for item in node] if isinstance(node, list) else node

    return resolve(schema)


# application/json: the members given replace the booking's (a consignee whole); the merge patch
# (FastAPI's own schema for the body) changes members of the consignee one by one.
AMEND_BODY: dict[str, Any] = {"requestBody": {
    "description": "`application/json`: each member given replaces the booking's (send the consignee whole). "
                   f"`{MERGE_PATCH}` (JSON Merge Patch, RFC 7396): members of the consignee change one by one, "
                   "null removes one, lists are replaced whole; the result is judged as an update.",
    "content": {"application/json": {"schema": _inline(BookingUpdate.model_json_schema())}},
}}


def _settings(request: Request):
    return request.app.state.settings


def _respond(response: Response, booking) -> dict:
    response.headers["ETag"] = records.etag(booking)
    return records.booking_read(booking)


@router.post("", status_code=201, response_model=BookingRead, responses=CREATED, summary="Book space")
async def create_booking(
    request: Request,
    response: Response,
    body: BookingCreate,
    caller: Annotated[Caller, requires(Scope.BOOKINGS_WRITE)],
    session: Session,
):
    """Exporter (`bookings:write`): book a departure (`departure_id`) or an option of a quote
    (`quote_option_id`) for cargo lines and a consignee. The answer has the booking's
    `reference`, its status (CONFIRMED when the cargo still packs into the departure's
    containers; when it does not, rolled to a later departure if `allow_rollover`, else
    WAITLISTED), the chargeable volume and the price; its `ETag` is the version to amend.
    Send an `Idempotency-Key` to retry safely.
    """
    booking = await create.create_booking(session, caller, body)
    response.headers["Location"] = f"/v1/bookings/{booking.reference}"
    return _respond(response, booking)


@router.get("", response_model=Page[BookingRead], summary="List bookings")
async def list_bookings(
    caller: Annotated[Caller, requires(Scope.BOOKINGS_READ)],
    session: Session,
    limit: Limit = 20,
    cursor: Cursor = None,
    status: BookingStatus | None = None,
    departure_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
):
    """Your organisation's bookings (the operator's key: all), oldest first, cursor-paged;
    filter by status or departure.
    """
    rows = await records.list_bookings(
        session, caller, decode_cursor(cursor), limit, status.value if status else None, departure_id
    )
    items, next_cursor = page_of(rows, limit)
    return {"items": [records.booking_read(b) for b in items], "next_cursor": next_cursor}


@router.get("/{reference}", response_model=BookingRead, responses=WITH_ETAG, summary="Get a booking")
async def get_booking(
    reference: Reference, response: Response, caller: Annotated[Caller, requires(Scope.BOOKINGS_READ)], session: Session
):
    """One booking by its reference, with its `ETag`. Another organisation's booking is 404."""
    return _respond(response, await records.get_booking(session, caller, reference))


@router.get("/{reference}/emissions", response_model=BookingEmissionsRead, tags=["emissions"],
            summary="A booking's emissions")
async def get_booking_emissions(
    reference: Reference, caller: Annotated[Caller, requires(Scope.BOOKINGS_READ)], session: Session
):
    """The booking's CO2e by ISO 14083 (WTW and TTW, kg), per leg and hub call, in total and per mode:
    recomputed on every read from its legs as they stand and from its weight, measured at the CFS once
    received (declared until then). Mass-based allocation: its share of a vehicle is its gross mass.
    Owner or operator; another organisation's booking is 404.
    """
    return await emissions.booking_emissions(session, await records.get_booking(session, caller, reference))


@router.patch("/{reference}", response_model=BookingRead, responses=AMENDMENT, summary="Amend a booking",
              openapi_extra=AMEND_BODY)
async def amend_booking(
    request: Request,
    reference: Reference,
    body: Annotated[BookingMergePatch, Body(media_type=MERGE_PATCH)],
    response: Response,
    caller: Annotated[Caller, requires(Scope.BOOKINGS_WRITE)],
    session: Session,
    if_match: Annotated[
        str | None, Header(max_length=200, description="Required: the ETag of the version being amended "
                                                       '(as given, weak W/"…" or unquoted)')
    ] = None,
):
    """Change cargo lines, consignee, references or `allow_rollover` before the cut-off.
    `If-Match` must carry the booking's current `ETag` (428 without it, 412 when it names
    another version). With `Content-Type: application/json` each member sent replaces the
    booking's (the consignee whole); with `application/merge-patch+json` (RFC 7396) the
    consignee's members change one by one (`{"consignee": {"phone": "+49 203 0"}}`) and
    `null` removes one; either way the result must still be a valid booking (422 naming the
    field). A change that no longer fits the departure is 409 and changes nothing.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: BookingUpdate | BookingMergePatch = body
    if media_type != MERGE_PATCH:
        data = change.as_update(body.model_dump(mode="json", by_alias=True, exclude_unset=True))
    booking = await change.amend_booking(session, caller, reference, data, if_match)
    return _respond(response, booking)


@router.post("/{reference}/cancel", response_model=BookingRead, responses=WITH_ETAG, summary="Cancel a booking")
async def cancel_booking(
    request: Request,
    reference: Reference,
    response: Response,
    caller: Annotated[Caller, requires(Scope.BOOKINGS_WRITE)],
    session: Session,
):
    """Before the cut-off (of every leg, for a booking made from a quote): the space is freed
    for others. After it, or for a booking whose status no longer allows it, 409 with the
    reason.
    """
    booking = await change.cancel_booking(session, caller, reference)
    return _respond(response, booking)


@router.post("/{reference}/reject", response_model=BookingRead, responses=WITH_ETAG, summary="Reject a booking")
async def reject_booking(
    request: Request,
    reference: Reference,
    body: RejectIn,
    response: Response,
    caller: Annotated[Caller,
    requires(Scope.BOOKINGS_WRITE, operator=True)],
    session: Session,
):
    """Operator: refuse a booking, with the reason the exporter is told."""
    booking = await change.reject_booking(session, caller, reference, body.reason)
    return _respond(response, booking)


@router.post("/{reference}/deliver", response_model=BookingRead, responses=WITH_ETAG, summary="Record the delivery")
async def deliver_booking(
    reference: Reference,
    body: DeliveryIn,
    response: Response,
    caller: Annotated[Caller, requires(Scope.BOOKINGS_WRITE, operator=True)],
    session: Session,
):
    """Operator: the consignee signed for the cargo; ARRIVED becomes DELIVERED."""
    return _respond(response, await receipt.deliver_booking(session, caller, reference, body))


@router.post("/{reference}/receipt", response_model=BookingRead, responses=WITH_ETAG, summary="Record the CFS receipt")
async def receive_cargo(
    request: Request,
    reference: Reference,
    body: ReceiptIn,
    response: Response,
    caller: Annotated[Caller,
    requires(Scope.BOOKINGS_WRITE, operator=True)],
    session: Session,
):
    """Operator: the cargo was received and measured at the CFS (pieces, weight, volume, or
    measured lines). The booking becomes CARGO_RECEIVED; a measurement off the declaration by
    more than the tolerance flags it, and the measured price is shown beside the booked one.
    """
    booking = await receipt.receive_cargo(session, caller, reference, body, _settings(request).measurement_tolerance)
    return _respond(response, booking)


emissions_router = APIRouter(prefix="/v1/emissions", tags=["emissions"])
OrganizationQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Operator: one organisation's bookings")]


@emissions_router.get(
    "/report", response_model=EmissionsReportRead, summary="Emissions report",
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}},
)
async def emissions_report(
    caller: Annotated[Caller, requires(Scope.BOOKINGS_READ)],
    session: Session,
    from_: Annotated[DayOrTimestamp, Query(alias="from", description="First departure instant (a date: 00:00 UTC)")],
    to: Annotated[DayEndOrTimestamp, Query(description="End, exclusive (a date: that day included)")],
    format: ReportFormat = ReportFormat.JSON,
    organization_id: OrganizationQuery = None,
):
    """The footprints of the bookings whose departure leaves in [from, to) and whose cargo moves
    (cancelled, rejected and waitlisted ones are left out): an exporter's own, an operator's all or
    one organisation's. Per booking as an iLEAP ShipmentFootprint (one element per leg and hub call,
    numbers as decimal strings), totals per mode and overall. `format=csv`: one row per element, then
    the totals. At most 366 days and 2000 bookings.
    """
    body = await emissions.report(session, caller, from_, to, organization_id)
    if format is ReportFormat.CSV:
        return PlainTextResponse(emissions.report_csv(body), media_type="text/csv")
    return body


@emissions_router.get("/factors", summary="The emission factor table")
async def emission_factors(caller: Annotated[Caller, requires(Scope.BOOKINGS_READ)]) -> dict:
    """The versioned factor table the footprints use: each factor's TTW and WTT g CO2e per t·km, its
    source, table, row, year and licence. A row without both figures is listed but not used."""
    table = factor_table()
    return {"version": table.version, "factors": [f.as_json() for f in table.factors.values()]}
