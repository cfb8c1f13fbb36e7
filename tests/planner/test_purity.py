"""app/planner must stay pure: no database, no web framework, no other app package."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "app" / "planner"
FORBIDDEN_TOP = {"sqlalchemy", "fastapi", "starlette", "pydantic", "alembic", "uvicorn", "httpx"}


def _imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, 0
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, node.module or "", node.level


def test_planner_imports_only_stdlib_ortools_and_itself():
    files = sorted(PKG.rglob("*.py"))
    assert files, "app/planner has no modules?"
    bad = []
    for f in files:
        depth = len(f.relative_to(PKG).parts) - 1  # sub-packages may go up to the package root
        for line, name, level in _imports(f):
            top = name.split(".")[0]
            where = f"{f.relative_to(PKG)}:{line} imports {'.' * level}{name}"
            if level > depth + 1:
                bad.append(where + " (leaves app.planner)")
            elif level == 0 and top in FORBIDDEN_TOP:
                bad.append(where)
            elif level == 0 and top == "app" and not (name == "app.planner" or name.startswith("app.planner.")):
                bad.append(where)
    assert not bad, "impure imports:\n" + "\n".join(bad)


def test_importing_planner_pulls_in_no_web_or_db_module():
    import subprocess
    import sys

    code = (
        "import sys, app.planner\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi', 'starlette')"
        " or (m.startswith('app.') and not m.startswith('app.planner'))]\n"
        "print(','.join(sorted(bad)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PKG.parents[1], check=True)
    assert out.stdout.strip() == ""
