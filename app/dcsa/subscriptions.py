"""DCSA Track & Trace 2.2.0 event subscriptions (the push model): the rules and the notification.

Storage: a DCSA subscription is a ``WebhookSubscription`` row of ``format`` DCSA, not a
table of its own, so that there is one outbox and one worker. The outbox's ``enqueue``
writes its deliveries by the same audience rule as Caravan's own webhooks (what its
organisation may see) and its ``event_types`` (the subscription's ``eventType``, or all
three); the worker claims, retries, backs off, honours 410, applies the URL rule and pins
addresses for both formats alike, and asks this module only for the body and the headers.

Filters are judged when a delivery is claimed (the event is committed by then, which it is
not yet when booking status changes are written to the outbox inside a flush), by
``service.matching``: the SQL of ``GET /v2/events``, the subscription's filters read as that
endpoint's query (``parse_query``). An event they do not match, or one DCSA cannot express
(Caravan's own SHIPMENT codes, AIR legs), is withdrawn: its delivery is CANCELLED unsent.

Filters served: eventType, shipmentEventTypeCode, transportEventTypeCode, equipmentEventTypeCode,
documentTypeCode (must include BKG: the only document Caravan issues), carrierBookingReference
(and the deprecated bookingReference; a booking of the caller's organisation, any for the
operator), equipmentReference, transportCallID (``<departure id>-<hub code>``, as Caravan's
events carry it), exportVoyageNumber (and the deprecated carrierVoyageNumber: a departure id),
UNLocationCode. Refused with 400 (``REFUSED``), because Caravan has nothing they could ever
match and a silently ignored filter would send the subscriber events it did not ask for:
vesselIMONumber, carrierServiceCode, transportDocumentReference, transportDocumentID,
transportDocumentTypeCode, scheduleID.

The secret is the subscriber's (base64 of 32 to 64 bytes), stored sealed like Caravan's own
(``service.seal``); the HMAC key is the decoded bytes. It is never shown again, not even in
the answer to the POST that gave it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import QueryParams

from app.accounts.models import Organization
from app.accounts.schemas import Role
from app.accounts.service import Caller
from app.bookings.models import Booking
from app.dcsa import service
from app.dcsa.schemas import (
    API_VERSION,
    DOCUMENT_TYPE_CODES,
    EQUIPMENT_EVENT_TYPE_CODES,
    EVENT_TYPES,
    SHIPMENT_EVENT_TYPE_CODES,
    TRANSPORT_CALL_ID,
    TRANSPORT_EVENT_TYPE_CODES,
    UUID_TEXT,
    BadQuery,
    EventQuery,
    parse_query,
)
from app.errors import NotFound, Unprocessable
from app.fields import MAX_ID
from app.webhooks import signing, subscriptions, urls
from app.webhooks.models import WebhookSubscription
from app.webhooks.schemas import CallbackUrl, https_refusal

_PREFIX = uuid.uuid5(uuid.NAMESPACE_URL, "https://caravan/dcsa/tnt/v2/event-subscriptions").bytes[:6]

# The list filters and the values the spec allows in them.
LIST_FILTERS: dict[str, tuple[str, ...]] = {
    "eventType": EVENT_TYPES,
    "shipmentEventTypeCode": SHIPMENT_EVENT_TYPE_CODES,
    "transportEventTypeCode": TRANSPORT_EVENT_TYPE_CODES,
    "equipmentEventTypeCode": EQUIPMENT_EVENT_TYPE_CODES,
    "documentTypeCode": DOCUMENT_TYPE_CODES,
}
# The single-value filters and their maximum lengths (the spec's).
TEXT_FILTERS: dict[str, int] = {
    "carrierBookingReference": 35, "bookingReference": 35, "equipmentReference": 15, "transportCallID": 100,
    "exportVoyageNumber": 50, "carrierVoyageNumber": 50, "UNLocationCode": 5,
}
# Filters of the spec Caravan cannot honour: refused, never ignored.
REFUSED: dict[str, str] = {
    "vesselIMONumber": "Caravan's legs are trains, barges and trucks: no vessel has an IMO number here",
    "carrierServiceCode": "Caravan issues no DCSA service codes",
    "transportDocumentReference": "Caravan issues no transport documents (its documents are bookings, BKG)",
    "transportDocumentID": "Caravan issues no transport documents (its documents are bookings, BKG)",
    "transportDocumentTypeCode": "Caravan issues no transport documents (its documents are bookings, BKG)",
    "scheduleID": "deprecated by the spec (added by mistake) and not served",
}
SECRET_BYTES = (32, 64)
_URL = TypeAdapter(CallbackUrl)


def _invalid(name: str, message: str) -> BadQuery:
    return BadQuery(name, message, reason="invalidParameter")


# --- ids --------------------------------------------------------------------------------

def subscription_uuid(subscription_id: int) -> str:
    """The subscriptionID (a UUID, as the spec says) that stands for our row id."""
    return service.uuid_of(_PREFIX, subscription_id)


def subscription_id_of(text: str) -> int | None:
    """Our row id in a subscriptionID; None for a UUID that is not one (400 for text that is no UUID)."""
    if not UUID_TEXT.match(text):
        raise _invalid("subscriptionID", "the subscriptionID is a UUID such as 123e4567-e89b-12d3-a456-426614174000")
    return service.number_in(_PREFIX, text)


# --- the request body -----------------------------------------------------------------------

@dataclass
class SubscriptionBody:
    callback_url: str
    filters: dict[str, Any]
    secret: str | None = None  # base64, as stored (POST only)

    @property
    def event_types(self) -> list[str]:
        """What the outbox matches on (``enqueue``): the eventType filter, or every type."""
        return list(self.filters.get("eventType") or EVENT_TYPES)


def _list_filter(name: str, value: Any) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(name, "a list of codes")
    allowed = LIST_FILTERS[name]
    for item in value:
        if item not in allowed:
            raise _invalid(name, f"{item[:40]!r} is not one of {','.join(allowed)}")
    if name == "documentTypeCode" and value and "BKG" not in value:
        raise _invalid(name, "the only document Caravan issues is the booking (BKG): without it nothing would match")
    return list(dict.fromkeys(value)) or None


def _text_filter(name: str, value: Any) -> str:
    limit = TEXT_FILTERS[name]
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise _invalid(name, f"text of 1 to {limit} characters")
    if name == "transportCallID":
        found = TRANSPORT_CALL_ID.match(value)
        if not found or not 1 <= int(found.group(1)) <= MAX_ID:
            raise _invalid(name, "Caravan's transportCallIDs are <departure id>-<hub code>, e.g. 42-CNWUH-WJS")
    if name in ("exportVoyageNumber", "carrierVoyageNumber"):
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID):
            raise _invalid(name, "Caravan's voyage numbers are departure ids (digits)")
    return value


def _secret(value: Any) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError
        raw = base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise _invalid("secret", "base64 (RFC 4648, with padding) of the shared secret") from None
    low, high = SECRET_BYTES
    if not low <= len(raw) <= high:
        raise _invalid("secret", f"{low} to {high} bytes once decoded (got {len(raw)})")
    return base64.b64encode(raw).decode()


def parse_body(body: Any, *, with_secret: bool, subscription_id: str | None = None) -> SubscriptionBody:
    """The spec's subscriptionBodyWithSecret (POST) or subscription (PUT), checked field by field:
    an unknown field, a filter Caravan cannot honour, or a secret outside POST is a 400 naming it."""
    if not isinstance(body, dict):
        raise _invalid("body", "a JSON object (the spec's subscription)")
    filters: dict[str, Any] = {}
    for name, value in body.items():
        if value is None or name in ("callbackUrl", "secret"):  # null: not given
            continue
        if name in REFUSED:
            raise _invalid(name, f"this filter is not supported: {REFUSED[name]}")
        if name == "subscriptionID":
            if subscription_id is None:
                raise _invalid(name, "Caravan issues the subscriptionID; leave it out")
            if value != subscription_id:
                raise _invalid(name, "differs from the subscription in the path")
        elif name in LIST_FILTERS:
            if (codes := _list_filter(name, value)) is not None:
                filters[name] = codes
        elif name in TEXT_FILTERS:
            filters[name] = _text_filter(name, value)
        else:
            raise _invalid(str(name)[:60], "not a field of a DCSA 2.2 event subscription")
    for pair in (("carrierBookingReference", "bookingReference"), ("exportVoyageNumber", "carrierVoyageNumber")):
        if all(n in filters for n in pair) and filters[pair[0]] != filters[pair[1]]:
            raise _invalid(pair[1], f"differs from {pair[0]} (the deprecated name of the same filter)")
    if "callbackUrl" not in body or body["callbackUrl"] is None:
        raise _invalid("callbackUrl", "required")
    try:
        url = str(_URL.validate_python(body["callbackUrl"]))
    except ValidationError:
        raise _invalid("callbackUrl", "an http or https URL of at most 2000 characters") from None
    if not with_secret:
        if body.get("secret") is not None:
            raise _invalid("secret", "only in the POST that creates the subscription; PUT .../secret replaces it")
        return SubscriptionBody(url, filters)
    if body.get("secret") is None:
        raise _invalid("secret", "required")
    return SubscriptionBody(url, filters, _secret(body["secret"]))


def query_of(filters: dict[str, Any] | None) -> EventQuery:
    """The subscription's filters as the query of ``GET /v2/events`` (same names, same meaning)."""
    pairs = [(name, ",".join(value) if isinstance(value, list) else value) for name, value in (filters or {}).items()]
    return parse_query(QueryParams(pairs))


