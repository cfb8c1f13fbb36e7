"""POST /v1/plan and `caravan plan`: the planner behind the API and the CLI."""

import asyncio
import json
import os
import sys
from pathlib import Path

from app.planner import check_plan, instance_from_dict, plan_from_dict

SAMPLES = Path(__file__).resolve().parent / "data" / "planner" / "samples"


def instance(shipments: list[dict]) -> dict:
    return {
        "container_types": [
            {"code": "20GP", "payload_kg": 28000, "usable_cbm": 28.0, "inner_height_m": 2.393, "cost": 3500, "reefer": False},
            {"code": "40HC", "payload_kg": 26500, "usable_cbm": 66.0, "inner_height_m": 2.698, "cost": 5600, "reefer": False},
        ],
        "dg_incompatible": [["3", "5.1"]],
        "shipments": shipments,
    }


def shipment(sid: str, cbm: float, kg: float = 500, dg: str | None = None, dest: str = "DEDUI") -> dict:
    return {"id": sid, "destination": dest, "weight_kg": kg, "volume_cbm": cbm, "dg_class": dg,
            "temp_range_c": None, "stackable": True, "footprint_m2": None}


async def test_plan_returns_a_valid_least_cost_plan(client, operator):
    document = instance([shipment("A", 20), shipment("B", 20), shipment("C", 20, dg="3"), shipment("D", 5, dg="5.1")])
    response = await client.post("/v1/plan", json=document, headers=operator)
    assert response.status_code == 200, response.text
    plan = response.json()
    assert check_plan(instance_from_dict(document), plan_from_dict(plan)) == []
    # A, B, C share one 40HC (60 CBM); D's class 5.1 may not ride with C's class 3: a 20GP.
    assert plan["cost"] == 5600 + 3500 and plan["lower_bound"] <= plan["cost"]


async def test_unfit_shipment_is_reported_not_dropped(client, operator):
    document = instance([shipment("A", 10), shipment("HUGE", 80)])
    plan = (await client.post("/v1/plan", json=document, headers=operator)).json()
    assert [u["id"] for u in plan["unassigned"]] == ["HUGE"]
    assert plan["unassigned"][0]["reason"]


async def test_malformed_instances_name_the_field(client, operator):
    bad = instance([shipment("A", 10), shipment("B", -1)])
    response = await client.post("/v1/plan", json=bad, headers=operator)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "shipments.1.volume_cbm"
    response = await client.post("/v1/plan", json={"shipments": "many"}, headers=operator)
    assert response.status_code == 422
    response = await client.post("/v1/plan", json=[1], headers=operator)
    assert response.status_code == 422


async def test_oversized_instances_are_413(client, operator):
    document = instance([shipment(f"S{i}", 0.1) for i in range(50_001)])
    response = await client.post("/v1/plan", json=document, headers=operator)
    assert response.status_code == 413
    huge = b'{"shipments": [' + b" " * (17 * 1024 * 1024) + b"]}"
    response = await client.post("/v1/plan", content=huge, headers=operator | {"Content-Type": "application/json"})
    assert response.status_code == 413


async def test_only_the_operator_plans(client, exporter):
    response = await client.post("/v1/plan", json=instance([shipment("A", 1)]), headers=exporter)
    assert response.status_code == 403


async def test_cli_plans_a_sample_file(tmp_path):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "plan", str(SAMPLES / "s060.json"), "--time-limit", "5",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    plan = json.loads(out)
    sample = instance_from_dict(json.loads((SAMPLES / "s060.json").read_text()))
    assert check_plan(sample, plan_from_dict(plan)) == []
    assert plan["cost"] == 34_700
    bad = tmp_path / "bad.json"
    bad.write_text('{"container_types": [], "shipments": [{"id": 1}]}')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "plan", str(bad), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 2 and b"invalid instance" in err and out == b""
