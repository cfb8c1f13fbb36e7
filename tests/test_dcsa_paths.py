"""Every path under /dcsa/ answers in the DCSA error shape with API-Version, and authenticates
before it says 404 (issue 12, item 18): a path holding a newline no longer escapes the DCSA router."""

import pytest

ODD_PATHS = [
    "/dcsa/tnt/v2/events/a%0Ab",
    "/dcsa/tnt/v2/events/%0A",
    "/dcsa/tnt/v2/nothing%0Ahere",
    "/dcsa/tnt/v2/event-subscriptions/a%0Ab/secret/x",
    "/dcsa/tnt/v1/events",
    "/dcsa/%0A",
]


def assert_dcsa_error(response, status: int) -> None:
    assert "problem" not in response.headers["content-type"]
    assert response.status_code == status, response.text
    assert response.headers["api-version"]
    body = response.json()
    assert body["statusCode"] == status and body["errors"][0]["reason"] and "type" not in body


@pytest.mark.parametrize("path", ODD_PATHS)
async def test_without_a_key_it_is_401_in_the_dcsa_shape(client, path):
    for headers in ({}, {"Authorization": "Bearer cvn_nope"}):
        response = await client.get(path, headers=headers)
        assert_dcsa_error(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ODD_PATHS)
async def test_with_a_key_it_is_a_dcsa_400_or_404(client, operator, path):
    response = await client.get(path, headers=operator)
    assert_dcsa_error(response, 400 if path == "/dcsa/tnt/v2/events/%0A" else 404)  # that one reaches get_event


async def test_other_methods_on_unknown_dcsa_paths_authenticate_first_too(client, operator):
    for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        assert_dcsa_error(await client.request(method, "/dcsa/tnt/v2/vessel-schedules"), 401)
        assert_dcsa_error(await client.request(method, "/dcsa/ovs/v3/x%0Ay", headers=operator), 404)
    # /v1 keeps its own shape.
    response = await client.get("/v1/nothing%0Ahere", headers=operator)
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


# DCSA Booking 2.0 (issue 17) is served at /dcsa/bkg/v2: its paths answer in that spec's ErrorResponse shape.
BKG_PATHS = ["/dcsa/bkg/v2/bookings", "/dcsa/bkg/v2/nothing%0Ahere", "/dcsa/bkg/v1/bookings"]


def assert_bkg_error(response, status: int) -> None:
    assert "problem" not in response.headers["content-type"]
    assert response.status_code == status, response.text
    assert response.headers["api-version"] == "2.0.0"
    body = response.json()
    assert body["statusCode"] == status and body["errors"][0]["errorCodeText"] and "type" not in body


@pytest.mark.parametrize("path", BKG_PATHS)
async def test_booking_paths_authenticate_first_and_answer_in_their_spec_s_shape(client, operator, path):
    assert_bkg_error(await client.get(path), 401)
    assert_bkg_error(await client.get(path, headers=operator), 405 if path == "/dcsa/bkg/v2/bookings" else 404)
