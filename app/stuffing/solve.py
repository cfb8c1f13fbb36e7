"""Block-building solver with full support and a front-wall-to-door loading order.

Boxes of one piece line in one orientation are grouped into homogeneous
blocks (nx × ny × nz).  A load is built by repeatedly taking the free space
nearest the front wall (then lowest, then leftmost), putting a block in its
corner and splitting what is left into three disjoint spaces: above the
block (exactly its footprint, so everything stands on a full surface), beside
it and towards the door.  Every placement is therefore fully supported, which
keeps rule 4 for any ``support_ratio``; non-stackable blocks are one layer
high and get no space above them.

The search runs greedy constructions with a look-ahead (each candidate block
for the current space is judged by the volume a greedy completion reaches)
and randomised restarts until the time limit, keeping the best valid plan.
"""

from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass, replace

import numpy as np

from .check import check_stuffing
from .gaps import fill_gaps
from .io import build_plan
from .model import AREA_EPS, EPS, Instance, Placement, Plan
from .steps import assign_steps

__all__ = ["solve", "DEFAULT_TIME_LIMIT_S"]

DEFAULT_TIME_LIMIT_S = 5.0
KEEP_CONFIGS = 6
_DEBUG = bool(os.environ.get("CARAVAN_STUFFING_DEBUG"))
MAX_BLOCKS = 4_000


@dataclass(frozen=True, slots=True)
class Block:
    volume: float
    dx: float
    dy: float
    dz: float
    kind: int  # index of the piece line
    n: int
    weight: float
    nx: int
    ny: int
    nz: int
    l: float  # one box along x, y, z
    w: float
    h: float
    stack: bool = True  # may carry more on top
    kind2: int = -1  # a composite of two lines: the second line and how many of it
    n2: int = 0
    parts: tuple = ()  # a composite: ((simple block, dx, dy, dz), ...) offsets from its corner

    def need(self) -> list[tuple[int, int]]:
        return [(self.kind, self.n)] + ([(self.kind2, self.n2)] if self.n2 else [])


