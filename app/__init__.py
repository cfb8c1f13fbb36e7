"""Caravan: booking and consolidation for China–Europe rail LCL freight.

How the house is laid out
=========================

Each domain is a package; the domains stand on floors and import only from floors
below their own (``tests/test_layout.py`` holds the floors and checks every import).
The entry points stand above all of them and may call any domain: each domain's
``router.py``, ``stuffing_api`` (``POST /v1/stuff``), the webhook ``worker.py``, ``main`` (the app), ``cli``, ``demo`` (the
seed), ``registry`` (every model, for Alembic), ``server``, the ``idempotency``
middleware and the ``console`` package (the web pages under ``/console``, calling the same
services as the routers). Under every floor lies the infrastructure: ``config``, ``db``, ``errors``,
``fields``, ``pagination``, ``middleware``, ``ratelimit``.

From the top down:

8. ``dcsa``: the DCSA Track & Trace view of the events, and its event subscriptions.
   ``dcsa_booking``: the DCSA Booking 2.0 view of the bookings (book, read, update or
   amend, cancel through the booking desk).
7. ``booking_desk``: what happens to a booking: create it on a departure or from a
   quote option, amend, cancel, reject, roll over, waitlist, the CFS receipt and the
   delivery, and the bookings of a departure the hub cancelled. It tells tracking of
   a new booking (``tracking.publish``), which it stands above.
6. ``tracking``: timetables, legs, events in and out, ETAs and connection risk. It
   learns of booking status changes from the unit of work (the ``StatusChanged``
   events ``bookings.status`` records; a ``before_flush`` hook publishes them), so
   nothing below it imports it.
5. ``routing``: the itinerary search (pure), the cached search network, rate cards
   and quotes. ``webhooks``: subscriptions, signing, the outbox (each event is
   enqueued with its audience, which its writer knows) and delivery bookkeeping.
   ``papers``: the train consist of a departure's plan and the papers (booking
   confirmation, CIM/SMGS consignment notes, the train list).
4. ``consolidation``: departure plans, the planner's instance builder, stuffing
   every planned container, and space
   control (the in-memory projection of a departure's containers). ``events``: the
   event log (``TrackingEvent``) and its codes, read by tracking, webhooks and DCSA.
3. ``bookings``: the booking record, its cargo lines and itinerary legs, the status
   machine, reading bookings, a booking's cargo under a service's rules.
2. ``network``: hubs, container types, services and departures.
1. ``accounts``: organisations, API keys, scopes, the caller, console sessions.
0. The pure cores, which import nothing from the database or the web: ``planner``
   (consolidation), ``cargo`` (a cargo line's and a booking's figures, the W/M
   chargeable volume, which way up, whether a package fits a container type,
   pricing, China Railway's rules by UN number and weight), ``stuffing`` (3D
   container loading, its validator, its pictures and printed plan),
   ``consist`` (a train's containers on flat wagons: pairs, balance, limits) and
   ``emissions`` (CO2e by ISO 14083 per leg, hub call and shipment from the
   versioned factor table; the Pareto front of quote options).
"""
