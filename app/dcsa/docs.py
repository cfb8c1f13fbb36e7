"""The DCSA Track & Trace 2.2 API's own OpenAPI document, served beside Caravan's /openapi.json.

Its contract is the official specification (app/dcsa/spec/dcsa-tnt-v2.2.0.yaml, unmodified on
disk); served, it gets this server (``/dcsa/tnt``, under which the spec's ``/v2/...`` paths
live), Caravan's bearer keys, and a note on where Caravan departs from it.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SPEC_FILE = Path(__file__).parent / "spec" / "dcsa-tnt-v2.2.0.yaml"
OPENAPI_PATH = "/dcsa/tnt/v2/openapi.json"
DOCS_PATH = "/dcsa/tnt/v2/docs"

CARAVAN_NOTE = """**Served by Caravan** under `/dcsa/tnt/v2`, with the same bearer API keys as Caravan's
own API (`Authorization: Bearer cvn_…`): scope `events:read` for the events (an exporter sees
the events of its own bookings), `webhooks:write` for the event subscriptions. Every answer
carries `API-Version`; every error has the error shape below. Caravan's own API is documented
at [/docs](/docs). Where Caravan departs from this specification (the subscription filters it
refuses, what is not sent) is listed in Caravan's README.

---

"""


class _JsonLoader(yaml.SafeLoader):
    """Safe YAML, keeping what JSON cannot hold as text: the spec's example dates stay strings."""


_JsonLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# The secret's example is tagged !!binary: kept as its base64 text, as a JSON document has it.
_JsonLoader.add_constructor("tag:yaml.org,2002:binary", lambda loader, node: loader.construct_scalar(node))


@lru_cache(maxsize=1)
def _official() -> dict[str, Any]:
    return yaml.load(SPEC_FILE.read_text(encoding="utf-8"), Loader=_JsonLoader)  # noqa: S506 - a SafeLoader


def dcsa_openapi() -> dict[str, Any]:
    """The official document with Caravan's server, security and note added."""
    document = copy.deepcopy(_official())
    info = document.setdefault("info", {})
    info["description"] = CARAVAN_NOTE + info.get("description", "")
    document["servers"] = [{"url": "/dcsa/tnt", "description": "this Caravan server"}]
    document.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
        "type": "http", "scheme": "bearer", "description": "A Caravan API key: cvn_…",
    }
    document["security"] = [{"bearer": []}]
    return document
