"""The package's layers: imports only go downwards, no cycles, models free of presentation."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import c3lib

PACKAGE = Path(c3lib.__file__).resolve().parent

# Lowest first: a module may import only modules of its own layer or below.
LAYERS = [
    ("c3lib", "c3lib.exceptions", "c3lib.reference", "c3lib.params"),
    ("c3lib.topics",),
    ("c3lib.kit",),
    ("c3lib.build",),
    ("c3lib.cli", "c3lib.scaffold", "c3lib.datasheet", "c3lib.__main__"),
]
PRESENTATION = ("matplotlib", "IPython", "ipywidgets", "html", "c3lib.kit", "c3lib.build")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (function bodies included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(name: str) -> int:
    best = None
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if name == prefix or name.startswith(prefix + ".") and prefix != "c3lib":
                if best is None or len(prefix) > best[1]:
                    best = (rank, len(prefix))
    assert best is not None, f"{name} is in no layer"
    return best[0]


def internal_imports(name: str) -> set[str]:
    return {m for m in imports(MODULES[name]) if m in MODULES and m != name}


def test_layers_every_module_has_a_layer():
    for name in MODULES:
        layer(name)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_layers_imports_only_go_down(name):
    upward = [m for m in internal_imports(name) if layer(m) > layer(name)]
    assert not upward, f"{name} (layer {layer(name)}) imports upwards: {upward}"


def test_layers_no_import_cycle():
    graph = {name: internal_imports(name) for name in MODULES}
    # a package's __init__ importing nothing of its children: edges to a package name are
    # edges to its __init__ only
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt] if nxt in stack else [node, nxt]
                pytest.fail(f"import cycle: {' -> '.join(cycle)}")
            if nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])


MODELS = sorted(
    n
    for n in MODULES
    if n.startswith("c3lib.topics.")
    and not n.endswith(("views", "topics"))
    and MODULES[n].name != "__init__.py"
)


def test_layers_every_topic_has_a_model():
    topics = {p.name for p in (PACKAGE / "topics").iterdir() if (p / "__init__.py").exists()}
    assert topics, "no topic packages"
    for topic in topics:
        assert f"c3lib.topics.{topic}.model" in MODULES, f"topic {topic} has no model module"


@pytest.mark.parametrize("name", MODELS)
def test_layers_models_import_no_presentation(name):
    bad = sorted(
        m
        for m in imports(MODULES[name])
        if any(m == p or m.startswith(p + ".") for p in PRESENTATION) or m.endswith(".views")
    )
    assert not bad, f"model module {name} imports presentation code: {bad}"
