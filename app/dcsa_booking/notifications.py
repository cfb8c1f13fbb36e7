"""DCSA Booking 2.0 notifications: CloudEvents ``org.dcsa.booking.v2`` POSTed to a partner's endpoint.

The spec leaves signing up outside itself; Caravan's way is a notification subscription
(``/dcsa/bkg/v2/notification-subscriptions``: ``{callbackUrl}`` in, a ``subscriptionReference``
and the signing secret out, once). It is a webhook subscription of format ``DCSA_BKG`` for
SHIPMENT events: the same outbox (a row in the transaction that changes the booking's status),
audience, URL rule, pinned connections, retries and Standard Webhooks signature
(``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) as Caravan's own webhooks. The
worker asks ``notification_bodies`` for each claimed delivery's body: a lightweight notification
(the spec's ``BookingNotificationData`` without the full booking) of the status the booking took,
or none (withdrawn, never POSTed) for a SHIPMENT event that is not a booking status change.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import Caller
from app.bookings.models import Booking
from app.dcsa_booking.mapping import BadRequest
from app.dcsa_booking.models import DcsaBooking
from app.dcsa_booking.view import NOT_CONFIRMED, booking_status
from app.errors import NotFound, Unprocessable
from app.webhooks import signing, subscriptions
from app.webhooks.models import WebhookSubscription
from app.webhooks.schemas import https_refusal

DCSA_BKG = "DCSA_BKG"
EVENT_TYPE = "SHIPMENT"
SOURCE = "/dcsa/bkg/v2/bookings"


def subscription_read(row: WebhookSubscription) -> dict[str, Any]:
    return {"subscriptionReference": str(row.id), "callbackUrl": row.url,
            "createdDateTime": row.created_at.isoformat().replace("+00:00", "Z")}


def _callback_url(body: Any) -> str:
    if not isinstance(body, dict) or set(body) - {"callbackUrl"}:
        raise BadRequest("$", "send {\"callbackUrl\": \"https://…\"} and nothing else")
    url = body.get("callbackUrl")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 2000 \
            or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise BadRequest("$.callbackUrl", "an https URL of at most 2000 characters")
    return url


async def subscribe(session: AsyncSession, caller: Caller, body: Any, settings: Any) -> tuple[WebhookSubscription, str]:
    url = _callback_url(body)
    if refusal := https_refusal(url, settings.webhook_require_https):
        raise BadRequest("$.callbackUrl", refusal)
    secret = signing.new_secret()
    try:
        row = await subscriptions.add_subscription(
            session, caller, url=url, event_types=[EVENT_TYPE], secret=secret,
            allow_private=settings.webhook_allow_private_urls, secret_key=settings.webhook_secret_key,
            format=DCSA_BKG, url_field="callbackUrl",
        )
    except Unprocessable as error:  # the URL rule: public addresses only
        raise BadRequest("$.callbackUrl", error.errors[0].message if error.errors else error.detail) from None
    return row, secret


def _id_of(reference: str) -> int:
    if not reference.isdigit() or not 0 < int(reference) < 2**31:
        raise NotFound(f"notification subscription {reference[:40]} not found")
    return int(reference)


async def get(session: AsyncSession, caller: Caller, reference: str) -> WebhookSubscription:
    return await subscriptions.get_subscription(session, caller, _id_of(reference), DCSA_BKG)


async def unsubscribe(session: AsyncSession, caller: Caller, reference: str) -> None:
    await subscriptions.delete_subscription(session, caller, _id_of(reference), DCSA_BKG)


def notification(row: Any, booking: Booking, dcsa_row: DcsaBooking | None) -> dict[str, Any] | None:
    """The CloudEvent of one delivery: the booking's status as its event recorded it."""
    status = row.payload.get("booking_status")
    if not status:
        return None
    dcsa_status = booking_status(status, dcsa_row)
    data: dict[str, Any] = {"bookingStatus": dcsa_status}
    if dcsa_row is not None:
        data["carrierBookingRequestReference"] = dcsa_row.request_reference
        if dcsa_row.amended_booking_status:
            data["amendedBookingStatus"] = dcsa_row.amended_booking_status
        if dcsa_row.cancellation_status:
            data["bookingCancellationStatus"] = dcsa_row.cancellation_status
    if dcsa_status not in NOT_CONFIRMED | {"REJECTED"} or dcsa_row is None:
        data["carrierBookingReference"] = booking.reference
    if reason := row.payload.get("status_reason") or booking.status_reason:
        data["feedbacks"] = [{"severity": "INFO", "code": "INFORMATIONAL_MESSAGE", "message": str(reason)[:5000]}]
    return {
        "specversion": "1.0",
        "id": signing.webhook_id(row.id),
        "source": SOURCE,
        "type": "org.dcsa.booking.v2",
        "time": row.created_at.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "subscriptionReference": str(row.subscription_id),
        "data": data,
    }


async def notification_bodies(session: AsyncSession, rows: list[Any]) -> dict[int, bytes | None]:
    """For each claimed DCSA_BKG delivery, its POST body; None for an event that is no status change."""
    references = {row.payload.get("booking_reference") for row in rows} - {None}
    bookings = {b.reference: b for b in await session.scalars(select(Booking).where(Booking.reference.in_(references)))}
    dcsa_rows = {r.booking_id: r for r in await session.scalars(
        select(DcsaBooking).where(DcsaBooking.booking_id.in_([b.id for b in bookings.values()])))}
    bodies: dict[int, bytes | None] = {}
    for row in rows:
        booking = bookings.get(row.payload.get("booking_reference"))
        document = notification(row, booking, dcsa_rows.get(booking.id)) if booking is not None else None
        bodies[row.id] = None if document is None else json.dumps(
            document, separators=(",", ":"), ensure_ascii=False).encode()
    return bodies
