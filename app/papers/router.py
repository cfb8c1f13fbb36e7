from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from starlette.concurrency import run_in_threadpool

from app.accounts.dependencies import Session, requires
from app.accounts.schemas import Scope
from app.accounts.service import Caller
from app.bookings.records import get_booking
from app.fields import IdPath
from app.network.service import get_departure
from app.papers import consist, documents, pdf
from app.papers.schemas import ConsignmentNote, ConsistRead

router = APIRouter(prefix="/v1", tags=["train and papers"])
Reference = Annotated[str, Path(pattern=r"^CVN[A-Z0-9]{8}$", description="Booking reference such as CVN7K3QX9PA")]


@router.post("/departures/{departure_id}/consist", status_code=201, response_model=ConsistRead,
             summary="Build the train consist of a departure's plan")
async def build_consist(
    departure_id: IdPath,
    caller: Annotated[Caller, requires(Scope.PLANS_WRITE, operator=True)],
    session: Session,
) -> Any:
    """The wagon list of the current plan under the service's rail rules: each wagon with its containers
    (number, type, destination, cargo, tare and gross weight), the train's totals and warnings. 20' travel in
    pairs to one destination within the weight difference; heavy wagons kept off the ends when the service
    says so. Stored with the plan version; rebuilding replaces it until every container of the plan is locked
    (then 409). A plan whose containers break a rule gets no consist: 409 naming each rule."""
    plan, stored = await consist.build_consist(session, departure_id)
    return consist.consist_read(plan, stored)


@router.get("/departures/{departure_id}/consist", response_model=ConsistRead, summary="Get the train consist")
async def get_consist(
    departure_id: IdPath,
    caller: Annotated[Caller, requires(Scope.BOOKINGS_READ, operator=True)],
    session: Session,
) -> Any:
    """The consist of the current plan version; 404 when it has none yet (a new plan needs a new consist)."""
    plan, stored = await consist.current_consist(session, departure_id)
    return consist.consist_read(plan, stored)


PDF = {200: {"content": {"application/pdf": {}}, "description": "A PDF"}}


def _pdf(content: bytes, name: str) -> Response:
    return Response(content, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


@router.get("/departures/{departure_id}/consist.pdf", response_class=Response, responses=PDF,
            summary="Print the train list")
async def consist_paper(
    departure_id: IdPath,
    caller: Annotated[Caller, requires(Scope.BOOKINGS_READ, operator=True)],
    session: Session,
) -> Response:
    """The consist of the current plan as a printable train list: wagon by wagon, container, type, destination,
    seal, cargo and gross weights, the totals and the warnings."""
    plan, stored = await consist.current_consist(session, departure_id)
    departure = await get_departure(session, departure_id)
    title = (f"{departure.service.code} departure {departure.id}, "
             f"{departure.departs_at.strftime('%Y-%m-%d %H:%M')} UTC")
    content = await run_in_threadpool(pdf.consist_pdf, consist.consist_read(plan, stored), title)
    return _pdf(content, f"train-list-{departure_id}.pdf")


@router.get("/bookings/{reference}/confirmation.pdf", response_class=Response, responses=PDF,
            summary="Print a booking confirmation")
async def confirmation_paper(
    reference: Reference,
    caller: Annotated[Caller, requires(Scope.BOOKINGS_READ)],
    session: Session,
) -> Response:
    """The booking confirmation for the exporter: reference (with a Code 39 barcode), shipper, consignee, the route
    leg by leg with each cut-off, the cargo lines, the chargeable volume, the price line by line and the
    conditions. The booking's owner and the operator only (another organisation's booking is 404)."""
    booking = await get_booking(session, caller, reference)
    document = await documents.confirmation(session, booking)
    content = await run_in_threadpool(pdf.confirmation_pdf, document)
    return _pdf(content, f"booking-{booking.reference}.pdf")


@router.get("/containers/{container_id}/consignment-note", response_model=ConsignmentNote,
            summary="Get a container's CIM/SMGS consignment note data")
async def consignment_note(
    container_id: IdPath,
    caller: Annotated[Caller, requires(Scope.BOOKINGS_READ, operator=True)],
    session: Session,
) -> Any:
    """What the container's CIM/SMGS consignment note says: consignor, consignee, departure, border and
    destination stations with their railway codes, wagon, container, seals, the goods per booking (description,
    HS code, packages, gross weight), dangerous goods with their declared documents, customs references and the
    note's languages. `to_fill` names the fields the operator must still fill before it is issued."""
    return await documents.consignment_note(session, container_id)


@router.get("/containers/{container_id}/consignment-note.pdf", response_class=Response, responses=PDF,
            summary="Print a container's CIM/SMGS consignment note data")
async def consignment_note_paper(
    container_id: IdPath,
    caller: Annotated[Caller, requires(Scope.BOOKINGS_READ, operator=True)],
    session: Session,
) -> Response:
    """The consignment note data laid out in boxes; a box still to fill says so."""
    note = await documents.consignment_note(session, container_id)
    content = await run_in_threadpool(pdf.consignment_note_pdf, note)
    return _pdf(content, f"consignment-note-{container_id}.pdf")
