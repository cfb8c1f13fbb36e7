"""The emissions core, hand-computed per mode: a test fails if a factor, the arithmetic or the allocation changes."""

from __future__ import annotations

import pytest

from app.emissions import (
    AIR_ADDED_KM,
    FactorTable,
    HubCallIn,
    Intensity,
    LegIn,
    factor_table,
    footprint,
    great_circle_km,
    leg_co2e,
    leg_distance,
)
from app.emissions.factors import parse_factors

# Operator figures for the tests (g CO2e per t·km: TTW, WTT); the shipped table is tested on its own below.
RAIL = Intensity("test-rail", 27.8, 6.91)
ROAD = Intensity("test-road", 77.0, 18.0)
AIR = Intensity("test-air", 531.0, 135.0)
WATER = Intensity("test-water", 30.0, 7.0)


@pytest.mark.parametrize(
    ("mode", "mass_t", "km", "intensity", "ttw", "wtt", "wtw"),
    [
        # 2.5 t × 10 000 km = 25 000 t·km; × 27.8 g = 695 kg; × 6.91 g = 172.75 kg
        ("RAIL", 2.5, 10_000, RAIL, 695.0, 172.75, 867.75),
        # 2.5 t × 120 km = 300 t·km; × 77 g = 23.1 kg; × 18 g = 5.4 kg
        ("ROAD", 2.5, 120, ROAD, 23.1, 5.4, 28.5),
        # 2.5 t × 8 000 km = 20 000 t·km; × 531 g = 10 620 kg; × 135 g = 2 700 kg
        ("AIR", 2.5, 8_000, AIR, 10_620.0, 2_700.0, 13_320.0),
        # 2.5 t × 1 000 km = 2 500 t·km; × 30 g = 75 kg; × 7 g = 17.5 kg
        ("WATER", 2.5, 1_000, WATER, 75.0, 17.5, 92.5),
    ],
)
def test_a_leg_is_mass_times_distance_times_intensity(mode, mass_t, km, intensity, ttw, wtt, wtw):
    out = leg_co2e(LegIn(mode, mass_t, km, intensity))
    assert out.status == "OK"
    assert out.tkm == mass_t * km
    assert (out.co2e.ttw_kg, out.co2e.wtt_kg, out.co2e.wtw_kg) == (ttw, wtt, wtw)


def test_allocation_is_by_mass_so_half_the_mass_emits_half():
    whole = leg_co2e(LegIn("RAIL", 2.0, 1_000, RAIL)).co2e
    half = leg_co2e(LegIn("RAIL", 1.0, 1_000, RAIL)).co2e
    assert half.wtw_kg * 2 == pytest.approx(whole.wtw_kg)
    assert footprint([LegIn("RAIL", 1.0, 1_000, RAIL)]).as_json()["allocation"] == "MASS"


def test_a_footprint_echoes_its_inputs_and_totals_the_rounded_parts():
    fp = footprint(
        [LegIn("ROAD", 0.8, 35.0, ROAD, echo={"from_hub": "CNWUH-CFS", "to_hub": "CNWUH-WJS"}),
         LegIn("RAIL", 0.8, 10_300.0, RAIL, echo={"from_hub": "CNWUH-WJS", "to_hub": "DEDUI-DIT"})],
        [HubCallIn("CNWUH-WJS", 0.8, Intensity("hub:CNWUH-WJS", 1.5, 0.5))],
    )
    road, rail = fp.as_json()["legs"]
    # 0.8 × 35 = 28 t·km: 2.156 + 0.504; 0.8 × 10 300 = 8 240 t·km: 229.072 + 56.9384 → 56.938
    assert road["tkm"] == 28.0 and road["co2e"] == {"ttw_kg": 2.156, "wtt_kg": 0.504, "wtw_kg": 2.66}
    assert rail["co2e"] == {"ttw_kg": 229.072, "wtt_kg": 56.938, "wtw_kg": 286.01}
    assert rail["from_hub"] == "CNWUH-WJS" and rail["mass_t"] == 0.8 and rail["distance_km"] == 10_300.0
    assert rail["factor"]["id"] == "test-rail" and rail["factor"]["ttw_g_per_tkm"] == 27.8
    hub = fp.as_json()["hubs"][0]
    assert hub["co2e"] == {"ttw_kg": 1.2, "wtt_kg": 0.4, "wtw_kg": 1.6}  # 0.8 t × 1.5 and × 0.5 kg/t
    assert fp.total.ttw_kg == round(2.156 + 229.072 + 1.2, 3)
    assert fp.total.wtt_kg == round(0.504 + 56.938 + 0.4, 3)
    assert fp.total.wtw_kg == round(fp.total.ttw_kg + fp.total.wtt_kg, 3)
    assert fp.complete
    assert fp.by_mode()["RAIL"].wtw_kg == 286.01


