"""A DCSA booking request (CreateBooking, UpdateBooking, CancelBookingRequest) judged and mapped.

First the request is judged against the official schema (app/dcsa/spec/BKG_v2.0.0.yaml):
what breaks it is a 400 naming the property's JSON path. Then it is mapped onto Caravan's
booking body (``BookingCreate``), property by property (the README lists the mapping);
a property Caravan does not use gets a ``PROPERTY_WILL_BE_IGNORED`` feedback, a value it
changes a ``PROPERTY_VALUE_HAS_BEEN_CHANGED`` one. What Caravan needs and the spec does not
carry (a package's dimensions, whether it stacks) travels in two members Caravan adds to a
commodity: ``packageDimensions`` and ``isStackable``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator, FormatChecker

from app.bookings.schemas import ReferenceKind

SPEC_FILE = Path(__file__).resolve().parents[1] / "dcsa" / "spec" / "BKG_v2.0.0.yaml"
LBS_KG = 0.45359237
FTQ_CBM = 0.028316846592
INCH_CM = 2.54
MAX_FEEDBACKS = 100


class BadRequest(Exception):
    """A request the spec or Caravan's rules refuse: a 400 naming the property (its JSON path)."""

    def __init__(self, json_path: str, message: str, status: int = 400) -> None:
        super().__init__(f"{json_path}: {message}")
        self.json_path, self.message, self.status = json_path, message, status


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return yaml.load(SPEC_FILE.read_text(encoding="utf-8"), Loader=_TextDates)


class _TextDates(yaml.SafeLoader):
    """Safe YAML keeping dates as text, as a JSON document has them."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


FORMATS = FormatChecker([])


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or (len(value) == 10 and date.fromisoformat(value) is not None)


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    """RFC 3339: a date, ``T``, a time and an offset (``Z`` or ±hh:mm)."""
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        raise ValueError("not an RFC 3339 date-time")
    return datetime.fromisoformat(value.replace("z", "Z")) is not None


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@lru_cache(maxsize=8)
def _validator(schema_name: str) -> Draft4Validator:
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": spec()["components"]}
    return Draft4Validator(root, format_checker=FORMATS)


def json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def judge(body: Any, schema_name: str) -> dict[str, Any]:
    """``body`` if it is valid under the spec's ``schema_name``; else a 400 naming the first property."""
    errors = sorted(_validator(schema_name).iter_errors(body), key=lambda e: (len(e.absolute_path), e.message))
    if errors:
        error = errors[0]
        raise BadRequest(json_path(error.absolute_path), error.message[:400])
    return body


def feedback(code: str, path: str, message: str) -> dict[str, Any]:
    severity = {"PROPERTY_WILL_BE_IGNORED": "WARN", "PROPERTY_VALUE_HAS_BEEN_CHANGED": "WARN",
                "PROPERTY_VALUE_MAY_CHANGE": "WARN", "INFORMATIONAL_MESSAGE": "INFO"}[code]
    return {"severity": severity, "code": code, "message": message[:5000], "jsonPath": path[:500],
            "property": path.rsplit(".", 1)[-1].split("[")[0][:100]}


# --- what Caravan reads, level by level; everything else is ignored with a feedback ----------------

USED_TOP = {
    "receiptTypeAtOrigin", "deliveryTypeAtDestination", "cargoMovementTypeAtOrigin", "cargoMovementTypeAtDestination",
    "isEquipmentSubstitutionAllowed", "shipmentLocations", "requestedEquipments", "documentParties",
    "carrierExportVoyageNumber", "contractQuotationReference", "references", "incoTerms",
    "carrierBookingRequestReference", "carrierBookingReference",
}
USED_EQUIPMENT = {"ISOEquipmentCode", "units", "isShipperOwned", "activeReeferSettings", "commodities"}
USED_COMMODITY = {"commodityType", "HSCodes", "cargoGrossWeight", "cargoGrossVolume", "outerPackaging",
                  "packageDimensions", "isStackable"}
USED_PACKAGING = {"packageCode", "numberOfPackages", "dangerousGoods"}
USED_DG = {"UNNumber", "imoClass", "packingGroup"}
USED_REEFER = {"temperatureSetpoint", "temperatureUnit"}
USED_CONSIGNEE = {"partyName", "address", "partyContactDetails"}
USED_ADDRESS = {"street", "streetNumber", "city", "countryCode", "postCode"}

