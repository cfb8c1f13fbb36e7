"""app/routing/search.py must stay pure: stdlib only, no app/db/web imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import app.routing.search as search_module

SOURCE = Path(search_module.__file__)
FORBIDDEN = ("sqlalchemy", "fastapi", "starlette", "pydantic", "app", "alembic", "asyncpg", "aiosqlite", "httpx")


def _imported_modules() -> set[str]:
    tree = ast.parse(SOURCE.read_text(), filename=str(SOURCE))
    mods: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import = another app module
                mods.add("." * node.level + (node.module or ""))
            else:
                mods.add(node.module or "")
    return mods


def test_search_imports_only_the_standard_library():
    mods = _imported_modules()
    assert mods, "expected some imports"
    for mod in mods:
        top = mod.split(".")[0]
        assert not mod.startswith("."), f"relative import {mod}"
        assert top not in FORBIDDEN, f"forbidden import {mod}"
        assert top in sys.stdlib_module_names or top == "__future__", f"non-stdlib import {mod}"


def test_loading_search_pulls_in_no_framework():
    # Load the file on its own (not via app.routing, whose __init__ other
    # modules may grow) and check what ended up in sys.modules.
    code = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("caravan_search_probe", {str(SOURCE)!r})
mod = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = mod
spec.loader.exec_module(mod)
bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})
print(",".join(bad))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
