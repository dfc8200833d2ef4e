"""Loading handler code the way Lambda's importer does: each function's app.py, once per cold start.

All three handlers live in a file called `app.py`, so each is registered under a module name of its
own; otherwise the second import would return the first handler.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from ggwatch_local.template import TEMPLATE_PATH

REPOSITORY = TEMPLATE_PATH.parent
FUNCTIONS = REPOSITORY / "functions"


def load_handler(name: str) -> ModuleType:
    """Import functions/<name>/app.py once under a unique module name (all three are called `app`).

    The same module object is returned on every call, as tests that clear a handler's caches need.
    """
    module_name = f"ggwatch_handler_{name}"
    loaded = sys.modules.get(module_name)
    return loaded if loaded is not None else load_module(FUNCTIONS / name / "app.py", module_name)


def load_module(path: Path, module_name: str) -> ModuleType:
    """Execute a handler file as a new module registered as `module_name` (a fresh cold start)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load a module from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
