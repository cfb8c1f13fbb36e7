"""Pairwise relations between placed packages, as numpy matrices a block of rows at a time.

The validator and the loading order ask the same questions of every pair of
packages (do they overlap, does one carry the other, does one stand between
the other and the door). Asked pair by pair in Python that is the slowest part
of stuffing a container of 600 cartons; as vector operations over a block of
rows it is a few milliseconds, and a block of ``ROWS`` rows keeps the matrices
small for the largest instances.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from .model import AREA_EPS, EPS, Placement

ROWS = 256


class Boxes:
    def __init__(self, placements: Sequence[Placement]):
        def column(values) -> np.ndarray:
            return np.fromiter(values, dtype=float, count=len(placements))

        self.n = len(placements)
        self.x = column(p.x_cm for p in placements)
        self.y = column(p.y_cm for p in placements)
        self.z = column(p.z_cm for p in placements)
        self.x2 = self.x + column(p.length_cm for p in placements)
        self.y2 = self.y + column(p.width_cm for p in placements)
        self.z2 = self.z + column(p.height_cm for p in placements)
        self.step = np.fromiter((p.step for p in placements), dtype=np.int64, count=self.n)

    def blocks(self) -> Iterator[slice]:
        for start in range(0, self.n, ROWS):
            yield slice(start, min(start + ROWS, self.n))

    @staticmethod
    def _overlap(lo: np.ndarray, hi: np.ndarray, rows: slice) -> np.ndarray:
        return np.maximum(0.0, np.minimum(hi[rows, None], hi[None, :]) - np.maximum(lo[rows, None], lo[None, :]))

    def _others(self, rows: slice) -> np.ndarray:
        """True off the diagonal: a package is never in a relation with itself."""
        mask = np.ones((rows.stop - rows.start, self.n), dtype=bool)
        mask[np.arange(rows.stop - rows.start), np.arange(rows.start, rows.stop)] = False
        return mask

    def overlapping(self, rows: slice) -> np.ndarray:
        """[i, j]: i and j share volume (touching faces do not)."""
        return ((self._overlap(self.x, self.x2, rows) > EPS) & (self._overlap(self.y, self.y2, rows) > EPS)
                & (self._overlap(self.z, self.z2, rows) > EPS) & self._others(rows))

    def support_area(self, rows: slice) -> np.ndarray:
        """[i, j]: the area of i's base that stands on j's top (0 unless j's top is i's floor)."""
        area = self._overlap(self.x, self.x2, rows) * self._overlap(self.y, self.y2, rows)
        on_top = np.abs(self.z2[None, :] - self.z[rows, None]) <= EPS
        return np.where(on_top & (area > AREA_EPS) & self._others(rows), area, 0.0)

    def above(self, rows: slice) -> np.ndarray:
        """[i, j]: j stands anywhere above i, their footprints overlapping."""
        return ((self.z[None, :] >= self.z2[rows, None] - EPS) & (self._overlap(self.x, self.x2, rows) > EPS)
                & (self._overlap(self.y, self.y2, rows) > EPS) & self._others(rows))

    def towards_door(self, rows: slice) -> np.ndarray:
        """[i, j]: j stands between i and the door (wholly nearer the door, across and up overlapping)."""
        return ((self.x[None, :] >= self.x2[rows, None] - EPS) & (self._overlap(self.y, self.y2, rows) > EPS)
                & (self._overlap(self.z, self.z2, rows) > EPS) & self._others(rows))