# DCSA reference types and Caravan's kinds of reference, both ways.
KIND_OF_TYPE = {"PO": ReferenceKind.PURCHASE_ORDER, "SI": ReferenceKind.SHIPPER_REFERENCE,
                "AAO": ReferenceKind.CONSIGNEE_REFERENCE, "ECR": ReferenceKind.CUSTOMS_DECLARATION,
                "INV": ReferenceKind.INVOICE}
TYPE_OF_KIND = {kind.value: code for code, kind in KIND_OF_TYPE.items()} | {ReferenceKind.OTHER.value: "CR"}

ORIGIN_TYPES = ("POL", "PRE")  # port of loading, else place of receipt
DESTINATION_TYPES = ("POD", "PDE")  # port of discharge, else place of delivery
HUB_CODE = re.compile(r"^[A-Za-z]{2}[A-Za-z2-9]{3}-[A-Za-z0-9]{2,6}$")
PACKING_GROUPS = {1: "I", 2: "II", 3: "III"}


def printable(name: str) -> str:
    """A property name as a feedback may repeat it: printable ASCII, at most 100 characters (a member's
    name is the sender's free text, and feedbacks are stored and answered)."""
    return re.sub(r"[^\x20-\x7e]", "?", name[:100])


def _ignored(document: dict[str, Any], used: set[str], path: str, feedbacks: list[dict[str, Any]]) -> None:
    for name in document:
        if name not in used and len(feedbacks) < MAX_FEEDBACKS:
            shown = printable(name)
            feedbacks.append(feedback("PROPERTY_WILL_BE_IGNORED", f"{path}.{shown}",
                                      f"Caravan does not use {shown}; it is not kept"))


class Mapped:
    """A DCSA request mapped: Caravan's booking body, where each of its fields came from, the feedbacks."""

    def __init__(self) -> None:
        self.body: dict[str, Any] = {}
        self.paths: dict[str, str] = {}  # Caravan field path (cargo.0.hs_code) -> DCSA JSON path
        self.feedbacks: list[dict[str, Any]] = []
        self.equipments: list[dict[str, Any]] = []

    def dcsa_path(self, field: str) -> str:
        """The DCSA property a Caravan field (``cargo.1.weight_kg``) came from, or the nearest one that holds it."""
        parts = field.split(".")
        while parts:
            if (found := self.paths.get(".".join(parts))) is not None:
                return found
            parts.pop()
        return "$"


def _place(location_entry: dict[str, Any], path: str, feedbacks: list[dict[str, Any]]) -> str | None:
    location = location_entry["location"]
    name = location.get("locationName")
    for ignored in ("address", "facility", "geoCoordinate"):
        if ignored in location:
            feedbacks.append(feedback("PROPERTY_WILL_BE_IGNORED", f"{path}.location.{ignored}",
                                      "Caravan names a place by UNLocationCode, or a hub by its code in locationName"))
    if isinstance(name, str) and HUB_CODE.match(name):
        return name
    return location.get("UNLocationCode")


def map_locations(request: dict[str, Any], mapped: Mapped) -> None:
    found: dict[str, tuple[str, str]] = {}
    for index, entry in enumerate(request["shipmentLocations"]):
        path = f"$.shipmentLocations[{index}]"
        code = entry["locationTypeCode"]
        if code not in ORIGIN_TYPES + DESTINATION_TYPES or code in found:
            mapped.feedbacks.append(feedback("PROPERTY_WILL_BE_IGNORED", path, "Caravan reads one POL (or PRE) and one "
                                             f"POD (or PDE); {printable(code)} is not used"))
            continue
        place = _place(entry, path, mapped.feedbacks)
        if place is None:
            raise BadRequest(f"{path}.location.UNLocationCode", "give the UN/LOCODE (or the hub code in locationName)")
        found[code] = (place, f"{path}.location")
    for field, codes in (("origin", ORIGIN_TYPES), ("destination", DESTINATION_TYPES)):
        for code in codes:
            if code in found:
                mapped.body[field], mapped.paths[field] = found[code]
                break


