"""The consolidation planner (work in progress)."""
from __future__ import annotations
from typing import Sequence
from .io import validate_locked
from .model import Container, Instance


def _effective_locked(inst: Instance, locked: Sequence[Container]) -> tuple[Container, ...]:
    extra = tuple(locked or ())
    if not extra:
        return tuple(inst.locked_containers)
    allc = tuple(inst.locked_containers) + extra
    return validate_locked(inst, list(allc), field="locked")
