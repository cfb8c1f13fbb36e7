"""app/planner and app/stuffing must stay pure: no database, no web framework, no other app package."""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
PURE_PACKAGES = ("planner", "stuffing")
FORBIDDEN_TOP = {"sqlalchemy", "fastapi", "starlette", "pydantic", "alembic", "uvicorn", "httpx"}


def _imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, 0
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, node.module or "", node.level


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_package_imports_only_stdlib_ortools_and_itself(package):
    pkg = APP / package
    files = sorted(pkg.rglob("*.py"))
    assert files, f"app/{package} has no modules?"
    bad = []
    for f in files:
        depth = len(f.relative_to(pkg).parts) - 1  # sub-packages may go up to the package root
        for line, name, level in _imports(f):
            top = name.split(".")[0]
            where = f"{f.relative_to(pkg)}:{line} imports {'.' * level}{name}"
            if level > depth + 1:
                bad.append(where + f" (leaves app.{package})")
            elif level == 0 and top in FORBIDDEN_TOP:
                bad.append(where)
            elif level == 0 and top == "app" and not (name == f"app.{package}" or name.startswith(f"app.{package}.")):
                bad.append(where)
    assert not bad, "impure imports:\n" + "\n".join(bad)


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_importing_pure_package_pulls_in_no_web_or_db_module(package):
    import subprocess
    import sys

    code = (
        f"import sys, app.{package}\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi', 'starlette')"
        f" or (m.startswith('app.') and not m.startswith('app.{package}'))]\n"
        "print(','.join(sorted(bad)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=APP.parent, check=True)
    assert out.stdout.strip() == ""
