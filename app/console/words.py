"""Words the pages show from data (statuses, modes, codes, price lines…) or from Python, marked
with ``N_`` so the catalogues' check (tests/test_console.py) finds them; the pages translate them
when they show them."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for the catalogues without translating it here."""
    return message


STATUSES = [N_("OPEN"), N_("CLOSED"), N_("DEPARTED"), N_("ARRIVED"), N_("CANCELLED"), N_("RECEIVED"),
            N_("CONFIRMED"), N_("WAITLISTED"), N_("REJECTED"), N_("CARGO_RECEIVED"), N_("STUFFED"),
            N_("IN_TRANSIT"), N_("DELIVERED"), N_("PENDING"), N_("FAILED")]
MODES = [N_("RAIL"), N_("WATER"), N_("AIR"), N_("ROAD")]
PACKAGE_TYPES = [N_("PALLET"), N_("CARTON"), N_("CRATE"), N_("CASE"), N_("DRUM"), N_("BAG"), N_("BALE"),
                 N_("ROLL"), N_("COIL"), N_("PIECE")]
PRICE_LINES = [N_("base"), N_("minimum_top_up"), N_("dg_surcharge"), N_("reefer_surcharge"),
               N_("non_stackable_surcharge"), N_("origin_handling"), N_("destination_handling"), N_("pickup"),
               N_("delivery")]
EVENT_TYPES = [N_("TRANSPORT"), N_("EQUIPMENT"), N_("SHIPMENT")]
CLASSIFIERS = [N_("PLN"), N_("EST"), N_("ACT")]
EVENT_CODES = [N_("ARRI"), N_("DEPA"), N_("LOAD"), N_("DISC"), N_("GTIN"), N_("GTOT"), N_("STUF"), N_("STRP"),
               N_("PICK"), N_("DROP"), N_("INSP"), N_("RSEA"), N_("RECE"), N_("DRFT"), N_("PENA"), N_("PENU"),
               N_("REJE"), N_("APPR"), N_("ISSU"), N_("SURR"), N_("SUBM"), N_("VOID"), N_("CONF"), N_("REQS"),
               N_("CMPL"), N_("HOLD"), N_("RELS"), N_("CANC"), N_("CRCV"), N_("STFD"), N_("TRNS"), N_("ARRV"),
               N_("RISK"), N_("SAFE")]
NO_OPTIONS = [N_("ALL_LEFT_OUT"), N_("NO_SERVICE"), N_("TOO_MANY_LEGS"), N_("DEPARTURES_CLOSED"),
              N_("NO_DEPARTURE_IN_WINDOW")]
NOTICES = [N_("Booked."), N_("Amended."), N_("Cancelled."),
           N_("Too many failed sign-ins from this address; wait a little and try again."),
           N_("That key is unknown, revoked or expired.")]
