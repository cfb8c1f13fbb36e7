"""The documentation works without the internet (issue 12, item 7): /docs, /redoc and the DCSA
API's docs page load only assets this server serves, and the DCSA API has its own OpenAPI
document beside /openapi.json."""

import re

import pytest

PAGES = ["/docs", "/redoc", "/dcsa/tnt/v2/docs"]
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'|spec-url\s*=\s*["']([^"']+)["']""")


def references(html: str) -> list[str]:
    return [next(g for g in match if g) for match in REFERENCE.findall(html)]


@pytest.mark.parametrize("page", PAGES)
async def test_a_docs_page_loads_only_same_origin_assets_and_they_are_served(client, page):
    response = await client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.search(r"https?://|//[a-z]", html, re.IGNORECASE), "the page names another origin"
    found = references(html)
    assert any(u.endswith(".js") for u in found) and any(u.endswith("openapi.json") for u in found)
    for url in found:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        if url.endswith(".js"):
            assert "javascript" in asset.headers["content-type"] and len(asset.content) > 100_000
        if url.endswith(".css"):
            assert asset.headers["content-type"].startswith("text/css")


async def test_the_dcsa_api_has_its_own_openapi_document(client):
    response = await client.get("/dcsa/tnt/v2/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.") and document["info"]["version"] == "2.2.0"
    assert {"/v2/events", "/v2/events/{eventID}", "/v2/event-subscriptions"} <= set(document["paths"])
    assert document["servers"] == [{"url": "/dcsa/tnt", "description": "this Caravan server"}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "Caravan" in document["info"]["description"]
    own = (await client.get("/openapi.json")).json()
    assert "/dcsa/tnt/v2/openapi.json" in own["info"]["description"]


def test_every_operation_has_a_summary_and_a_description_of_its_own(app):
    operations = [(method, path, op) for path, item in app.openapi()["paths"].items() for method, op in item.items()]
    assert len(operations) > 40
    for method, path, op in operations:
        summary, description = op.get("summary", ""), op.get("description", "")
        assert summary and description, (method, path)
        # Not FastAPI's title-cased function name: a sentence-case summary someone wrote.
        assert summary != summary.title() or len(summary.split()) == 1, (method, path, summary)
