"""The demo network's trade-offs: air fastest and dearest, rail in between, rail-water slowest and cheapest."""

from decimal import Decimal

from app.demo import seed_multimodal, seed_network
from tests import factories
from tests.factories import cargo_line


async def test_demo_quote_from_xiaogan_to_duisburg_shows_the_trade_offs(app, client, exporter):
    async with app.state.sessionmaker() as session:
        assert await seed_network(session) is True
        assert await seed_multimodal(session) is True
        await session.commit()
    async with app.state.sessionmaker() as session:
        assert await seed_multimodal(session) is False  # idempotent
    ten_cbm = cargo_line(packages=100, length_cm=100, width_cm=100, height_cm=10, weight_kg=800)
    response = await client.post(
        "/v1/quotes",
        json={"origin": "CNXGN", "destination": "DEDUI", "ready_at": factories.iso(factories.future(0)), "cargo": [ten_cbm]},
        headers=exporter,
    )
    assert response.status_code == 201, response.text
    options = response.json()["options"]
    kinds = {}
    for option in options:
        main = "AIR" if "AIR" in option["modes"] else "WATER" if "WATER" in option["modes"] else "RAIL"
        kinds.setdefault(main, option)  # options come by arrival: keep each kind's fastest
    assert set(kinds) == {"AIR", "RAIL", "WATER"}
    air, rail, water = kinds["AIR"], kinds["RAIL"], kinds["WATER"]
    assert air["fastest"] and air["legs"][0]["from_hub"] == "CNXGN"
    assert air["arrives_at"] < rail["arrives_at"] < water["arrives_at"]
    price = lambda option: Decimal(option["price"]["total"])  # noqa: E731
    assert price(air) > price(rail) > price(water)
    cheapest = [o for o in options if o["cheapest"]]
    assert len(cheapest) == 1 and "WATER" in cheapest[0]["modes"]
    assert [leg["mode"] for leg in water["legs"]][-3:] == ["WATER", "WATER", "RAIL"]