def _reefer(settings: dict[str, Any], path: str, mapped: Mapped) -> dict[str, float]:
    _ignored(settings, USED_REEFER, path, mapped.feedbacks)
    setpoint = float(settings["temperatureSetpoint"])
    if settings["temperatureUnit"] == "FAH":
        setpoint = round((setpoint - 32) * 5 / 9, 1)
    return {"min": setpoint, "max": setpoint}


def _dimensions(commodity: dict[str, Any], packages: int, path: str, mapped: Mapped) -> dict[str, float]:
    """Per package in cm: Caravan's ``packageDimensions``, else a cube of the gross volume's share."""
    dimensions = commodity.get("packageDimensions")
    if dimensions is not None:
        if not isinstance(dimensions, dict):
            raise BadRequest(f"{path}.packageDimensions", "an object: {length, width, height, unit: CMT|MMT|INH}")
        unit = dimensions.get("unit", "CMT")
        factor = {"CMT": 1.0, "MMT": 0.1, "INH": INCH_CM}.get(unit) if isinstance(unit, str) else None
        if factor is None:
            raise BadRequest(f"{path}.packageDimensions.unit", "CMT, MMT or INH")
        sides = {}
        for side in ("length", "width", "height"):
            value = dimensions.get(side)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise BadRequest(f"{path}.packageDimensions.{side}", "a number")
            sides[f"{side}_cm"] = round(value * factor, 2)
        return sides
    volume = commodity.get("cargoGrossVolume")
    if volume is None:
        raise BadRequest(f"{path}.packageDimensions", "Caravan needs each package's length, width and height "
                                                      "(packageDimensions), or at least cargoGrossVolume")
    cbm = float(volume["value"]) * (FTQ_CBM if volume["unit"] == "FTQ" else 1.0)
    if cbm <= 0:
        raise BadRequest(f"{path}.cargoGrossVolume.value", "must be above 0")
    side = round((cbm / packages) ** (1 / 3) * 100, 2)
    mapped.feedbacks.append(feedback(
        "PROPERTY_VALUE_MAY_CHANGE", f"{path}.packageDimensions",
        f"no packageDimensions: each package is taken as a {side} cm cube of the gross volume until the CFS "
        "measures it; send packageDimensions for W/M and stuffing by the real sizes"))
    return {"length_cm": side, "width_cm": side, "height_cm": side}


def _commodity(commodity: dict[str, Any], path: str, reefer: dict[str, float] | None, mapped: Mapped,
               index: int) -> dict[str, Any]:
    _ignored(commodity, USED_COMMODITY, path, mapped.feedbacks)
    field = f"cargo.{index}"
    mapped.paths[field] = path
    packaging = commodity.get("outerPackaging")
    if packaging is None:
        raise BadRequest(f"{path}.outerPackaging", "Caravan needs the packageCode and numberOfPackages")
    _ignored(packaging, USED_PACKAGING, f"{path}.outerPackaging", mapped.feedbacks)
    for name in ("packageCode", "numberOfPackages"):
        if name not in packaging:
            raise BadRequest(f"{path}.outerPackaging.{name}", "Caravan needs it for an LCL booking")
    hs_codes = commodity.get("HSCodes") or []
    if not hs_codes:
        raise BadRequest(f"{path}.HSCodes", "Caravan needs the HS code of each commodity")
    if len(hs_codes) > 1:
        mapped.feedbacks.append(feedback("PROPERTY_WILL_BE_IGNORED", f"{path}.HSCodes[1]",
                                         "Caravan keeps one HS code per commodity: the first"))
    weight = commodity.get("cargoGrossWeight")
    if weight is None:
        raise BadRequest(f"{path}.cargoGrossWeight", "Caravan needs the gross weight of each commodity")
    packages = packaging["numberOfPackages"]
    if packages < 1:
        raise BadRequest(f"{path}.outerPackaging.numberOfPackages", "must be at least 1")
    stackable = commodity.get("isStackable", True)
    if not isinstance(stackable, bool):
        raise BadRequest(f"{path}.isStackable", "true or false")
    line: dict[str, Any] = {
        "description": commodity["commodityType"],
        "hs_code": hs_codes[0],
        "packages": packages,
        "package_type": packaging["packageCode"],
        **_dimensions(commodity, packages, path, mapped),
        "weight_kg": round(float(weight["value"]) * (LBS_KG if weight["unit"] == "LBR" else 1.0), 3),
        "stackable": stackable,
        "dangerous_goods": None,
        "temperature_c": reefer,
    }
    for name, source in (("description", ".commodityType"), ("hs_code", ".HSCodes[0]"),
                         ("packages", ".outerPackaging.numberOfPackages"), ("package_type", ".outerPackaging.packageCode"),
                         ("weight_kg", ".cargoGrossWeight.value"), ("stackable", ".isStackable"),
                         ("length_cm", ".packageDimensions.length"), ("width_cm", ".packageDimensions.width"),
                         ("height_cm", ".packageDimensions.height"), ("dangerous_goods", ".outerPackaging.dangerousGoods[0]")):
        mapped.paths[f"{field}.{name}"] = path + source
    goods = packaging.get("dangerousGoods") or []
    if goods:
        dg_path = f"{path}.outerPackaging.dangerousGoods[0]"
        if "UNNumber" not in goods[0]:
            raise BadRequest(f"{dg_path}.UNNumber", "Caravan needs the UN number (an NA number is not taken)")
        _ignored(goods[0], USED_DG, dg_path, mapped.feedbacks)
        line["dangerous_goods"] = {"un_number": goods[0]["UNNumber"], "class": goods[0]["imoClass"],
                                   "packing_group": PACKING_GROUPS.get(goods[0].get("packingGroup"))}
        mapped.paths[f"{field}.dangerous_goods.class"] = f"{dg_path}.imoClass"
        mapped.paths[f"{field}.dangerous_goods.packing_group"] = f"{dg_path}.packingGroup"
        for extra in range(1, len(goods)):
            mapped.feedbacks.append(feedback("PROPERTY_WILL_BE_IGNORED", f"{path}.outerPackaging.dangerousGoods[{extra}]",
                                             "Caravan keeps one dangerous good per commodity: the first"))
    return line


