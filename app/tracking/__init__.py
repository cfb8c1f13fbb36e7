"""Tracking: legs from the timetable, events in, fan-out to the bookings riding them, ETAs and risk.

How the pieces fit:

- A departure's live timetable is a row per call (``DepartureCall``), created from
  the schedule the first time something needs it. TRANSPORT events set a call's
  reported estimate (EST), actual time (ACT) or plan (PLN); the estimates of every
  later call are then derived again from those facts (``derive_estimates``), so a
  delay at any stop shifts the rest of the run and late or out-of-order events give
  the same answer as in-order ones.
- A confirmed booking has legs: one per hop between consecutive calls of its
  departure, from its origin to its destination. They are written in the
  transaction that confirms it (``publish``: a ``before_flush`` hook reads the
  ``StatusChanged`` events ``transition()`` records; the booking desk hands a new
  booking to ``publish_new_booking``), and lazily for older bookings.
- An event on a departure updates, with a handful of set-based statements, the legs
  of every booking riding it, their statuses (``transition_many``), one SHIPMENT
  event per status change, and the webhook outbox. Nothing on that path loops over
  bookings in Python except bookings with a transfer to another departure, whose
  connection risk is checked one by one.

Modules: ``legs`` (timetable and legs), ``publish`` (what booking changes publish),
``record`` (events in), ``feed`` (events and tracking out).
"""
