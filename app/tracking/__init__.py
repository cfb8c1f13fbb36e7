"""Tracking: itinerary legs, DCSA-style events, fan-out to bookings, ETAs and connection risk."""