MAX_EQUIPMENTS = 50
EQUIPMENT_CODE = re.compile(r"^[A-Z0-9]{1,4}$")


def map_equipment(request: dict[str, Any], mapped: Mapped) -> None:
    cargo: list[dict[str, Any]] = []
    if len(request["requestedEquipments"]) > MAX_EQUIPMENTS:
        raise BadRequest("$.requestedEquipments", f"at most {MAX_EQUIPMENTS} entries")
    for index, equipment in enumerate(request["requestedEquipments"]):
        path = f"$.requestedEquipments[{index}]"
        _ignored(equipment, USED_EQUIPMENT, path, mapped.feedbacks)
        if not EQUIPMENT_CODE.match(equipment["ISOEquipmentCode"]):
            raise BadRequest(f"{path}.ISOEquipmentCode", "an ISO 6346 size and type code: capitals and digits (22G1)")
        if not 0 <= equipment["units"] <= 10_000:
            raise BadRequest(f"{path}.units", "0 to 10000")
        mapped.equipments.append({"ISOEquipmentCode": equipment["ISOEquipmentCode"], "units": equipment["units"],
                                  "isShipperOwned": equipment["isShipperOwned"],
                                  "commodities": len(equipment.get("commodities") or [])})
        mapped.feedbacks.append(feedback(
            "INFORMATIONAL_MESSAGE", f"{path}.ISOEquipmentCode",
            "LCL: Caravan books space by the commodities' volume and weight and plans the containers itself; "
            "the equipment code and units are kept only to be answered back"))
        settings = equipment.get("activeReeferSettings")
        reefer = _reefer(settings, f"{path}.activeReeferSettings", mapped) if settings else None
        commodities = equipment.get("commodities") or []
        for number, commodity in enumerate(commodities):
            cargo.append(_commodity(commodity, f"{path}.commodities[{number}]", reefer, mapped, len(cargo)))
            if reefer is not None:
                mapped.paths[f"cargo.{len(cargo) - 1}.temperature_c"] = f"{path}.activeReeferSettings.temperatureSetpoint"
    if not cargo:
        raise BadRequest("$.requestedEquipments[0].commodities", "Caravan needs the commodities to book LCL space")
    mapped.body["cargo"] = cargo
    mapped.paths["cargo"] = "$.requestedEquipments"


