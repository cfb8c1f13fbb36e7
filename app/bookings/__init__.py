"""Bookings: cargo lines, the status machine, chargeable volume and space control."""
