"""The modules of mock_server import each other one way: no cycle, none hidden inside a function.

A cycle hidden behind an import inside a function works until someone moves that import, and it hides
which module depends on which. The graph here is read from the source with `ast`: an import at module
level (in a `try` or an `if` too, those run on import) is an edge; one under `if TYPE_CHECKING:` never
runs and is left out; one inside a function must be on `LAZY`, with the reason it waits.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import mock_server

PACKAGE = Path(mock_server.__file__).parent

# (importer, imported) -> why the import waits until a function runs. Keep it short: each entry is a
# module that would cost every user something (an optional extra, start-up time) if imported at the top.
LAZY: dict[tuple[str, str], str] = {
    ("mock_server.conformance.cli", "mock_server.conformance.budget"):
        "imports requests, which comes with the conformance extra; the command says how to install it",
    ("mock_server.conformance.cli", "mock_server.conformance.discovery"):
        "imports requests, which comes with the conformance extra",
    ("mock_server.conformance.cli", "mock_server.conformance.runner"):
        "imports requests and schemathesis, of the conformance extra",
    ("mock_server.conformance.cli", "mock_server.conformance.proxy"):
        "imports httpx, of the conformance extra",
    ("mock_server.fence", "mock_server.direct"):
        "imports uvicorn's private STATUS_LINE: imported once the start-up check found every member it uses",
    ("mock_server.settings", "mock_server.webhooks.config"):
        "checks --webhook settings against the contract's event names: the contract and the dispatcher load only "
        "when a webhook is configured (the pytest plugin imports settings in every session)",
    ("mock_server.settings", "mock_server.webhooks.endpoints"):
        "parses a --webhook-header; same reason: settings stays light",
    ("mock_server.webhooks", "mock_server.webhooks.dispatcher"):
        "the dispatcher imports the backends; the delivery process (webhooks.courier_main) imports the package "
        "without them, and starts in a third of the server's time",
    ("mock_server.webhooks.endpoints", "mock_server.webhooks.catalog"):
        "the event names come from the contract (YAML): read when an endpoint is configured, not in the delivery "
        "process",
    ("mock_server.webhooks.conformance", "mock_server.webhooks.strategies"):
        "imports hypothesis, of the conformance extra",
    ("mock_server.pytest_plugin", "mock_server.testing"):
        "pytest loads the plugin in every session where the mock is installed; uvicorn and the app "
        "(about 0.1 s) load only once a test asks for the brevo_mock fixture",
}


def module_names(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package at `root`."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """The package's modules an import statement loads (`from pkg import sub` loads pkg.sub)."""
    package = module.split(".")[0]
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name.split(".")[0] == package)
        return
    if node.level:  # relative: from the module's package, one level up per extra dot
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        name = ".".join([*base, node.module] if node.module else base)
    else:
        name = node.module or ""
    if name.split(".")[0] != package:
        return
    for alias in node.names:
        yield f"{name}.{alias.name}" if f"{name}.{alias.name}" in known else name


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_graph(root: Path) -> tuple[dict[str, set[str]], set[tuple[str, str, int]]]:
    """Module -> the modules it imports on import; and (importer, imported, line) of imports inside functions."""
    names = module_names(root)
    known = set(names)
    graph: dict[str, set[str]] = {name: set() for name in names}
    deferred: set[tuple[str, str, int]] = set()
    for module, path in names.items():
        is_package = path.name == "__init__.py"

        def visit(node: ast.AST, in_function: bool, module: str = module, is_package: bool = is_package) -> None:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _imported(node, module, is_package, known):
                    if in_function:
                        deferred.add((module, target, node.lineno))
                    else:
                        graph[module].add(target)
                return
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                for child in node.orelse:
                    visit(child, in_function)
                return  # annotations only: never imported at run time
            inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            for child in ast.iter_child_nodes(node):
                visit(child, inner)

        visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), False)
    return graph, deferred


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` as a path that ends where it starts, or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def walk(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph.get(node, ())):
            if target in on_path:
                return [*path[path.index(target):], target]
            if target not in done and (found := walk(target)) is not None:
                return found
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done and (found := walk(start)) is not None:
            return found
    return None


def test_the_modules_import_each_other_without_a_cycle() -> None:
    graph, _ = import_graph(PACKAGE)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])
    # The chains the layout is built on (README.md, Layout): these edges exist, and none points back.
    assert "mock_server.admin" in graph["mock_server.app"]
    assert "mock_server.pages" in graph["mock_server.admin"]
    assert "mock_server.state" in graph["mock_server.pages"]
    assert "mock_server.conformance.cli" in graph["mock_server.cli"]
    assert "mock_server.testing" in graph["mock_server.conformance.cli"]
    assert "mock_server.server" in graph["mock_server.testing"]


def test_imports_inside_functions_are_only_the_listed_lazy_ones() -> None:
    _, deferred = import_graph(PACKAGE)
    unlisted = sorted(f"{importer} -> {imported} (line {line})" for importer, imported, line in deferred
                      if (importer, imported) not in LAZY)
    assert not unlisted, "import these at the top of the module, or add them to LAZY with the reason they wait"
    stale = sorted(set(LAZY) - {(importer, imported) for importer, imported, _ in deferred})
    assert not stale, f"LAZY lists imports that no longer exist: {stale}"


def test_the_check_sees_cycles_hidden_in_functions(tmp_path: Path) -> None:
    # Two modules as the layout had them: `admin` imports `pages` inside a function, `pages` imports `admin`.
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "admin.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import app\n"
                                      "def routes():\n    from pkg.pages import page_routes\n")
    (package / "pages.py").write_text("from pkg.admin import routes\n")
    (package / "app.py").write_text("from . import admin\n")
    graph, deferred = import_graph(package)
    assert graph["pkg.pages"] == {"pkg.admin"} and graph["pkg.app"] == {"pkg.admin"}
    assert graph["pkg.admin"] == set()  # the TYPE_CHECKING import never runs
    assert deferred == {("pkg.admin", "pkg.pages", 5)}
    assert find_cycle(graph) is None
    graph["pkg.admin"].add("pkg.pages")  # the same import at the top of admin.py
    assert find_cycle(graph) == ["pkg.admin", "pkg.pages", "pkg.admin"]
