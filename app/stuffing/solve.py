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
import random
import time
from dataclasses import dataclass, replace

from .check import check_stuffing
from .io import build_plan
from .model import EPS, Instance, Placement, Plan
from .steps import assign_steps

__all__ = ["solve", "DEFAULT_TIME_LIMIT_S"]

DEFAULT_TIME_LIMIT_S = 5.0
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
    c = inst.container
    out: dict[tuple, Block] = {}
    for k, piece in enumerate(inst.pieces):
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
                        key = (k, nx * l, ny * w, nz * h)
                        if key in out:
                            continue
                        out[key] = Block(n * piece.volume, nx * l, ny * w, nz * h, k, n, n * piece.weight_kg,
                                         nx, ny, nz, l, w, h)
    blocks = sorted(out.values(), key=lambda b: (-b.volume, b.dz, -b.dx))
    return blocks[:MAX_BLOCKS]


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
        self.total_volume = sum(p.volume * p.count for p in inst.pieces)
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
        _, _, _, X, Y, Z = s
        X += EPS
        Y += EPS
        Z += EPS
        avail = st.avail
        pay = st.payload + 1e-9
        out = []
        for b in self.blocks:
            if b.dx <= X and b.dy <= Y and b.dz <= Z and avail[b.kind] >= b.n and b.weight <= pay:
                out.append(b)
                if len(out) >= k:
                    break
        return out

    def place(self, st: _State, s: Space, b: Block, split: int) -> None:
        x, y, z, X, Y, Z = s
        st.avail[b.kind] -= b.n
        st.payload -= b.weight
        st.volume += b.volume
        st.placed.append((b, x, y, z))
        rx, ry, rz = X - b.dx, Y - b.dy, Z - b.dz
        if rz > EPS and self.stackable[b.kind]:
            st.spaces.append((x, y, z + b.dz, b.dx, b.dy, rz))
        # Split the floor remainder: a full-width space towards the door (0) or a full-length one beside (1).
        if split == 2:
            split = 0 if rx * Y >= ry * X else 1
        if split == 0:
            if rx > EPS:
                st.spaces.append((x + b.dx, y, z, rx, Y, Z))
            if ry > EPS:
                st.spaces.append((x, y + b.dy, z, b.dx, ry, Z))
        else:
            if ry > EPS:
                st.spaces.append((x, y + b.dy, z, X, ry, Z))
            if rx > EPS:
                st.spaces.append((x + b.dx, y, z, rx, b.dy, Z))

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
    deadline = started + limit * 0.9
    search = _Search(inst, deadline, random.Random(seed))
    best: _State | None = None

    def better(st: _State | None) -> bool:
        nonlocal best
        if st is not None and (best is None or st.volume > best.volume + EPS):
            best = st
            return True
        return False

    def done() -> bool:
        return best is not None and best.volume >= search.total_volume - EPS

    # Quick greedy answers first, so that even a tiny time limit returns something.
    for split in (0, 2, 1):
        better(search.greedy(search.start(), split))
        if done() or time.monotonic() > deadline:
            break
    width = 2
    while not done() and time.monotonic() < deadline:
        for split in (0, 2, 1):
            better(search.lookahead(split, width))
            if done() or time.monotonic() > deadline:
                break
        width *= 2
        if width > 64:
            # Wider look-ahead stops paying: spend the rest on randomised greedy restarts.
            while not done() and time.monotonic() < deadline:
                better(search.greedy(search.start(), search.rng.randrange(3), noise=0.3))
            break
    assert best is not None
    plan = _finish(inst, best)
    if plan is None or check_stuffing(inst, plan):
        # Never hand out an invalid plan: fall back to the empty (trivially valid) load.
        plan = build_plan(inst, [])
    return plan
