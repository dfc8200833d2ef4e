"""AWS regions as ggwatch uses them: where a tracked deployment lives, and which regions a stack polls.

A stack always polls its own (home) region, plus the regions its PollRegions parameter names. A
deployment in the home region is stored without a region (None), as every deployment was before
ggwatch polled more than one region, so that one deployment is never stored two ways.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

REGION_RULE = "an AWS region is written like us-east-1, eu-central-2 or us-gov-west-1"
_REGION = re.compile(r"[a-z]{2}(-[a-z]+){1,2}-[0-9]{1,2}")


def checked_region(value: str) -> str:
    """The region, if it is written as AWS writes regions; ValueError in plain words otherwise (without
    the value, which the caller may echo shortened where that is safe)."""
    if not _REGION.fullmatch(value):
        raise ValueError(f"not an AWS region: {REGION_RULE}")
    return value


def _comma_separated(value: object) -> object:
    """`"eu-west-1, us-west-2"` (an environment variable) as a tuple; empty means none."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


AwsRegion = Annotated[str, AfterValidator(checked_region)]
RegionList = Annotated[tuple[AwsRegion, ...], BeforeValidator(_comma_separated)]
"""Regions given as one comma-separated string (the template's PollRegions parameter)."""


@dataclass(frozen=True)
class RegionPolicy:
    """The stack's own region and the other regions it polls: which deployments it may track."""

    home: str
    others: frozenset[str] = frozenset()

    @classmethod
    def of(cls, home: str, poll_regions: tuple[str, ...] = ()) -> RegionPolicy:
        return cls(checked_region(home), frozenset(poll_regions) - {home})

    def stored(self, region: str | None) -> str | None:
        """What to store for a deployment in `region`: None for the home region."""
        return None if region in (None, self.home) else region

    def allows(self, region: str | None) -> bool:
        return region is None or region == self.home or region in self.others

    def polled(self) -> list[str]:
        """Every region the stack polls, its own first."""
        return [self.home, *sorted(self.others)]

    def refusal(self, region: str) -> str:
        """Why a deployment in `region` is not tracked, and how to have it tracked."""
        return (
            f"region {region} is not polled by this stack (it polls {', '.join(self.polled())}): "
            "add it to the stack's PollRegions parameter to track deployments there"
        )
