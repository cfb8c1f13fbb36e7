"""POST /v1/stuff and `caravan stuff`: the stuffing core behind the API and the CLI."""

import asyncio
import json
import os
import sys

from app.stuffing import check_stuffing, instance_from_dict

from .stuffing.helpers import SAMPLES, instance, piece


def small() -> dict:
    # Two non-stackable crates take two of the four 50 x 50 floor spots; the cartons stack on the other two.
    return instance([piece("A/1", count=4, l=50, w=50, h=50, kg=20, group="A"),
                     piece("B/1", count=2, l=50, w=50, h=40, kg=110, stackable=False, group="B")])


async def test_stuff_returns_a_valid_plan(client, operator):
    document = small()
    response = await client.post("/v1/stuff", params={"time_limit_s": 1}, json=document, headers=operator)
    assert response.status_code == 200, response.text
    plan = response.json()
    assert check_stuffing(instance_from_dict(document), plan) == []
    assert plan["unplaced"] == [] and len(plan["placements"]) == 6
    assert set(plan["centre_of_gravity_cm"]) == {"x", "y", "z"} and plan["weight_kg"] == 300


async def test_what_does_not_fit_is_listed(client, operator):
    document = instance([piece("A", count=9, l=50, w=50, h=50)])
    plan = (await client.post("/v1/stuff", params={"time_limit_s": 0.5}, json=document, headers=operator)).json()
    assert plan["unplaced"] == [{"id": "A", "count": 1}]


async def test_malformed_instances_are_422_naming_the_field(client, operator):
    bad = small()
    bad["pieces"][1]["length_cm"] = -1
    response = await client.post("/v1/stuff", json=bad, headers=operator)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "pieces.1.length_cm"
    bad = small()
    bad["pieces"][0]["vertical"] = ["height", "lid"]
    assert (await client.post("/v1/stuff", json=bad, headers=operator)).json()["errors"][0]["field"] == \
        "pieces.0.vertical.1"
    bad = small()
    bad["support_ratio"] = 1.5
    assert (await client.post("/v1/stuff", json=bad, headers=operator)).json()["errors"][0]["field"] == "support_ratio"
    bad = small()
    bad["pieces"][0].update(length_cm=2000)
    body = (await client.post("/v1/stuff", json=bad, headers=operator)).json()
    assert body["errors"][0]["field"] == "pieces.0" and "orientations" in body["errors"][0]["message"]
    for junk in ([1], {"pieces": "many"}, {"container": {}, "pieces": []}):
        assert (await client.post("/v1/stuff", json=junk, headers=operator)).status_code == 422
    response = await client.post("/v1/stuff", params={"time_limit_s": 0}, json=small(), headers=operator)
    assert response.status_code == 422


async def test_oversized_bodies_are_413(client, operator):
    huge = b'{"pieces": [' + b" " * (2 * 1024 * 1024) + b"]}"
    response = await client.post("/v1/stuff", content=huge, headers=operator | {"Content-Type": "application/json"})
    assert response.status_code == 413


async def test_only_the_operator_stuffs(client, exporter):
    response = await client.post("/v1/stuff", json=small(), headers=exporter)
    assert response.status_code == 403


async def test_openapi_describes_stuff(client):
    spec = (await client.get("/openapi.json")).json()
    operation = spec["paths"]["/v1/stuff"]["post"]
    assert operation["summary"] and "eight rules" in operation["description"]


async def test_cli_stuffs_a_sample_file(tmp_path):
    sample = SAMPLES / "l107.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "stuff", str(sample), "--time-limit", "2",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    plan = json.loads(out)
    assert check_stuffing(instance_from_dict(json.loads(sample.read_text())), plan) == []
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(instance([piece("A", count=0)])))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "stuff", str(bad), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 2 and b"invalid instance: pieces[0].count" in err and out == b""
