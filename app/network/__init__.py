"""The network: hubs, container types, services (scheduled lines) and departures."""
