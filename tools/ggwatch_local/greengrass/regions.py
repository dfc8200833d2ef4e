"""One simulator, several regions: each region keeps its own deployments, as AWS keeps them apart.

A client signs every request for its region (SigV4's credential scope), so the server reads the
region from the Authorization header and hands the request to that region's fake.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/[^/,\s]+/aws4_request")


def region_of(headers: Mapping[str, str]) -> str | None:
    """The region a SigV4 request was signed for (its credential scope), None when it is unsigned.

    Headers are keyed in lower case, as the loopback server passes them.
    """
    found = _CREDENTIAL_SCOPE.search(headers.get("authorization", ""))
    return None if found is None else found.group(1)


@dataclass(frozen=True, slots=True)
class Regional[FakeT]:
    """A fake for each named region, and the default one that answers every other region."""

    default: FakeT
    by_region: Mapping[str, FakeT] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_region", dict(self.by_region))

    def of(self, region: str | None) -> FakeT:
        """The fake that keeps ``region``'s deployments."""
        if region is None:
            return self.default
        return self.by_region.get(region, self.default)
