"""Itinerary search over the multimodal network (see :mod:`app.routing.search`)."""
