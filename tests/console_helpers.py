"""Helpers for the console's tests: sign in through the form, read a page's CSRF token."""

from __future__ import annotations

import re

import httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def key_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    page = await client.get("/console/sign-in")
    assert page.status_code == 200, page.text
    return await client.post("/console/sign-in", data={"csrf_token": csrf_of(page.text), "api_key": key})


async def post_form(client: httpx.AsyncClient, page_path: str, action: str, data: dict) -> httpx.Response:
    """Open ``page_path``, take its CSRF token, and post ``data`` to ``action`` as its form would."""
    page = await client.get(page_path)
    assert page.status_code == 200, page.text
    return await client.post(action, data={"csrf_token": csrf_of(page.text), **data})


def quote_form(origin: str = "CNWUH-WJS", destination: str = "DEDUI", ready_at: str = "", **line) -> dict:
    form = {"origin": origin, "destination": destination, "ready_at": ready_at,
            "cargo-0-description": "Festive lanterns", "cargo-0-hs_code": "9505.10", "cargo-0-packages": "20",
            "cargo-0-package_type": "CARTON", "cargo-0-length_cm": "60", "cargo-0-width_cm": "40",
            "cargo-0-height_cm": "50", "cargo-0-weight_kg": "300", "cargo-0-stackable": "on"}
    form.update({f"cargo-0-{name}": value for name, value in line.items()})
    return form


CONSIGNEE = {"consignee-name": "Rhein Deko GmbH", "consignee-address": "Hafenstraße 1",
             "consignee-city": "Duisburg", "consignee-country": "de"}
