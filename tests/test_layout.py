"""The layout shows the architecture (docs/ARCHITECTURE.md): `sim/` is one package per layer,
each imports only from the layers before it, no module reaches for another's private names,
and every module is where the layout says it is."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "sim"
#: The layers in order: each may import only from itself and those before it.
LAYERS = ("scenario", "partnership", "montecarlo", "analysis", "results", "teaching", "cli")


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


MODULES = {_module_name(p): p for p in sorted(SIM.rglob("*.py"))}


def _layer(module: str):
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def _imports(path: Path):
    """(imported module, imported name or None, line) for every import of a sim module in the
    file, at the top or inside a function."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sim":
            for alias in node.names:
                yield node.module, alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sim":
                    yield alias.name, None, node.lineno


def test_every_module_lives_in_a_layer():
    loose = [m for m in MODULES if _layer(m) is None and m not in ("sim", "sim.lazy_exports")]
    assert loose == [], "a module outside the layer packages"
    assert {m.split(".")[1] for m in MODULES if _layer(m) is not None} == set(LAYERS)


def test_no_layer_imports_from_a_later_one():
    upward = []
    for module, path in MODULES.items():
        own = _layer(module)
        for imported, name, line in _imports(path):
            target = f"{imported}.{name}" if f"{imported}.{name}" in MODULES else imported
            layer = _layer(target)
            if own is not None and layer is not None and layer > own:
                upward.append(f"{module}:{line} imports {target} ({LAYERS[own]} -> "
                              f"{LAYERS[layer]})")
    assert upward == []


def test_no_module_uses_another_modules_private_names():
    private = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        modules = {}   # local name -> the sim module it names
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        private.append(f"{module}:{node.lineno} imports {node.module}."
                                       f"{alias.name}")
                    if f"{node.module}.{alias.name}" in MODULES:
                        modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in modules and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                private.append(f"{module}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert private == []


def test_every_package_and_module_says_what_it_holds():
    silent = [m for m, path in MODULES.items() if not ast.get_docstring(ast.parse(path.read_text()))]
    assert silent == []


def test_the_architecture_doc_names_every_module_and_only_modules_that_exist():
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text().split("## Where the flat modules", 1)[0]
    named = set(re.findall(r"`(sim(?:\.[a-z_]+)+)`", doc))
    modules = {m for m in MODULES if m != "sim"}
    assert sorted(modules - named) == [], "modules the architecture doc does not describe"
    assert sorted(n for n in named if n not in MODULES and not _is_attribute(n)) == []


def _is_attribute(dotted: str) -> bool:
    """`sim.x.y` names an attribute (a function, a class) of module sim.x."""
    module, _, name = dotted.rpartition(".")
    return module in MODULES and hasattr(importlib.import_module(module), name)


def test_the_readme_layout_lists_every_layer_package():
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    assert [p for p in LAYERS if f"{p}/" not in layout] == []


# --- where the flat modules of 0.1 went -----------------------------------------------------

def test_the_table_of_moved_modules_names_modules_that_exist():
    """docs/ARCHITECTURE.md's table says where each module of the old flat `sim/` went: every
    old name is gone, every new one exists."""
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    table = doc.split("## Where the flat modules went", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(sim\.[a-z_.]+)` \| (.+?) \|$", table, re.M)
    assert len(rows) >= 50
    for old, new in rows:
        assert old not in MODULES or old in ("sim.scenario", "sim.cli"), old
        for name in re.findall(r"`(sim\.[a-z_.]+)`", new):
            assert name in MODULES, (old, name)
