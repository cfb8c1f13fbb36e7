"""The printed loading plan for the CFS crew, as a PDF (fpdf2).

Pure over the FORMAT.md documents like the rest of ``app.stuffing``: no
database, no web framework.  fpdf2 is pure Python and needs no system
library; the fonts it embeds ship in ``fonts/`` (see its README for their
licences), so the PDF is the same on every machine.

    loading_plan_pdf(instance, plan, header) -> bytes

``header`` (every key optional, values are user text and printed as given):

- ``container_number``, ``container_type`` (default: the instance's container code),
  ``seal``, ``destination``, ``origin``, ``departure``, ``title``, ``reference``;
- ``marks``: ``{key: text}`` shipping marks / description, where the key is a
  booking reference (``group``) or a piece line ``id`` (the piece id wins);
- ``groups``: ``{group: text}`` a longer name per booking (e.g. the shipper), optional.

Pages: 1, the container, its figures and the pictures (isometric, top, side);
2, the loading stages; 3 on, the numbered loading steps, then totals and the
signatures.  Page count of a plan with n placements: ``2 + pages of the list``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from .drawing import Drawing, _boxes, _rgb, group_colours
from .picture import (
    legend_rows,
    loading_stages,
    stuffing_drawing,
    stuffing_steps_drawing,
)

__all__ = ["FAMILY", "loading_plan_pdf", "new_paper"]

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVu"
PT_PER_MM = 72 / 25.4
_HEADINGS = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))


class _Paper(FPDF):
    footer_text = ""

    def footer(self) -> None:  # fpdf2 calls this on every page
        self.set_y(-11)
        self.set_font(FAMILY, "", 7.5)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)


def _new_pdf(footer: str) -> _Paper:
    pdf = _Paper(orientation="P", unit="mm", format="A4")
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_font("DroidCJK", "", str(FONTS / "DroidSansFallback-GB2312.ttf"))
    pdf.add_font("DroidCJK", "B", str(FONTS / "DroidSansFallback-GB2312.ttf"))
    pdf.set_fallback_fonts(["DroidCJK"], exact_match=False)
    pdf.set_creator("Caravan")
    pdf.footer_text = footer
    return pdf


def new_paper(footer: str) -> FPDF:
    """An A4 page setup with the bundled fonts (DejaVu, CJK fallback) and a footer with page numbers,
    for the other papers (booking confirmation, consignment note, train list): one PDF library for all."""
    return _new_pdf(footer)


def _colour(pdf: FPDF, setter: str, colour: str) -> None:
    r, g, b = (round(c * 255) for c in _rgb(colour))
    getattr(pdf, setter)(r, g, b)


def _draw(pdf: FPDF, d: Drawing, x0: float, y0: float, width_mm: float, *, text_scale: float = 1.0) -> float:
    """Draw ``d`` with its top-left corner at (x0, y0) mm, ``width_mm`` wide; returns the height in mm."""
    k = width_mm / d.width
    X = lambda x: x0 + x * k
    Y = lambda y: y0 + y * k
    pdf.set_line_width(0.2)
    for item in d.items:
        kind = item[0]
        if kind == "poly":
            _, pts, fill, stroke, sw = item
            _colour(pdf, "set_fill_color", fill)
            if stroke:
                _colour(pdf, "set_draw_color", stroke)
                pdf.set_line_width(max(sw * k, 0.05))
            pdf.polygon([(X(x), Y(y)) for x, y in pts], style="DF" if stroke else "F")
        elif kind == "line":
            _, x1, y1, x2, y2, stroke, w, dashed = item
            _colour(pdf, "set_draw_color", stroke)
            pdf.set_line_width(max(w * k, 0.05))
            if dashed:
                pdf.set_dash_pattern(dash=1.2, gap=1.0)
            pdf.line(X(x1), Y(y1), X(x2), Y(y2))
            if dashed:
                pdf.set_dash_pattern()
        elif kind == "circle":
            _, cx, cy, r, fill, stroke, w = item
            _colour(pdf, "set_fill_color", fill)
            _colour(pdf, "set_draw_color", stroke)
            pdf.set_line_width(max(w * k, 0.05))
            pdf.circle(X(cx), Y(cy), r * k, style="DF")
        elif kind == "text":
            _, x, y, s, size, anchor, bold, fill, angle = item
            pdf.set_font(FAMILY, "B" if bold else "", size * k * text_scale * PT_PER_MM)
            _colour(pdf, "set_text_color", fill)
            w = pdf.get_string_width(s)
            dx = {"start": 0.0, "middle": -w / 2, "end": -w}[anchor]
            if angle:
                with pdf.rotation(-angle, X(x), Y(y)):
                    pdf.text(X(x) + dx, Y(y), s)
            else:
                pdf.text(X(x) + dx, Y(y), s)
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_line_width(0.2)
    return d.height * k


def _orientation(piece: dict | None, p: dict) -> str:
    """Which side of the package stands up, in words, and whether it is turned on the floor."""
    if piece is None:
        return ""
    h = float(p["height_cm"])
    dims = {"length": float(piece["length_cm"]), "width": float(piece["width_cm"]),
            "height": float(piece["height_cm"])}
    up = next((side for side in ("height", "length", "width") if abs(dims[side] - h) < 1e-6), None)
    if up is None:
        return ""
    word = {"height": "upright", "length": "on end", "width": "on side"}[up]
    if up == "height":
        turned = abs(float(p["length_cm"]) - dims["length"]) > 1e-6 and dims["length"] != dims["width"]
        return word + (", turned" if turned else "")
    return word


def _kv(pdf: FPDF, pairs: list[tuple[str, str]], col_w: float) -> None:
    """Label/value pairs in two columns."""
    y = pdf.get_y()
    for i, (label, value) in enumerate(pairs):
        x = pdf.l_margin + (i % 2) * col_w
        if i % 2 == 0 and i:
            y += 6.2
        pdf.set_xy(x, y)
        pdf.set_font(FAMILY, "", 8)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(30, 6, label)
        pdf.set_text_color(0, 0, 0)
        size = 10.5
        pdf.set_font(FAMILY, "B", size)
        while size > 6.5 and pdf.get_string_width(value) > col_w - 33:
            size -= 0.5
            pdf.set_font(FAMILY, "B", size)
        pdf.cell(col_w - 32, 6, value or "\u2014")
    pdf.set_xy(pdf.l_margin, y + 8)


def loading_plan_pdf(instance: dict, plan: dict, header: dict[str, Any] | None = None) -> bytes:
    """The printed loading plan: header, pictures, loading stages, numbered steps, totals, signatures."""
    header = dict(header or {})
    c = instance["container"]
    pieces = {p["id"]: p for p in instance.get("pieces", [])}
    marks = header.get("marks") or {}
    groups_text = header.get("groups") or {}
    number = str(header.get("container_number") or "")
    ctype = str(header.get("container_type") or c["code"])
    placements = sorted(plan.get("placements", []), key=lambda p: p["step"])
    colours = group_colours(instance)

    footer = f"Loading plan {ctype} {number}".strip()
    if header.get("reference"):
        footer += f" \u00b7 {header['reference']}"
    pdf = _new_pdf(footer)
    pdf.set_title(f"Loading plan {ctype} {number}".strip())

    # ---------------------------------------------------------------- page 1: the container and the pictures
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 17)
    pdf.cell(0, 9, str(header.get("title") or "Container loading plan"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    _kv(pdf, [
        ("Container type", f"{ctype} ({float(c['length_cm']):.0f} \u00d7 {float(c['width_cm']):.0f} \u00d7 "
                           f"{float(c['height_cm']):.0f} cm)"),
        ("Container no.", number),
        ("Seal no.", str(header.get("seal") or "")),
        ("Destination", str(header.get("destination") or "")),
        ("Origin", str(header.get("origin") or "")),
        ("Departure", str(header.get("departure") or "")),
    ], 95)
    drawing = stuffing_drawing(instance, plan, title=f"{ctype} {number}".strip(), legend=False)
    # Drop the drawing's own heading (the page has one); keep its caption lines.
    drawing.items = [it for it in drawing.items if not (it[0] == "text" and it[4] == 20)]
    top = pdf.get_y() - 6
    h = _draw(pdf, drawing, pdf.l_margin, top, pdf.epw, text_scale=1.3)
    pdf.set_y(top + h + 1)

    # Bookings: colour, reference, packages, weight.
    weight_of = {pid: float(p.get("weight_kg", 0.0)) for pid, p in pieces.items()}
    pdf.set_font(FAMILY, "B", 10)
    pdf.cell(0, 6, "Bookings in this container", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 8.5)
    with pdf.table(col_widths=(6, 40, 86, 22, 26), text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT"),
                   line_height=4.6, first_row_as_headings=True, headings_style=_HEADINGS,
                   padding=(0.6, 1.0)) as table:
        row = table.row()
        for t in ("", "Booking", "Marks / description", "Packages", "Weight"):
            row.cell(t)
        for g, n, kg in legend_rows(instance, _boxes(instance, plan, None)):
            r, gg, b = (round(v * 255) for v in _rgb(colours[g]))
            row = table.row()
            row.cell("", style=_fill_style(r, gg, b))
            row.cell("(no booking)" if g is None else str(g))
            row.cell(str(groups_text.get(g) or marks.get(g) or "") if g is not None else "")
            row.cell(str(n))
            row.cell(f"{kg:,.1f} kg")

    # ---------------------------------------------------------------- page 2: the stages
    stages = loading_stages(plan)
    if stages:
        pdf.add_page()
        pdf.set_font(FAMILY, "B", 14)
        pdf.cell(0, 8, "Loading stages: what is in after each stage", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FAMILY, "", 8.5)
        pdf.multi_cell(0, 4.5, "Load from the front wall towards the door, in step order. Each picture shows the "
                               "container after the stage; the packages of that stage are in colour, earlier "
                               "ones pale.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        steps_d = stuffing_steps_drawing(instance, plan, title=f"{ctype} {number}".strip())
        steps_d.items = [it for it in steps_d.items if not (it[0] == "text" and it[4] == 18)]
        _draw(pdf, steps_d, pdf.l_margin, pdf.get_y() - 8, pdf.epw, text_scale=1.25)

    # ---------------------------------------------------------------- pages 3+: the numbered steps
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 14)
    pdf.cell(0, 8, "Loading steps", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 8)
    pdf.multi_cell(0, 4.2, "Position: x from the front wall, y from the left side wall (seen from the door: "
                           "the y = 0 side), z from the floor, to the package's corner nearest the front wall, "
                           "the y = 0 side and the floor; sizes as placed (along \u00d7 across \u00d7 up).",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    stage_of = {}
    for t, (first, last) in enumerate(stages):
        for s in range(first, last + 1):
            stage_of[s] = t + 1
    rows = []
    for p in placements:
        piece = pieces.get(p["id"])
        g = piece.get("group") if piece else None
        orient = _orientation(piece, p)
        rows.append((
            str(p["step"]),
            str(stage_of.get(p["step"], "")),
            "" if g is None else str(g),
            str(marks.get(p["id"]) or (marks.get(g) if g is not None else "") or ""),
            str(p["id"]),
            f"{float(p['x_cm']):.0f} / {float(p['y_cm']):.0f} / {float(p['z_cm']):.0f}",
            f"{float(p['length_cm']):g}\u00d7{float(p['width_cm']):g}\u00d7{float(p['height_cm']):g}"
            + (f" {orient}" if orient else ""),
            f"{weight_of.get(p['id'], 0.0):g}",
            "",
        ))
    _rows_table(pdf, ("Step", "Stg", "Booking", "Marks / description", "Package", "x / y / z cm",
                      "Size as placed, cm", "kg", "\u2713"),
                (10, 8, 26, 34, 26, 26, 40, 12, 8), "RRLLLRLRC", rows)

    # ---------------------------------------------------------------- totals and signatures
    if pdf.get_y() > pdf.h - 95:
        pdf.add_page()
    pdf.ln(4)
    total_kg = sum(weight_of.get(p["id"], 0.0) for p in placements)
    cog = plan.get("centre_of_gravity_cm")
    L, W = float(c["length_cm"]), float(c["width_cm"])
    left_out = sum(int(u.get("count", 0)) for u in plan.get("unplaced", []) or [])
    pdf.set_font(FAMILY, "B", 11)
    pdf.cell(0, 6, "Totals", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 9.5)
    lines = [
        f"Packages: {len(placements)}" + (f" (not loaded: {left_out})" if left_out else ""),
        f"Total weight: {total_kg:,.1f} kg" + (f" of {float(c['payload_kg']):,.0f} kg payload"
                                               if c.get("payload_kg") else ""),
        f"Volume used: {100 * float(plan.get('volume_utilisation') or 0):.1f} %",
    ]
    if cog:
        text = (f"Centre of gravity: x {float(cog['x']):.0f} cm ({float(cog['x']) - L / 2:+.0f} from the "
                f"middle), y {float(cog['y']):.0f} cm ({float(cog['y']) - W / 2:+.0f}), "
                f"z {float(cog['z']):.0f} cm above the floor")
        lines.append(text.replace("(-0", "(\u00b10").replace("(+0", "(\u00b10"))
    for line in lines:
        pdf.cell(0, 5.2, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(5)
    pdf.set_font(FAMILY, "B", 11)
    pdf.cell(0, 6, "Sign-off", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 8.5)
    with pdf.table(col_widths=(34, 56, 56, 44), line_height=11, first_row_as_headings=True,
                   headings_style=_HEADINGS) as table:
        row = table.row()
        for t in ("", "Name", "Signature", "Date / time"):
            row.cell(t)
        for who in ("Loaded by", "Checked by", "Seal applied by"):
            row = table.row()
            row.cell(who)
            row.cell("")
            row.cell("")
            row.cell("")
    pdf.ln(3)
    pdf.set_font(FAMILY, "", 8.5)
    pdf.cell(0, 5, "Seal no. as applied: ______________________    Remarks / damage noted: "
                   "__________________________________", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` mm in the current font."""
    if len(text) * pdf.font_size < width or pdf.get_string_width(text) <= width:  # no glyph is over 1 em
        return text
    while text and pdf.get_string_width(text + "\u2026") > width:
        text = text[:-1]
    return text + "\u2026"


