"""DCSA Booking 2.0 notifications (issue 17): CloudEvents ``org.dcsa.booking.v2`` through Caravan's
outbox and worker, signed with Standard Webhooks, valid under the spec's BookingNotification."""

from __future__ import annotations

from jsonschema import Draft4Validator

from app.dcsa_booking.mapping import spec
from app.webhooks.worker import Worker, delivery_client
from tests.test_dcsa_booking import BASE, book, get, request_body
from tests.test_webhooks import allow_private, drain, fast_settings, receiver_server  # noqa: F401 - fixtures
from tests.webhook_receiver import Receiver

SUBSCRIPTIONS = "/dcsa/bkg/v2/notification-subscriptions"
NOTIFICATION = Draft4Validator({"$ref": "#/components/schemas/BookingNotification", "components": spec()["components"]})


async def test_status_changes_reach_the_partner_as_signed_cloudevents(
    app, client, exporter, other_exporter, network, database_url, receiver_server, allow_private  # noqa: F811
):
    receiver = Receiver()
    server = receiver_server(receiver)
    created = await client.post(SUBSCRIPTIONS, json={"callbackUrl": f"{server.url}/bkg"}, headers=exporter)
    assert created.status_code == 201, created.text
    receiver.secret = created.json()["secret"]
    reference = created.json()["subscriptionReference"]
    assert (await client.get(f"{SUBSCRIPTIONS}/{reference}", headers=exporter)).json()["callbackUrl"] == f"{server.url}/bkg"
    assert (await client.get(f"{SUBSCRIPTIONS}/{reference}", headers=other_exporter)).status_code == 404
    # Another organisation's booking is not notified to this subscriber.
    await book(client, other_exporter, network["departure_id"])
    request_reference = await book(client, exporter, network["departure_id"])
    booking_reference = (await get(client, exporter, request_reference))["carrierBookingReference"]
    await client.patch(f"{BASE}/{booking_reference}", json={"bookingCancellationStatus": "CANCELLATION_RECEIVED"},
                       headers=exporter)
    settings = fast_settings(database_url)
    async with delivery_client(settings) as http:
        await drain(app, Worker(app.state.sessionmaker, settings, http))
    assert receiver.bad_signatures == 0
    notifications = sorted(receiver.processed.values(), key=lambda n: n["time"])
    for notification in notifications:
        assert list(NOTIFICATION.iter_errors(notification)) == [], notification
        assert notification["type"] == "org.dcsa.booking.v2" and notification["subscriptionReference"] == reference
    assert [n["data"]["bookingStatus"] for n in notifications] == ["CONFIRMED", "CANCELLED"]
    assert {n["data"]["carrierBookingRequestReference"] for n in notifications} == {request_reference}
    assert notifications[1]["data"]["bookingCancellationStatus"] == "CANCELLATION_CONFIRMED"
    # Unsubscribed: gone for good.
    assert (await client.delete(f"{SUBSCRIPTIONS}/{reference}", headers=exporter)).status_code == 204
    assert (await client.get(f"{SUBSCRIPTIONS}/{reference}", headers=exporter)).status_code == 404


async def test_a_callback_must_be_a_public_https_url(client, exporter):
    for url in ("ftp://example.com/x", "http://127.0.0.1:9/x", 7):
        response = await client.post(SUBSCRIPTIONS, json={"callbackUrl": url}, headers=exporter)
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["jsonPath"] == "$.callbackUrl"
    assert (await client.post(SUBSCRIPTIONS, json=request_body(1), headers=exporter)).status_code == 400
