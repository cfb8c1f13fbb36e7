"""DCSA Track & Trace 2.2: Caravan's tracking events in the container industry's own form."""
