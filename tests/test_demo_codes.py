"""The demo network's places carry their real UN/LOCODEs (issue 12, item 5): Shanghai is CNSHA
(CNSHG is not Shanghai), and Waigaoqiao and Altenwerder are seaport terminals, not river ports."""

from app.demo import HUBS, MULTIMODAL_HUBS, MULTIMODAL_SERVICES
from app.fields import HUB_CODE_PATTERN

# UN/LOCODE -> the place it names in the UN/LOCODE list, for every code the demo uses.
UN_LOCODES = {
    "CNWUH": "Wuhan", "CNAKL": "Alashankou (Alatawshankou)", "CNHRS": "Horgos (Khorgos)",
    "CNERC": "Erenhot (Erlianhaote)", "CNMLX": "Manzhouli", "CNXGN": "Xiaogan", "CNHSI": "Huangshi",
    "CNEZH": "Ezhou", "CNSHA": "Shanghai", "BYBQT": "Brest", "PLMAA": "Małaszewicze", "PLLOD": "Łódź",
    "PLWAW": "Warszawa", "DEDUI": "Duisburg", "DEHAM": "Hamburg", "DEFRA": "Frankfurt am Main",
    "ESMAD": "Madrid", "ITMIL": "Milano", "HUBUD": "Budapest", "KZALA": "Almaty", "UZTAS": "Tashkent",
    # Not confirmed offline (see app/demo.py): keep them listed so a change is deliberate.
    "KZDOS": "Dostyk", "KZHOR": "Altynkol", "MNZUU": "Zamyn-Uud", "RUZBK": "Zabaikalsk",
}


def test_every_demo_hub_names_a_known_un_locode_and_its_code_starts_with_it():
    import re

    for code, name, kind, locode, zone, hours in HUBS + MULTIMODAL_HUBS:
        assert locode in UN_LOCODES, f"{code} ({name}) has {locode}, not a checked UN/LOCODE"
        assert re.match(HUB_CODE_PATTERN, code) and code.split("-")[0] == locode, code


def test_shanghai_is_cnsha_and_its_container_terminals_are_seaports():
    by_code = {hub[0]: hub for hub in HUBS + MULTIMODAL_HUBS}
    assert not any("CNSHG" in hub[0] or hub[3] == "CNSHG" for hub in by_code.values())
    shanghai = [hub for hub in by_code.values() if hub[3] == "CNSHA"]
    assert len(shanghai) == 1 and "Waigaoqiao" in shanghai[0][1] and shanghai[0][2] == "SEAPORT"
    assert by_code["DEHAM-CTA"][2] == "SEAPORT"
    assert by_code["CNWUH-YLP"][2] == "RIVER_PORT"  # Yangluo is on the Yangtze
    water = {service[0]: service for service in MULTIMODAL_SERVICES if service[2] == "WATER"}
    assert {s[3] for s in water.values()} | {s[4] for s in water.values()} <= {"CNWUH-YLP", shanghai[0][0], "DEHAM-CTA"}
