"""Pieces every problem format shares: reading files, options, test-file pairs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from sstar.checking import parse_checker
from sstar.errors import ProblemFormatError
from sstar.problem import ProblemKind, TestCase


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # -sig: a BOM must not hide front matter
    except UnicodeDecodeError as err:
        raise ProblemFormatError(path, f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    except OSError as err:
        raise ProblemFormatError(path, f"cannot read: {err.strerror or err}") from None


def read_json(path: Path) -> Any:
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ProblemFormatError(path, f"bad JSON: {err.msg} (column {err.colno})", err.lineno) from None


def json_key_line(text: str, key: str) -> int | None:
    """The line where ``"key":`` first appears in a JSON text (for error messages)."""
    m = re.search(rf'"{re.escape(key)}"\s*:', text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def natural_key(path: Path) -> list[object]:
    """Sort key putting 2.in before 10.in."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.as_posix())]


def test_pairs(folder: Path, prefix: str, answer_suffixes: tuple[str, ...] = (".out", ".ans")) -> list[TestCase]:
    """Every ``X.in`` under ``folder`` (recursively) with its ``X.out``/``X.ans``, naturally sorted."""
    tests = []
    inputs = sorted((p for p in folder.rglob("*.in") if p.is_file()), key=natural_key)
    for inp in inputs:
        answer = next((inp.with_suffix(s) for s in answer_suffixes if inp.with_suffix(s).is_file()), None)
        if answer is None:
            wanted = " or ".join(inp.with_suffix(s).name for s in answer_suffixes)
            raise ProblemFormatError(inp, f"test input has no expected output ({wanted} is missing)")
        name = inp.relative_to(folder).with_suffix("").as_posix()
        tests.append(TestCase(name=f"{prefix}/{name}", input=read_text(inp), expected=read_text(answer)))
    for suffix in answer_suffixes:  # an answer without its input is a packaging mistake too
        for answer in folder.rglob(f"*{suffix}"):
            if answer.is_file() and not answer.with_suffix(".in").is_file():
                raise ProblemFormatError(answer, f"expected output has no test input ({answer.with_suffix('.in').name} is missing)")
    return tests


@dataclass
class Options:
    """Problem settings gathered from front matter, meta.json or problem.yaml."""

    title: str | None = None
    checker: str | None = None
    validator: Path | None = None
    time_limit_s: float | None = None
    memory_limit_mb: int | None = None
    kind: ProblemKind = ProblemKind.STDIO
    entry_point: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def update(self, other: "Options") -> None:
        """Settings given in ``other`` win over ours."""
        for name in ("title", "checker", "validator", "time_limit_s", "memory_limit_mb", "entry_point"):
            if getattr(other, name) is not None:
                setattr(self, name, getattr(other, name))
        if other.kind is not ProblemKind.STDIO:
            self.kind = other.kind
        self.extra.update(other.extra)


# Accepted spellings of each option (front matter uses short names, meta.json the _s/_mb ones).
_ALIASES = {
    "title": "title", "name": "title",
    "time_limit": "time_limit_s", "time_limit_s": "time_limit_s",
    "memory_limit": "memory_limit_mb", "memory_limit_mb": "memory_limit_mb",
    "checker": "checker", "validator": "validator", "kind": "kind", "entry_point": "entry_point",
}


def parse_options(data: dict[str, Any], path: Path, lines: dict[str, int] | None = None) -> Options:
    """Options from a mapping; a bad value raises ProblemFormatError at the key's line."""
    lines = lines or {}
    opts = Options()

    def bad(key: str, message: str) -> ProblemFormatError:
        return ProblemFormatError(path, f"{key}: {message}", lines.get(key))

    for key, value in data.items():
        name = _ALIASES.get(str(key))
        if name is None or value is None:
            opts.extra[str(key)] = value
        elif name == "title":
            opts.title = str(value).strip() or None
        elif name == "time_limit_s":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise bad(key, f"must be a positive number of seconds, not {value!r}")
            opts.time_limit_s = float(value)
        elif name == "memory_limit_mb":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise bad(key, f"must be a positive number of megabytes, not {value!r}")
            opts.memory_limit_mb = int(value)
        elif name == "checker":
            try:
                parse_checker(str(value))
            except ValueError as err:
                raise bad(key, str(err)) from None
            opts.checker = str(value).strip()
        elif name == "validator":
            opts.validator = (path.parent / str(value)).resolve()
        elif name == "kind":
            try:
                opts.kind = ProblemKind(str(value).strip().lower())
            except ValueError:
                raise bad(key, f"must be stdio or function, not {value!r}") from None
        elif name == "entry_point":
            opts.entry_point = str(value).strip()
    if opts.validator is not None and not opts.validator.is_file():
        raise bad("validator", f"no such file: {opts.validator}")
    return opts


def unique_names(tests: Iterable[TestCase]) -> tuple[TestCase, ...]:
    """Tests with duplicate names renamed name~2, name~3 (results are matched by name)."""
    seen: dict[str, int] = {}
    out = []
    for t in tests:
        n = seen[t.name] = seen.get(t.name, 0) + 1
        out.append(t if n == 1 else TestCase(f"{t.name}~{n}", t.input, t.expected))
    return tuple(out)
