"""Finish the ggwatch layer after its pinned wheels are installed: add the ggwatch package and remove
the parts of the dependencies ggwatch never imports, so the layer stays small (issue 10: the layer and
functions within 10 MB unzipped).

Run by the layer's Makefile (`sam build`): `python build_layer.py SITE`, SITE being the layer's
`python/` directory. tests/unit/test_layer_build.py checks that nothing ggwatch imports is removed.
"""

from __future__ import annotations

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
    # pydantic's mypy plugin (loaded by mypy, never at run time) and jmespath's command-line script.
    "pydantic/mypy.py",
    "bin",
)
"""Paths under the layer's site directory that no handler imports."""

UNUSED_PATTERNS = ("*.pyi", "__pycache__")
"""Type stubs and bytecode caches anywhere: Lambda never reads stubs, and caches from the build
machine's interpreter are rebuilt anyway."""


def add_ggwatch(site: Path) -> None:
    """Copy the ggwatch package (source only) into the layer."""
    shutil.copytree(HERE / "ggwatch", site / "ggwatch", ignore=shutil.ignore_patterns(*UNUSED_PATTERNS))


def trim(site: Path) -> None:
    """Remove UNUSED and UNUSED_PATTERNS from an installed layer."""
    for relative in UNUSED:
        path = site / relative
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    for pattern in UNUSED_PATTERNS:
        for path in sorted(site.rglob(pattern), reverse=True):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def main(site: str) -> None:
    add_ggwatch(Path(site))
    trim(Path(site))


if __name__ == "__main__":
    main(*sys.argv[1:])
