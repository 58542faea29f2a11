"""Load problems from disk, whatever their format (problems/README.md describes them all).

* a Markdown file: statement with samples and optional YAML front matter;
* a problem directory: problem.md, tests/public, tests/hidden, optional meta.json;
* a Kattis problem package: problem.yaml, problem_statement/, data/sample, data/secret.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from sstar.errors import ProblemFormatError
from sstar.loaders.directory import load_directory, load_markdown
from sstar.loaders.kattis import is_kattis, load_kattis
from sstar.problem import Problem

__all__ = ["load_problem", "discover_problems", "is_problem"]

# Markdown files in a problem tree that are documentation, not problems.
_NOT_PROBLEMS = {"readme", "changelog", "contributing", "license", "index", "notes"}


def load_problem(path: str | os.PathLike[str]) -> Problem:
    """Read one problem (file or directory); ProblemFormatError says what is wrong and where."""
    p = Path(path)
    if not p.exists():
        raise ProblemFormatError(p, "no such file or directory")
    if p.is_file():
        if p.name == "problem.yaml":
            return load_kattis(p.parent)
        if p.suffix.lower() not in (".md", ".markdown"):
            raise ProblemFormatError(p, "a problem file must be Markdown (.md); or give the problem's directory")
        # problem.md inside a problem directory: load the directory, so its tests come along.
        if p.name == "problem.md" and ((p.parent / "tests").is_dir() or (p.parent / "meta.json").is_file()):
            return load_directory(p.parent)
        return load_markdown(p)
    if is_kattis(p):
        return load_kattis(p)
    if (p / "problem.md").is_file():
        return load_directory(p)
    raise ProblemFormatError(p, "not a problem: expected problem.md, problem.yaml or a Markdown file")


def is_problem(path: Path) -> bool:
    """A directory that holds one problem (as opposed to a folder of problems)."""
    return path.is_dir() and (is_kattis(path) or (path / "problem.md").is_file())


def discover_problems(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Every problem under ``paths``: problem directories, Kattis packages and loose .md files
    (README.md and similar excepted), sorted and without duplicates. Problem directories are
    not searched further (their tests/ are not problems)."""
    found: list[Path] = []
    for given in paths:
        root = Path(given)
        if not root.exists():
            raise ProblemFormatError(root, "no such file or directory")
        if root.is_file() or is_problem(root):
            found.append(root)
            continue
        before = len(found)
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
            if here != root and is_problem(here):
                found.append(here)
                dirnames[:] = []
                continue
            for name in sorted(filenames):
                stem, suffix = os.path.splitext(name)
                if suffix.lower() in (".md", ".markdown") and stem.lower() not in _NOT_PROBLEMS:
                    found.append(here / name)
        if len(found) == before:
            raise ProblemFormatError(root, "no problems found here")
    unique: dict[Path, Path] = {}
    for p in found:
        unique.setdefault(p.resolve(), p)
    return sorted(unique.values(), key=lambda p: p.as_posix())
