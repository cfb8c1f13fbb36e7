"""The drawing under the stuffing pictures: colours by booking, a flat list of shapes (``Drawing``) that
becomes SVG or PDF, the packages as boxes, and the isometric projection with its painter's order
(nearer packages hide farther ones). Only the standard library."""

from __future__ import annotations

import colorsys
import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

FONT = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
NO_GROUP = "(no booking)"

# Tableau 10 (a qualitative palette made to be told apart), then golden-angle hues.
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
           "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
INK = "#222222"
GRID = "#9a9a9a"
COG_COLOUR = "#c0392b"

# View direction: from the door end, on the y = 0 side, from above.
_THETA = math.radians(65.0)  # 90° would look straight at the long side
_PHI = math.radians(24.0)  # elevation
_EPS = 1e-6


# --------------------------------------------------------------------------- colours

def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c * 255))):02x}" for c in rgb)


def _rgb(colour: str) -> tuple[float, float, float]:
    c = colour.lstrip("#")
    return tuple(int(c[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _mix(colour: str, other: str, t: float) -> str:
    a, b = _rgb(colour), _rgb(other)
    return _hex([x + (y - x) * t for x, y in zip(a, b)])


def _palette_colour(i: int) -> str:
    if i < len(PALETTE):
        return PALETTE[i]
    hue = ((i - len(PALETTE)) * 0.381966 + 0.07) % 1.0
    light = (0.55, 0.68, 0.45)[(i - len(PALETTE)) % 3]
    return _hex(colorsys.hls_to_rgb(hue, light, 0.55))


def group_colours(instance: dict) -> dict[str | None, str]:
    """Colour of each group (booking), in the order the groups first appear in the instance.

    The same instance always gives the same colours; packages with no group are grey.
    """
    out: dict[str | None, str] = {}
    for piece in instance.get("pieces", []):
        g = piece.get("group")
        if g is None:
            continue
        if g not in out:
            out[g] = _palette_colour(len(out))
    out[None] = "#a0a0a0"
    return out


# --------------------------------------------------------------------------- drawing

@dataclass
class Drawing:
    """Shapes in pixel coordinates (y down); written as SVG or drawn on a PDF page.

    Each item is a tuple whose first element names the kind:
    ``("poly", points, fill, stroke, stroke_width)``,
    ``("line", x1, y1, x2, y2, stroke, width, dashed)``,
    ``("text", x, y, text, size, anchor, bold, fill, angle)``,
    ``("circle", cx, cy, r, fill, stroke, width)``,
    ``("open", attrs)`` / ``("close",)`` (an SVG group; a PDF ignores it).
    """

    width: float
    height: float
    items: list[tuple] = field(default_factory=list)

    def poly(self, pts: Iterable[tuple[float, float]], fill: str, stroke: str | None = None, sw: float = 0.6):
        self.items.append(("poly", [(round(x, 2), round(y, 2)) for x, y in pts], fill, stroke, sw))

    def rect(self, x: float, y: float, w: float, h: float, fill: str, stroke: str | None = None, sw: float = 0.6):
        self.poly([(x, y), (x + w, y), (x + w, y + h), (x, y + h)], fill, stroke, sw)

    def line(self, x1, y1, x2, y2, stroke: str = INK, width: float = 1.0, dashed: bool = False):
        self.items.append(("line", round(x1, 2), round(y1, 2), round(x2, 2), round(y2, 2), stroke, width, dashed))

    def text(self, x, y, s: str, size: float = 11, anchor: str = "start", bold: bool = False,
             fill: str = INK, angle: float = 0.0):
        self.items.append(("text", round(x, 2), round(y, 2), str(s), size, anchor, bold, fill, angle))

    def circle(self, cx, cy, r, fill: str, stroke: str = INK, width: float = 1.0):
        self.items.append(("circle", round(cx, 2), round(cy, 2), r, fill, stroke, width))

    def open(self, **attrs: Any):
        self.items.append(("open", attrs))

    def close(self):
        self.items.append(("close",))

    def to_svg(self, *, title: str | None = None) -> str:
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width:g}" height="{self.height:g}" '
            f'viewBox="0 0 {self.width:g} {self.height:g}" font-family={quoteattr(FONT)}>',
        ]
        if title:
            out.append(f"<title>{escape(title)}</title>")
        out.append(f'<rect x="0" y="0" width="{self.width:g}" height="{self.height:g}" fill="#ffffff"/>')
        for item in self.items:
            kind = item[0]
            if kind == "poly":
                _, pts, fill, stroke, sw = item
                d = " ".join(f"{x:g},{y:g}" for x, y in pts)
                s = f' stroke="{stroke}" stroke-width="{sw:g}" stroke-linejoin="round"' if stroke else ""
                out.append(f'<polygon points="{d}" fill="{fill}"{s}/>')
            elif kind == "line":
                _, x1, y1, x2, y2, stroke, w, dashed = item
                dash = ' stroke-dasharray="5,4"' if dashed else ""
                out.append(f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="{stroke}" '
                           f'stroke-width="{w:g}"{dash}/>')
            elif kind == "text":
                _, x, y, s, size, anchor, bold, fill, angle = item
                extra = ' font-weight="bold"' if bold else ""
                if angle:
                    extra += f' transform="rotate({angle:g} {x:g} {y:g})"'
                out.append(f'<text x="{x:g}" y="{y:g}" font-size="{size:g}" text-anchor="{anchor}" '
                           f'fill="{fill}"{extra}>{escape(s)}</text>')
            elif kind == "circle":
                _, cx, cy, r, fill, stroke, w = item
                out.append(f'<circle cx="{cx:g}" cy="{cy:g}" r="{r:g}" fill="{fill}" stroke="{stroke}" '
                           f'stroke-width="{w:g}"/>')
            elif kind == "open":
                attrs = "".join(f" {k.replace('_', '-')}={quoteattr(str(v))}" for k, v in item[1].items())
                out.append(f"<g{attrs}>")
            elif kind == "close":
                out.append("</g>")
        out.append("</svg>")
        return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- documents

@dataclass(frozen=True)
class _Box:
    id: str
    step: int
    x1: float
    y1: float
    z1: float
    x2: float
    y2: float
    z2: float
    group: str | None
    idx: int = 0  # index in the plan's placements


def _boxes(instance: dict, plan: dict, step: int | None) -> list[_Box]:
    group_of = {p["id"]: p.get("group") for p in instance.get("pieces", [])}
    out = []
    for idx, p in enumerate(plan.get("placements", [])):
        s = int(p.get("step", 0))
        if step is not None and s > step:
            continue
        x, y, z = float(p["x_cm"]), float(p["y_cm"]), float(p["z_cm"])
        out.append(_Box(str(p["id"]), s, x, y, z, x + float(p["length_cm"]), y + float(p["width_cm"]),
                        z + float(p["height_cm"]), group_of.get(p["id"]), idx))
    return out


def _weights(instance: dict) -> dict[str, float]:
    return {p["id"]: float(p.get("weight_kg", 0.0)) for p in instance.get("pieces", [])}


def _fmt_kg(kg: float) -> str:
    return f"{kg:,.0f} kg".replace(",", "\u202f") if kg >= 100 else f"{kg:,.1f} kg"


def _fmt_cm(v: float) -> str:
    return f"{v:.0f}"


def _cog(instance: dict, boxes: Sequence[_Box]) -> tuple[float, float, float] | None:
    if not boxes:
        return None
    w = _weights(instance)
    mass = [w.get(b.id, 0.0) for b in boxes]
    if sum(mass) <= 0:
        mass = [(b.x2 - b.x1) * (b.y2 - b.y1) * (b.z2 - b.z1) for b in boxes]
    total = sum(mass)
    return (sum(m * (b.x1 + b.x2) / 2 for m, b in zip(mass, boxes)) / total,
            sum(m * (b.y1 + b.y2) / 2 for m, b in zip(mass, boxes)) / total,
            sum(m * (b.z1 + b.z2) / 2 for m, b in zip(mass, boxes)) / total)


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "\u2026"


# --------------------------------------------------------------------------- isometric view

def _project(x: float, y: float, z: float) -> tuple[float, float]:
    st, ct, sp, cp = math.sin(_THETA), math.cos(_THETA), math.sin(_PHI), math.cos(_PHI)
    return (x * st + y * ct, x * sp * ct - y * sp * st - z * cp)


def _behind(a: _Box, b: _Box) -> bool:
    """True when ``a`` must be painted before ``b`` (the viewer is at +x, -y, +z)."""
    return a.x2 <= b.x1 + _EPS or a.y1 >= b.y2 - _EPS or a.z2 <= b.z1 + _EPS


def _painter_order(boxes: Sequence[_Box]) -> list[int]:
    """Indices of ``boxes`` farthest first, so that nearer packages hide farther ones.

    For every pair whose screen outlines may overlap, the separating plane
    between the two boxes says which is behind; a topological sort of those
    relations (ties and the rare cycle broken by depth) gives the order.
    """
    n = len(boxes)
    if n == 0:
        return []
    st, ct, sp, cp = math.sin(_THETA), math.cos(_THETA), math.sin(_PHI), math.cos(_PHI)
    # Depth towards the viewer: larger is nearer.
    dvec = (cp * ct, -cp * st, sp)
    depth = [((b.x1 + b.x2) * dvec[0] + (b.y1 + b.y2) * dvec[1] + (b.z1 + b.z2) * dvec[2]) / 2 for b in boxes]
    bbs = []
    for b in boxes:
        xs = []
        ys = []
        for x in (b.x1, b.x2):
            for y in (b.y1, b.y2):
                for z in (b.z1, b.z2):
                    sx, sy = _project(x, y, z)
                    xs.append(sx)
                    ys.append(sy)
        bbs.append((min(xs), min(ys), max(xs), max(ys)))
    span = max(max(bb[2] for bb in bbs) - min(bb[0] for bb in bbs),
               max(bb[3] for bb in bbs) - min(bb[1] for bb in bbs), 1.0)
    cell = max(span / 48, 1.0)
    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (x0, y0, x1, y1) in enumerate(bbs):
        for gx in range(int(x0 // cell), int(x1 // cell) + 1):
            for gy in range(int(y0 // cell), int(y1 // cell) + 1):
                grid[(gx, gy)].append(i)
    after: list[set[int]] = [set() for _ in range(n)]
    indegree = [0] * n
    seen: set[tuple[int, int]] = set()
    for members in grid.values():
        for ai in range(len(members)):
            i = members[ai]
            bi_ = bbs[i]
            for bj in range(ai + 1, len(members)):
                j = members[bj]
                key = (i, j) if i < j else (j, i)
                if key in seen:
                    continue
                seen.add(key)
                bj_ = bbs[j]
                if bi_[2] <= bj_[0] + 0.01 or bj_[2] <= bi_[0] + 0.01 or \
                        bi_[3] <= bj_[1] + 0.01 or bj_[3] <= bi_[1] + 0.01:
                    continue
                ij, ji = _behind(boxes[i], boxes[j]), _behind(boxes[j], boxes[i])
                if ij and not ji:
                    if j not in after[i]:
                        after[i].add(j)
                        indegree[j] += 1
                elif ji and not ij:
                    if i not in after[j]:
                        after[j].add(i)
                        indegree[i] += 1
    ready = [(depth[i], i) for i in range(n) if indegree[i] == 0]
    heapq.heapify(ready)
    done = [False] * n
    order: list[int] = []
    rest = sorted(range(n), key=lambda k: depth[k])
    pos = 0
    while len(order) < n:
        if not ready:  # a cycle (interlocking outlines): take the farthest left over
            while done[rest[pos]]:
                pos += 1
            k = rest[pos]
            indegree[k] = 0
            heapq.heappush(ready, (depth[k], k))
        _, i = heapq.heappop(ready)
        if done[i]:
            continue
        done[i] = True
        order.append(i)
        for j in after[i]:
            indegree[j] -= 1
            if indegree[j] == 0 and not done[j]:
                heapq.heappush(ready, (depth[j], j))
    return order
