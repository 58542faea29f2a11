"""Problem records (the loaders live in :mod:`sstar.loaders`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from pathlib import Path


class ProblemKind(str, enum.Enum):
    STDIO = "stdio"  # a full program: reads stdin, writes stdout
    FUNCTION = "function"  # LeetCode style: complete a function / class method


@dataclass(frozen=True)
class TestCase:
    """One test. For STDIO problems ``input``/``expected`` are stdin/stdout text.

    For FUNCTION problems ``input`` is a JSON array of positional arguments and
    ``expected`` the JSON of the return value.
    """

    name: str
    input: str
    expected: str | None = None

    __test__ = False  # not a pytest class


@dataclass(frozen=True)
class FunctionSpec:
    """How to call a function-call problem's solution."""

    name: str  # function or method name
    class_name: str | None = None  # e.g. "Solution" for LeetCode; None for a plain function
    starter_code: str = ""


@dataclass(frozen=True)
class Problem:
    id: str
    title: str
    statement: str  # Markdown, without front matter
    public_tests: tuple[TestCase, ...]
    hidden_tests: tuple[TestCase, ...] = ()
    kind: ProblemKind = ProblemKind.STDIO
    checker: str = "tokens"  # exact | tokens | tokens:ci | float:EPS | custom
    validator: Path | None = None  # custom checker program (Kattis output validator)
    time_limit_s: float | None = None
    memory_limit_mb: int | None = None
    function: FunctionSpec | None = None
    source: Path | None = None
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    def without_hidden(self) -> "Problem":
        """The view a solving strategy gets: hidden tests removed (they only score the result)."""
        return replace(self, hidden_tests=())

    def tests(self, which: str = "public") -> tuple[TestCase, ...]:
        if which == "public":
            return self.public_tests
        if which == "hidden":
            return self.hidden_tests
        if which == "all":
            return self.public_tests + self.hidden_tests
        raise ValueError(f"tests must be public, hidden or all, not {which!r}")
