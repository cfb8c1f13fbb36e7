"""A quote option's transit runs from departure to arrival; door-to-door days count from ready_at."""

from datetime import datetime

import pytest

from tests import factories
from tests.test_quotes import quote


async def test_transit_days_count_from_departure_and_door_to_door_from_ready_at(client, operator, exporter):
    await factories.small_network(client, operator)  # 16-day trains leaving from day 10
    body = await quote(client, exporter)
    option = body["options"][0]
    departs, arrives = (datetime.fromisoformat(option[k]) for k in ("departs_at", "arrives_at"))
    ready = datetime.fromisoformat(option["ready_at"])
    assert option["transit_days"] == 16.0
    assert option["transit_days"] == round((arrives - departs).total_seconds() / 86400, 1)
    assert option["door_to_door_days"] == pytest.approx((arrives - ready).total_seconds() / 86400, abs=0.051)
    assert option["door_to_door_days"] > 25  # ten days' wait for the train, then sixteen on it
    stored = await client.get(f"/v1/quote-options/{option['id']}", headers=exporter)
    assert stored.status_code == 200, stored.text
    assert stored.json()["transit_days"] == 16.0
    assert stored.json()["door_to_door_days"] == option["door_to_door_days"]
