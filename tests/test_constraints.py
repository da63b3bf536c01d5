"""constraints.txt, the releases the tests and CI install: every dependency that
pyproject.toml declares is pinned there, within the range pyproject.toml allows, so a clean
checkout tests one known set of releases."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent


def pins() -> dict[str, str]:
    pinned = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pinned[canonicalize_name(name)] = version
    return pinned


def test_every_declared_dependency_is_pinned_within_its_range():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [Requirement(text) for text in
                project["dependencies"] + project["optional-dependencies"]["test"]]
    pinned = pins()
    assert len(declared) > 10
    for requirement in declared:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pinned[name]), (
            f"constraints.txt pins {requirement.name}=={pinned[name]}, outside {requirement}")


def test_the_test_command_and_ci_install_with_the_constraints():
    assert "-c constraints.txt -e '.[test]'" in (REPO / "scripts" / "test").read_text()
    assert "bash scripts/test" in (REPO / ".ci" / "run").read_text()
