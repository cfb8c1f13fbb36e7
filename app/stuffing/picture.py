"""Pictures of a stuffing plan: an isometric view, a top view and a side view, as SVG.

Pure functions over the FORMAT.md documents (the instance and the plan as
plain dicts); only the standard library.  Axes as everywhere in the stuffing
core: ``x`` from the front wall (0) to the door, ``y`` across, ``z`` up.

The pictures are first built as a :class:`Drawing`, a flat list of shapes in
pixel coordinates, which :meth:`Drawing.to_svg` writes out; the printed
loading plan (``paper.py``) draws the same shapes onto its pages, so the SVG
and the PDF never disagree.

Public API::

    stuffing_svg(instance, plan, *, title=None, step=None) -> str
    stuffing_steps_svg(instance, plan, *, title=None, max_stages=8) -> str
    loading_stages(plan, *, min_stages=4, max_stages=8) -> list[tuple[int, int]]

In ``stuffing_svg`` every placed package (up to ``step``) is exactly one
``<g class="pkg" data-id=… data-step=…>`` element, in the isometric view; the
top and side views draw plain rectangles without ``data-id``.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence

__all__ = [
    "Drawing",
    "group_colours",
    "legend_rows",
    "loading_stages",
    "stuffing_drawing",
    "stuffing_steps_drawing",
    "stuffing_steps_svg",
    "stuffing_svg",
]

from .drawing import (  # noqa: F401 - Drawing and group_colours are public here too
    _EPS, COG_COLOUR, GRID, INK, NO_GROUP, Drawing, _Box, _boxes, _cog, _fmt_kg, _mix, _painter_order, _project,
    _short, _weights, group_colours,
)


def _iso_view(d: Drawing, instance: dict, boxes: Sequence[_Box], colours: dict, *, x0: float, y0: float,
              w: float, h: float, highlight_from: int | None = None, tag_packages: bool = True,
              labels: bool = True, rank: dict[int, int] | None = None) -> None:
    """The container and its packages in a 3D view, fitted into the box (x0, y0, w, h)."""
    c = instance["container"]
    L, W, H = float(c["length_cm"]), float(c["width_cm"]), float(c["height_cm"])
    corners = [_project(x, y, z) for x in (0, L) for y in (0, W) for z in (0, H)]
    minx, maxx = min(p[0] for p in corners), max(p[0] for p in corners)
    miny, maxy = min(p[1] for p in corners), max(p[1] for p in corners)
    pad = 26 if labels else 6
    s = min((w - 2 * pad) / (maxx - minx), (h - 2 * pad) / (maxy - miny))
    ox = x0 + (w - (maxx - minx) * s) / 2 - minx * s
    oy = y0 + (h - (maxy - miny) * s) / 2 - miny * s

    def P(x, y, z):
        sx, sy = _project(x, y, z)
        return (ox + sx * s, oy + sy * s)

    # The far walls and the floor, lightly filled, with the floor's metre marks.
    d.open(**{"class": "container"})
    d.poly([P(0, 0, 0), P(L, 0, 0), P(L, W, 0), P(0, W, 0)], "#ececec", GRID, 0.8)
    d.poly([P(0, W, 0), P(L, W, 0), P(L, W, H), P(0, W, H)], "#f5f5f5", GRID, 0.8)
    d.poly([P(0, 0, 0), P(0, W, 0), P(0, W, H), P(0, 0, H)], "#e2e2e2", GRID, 0.8)
    m = 100.0
    while m < L - 1:
        d.line(*P(m, 0, 0), *P(m, W, 0), stroke="#d4d4d4", width=0.6)
        m += 100.0
    d.close()

    if rank is None:
        order = _painter_order(boxes)
    else:  # a painter's order of a superset, restricted, is one of this set too
        order = sorted(range(len(boxes)), key=lambda i: rank[boxes[i].idx])
    d.open(**{"class": "packages"})
    for i in order:
        b = boxes[i]
        base = colours.get(b.group, colours[None])
        faded = highlight_from is not None and b.step < highlight_from
        if faded:
            base = _mix(base, "#ffffff", 0.72)
        edge = _mix(base, "#000000", 0.25 if faded else 0.5)
        attrs = {"class": "pkg", "data_id": b.id, "data_step": b.step}
        if b.group is not None:
            attrs["data_group"] = b.group
        d.open(**attrs) if tag_packages else d.open(**{"class": "pkg"})
        d.poly([P(b.x1, b.y1, b.z2), P(b.x2, b.y1, b.z2), P(b.x2, b.y2, b.z2), P(b.x1, b.y2, b.z2)],
               _mix(base, "#ffffff", 0.3), edge)
        d.poly([P(b.x1, b.y1, b.z1), P(b.x2, b.y1, b.z1), P(b.x2, b.y1, b.z2), P(b.x1, b.y1, b.z2)],
               base, edge)
        d.poly([P(b.x2, b.y1, b.z1), P(b.x2, b.y2, b.z1), P(b.x2, b.y2, b.z2), P(b.x2, b.y1, b.z2)],
               _mix(base, "#000000", 0.18), edge)
        d.close()
    d.close()

    # The near edges of the container over the load, the door frame thicker.
    d.open(**{"class": "frame"})
    for a, b_ in (((0, 0, 0), (L, 0, 0)), ((0, 0, H), (L, 0, H)), ((0, W, H), (L, W, H)),
                  ((0, 0, 0), (0, 0, H)), ((0, 0, H), (0, W, H))):
        d.line(*P(*a), *P(*b_), stroke="#555555", width=1.0)
    door = [P(L, 0, 0), P(L, W, 0), P(L, W, H), P(L, 0, H)]
    for k in range(4):
        d.line(*door[k], *door[(k + 1) % 4], stroke=INK, width=2.6)
    d.close()
    if labels:
        bx, by = P(L, W / 2, 0)
        d.text(bx + 4, by + 16, "DOOR", 11, "start", True)
        fx, fy = P(0, W, H)
        d.text(fx - 8, fy - 8, "FRONT WALL (x = 0)", 10, "start", True, "#555555")
        ax, ay = P(L * 0.5, 0, 0)
        d.text(ax, ay + 18, f"{L:.0f} cm", 10, "middle", False, "#555555")


# --------------------------------------------------------------------------- top and side views

def _nice_step(length_cm: float, px_per_cm: float) -> float:
    for step in (25, 50, 100, 200, 250, 500, 1000, 2000):
        if step * px_per_cm >= 50:
            return float(step)
    return 5000.0


def _flat_view(d: Drawing, instance: dict, boxes: Sequence[_Box], colours: dict, cog, *, kind: str,
               x0: float, y0: float, s: float) -> float:
    """Top view (``kind="top"``: x right, y up) or side view (``"side"``: x right, z up), scale ``s`` px/cm.

    (x0, y0) is the top-left corner of the container outline; returns its height in px.
    """
    c = instance["container"]
    L = float(c["length_cm"])
    V = float(c["width_cm"] if kind == "top" else c["height_cm"])
    hpx = V * s
    d.open(**{"class": f"{kind}-view"})
    d.rect(x0, y0, L * s, hpx, "#f4f4f4", None)
    if kind == "top":
        seq = sorted(boxes, key=lambda b: (b.z2, b.z1))  # higher packages over lower ones
        span = lambda b: (b.y1, b.y2)
    else:
        seq = sorted(boxes, key=lambda b: (-b.y1, -b.y2))  # nearer (y = 0 side) over farther
        span = lambda b: (b.z1, b.z2)
    for b in seq:
        base = colours.get(b.group, colours[None])
        v1, v2 = span(b)
        d.rect(x0 + b.x1 * s, y0 + hpx - v2 * s, (b.x2 - b.x1) * s, (v2 - v1) * s, base,
               _mix(base, "#000000", 0.5), 0.5)
    # Centre lines, outline, door.
    d.line(x0 + L / 2 * s, y0, x0 + L / 2 * s, y0 + hpx, stroke="#666666", width=0.8, dashed=True)
    if kind == "top":
        d.line(x0, y0 + hpx / 2, x0 + L * s, y0 + hpx / 2, stroke="#666666", width=0.8, dashed=True)
    for a, b_ in (((x0, y0), (x0 + L * s, y0)), ((x0, y0 + hpx), (x0 + L * s, y0 + hpx)),
                  ((x0, y0), (x0, y0 + hpx))):
        d.line(*a, *b_, stroke="#444444", width=1.2)
    d.line(x0 + L * s, y0, x0 + L * s, y0 + hpx, stroke=INK, width=3.0)
    # Centre of gravity.
    if cog is not None:
        cx, cv = cog[0], (cog[1] if kind == "top" else cog[2])
        px, py = x0 + cx * s, y0 + hpx - cv * s
        d.circle(px, py, 6.5, "#ffffff", COG_COLOUR, 2.0)
        d.line(px - 10, py, px + 10, py, stroke=COG_COLOUR, width=1.6)
        d.line(px, py - 10, px, py + 10, stroke=COG_COLOUR, width=1.6)
        d.text(px + 10, py - 8, "CoG", 10, "start", True, COG_COLOUR)
    # Axes: x below the view, the other axis to the left.
    tick = _nice_step(L, s)
    v = 0.0
    while v <= L + _EPS:
        d.line(x0 + v * s, y0 + hpx, x0 + v * s, y0 + hpx + 4, stroke="#444444", width=0.8)
        d.text(x0 + v * s, y0 + hpx + 15, f"{v:.0f}", 9, "middle", False, "#444444")
        v += tick
    vt = _nice_step(V, s)
    v = 0.0
    while v <= V + _EPS:
        d.line(x0 - 4, y0 + hpx - v * s, x0, y0 + hpx - v * s, stroke="#444444", width=0.8)
        d.text(x0 - 6, y0 + hpx - v * s + 3, f"{v:.0f}", 9, "end", False, "#444444")
        v += vt
    axis = "y (cm, across)" if kind == "top" else "z (cm, up)"
    d.text(x0 - 34, y0 + hpx / 2, axis, 9, "middle", False, "#444444", -90.0)
    d.text(x0 + L * s, y0 + hpx + 28, "x (cm, from the front wall) \u2192 door", 9, "end", False, "#444444")
    name = "Top view (from above)" if kind == "top" else "Side view (from the y = 0 side)"
    d.text(x0, y0 - 6, name, 11, "start", True)
    d.text(x0 + L * s, y0 - 6, "DOOR", 10, "end", True)
    d.close()
    return hpx


# --------------------------------------------------------------------------- legend and caption

def legend_rows(instance: dict, boxes: Sequence[_Box]) -> list[tuple[str | None, int, float]]:
    w = _weights(instance)
    count: dict[str | None, int] = defaultdict(int)
    kg: dict[str | None, float] = defaultdict(float)
    for b in boxes:
        count[b.group] += 1
        kg[b.group] += w.get(b.id, 0.0)
    return [(g, count[g], kg[g]) for g in sorted(count, key=_group_sort_key)]


def _group_sort_key(g: str | None) -> tuple:
    """Bookings by reference, numbers in them by value (BK2 before BK10); no booking last."""
    if g is None:
        return (1, ())
    return (0, tuple((0, int(t), "") if t.isdigit() else (1, 0, t.casefold()) for t in re.split(r"(\d+)", g)))


def _legend(d: Drawing, instance: dict, boxes: Sequence[_Box], colours: dict, *, x0: float, y0: float,
            max_h: float) -> None:
    rows = legend_rows(instance, boxes)
    d.open(**{"class": "legend"})
    d.text(x0, y0, "Booking", 11, "start", True)
    d.text(x0 + 218, y0, "pkgs", 11, "end", True)
    d.text(x0 + 290, y0, "weight", 11, "end", True)
    y = y0 + 8
    row_h = 19
    fit = max(1, int((max_h - 30) // row_h))
    shown = rows if len(rows) <= fit else rows[: fit - 1]
    for g, n, kg in shown:
        colour = colours.get(g, colours[None])
        d.rect(x0, y + 3, 14, 13, colour, _mix(colour, "#000000", 0.5), 0.8)
        d.open(**{"class": "legend-row", "data_group": "" if g is None else g})
        d.text(x0 + 20, y + 14, _short(NO_GROUP if g is None else g, 20), 11)
        d.close()
        d.text(x0 + 218, y + 14, str(n), 11, "end")
        d.text(x0 + 290, y + 14, _fmt_kg(kg), 11, "end")
        y += row_h
    if len(shown) < len(rows):
        rest = rows[len(shown):]
        d.text(x0 + 20, y + 14, f"+ {len(rest)} more bookings", 11, "start", False, "#555555")
        d.text(x0 + 218, y + 14, str(sum(r[1] for r in rest)), 11, "end")
        d.text(x0 + 290, y + 14, _fmt_kg(sum(r[2] for r in rest)), 11, "end")
        y += row_h
    d.line(x0, y + 6, x0 + 290, y + 6, stroke="#888888", width=0.8)
    d.text(x0 + 20, y + 21, "Total", 11, "start", True)
    d.text(x0 + 218, y + 21, str(len(boxes)), 11, "end", True)
    d.text(x0 + 290, y + 21, _fmt_kg(sum(r[2] for r in rows)), 11, "end", True)
    d.close()


def _caption(instance: dict, plan: dict, boxes: Sequence[_Box], cog, step: int | None) -> list[str]:
    c = instance["container"]
    L, W, H = float(c["length_cm"]), float(c["width_cm"]), float(c["height_cm"])
    vol = sum((b.x2 - b.x1) * (b.y2 - b.y1) * (b.z2 - b.z1) for b in boxes)
    w = _weights(instance)
    kg = sum(w.get(b.id, 0.0) for b in boxes)
    payload = float(c.get("payload_kg") or 0)
    total = len(plan.get("placements", []))
    left_out = sum(int(u.get("count", 0)) for u in plan.get("unplaced", []) or [])
    first = (f"{c['code']} ({L:.0f} \u00d7 {W:.0f} \u00d7 {H:.0f} cm)  \u00b7  "
             f"volume used {100 * vol / (L * W * H):.1f} %  \u00b7  {_fmt_kg(kg)}"
             + (f" of {_fmt_kg(payload)} payload" if payload else ""))
    if step is not None:
        first += f"  \u00b7  after step {step}: {len(boxes)} of {total} packages in"
    else:
        first += f"  \u00b7  {len(boxes)} packages" + (f", {left_out} left out" if left_out else "")
    second = "centre of gravity: \u2014"
    if cog is not None:
        second = (f"centre of gravity x {cog[0]:.0f} cm ({cog[0] - L / 2:+.0f} from the middle), "
                  f"y {cog[1]:.0f} cm ({cog[1] - W / 2:+.0f}), z {cog[2]:.0f} cm above the floor"
                  ).replace("(-0", "(\u00b10").replace("(+0", "(\u00b10")
    return [first, second]


# --------------------------------------------------------------------------- public

def stuffing_drawing(instance: dict, plan: dict, *, title: str | None = None, step: int | None = None,
                     legend: bool = True) -> Drawing:
    """The full picture (caption, isometric view, legend, top and side views) as a :class:`Drawing`.

    ``legend=False`` leaves the legend out and gives its room to the isometric view
    (the printed plan lists the bookings in a table instead).
    """
    c = instance["container"]
    L, W, H = float(c["length_cm"]), float(c["width_cm"]), float(c["height_cm"])
    colours = group_colours(instance)
    boxes = _boxes(instance, plan, step)
    cog = _cog(instance, boxes)
    width = 1200.0
    left = 62.0
    s = min((width - left - 40) / L, 250.0 / max(W, H))
    iso_h = 430.0 if legend else 500.0
    top_y = 70 + iso_h + 40
    side_y = top_y + W * s + 70
    height = side_y + H * s + 46
    d = Drawing(width, height)
    heading = title or f"Stuffing plan \u2014 {c['code']}"
    if step is not None:
        heading += f" \u2014 after step {step}"
    d.text(20, 30, heading, 20, "start", True)
    for k, line in enumerate(_caption(instance, plan, boxes, cog, step)):
        d.text(20, 52 + 16 * k, line, 12, "start", False, "#333333")
    if legend:
        _iso_view(d, instance, boxes, colours, x0=10, y0=80, w=860, h=iso_h)
        _legend(d, instance, boxes, colours, x0=888, y0=110, max_h=iso_h - 40)
    else:
        _iso_view(d, instance, boxes, colours, x0=10, y0=80, w=width - 20, h=iso_h)
    _flat_view(d, instance, boxes, colours, cog, kind="top", x0=left, y0=top_y, s=s)
    _flat_view(d, instance, boxes, colours, cog, kind="side", x0=left, y0=side_y, s=s)
    return d


def stuffing_svg(instance: dict, plan: dict, *, title: str | None = None, step: int | None = None) -> str:
    """One SVG document: isometric view, legend, top and side views, caption.

    ``step=k`` draws only the placements with ``step <= k`` (what is in after step k).
    """
    heading = title or f"Stuffing plan {instance['container']['code']}"
    if step is not None:
        heading += f" \u2014 after step {step}"
    return stuffing_drawing(instance, plan, title=title, step=step).to_svg(title=heading)


def loading_stages(plan: dict, *, min_stages: int = 4, max_stages: int = 8) -> list[tuple[int, int]]:
    """Consecutive loading steps grouped into stages ``(first_step, last_step)``, about one per wall.

    Aims at ``max_stages`` equal stages and moves each cut to the nearby step
    where a new wall begins (the next package starts further towards the
    door, back on the floor).  Fewer packages than ``min_stages`` give one
    stage per package.
    """
    ps = sorted(plan.get("placements", []), key=lambda p: p["step"])
    n = len(ps)
    if n == 0:
        return []
    k = max(1, min(max_stages, n, max(min_stages, round(n / 12))))
    if k == 1:
        return [(ps[0]["step"], ps[-1]["step"])]

    def score(i: int) -> float:  # cut between ps[i-1] and ps[i]
        a, b = ps[i - 1], ps[i]
        return (float(b["x_cm"]) - float(a["x_cm"])) + 0.5 * (float(a["z_cm"]) - float(b["z_cm"]))

    cuts: list[int] = []
    for j in range(1, k):
        ideal = round(n * j / k)
        lo = max((cuts[-1] + 1) if cuts else 1, ideal - n // (2 * k))
        hi = min(n - 1, ideal + n // (2 * k))
        if lo > hi:
            continue
        best = max(range(lo, hi + 1), key=lambda i: (score(i), -abs(i - ideal)))
        cuts.append(best)
    bounds = [0, *cuts, n]
    return [(ps[bounds[t]]["step"], ps[bounds[t + 1] - 1]["step"])
            for t in range(len(bounds) - 1) if bounds[t + 1] > bounds[t]]


def stuffing_steps_drawing(instance: dict, plan: dict, *, title: str | None = None,
                           max_stages: int = 8, columns: int = 2) -> Drawing:
    """The loading stages as panels: each shows what is in after the stage, its new packages in colour."""
    c = instance["container"]
    colours = group_colours(instance)
    stages = loading_stages(plan, max_stages=max_stages)
    panel_w, panel_h = 590.0, 300.0
    rows = max(1, math.ceil(len(stages) / columns))
    d = Drawing(20 + columns * panel_w, 56 + rows * panel_h)
    d.text(20, 30, (title or f"Stuffing plan \u2014 {c['code']}") + " \u2014 loading stages", 18, "start", True)
    total = len(plan.get("placements", []))
    everything = _boxes(instance, plan, None)
    rank = {everything[i].idx: r for r, i in enumerate(_painter_order(everything))}
    for t, (first, last) in enumerate(stages):
        px = 10 + (t % columns) * panel_w
        py = 46 + (t // columns) * panel_h
        boxes = _boxes(instance, plan, last)
        new = [b for b in boxes if b.step >= first]
        d.open(**{"class": "stage", "data_stage": t + 1, "data_first_step": first, "data_last_step": last})
        d.rect(px + 4, py + 4, panel_w - 8, panel_h - 8, "#ffffff", "#cccccc", 1.0)
        groups = sorted({NO_GROUP if b.group is None else b.group for b in new})
        d.text(px + 16, py + 26, f"Stage {t + 1}: steps {first}\u2013{last}", 13, "start", True)
        d.text(px + 16, py + 44, _short(f"{len(new)} packages ({', '.join(groups)}); "
                                        f"{len(boxes)} of {total} in", 80), 10, "start", False, "#444444")
        _iso_view(d, instance, boxes, colours, x0=px + 6, y0=py + 50, w=panel_w - 12, h=panel_h - 58,
                  highlight_from=first, labels=False, rank=rank)
        d.close()
    return d


def stuffing_steps_svg(instance: dict, plan: dict, *, title: str | None = None, max_stages: int = 8) -> str:
    """One SVG document with a panel per loading stage (see :func:`loading_stages`).

    Panel ``<g class="stage" data-first-step data-last-step>`` holds the
    packages with ``step <= data-last-step``; earlier stages' packages are faded.
    """
    heading = (title or f"Stuffing plan {instance['container']['code']}") + " \u2014 loading stages"
    return stuffing_steps_drawing(instance, plan, title=title, max_stages=max_stages).to_svg(title=heading)
