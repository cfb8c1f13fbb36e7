"""DCSA Booking 2.0 (``/dcsa/bkg/v2/bookings``): a view of Caravan's bookings as the standard has them.

One booking, two views, like the Track & Trace view over the same events: a booking
request made here is a Caravan booking made by the booking desk (space control,
pricing, tracking), and a booking made through ``/v1/bookings`` is answered here too.

- ``models``: what the DCSA view keeps beside a booking (its request reference, the
  amendment and cancellation statuses, the feedbacks of its last request).
- ``mapping``: a DCSA request judged against the official schema and turned into
  Caravan's booking body, with a feedback for every property Caravan ignores.
- ``view``: a Caravan booking as a DCSA ``Booking``, and the status mapping.
- ``service``: create, read, update or amend, cancel, through the booking desk.
"""
