"""Consolidation: runs the pure planner on instances and on departures' bookings, stores plans."""
