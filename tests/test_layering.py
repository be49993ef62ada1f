"""The layering rule: data flows sources -> readers -> analysis -> figures -> notebooks -> report, never back."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "nao_analysis"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every nao_analysis module a file imports, at any depth (lazy imports inside functions count too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("nao_analysis")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.startswith("nao_analysis"):
                found.add(base)
                found |= {f"{base}.{a.name}" for a in node.names}
    return found


def _graph() -> nx.DiGraph:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        for target in _imports(path):
            # "from nao_analysis.x import y" names y, which is a module only sometimes: keep real modules.
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                graph.add_edge(name, target)
    return graph


GRAPH = _graph()


def _layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("lower", ["sources", "readers", "analysis"])
def test_report_imports_nothing_below_the_figures(lower):
    offenders = sorted(f"{a} -> {b}" for a, b in GRAPH.edges if _layer_of(a) == "report" and _layer_of(b) == lower)
    assert not offenders, offenders


def test_sources_have_no_import_cycles():
    sources = GRAPH.subgraph(n for n in GRAPH if _layer_of(n) == "sources")
    assert list(nx.simple_cycles(sources)) == []


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("sources", {"readers", "analysis", "figures", "report", "build"}),
        ("readers", {"analysis", "figures", "report", "build"}),
        ("analysis", {"sources", "figures", "report", "build"}),
    ],
)
def test_lower_layers_never_import_higher_ones(layer, forbidden):
    offenders = sorted(f"{a} -> {b}" for a, b in GRAPH.edges if _layer_of(a) == layer and _layer_of(b) in forbidden)
    assert not offenders, offenders


def test_no_setting_is_read_from_the_environment_below_the_cli():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name in ("settings.py", "cli.py") or "__pycache__" in path.parts:
            continue
        for name in ('environ.get("NAO_', 'environ["NAO_', 'getenv("NAO_'):
            if name in path.read_text(encoding="utf-8"):
                offenders.append(str(path.relative_to(PACKAGE)))
    assert not offenders, offenders


def test_only_settings_reads_the_environment():
    readers = []
    for path in PACKAGE.rglob("*.py"):
        # The CLI is the edge where settings are resolved; everything below it is handed them. The kernel fork
        # server hands each kernel process its environment as a whole and reads no setting from it.
        if path.name in ("settings.py", "cli.py", "kernels.py") or "__pycache__" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if "os.environ" in text or "os.getenv" in text:
            readers.append(str(path.relative_to(PACKAGE)))
    assert not readers, f"environment read outside settings.py: {readers}"
