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

from .check import check_stuffing
from .io import build_plan
from .model import AREA_EPS, EPS, Instance, Placement, Plan
from .steps import assign_steps

__all__ = ["solve", "DEFAULT_TIME_LIMIT_S"]

DEFAULT_TIME_LIMIT_S = 5.0
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


def _blocks(inst: Instance) -> list[Block]:
    """Homogeneous blocks of each piece line, at most ``MAX_BLOCKS`` in all.

    A line with too many shapes keeps its small blocks (they fill gaps) and its
    largest ones (they fill the container fast)."""
    c = inst.container
    quota = max(40, MAX_BLOCKS // max(1, len(inst.pieces)))
    blocks: list[Block] = []
    for k, piece in enumerate(inst.pieces):
        out: dict[tuple, Block] = {}
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
                    for nx in range(1, mx + 1):
                        n = nx * ny * nz
                        if n > piece.count:
                            break
                        key = (round(nx * l, 6), round(ny * w, 6), round(nz * h, 6))
                        if key in out:
                            continue
                        out[key] = Block(n * piece.volume, nx * l, ny * w, nz * h, k, n, n * piece.weight_kg,
                                         nx, ny, nz, l, w, h)
        mine = sorted(out.values(), key=lambda b: (b.n, -b.volume))
        if len(mine) > quota:
            small, rest = mine[: quota // 2], mine[quota // 2:]
            rest.sort(key=lambda b: -b.volume)
            mine = small + rest[: quota - len(small)]
        blocks.extend(mine)
    return sorted(blocks, key=lambda b: (-b.volume, b.dz, -b.dx))


# A free space: (x, y, z, size x, size y, size z)
Space = tuple[float, float, float, float, float, float]


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
        self.by_box = sorted(self.blocks, key=lambda b: (-(b.l * b.w * b.h), -b.volume))
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
        avail = st.avail
        pay = st.payload + 1e-9
        stackable = self.stackable
        scored = []
        best_plain = 0.0
        big_first = self.big_first
        for b in (self.by_box if big_first else self.blocks):
            if len(scored) >= k and (b.volume < best_plain if not big_first else b.l * b.w * b.h < best_plain):
                break  # sorted by the key: nothing further can beat the k found
            if b.dx <= Xo and b.dy <= Yo and b.dz <= Z and avail[b.kind] >= b.n and b.weight <= pay:
                if (b.dx > X or b.dy > Y) and (
                        # the box at the overhanging corner is the least supported one
                        min(max(X - (b.nx - 1) * b.l, 0.0), b.l) * min(max(Y - (b.ny - 1) * b.w, 0.0), b.w)
                        < r * b.l * b.w - AREA_EPS
                        or not self.free(st, x, y, z, b)):
                    continue
                if stackable[b.kind]:
                    fit = b.volume
                else:
                    fit = b.volume - b.dx * b.dy * (Z - b.dz) * self.waste_weight
                if big_first:
                    fit = (b.l * b.w * b.h, fit)
                scored.append((fit, b))
                if len(scored) >= k:
                    scored.sort(key=lambda t: t[0], reverse=True)
                    del scored[k:]
                    best_plain = scored[-1][0][0] if big_first else scored[-1][0]
        scored.sort(key=lambda t: t[0], reverse=True)
        return [b for _, b in scored[:k]]

    def free(self, st: _State, x: float, y: float, z: float, b: Block) -> bool:
        """May block ``b`` stand at (x, y, z) beside what is placed: no overlap, rule 5 both ways."""
        x2, y2, z2 = x + b.dx, y + b.dy, z + b.dz
        stackable = self.stackable
        for pb, px, py, pz in st.placed:
            if px + pb.dx <= x + EPS or px >= x2 - EPS or py + pb.dy <= y + EPS or py >= y2 - EPS:
                continue  # footprints apart
            pz2 = pz + pb.dz
            if pz < z2 - EPS and pz2 > z + EPS:
                return False
            if pz2 <= z + EPS and not stackable[pb.kind]:
                return False
            if pz >= z2 - EPS and not stackable[b.kind]:
                return False
        return True

    def place(self, st: _State, s: Space, b: Block, split: int) -> None:
        x, y, z, X, Y, Z = s
        st.avail[b.kind] -= b.n
        st.payload -= b.weight
        st.volume += b.volume
        st.placed.append((b, x, y, z))
        rx, ry, rz = X - b.dx, Y - b.dy, Z - b.dz
        overhang = rx < -EPS or ry < -EPS
        if overhang:
            self.carve(st.spaces, (x, y, z, b.dx, b.dy, b.dz), self.stackable[b.kind])
        if rz > EPS and self.stackable[b.kind]:
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
        """Add the space above a block, merged with a neighbouring one on the same level and of the same height.

        Two blocks side by side with the same top make one flat surface: merging their spaces lets
        a wider package stand on both, fully supported."""
        merged = True
        while merged:
            merged = False
            x, y, z, X, Y, Z = t
            for i, s in enumerate(spaces):
                sx, sy, sz, SX, SY, SZ = s
                if abs(sz - z) > EPS or abs(SZ - Z) > EPS:
                    continue
                if abs(sx - x) <= EPS and abs(SX - X) <= EPS and (abs(sy + SY - y) <= EPS or abs(y + Y - sy) <= EPS):
                    t = (x, min(y, sy), z, X, Y + SY, Z)
                elif abs(sy - y) <= EPS and abs(SY - Y) <= EPS and (abs(sx + SX - x) <= EPS or abs(x + X - sx) <= EPS):
                    t = (min(x, sx), y, z, X + SX, Y, Z)
                else:
                    continue
                del spaces[i]
                merged = True
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

    def lookahead(self, split: int, width: int) -> _State | None:
        """At each space try the ``width`` largest blocks, keep the one whose greedy completion fills most."""
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
            if best_final is None or choice_final.volume > best_final.volume:
                best_final = choice_final
            if choice_final.volume >= self.total_volume - EPS:
                return choice_final
            self.place(st, s, choice, split)


def _placements(inst: Instance, st: _State) -> list[Placement]:
    out = []
    for b, x, y, z in st.placed:
        pid = inst.pieces[b.kind].id
        for iz in range(b.nz):
            for iy in range(b.ny):
                for ix in range(b.nx):
                    out.append(Placement(pid, x + ix * b.l, y + iy * b.w, z + iz * b.h, b.l, b.w, b.h, 0))
    return out


def _centre(inst: Instance, placements: list[Placement]) -> list[Placement]:
    """Move the load (as a whole, so no rule changes) to bring its centre of gravity near the middle."""
    if not placements:
        return placements
    c = inst.container
    weight = {p.id: p.weight_kg for p in inst.pieces}
    mass = [weight[p.id] or p.volume for p in placements]
    if sum(mass) <= 0:
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


def _finish(inst: Instance, st: _State) -> Plan | None:
    placements = _centre(inst, _placements(inst, st))
    ordered = assign_steps(inst.container, placements)
    if ordered is None:
        return None
    return build_plan(inst, ordered)


def solve(inst: Instance, time_limit_s: float | None = None, seed: int = 0) -> Plan:
    """The best valid plan found within ``time_limit_s`` seconds (default 5): everything placed, else most volume."""
    limit = DEFAULT_TIME_LIMIT_S if time_limit_s is None else max(0.0, time_limit_s)
    started = time.monotonic()
    # Keep back what ordering and validating the result takes (it grows with the packages).
    packages = sum(p.count for p in inst.pieces)
    deadline = started + limit - max(0.05 * limit, min(0.5 * limit, 0.0006 * packages))
    search = _Search(inst, deadline, random.Random(seed))
    best: _State | None = None
    history: list[_State] = []  # every improvement, best last

    def better(st: _State | None) -> bool:
        nonlocal best
        if st is not None and (best is None or st.volume > best.volume + EPS):
            best = st
            history.append(st)
            return True
        return False

    def done() -> bool:
        return best is not None and best.volume >= search.total_volume - EPS

    c = inst.container
    # A portfolio of ways to build: how the floor remainder splits, and how long a block may be
    # (long strips or wall-like blocks suit different mixes).
    caps = sorted({c.length_cm, max(c.length_cm / 3, c.width_cm), c.width_cm}, reverse=True)
    configs = [(split, cap, big) for big in (False, True) for cap in caps for split in (0, 2, 1)]

    def run(config: tuple[int, float, bool], width: int) -> None:
        split, cap, search.big_first = config
        search.max_dx = cap
        if width <= 1:
            better(search.greedy(search.start(), split))
        else:
            better(search.lookahead(split, width))

    # Quick greedy answers first, so that even a tiny time limit returns something.
    for config in configs:
        run(config, 1)
        if done() or time.monotonic() > deadline:
            break
    width = 2
    while not done() and time.monotonic() < deadline and width <= 64:
        for config in configs:
            run(config, width)
            if done() or time.monotonic() > deadline:
                break
        width *= 2
    # Wider look-ahead stops paying: spend what is left on randomised restarts.
    while not done() and time.monotonic() < deadline:
        split, search.max_dx, search.big_first = search.rng.choice(configs)
        better(search.greedy(search.start(), split, noise=0.3))
    # The best construction that makes a valid plan (the validator has the last word).
    for st in reversed(history):
        plan = _finish(inst, st)
        if plan is not None:
            errors = check_stuffing(inst, plan)
            if not errors:
                return plan
            if _DEBUG:
                print("invalid construction:", errors[:3])
    return build_plan(inst, [])  # the empty load is always valid
