"""Callback URLs must be https unless the server allows http (issue 12, item 19): a delivery
carries consignee names and addresses. The setting is on by default; the demo turns it off."""

import pytest

from app.config import Settings

SUBSCRIBE = {"url": "http://203.0.113.10/hooks", "event_types": ["SHIPMENT"]}
DCSA = "/dcsa/tnt/v2/event-subscriptions"
DCSA_BODY = {"callbackUrl": "http://203.0.113.10/hooks", "secret": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="}


@pytest.fixture
def require_https(app, monkeypatch):
    monkeypatch.setattr(app.state, "settings", app.state.settings.model_copy(update={"webhook_require_https": True}))


def test_https_is_required_by_default(monkeypatch):
    monkeypatch.delenv("CARAVAN_WEBHOOK_REQUIRE_HTTPS", raising=False)
    assert Settings().webhook_require_https is True
    monkeypatch.setenv("CARAVAN_WEBHOOK_REQUIRE_HTTPS", "false")
    assert Settings().webhook_require_https is False


async def test_an_http_callback_is_a_422_naming_the_url(client, exporter, require_https):
    response = await client.post("/v1/webhook-subscriptions", json=SUBSCRIBE, headers=exporter)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "url" and "https" in response.json()["errors"][0]["message"]
    assert (await client.get("/v1/webhook-subscriptions", headers=exporter)).json()["items"] == []


async def test_a_dcsa_http_callback_is_a_400_naming_callbackurl(client, exporter, require_https):
    response = await client.post(DCSA, json=DCSA_BODY, headers=exporter)
    assert response.status_code == 400, response.text
    message = response.json()["errors"][0]["message"]
    assert message.startswith("callbackUrl") and "https" in message


async def test_a_dcsa_put_to_http_is_refused_too(app, client, exporter, monkeypatch):
    allowed = app.state.settings.model_copy(update={"webhook_allow_private_urls": True, "webhook_require_https": False})
    monkeypatch.setattr(app.state, "settings", allowed)
    created = await client.post(DCSA, json=DCSA_BODY | {"callbackUrl": "https://127.0.0.1/hooks"}, headers=exporter)
    assert created.status_code == 201, created.text
    monkeypatch.setattr(app.state, "settings", allowed.model_copy(update={"webhook_require_https": True}))
    path = f"{DCSA}/{created.json()['subscriptionID']}"
    response = await client.put(path, json={"callbackUrl": "http://127.0.0.1/hooks"}, headers=exporter)
    assert response.status_code == 400 and "https" in response.json()["errors"][0]["message"]


def test_the_demo_server_allows_http(monkeypatch):
    from app import cli

    for name in ("CARAVAN_WEBHOOK_REQUIRE_HTTPS", "CARAVAN_WEBHOOK_WORKER"):  # cmd_serve sets them: restored after
        monkeypatch.delenv(name, raising=False)
    seen = {}
    monkeypatch.setattr(cli, "migrate", lambda *a, **k: None)
    monkeypatch.setattr(cli, "_seed_demo", lambda fresh_keys: None)
    monkeypatch.setattr("app.server.serve", lambda *a, **k: seen.update(https=cli.get_settings().webhook_require_https))
    try:
        assert cli.main(["serve", "--demo", "--port", "8999"]) == 0
    finally:
        cli.get_settings.cache_clear()
    assert seen == {"https": False}
