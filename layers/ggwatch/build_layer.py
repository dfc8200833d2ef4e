"""Finish the ggwatch layer after its pinned wheels are installed: add the ggwatch package, remove the
parts of the dependencies ggwatch never imports, so the layer stays small (issue 10: the layer and
functions within 10 MB unzipped), and ship the bytecode of what the handlers import at cold start.

Run by the layer's Makefile (`sam build`): `python build_layer.py SITE`, SITE being the layer's
`python/` directory. tests/unit/test_layer_build.py checks that nothing ggwatch imports is removed.
"""

from __future__ import annotations

import importlib.util
import py_compile
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

UNUSED = (
    # Powertools' event handlers (API Gateway, AppSync, Bedrock ... routers) and the utilities ggwatch
    # does not use. It uses logging, metrics, parameters (the Slack secret), the parser's EventBridge
    # model, typing, and what those import. The one path into event_handler from what remains,
    # shared.functions.pydantic_to_dict, serves events given as pydantic models and secrets set from
    # one; Lambda hands ggwatch's handlers plain dicts and ggwatch only reads secrets.
    "aws_lambda_powertools/event_handler",
    "aws_lambda_powertools/utilities/auth_alpha",
    "aws_lambda_powertools/utilities/batch",
    "aws_lambda_powertools/utilities/circuit_breaker",
    "aws_lambda_powertools/utilities/data_classes",
    "aws_lambda_powertools/utilities/data_masking",
    "aws_lambda_powertools/utilities/feature_flags",
    "aws_lambda_powertools/utilities/idempotency",
    "aws_lambda_powertools/utilities/kafka",
    "aws_lambda_powertools/utilities/metadata",
    "aws_lambda_powertools/utilities/serialization.py",
    "aws_lambda_powertools/utilities/streaming",
    "aws_lambda_powertools/utilities/validation",
    # Powertools' parser envelopes (ggwatch validates the EventBridge model itself) and, below, its
    # event models but EventBridge's: the parser loads each on first use of its name.
    "aws_lambda_powertools/utilities/parser/envelopes",
    # pydantic's V1 compatibility package: pydantic imports it only for a type written for pydantic 1
    # (one with __get_validators__) or a pydantic 1 name (pydantic.utils ...); ggwatch has neither.
    "pydantic/v1",
    # pydantic's mypy plugin (loaded by mypy, never at run time) and jmespath's command-line script.
    "pydantic/mypy.py",
    "bin",
    # pip's record of the files it installed: the layer is never pip-uninstalled.
    "*.dist-info/RECORD",
)
"""Paths (glob patterns) under the layer's site directory that no handler imports."""

KEEP_ONLY = {"aws_lambda_powertools/utilities/parser/models": ("__init__.py", "event_bridge.py")}
"""Directories of which ggwatch imports only these files."""

UNUSED_PATTERNS = ("*.pyi", "__pycache__")
"""Type stubs and bytecode caches anywhere: Lambda never reads stubs, and caches from the build
machine's interpreter are rebuilt anyway."""


def add_ggwatch(site: Path) -> None:
    """Copy the ggwatch package (source only) into the layer."""
    shutil.copytree(HERE / "ggwatch", site / "ggwatch", ignore=shutil.ignore_patterns(*UNUSED_PATTERNS))


def trim(site: Path) -> None:
    """Remove UNUSED and UNUSED_PATTERNS from an installed layer."""
    unused = [path for pattern in UNUSED for path in site.glob(pattern)]
    unused += [
        path
        for directory, kept in KEEP_ONLY.items()
        for path in (site / directory).iterdir()
        if path.name not in kept
    ]
    for path in unused:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    for pattern in UNUSED_PATTERNS:
        for path in sorted(site.rglob(pattern), reverse=True):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


COLD_START_FILES = HERE / "cold_start_files.txt"
"""The dependencies' files the handlers import at cold start (all of ggwatch is compiled too);
tests/unit/test_layer_build.py keeps the list current. Lambda mounts layers read-only, where Python
cannot cache bytecode: without it shipped, every cold start compiles these files again (on the
development machine that costs 0.8 to 1.6 x `import boto3` more per handler)."""

LAMBDA_PYTHON = (3, 13)


def compile_cold_start(site: Path) -> None:
    """Bytecode for the files the handlers import, used without checking the sources' timestamps (the
    layer is immutable, and a zip does not keep timestamps exactly)."""
    if sys.version_info[:2] != LAMBDA_PYTHON:
        raise SystemExit(
            f"build the layer with Python {'.'.join(map(str, LAMBDA_PYTHON))}, Lambda's: bytecode is "
            f"specific to one version, and this is {sys.version.split()[0]}"
        )
    listed = [site / line for line in cold_start_files()]
    for source in [*listed, *sorted((site / "ggwatch").rglob("*.py"))]:
        py_compile.compile(
            str(source),
            cfile=importlib.util.cache_from_source(str(source)),
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )


def cold_start_files() -> list[str]:
    lines = COLD_START_FILES.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def main(site: str) -> None:
    add_ggwatch(Path(site))
    trim(Path(site))
    compile_cold_start(Path(site))


if __name__ == "__main__":
    main(*sys.argv[1:])
