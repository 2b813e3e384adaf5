"""Fail when the environment does not hold what pyproject.toml asks for: the lock is stale.

Run after `pip install --require-hashes -r <lock>` and `pip install --no-deps -e .`: the
editable install's metadata is the current pyproject.toml, the rest came from the lock, so a
dependency added (or a bound raised) without `make lock` is named here instead of failing later
as an ImportError.
"""

import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def installed() -> dict[str, str]:
    """Installed distributions by canonical name → version."""
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}


def unmet(project: str, extras: list[str], have: dict[str, str]) -> list[str]:
    """The requirements of `project` (with `extras`) that the environment does not satisfy."""
    problems = []
    for line in metadata.requires(project) or []:
        req = Requirement(line)
        if req.marker and not any(req.marker.evaluate({"extra": e}) for e in ["", *extras]):
            continue
        version = have.get(canonicalize_name(req.name))
        if version is None:
            problems.append(f"{req} (not installed)")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req} (installed: {version})")
    return problems


def main(argv: list[str]) -> int:
    """`check_installed.py PROJECT [EXTRA ...]`: exit 1 naming each unmet requirement."""
    project, *extras = argv
    problems = unmet(project, extras, installed())
    for p in problems:
        print(f"{project}: unmet requirement {p}", file=sys.stderr)
    if problems:
        print("the lock file is out of date with pyproject.toml: run `make lock`", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
