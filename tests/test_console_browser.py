"""The console in a real browser: Debian's headless Chromium driven by Selenium against one live
server for the module. Skipped, with the reason in the summary, where Chromium is not installed.

Set CARAVAN_CONSOLE_SHOTS=<folder> to keep screenshots of the main pages there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.main import create_app
from tests import factories
from tests.browser import chromium_missing, start_chromium, stop_chromium
from tests.console_helpers import key_of
from tests.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.skipif(chromium_missing() is not None,
                                                      reason=str(chromium_missing()))]

if chromium_missing() is None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

SHOTS = os.environ.get("CARAVAN_CONSOLE_SHOTS")


@pytest.fixture(scope="module")
def server(settings):
    live = LiveServer(create_app(settings)).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def driver():
    chromium = start_chromium()
    yield chromium
    stop_chromium(chromium)


@pytest.fixture
def browser(driver, server):
    """The module's Chromium, signed out, its console log emptied; after the test, the log must hold no error."""
    driver.delete_all_cookies()
    driver.get(server.url + "/console/sign-in")
    driver.delete_all_cookies()
    driver.get_log("browser")
    yield driver
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"JavaScript console errors: {errors}"


class Page:
    """The browser on the live server: open, click, fill, wait."""

    def __init__(self, driver, server) -> None:
        self.d, self.url = driver, server.url

    def open(self, path: str) -> None:
        self.d.get(self.url + path)

    def find(self, css: str):
        return WebDriverWait(self.d, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def text(self, css: str = "main") -> str:
        return self.find(css).text

    def fill(self, field_id: str, value: str) -> None:
        element = self.find(f"#{field_id}")
        element.clear()
        element.send_keys(value)

    def choose(self, field_id: str, value: str) -> None:
        Select(self.find(f"#{field_id}")).select_by_value(value)

    def click(self, css: str) -> None:
        self.find(css).click()

    def accept_confirm(self) -> None:
        WebDriverWait(self.d, 10).until(EC.alert_is_present()).accept()

    def sign_in(self, key: str, *, here: bool = False) -> None:
        if not here:
            self.open("/console/sign-in")
        self.fill("api_key", key)
        self.click("#sign-in")
        self.find("#sign-out")

    def shot(self, name: str) -> None:
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            height = self.d.execute_script("window.scrollTo(0, 0); return document.body.scrollHeight")
            self.d.set_window_size(1400, min(max(height + 40, 700), 2400))
            self.d.save_screenshot(str(Path(SHOTS) / f"{name}.png"))
            self.d.set_window_size(1400, 1000)


@pytest.fixture
def page(browser, server) -> Page:
    return Page(browser, server)


async def test_sign_in_and_sign_out(page, exporter):
    page.open("/console/bookings")
    assert "/console/sign-in" in page.d.current_url
    page.shot("sign-in")
    page.sign_in(key_of(exporter), here=True)  # back where the reader was sent from
    assert page.d.current_url.endswith("/console/bookings")
    assert "caravan_session" not in page.d.execute_script("return document.cookie")  # HttpOnly
    assert key_of(exporter) not in page.d.page_source
    page.click("#sign-out")
    page.find("#api_key")
    page.open("/console/bookings")
    assert "/console/sign-in" in page.d.current_url


async def test_an_exporter_quotes_books_amends_and_reads_tracking(page, client, operator, exporter, network):
    page.sign_in(key_of(exporter))
    page.open("/console/quote")
    page.choose("origin", "CNWUH-WJS")
    page.choose("destination", "DEDUI")
    page.fill("cargo-0-description", "Festive lanterns")
    page.fill("cargo-0-hs_code", "950510")
    page.fill("cargo-0-packages", "20")
    for name, value in (("length_cm", "60"), ("width_cm", "40"), ("height_cm", "50"), ("weight_kg", "300")):
        page.fill(f"cargo-0-{name}", value)
    page.click("#get-quote")
    option = page.find("article.option")
    assert "最快" in option.text or "最便宜" in option.text
    page.shot("quote")
    option.find_element(By.CSS_SELECTOR, "button.book").click()
    for name, value in (("name", "Rhein Deko GmbH"), ("address", "Hafenstraße 1"), ("city", "Duisburg"),
                        ("country", "DE")):
        page.fill(f"consignee-{name}", value)
    page.click("#book")
    reference = page.text("#reference")
    assert reference.startswith("CVN") and "订舱成功" in page.text("#done")
    page.click("#amend")
    page.fill("consignee-city", "Dortmund")
    page.fill("cargo-0-packages", "25")
    page.click("#save-amendment")
    assert "已修改" in page.text("#done")
    booking = (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()
    assert booking["consignee"]["city"] == "Dortmund" and booking["pieces"] == 25
    departed = await client.post("/v1/events", headers=operator, json={
        "event_type": "TRANSPORT", "event_classifier": "ACT", "code": "DEPA", "location": "CNWUH-WJS",
        "departure_id": network["departure_id"], "event_datetime": factories.iso(factories.future(-0.01))})
    assert departed.status_code == 201, departed.text
    page.open(f"/console/bookings/{reference}")
    assert "出发" in page.text("#timeline") and page.find('svg.route line[data-state="moving"]')
    assert "实际" in page.text("#legs")
    page.shot("booking")


async def test_an_exporter_cancels_after_confirming(page, client, exporter, network):
    created = await client.post("/v1/bookings", json=factories.booking_body(network["departure_id"]), headers=exporter)
    reference = created.json()["reference"]
    page.sign_in(key_of(exporter))
    page.open(f"/console/bookings/{reference}")
    page.click("#cancel")
    page.accept_confirm()
    assert "已取消" in page.text("#done")
    assert (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()["status"] == "CANCELLED"


async def test_the_operator_plans_locks_and_records_a_receipt(page, client, operator, exporter, network):
    departure_id = network["departure_id"]
    created = await client.post("/v1/bookings", json=factories.booking_body(departure_id), headers=exporter)
    reference = created.json()["reference"]
    page.sign_in(key_of(operator))
    page.open("/console/departures")
    page.shot("departures")
    page.click(f'tr[data-departure="{departure_id}"] a')
    page.click("#plan-button")
    picture = page.find(".container-card img")
    WebDriverWait(page.d, 20).until(lambda d: d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", picture))
    page.shot("departure")
    page.click("#lock-all")
    page.accept_confirm()
    assert "已锁定" in page.text(".container-card h3")
    plan = (await client.get(f"/v1/departures/{departure_id}/plan", headers=operator)).json()
    assert all(container["locked"] for container in plan["containers"])
    page.open("/console/receipt")
    page.fill("find-reference", reference)
    page.click("#find")
    page.fill("pieces", "10")
    page.fill("weight_kg", "260")
    page.fill("volume_cbm", "1.2")
    page.click("#record-receipt")
    assert "差异" in page.text("#discrepancy")
    page.shot("receipt")
    booking = (await client.get(f"/v1/bookings/{reference}", headers=operator)).json()
    assert booking["status"] == "CARGO_RECEIVED" and booking["measured"]["discrepancy"] is True


async def test_another_organisations_booking_shows_not_found(page, client, exporter, other_exporter, network):
    created = await client.post("/v1/bookings", json=factories.booking_body(network["departure_id"]), headers=exporter)
    page.sign_in(key_of(other_exporter))
    page.open(f"/console/bookings/{created.json()['reference']}")
    assert "未找到" in page.text("h1") and "Rhein" not in page.d.page_source
    page.d.get_log("browser")  # the 404 document itself is logged as a failed load: expected


async def test_a_form_without_its_csrf_token_is_refused(page, client, exporter, network):
    created = await client.post("/v1/bookings", json=factories.booking_body(network["departure_id"]), headers=exporter)
    reference = created.json()["reference"]
    page.sign_in(key_of(exporter))
    page.open(f"/console/bookings/{reference}")
    page.d.execute_script("""
        const form = document.querySelector('form[action$="/cancel"]');
        form.querySelector('input[name=csrf_token]').remove();
        form.removeAttribute('data-confirm');
        HTMLFormElement.prototype.submit.call(form);""")
    assert "不允许" in page.text("h1")
    page.d.get_log("browser")  # the 403 answer is logged as a failed load: expected
    assert (await client.get(f"/v1/bookings/{reference}", headers=exporter)).json()["status"] == "CONFIRMED"


async def test_both_languages_render(page, exporter):
    page.open("/console/sign-in")
    assert page.text("h1") == "登录" and page.d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans"
    page.click('a[lang="en"]')
    assert page.text("h1") == "Sign in"
    page.sign_in(key_of(exporter))
    assert "Get a quote" in page.text("h1")
    page.click('a[lang="zh"]')
    assert "询价" in page.text("h1")