def map_consignee(request: dict[str, Any], mapped: Mapped) -> None:
    parties = request["documentParties"]
    _ignored(parties, {"consignee"}, "$.documentParties", mapped.feedbacks)
    consignee = parties.get("consignee")
    path = "$.documentParties.consignee"
    if consignee is None:
        raise BadRequest(path, "Caravan needs the consignee (name and address)")
    _ignored(consignee, USED_CONSIGNEE, path, mapped.feedbacks)
    address = consignee.get("address")
    if address is None:
        raise BadRequest(f"{path}.address", "Caravan needs the consignee's street, city and countryCode")
    _ignored(address, USED_ADDRESS, f"{path}.address", mapped.feedbacks)
    street = " ".join(part for part in (address["street"], address.get("streetNumber")) if part)
    city = " ".join(part for part in (address.get("postCode"), address["city"]) if part)
    contact = (consignee.get("partyContactDetails") or [{}])[0]
    mapped.paths["consignee"] = path
    mapped.body["consignee"] = {"name": consignee["partyName"], "address": street, "city": city,
                                "country": address["countryCode"], "email": contact.get("email"),
                                "phone": contact.get("phone")}
    for name, source in (("name", ".partyName"), ("address", ".address.street"), ("city", ".address.city"),
                         ("country", ".address.countryCode"), ("email", ".partyContactDetails[0].email"),
                         ("phone", ".partyContactDetails[0].phone")):
        mapped.paths[f"consignee.{name}"] = path + source


def map_request(request: dict[str, Any], *, updating: bool = False) -> Mapped:
    """A request already judged by the spec's schema, as Caravan's booking body (``BookingCreate``,
    or without the departure for an update) with its feedbacks."""
    mapped = Mapped()
    _ignored(request, USED_TOP, "$", mapped.feedbacks)
    for name in ("cargoMovementTypeAtOrigin", "cargoMovementTypeAtDestination"):
        if request[name] != "LCL":
            raise BadRequest(f"$.{name}", "Caravan books LCL (less than container load) only: send LCL")
    for name in ("receiptTypeAtOrigin", "deliveryTypeAtDestination"):
        if request[name] != "CFS":
            mapped.feedbacks.append(feedback("PROPERTY_VALUE_HAS_BEEN_CHANGED", f"$.{name}",
                                             "Caravan takes and hands over LCL cargo at a CFS (pickup and door "
                                             "delivery are priced only through /v1/quotes): CFS"))
    if not updating:
        voyage, quotation = request.get("carrierExportVoyageNumber"), request.get("contractQuotationReference")
        if (voyage is None) == (quotation is None):
            raise BadRequest("$.carrierExportVoyageNumber", "give the departure (carrierExportVoyageNumber: a "
                             "Caravan departure id) or a quote option (contractQuotationReference), one of them")
        if voyage is not None:
            if not voyage.isdigit() or not 0 < int(voyage) < 2**31:
                raise BadRequest("$.carrierExportVoyageNumber", "a Caravan departure id (digits)")
            mapped.body["departure_id"] = int(voyage)
            mapped.paths["departure_id"] = "$.carrierExportVoyageNumber"
            map_locations(request, mapped)
        else:
            mapped.body["quote_option_id"] = quotation
            mapped.paths["quote_option_id"] = "$.contractQuotationReference"
            mapped.feedbacks.append(feedback("PROPERTY_WILL_BE_IGNORED", "$.shipmentLocations",
                                             "a quote option is booked from and to the places it was quoted for"))
    else:
        for name in ("carrierExportVoyageNumber", "contractQuotationReference"):
            if name in request:
                mapped.feedbacks.append(feedback("PROPERTY_WILL_BE_IGNORED", f"$.{name}",
                                                 "an update keeps the booking's departure"))
        mapped.feedbacks.append(feedback("PROPERTY_WILL_BE_IGNORED", "$.shipmentLocations",
                                         "an update keeps the booking's places"))
    map_equipment(request, mapped)
    map_consignee(request, mapped)
    references = []
    for index, reference in enumerate(request.get("references") or []):
        kind = KIND_OF_TYPE.get(reference["type"], ReferenceKind.OTHER)
        references.append({"kind": kind.value, "value": reference["value"]})
        mapped.paths[f"references.{index}"] = f"$.references[{index}]"
    mapped.body["references"] = references
    if "incoTerms" in request:
        mapped.body["incoterm"] = request["incoTerms"]
        mapped.paths["incoterm"] = "$.incoTerms"
    return mapped
