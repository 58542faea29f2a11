"""Load problems from disk, whatever their format (problems/README.md describes them all).

* a Markdown file: statement with samples and optional YAML front matter;
* a problem directory: problem.md, tests/public, tests/hidden, optional meta.json;
* a Kattis problem package: problem.yaml, problem_statement/, data/sample, data/secret;
* a Polygon package: problem.xml, tests/NN + tests/NN.a, the checker in files/;
* a dataset file of LiveCodeBench or CodeContests records (JSON lines): every record is a
  problem, ``FILE#N`` (from 1) or ``FILE#ID`` names one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from sstar.errors import ProblemFormatError
from sstar.loaders.directory import load_directory, load_markdown
from sstar.loaders.kattis import is_kattis, load_kattis
from sstar.loaders.polygon import is_polygon, load_polygon
from sstar.loaders.records import is_record_file, load_record_file, record_paths, split_record_path
from sstar.problem import Problem

__all__ = ["load_problem", "discover_problems", "is_problem"]

# Markdown files in a problem tree that are documentation, not problems.
_NOT_PROBLEMS = {"readme", "changelog", "contributing", "license", "index", "notes"}


def load_problem(path: str | os.PathLike[str]) -> Problem:
    """Read one problem (file or directory); ProblemFormatError says what is wrong and where."""
    p, record = split_record_path(Path(path))
    if not p.exists():
        raise ProblemFormatError(p, "no such file or directory")
    if p.is_file():
        if p.name == "problem.yaml":
            return load_kattis(p.parent)
        if p.name == "problem.xml":
            return load_polygon(p.parent)
        if is_record_file(p):
            return load_record_file(p, record)
        if p.suffix.lower() not in (".md", ".markdown"):
            raise ProblemFormatError(p, "a problem file must be Markdown (.md), problem.xml, or a .jsonl of LiveCodeBench or CodeContests records; or give the problem's directory")
        # problem.md inside a problem directory: load the directory, so its tests come along.
        if p.name == "problem.md" and ((p.parent / "tests").is_dir() or (p.parent / "meta.json").is_file()):
            return load_directory(p.parent)
        return load_markdown(p)
    if is_kattis(p):
        return load_kattis(p)
    if is_polygon(p):
        return load_polygon(p)
    if (p / "problem.md").is_file():
        return load_directory(p)
    raise ProblemFormatError(p, "not a problem: expected problem.md, problem.yaml, problem.xml or a Markdown file")


def is_problem(path: Path) -> bool:
    """A directory that holds one problem (as opposed to a folder of problems)."""
    return path.is_dir() and (is_kattis(path) or is_polygon(path) or (path / "problem.md").is_file())


def discover_problems(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Every problem under ``paths``: problem directories, Kattis packages and loose .md files
    (README.md and similar excepted), sorted and without duplicates. Problem directories are
    not searched further (their tests/ are not problems)."""
    found: list[Path] = []
    for given in paths:
        root = Path(given)
        if split_record_path(root)[1] is not None:  # FILE#N: one record
            found.append(root)
            continue
        if not root.exists():
            raise ProblemFormatError(root, "no such file or directory")
        if root.is_file() and is_record_file(root):  # a dataset: every record
            found.extend(record_paths(root))
            continue
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
        unique.setdefault(Path(os.path.realpath(p)), p)  # FILE#N does not exist: no strict resolve
    return sorted(unique.values(), key=lambda p: p.as_posix())
