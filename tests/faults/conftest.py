"""Fixtures for the fault suite: a wired world (see world.py), torn down after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.faults.world import World, WorldOptions


@pytest.fixture
def make_world(monkeypatch: pytest.MonkeyPatch, deployments_table: str) -> Iterator[Callable[..., World]]:
    """A factory: `make_world(sdk_attempts=2, read_timeout=0.25)` (see WorldOptions)."""
    with ExitStack() as stack:

        def make(**options: Any) -> World:
            return stack.enter_context(World.opened(monkeypatch, deployments_table, WorldOptions(**options)))

        yield make


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    """The default world: 3 SDK attempts, 1 s timeouts, a 120 s claim lease."""
    return make_world()
