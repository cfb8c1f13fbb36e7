"""Events and partners in the console: record DEPA/ARRI and equipment events and read the feed;
webhook subscriptions and their delivery log. The same services and rules as /v1/events and
/v1/webhook-subscriptions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from app.accounts.dependencies import Session
from app.accounts.schemas import Scope
from app.console import forms
from app.console.web import SignedIn, User, formats, needs, read_form, redirect, render
from app.db import utcnow
from app.errors import AppError, Forbidden, Unprocessable
from app.events.schemas import EQUIPMENT_CODES, TRANSPORT_CODES, EventClassifier, EventType
from app.fields import MAX_ID
from app.pagination import decode_cursor, page_of
from app.tracking import feed, record
from app.tracking.schemas import EventCreate, EventRead
from app.webhooks import subscriptions
from app.webhooks.schemas import DeliveryRead, SubscriptionCreate, https_refusal

router = APIRouter(prefix="/console", include_in_schema=False)

FeedReader = Annotated[User, needs(Scope.EVENTS_READ)]
Subscriber = Annotated[User, needs(Scope.WEBHOOKS_WRITE)]
SubscriptionId = Annotated[int, Path(ge=1, le=MAX_ID)]
FEED_PAGE = 50
FEED_DAYS = 7


def may_report(user: User) -> bool:
    """Who may record events: the operator's keys, or a key holding events:write (as for POST /v1/events)."""
    return user.is_operator or user.may(Scope.EVENTS_WRITE.value)


