"""Tests load handlers exactly as the local Lambda runtime does."""

from ggwatch_local.lambda_runtime import load_handler

__all__ = ["load_handler"]
