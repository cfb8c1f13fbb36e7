"""The printed loading plan: a PDF that poppler renders, with its key text and the right pages.

Needs poppler-utils (pdftoppm, pdftotext, pdfinfo); .ci/run installs it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app.stuffing import instance_from_dict, plan_to_dict, solve
from app.stuffing.paper import loading_plan_pdf

from .helpers import instance, load_sample, piece, place

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("pdftoppm", "pdftotext", "pdfinfo")),
    reason="poppler-utils not installed (apt-get install -y poppler-utils; .ci/run does)",
)

HEADER = {
    "container_number": "CRVU 123456-7",
    "seal": "CN-SEAL-0042",
    "destination": "Małaszewicze (PL) → Duisburg",
    "origin": "Xi'an 西安 ITP",
    "departure": "2026-12-09 X8012",
    "marks": {"CVN-PL-1": "ŻÓŁW Sp. z o.o. — ceramika", "CVN-CN-2": "西安电子有限公司"},
}


def _pdf(tmp_path: Path, data: bytes) -> Path:
    assert data.startswith(b"%PDF-")
    path = tmp_path / "plan.pdf"
    path.write_bytes(data)
    return path


def _pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def _text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _render(path: Path, tmp_path: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True,
                   capture_output=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    for png in pngs:
        assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 1000
    return pngs


def test_small_plan_prints_three_pages_with_its_key_text(tmp_path):
    inst = instance([
        piece("PL-1/1", count=2, l=120, w=80, h=100, kg=310.5, group="CVN-PL-1"),
        piece("CN-2/1", count=1, l=60, w=40, h=50, kg=42.25, group="CVN-CN-2", vertical=("height", "width")),
    ], length=589, width=235, height=239, code="20GP")
    p = {"placements": [place("PL-1/1", 0, 0, 0, 120, 80, 100, 1), place("PL-1/1", 0, 80, 0, 120, 80, 100, 2),
                        place("CN-2/1", 120, 0, 0, 60, 50, 40, 3)],
         "unplaced": [], "volume_utilisation": 0.06, "weight_kg": 663.25,
         "centre_of_gravity_cm": {"x": 64.8, "y": 77.3, "z": 48.4}}
    path = _pdf(tmp_path, loading_plan_pdf(inst, p, HEADER))
    # 1: container and pictures, 2: stages, 3: steps, totals and sign-off
    assert _pages(path) == 3
    assert len(_render(path, tmp_path)) == 3
    text = _text(path)
    for needle in ("20GP", "CRVU 123456-7", "CN-SEAL-0042", "Małaszewicze", "Duisburg", "2026-12-09 X8012",
                   "CVN-PL-1", "CVN-CN-2", "ŻÓŁW Sp. z o.o.", "西安电子有限公司", "Loading steps", "Step",
                   "PL-1/1", "CN-2/1", "Total weight: 663.2 kg", "Centre of gravity", "Loaded by",
                   "Checked by", "Signature", "Page 3 of 3"):
        assert needle in text, needle
    assert "on side" in text  # CN-2/1 stands on its width side


def test_solved_sample_prints_every_step(tmp_path):
    inst = load_sample("l107")
    p = plan_to_dict(solve(instance_from_dict(inst), time_limit_s=2))
    n = len(p["placements"])
    path = _pdf(tmp_path, loading_plan_pdf(inst, p, {"container_number": "CRVU 7654321"}))
    pages = _pages(path)
    assert pages >= 4  # two pages of pictures and more than one of steps
    assert len(_render(path, tmp_path)) == pages
    text = _text(path)
    assert f"Page {pages} of {pages}" in text
    assert f"Packages: {n}" in text
    assert f"Total weight: {p['weight_kg']:,.1f} kg" in text
    for g in {x["group"] for x in inst["pieces"]}:
        assert g in text
    lines = [line.split() for line in text.splitlines()]
    numbered = {int(w[0]) for w in lines if len(w) > 3 and w[0].isdigit() and w[2].startswith("CVN")}
    assert numbered == set(range(1, n + 1))