def _local_instant(text: str, zone) -> str:
    """A ``datetime-local`` value (the hub's wall clock) as an instant with its offset; other text as sent."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return text
    return (value if value.tzinfo else value.replace(tzinfo=zone)).isoformat()


async def _events_page(request: Request, user: User, session, departure: int | None, cursor: str | None,
                       values: dict[str, Any], errors, status: int = 200, recorded: dict | None = None) -> Response:
    since = utcnow() - timedelta(days=FEED_DAYS)
    after_id = decode_cursor(cursor, feed.FEED_CURSOR)
    rows, ceiling = await feed.list_events(session, user.caller, after_id, FEED_PAGE, departure_id=departure,
                                           since=since)
    page = feed.feed_page(rows, FEED_PAGE, after_id, ceiling)
    events = [EventRead.model_validate(e).model_dump() for e in page["items"]]
    return render(request, "events.html", status=status, events=events, has_more=page["has_more"],
                  next_cursor=page["next_cursor"], departure=departure or "", values=values, errors=errors,
                  may_report=may_report(user), recorded=recorded, days=FEED_DAYS,
                  codes={"TRANSPORT": TRANSPORT_CODES, "EQUIPMENT": EQUIPMENT_CODES},
                  classifiers=[c.value for c in EventClassifier])


@router.get("/events")
async def events(
    request: Request, user: FeedReader, session: Session,
    departure: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    values = {"event_type": "TRANSPORT", "code": "DEPA", "event_classifier": "ACT",
              "event_datetime": utcnow().astimezone(formats(request).zone).strftime("%Y-%m-%dT%H:%M")}
    if departure:
        values["departure_id"] = departure
    return await _events_page(request, user, session, departure, cursor, values, forms.FormErrors())


@router.post("/events")
async def record_event(request: Request, user: SignedIn, session: Session) -> Response:
    """The same recording as POST /v1/events: a transport event names a departure, an equipment
    event a container."""
    if not may_report(user):
        raise Forbidden(f"this key lacks the scope {Scope.EVENTS_WRITE.value}")
    form = await read_form(request)
    kind = form.get("event_type")
    body: dict[str, Any] = {"event_type": kind, "event_classifier": form.get("event_classifier"),
                            "code": form.get("code"),
                            "event_datetime": _local_instant(form.get("event_datetime"), formats(request).zone)}
    if form.get("location"):
        body["location"] = form.get("location")
    if kind == EventType.TRANSPORT.value:
        body["departure_id"] = forms.number(form.get("departure_id"))
    elif kind == EventType.EQUIPMENT.value:
        body["container_number"] = form.get("container_number")
        if form.get("departure_id"):
            body["departure_id"] = forms.number(form.get("departure_id"))
    values = forms.form_values(form)
    try:
        recorded = await record.record_event(session, user.caller, EventCreate.model_validate(body))
    except ValidationError as error:
        errors, status = forms.from_validation(error, formats(request)), 422
    except AppError as error:
        await session.rollback()
        errors, status = forms.from_app_error(error), error.status
    else:
        shown = {**EventRead.model_validate(feed.event_read(recorded.event)).model_dump(),
                 **recorded.seen_by(user.caller)}
        return await _events_page(request, user, session, None, None, values, forms.FormErrors(), 201, shown)
    return await _events_page(request, user, session, None, None, values, errors, status)


async def _webhooks_page(request: Request, user: User, session, values: dict[str, Any], errors,
                         status: int = 200, created: dict | None = None) -> Response:
    rows = await subscriptions.list_subscriptions(session, user.caller, 0, 100)
    items, _ = page_of(rows, 100)
    return render(request, "webhooks.html", status=status, subscriptions=items, values=values, errors=errors,
                  created=created, event_types=[t.value for t in EventType])


@router.get("/webhooks")
async def webhooks(request: Request, user: Subscriber, session: Session) -> Response:
    return await _webhooks_page(request, user, session, {"event_types": ["TRANSPORT"]}, forms.FormErrors())


@router.post("/webhooks")
async def subscribe(request: Request, user: Subscriber, session: Session) -> Response:
    """The same subscription as POST /v1/webhook-subscriptions; its signing secret is shown on this
    answer only."""
    form = await read_form(request)
    settings = request.app.state.settings
    values = {"url": form.get("url"), "event_types": form.getlist("event_types")}
    try:
        data = SubscriptionCreate.model_validate({"url": form.get("url"), "event_types": form.getlist("event_types")})
        if refusal := https_refusal(str(data.url), settings.webhook_require_https):
            raise Unprocessable("url", refusal)
        row, secret = await subscriptions.create_subscription(
            session, user.caller, data, settings.webhook_allow_private_urls, settings.webhook_secret_key)
    except ValidationError as error:
        errors, status = forms.from_validation(error, formats(request)), 422
    except AppError as error:
        await session.rollback()
        errors, status = forms.from_app_error(error), error.status
    else:
        return await _webhooks_page(request, user, session, {"event_types": ["TRANSPORT"]}, forms.FormErrors(),
                                    201, {"id": row.id, "url": row.url, "secret": secret})
    return await _webhooks_page(request, user, session, values, errors, status)


@router.post("/webhooks/{subscription_id}/delete")
async def unsubscribe(request: Request, subscription_id: SubscriptionId, user: Subscriber, session: Session) -> Response:
    await read_form(request)
    await subscriptions.delete_subscription(session, user.caller, subscription_id)
    return redirect(request, "/console/webhooks")


@router.get("/webhooks/{subscription_id}")
async def deliveries(request: Request, subscription_id: SubscriptionId, user: Subscriber, session: Session,
                     cursor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    """The delivery log of one of the organisation's subscriptions (another's: not found)."""
    subscription = await subscriptions.get_subscription(session, user.caller, subscription_id)
    rows, attempts = await subscriptions.list_deliveries(session, user.caller, subscription_id,
                                                         decode_cursor(cursor), FEED_PAGE)
    items, next_cursor = page_of(rows, FEED_PAGE)
    shown = [DeliveryRead.model_validate(subscriptions.delivery_read(r, attempts[r.id])).model_dump() for r in items]
    return render(request, "deliveries.html", subscription=subscription, deliveries=shown, next_cursor=next_cursor)
