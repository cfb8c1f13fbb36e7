"""From a page's form to the request bodies the API takes, and back from their errors to the form.

A form sends text; the request bodies take JSON as declared (a number sent as a string is
refused). So a number is read as a number where it is one, and left as text where it is not,
for the body's own validation to name the field. Field names: ``cargo-0-weight_kg`` for the
body's ``cargo.0.weight_kg``, ``consignee-city`` for ``consignee.city``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app.console.i18n import Formats, validation_message
from app.console.web import Form
from app.errors import AppError

MAX_LINES = 50
CARGO_FIELDS = ("description", "hs_code", "packages", "package_type", "length_cm", "width_cm", "height_cm",
                "weight_kg", "stackable", "this_way_up", "dg_un_number", "dg_class", "dg_packing_group",
                "temp_min", "temp_max")
CONSIGNEE_FIELDS = ("name", "address", "city", "country", "email", "phone")


def number(text: str) -> Any:
    """``"12"`` → 12, ``"1.5"`` → 1.5; blank → None; anything else stays text (the body names it)."""
    text = text.strip().replace("，", ",").replace(",", "") if text else ""
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    return value if value == value and value not in (float("inf"), float("-inf")) else text


def _put(body: dict[str, Any], name: str, value: Any) -> None:
    if value is not None and value != "":
        body[name] = value


def cargo_line(form: Form, index: int) -> dict[str, Any] | None:
    """Cargo line ``index`` as the API's cargo line, or None when the form's line is left empty."""
    get = lambda name: form.get(f"cargo-{index}-{name}")  # noqa: E731
    if not any(get(name) for name in CARGO_FIELDS if name not in ("package_type", "stackable", "this_way_up")):
        return None
    line: dict[str, Any] = {"description": get("description"), "hs_code": get("hs_code"),
                            "package_type": get("package_type") or "CARTON"}
    for name in ("packages", "length_cm", "width_cm", "height_cm", "weight_kg"):
        _put(line, name, number(get(name)))
    line["stackable"] = form.flag(f"cargo-{index}-stackable")
    if form.flag(f"cargo-{index}-this_way_up"):
        line["vertical"] = ["height"]
    if get("dg_un_number") or get("dg_class"):
        line["dangerous_goods"] = {"un_number": get("dg_un_number"), "class": get("dg_class")}
        _put(line["dangerous_goods"], "packing_group", get("dg_packing_group"))
    if get("temp_min") or get("temp_max"):
        line["temperature_c"] = {"min": number(get("temp_min")), "max": number(get("temp_max"))}
    return line


def cargo_lines(form: Form) -> list[dict[str, Any]]:
    lines = [cargo_line(form, index) for index in range(MAX_LINES)]
    return [line for line in lines if line is not None]


def consignee(form: Form) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name in CONSIGNEE_FIELDS:
        _put(body, name, form.get(f"consignee-{name}"))
    if "country" in body:
        body["country"] = body["country"].upper()
    return body


def line_values(line: dict[str, Any], index: int) -> dict[str, Any]:
    """A booking's cargo line (as read) as the form's values, to fill an amendment form."""
    dg = line.get("dangerous_goods") or {}
    temp = line.get("temperature_c") or {}
    values = {f"cargo-{index}-{name}": line.get(name) for name in
              ("description", "hs_code", "packages", "package_type", "length_cm", "width_cm", "height_cm",
               "weight_kg")}
    values[f"cargo-{index}-stackable"] = line.get("stackable", True)
    values[f"cargo-{index}-this_way_up"] = line.get("vertical") == ["height"]
    values[f"cargo-{index}-dg_un_number"] = dg.get("un_number")
    values[f"cargo-{index}-dg_class"] = dg.get("class") or dg.get("dg_class")
    values[f"cargo-{index}-dg_packing_group"] = dg.get("packing_group")
    values[f"cargo-{index}-temp_min"] = temp.get("min") if temp.get("min") is not None else temp.get("min_c")
    values[f"cargo-{index}-temp_max"] = temp.get("max") if temp.get("max") is not None else temp.get("max_c")
    return {name: value for name, value in values.items() if value is not None}


def form_values(form: Form) -> dict[str, Any]:
    """What was sent, to show the form again as it was filled (checkboxes as booleans)."""
    values: dict[str, Any] = {name: items[0] for name, items in form.values.items() if name != "csrf_token"}
    for index in range(MAX_LINES):
        for box in ("stackable", "this_way_up"):
            name = f"cargo-{index}-{box}"
            if f"cargo-{index}-description" in values or f"cargo-{index}-packages" in values:
                values[name] = form.flag(name)
    return values


def form_name(path: str) -> str:
    """``cargo.0.dangerous_goods.class`` → ``cargo-0-dg_class``; ``consignee.city`` → ``consignee-city``."""
    parts = path.split(".")
    if parts[:1] == ["cargo"] and len(parts) >= 3:
        rest = parts[2:]
        if rest[0] == "dangerous_goods":
            return f"cargo-{parts[1]}-dg_" + {"class": "class", "un_number": "un_number",
                                                "packing_group": "packing_group"}.get(rest[-1], "class")
        if rest[0] == "temperature_c":
            return f"cargo-{parts[1]}-temp_" + ("max" if rest[-1] == "max" else "min")
        if rest[0] == "vertical":
            return f"cargo-{parts[1]}-this_way_up"
        return f"cargo-{parts[1]}-{rest[0]}"
    return "-".join(parts[:2])


@dataclass
class FormErrors:
    """The errors of one form: by form field, and those that name no field of it."""

    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    def get(self, name: str) -> str | None:
        return self.fields.get(name)


def from_validation(error: ValidationError, fmt: Formats, known: set[str] | None = None) -> FormErrors:
    found = FormErrors()
    for item in error.errors():
        path = ".".join(str(part) for part in item.get("loc", ()))
        message = validation_message(fmt, item)
        name = form_name(path) if path else ""
        if name and (known is None or name in known or name.startswith(("cargo-", "consignee-"))):
            found.fields.setdefault(name, message)
        else:
            found.general.append(f"{path}: {message}" if path else message)
    return found


def from_app_error(error: AppError) -> FormErrors:
    found = FormErrors()
    for item in error.errors:
        found.fields.setdefault(form_name(item.field), item.message)
    if not found.fields:
        found.general.append(error.detail)
    return found
