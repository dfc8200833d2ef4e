"""The layer's requirements pin one exact, hashed version of every distribution it installs, the set is
complete (every dependency a pinned distribution needs on Lambda is pinned too), and the pins are the
versions the tests run against, so what ships is what was tested."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LAYER_REQUIREMENTS = ROOT / "layers" / "ggwatch" / "requirements.txt"
RUNTIME_PROVIDED = {"boto3", "botocore"}
"""The Lambda runtime ships these; the layer does not install them."""
LAMBDA = {
    "implementation_name": "cpython",
    "implementation_version": "3.13.0",
    "os_name": "posix",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_system": "Linux",
    "platform_version": "",
    "python_full_version": "3.13.0",
    "python_version": "3.13",
    "sys_platform": "linux",
    "extra": "",
}
"""The environment markers of Lambda's python3.13 arm64 runtime."""


def layer_requirements(text: str) -> list[tuple[Requirement, list[str]]]:
    """Each requirement of a requirements file with its --hash options (continuation lines joined)."""
    logical = text.replace("\\\n", " ")
    found = []
    for line in map(str.strip, logical.splitlines()):
        if not line or line.startswith("#"):
            continue
        spec, *options = line.split(" --")
        found.append((Requirement(spec.strip()), [option.strip() for option in options]))
    return found


def pins() -> dict[str, Version]:
    return {
        canonicalize_name(requirement.name): Version(next(iter(requirement.specifier)).version)
        for requirement, _ in layer_requirements(LAYER_REQUIREMENTS.read_text())
    }


def test_every_requirement_is_one_exact_version_with_a_sha256_hash() -> None:
    requirements = layer_requirements(LAYER_REQUIREMENTS.read_text())
    assert requirements
    for requirement, options in requirements:
        specifiers = list(requirement.specifier)
        assert [s.operator for s in specifiers] == ["=="], f"{requirement} is not pinned to one version"
        assert not requirement.extras and requirement.marker is None, f"{requirement}: pin it plainly"
        assert any(option.startswith("hash=sha256:") for option in options), f"{requirement} has no hash"
    names = [canonicalize_name(requirement.name) for requirement, _ in requirements]
    assert len(names) == len(set(names)), "a distribution is pinned twice"


def test_the_pins_are_complete_for_lambda() -> None:
    """Installed with --no-deps, a missing transitive pin would be missing from the layer."""
    pinned = pins()
    for name, version in pinned.items():
        for declared in importlib.metadata.requires(name) or []:
            dependency = Requirement(declared)
            if dependency.marker is not None and not dependency.marker.evaluate(LAMBDA):
                continue
            needed = canonicalize_name(dependency.name)
            if needed in RUNTIME_PROVIDED:
                continue
            assert needed in pinned, f"{name} {version} needs {dependency}, which the layer does not pin"
            assert pinned[needed] in dependency.specifier, (
                f"{name} {version} needs {dependency}; the layer pins {needed}=={pinned[needed]}"
            )


@pytest.mark.parametrize("name", sorted(pins()))
def test_the_tests_run_against_the_pinned_version(name: str) -> None:
    installed = Version(importlib.metadata.version(name))
    assert installed == pins()[name], (
        f"the tests run against {name} {installed} but the layer ships {pins()[name]}: move the pin "
        f"(and its hash) in {LAYER_REQUIREMENTS.relative_to(ROOT)}, or reinstall the environment"
    )


def test_pyproject_asks_for_the_versions_the_layer_ships() -> None:
    """The development environment installs ggwatch's dependencies from pyproject.toml; each one the
    layer also ships is pinned there to the same version."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = pins()
    declared = [Requirement(line) for line in project["dependencies"]]
    shipped = [r for r in declared if canonicalize_name(r.name) in pinned]
    assert shipped, "pyproject.toml names none of the layer's distributions"
    for requirement in shipped:
        assert str(requirement.specifier) == f"=={pinned[canonicalize_name(requirement.name)]}", (
            f"pyproject.toml asks for {requirement}; the layer pins "
            f"{pinned[canonicalize_name(requirement.name)]}"
        )
    runtime_only = {canonicalize_name(r.name) for r in declared} - set(pinned)
    assert runtime_only <= RUNTIME_PROVIDED, f"{runtime_only - RUNTIME_PROVIDED} is not in the layer"