def _blocks(inst: Instance) -> list[Block]:
    """Homogeneous blocks of each piece line, at most ``MAX_BLOCKS`` in all.

    A line with too many shapes keeps its small blocks (they fill gaps) and its
    largest ones (they fill the container fast)."""
    c = inst.container
    quota = max(40, MAX_BLOCKS // max(1, len(inst.pieces)))
    blocks: list[Block] = []
    for k, piece in enumerate(inst.pieces):
        # Shapes first as plain tuples (n, volume, nx, ny, nz, l, w, h); a Block only for those kept.
        shapes: dict[tuple, tuple] = {}
        for l, w, h in piece.orientations():
            if l > c.length_cm + EPS or w > c.width_cm + EPS or h > c.height_cm + EPS:
                continue
            mx = min(piece.count, int((c.length_cm + EPS) // l))
            my = min(piece.count, int((c.width_cm + EPS) // w))
            mz = 1 if not piece.stackable else min(piece.count, int((c.height_cm + EPS) // h))
            for nz in range(1, mz + 1):
                for ny in range(1, my + 1):
                    if ny * nz > piece.count:
                        break
                    for nx in range(1, min(mx, piece.count // (ny * nz)) + 1):
                        key = (round(nx * l, 6), round(ny * w, 6), round(nz * h, 6))
                        if key not in shapes:
                            n = nx * ny * nz
                            shapes[key] = (n, n * piece.volume, nx, ny, nz, l, w, h)
        mine = sorted(shapes.values(), key=lambda t: (t[0], -t[1]))
        if len(mine) > quota:
            small, rest = mine[: quota // 2], mine[quota // 2:]
            rest.sort(key=lambda t: -t[1])
            mine = small + rest[: quota - len(small)]
        blocks.extend(Block(volume, nx * l, ny * w, nz * h, k, n, n * piece.weight_kg, nx, ny, nz, l, w, h,
                            piece.stackable) for n, volume, nx, ny, nz, l, w, h in mine)
    blocks.extend(_composites(inst, blocks))
    return sorted(blocks, key=lambda b: (-b.volume, b.dz, -b.dx))


MAX_COMPOSITES = 2_000


def _composites(inst: Instance, simple: list[Block]) -> list[Block]:
    """General blocks: two blocks that together make an exact cuboid (same cross-section side by side,
    or the same footprint one on the other), so their top is one flat surface.

    Mixed piece lines meet exactly more often than one expects (2 x 40 = 80); the guillotine-cut
    instances are made of nothing else."""
    c = inst.container
    counts = [p.count for p in inst.pieces]
    seen = {(round(b.dx, 6), round(b.dy, 6), round(b.dz, 6), b.kind, b.n) for b in simple}
    out: list[Block] = []
    for axis in range(3):
        groups: dict[tuple, list[Block]] = {}
        for b in simple:
            dims = (b.dx, b.dy, b.dz)
            key = tuple(round(d, 6) for i, d in enumerate(dims) if i != axis)
            if axis == 2 and not b.stack:
                pass  # may still be the upper one
            groups.setdefault(key, []).append(b)
        for members in groups.values():
            if len(members) < 2:
                continue
            members = sorted(members, key=lambda b: -b.volume)[:60]
            for i, a in enumerate(members):
                for b in members[i:]:
                    if a.kind == b.kind and a.l == b.l and a.w == b.w and a.h == b.h:
                        continue  # one line in one orientation: already a simple block
                    if axis == 2 and not a.stack and not b.stack:
                        continue
                    lower, upper = (a, b) if a.stack else (b, a)
                    if axis == 2:
                        first, second = lower, upper
                    else:
                        first, second = a, b
                    size = [first.dx, first.dy, first.dz]
                    size[axis] += (second.dx, second.dy, second.dz)[axis]
                    if size[0] > c.length_cm + EPS or size[1] > c.width_cm + EPS or size[2] > c.height_cm + EPS:
                        continue
                    if first.kind == second.kind:
                        need = [(first.kind, first.n + second.n)]
                    else:
                        need = [(first.kind, first.n), (second.kind, second.n)]
                    if any(n > counts[k] for k, n in need):
                        continue
                    key = (round(size[0], 6), round(size[1], 6), round(size[2], 6)) + tuple(sorted(need))
                    if key in seen:
                        continue
                    seen.add(key)
                    offset = [0.0, 0.0, 0.0]
                    offset[axis] = (first.dx, first.dy, first.dz)[axis]
                    (k1, n1), (k2, n2) = need[0], (need[1] if len(need) > 1 else (-1, 0))
                    stack = first.stack and second.stack
                    out.append(Block(
                        first.volume + second.volume, size[0], size[1], size[2], k1, n1,
                        first.weight + second.weight, 1, 1, 1, size[0], size[1], size[2], stack, k2, n2,
                        ((first, 0.0, 0.0, 0.0), (second, offset[0], offset[1], offset[2])),
                    ))
                    if len(out) >= MAX_COMPOSITES * 4:
                        break
    out.sort(key=lambda b: -b.volume)
    return out[:MAX_COMPOSITES]


# A free space: (x, y, z, size x, size y, size z)
Space = tuple[float, float, float, float, float, float]


class _Arrays:
    """The blocks' figures as numpy vectors, so that finding what fits a space is a few vector operations."""

    def __init__(self, blocks: list[Block], stackable: list[bool]):
        self.dx = np.array([b.dx for b in blocks], dtype=float)
        self.dy = np.array([b.dy for b in blocks], dtype=float)
        self.dz = np.array([b.dz for b in blocks], dtype=float)
        self.kind = np.array([b.kind for b in blocks], dtype=np.int64)
        self.n = np.array([b.n for b in blocks], dtype=np.int64)
        self.kind2 = np.array([max(b.kind2, 0) for b in blocks], dtype=np.int64)
        self.n2 = np.array([b.n2 for b in blocks], dtype=np.int64)
        self.weight = np.array([b.weight for b in blocks], dtype=float)
        self.volume = np.array([b.volume for b in blocks], dtype=float)
        self.box = np.array([max(p.l * p.w * p.h for p, *_ in b.parts) if b.parts else b.l * b.w * b.h
                             for b in blocks], dtype=float)
        # footprint of non-stackable blocks (what they waste above them is footprint x headroom), else 0
        self.flat = np.array([0.0 if b.stack else b.dx * b.dy for b in blocks], dtype=float)


class _State:
    __slots__ = ("avail", "payload", "spaces", "placed", "volume")

    def __init__(self, avail: list[int], payload: float, spaces: list[Space]):
        self.avail = avail
        self.payload = payload
        self.spaces = spaces
        self.placed: list[tuple[Block, float, float, float]] = []
        self.volume = 0.0

    def copy(self) -> "_State":
        s = _State(self.avail[:], self.payload, self.spaces[:])
        s.placed = self.placed[:]
        s.volume = self.volume
        return s


class _Search:
    def __init__(self, inst: Instance, deadline: float, rng: random.Random):
        self.inst = inst
        self.blocks = _blocks(inst)
        self.deadline = deadline
        self.rng = rng
        self.stackable = [p.stackable for p in inst.pieces]
        self.ratio = inst.support_ratio
        self.total_volume = sum(p.volume * p.count for p in inst.pieces)
        self.waste_weight = 1.0
        self.big_first = False  # rank by the package's size first (pallets and crates before cartons)
        self.arrays = _Arrays(self.blocks, self.stackable)
        self.bonus: np.ndarray | None = None  # per line: preference for lines the best plan so far leaves out
        self.max_dx = inst.container.length_cm  # blocks no longer than this (walls rather than long strips)
        self.min_dim = [min(min(o) for o in p.orientations()) for p in inst.pieces]

    def start(self) -> _State:
        c = self.inst.container
        return _State([p.count for p in self.inst.pieces], c.payload_kg,
                      [(0.0, 0.0, 0.0, c.length_cm, c.width_cm, c.height_cm)])

    def next_space(self, st: _State) -> Space | None:
        """Pop the free space nearest the front wall, then the floor; drop those nothing fits in."""
        while st.spaces:
            i = min(range(len(st.spaces)), key=lambda j: (st.spaces[j][0], st.spaces[j][2], st.spaces[j][1]))
            s = st.spaces.pop(i)
            smallest = min((self.min_dim[k] for k, a in enumerate(st.avail) if a), default=None)
            if smallest is None:
                st.spaces.clear()
                return None
            if s[3] + EPS >= smallest and s[4] + EPS >= smallest and s[5] + EPS >= smallest:
                return s
        return None

    def candidates(self, st: _State, s: Space, k: int) -> list[Block]:
        """The ``k`` best blocks for space ``s``: most volume, less what a non-stackable block wastes above it.

        With a support ratio under 1 a block may overhang a raised space (towards the door and
        across) as long as that share of its base stands on the space's floor and the overhang is free.
        """
        x, y, z, X, Y, Z = s
        c = self.inst.container
        X = min(X, self.max_dx) + EPS
        Y += EPS
        Z += EPS
        r = self.ratio
        if r < 1 - EPS and z > EPS:
            Xo = min(X / r, c.length_cm - x + EPS, self.max_dx + EPS)
            Yo = min(Y / r, c.width_cm - y + EPS)
        else:
            Xo, Yo = X, Y
        a = self.arrays
        avail = np.asarray(st.avail)
        mask = (a.dx <= Xo) & (a.dy <= Yo) & (a.dz <= Z) & (avail[a.kind] >= a.n) & (avail[a.kind2] >= a.n2) \
            & (a.weight <= st.payload + 1e-9)
        idx = np.flatnonzero(mask)
        if not idx.size:
            return []
        fit = a.volume[idx] - a.flat[idx] * (Z - a.dz[idx]) * self.waste_weight
        if self.bonus is not None:
            fit = fit + a.volume[idx] * (self.bonus[a.kind[idx]] + self.bonus[a.kind2[idx]] * (a.n2[idx] > 0))
        order = np.lexsort((-fit, -a.box[idx])) if self.big_first else np.argsort(-fit, kind="stable")
        out: list[Block] = []
        blocks = self.blocks
        for i in idx[order]:
            b = blocks[i]
            if (b.dx > X or b.dy > Y) and (
                    bool(b.parts)  # composites do not overhang
                    # or the box at the overhanging corner is the least supported one
                    or min(max(X - (b.nx - 1) * b.l, 0.0), b.l) * min(max(Y - (b.ny - 1) * b.w, 0.0), b.w)
                    < r * b.l * b.w - AREA_EPS
                    or not self.free(st, x, y, z, b)):
                continue
            out.append(b)
            if len(out) >= k:
                break
        return out

    def free(self, st: _State, x: float, y: float, z: float, b: Block) -> bool:
        """May block ``b`` stand at (x, y, z) beside what is placed: no overlap, rule 5 both ways."""
        x2, y2, z2 = x + b.dx, y + b.dy, z + b.dz
        for pb, px, py, pz in st.placed:
            if px + pb.dx <= x + EPS or px >= x2 - EPS or py + pb.dy <= y + EPS or py >= y2 - EPS:
                continue  # footprints apart
            pz2 = pz + pb.dz
            if pz < z2 - EPS and pz2 > z + EPS:
                return False
            if pz2 <= z + EPS and not pb.stack:
                return False
            if pz >= z2 - EPS and not b.stack:
                return False
        return True

    def place(self, st: _State, s: Space, b: Block, split: int) -> None:
        x, y, z, X, Y, Z = s
        st.avail[b.kind] -= b.n
        if b.n2:
            st.avail[b.kind2] -= b.n2
        st.payload -= b.weight
        st.volume += b.volume
        st.placed.append((b, x, y, z))
        rx, ry, rz = X - b.dx, Y - b.dy, Z - b.dz
        overhang = rx < -EPS or ry < -EPS
        if overhang:
            self.carve(st.spaces, (x, y, z, b.dx, b.dy, b.dz), b.stack)
        if rz > EPS and b.stack:
            self.add_top(st.spaces, (x, y, z + b.dz, min(b.dx, X), min(b.dy, Y), rz))
        # Split the floor remainder: a full-width space towards the door (0) or a full-length one beside (1).
        if split == 2:
            split = 0 if rx * Y >= ry * X else 1
        if split == 0:
            if rx > EPS:
                st.spaces.append((x + b.dx, y, z, rx, Y, Z))
            if ry > EPS:
                st.spaces.append((x, y + b.dy, z, min(b.dx, X), ry, Z))
        else:
            if ry > EPS:
                st.spaces.append((x, y + b.dy, z, X, ry, Z))
            if rx > EPS:
                st.spaces.append((x + b.dx, y, z, rx, min(b.dy, Y), Z))

    @staticmethod
    def carve(spaces: list[Space], box: Space, stackable: bool) -> None:
        """Take an overhanging block out of the free spaces it reaches into, keeping them disjoint.

        What is left of a space keeps its floor (so stays supported); the part above the block
        stands on the block; the part under the overhang is given up (nothing non-stackable may go there)."""
        bx, by, bz, BX, BY, BZ = box
        bx2, by2, bz2 = bx + BX, by + BY, bz + BZ
        keep: list[Space] = []
        for s in spaces:
            sx, sy, sz, SX, SY, SZ = s
            sx2, sy2, sz2 = sx + SX, sy + SY, sz + SZ
            if sx >= bx2 - EPS or sx2 <= bx + EPS or sy >= by2 - EPS or sy2 <= by + EPS \
                    or sz >= bz2 - EPS or sz2 <= bz + EPS:
                keep.append(s)
                continue
            if bx > sx + EPS:
                keep.append((sx, sy, sz, bx - sx, SY, SZ))
            if sx2 > bx2 + EPS:
                keep.append((bx2, sy, sz, sx2 - bx2, SY, SZ))
            ix1, ix2 = max(sx, bx), min(sx2, bx2)
            if by > sy + EPS:
                keep.append((ix1, sy, sz, ix2 - ix1, by - sy, SZ))
            if sy2 > by2 + EPS:
                keep.append((ix1, by2, sz, ix2 - ix1, sy2 - by2, SZ))
            if stackable and sz2 > bz2 + EPS:
                iy1, iy2 = max(sy, by), min(sy2, by2)
                keep.append((ix1, iy1, bz2, ix2 - ix1, iy2 - iy1, sz2 - bz2))
        spaces[:] = keep

    @staticmethod
    def add_top(spaces: list[Space], t: Space) -> None:
        """Add the space above a block, merged with a neighbouring one on the same level where that
        makes a larger surface.

        Two columns side by side with the same top make one flat surface: their shared stretch becomes
        one space (wide packages stand on both, fully supported), the rest of each stays a space of its own.
        """
        for _ in range(8):  # each merge strictly grows the surface; a few are plenty
            x, y, z, X, Y, Z = t
            for i, s in enumerate(spaces):
                sx, sy, sz, SX, SY, SZ = s
                if abs(sz - z) > EPS or abs(SZ - Z) > EPS:
                    continue
                if abs(sy + SY - y) <= EPS or abs(y + Y - sy) <= EPS:  # side by side across
                    lo, hi = max(x, sx), min(x + X, sx + SX)
                    if hi - lo <= EPS or (hi - lo) * (Y + SY) <= max(X * Y, SX * SY) + AREA_EPS:
                        continue
                    merged = (lo, min(y, sy), z, hi - lo, Y + SY, Z)
                    rest = [(a, b, z, lo - a, B, Z) for a, b, A, B in ((x, y, X, Y), (sx, sy, SX, SY)) if lo > a + EPS]
                    rest += [(hi, b, z, a + A - hi, B, Z) for a, b, A, B in ((x, y, X, Y), (sx, sy, SX, SY))
                             if a + A > hi + EPS]
                elif abs(sx + SX - x) <= EPS or abs(x + X - sx) <= EPS:  # one behind the other
                    lo, hi = max(y, sy), min(y + Y, sy + SY)
                    if hi - lo <= EPS or (hi - lo) * (X + SX) <= max(X * Y, SX * SY) + AREA_EPS:
                        continue
                    merged = (min(x, sx), lo, z, X + SX, hi - lo, Z)
                    rest = [(a, b, z, A, lo - b, Z) for a, b, A, B in ((x, y, X, Y), (sx, sy, SX, SY)) if lo > b + EPS]
                    rest += [(a, hi, z, A, b + B - hi, Z) for a, b, A, B in ((x, y, X, Y), (sx, sy, SX, SY))
                             if b + B > hi + EPS]
                else:
                    continue
                del spaces[i]
                spaces.extend(rest)
                t = merged
                break
            else:
                break
        spaces.append(t)

    def greedy(self, st: _State, split: int, noise: float = 0.0) -> _State:
        """Complete ``st`` greedily: the largest block that fits (a random one of the best few with noise)."""
        while True:
            s = self.next_space(st)
            if s is None:
                return st
            cands = self.candidates(st, s, 3 if noise else 1)
            if not cands:
                continue
            b = cands[0]
            if noise and len(cands) > 1 and self.rng.random() < noise:
                b = self.rng.choice(cands[1:])
            self.place(st, s, b, split)

    def lookahead(self, split: int, width: int, noise: float = 0.0) -> _State | None:
        """At each space try the ``width`` largest blocks, keep the one whose greedy completion fills most
        (with ``noise``, now and then another of them: a randomised restart)."""
        st = self.start()
        best_final: _State | None = None
        while True:
            if time.monotonic() > self.deadline:
                return best_final
            s = self.next_space(st)
            if s is None:
                return st if best_final is None or st.volume >= best_final.volume else best_final
            cands = self.candidates(st, s, width)
            if not cands:
                continue
            choice, choice_final = None, None
            for b in cands:
                if choice is not None and time.monotonic() > self.deadline:
                    break
                trial = st.copy()
                self.place(trial, s, b, split)
                final = self.greedy(trial, split)
                if choice_final is None or final.volume > choice_final.volume + EPS:
                    choice, choice_final = b, final
                if final.volume >= self.total_volume - EPS:
                    break
            assert choice is not None and choice_final is not None
            if noise and len(cands) > 1 and self.rng.random() < noise:
                choice = self.rng.choice(cands)
            if best_final is None or choice_final.volume > best_final.volume:
                best_final = choice_final
            if choice_final.volume >= self.total_volume - EPS:
                return choice_final
            self.place(st, s, choice, split)


def _placements(inst: Instance, st: _State) -> list[Placement]:
    out = []
    for b, x, y, z in st.placed:
        _expand(inst, b, x, y, z, out)
    return out


def _expand(inst: Instance, b: Block, x: float, y: float, z: float, out: list[Placement]) -> None:
    if b.parts:
        for part, ox, oy, oz in b.parts:
            _expand(inst, part, x + ox, y + oy, z + oz, out)
        return
    pid = inst.pieces[b.kind].id
    for iz in range(b.nz):
        for iy in range(b.ny):
            for ix in range(b.nx):
                out.append(Placement(pid, x + ix * b.l, y + iy * b.w, z + iz * b.h, b.l, b.w, b.h, 0))


def _centre(inst: Instance, placements: list[Placement]) -> list[Placement]:
    """Move the load (as a whole, so no rule changes) to bring its centre of gravity near the middle."""
    if not placements:
        return placements
    c = inst.container
    weight = {p.id: p.weight_kg for p in inst.pieces}
    mass = [weight[p.id] for p in placements]
    if sum(mass) <= 0:  # weightless packages (the BR benchmark): by volume, as build_plan does
        mass = [p.volume for p in placements]
    total = sum(mass)
    gx = sum(m * (p.x_cm + p.length_cm / 2) for m, p in zip(mass, placements)) / total
    gy = sum(m * (p.y_cm + p.width_cm / 2) for m, p in zip(mass, placements)) / total
    # Mirror across the width when that brings the centre nearer the middle; then slide within the slack.
    if abs((c.width_cm - gy) - c.width_cm / 2) < abs(gy - c.width_cm / 2) - EPS:
        placements = [replace(p, y_cm=c.width_cm - p.y2) for p in placements]
        gy = c.width_cm - gy
    slack_x = c.length_cm - max(p.x2 for p in placements)
    lo_y = min(p.y_cm for p in placements)
    hi_y = c.width_cm - max(p.y2 for p in placements)
    # Whole centimetres, rounded towards no move, so that the crew measures simple figures.
    dx = float(math.floor(min(max(c.length_cm / 2 - gx, 0.0), max(slack_x, 0.0))))
    dy = float(math.trunc(min(max(c.width_cm / 2 - gy, -lo_y), max(hi_y, 0.0))))
    if dx > EPS or abs(dy) > EPS:
        placements = [replace(p, x_cm=p.x_cm + dx, y_cm=p.y_cm + dy) for p in placements]
    return placements


def _finish(inst: Instance, st: _State, deadline: float) -> Plan | None:
    placements = _placements(inst, st)
    if st.volume < sum(p.volume * p.count for p in inst.pieces) - EPS:
        placements = fill_gaps(inst, placements, deadline)
    placements = _centre(inst, placements)
    ordered = assign_steps(inst.container, placements)
    if ordered is None:
        return None
    return build_plan(inst, ordered)


def solve(inst: Instance, time_limit_s: float | None = None, seed: int = 0, *, repack: bool = True) -> Plan:
    """The best valid plan found within ``time_limit_s`` seconds (default 5): everything placed, else most volume.

    The time goes to block building (greedy, then look-ahead of doubling width over a portfolio
    of settings).  When the best load is a few packages short of complete, most of it goes
    instead to re-packing the door end of that load together with what was left out (a
    large-neighbourhood search: the front stays, the tail is rebuilt).
    """
    limit = DEFAULT_TIME_LIMIT_S if time_limit_s is None else max(0.0, time_limit_s)
    started = time.monotonic()
    # Keep back what ordering and validating the result takes (it grows with the packages).
    packages = sum(p.count for p in inst.pieces)
    final_deadline = started + limit - max(0.05 * limit, min(0.5 * limit, 0.001 * packages))
    deadline = final_deadline
    search = _Search(inst, deadline, random.Random(seed))
    best: _State | None = None
    history: list[_State] = []  # every improvement, best last

    def better(st: _State | None) -> bool:
        nonlocal best
        if st is not None and (best is None or st.volume > best.volume + EPS):
            best = st
            history.append(st)
            # Nearly everything placed: steer the search towards the lines still left out, and
            # leave more time to re-packing the door end, which finds the last few best.
            if 0 < search.total_volume - st.volume <= 0.03 * search.total_volume:
                search.bonus = np.array([1.0 if a else 0.0 for a in st.avail])
                if repack:
                    search.deadline = min(search.deadline, started + 0.35 * (final_deadline - started))
            return True
        return False

    def done() -> bool:
        return best is not None and best.volume >= search.total_volume - EPS

    c = inst.container
    # A portfolio of ways to build: how the floor remainder splits, and how long a block may be
    # (long strips or wall-like blocks suit different mixes).
    caps = sorted({c.length_cm, max(c.length_cm / 3, c.width_cm), c.width_cm, c.width_cm / 2}, reverse=True)
    configs = [(split, cap, big) for big in (False, True) for cap in caps for split in (0, 2, 1)]

    scores: dict[tuple, float] = {}

    def run(config: tuple[int, float, bool], width: int) -> None:
        split, cap, search.big_first = config
        search.max_dx = cap
        if width <= 1:
            st = search.greedy(search.start(), split)
            scores[config] = st.volume
            better(st)
        else:
            better(search.lookahead(split, width))
        if _DEBUG and done():
            print("complete with", config, "width", width, f"after {time.monotonic() - started:.2f}s")

    # Quick greedy answers first, so that even a tiny time limit returns something.
    for config in configs:
        run(config, 1)
        if done() or time.monotonic() > search.deadline:
            break
    def nearly() -> bool:
        return best is not None and search.total_volume - best.volume <= 0.03 * search.total_volume

    # Depth pays more than breadth (a look-ahead twice as wide gains more than twice the settings):
    # widen only the settings whose greedy builds did best.
    configs = sorted(configs, key=lambda cf: -scores.get(cf, 0.0))[:KEEP_CONFIGS]
    width = 2
    while not done() and time.monotonic() < search.deadline and width <= 128:
        for config in configs:
            if nearly():
                break
            run(config, width)
            if done() or time.monotonic() > search.deadline:
                break
        width *= 2
        if nearly():
            # A few packages short of a complete load: widening one search rarely finds the last
            # ones, many different randomised ones more often do.
            while not done() and time.monotonic() < search.deadline:
                split, search.max_dx, search.big_first = search.rng.choice(configs)
                w = search.rng.choice((1, 1, 2, 4))
                if w == 1:
                    better(search.greedy(search.start(), split, noise=0.3))
                else:
                    better(search.lookahead(split, w, noise=0.2))
                if _DEBUG and done():
                    print(f"complete after {time.monotonic() - started:.2f}s (randomised)")
    # Wider look-ahead stops paying: spend what is left on randomised restarts.
    while not done() and time.monotonic() < search.deadline:
        split, search.max_dx, search.big_first = search.rng.choice(configs)
        better(search.greedy(search.start(), split, noise=0.3))
    finish_by = final_deadline  # filling gaps stops here: ordering and validating take the rest
    if repack and best is not None and not done() and nearly() and time.monotonic() < final_deadline - 0.1:
        plan = _repack_phase(inst, _placements(inst, best), final_deadline, finish_by, search.rng)
        if plan is not None:
            return plan
    # The best construction that makes a valid plan (the validator has the last word).
    for st in reversed(history):
        plan = _finish(inst, st, finish_by)
        if plan is not None:
            errors = check_stuffing(inst, plan)
            if not errors:
                return plan
            if _DEBUG:
                print("invalid construction:", errors[:3])
    return build_plan(inst, [])  # the empty load is always valid


def _volume(placements: list[Placement]) -> float:
    return sum(p.volume for p in placements)


def _repack_phase(inst: Instance, placements: list[Placement], deadline: float, finish_by: float,
                  rng: random.Random) -> Plan | None:
    """Rebuild the door end of the load with what was left out until ``deadline``; the best valid plan."""
    total = sum(p.volume * p.count for p in inst.pieces)
    current = fill_gaps(inst, placements, deadline)
    volume = _volume(current)
    fractions = (0.4, 0.25, 0.55, 0.15, 0.33, 0.7)
    i = 0
    while volume < total - EPS and time.monotonic() < deadline - 0.05:
        frac = fractions[i % len(fractions)]
        i += 1
        budget = min(deadline - time.monotonic(), max(0.2, 0.25 * (deadline - time.monotonic())))
        candidate = _repack_tail(inst, current, frac, budget, rng.randrange(1 << 30))
        if _DEBUG:
            print(f"  re-pack {frac:.0%} in {budget:.2f}s:", None if candidate is None else
                  f"{_volume(candidate) / inst.container.volume:.4f}")
        if candidate is not None and _volume(candidate) > volume + EPS:
            current, volume = candidate, _volume(candidate)
            if _DEBUG:
                print(f"re-packed the last {frac:.0%}: {volume / inst.container.volume:.4f}")
    placements = _centre(inst, current)
    ordered = assign_steps(inst.container, placements)
    if ordered is None:
        return None
    plan = build_plan(inst, ordered)
    errors = check_stuffing(inst, plan)
    if errors and _DEBUG:
        print("invalid re-packed plan:", errors[:3])
    return None if errors else plan


def _repack_tail(inst: Instance, placements: list[Placement], frac: float, time_limit: float,
                 seed: int) -> list[Placement] | None:
    """Take out every package reaching the last ``frac`` of the length (and whatever stands on them),
    and stuff them with the left-over packages into the space behind what stays."""
    c = inst.container
    cut = c.length_cm * (1 - frac)
    moved = {i for i, p in enumerate(placements) if p.x2 > cut + EPS}
    grew = True
    while grew:  # what stands on a moved package moves too
        grew = False
        for i, p in enumerate(placements):
            if i in moved or p.z_cm <= EPS:
                continue
            for j in moved:
                q = placements[j]
                if abs(q.z2 - p.z_cm) <= EPS and q.x_cm < p.x2 - EPS and p.x_cm < q.x2 - EPS \
                        and q.y_cm < p.y2 - EPS and p.y_cm < q.y2 - EPS:
                    moved.add(i)
                    grew = True
                    break
    keep = [p for i, p in enumerate(placements) if i not in moved]
    x0 = max((p.x2 for p in keep), default=0.0)
    if c.length_cm - x0 <= EPS:
        return None
    placed: dict[str, int] = {}
    for p in keep:
        placed[p.id] = placed.get(p.id, 0) + 1
    weight = sum(piece.weight_kg * placed.get(piece.id, 0) for piece in inst.pieces)
    pieces = tuple(replace(piece, count=piece.count - placed.get(piece.id, 0))
                   for piece in inst.pieces if piece.count > placed.get(piece.id, 0))
    if not pieces or c.payload_kg - weight <= 0:
        return None
    sub = Instance(
        container=replace(c, length_cm=c.length_cm - x0, payload_kg=c.payload_kg - weight),
        pieces=pieces, support_ratio=inst.support_ratio,
    )
    plan = solve(sub, time_limit_s=time_limit, seed=seed, repack=False)
    return keep + [replace(p, x_cm=p.x_cm + x0) for p in plan.placements]
