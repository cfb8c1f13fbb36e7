"""Free text refuses what would make a reader see something else than was sent (issue 12, item 17):
bidi overrides and other format characters (Unicode Cf), and the line/paragraph separators."""

import json

import pytest
from sqlalchemy import func, select

from app.bookings.models import Booking
from tests.factories import booking_body, cargo_line

SPOOFS = [
    ("consignee.name", "Rhein\u202eexe.fdp"),  # RIGHT-TO-LEFT OVERRIDE: shows as "Rheinpdf.exe"
    ("consignee.name", "Rhein\u2067Deko\u2069"),  # RIGHT-TO-LEFT ISOLATE … POP DIRECTIONAL ISOLATE
    ("cargo.0.description", "Festive\u200bdecorations"),  # ZERO WIDTH SPACE
    ("references.0.value", "\ufeffPO-4711"),  # BYTE ORDER MARK
    ("consignee.city", "Duis\u2028burg"),  # LINE SEPARATOR
    ("consignee.address", "Hafenstraße 1\u2029Duisburg"),  # PARAGRAPH SEPARATOR, in a multi-line field too
    ("consignee.address", "Hafen\u00adstraße 1"),  # SOFT HYPHEN
]


def _set(body: dict, field: str, value: str) -> None:
    *path, last = field.split(".")
    node = body
    for part in path:
        node = node[int(part)] if part.isdigit() else node[part]
    node[last] = value


@pytest.mark.parametrize("field,value", SPOOFS)
async def test_format_characters_and_separators_are_a_422_naming_the_field(app, client, exporter, network, field, value):
    body = booking_body(network["departure_id"])
    _set(body, field, value)
    raw = json.dumps(body, ensure_ascii=True).encode()  # the characters travel as \\u escapes
    response = await client.post("/v1/bookings", content=raw, headers=exporter | {"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    hidden = next(c for c in value if not c.isprintable())
    assert [e["field"] for e in errors] == [field] and f"U+{ord(hidden):04X}" in errors[0]["message"]
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Booking)) == 0


async def test_ordinary_text_in_any_script_is_still_taken(client, exporter, network):
    body = booking_body(network["departure_id"], cargo=[cargo_line(description="Weihnachtsschmuck 圣诞装饰 🎄 ёлочные")])
    body["consignee"].update(name="Łódź Dekor Sp. z o.o.", address="ul. Piotrkowska 1\nŁódź")
    response = await client.post("/v1/bookings", json=body, headers=exporter)
    assert response.status_code == 201, response.text
    assert response.json()["consignee"]["name"] == "Łódź Dekor Sp. z o.o."
