"""Imports run one way: edges -> services -> domain -> foundations -> errors (docs/architecture.md section 4)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "tierwise"
LAYER = {
    "cli": 4, "api": 4, "web": 4, "http": 4,
    "services": 3,
    "sources": 2, "indicators": 2, "methods": 2, "policies": 2, "explain": 2, "reports": 2,
    "actions": 2, "demo": 2,
    "spec": 1, "expr": 1, "engine": 1, "store": 1,
    "errors": 0, "i18n": 0,
}


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "tierwise" else None


def _imported(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it (functions and TYPE_CHECKING blocks too).

    ``from a.b import c`` counts as importing both ``a.b`` and ``a.b.c``: ``c`` may be a module
    (``from tierwise.cli import main``). Relative imports are resolved against the package.
    """
    package = ["tierwise", *path.relative_to(SRC).parent.parts]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)
    return found


def test_imports_run_one_way() -> None:
    bad = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        own = rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem
        if own not in LAYER:
            continue
        # Every import counts: ``from tierwise import methods`` imports tierwise.methods.
        for name in _imported(path):
            other = _package(name)
            if other is None or other == own or other not in LAYER:
                continue
            # Within the foundations, spec is the shared data model and spec validates
            # expressions: those two same-layer imports are allowed.
            same_layer_ok = LAYER[own] == LAYER[other] == 1 and (
                other == "spec" or (own == "spec" and other == "expr"))
            # `tierwise serve` starts the API: the CLI may import the api edge, not back;
            # the API's app mounts the dashboard: api may import web, not back; both HTTP
            # edges share `http` (client, limits, error statuses), which imports neither.
            same_layer_ok = same_layer_ok or (own, other) in {
                ("cli", "api"), ("api", "web"), ("api", "http"), ("web", "http"),
                # The message catalogues' language errors are spec errors.
                ("i18n", "errors")}
            if LAYER[other] >= LAYER[own] and not same_layer_ok:
                bad.append(f"{rel} imports tierwise.{other}")
    assert sorted(set(bad)) == []


def test_engine_never_imports_indicators_or_methods() -> None:
    for path in (SRC / "engine").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "tierwise.indicators" not in text and "tierwise.methods" not in text


def test_cli_commands_never_import_the_entry_point() -> None:
    """Only ``cli/main.py`` wires the app: a command module importing it would make a circle."""
    bad = sorted(
        f"{path.relative_to(SRC)}" for path in (SRC / "cli").rglob("*.py")
        if path.name != "main.py" and "tierwise.cli.main" in _imported(path))
    assert bad == []


EDGES = ("api", "web", "cli", "http")


def test_edges_call_services_only() -> None:
    """The edges reach the store and the methods through the services, never directly."""
    bad = sorted(
        f"{path.relative_to(SRC)} imports {name}"
        for edge in EDGES for path in (SRC / edge).rglob("*.py")
        for name in _imported(path)
        if name.split(".")[:2] in (["tierwise", "store"], ["tierwise", "methods"]))
    assert bad == []