async def _check_booking(session: AsyncSession, caller: Caller, filters: dict[str, Any]) -> None:
    """A booking reference filter names a booking the caller may see; another organisation's is as unknown."""
    reference = filters.get("carrierBookingReference") or filters.get("bookingReference")
    if reference is None:
        return
    owner = await session.scalar(select(Booking.organization_id).where(Booking.reference == reference))
    if owner is None or (not caller.is_operator and owner != caller.organization_id):
        name = "carrierBookingReference" if "carrierBookingReference" in filters else "bookingReference"
        raise _invalid(name, f"no booking {reference} of yours")


async def _check_url(url: str, allow_private: bool) -> None:
    """Caravan's URL rule (``url_refusal``: public addresses only), answered in the DCSA shape."""
    if not allow_private and (refusal := await urls.url_refusal(url)):
        raise _invalid("callbackUrl", refusal)


# --- the endpoints' work ----------------------------------------------------------------------

def read(row: WebhookSubscription) -> dict[str, Any]:
    """The spec's ``subscription``: never the secret."""
    return {"subscriptionID": subscription_uuid(row.id), "callbackUrl": row.url, **(row.filters or {})}


async def create(session: AsyncSession, caller: Caller, body: Any, allow_private: bool,
                 secret_key: str | None, require_https: bool = False) -> WebhookSubscription:
    data = parse_body(body, with_secret=True)
    if refusal := https_refusal(data.callback_url, require_https):
        raise _invalid("callbackUrl", refusal)
    await _check_booking(session, caller, data.filters)
    assert data.secret is not None
    try:
        return await subscriptions.add_subscription(
            session, caller, url=data.callback_url, event_types=data.event_types, secret=data.secret,
            allow_private=allow_private, secret_key=secret_key, format=subscriptions.DCSA, filters=data.filters,
            url_field="callbackUrl",
        )
    except Unprocessable as error:  # Caravan's URL rule (``url_refusal``), answered in the DCSA shape
        raise _invalid("callbackUrl", error.errors[0].message if error.errors else error.detail) from None


