"""The house: domains import each other in one direction only (app/__init__.py names the floors).

Entry points (each domain's ``router.py``, the webhook ``worker.py``, ``main``, ``cli``,
``demo``, ``registry``, ``server``, the ``idempotency`` middleware, which reads the
caller's key, and the ``console`` package of web pages) stand above every domain and may import any of them.
Below them, a domain imports only from domains on lower floors: no cycle between domain
packages, no import inside a function to dodge one, and no private name (``_x``) taken
from another domain. The pure cores import nothing but the standard library and themselves.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"

# Bottom to top; a domain may import from its own floor's infrastructure and any lower floor.
FLOORS = [
    {"planner", "cargo", "stuffing", "consist", "emissions"},  # pure cores
    {"accounts"},
    {"network"},
    {"bookings"},
    {"events", "consolidation"},
    {"webhooks", "routing", "papers"},
    {"tracking"},
    {"booking_desk"},
    {"dcsa", "dcsa_booking"},
]
FLOOR = {domain: level for level, domains in enumerate(FLOORS) for domain in domains}
ENTRY_MODULES = {"main", "cli", "demo", "registry", "server", "idempotency", "stuffing_api"}
ENTRY_FILES = {"router.py", "worker.py"}
# Packages that are entry points as a whole: the console's pages (a web layer beside the routers).
ENTRY_PACKAGES = {"console"}
PURE = {"planner", "cargo", "stuffing", "consist", "emissions"}
FORBIDDEN_IN_PURE = {"sqlalchemy", "fastapi", "starlette", "pydantic", "alembic", "uvicorn", "httpx", "asyncpg"}


def _domain_of(path: Path) -> str | None:
    """The domain package a module belongs to; None for the infrastructure modules at app/'s top."""
    parts = path.relative_to(APP).parts
    return parts[0] if len(parts) > 1 else None


def _is_entry(path: Path) -> bool:
    parts = path.relative_to(APP).parts
    return ((len(parts) == 1 and path.stem in ENTRY_MODULES) or (len(parts) > 1 and path.name in ENTRY_FILES)
            or (len(parts) > 1 and parts[0] in ENTRY_PACKAGES))


def _imports(tree: ast.AST):
    """(line, module imported, names, inside a function) for every ``app.…`` import."""
    def visit(node: ast.AST, in_function: bool):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.ImportFrom) and child.module and (child.module == "app" or child.module.startswith("app.")):
                names = [a.name for a in child.names]
                if child.module == "app":  # from app import cargo, planner
                    for name in names:
                        yield child.lineno, f"app.{name}", [], in_function
                else:
                    yield child.lineno, child.module, names, in_function
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.startswith("app."):
                        yield child.lineno, alias.name, [], in_function
            yield from visit(child, inner)
    yield from visit(tree, False)


def _modules():
    for path in sorted(APP.rglob("*.py")):
        yield path, ast.parse(path.read_text(), filename=str(path))


def _target_domain(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (APP / parts[1]).is_dir() else None


def test_every_domain_package_has_a_floor():
    packages = {p.name for p in APP.iterdir() if p.is_dir() and (p / "__init__.py").exists()} - ENTRY_PACKAGES
    assert packages <= set(FLOOR), f"put these domains on a floor: {sorted(packages - set(FLOOR))}"


def test_domains_import_only_downward():
    wrong = []
    for path, tree in _modules():
        domain = _domain_of(path)
        if _is_entry(path):
            continue
        for line, module, _names, _inner in _imports(tree):
            target = _target_domain(module)
            where = f"{path.relative_to(APP.parent)}:{line} imports {module}"
            if domain is None:
                if target is not None:
                    wrong.append(where + " (infrastructure imports no domain)")
            elif target is not None and target != domain and FLOOR[target] >= FLOOR[domain]:
                wrong.append(where + f" (floor {FLOOR[target]} from floor {FLOOR[domain]})")
    assert not wrong, "imports that run up or across the house:\n" + "\n".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_import_cycle_between_domain_packages():
    graph: dict[str, set[str]] = {}
    for path, tree in _modules():
        domain = _domain_of(path)
        if domain is None or _is_entry(path):
            continue
        for _line, module, _names, _inner in _imports(tree):
            target = _target_domain(module)
            if target is not None and target != domain:
                graph.setdefault(domain, set()).add(target)
    assert not _cycles(graph), f"domain packages that import each other in a loop: {_cycles(graph)}"


def test_the_cycle_check_finds_a_loop():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_inside_a_function_below_the_entry_points():
    hidden = [
        f"{path.relative_to(APP.parent)}:{line} imports {module} inside a function"
        for path, tree in _modules() if not _is_entry(path)
        for line, module, _names, inner in _imports(tree) if inner
    ]
    assert not hidden, "\n".join(hidden)


def test_no_private_name_taken_from_another_domain():
    taken = []
    for path, tree in _modules():
        domain = _domain_of(path)
        for line, module, names, _inner in _imports(tree):
            target = _target_domain(module)
            if target is not None and target != domain:
                taken += [f"{path.relative_to(APP.parent)}:{line} takes {module}.{n}"
                          for n in names if n.startswith("_")]
    assert not taken, "\n".join(taken)


def test_the_pure_cores_import_only_the_standard_library_and_themselves():
    bad = []
    for path, tree in _modules():
        domain = _domain_of(path)
        if domain not in PURE:
            continue
        for node in ast.walk(tree):
            modules = []
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            for module in modules:
                top = module.split(".")[0]
                if top in FORBIDDEN_IN_PURE or (top == "app" and _target_domain(module) != domain and module != "app"):
                    bad.append(f"{path.relative_to(APP.parent)}:{node.lineno} imports {module}")
    assert not bad, "\n".join(bad)


def test_no_module_over_500_lines_but_the_algorithms():
    # The itinerary search and the stuffing solver: each one algorithm, kept whole.
    allowed = {"routing/search.py", "stuffing/solve.py"}
    long = [f"{path.relative_to(APP)}: {n} lines" for path, _ in _modules()
            if (n := len(path.read_text().splitlines())) > 500 and str(path.relative_to(APP)) not in allowed]
    assert not long, "split by concern:\n" + "\n".join(long)