def _rows_table(pdf: FPDF, head: tuple[str, ...], widths: tuple[float, ...], aligns: str,
                rows: list[tuple[str, ...]], *, size: float = 7.5, line_h: float = 4.6) -> None:
    """A ruled table of one-line rows, its heading repeated on every page.

    Plain cells rather than fpdf2's ``table()``, whose per-cell line breaking
    took seconds for a few hundred rows; long texts are cut with an ellipsis.
    """
    def heading() -> None:
        pdf.set_font(FAMILY, "B", size)
        pdf.set_fill_color(225, 225, 225)
        for w, a, t in zip(widths, aligns, head):
            pdf.cell(w, line_h + 0.6, _fit(pdf, t, w - 1.2), border=1, align=a, fill=True)
        pdf.ln(line_h + 0.6)
        pdf.set_font(FAMILY, "", size)

    heading()
    for row in rows:
        if pdf.get_y() + line_h > pdf.page_break_trigger:
            pdf.add_page()
            heading()
        for w, a, t in zip(widths, aligns, row):
            pdf.cell(w, line_h, _fit(pdf, t, w - 1.2), border=1, align=a)
        pdf.ln(line_h)


def _fill_style(r: int, g: int, b: int) -> FontFace:
    return FontFace(fill_color=(r, g, b))
