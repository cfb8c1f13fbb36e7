"""Schemathesis against the service's own OpenAPI document, over real HTTP:
no input may produce a 500, and no response may break the documented schema."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from app.main import create_app
from tests import factories
from tests.live import LiveServer


@pytest.fixture(scope="module")
def live_server(settings):
    server = LiveServer(create_app(settings)).start()
    yield server
    server.stop()


@pytest.fixture
def api_schema(live_server):
    return schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")


@pytest.fixture
async def seeded(app, live_server) -> dict[str, str]:
    """An operator key, a small network and one booking, so that generated requests meet real rows."""
    operator = {"Authorization": f"Bearer {await factories.bootstrap_operator(app)}"}
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        network = await factories.small_network(client, operator)
        exporter = await factories.org_headers(client, operator, "Fuzz Exporter", "exporter")
        await client.post("/v1/bookings", json=factories.booking_body(network["departure_id"]), headers=exporter)
    return operator


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(case, seeded, live_server):
    case.call_and_validate(
        base_url=live_server.url, headers=seeded, checks=[not_a_server_error, response_schema_conformance]
    )
