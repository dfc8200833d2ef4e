"""The layer's build (layers/ggwatch/build_layer.py) removes only what ggwatch never imports, and ships
the bytecode of what it imports at cold start.

No import statement reachable from ggwatch's code (at any depth, including imports inside functions,
which run later than the cold start) leads into a removed path; every handler imports with the trimmed
layer alone, nothing falling back to the development environment's copies; and every file a handler
imports has its bytecode in the layer.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER_SOURCE = ROOT / "layers" / "ggwatch"
HANDLERS = sorted(path.parent for path in (ROOT / "functions").glob("*/app.py"))
SITE = Path(sysconfig.get_paths()["purelib"])
IGNORED_EDGES = {
    ("aws_lambda_powertools.shared.functions", "aws_lambda_powertools.event_handler"),
    ("pydantic._internal._generate_schema", "pydantic.v1"),
    ("pydantic._migration", "pydantic.v1"),
}
"""Imports the trim may break because ggwatch never takes them (build_layer.UNUSED says why)."""


def load_build_layer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_layer", LAYER_SOURCE / "build_layer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_layer = load_build_layer()


def module_file(name: str) -> Path | None:
    base = LAYER_SOURCE if name.split(".")[0] == "ggwatch" else SITE
    path = base.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def run_time_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of the tree but those under `if TYPE_CHECKING:` (read by type checkers only)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            nodes: list[ast.AST] = list(node.orelse)
        else:
            yield node
            nodes = [node]
        for child in nodes:
            if child is not node:
                yield child
            yield from run_time_nodes(child)


def imported_names(path: Path, package: str) -> Iterator[str]:
    """Every module (or module attribute) an import statement anywhere in the file names, at any depth
    (inside functions too), except imports for type checkers only."""
    for node in run_time_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*parts, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def reachable_files(starts: list[Path]) -> set[Path]:
    """The files of every module ggwatch's code can import, transitively."""
    seen: set[str] = set()
    files: set[Path] = set(starts)
    pending = [(name, "") for start in starts for name in imported_names(start, "ggwatch")]
    while pending:
        name, importer = pending.pop()
        if name in seen or any(importer == i and name.startswith(t) for i, t in IGNORED_EDGES):
            continue
        seen.add(name)
        path = module_file(name)
        if path is None:
            if "." in name:  # an attribute of a module, or a module outside the layer
                pending.append((name.rpartition(".")[0], importer))
            continue
        files.add(path)
        parent = name.rpartition(".")[0]
        if parent:
            pending.append((parent, importer))
        package = name if path.name == "__init__.py" else parent
        pending.extend((imported, name) for imported in imported_names(path, package))
    return files


def test_nothing_ggwatch_can_import_is_removed_from_the_layer() -> None:
    starts = [*sorted((LAYER_SOURCE / "ggwatch").rglob("*.py")), *(h / "app.py" for h in HANDLERS)]
    in_site = {path.relative_to(SITE).as_posix() for path in reachable_files(starts) if SITE in path.parents}
    assert any(path.startswith("aws_lambda_powertools/logging/") for path in in_site)
    removed = sorted(
        path
        for path in in_site
        if any(fnmatch(path, unused) or fnmatch(path, f"{unused}/*") for unused in build_layer.UNUSED)
        or any(
            path.startswith(f"{directory}/") and path.removeprefix(f"{directory}/").split("/")[0] not in kept
            for directory, kept in build_layer.KEEP_ONLY.items()
        )
    )
    assert not removed, f"build_layer.UNUSED removes modules ggwatch imports: {removed}"


@pytest.fixture(scope="module")
def trimmed_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The layer as the build leaves it, from the pinned distributions installed here."""
    site = tmp_path_factory.mktemp("layer") / "python"
    requirements = (LAYER_SOURCE / "requirements.txt").read_text().splitlines()
    names = [line.split("==")[0] for line in requirements if line and not line.startswith(("#", " "))]
    for name in names:
        for file in importlib.metadata.files(name) or []:
            if file.parts[0] == ".." or "__pycache__" in file.parts:
                continue
            target = site / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(str(file.locate())), target)
    build_layer.main(str(site))
    return site


PROBE = """
import json, pathlib, sys
site, function, environment = sys.argv[1:4]
sys.path[:0] = [function, site]
sys.path.append(environment)  # boto3, which Lambda's runtime provides
import app
shipped = {entry.name.removesuffix(".py") for entry in pathlib.Path(site).iterdir()}
files = [getattr(module, "__file__", None) or "" for module in list(sys.modules.values())]
print(json.dumps({
    "strays": sorted(
        name for name, module in list(sys.modules.items())
        if name.split(".")[0] in shipped and not (getattr(module, "__file__", None) or site).startswith(site)
    ),
    "files": sorted(
        str(pathlib.Path(f).relative_to(site)) for f in files if f.startswith(site + "/") and f.endswith(".py")
    ),
}))
"""


@pytest.fixture(scope="module")
def imported(trimmed_layer: Path) -> dict[str, dict[str, list[str]]]:
    """For each handler imported from the trimmed layer alone: the modules found outside it (strays),
    and the layer's files it imported."""
    found = {}
    for handler in HANDLERS:
        result = subprocess.run(
            # -S: no site-packages (and no editable install of ggwatch); the probe adds boto3's directory
            [sys.executable, "-S", "-c", PROBE, str(trimmed_layer), str(handler), str(SITE)],
            capture_output=True,
            text=True,
            check=False,
            env={"PYTHONDONTWRITEBYTECODE": "1"},
        )
        assert result.returncode == 0, result.stderr
        found[handler.name] = json.loads(result.stdout)
    return found


@pytest.mark.parametrize("handler", [path.name for path in HANDLERS])
def test_each_handler_imports_from_the_trimmed_layer_alone(
    trimmed_layer: Path, imported: dict[str, dict[str, list[str]]], handler: str
) -> None:
    assert not (trimmed_layer / "aws_lambda_powertools" / "event_handler").exists()
    assert imported[handler]["strays"] == [], "imported from outside the layer"
    assert any(file.startswith("pydantic/") for file in imported[handler]["files"])


def test_the_layer_ships_the_bytecode_of_every_file_a_handler_imports(
    trimmed_layer: Path, imported: dict[str, dict[str, list[str]]]
) -> None:
    """Lambda cannot write bytecode next to a read-only layer: what is not shipped compiles at every
    cold start. A dependency's file newly imported needs its line in the list; one no longer imported,
    its line removed (ggwatch's own files are all compiled)."""
    needed = sorted({file for found in imported.values() for file in found["files"]})
    dependencies = {file for file in needed if not file.startswith("ggwatch/")}
    listed = set(build_layer.cold_start_files())
    missing, stale = "\n".join(sorted(dependencies - listed)), "\n".join(sorted(listed - dependencies))
    assert not missing and not stale, (
        f"update {build_layer.COLD_START_FILES.relative_to(ROOT)}:\nadd\n{missing}\nremove\n{stale}"
    )
    for file in needed:
        cached = Path(importlib.util.cache_from_source(str(trimmed_layer / file)))
        assert cached.is_file(), f"no bytecode for {file}"
        assert cached.read_bytes()[:4] == importlib.util.MAGIC_NUMBER
