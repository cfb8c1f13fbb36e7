"""The event log (TrackingEvent) and its codes: below tracking, the webhook outbox and the DCSA view, which all read it."""
