"""Load a Lambda handler module from functions/<name>/app.py, the way Lambda finds it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"


def load_handler(name: str) -> ModuleType:
    """Import functions/<name>/app.py under a unique module name (all three are called `app`)."""
    module_name = f"ggwatch_handler_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS / name / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