async def get(session: AsyncSession, caller: Caller, subscription_id: str) -> WebhookSubscription:
    """The caller's own DCSA subscription; another organisation's is as unknown as one that does not exist."""
    our_id = subscription_id_of(subscription_id)
    if our_id is None:
        raise NotFound(f"no event subscription {subscription_id}")
    try:
        return await subscriptions.get_subscription(session, caller, our_id, subscriptions.DCSA)
    except NotFound:
        raise NotFound(f"no event subscription {subscription_id}") from None


async def replace(session: AsyncSession, caller: Caller, subscription_id: str, body: Any,
                  allow_private: bool, require_https: bool = False) -> WebhookSubscription:
    """PUT: the callback and filters are replaced as a whole (the secret stays). Deliveries still pending
    go to the new callback, judged by the new filters. A subscription disabled by a 410 is re-armed."""
    row = await get(session, caller, subscription_id)
    data = parse_body(body, with_secret=False, subscription_id=subscription_id)
    if refusal := https_refusal(data.callback_url, require_https):
        raise _invalid("callbackUrl", refusal)
    await _check_url(data.callback_url, allow_private)
    await _check_booking(session, caller, data.filters)
    row.url, row.filters, row.event_types = data.callback_url, data.filters, data.event_types
    row.disabled_at = row.disabled_reason = None
    await session.flush()
    return row


