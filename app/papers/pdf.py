"""The papers as PDF (fpdf2, with the stuffing plan's page setup and bundled fonts: ``app.stuffing.paper``).

- ``confirmation_pdf``: the booking confirmation for the exporter, with the reference as a Code 39 barcode
  (fpdf2 draws it itself: no second library);
- ``consignment_note_pdf``: a container's CIM/SMGS consignment note data laid out in boxes, the blank ones
  marked for the operator to fill;
- ``consist_pdf``: the printed train list.

Every value is user text or a figure, printed as given; nothing here reads the database.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fpdf import FPDF

from app.stuffing.paper import FAMILY, new_paper

TO_FILL = "— to be filled by the operator —"


def _when(value: Any, zone: bool = True) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M" + (" UTC" if zone else ""))
    return "" if value is None else str(value)


def _kg(value: float) -> str:
    return f"{value:,.1f} kg"


def _title(pdf: FPDF, title: str, subtitle: str = "") -> None:
    pdf.set_font(FAMILY, "B", 15)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    if subtitle:
        pdf.set_font(FAMILY, "", 9)
        pdf.set_text_color(80, 80, 80)
        pdf.cell(0, 5, subtitle, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(2)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(2)
    pdf.set_font(FAMILY, "B", 10.5)
    pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 8.5)


def _table(pdf: FPDF, head: tuple[str, ...], rows: list[tuple[Any, ...]], widths: tuple[float, ...]) -> None:
    pdf.set_font(FAMILY, "", 8)
    with pdf.table(col_widths=widths, line_height=4.6, first_row_as_headings=True, text_align="LEFT") as table:
        row = table.row()
        for cell in head:
            row.cell(cell)
        for values in rows:
            row = table.row()
            for value in values:
                row.cell("" if value is None else str(value))


# --- booking confirmation ----------------------------------------------------------------------

def _barcode_text(reference: str) -> str:
    """Code 39 carries upper-case letters, digits and - . space; anything else is left out."""
    return "*" + re.sub(r"[^0-9A-Z.\- ]", "", reference.upper()) + "*"


def confirmation_pdf(doc: dict[str, Any]) -> bytes:
    pdf = new_paper(f"Caravan · booking confirmation {doc['reference']}")
    pdf.add_page()
    _title(pdf, "Booking confirmation", f"{doc['reference']} · status {doc['status']} · booked {_when(doc['created_at'])}")
    pdf.code39(_barcode_text(doc["reference"]), x=pdf.w - pdf.r_margin - 75, y=10, w=0.9, h=12)
    consignee = doc["consignee"] or {}
    left = [("Shipper", doc.get("shipper") or ""), ("Consignee", ", ".join(
        str(consignee.get(k)) for k in ("name", "address", "city", "country") if consignee.get(k)))]
    left += [(r["kind"].replace("_", " ").capitalize(), r["value"]) for r in doc.get("references") or []]
    pdf.set_font(FAMILY, "", 9)
    for label, value in left:
        pdf.set_font(FAMILY, "B", 9)
        pdf.cell(48, 5, label)
        pdf.set_font(FAMILY, "", 9)
        pdf.multi_cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, f"Route {doc['origin']} → {doc['destination']} · hand over at {doc['handover']['hub']} by "
                  f"{_when(doc['handover']['cutoff_at'])}")
    _table(pdf, ("#", "Mode", "Service", "Dep. id", "From", "To", "Cut-off (UTC)", "Departs (UTC)", "Arrives (UTC)"),
           [(leg["sequence"], leg["mode"], leg["service"], leg["departure_id"], leg["from_hub"], leg["to_hub"],
             _when(leg["cutoff_at"], False), _when(leg["departs_at"], False), _when(leg["arrives_at"], False))
            for leg in doc["legs"]],
           (6, 12, 26, 14, 22, 22, 29, 29, 30))
    _heading(pdf, "Cargo")
    rows = []
    for line in doc["cargo"]:
        dg = line.get("dangerous_goods")
        rows.append((line["description"], line["hs_code"], f"{line['packages']} {line['package_type'].lower()}",
                     f"{line['length_cm']:g}×{line['width_cm']:g}×{line['height_cm']:g}", _kg(line["weight_kg"]),
                     f"{line['volume_cbm']:.3f}", f"UN{dg['un_number']} cl. {dg.get('dg_class') or dg.get('class')}" if dg else ""))
    _table(pdf, ("Description", "HS code", "Packages", "Size (cm)", "Weight", "CBM", "DG"), rows,
           (52, 18, 24, 26, 24, 16, 30))
    pdf.set_font(FAMILY, "", 9)
    pdf.ln(1)
    pdf.cell(0, 5, f"{doc['pieces']} pieces · {_kg(doc['weight_kg'])} · {doc['volume_cbm']:.3f} CBM · chargeable "
                   f"{doc['chargeable_cbm']:.3f} CBM (W/M)", new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, "Price")
    price = doc.get("price_breakdown") or {}
    labels = (("base", "Freight"), ("minimum_top_up", "Minimum charge top-up"), ("dg_surcharge", "DG surcharge"),
              ("reefer_surcharge", "Reefer surcharge"), ("non_stackable_surcharge", "Non-stackable surcharge"),
              ("origin_handling", "Origin CFS handling"), ("destination_handling", "Destination handling"),
              ("pickup", "Pickup"), ("delivery", "Delivery"))
    currency = doc["price"]["currency"]
    rows = [(label, f"{price[key]} {currency}") for key, label in labels if price.get(key) not in (None, 0, "0.00")]
    rows.append(("Total", f"{doc['price']['amount']} {currency}"))
    _table(pdf, ("", "Amount"), rows, (60, 40))
    if doc.get("incoterm"):
        pdf.cell(0, 5, f"Incoterm: {doc['incoterm']}", new_x="LMARGIN", new_y="NEXT")
    if doc.get("emissions"):
        _emissions(pdf, doc["emissions"])
    _heading(pdf, "Conditions")
    pdf.set_font(FAMILY, "", 8)
    for index, text in enumerate(doc.get("conditions") or [], start=1):
        pdf.multi_cell(0, 4.2, f"{index}. {text}", new_x="LMARGIN", new_y="NEXT", align="L")
    return bytes(pdf.output())


_CO2E_GAPS = {"NO_DISTANCE": "no distance: NO_DISTANCE", "NO_FACTOR": "no factor: NO_FACTOR"}


def _emissions(pdf: FPDF, fp: dict[str, Any]) -> None:
    """The footprint as it stands: one row per leg and hub call, kg CO2e tank-to-wheel and well-to-wheel."""
    _heading(pdf, f"Emissions (ISO 14083, mass-based) · {_kg(fp['weight_kg'])} {fp['weight_basis'].lower()}")

    def basis(part: dict) -> str:
        return _CO2E_GAPS.get(part["status"]) or (part.get("factor") or {}).get("id") or part["status"]

    def kg(co2e: dict | None, key: str) -> str:
        return f"{co2e[key]:,.1f}" if co2e else "—"

    rows = [(f"{leg['from_hub']} → {leg['to_hub']}", leg["mode"],
             f"{leg['distance_km']:,.0f} km" if leg.get("distance_km") is not None else "—",
             basis(leg), kg(leg["co2e"], "ttw_kg"), kg(leg["co2e"], "wtw_kg"))
            for leg in fp["legs"]]
    rows += [(f"Handling at {hub['hub']}", "HUB", "", basis(hub), kg(hub["co2e"], "ttw_kg"), kg(hub["co2e"], "wtw_kg"))
             for hub in fp["hubs"]]
    rows.append(("Total of what could be computed" if not fp["complete"] else "Total", "", "", "",
                 f"{fp['ttw_kg']:,.1f}", f"{fp['wtw_kg']:,.1f}"))
    _table(pdf, ("Leg / hub", "Mode", "Distance", "Factor", "kg CO2e TTW", "kg CO2e WTW"), rows,
           (52, 14, 22, 50, 26, 26))


# --- CIM/SMGS consignment note ----------------------------------------------------------------

def _box(pdf: FPDF, x: float, y: float, w: float, h: float, label: str, text: str) -> None:
    pdf.rect(x, y, w, h)
    pdf.set_xy(x + 1, y + 0.8)
    pdf.set_font(FAMILY, "", 6.5)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(w - 2, 3, label)
    pdf.set_text_color(150, 0, 0) if text == TO_FILL else pdf.set_text_color(0, 0, 0)
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_xy(x + 1, y + 4.2)
    pdf.multi_cell(w - 2, 3.9, text, max_line_height=3.9, align="L")
    pdf.set_text_color(0, 0, 0)


def _box_height(pdf: FPDF, w: float, text: str) -> float:
    pdf.set_font(FAMILY, "", 8.5)
    lines = pdf.multi_cell(w - 2, 3.9, text, dry_run=True, output="LINES", align="L")
    return max(18.0, 6.0 + 3.9 * len(lines))


def _station_text(station: dict[str, Any] | None) -> str:
    if station is None:
        return TO_FILL
    code = station["railway_station_code"] or "to be filled"
    return f"{station['name']} ({station['un_locode']})\nstation code: {code}"


def consignment_note_pdf(note: dict[str, Any]) -> bytes:
    pdf = new_paper(f"Caravan · CIM/SMGS consignment note data · container {note['container_id']}")
    pdf.add_page()
    _title(pdf, "CIM/SMGS consignment note — data", f"container {note['container_id']} · departure "
                f"{note['departure_id']} (plan version {note['plan_version']}) · languages "
                f"{', '.join(note['languages'])} · departs {_when(note['departs_at'])}")
    consignee = note["consignee"]
    consignee_text = ", ".join(str(consignee.get(k)) for k in ("name", "address", "city", "country") if consignee.get(k)) \
        if consignee else TO_FILL
    container = note["container"]
    wagon = note["wagon"]
    borders = "\n".join(_station_text(s).replace("\n", " · ") for s in note["border_stations"]) or "—"
    x0, y, full = pdf.l_margin, pdf.get_y(), pdf.w - pdf.l_margin - pdf.r_margin
    half = full / 2
    grid = [
        [("Consignor", note["consignor"]["name"] or TO_FILL), ("Consignee", consignee_text)],
        [("Consignor's address", note["consignor"]["address"] or TO_FILL), ("Customs transit declaration",
                                                                               note["customs"]["transit_declaration"] or TO_FILL)],
        [("Departure station", _station_text(note["departure_station"])),
         ("Destination station", _station_text(note["destination_station"]))],
        [("Border / interchange stations", borders), ("Wagon", (f"position {wagon['position']} · {wagon['wagon_type']} · "
                                                                 f"number {wagon['wagon_number'] or 'to be filled'}")
                                                      if wagon else TO_FILL)],
        [("Container", f"{container['number'] or 'number to be filled'} · {container['type']} · tare "
                       f"{_kg(container['tare_kg'])}"),
         ("Seals", ", ".join(container["seals"]) or TO_FILL)],
    ]
    for row in grid:
        height = max(_box_height(pdf, half, text) for _, text in row)
        for column, (label, text) in enumerate(row):
            _box(pdf, x0 + column * half, y, half, height, label, text)
        y += height
    pdf.set_y(y + 2)
    _heading(pdf, "Goods, per booking")
    rows = []
    for entry in note["cargo"]:
        description = "; ".join(f"{line['description']} (HS {line['hs_code']}, {line['packages']} "
                                f"{line['package_type'].lower()})" for line in entry["lines"])
        rows.append((entry["booking"], entry["shipper"] or "", description, entry["packages"],
                     _kg(entry["gross_weight_kg"])))
    _table(pdf, ("Booking", "Shipper", "Description, HS code, packages", "Pkgs", "Gross"), rows, (27, 32, 89, 12, 30))
    totals = note["totals"]
    pdf.set_font(FAMILY, "B", 9)
    pdf.cell(0, 6, f"Total {totals['packages']} packages · cargo {_kg(totals['cargo_kg'])} · with the container "
                   f"{_kg(totals['gross_kg'])}", new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, "Dangerous goods (SMGS Annex 2 / RID)")
    if note["dangerous_goods"]:
        _table(pdf, ("Booking", "UN", "Class", "PG", "Description", "Documents"), [
            (d["booking"], d["un_number"], d["class"], d["packing_group"] or "", d["description"],
             ", ".join(f"{doc['kind']} {doc['reference']}" for doc in d["documents"])) for d in note["dangerous_goods"]
        ], (27, 12, 12, 10, 57, 72))
    else:
        pdf.cell(0, 5, "None.", new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, "Customs")
    exports = ", ".join(f"{c['booking']}: {c['reference']}" for c in note["customs"]["export_declarations"]) or "none given"
    pdf.multi_cell(0, 4.5, f"Export declarations: {exports}", new_x="LMARGIN", new_y="NEXT")
    if note["to_fill"]:
        _heading(pdf, "Still to fill before issue")
        pdf.multi_cell(0, 4.5, ", ".join(note["to_fill"]), new_x="LMARGIN", new_y="NEXT", align="L")
    return bytes(pdf.output())


# --- train list --------------------------------------------------------------------------------

def consist_pdf(doc: dict[str, Any], title: str) -> bytes:
    pdf = new_paper(f"Caravan · train list · departure {doc['departure_id']} · plan version {doc['plan_version']}")
    pdf.add_page()
    totals = doc["totals"]
    _title(pdf, "Train list (consist)", f"{title} · plan version {doc['plan_version']}"
                                        f"{' · locked' if doc.get('locked') else ''}")
    pdf.set_font(FAMILY, "", 9)
    pdf.multi_cell(0, 5, f"{totals['wagons']} wagons · {totals['containers']} containers · {totals['feu']:g} FEU · "
                         f"{totals['length_m']:g} m · cargo {totals['cargo_kg'] / 1000:,.1f} t · containers gross "
                         f"{totals['containers_gross_kg'] / 1000:,.1f} t · train gross "
                         f"{totals['train_gross_kg'] / 1000:,.1f} t", new_x="LMARGIN", new_y="NEXT")
    limits = doc["limits"]
    pdf.set_font(FAMILY, "", 8)
    pdf.set_text_color(80, 80, 80)
    shown = [f"max {limits['max_feu']} FEU" if limits["max_feu"] else "",
             f"max cargo {limits['max_cargo_kg'] / 1000:,.0f} t" if limits["max_cargo_kg"] else "",
             f"max length {limits['max_train_length_m']:g} m" if limits["max_train_length_m"] else "",
             f"20' pairs within {limits['pair_max_difference_kg']:g} kg" if limits["pair_max_difference_kg"] else "",
             "heaviest wagons off the ends" if limits["heavy_wagons_off_ends"] else ""]
    pdf.multi_cell(0, 4.5, "Limits: " + " · ".join(s for s in shown if s), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(1)
    rows = []
    for wagon in doc["wagons"]:
        for index, c in enumerate(wagon["containers"]):
            first = index == 0
            rows.append((wagon["position"] if first else "", wagon["wagon_type"] if first else "",
                         c["container_number"] or f"({c['id']})", c["type"], c["destination"], c["seal_number"] or "",
                         _kg(c["cargo_kg"]), _kg(c["gross_kg"]), _kg(wagon["gross_kg"]) if first else ""))
    _table(pdf, ("Pos", "Wagon", "Container", "Type", "To", "Seal", "Cargo", "Gross", "Wagon gross"), rows,
           (10, 14, 30, 12, 16, 24, 28, 28, 28))
    if doc["warnings"]:
        _heading(pdf, "Warnings")
        for warning in doc["warnings"]:
            pdf.multi_cell(0, 4.5, f"• {warning}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
