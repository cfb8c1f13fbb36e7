"""The stuffing pictures: well-formed SVG, one shape per package, legend, step views, escaping, drawing order."""

from __future__ import annotations

import ast
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app.stuffing import instance_from_dict, plan_to_dict, solve
from app.stuffing.picture import (
    group_colours,
    loading_stages,
    stuffing_steps_svg,
    stuffing_svg,
)

from .helpers import instance, load_sample, piece, place, plan

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def sample():
    inst = load_sample("l107")
    return inst, plan_to_dict(solve(instance_from_dict(inst), time_limit_s=2))


def _packages(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter() if "data-id" in e.attrib]


def _groups(inst: dict, p: dict) -> set[str]:
    group_of = {x["id"]: x.get("group") for x in inst["pieces"]}
    return {group_of[q["id"]] for q in p["placements"]}


def test_sample_svg_parses_and_has_one_shape_per_placed_package(sample):
    inst, p = sample
    assert p["placements"]
    root = ET.fromstring(stuffing_svg(inst, p))
    assert root.tag == f"{SVG}svg"
    pkgs = _packages(root)
    assert len(pkgs) == len(p["placements"])
    assert sorted(int(e.get("data-step")) for e in pkgs) == sorted(q["step"] for q in p["placements"])
    for e in pkgs:  # each package is one group of its three visible faces
        assert e.tag == f"{SVG}g" and len(e.findall(f"{SVG}polygon")) == 3
    # top and side views are there too
    classes = {e.get("class") for e in root.iter(f"{SVG}g")}
    assert {"top-view", "side-view", "legend", "container", "frame"} <= classes


def test_legend_lists_each_group_with_its_count(sample):
    inst, p = sample
    root = ET.fromstring(stuffing_svg(inst, p))
    rows = [e for e in root.iter(f"{SVG}g") if e.get("class") == "legend-row"]
    assert {e.get("data-group") for e in rows} == _groups(inst, p)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert str(len(p["placements"])) in texts  # the total count


def test_group_colours_are_stable_and_distinct():
    inst = load_sample("l105")
    a, b = group_colours(inst), group_colours(inst)
    assert a == b
    named = [c for g, c in a.items() if g is not None]
    assert len(named) == len(set(named))
    many = instance([piece(f"P{i}", group=f"BK{i}") for i in range(40)])
    colours = [c for g, c in group_colours(many).items() if g is not None]
    assert len(set(colours)) == 40


def test_step_view_shows_only_what_is_in_after_that_step(sample):
    inst, p = sample
    n = len(p["placements"])
    for k in (1, n // 3, n - 1, n):
        root = ET.fromstring(stuffing_svg(inst, p, step=k))
        steps = [int(e.get("data-step")) for e in _packages(root)]
        assert len(steps) == sum(1 for q in p["placements"] if q["step"] <= k)
        assert all(s <= k for s in steps)
        assert f"after step {k}" in root.find(f"{SVG}title").text


def test_loading_stages_cover_every_step_once_in_4_to_8_stages(sample):
    inst, p = sample
    stages = loading_stages(p)
    assert 4 <= len(stages) <= 8
    covered = [s for first, last in stages for s in range(first, last + 1)]
    assert covered == sorted(q["step"] for q in p["placements"])
    small = plan([place("A", 0, 0, 0, 10, 10, 10, 1), place("A", 10, 0, 0, 10, 10, 10, 2)])
    assert loading_stages(small) == [(1, 1), (2, 2)]
    assert loading_stages(plan([])) == []


def test_steps_svg_panels_hold_only_placements_up_to_their_stage(sample):
    inst, p = sample
    root = ET.fromstring(stuffing_steps_svg(inst, p))
    panels = [e for e in root.iter(f"{SVG}g") if e.get("class") == "stage"]
    stages = loading_stages(p)
    assert [(int(e.get("data-first-step")), int(e.get("data-last-step"))) for e in panels] == stages
    for e, (_, last) in zip(panels, stages):
        steps = [int(x.get("data-step")) for x in _packages(e)]
        assert sorted(steps) == sorted(q["step"] for q in p["placements"] if q["step"] <= last)


def test_user_text_is_escaped():
    nasty = 'BK<script>alert("x")</script>&amp;\'"'
    pid = "P<1>&"
    inst = instance([piece(pid, count=2, l=40, w=40, h=40, kg=12.5, group=nasty)], length=200, width=100,
                    height=100, code="40'HC<&>")
    p = plan([place(pid, 0, 0, 0, 40, 40, 40, 1), place(pid, 40, 0, 0, 40, 40, 40, 2)])
    svg = stuffing_svg(inst, p, title='Plan "<b>CRVU</b>" & co')
    assert "<script>" not in svg and "<b>" not in svg
    root = ET.fromstring(svg)
    assert {e.get("data-id") for e in _packages(root)} == {pid}
    assert {e.get("data-group") for e in _packages(root)} == {nasty}
    texts = "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert 'Plan "<b>CRVU</b>" & co' in texts
    assert "40'HC<&>" in texts
    ET.fromstring(stuffing_steps_svg(inst, p, title="<&>"))


def test_nearer_packages_are_drawn_after_farther_ones():
    # B nearer the door than A; C on top of A; D on the near (y = 0) side of E.
    inst = instance([piece(x) for x in "ABCDE"], length=300, width=100, height=100)
    p = plan([
        place("A", 0, 50, 0, 50, 50, 50, 1),
        place("C", 0, 50, 50, 50, 50, 50, 2),
        place("E", 50, 50, 0, 100, 50, 20, 3),
        place("D", 50, 0, 0, 30, 50, 90, 4),
        place("B", 200, 20, 0, 60, 60, 60, 5),
    ])
    root = ET.fromstring(stuffing_svg(inst, p))
    order = [e.get("data-id") for e in _packages(root)]
    pos = {x: order.index(x) for x in order}
    assert pos["A"] < pos["B"]
    assert pos["A"] < pos["C"]
    assert pos["E"] < pos["D"]
    assert pos["A"] < pos["E"]


def test_empty_plan_draws_an_empty_container():
    inst = instance([piece("A")])
    root = ET.fromstring(stuffing_svg(inst, plan([], unplaced=[("A", 1)])))
    assert _packages(root) == []


def test_picture_module_imports_only_the_standard_library():
    src = Path(__file__).resolve().parents[2] / "app" / "stuffing" / "picture.py"
    tops = set()
    for node in ast.walk(ast.parse(src.read_text())):
        if isinstance(node, ast.Import):
            tops |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            tops.add((node.module or "").split(".")[0])
    assert tops <= set(sys.stdlib_module_names) | {"__future__"}, tops