async def replace_secret(session: AsyncSession, caller: Caller, subscription_id: str, body: Any,
                         secret_key: str | None) -> None:
    """PUT .../secret: notifications from now on are signed with the new secret (retries included)."""
    row = await get(session, caller, subscription_id)
    if not isinstance(body, dict) or set(body) - {"secret"}:
        raise _invalid("body", 'a JSON object with "secret" only')
    if body.get("secret") is None:
        raise _invalid("secret", "required")
    row.secret = signing.seal(_secret(body["secret"]), secret_key)
    await session.flush()


async def delete(session: AsyncSession, caller: Caller, subscription_id: str) -> None:
    row = await get(session, caller, subscription_id)
    await subscriptions.delete_subscription(session, caller, row.id, subscriptions.DCSA)


# --- the notification (used by the webhook worker) -----------------------------------------------

async def notification_bodies(session: AsyncSession, rows: list[Any]) -> dict[int, bytes | None]:
    """For each claimed DCSA delivery (``deliveries.claim`` rows), the POST body: a JSON array holding its
    event as ``GET /v2/events`` shows it (``service.render``); None when the subscription's filters do
    not match the event or DCSA cannot express it."""
    subscription_ids = sorted({row.subscription_id for row in rows})
    subscribed = {
        s.id: s for s in await session.execute(
            select(WebhookSubscription.id, WebhookSubscription.filters, WebhookSubscription.organization_id,
                   Organization.role)
            .join(Organization, Organization.id == WebhookSubscription.organization_id)
            .where(WebhookSubscription.id.in_(subscription_ids))
        )
    }
    rendered: dict[tuple[int, int], dict[str, Any]] = {}
    for subscription_id, subscription in subscribed.items():
        # The subscriber as a caller: only what a booking reference filter may name depends on it.
        caller = Caller(organization_id=subscription.organization_id, role=Role(subscription.role),
                        scopes=frozenset(), api_key_id=0)
        event_ids = [row.event_id for row in rows if row.subscription_id == subscription_id]
        events = await service.matching(session, caller, query_of(subscription.filters), event_ids)
        for event, document in zip(events, await service.render(session, events)):
            rendered[(subscription_id, event.id)] = document
    bodies: dict[int, bytes | None] = {}
    for row in rows:
        document = rendered.get((row.subscription_id, row.event_id))
        bodies[row.id] = None if document is None else json.dumps(
            [document], separators=(",", ":"), ensure_ascii=False
        ).encode()
    return bodies


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of the exact body bytes>``, keyed with the secret's bytes (it is base64)."""
    return "sha256=" + hmac.new(base64.b64decode(secret), body, hashlib.sha256).hexdigest()


def notification_headers(secret: str, subscription_id: int, body: bytes) -> dict[str, str]:
    """The spec's callback headers (the deprecated ``Signature`` header is not sent)."""
    return {
        "content-type": "application/json",
        "user-agent": "Caravan-DCSA-TNT/2",
        "API-Version": API_VERSION,
        "Subscription-ID": subscription_uuid(subscription_id),
        "Notification-Signature": signature(secret, body),
    }
