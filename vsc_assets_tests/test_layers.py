"""Imports run down the layers that docs/architecture.md draws, and never up or across."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "vsc_assets"


def declared_layers(text: str) -> list[list[str]]:
    """The ```layers block of the architecture page, bottom layer first."""
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md has no ```layers block"
    return [line.split() for line in reversed(block.group(1).strip().splitlines())]


def unit_of(module: str) -> str | None:
    """The unit a dotted name belongs to: the subpackage or top-level module under vsc_assets."""
    parts = module.split(".")
    return parts[1] if parts[0] == "vsc_assets" and len(parts) > 1 else None


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every vsc_assets import in a file, at any depth (function bodies too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return [(line, m) for line, m in found if unit_of(m)]


def violations(files: dict[str, list[tuple[int, str]]], layers: list[list[str]]) -> list[str]:
    """Every import of a unit on the importer's own layer (another unit) or above it."""
    level = {unit: i for i, layer in enumerate(layers) for unit in layer}
    problems = []
    for name, imported in files.items():
        source = unit_of(name)
        if source not in level:
            problems.append(f"{name}: its unit {source!r} is on no layer")
            continue
        for line, module in imported:
            target = unit_of(module)
            if target == source:
                continue
            if target not in level:
                problems.append(f"{name}:{line}: imports {module}, whose unit {target!r} is on no layer")
            elif level[target] >= level[source]:
                where = "on the same layer as" if level[target] == level[source] else "above"
                problems.append(f"{name}:{line}: imports {module} ({target} sits {where} {source})")
    return problems


def package_imports() -> dict[str, list[tuple[int, str]]]:
    files = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(REPO).with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        if module != "vsc_assets":
            files[module] = imports_of(path)
    return files


def test_every_import_runs_down_the_documented_layers():
    layers = declared_layers((REPO / "docs" / "architecture.md").read_text())
    files = package_imports()
    assert violations(files, layers) == []
    units = {unit_of(m) for m in files}
    assert units == {u for layer in layers for u in layer}, "the layers block and the package disagree"


@pytest.mark.parametrize(
    ("importer", "imported", "why"),
    [
        ("vsc_assets.augment.recipes", "vsc_assets.builders.sets", "sits above"),
        ("vsc_assets.io.images", "vsc_assets.video.probe", "sits on the same layer as"),
        ("vsc_assets.catalog.inputs", "vsc_assets.definitions", "sits above"),
    ],
)
def test_an_upward_or_sideways_import_is_caught(importer, imported, why):
    layers = declared_layers((REPO / "docs" / "architecture.md").read_text())
    files = package_imports()
    files[importer] = files[importer] + [(999, imported)]
    problems = violations(files, layers)
    assert len(problems) == 1 and problems[0].startswith(f"{importer}:999: imports {imported}") and why in problems[0]
