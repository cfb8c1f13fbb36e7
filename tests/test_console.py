"""The console (/console) through real HTTP requests to the app: sign-in and sessions, CSRF, the
Content-Security-Policy, isolation between organisations, languages, and the exporter's and
operator's pages calling the same services as the API. tests/test_console_browser.py drives the
same pages in Chromium."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select, update

from app.accounts.models import ApiKey, ConsoleSession
from app.bookings.models import Booking
from app.config import Settings
from app.console.i18n import CATALOGUES, negotiate
from app.console.web import safe_next
from app.db import utcnow
from app.main import create_app
from tests import factories
from tests.console_helpers import CONSIGNEE, csrf_of, key_of, post_form, quote_form, sign_in


def _cookie(response: httpx.Response, name: str) -> str:
    return next(h for h in response.headers.get_list("set-cookie") if h.startswith(name + "="))


async def _booking_count(app) -> int:
    async with app.state.sessionmaker() as session:
        return len(list(await session.scalars(select(Booking))))


async def test_sign_in_makes_a_server_side_session_cookie_and_never_shows_the_key(app, client, exporter):
    key = key_of(exporter)
    response = await sign_in(client, key)
    assert response.status_code == 303 and response.headers["location"] == "/console/quote"
    cookie = _cookie(response, "caravan_session")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http here; over https it is Secure (below)
    token = cookie.split(";")[0].split("=", 1)[1]
    assert key not in cookie and key not in response.headers["location"]
    async with app.state.sessionmaker() as session:
        row = (await session.scalars(select(ConsoleSession))).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.expires_at - utcnow() > timedelta(hours=11)
    page = await client.get("/console/quote")
    assert page.status_code == 200 and key not in page.text and token not in page.text


async def test_the_session_cookie_is_secure_over_https(app, exporter):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://caravan.test") as client:
        response = await sign_in(client, key_of(exporter))
    assert "Secure" in _cookie(response, "caravan_session")


async def test_pages_forbid_inline_script_and_frames(client, exporter):
    await sign_in(client, key_of(exporter))
    for path in ("/console/sign-in", "/console/quote", "/console/bookings"):
        page = await client.get(path)
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        # Every <script> loads a file of the app's own: none carries code in the page.
        assert all(re.search(r'src="/console/static/[\w.]+"', tag) for tag in re.findall(r"<script[^>]*>", page.text))
        assert "<script>" not in page.text and " on" + "click=" not in page.text


async def test_templates_escape_what_users_wrote(client, operator, exporter, network):
    booking = factories.booking_body(network["departure_id"])
    booking["consignee"]["name"] = "<script>alert(1)</script> GmbH"
    created = await client.post("/v1/bookings", json=booking, headers=exporter)
    assert created.status_code == 201, created.text
    await sign_in(client, key_of(exporter))
    page = await client.get(f"/console/bookings/{created.json()['reference']}")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt; GmbH" in page.text


async def test_a_page_without_a_session_sends_the_reader_to_sign_in(client):
    response = await client.get("/console/bookings")
    assert response.status_code == 303 and response.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fbookings"


async def test_sign_out_revokes_the_session(client, exporter):
    response = await sign_in(client, key_of(exporter))
    token = _cookie(response, "caravan_session").split(";")[0].split("=", 1)[1]
    out = await post_form(client, "/console/bookings", "/console/sign-out", {})
    assert out.status_code == 303 and out.headers["location"] == "/console/sign-in"
    client.cookies.set("caravan_session", token, path="/console")  # the old cookie, kept by a thief
    assert (await client.get("/console/bookings")).status_code == 303


async def test_an_expired_session_and_a_revoked_key_end_the_session(app, client, exporter):
    await sign_in(client, key_of(exporter))
    assert (await client.get("/console/bookings")).status_code == 200
    async with app.state.sessionmaker() as session:
        await session.execute(update(ConsoleSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    assert (await client.get("/console/bookings")).status_code == 303
    await sign_in(client, key_of(exporter))
    async with app.state.sessionmaker() as session:
        await session.execute(update(ApiKey).values(revoked_at=utcnow()))
        await session.commit()
    assert (await client.get("/console/bookings")).status_code == 303


async def test_a_wrong_key_is_refused_and_meets_the_brake(database_url, exporter):
    braked = create_app(Settings(database_url=database_url, rate_limit_auth_failures_per_s=0.001,
                                 rate_limit_auth_failures_burst=2, api_key_cache_s=0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=braked), base_url="http://caravan.test",
                                 headers={"accept-language": "en"}) as client:
        for _ in range(2):
            wrong = await sign_in(client, "cvn_not-a-key")
            assert wrong.status_code == 401 and "unknown, revoked or expired" in wrong.text
            assert "caravan_session" not in wrong.headers.get("set-cookie", "")
        braking = await sign_in(client, key_of(exporter))  # even the right key, while the address is braked
        assert braking.status_code == 429 and "Retry-After" in braking.headers
        assert "Too many failed sign-ins" in braking.text
    await braked.state.engine.dispose()


async def test_a_post_without_its_csrf_token_is_refused(app, client, exporter, network):
    await sign_in(client, key_of(exporter))
    form = quote_form(ready_at=factories.future(1).date().isoformat())
    assert (await client.post("/console/quote", data=form)).status_code == 403
    assert (await client.post("/console/quote", data={**form, "csrf_token": "0" * 64})).status_code == 403
    page = await client.get("/console/quote")
    cross_site = await client.post("/console/quote", data={**form, "csrf_token": csrf_of(page.text)},
                                   headers={"origin": "https://evil.example"})
    assert cross_site.status_code == 403
    json_body = await client.post("/console/quote", json={**form, "csrf_token": csrf_of(page.text)})
    assert json_body.status_code == 403
    assert (await client.post("/console/quote", data={**form, "csrf_token": csrf_of(page.text)})).status_code == 201


async def test_a_csrf_token_belongs_to_its_session(app, client, exporter, other_exporter, network):
    await sign_in(client, key_of(other_exporter))
    other_token = csrf_of((await client.get("/console/quote")).text)
    await sign_in(client, key_of(exporter))
    form = {**quote_form(ready_at=factories.future(1).date().isoformat()), "csrf_token": other_token}
    assert (await client.post("/console/quote", data=form)).status_code == 403


async def test_another_organisations_booking_is_not_found(client, exporter, other_exporter, network):
    created = await client.post("/v1/bookings", json=factories.booking_body(network["departure_id"]), headers=exporter)
    reference = created.json()["reference"]
    await sign_in(client, key_of(other_exporter))
    for path in (f"/console/bookings/{reference}", f"/console/bookings/{reference}/amend"):
        page = await client.get(path, headers={"accept-language": "en"})
        assert page.status_code == 404 and "Not found" in page.text and "Rhein" not in page.text
    assert reference not in (await client.get("/console/bookings")).text
    cancel = await post_form(client, "/console/bookings", f"/console/bookings/{reference}/cancel", {})
    assert cancel.status_code == 404
    assert (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()["status"] == "CONFIRMED"


async def test_an_exporter_may_not_open_the_operators_pages(client, exporter, network):
    await sign_in(client, key_of(exporter))
    for path in ("/console/departures", f"/console/departures/{network['departure_id']}", "/console/receipt",
                 "/console/containers/1/stuffing.svg"):
        assert (await client.get(path)).status_code == 403, path


async def test_quote_book_amend_and_cancel_call_the_booking_desk(app, client, exporter, network):
    await sign_in(client, key_of(exporter))
    quoted = await post_form(client, "/console/quote", "/console/quote",
                             quote_form(ready_at=factories.future(1).date().isoformat()))
    assert quoted.status_code == 201, quoted.text
    option = re.search(r"/console/book/(QO[A-Z0-9]{12})", quoted.text).group(1)
    booked = await post_form(client, f"/console/book/{option}", f"/console/book/{option}", CONSIGNEE)
    assert booked.status_code == 303, booked.text
    reference = re.search(r"/console/bookings/(CVN[A-Z0-9]{8})", booked.headers["location"]).group(1)
    api = (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()
    assert api["status"] == "CONFIRMED" and api["consignee"]["country"] == "DE" and api["cargo"][0]["hs_code"] == "950510"
    amend_page = await client.get(f"/console/bookings/{reference}/amend")
    assert 'value="Rhein Deko GmbH"' in amend_page.text
    amended = await client.post(f"/console/bookings/{reference}/amend", data={
        "csrf_token": csrf_of(amend_page.text), "etag": html.unescape(re.search(r'name="etag" value="([^"]+)"', amend_page.text).group(1)),
        **CONSIGNEE, "consignee-city": "Dortmund", **{k: v for k, v in quote_form(packages="25").items() if k.startswith("cargo-")}})
    assert amended.status_code == 303, amended.text
    api = (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()
    assert api["consignee"]["city"] == "Dortmund" and api["pieces"] == 25 and api["version"] == 2
    cancelled = await post_form(client, f"/console/bookings/{reference}", f"/console/bookings/{reference}/cancel", {})
    assert cancelled.status_code == 303
    assert (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()["status"] == "CANCELLED"


async def test_a_stale_amendment_is_refused_and_changes_nothing(app, client, exporter, network):
    created = await client.post("/v1/bookings", json=factories.booking_body(network["departure_id"]), headers=exporter)
    reference = created.json()["reference"]
    await sign_in(client, key_of(exporter))
    page = await client.get(f"/console/bookings/{reference}/amend", headers={"accept-language": "en"})
    moved = await client.patch(f"/v1/bookings/{reference}", json={"allow_rollover": True},
                               headers={**exporter, "If-Match": created.headers["etag"]})
    assert moved.status_code == 200
    stale = await client.post(f"/console/bookings/{reference}/amend", headers={"accept-language": "en"}, data={
        "csrf_token": csrf_of(page.text), "etag": created.headers["etag"], **CONSIGNEE,
        **{k: v for k, v in quote_form().items() if k.startswith("cargo-")}})
    assert stale.status_code == 412 and "Please check the form" in stale.text
    assert (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()["version"] == 2


async def test_a_bad_form_names_the_field_and_writes_nothing(app, client, exporter, network):
    await sign_in(client, key_of(exporter))
    quoted = await post_form(client, "/console/quote", "/console/quote",
                             quote_form(ready_at=factories.future(1).date().isoformat(), weight_kg="heavy"))
    assert quoted.status_code == 422 and 'data-field="cargo-0-weight_kg"' in quoted.text
    quoted = await post_form(client, "/console/quote", "/console/quote",
                             quote_form(ready_at=factories.future(1).date().isoformat()))
    option = re.search(r"/console/book/(QO[A-Z0-9]{12})", quoted.text).group(1)
    booked = await post_form(client, f"/console/book/{option}", f"/console/book/{option}",
                             {**CONSIGNEE, "consignee-country": "Germany"})
    assert booked.status_code == 422 and 'data-field="consignee-country"' in booked.text
    assert await _booking_count(app) == 0


async def test_the_operator_plans_locks_and_records_a_receipt(app, client, operator, exporter, network):
    departure_id = network["departure_id"]
    created = await client.post("/v1/bookings", json=factories.booking_body(departure_id), headers=exporter)
    reference = created.json()["reference"]
    await sign_in(client, key_of(operator))
    board = await client.get("/console/departures")
    assert board.status_code == 200 and f'data-departure="{departure_id}"' in board.text
    page_path = f"/console/departures/{departure_id}"
    planned = await post_form(client, page_path, f"{page_path}/plan", {})
    assert planned.status_code == 303
    plan = (await client.get(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    container_id = plan["containers"][0]["id"]
    page = await client.get(page_path)
    assert f"/console/containers/{container_id}/stuffing.svg" in page.text and reference in page.text
    picture = await client.get(f"/console/containers/{container_id}/stuffing.svg")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/svg+xml"
    assert picture.text == (await client.get(f"/v1/containers/{container_id}/stuffing.svg", headers=operator)).text
    pdf = await client.get(f"/console/containers/{container_id}/loading-plan.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    locked = await post_form(client, page_path, f"{page_path}/lock", {})
    assert locked.status_code == 303
    assert (await client.get(f"/v1/departures/{departure_id}/plan", headers=operator)).json()["containers"][0]["locked"]
    found = await client.get(f"/console/receipt?reference={reference.lower()}")
    assert found.status_code == 200 and 'id="receipt-form"' in found.text
    received = await client.post(f"/console/receipt/{reference}", data={
        "csrf_token": csrf_of(found.text), "pieces": "10", "weight_kg": "260", "volume_cbm": "1.2"})
    assert received.status_code == 303
    shown = await client.get(received.headers["location"])
    assert 'id="discrepancy"' in shown.text
    api = (await client.get(f"/v1/bookings/{reference}", headers=operator)).json()
    assert api["status"] == "CARGO_RECEIVED" and api["measured"]["discrepancy"] is True


@pytest.mark.parametrize(("accept", "lang", "word"), [("zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans", "登录"),
                                                      ("en-GB,en;q=0.9", "en", "Sign in"), ("", "zh-Hans", "登录")])
async def test_the_language_follows_accept_language(client, accept, lang, word):
    page = await client.get("/console/sign-in", headers={"accept-language": accept})
    assert f'<html lang="{lang}">' in page.text and f"<h1>{word}</h1>" in page.text


async def test_the_switch_overrides_accept_language_and_goes_back_only_into_the_console(client):
    switched = await client.get("/console/language/en?next=/console/sign-in")
    assert switched.status_code == 303 and switched.headers["location"] == "/console/sign-in"
    page = await client.get("/console/sign-in", headers={"accept-language": "zh-CN"})
    assert '<html lang="en">' in page.text
    for elsewhere in ("https://evil.example/", "//evil.example", "/v1/bookings", "/console\\@evil"):
        assert safe_next(elsewhere) == "/console/"


def test_accept_language_is_weighed():
    assert negotiate(None, "en;q=0.5, zh-TW;q=0.8") == "zh"
    assert negotiate(None, "fr, en;q=0.1") == "en"
    assert negotiate(None, "fr") == "zh"
    assert negotiate("en", "zh-CN") == "en"


async def test_numbers_money_and_times_are_written_per_locale_in_the_hubs_zone(client, exporter, network):
    created = await client.post("/v1/bookings", json=factories.booking_body(network["departure_id"]), headers=exporter)
    reference = created.json()["reference"]
    await sign_in(client, key_of(exporter))
    departs = created.json()["departs_at"]
    zh = await client.get(f"/console/bookings/{reference}", headers={"accept-language": "zh-CN"})
    en = await client.get(f"/console/bookings/{reference}", headers={"accept-language": "en"})
    assert "€" in en.text and "GMT+08:00" in en.text and "年" in zh.text and "GMT+08:00" in zh.text
    assert departs  # shown in Asia/Shanghai, the hub's zone (CARAVAN_CONSOLE_TIMEZONE)


def test_every_message_of_the_pages_is_in_both_catalogues():
    from babel.messages.extract import extract_from_dir

    missing = []
    for _file, _line, message, _comments, _context in extract_from_dir(
        "app/console", [("**.py", "python"), ("**/templates/**.html", "jinja2")],
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
    ):
        singular = message if isinstance(message, str) else message[0]
        if CATALOGUES["zh"].gettext(singular) == singular and not singular.isdigit():
            missing.append(singular)
    assert not missing, f"not translated into Chinese: {missing}"
    assert CATALOGUES["en"].gettext("Sign in") == "Sign in"


async def test_the_board_shows_each_lines_next_departures_and_counts_the_rest(client, operator, network):
    for week in range(3, 8):
        made = await client.post("/v1/departures", json=factories.departure_body(days_out=10 + 7 * week), headers=operator)
        assert made.status_code == 201
    await sign_in(client, key_of(operator))
    board = await client.get("/console/departures?days=90", headers={"accept-language": "en"})
    shown = re.findall(r'data-departure="(\d+)"', board.text)
    assert shown == [str(d["id"]) for d in network["departures"]] + shown[3:] and len(shown) == 5
    assert "3 more departures" in board.text
    one_line = await client.get("/console/departures?days=90&line=wuh-dui")
    assert len(re.findall(r'data-departure="(\d+)"', one_line.text)) == 8


async def test_the_operator_records_a_departure_and_sees_it_in_the_feed(client, operator, exporter, network):
    departure_id = network["departure_id"]
    await client.post("/v1/bookings", json=factories.booking_body(departure_id), headers=exporter)
    await sign_in(client, key_of(operator))
    recorded = await post_form(client, "/console/events", "/console/events", {
        "event_type": "TRANSPORT", "code": "DEPA", "event_classifier": "ACT",
        "event_datetime": (utcnow() - timedelta(hours=1)).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M"),
        "departure_id": str(departure_id), "location": "cnwuh-wjs"})
    assert recorded.status_code == 201 and 'id="recorded"' in recorded.text
    departure = (await client.get(f"/v1/departures/{departure_id}", headers=operator)).json()
    assert departure["status"] == "DEPARTED"
    feed = await client.get(f"/console/events?departure={departure_id}")
    assert "<strong>DEPA</strong>" in feed.text
    wrong = await post_form(client, "/console/events", "/console/events", {
        "event_type": "TRANSPORT", "code": "DEPA", "event_classifier": "ACT", "event_datetime": "yesterday",
        "departure_id": str(departure_id)})
    assert wrong.status_code == 422 and 'data-field="event_datetime"' in wrong.text


async def test_an_exporter_may_not_record_events(client, exporter, network):
    await sign_in(client, key_of(exporter))
    refused = await post_form(client, "/console/bookings", "/console/events", {
        "event_type": "TRANSPORT", "code": "DEPA", "event_classifier": "ACT", "event_datetime": "2026-12-01T10:00",
        "departure_id": str(network["departure_id"])})
    assert refused.status_code == 403


async def test_webhook_subscriptions_show_the_secret_once_and_stay_the_organisations_own(
    app, client, exporter, other_exporter, monkeypatch
):
    await sign_in(client, key_of(exporter))
    refused = await post_form(client, "/console/webhooks", "/console/webhooks",
                              {"url": "https://127.0.0.1/caravan", "event_types": "TRANSPORT"})
    assert refused.status_code == 422 and 'data-field="url"' in refused.text  # the API's rule: no private address
    # The test receivers live on loopback: allow them, as tests/test_webhooks.py does.
    monkeypatch.setattr(app.state, "settings", app.state.settings.model_copy(update={"webhook_allow_private_urls": True}))
    created = await post_form(client, "/console/webhooks", "/console/webhooks",
                              {"url": "https://tms.example.com/caravan", "event_types": "TRANSPORT"})
    assert created.status_code == 201 and re.search(r'id="secret">whsec_', created.text)
    subscription_id = re.search(r'/console/webhooks/(\d+)"', created.text).group(1)
    listed = await client.get("/console/webhooks")
    assert "whsec_" not in listed.text and '<a href="/console/webhooks/' in listed.text
    assert (await client.get(f"/console/webhooks/{subscription_id}")).status_code == 200
    await sign_in(client, key_of(other_exporter))
    assert (await client.get(f"/console/webhooks/{subscription_id}")).status_code == 404
    assert 'id="subscriptions"' not in (await client.get("/console/webhooks")).text  # none of its own


def test_the_console_time_zone_must_be_a_real_one():
    assert Settings(console_timezone="Europe/Berlin").console_timezone == "Europe/Berlin"
    with pytest.raises(ValueError, match="CARAVAN_CONSOLE_TIMEZONE"):
        Settings(console_timezone="Mars/Olympus_Mons")


async def test_the_operator_numbers_and_seals_a_container(client, operator, exporter, network):
    departure_id = network["departure_id"]
    await client.post("/v1/bookings", json=factories.booking_body(departure_id), headers=exporter)
    await sign_in(client, key_of(operator))
    page_path = f"/console/departures/{departure_id}"
    await post_form(client, page_path, f"{page_path}/plan", {})
    container_id = (await client.get(f"/v1/departures/{departure_id}/plan", headers=operator)).json()["containers"][0]["id"]
    wrong = await post_form(client, page_path, f"/console/containers/{container_id}",
                            {"container_number": "CSQU3054384", "seal_number": "SEAL-1"})
    assert wrong.status_code == 422 and "container_number" in wrong.text
    numbered = await post_form(client, page_path, f"/console/containers/{container_id}",
                               {"container_number": "csqu 305438 3", "seal_number": "SEAL-1"})
    assert numbered.status_code == 303
    plan = (await client.get(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    assert plan["containers"][0]["container_number"] == "CSQU3054383" and plan["containers"][0]["seal_number"] == "SEAL-1"
    assert 'value="CSQU3054383"' in (await client.get(page_path)).text


async def test_quote_options_show_their_co2e_once_every_leg_has_a_factor(client, operator, exporter, network):
    form = quote_form(ready_at=factories.future(1).date().isoformat())
    await sign_in(client, key_of(exporter))
    quoted = await post_form(client, "/console/quote", "/console/quote", form)
    assert quoted.status_code == 201, quoted.text
    assert 'class="co2e"' not in quoted.text  # no factor for the line yet: no figure rather than a wrong one
    response = await client.put("/v1/services/WUH-DUI/emissions", headers=operator, json={
        "distances_km": [4000, 5460, 1170],
        "intensity": {"ttw_g_per_tkm": 27.8, "wtt_g_per_tkm": 6.91, "source": "test operator figure"}})
    assert response.status_code == 200, response.text
    api = await client.post("/v1/quotes", headers=exporter, json={
        "origin": form["origin"], "destination": form["destination"], "ready_at": form["ready_at"],
        "cargo": [factories.cargo_line(description="Festive lanterns", hs_code="950510", packages=20,
                                       length_cm=60, width_cm=40, height_cm=50, weight_kg=300)]})
    wtw_kg = api.json()["options"][0]["co2e"]["wtw_kg"]
    quoted = await post_form(client, "/console/quote", "/console/quote", form)
    shown = re.search(r'class="co2e">([^<]+) kg<', quoted.text)
    assert shown and float(shown.group(1).replace(",", "")) == pytest.approx(wtw_kg, abs=0.05)
