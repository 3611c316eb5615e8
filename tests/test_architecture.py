"""The floors of docs/architecture.md hold: imports only go down, no circle, no library module writes
the environment or imports the flows, every variable read is declared, schedules is a leaf."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tiktok_intel.settings import DECLARED, PREFIX

PACKAGE = Path(__file__).resolve().parents[1] / "tiktok_intel"
DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

#: Each top-level module or package of tiktok_intel, by floor (docs/architecture.md): a unit imports
#: only units of its own floor or lower ones, and no circle forms within a floor.
FLOORS: dict[str, int] = {
    **dict.fromkeys(["errors", "settings", "clock", "progress", "schema", "schedules", "conventions"], 0),
    **dict.fromkeys(["localtime", "texts"], 0),
    **dict.fromkeys(["parsing", "raw", "rawshare", "sources", "offline"], 1),
    **dict.fromkeys(["store"], 2),
    **dict.fromkeys(
        ["tracking", "media", "downloads", "mediashare", "transcripts", "speech", "imports", "ingest", "collect", "search", "status"], 3
    ),
    **dict.fromkeys(["analyses"], 4),
    **dict.fromkeys(["notebooks", "jobs", "orchestration", "seeding", "alerts"], 5),
    **dict.fromkeys(["dashboards", "demo"], 6),
    **dict.fromkeys(["cli", "__main__"], 7),
}


def _units() -> dict[str, Path]:
    found = {p.stem: p for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    found.update({p.parent.name: p.parent for p in PACKAGE.glob("*/__init__.py")})
    return found


def _files(unit: Path) -> list[Path]:
    return [unit] if unit.is_file() else sorted(unit.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Absolute names of the project modules ``path`` imports (relative imports resolved)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    package = package.removesuffix(".__init__")
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
                names.add(stem)
                names.update(f"{stem}.{alias.name}" for alias in node.names)
            else:
                names.add(node.module or "")
    return names


def _graph() -> dict[str, set[str]]:
    units = _units()
    graph: dict[str, set[str]] = {name: set() for name in units}
    for name, unit in units.items():
        for path in _files(unit):
            for imported in _imports(path):
                parts = imported.split(".")
                if parts[0] == "tiktok_intel" and len(parts) > 1 and parts[1] in units and parts[1] != name:
                    graph[name].add(parts[1])
    return graph


def test_every_unit_has_a_floor_and_the_architecture_page_names_it():
    text = DOC.read_text(encoding="utf-8")
    assert set(_units()) <= set(FLOORS), f"give these a floor here and in docs/architecture.md: {sorted(set(_units()) - set(FLOORS))}"
    missing = [name for name in _units() if f"`{name}`" not in text and f"`{name}/`" not in text and f"`{name}.py`" not in text]
    assert not missing, f"docs/architecture.md does not describe {missing}"


def test_imports_only_go_down_a_floor_or_stay_on_it():
    upward = [(a, b) for a, targets in _graph().items() for b in targets if FLOORS[b] > FLOORS[a]]
    assert not upward, f"imports from a lower floor to a higher one: {sorted(upward)}"


def test_the_import_picture_has_no_circle():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not circles, f"these import each other: {circles}"


def _library_sources() -> list[tuple[Path, str]]:
    return [(p, p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.rglob("*.py"))]


def test_the_library_never_imports_the_flows_nor_edits_the_path_or_the_environment():
    writes = re.compile(r"os\.environ(\[[^]]+\] *=[^=]|\.update\(|\.setdefault\(|\.pop\()|os\.putenv|sys\.path\.(insert|append)|PYTHONPATH")
    for path, text in _library_sources():
        assert not any(name.split(".")[0] == "flows" for name in _imports(path)), f"{path} imports the flows"
        assert not writes.search(text), f"{path} writes the environment or the import path: pass values down instead"


def test_analyses_never_import_the_dashboards():
    assert "dashboards" not in _graph()["analyses"]


def test_schedules_imports_nothing_of_the_project_but_settings_and_clock():
    assert _graph()["schedules"] <= {"settings", "clock"}


def test_every_environment_variable_the_code_reads_is_a_declared_setting():
    declared = {s.env for s in DECLARED}
    named = set()
    for _, text in _library_sources():
        named.update(re.findall(r"\bTIKTOK_INTEL_[A-Z][A-Z_]*[A-Z]\b", text))
        named.update(PREFIX + m for m in re.findall(r"PREFIX\s*\+\s*\"([A-Z_]+)\"", text))
    assert named, "the scan found no variable at all: the pattern is wrong"
    assert named <= declared, f"declare these in settings.DECLARED: {sorted(named - declared)}"
