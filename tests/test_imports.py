"""The package's import graph, read from the source: no import circles, no test code in the product.

Every import counts, lazy ones inside functions too: a circle closed by a lazy import still ties the
modules together (``generation/scripted`` → ``evaluation`` → ``core`` → ``generation/llm`` → ``scripted``
was one).
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

from assistant.settings import PACKAGE_DIR


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package at ``package_dir``."""
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [package_dir.name, *path.relative_to(package_dir).with_suffix("").parts]
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported(module: str, path: Path, modules: set[str]) -> set[str]:
    """Dotted names of what ``module`` (at ``path``) imports: for ``from X import y`` the module ``X.y`` when
    it is one of ``modules``, else ``X``."""
    package = (module if path.name == "__init__.py" else module.rpartition(".")[0]).split(".")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            source = ".".join(part for part in (base, node.module) if part)
            found |= {f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names}
    return found


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    modules = module_names(package_dir)
    return {name: imported(name, path, set(modules)) & modules.keys() - {name} for name, path in modules.items()}


def cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """The shortest import circle from ``start`` back to it (``[start, …, start]``), or None."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        module = queue.popleft()
        for target in sorted(graph[module]):
            if target == start:
                path = [module]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target not in came_from:
                came_from[target] = module
                queue.append(target)
    return None


def test_the_checker_finds_a_lazy_import_circle(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from .a import f\n")
    (package / "sub" / "a.py").write_text("from ..b import g\n\ndef f():\n    return g\n")
    (package / "b.py").write_text("import os\n\ndef g():\n    from .sub import f\n    return f\n")
    (package / "c.py").write_text("from pkg.sub import a\n")
    graph = import_graph(package)
    assert graph == {
        "pkg": set(),
        "pkg.sub": {"pkg.sub.a"},
        "pkg.sub.a": {"pkg.b"},
        "pkg.b": {"pkg.sub"},
        "pkg.c": {"pkg.sub.a"},
    }
    assert cycle_through(graph, "pkg.sub.a") == ["pkg.sub.a", "pkg.b", "pkg.sub", "pkg.sub.a"]
    assert cycle_through(graph, "pkg.c") is None


def test_the_package_has_no_import_circle():
    graph = import_graph(PACKAGE_DIR)
    assert "assistant.generation.llm" in graph and graph["assistant.core"]
    circles = [c for m in sorted(graph) if (c := cycle_through(graph, m))]
    assert not circles, "\n".join(" -> ".join(c) for c in circles)


def test_the_product_does_not_import_the_evals():
    # Test doubles (evals/scripted.py) and eval scripts stay out of the package that ships.
    modules = module_names(PACKAGE_DIR)
    users = {
        name: sorted(i for i in imported(name, path, set(modules)) if i == "evals" or i.startswith("evals."))
        for name, path in modules.items()
    }
    assert not {name: found for name, found in users.items() if found}
