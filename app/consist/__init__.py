"""The train consist: a departure's containers on flat wagons under China Railway's rules (pure).

Plain dataclasses in (``Box`` per container, ``Wagon`` types, ``Rules``), a ``Consist`` out: wagons in
train order with their containers, totals and warnings. ``build`` refuses containers that break a rule
(``ConsistError``); ``check`` lists what a consist breaks. No database, no web.
"""

from app.consist.build import build, check
from app.consist.model import Box, Consist, ConsistError, LoadedWagon, Rules, Wagon

__all__ = ["Box", "Consist", "ConsistError", "LoadedWagon", "Rules", "Wagon", "build", "check"]