def test_a_leg_without_a_factor_or_a_distance_is_flagged_and_left_out_of_the_total():
    fp = footprint([LegIn("AIR", 1.0, 9_000, None), LegIn("RAIL", 1.0, None, RAIL, distance_basis="UNKNOWN"),
                    LegIn("ROAD", 1.0, 100, ROAD)])
    assert [leg.status for leg in fp.legs] == ["NO_FACTOR", "NO_DISTANCE", "OK"]
    assert not fp.complete
    assert fp.total.wtw_kg == 9.5  # the road leg only: 100 t·km × 95 g


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        LegIn("RAIL", -1.0, 10, RAIL)
    with pytest.raises(ValueError):
        LegIn("RAIL", 1.0, 2_000_000, RAIL)
    with pytest.raises(ValueError):
        Intensity("x", -1.0, 0.0)


def test_great_circle_and_the_stated_detours():
    # London (51.5074 N, 0.1278 W) to Paris (48.8566 N, 2.3522 E): about 343.6 km by the haversine formula.
    london_paris = great_circle_km(51.5074, -0.1278, 48.8566, 2.3522)
    assert london_paris == pytest.approx(343.6, abs=0.5)
    km, basis = leg_distance("AIR", None, (51.5074, -0.1278), (48.8566, 2.3522))
    assert basis == "GREAT_CIRCLE" and km == pytest.approx(london_paris + AIR_ADDED_KM)
    km, _ = leg_distance("RAIL", None, (51.5074, -0.1278), (48.8566, 2.3522))
    assert km == pytest.approx(london_paris * 1.2)
    assert leg_distance("RAIL", 470.0, (51.5074, -0.1278), (48.8566, 2.3522)) == (470.0, "OPERATOR")
    assert leg_distance("RAIL", None, None, (48.8566, 2.3522)) == (None, "UNKNOWN")
    with pytest.raises(ValueError):
        great_circle_km(91, 0, 0, 0)


def test_the_shipped_table_holds_only_checked_figures_with_their_source():
    table = factor_table()
    # DESNZ 2025, kg CO2e per tonne.km x 1000, as read off the published tables (factors.csv names each row).
    checked = {
        "DESNZ-2025-RAIL-FREIGHT": ("RAIL", 27.79, 6.91, "Freight train"),
        "DESNZ-2025-HGV-ARTIC-AVG": ("ROAD", 78.00, 18.23, "All artics > Average laden"),
        "DESNZ-2025-AIR-LONG-HAUL": ("AIR", 531.30, 135.16, "without RF"),
    }
    for fid, (mode, ttw, wtt, row) in checked.items():
        factor = table.factors[fid]
        assert (factor.mode, factor.ttw_g_per_tkm, factor.wtt_g_per_tkm) == (mode, ttw, wtt)
        assert row in factor.row and factor.year == 2025 and factor.licence == "OGL-3.0"
        assert table.default_for(mode) == factor.intensity
    # No inland-waterway row in the 2025 table: WATER has no default, a barge service needs its own figure.
    assert table.factors["DESNZ-2025-CARGO-SHIP-AVG"].intensity is None and table.default_for("WATER") is None
    assert all(f.source and f.table and f.row and f.year for f in table.factors.values())


def test_a_complete_row_becomes_its_modes_default_and_bad_tables_are_refused():
    header = "id,mode,vehicle,ttw_g_per_tkm,wtt_g_per_tkm,source,table,row,year,licence\n"
    table = FactorTable(parse_factors([
        "# comment\n", header,
        "R1,RAIL,train,27.8,6.91,S,T,Rail > Freight train,2025,OGL-3.0\n",
        "R2,RAIL,train,99,9,S,T,Other,2025,OGL-3.0\n",
    ]))
    assert table.default_for("RAIL") == Intensity("R1", 27.8, 6.91, "S 2025, Rail > Freight train")
    with pytest.raises(ValueError, match="twice"):
        parse_factors([header, "R1,RAIL,t,1,1,S,T,R,2025,L\n", "R1,RAIL,t,1,1,S,T,R,2025,L\n"])
    with pytest.raises(ValueError, match="mode"):
        parse_factors([header, "R1,SPACE,t,1,1,S,T,R,2025,L\n"])
