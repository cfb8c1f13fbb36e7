"""Space control promises only what stuffs: the planner's volume rule fills at most the share of a container
that mixed cargo reliably stuffs, and sees the floor tall upright packages take."""

from dataclasses import dataclass

from app import cargo, planner, stuffing
from app.consolidation.stuffing import stuff

MIN_HEIGHT_M = 2.393


@dataclass
class Line:
    package_type: str
    packages: int
    length_cm: float
    width_cm: float
    height_cm: float
    weight_kg: float
    stackable: bool = True
    vertical: list[str] | None = None

    @property
    def volume_cbm(self) -> float:
        return self.packages * self.length_cm * self.width_cm * self.height_cm / 1e6


def footprint(lines: list[Line]) -> float | None:
    non_stackable = sum(x.packages * x.length_cm * x.width_cm / 1e4 for x in lines if not x.stackable) or None
    return cargo.planner_footprint_m2(non_stackable, lines, sum(x.volume_cbm for x in lines), MIN_HEIGHT_M)


def test_tall_upright_pallets_block_their_floor_to_the_roof():
    pallets = Line("PALLET", 11, 110, 110, 159, 8000)
    assert abs(footprint([pallets]) - 11 * 1.21) < 1e-9
    # Low enough for a second to stand on it, or allowed to lie down: only their volume counts.
    assert footprint([Line("PALLET", 11, 110, 110, 110, 8000)]) is None
    assert footprint([Line("PALLET", 11, 110, 110, 159, 8000, vertical=["height", "width"])]) is None
    # Beside them, stackable cartons count as the floor they would take at the lowest height.
    cartons = Line("CARTON", 100, 50, 40, 30, 900)
    assert abs(footprint([pallets, cartons]) - (11 * 1.21 + cartons.volume_cbm / MIN_HEIGHT_M)) < 1e-9


def _document(code, lines_by_booking):
    length_cm, width_cm = cargo.INNER_FLOOR_CM[code[:2]]
    return {"container": {"code": code, "length_cm": length_cm, "width_cm": width_cm, "height_cm": 269.8,
                          "payload_kg": 26500}, "support_ratio": 0.75,
            "pieces": [{"id": f"{ref}/{i}", "count": x.packages, "length_cm": x.length_cm, "width_cm": x.width_cm,
                        "height_cm": x.height_cm, "weight_kg": x.weight_kg / x.packages,
                        "vertical": cargo.vertical_sides(x.package_type, x.vertical), "stackable": x.stackable,
                        "group": ref} for ref, lines in lines_by_booking.items() for i, x in enumerate(lines, 1)]}


def test_bookings_whose_tall_pallets_cannot_share_a_floor_are_not_planned_into_one_container():
    """Found by bench/stuffing_margin.py: two bookings at 58 % of a 40HC's volume that no stuffing takes
    (their pallets need 29.2 m² of its 28.3 m² floor). By volume alone the planner put them together."""
    first = [Line("CRATE", 4, 106, 127, 117, 1556), Line("CARTON", 24, 49, 27, 44, 459, vertical=["height"]),
             Line("PALLET", 11, 120, 100, 118, 2322, stackable=False)]
    second = [Line("PALLET", 11, 110, 110, 159, 8458)]
    together = _document("40HC", {"A": first, "B": second})
    assert stuff(together, 1.0).plan is None  # the stuffing cannot
    hc = planner.ContainerType(code="40HC", payload_kg=26500, usable_cbm=66.0, inner_height_m=2.698, cost=5600,
                               reefer=False, teu=2)
    shipments = []
    for ref, lines in (("A", first), ("B", second)):
        non_stackable = sum(x.packages * x.length_cm * x.width_cm / 1e4 for x in lines if not x.stackable) or None
        fp = cargo.planner_footprint_m2(non_stackable, lines, sum(x.volume_cbm for x in lines), 2.698)
        shipments.append(planner.Shipment(id=ref, destination="DEDUI", weight_kg=sum(x.weight_kg for x in lines),
                                          volume_cbm=sum(x.volume_cbm for x in lines), stackable=fp is None,
                                          footprint_m2=fp))
    plan = planner.solve(planner.Instance(container_types=(hc,), shipments=tuple(shipments)), time_limit_s=0.5)
    assert sorted(len(c.shipments) for c in plan.containers) == [1, 1]
    for container in plan.containers:  # and each alone stuffs
        ref = container.shipments[0]
        document = _document("40HC", {ref: first if ref == "A" else second})
        result = stuff(document, 2.0)
        assert result.plan is not None
        assert stuffing.check_stuffing(stuffing.instance_from_dict(document), result.plan) == []


def test_the_planner_fills_at_most_the_share_of_a_container_that_stuffs():
    # A 40HC's inner volume is 12.03 x 2.35 x 2.698 m = 76.27 m³; 82 % of it is 62.54 m³, under its 66 "usable".
    assert cargo.stuffable_cbm("40HC", 2.698, 66.0) == round(0.82 * 76.273809, 3)
    assert cargo.STUFFABLE_SHARE == 0.82
    # An operator's more careful figure stands.
    assert cargo.stuffable_cbm("20GP", 2.393, 20.0) == 20.0
