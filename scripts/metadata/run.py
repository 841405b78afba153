"""Run every check on a repository and report one line per problem."""

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path

from . import files, quality, texts
from .repo import ROOT, MissingFileError, Repo

type Check = Callable[[Repo], Iterable[str]]

CHECKS: tuple[Check, ...] = (*files.CHECKS, *texts.CHECKS, *quality.CHECKS)


def problems(check: Check, repo: Repo) -> list[str]:
    """What `check` finds wrong in `repo` (a missing file it reads is one problem)."""
    try:
        return list(check(repo))
    except MissingFileError as err:
        return [str(err)]


def main(argv: list[str] | None = None) -> int:
    """Check the repository; print `check: problem` lines; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="repository to check (default: this one)",
    )
    repo = Repo(parser.parse_args(argv).root.resolve())
    found = [
        f"{check.__name__}: {problem}"
        for check in CHECKS
        for problem in problems(check, repo)
    ]
    for line in found:
        print(line)
    if found:
        return 1
    print(f"metadata: all {len(CHECKS)} checks passed")
    return 0
