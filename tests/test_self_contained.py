"""A clone stands on its own (issue 12, item 6): what the tests, benches and docs use is in the
repository, and nothing reads a ``shared`` folder beside it."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# A path built toward a folder beside the repository: `/ "shared"`, `"shared" /` or ../shared.
OUTSIDE = re.compile(r"""/\s*["']shared["']|["']shared["']\s*/|\.\./shared""")


def test_nothing_reads_a_shared_folder_beside_the_repository():
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for folder in ("app", "tests", "bench", "migrations")
        for path in (REPO / folder).rglob("*.py")
        if path.name != "test_self_contained.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    offenders += [name for name in ("Makefile", "pyproject.toml", "Dockerfile") if "../shared" in (REPO / name).read_text()]
    assert offenders == []


def test_the_specifications_and_samples_are_in_the_repository_with_their_notes():
    specs = REPO / "app" / "dcsa" / "spec"
    assert (specs / "dcsa-tnt-v2.2.0.yaml").stat().st_size > 10_000
    assert (specs / "BKG_v2.0.0.yaml").stat().st_size > 10_000
    assert "Apache License" in (specs / "LICENSE-Apache-2.0.txt").read_text()
    assert "Apache License 2.0" in (specs / "README.md").read_text()
    samples = REPO / "tests" / "data" / "planner" / "samples"
    assert sorted(p.name for p in samples.glob("*.json")) == ["s060.json", "s300.json", "s3000.json"]
    assert (REPO / "tests" / "data" / "planner" / "README.md").exists()
