"""The package layout ARCHITECTURE.md describes ("Layout"): imports run one way, modules stay small.

Layers, lowest first: core (the modules directly in `runner/`) → submissions → evaluation →
pipeline → sitegen → the command line (`cli`, `commands/`, `demo_pipeline`). A module may import
its own layer and the layers below it, never one above: the checker reads every `import` in
every module, the ones inside functions included (commands import heavy libraries lazily).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parents[1] / "runner"
LAYERS = ("core", "submissions", "evaluation", "pipeline", "sitegen", "app")
APP_MODULES = {"runner.cli", "runner.__main__", "runner.demo_pipeline"}
MAX_MODULE_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(RUNNER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    """The layer index of a `runner…` module name."""
    parts = module.split(".")
    if module in APP_MODULES or parts[1:2] == ["commands"]:
        return LAYERS.index("app")
    if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS):
        return LAYERS.index(parts[1]) if parts[1] in LAYERS else LAYERS.index("core")
    return LAYERS.index("core")


def imported_modules(source: str, importer: str) -> list[tuple[int, str]]:
    """(line, module) for every `runner…` module that `source` imports, lazily or not."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("runner")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "runner":  # `from runner import x`: x may be a module
                found += [(node.lineno, f"runner.{a.name}") for a in node.names]
            elif node.module.startswith("runner."):
                found.append((node.lineno, node.module))
    return found


def upward_imports(source: str, importer: str) -> list[str]:
    own = layer_of(importer)
    return [
        f"{importer}:{line} imports {target} ({LAYERS[layer_of(target)]} is above {LAYERS[own]})"
        for line, target in imported_modules(source, importer)
        if layer_of(target) > own
    ]


MODULES = sorted(RUNNER.rglob("*.py"))


def test_every_layer_has_modules_and_every_module_imports():
    layers = {LAYERS[layer_of(module_name(p))] for p in MODULES}
    assert layers == set(LAYERS)
    for path in MODULES:
        if path.name != "__main__.py":  # runs the CLI on import
            importlib.import_module(module_name(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(RUNNER)))
def test_no_module_imports_a_layer_above_its_own(path: Path):
    source = path.read_text(encoding="utf-8")
    assert upward_imports(source, module_name(path)) == []


def test_the_checker_catches_an_upward_import_even_inside_a_function():
    source = "def f():\n    from runner.sitegen.build import build_site\n"
    assert upward_imports(source, "runner.evaluation.run") == [
        "runner.evaluation.run:2 imports runner.sitegen.build (sitegen is above evaluation)"
    ]
    assert upward_imports("from runner import cli\n", "runner.hub") != []
    assert upward_imports("from runner.evaluation import tasks\n", "runner.sitegen.pages") == []


def test_no_module_is_over_the_size_limit():
    sizes = {str(p.relative_to(RUNNER)): len(p.read_text().splitlines()) for p in MODULES}
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}
