"""The import rule: a module imports only from its own rank or below, and no modules import each other
in a circle.

Each module under lakehouse/, quality/ and jobs/ is parsed (not imported), so every import counts: at
the top of a module, inside a function, or under `if TYPE_CHECKING:`. Ranks run from the bottom (the
errors a user can cause) to the top (the command line), in the order of the flow in
docs/architecture.md: a layer builds on the layers before it and never reaches into one after it.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("lakehouse", "quality", "jobs")

# (module or package, rank, why it sits there). A module takes the rank of its longest listed prefix.
RANKS: tuple[tuple[str, int, str], ...] = (
    ("lakehouse", 0, "the package itself holds no code"),
    ("lakehouse.errors", 0, "the errors a user can cause; imports nothing of ours"),
    ("lakehouse.settings", 1, "typed settings, validated once at start: errors only"),
    ("lakehouse.settings_synth", 1, "the synth section of the settings"),
    ("lakehouse.settings_files", 1, "the conf/ files read, checked, merged and interpolated"),
    ("lakehouse.geo", 1, "the state's county shapes and their borders: reference data"),
    ("lakehouse.tables", 2, "the registry: every table's contract and the layouts bronze is declared from"),
    ("lakehouse.spark", 3, "the one SparkSession builder: settings only, no tables"),
    ("lakehouse.runlock", 3, "the lake's run lock: files on disk, no tables"),
    ("lakehouse.cluster", 3, "packaging the code for spark-submit: no data"),
    ("lakehouse.storage", 4, "one Delta interface over the declared tables, on the Spark session"),
    ("lakehouse.tables.manifest", 4, "layer promotion reads and writes ops.layer_manifests through storage"),
    ("lakehouse.sources", 5, "raw extracts to bronze: layouts, landing, the file ledger"),
    ("lakehouse.synth", 6, "the synthetic state writes the extracts the source layouts describe"),
    ("lakehouse.silver", 7, "bronze to typed, coded silver tables"),
    ("lakehouse.identity", 8, "links silver person records; scored against the synthetic truth"),
    ("lakehouse.privacy", 9, "disclosure control and the private zones, applied by gold and the gates"),
    ("lakehouse.gold", 10, "timeline, cohorts and marts from silver and identity"),
    ("lakehouse.publish", 11, "published CSV tables from gold's cells"),
    ("lakehouse.site", 12, "the dashboard, from the published tables only"),
    ("lakehouse.vacuum", 13, "lake maintenance over every layer's tables"),
    ("lakehouse.notebook", 13, "analysts' entry to the whole lake, truth included"),
    ("quality", 14, "the gates judge what the layers built, before a commit"),
    ("jobs", 15, "thin entry points and the CLI: they run everything"),
)


def module_name(root: Path, path: Path) -> str:
    """The dotted module name of a source file under `root` (a package's `__init__.py` names the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(name: str, modules: set[str]) -> str | None:
    """The module of ours that importing `name` loads: itself, or its longest known prefix (a name
    imported from a module); None for a module that is not ours."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Each module's imports of other modules of ours, from its syntax tree: every `import` and `from
    ... import` anywhere in the file, relative ones resolved. `from pkg import name` points at the
    submodule `pkg.name` when there is one, else at `pkg`."""
    files = {module_name(root, p): p for top in packages for p in sorted((root / top).rglob("*.py"))}
    modules = set(files)
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                    package = package[: len(package) - node.level + 1]
                    base = ".".join([*package, base] if base else package)
                names = [f"{base}.{alias.name}" for alias in node.names]
                names = [name if name in modules else base for name in names]
            else:
                continue
            targets.update(t for t in (_resolve(n, modules) for n in names) if t and t != module)
        graph[module] = targets
    return graph


def rank(module: str, ranks: tuple[tuple[str, int, str], ...] = RANKS) -> int:
    """The rank of the longest listed prefix of `module`; a module under no listed prefix fails."""
    best = max(
        (prefix for prefix, _, _ in ranks if module == prefix or module.startswith(prefix + ".")),
        key=len,
        default=None,
    )
    assert best is not None, f"{module} has no rank: add it to RANKS"
    return next(r for prefix, r, _ in ranks if prefix == best)


def upward(graph: dict[str, set[str]], ranks: tuple[tuple[str, int, str], ...] = RANKS) -> list[str]:
    """Every import of a module of a higher rank, as "importer -> imported"."""
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if rank(target, ranks) > rank(module, ranks)
    )


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other in a circle (strongly connected components of two
    or more), each sorted; Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return sorted(found)


@cache
def _platform() -> dict[str, set[str]]:
    return import_graph(REPO, PACKAGES)


def test_every_module_has_a_rank():
    assert len(_platform()) > 100
    for module in _platform():
        rank(module)


def test_no_import_runs_up_a_rank():
    assert upward(_platform()) == []


def test_no_modules_import_each_other_in_a_circle():
    assert cycles(_platform()) == []


def test_the_table_registry_imports_only_settings_and_errors():
    below = {
        target
        for module, targets in _platform().items()
        if module.startswith("lakehouse.tables") and module != "lakehouse.tables.manifest"
        for target in targets
        if not target.startswith("lakehouse.tables")
    }
    assert below <= {"lakehouse.errors", "lakehouse.settings"}


def test_the_rank_table_in_the_architecture_page_is_this_one():
    """docs/architecture.md#imports lists the same ranks, by path."""
    page = (REPO / "docs" / "architecture.md").read_text()
    section = page.split("\n## Imports\n", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 3 and cells[0].isdigit():
            for path in re.findall(r"`([^`]+)`", cells[1]):
                documented[path.removesuffix(".py").strip("/").replace("/", ".")] = int(cells[0])
    assert documented == {prefix: r for prefix, r, _ in RANKS if prefix != "lakehouse"}


def test_the_checker_catches_an_upward_import_and_a_circle(tmp_path):
    """A tiny tree with an import up a rank hidden in a function, and a circle closed by a relative import."""
    files = {
        "app/__init__.py": "",
        "app/base.py": "def f():\n    from app.top import g\n",
        "app/mid/__init__.py": "",
        "app/mid/a.py": "from . import b\nimport os\n",
        "app/mid/b.py": "from app.mid.a import x\nfrom app import base\n",
        "app/top.py": "from app.mid import a\nfrom app.base import f\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    ranks = (("app", 0, ""), ("app.mid", 1, ""), ("app.top", 2, ""))
    graph = import_graph(tmp_path, ("app",))
    assert graph == {
        "app": set(),
        "app.base": {"app.top"},
        "app.mid": set(),
        "app.mid.a": {"app.mid.b"},
        "app.mid.b": {"app.mid.a", "app.base"},
        "app.top": {"app.mid.a", "app.base"},
    }
    assert upward(graph, ranks) == ["app.base -> app.top"]
    assert cycles(graph) == [["app.base", "app.mid.a", "app.mid.b", "app.top"]]
    # Without the import inside the function, only the circle of a and b is left.
    del graph["app.base"]
    assert upward(graph, ranks) == []
    assert cycles(graph) == [["app.mid.a", "app.mid.b"]]
    # A module under no listed prefix is refused rather than let through.
    with pytest.raises(AssertionError, match="other has no rank"):
        upward({"other": {"app"}}, ranks)
