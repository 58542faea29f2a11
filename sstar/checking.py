"""Output checkers: compare a program's output with the expected answer.

A checker is built from a spec string (the ``checker`` of a problem)::

    exact      line by line, ignoring trailing whitespace at line ends and at the end
    tokens     whitespace-separated tokens must be equal
    tokens:ci  tokens, compared case-insensitively
    float:EPS  tokens; numbers match within absolute OR relative error EPS
    json       parsed JSON values equal (numbers within 1e-6), for function-call problems
    custom     a Kattis output validator run in the sandbox (see :mod:`sstar.judge`)
    testlib    a testlib-style checker program (``checker input output answer``; exit 0
               AC, 1 WA, 2 PE), C++ or Python, compiled and run in the sandbox
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Protocol

CHECKER_SPECS = ("exact", "tokens", "tokens:ci", "float:EPS", "json", "custom", "testlib")

# A strict number syntax: Python's float() also takes "1_000" and " 1 ", which judges don't.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_SHOW = 40  # characters of a token or line shown in a message


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str = ""

    def __bool__(self) -> bool:
        return self.ok


class Checker(Protocol):
    spec: str

    def check(self, expected: str, output: str) -> CheckResult: ...


def _show(text: str) -> str:
    return repr(text if len(text) <= _SHOW else text[:_SHOW] + "…")


def _line_of(text: str) -> list[tuple[str, int]]:
    """Tokens of ``text`` with their 1-based line numbers."""
    return [(tok, n) for n, line in enumerate(text.splitlines(), 1) for tok in line.split()]


@dataclass(frozen=True)
class ExactChecker:
    spec: str = "exact"

    @staticmethod
    def _lines(text: str) -> list[str]:
        lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def check(self, expected: str, output: str) -> CheckResult:
        want, got = self._lines(expected), self._lines(output)
        for n, (w, g) in enumerate(zip(want, got), 1):
            if w != g:
                return CheckResult(False, f"line {n}: expected {_show(w)}, got {_show(g)}")
        if len(got) < len(want):
            return CheckResult(False, f"output has {len(got)} lines, expected {len(want)} (line {len(got) + 1} missing: {_show(want[len(got)])})")
        if len(got) > len(want):
            return CheckResult(False, f"output has {len(got)} lines, expected {len(want)} (extra line {len(want) + 1}: {_show(got[len(want)])})")
        return CheckResult(True)


@dataclass(frozen=True)
class TokenChecker:
    """Whitespace-insensitive token comparison; subclasses decide when two tokens match."""

    spec: str = "tokens"
    case_insensitive: bool = False

    def same(self, want: str, got: str) -> bool:
        return want.lower() == got.lower() if self.case_insensitive else want == got

    def check(self, expected: str, output: str) -> CheckResult:
        want, got = _line_of(expected), _line_of(output)
        for i, ((w, _), (g, line)) in enumerate(zip(want, got), 1):
            if not self.same(w, g):
                return CheckResult(False, f"token {i} (line {line}): expected {_show(w)}, got {_show(g)}")
        if len(got) < len(want):
            return CheckResult(False, f"output ended after {len(got)} tokens, expected {len(want)} (next expected: {_show(want[len(got)][0])})")
        if len(got) > len(want):
            g, line = got[len(want)]
            return CheckResult(False, f"extra output after {len(want)} tokens: {_show(g)} on line {line}")
        return CheckResult(True)


def parse_number(token: str) -> float | None:
    """The value of a numeric token, or None when the token is not a number."""
    if not _NUMBER.fullmatch(token):
        return None
    try:
        return float(token)
    except (ValueError, OverflowError):  # pragma: no cover - the regex admits only floats
        return None


def close(want: float, got: float, eps: float) -> bool:
    """``got`` is within absolute or relative (to ``want``) error ``eps``; nan only matches nan."""
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    if math.isinf(want) or math.isinf(got):
        return want == got
    # The tiny slack keeps an error of exactly EPS (1.000001 vs 1 at 1e-6) from failing by rounding.
    return abs(want - got) <= max(eps, eps * abs(want)) * (1 + 1e-9)


@dataclass(frozen=True)
class FloatChecker(TokenChecker):
    eps: float = 1e-6

    def same(self, want: str, got: str) -> bool:
        w = parse_number(want)
        if w is None:  # words are compared exactly
            return want == got
        g = parse_number(got)
        return g is not None and close(w, g, self.eps)


# JSON numbers compare within this tolerance (absolute or relative), either side's magnitude.
JSON_EPS = 1e-6


def _json_diff(want: Any, got: Any, path: str = "") -> str | None:
    """Where two JSON values differ (None when equal); lists and tuples are alike."""
    where = path or "top level"
    want_num = isinstance(want, (int, float)) and not isinstance(want, bool)
    got_num = isinstance(got, (int, float)) and not isinstance(got, bool)
    if want_num and got_num:
        if math.isnan(want) or math.isnan(got):
            ok = math.isnan(want) and math.isnan(got)
        elif math.isinf(want) or math.isinf(got):
            ok = want == got
        else:
            ok = abs(want - got) <= max(JSON_EPS, JSON_EPS * max(abs(want), abs(got))) * (1 + 1e-9)
        return None if ok else f"{where}: expected {_show(json.dumps(want))}, got {_show(json.dumps(got))}"
    if isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)):
        if len(want) != len(got):
            return f"{where}: expected a list of {len(want)} items, got {len(got)}"
        for i, (w, g) in enumerate(zip(want, got)):
            if (diff := _json_diff(w, g, f"{path}[{i}]")) is not None:
                return diff
        return None
    if isinstance(want, dict) and isinstance(got, dict):
        if set(want) != set(got):
            missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
            return f"{where}: keys differ (missing {missing}, unexpected {extra})"
        for k in want:
            if (diff := _json_diff(want[k], got[k], f"{path}[{k!r}]")) is not None:
                return diff
        return None
    if type(want) is type(got) and want == got:
        return None
    return f"{where}: expected {_show(json.dumps(want))}, got {_show(json.dumps(got))}"


@dataclass(frozen=True)
class JsonChecker:
    spec: str = "json"

    def check(self, expected: str, output: str) -> CheckResult:
        want = json.loads(expected)
        try:
            got = json.loads(output)
        except ValueError:
            first = output.strip().splitlines()[0] if output.strip() else ""
            return CheckResult(False, f"output is not JSON: {_show(first)}" if first else "no output")
        diff = _json_diff(want, got)
        return CheckResult(diff is None, diff or "")


@dataclass(frozen=True)
class CustomChecker:
    """Marker for a problem's own checker program (a Kattis validator: ``custom``; a testlib
    checker: ``testlib``); :func:`sstar.judge.judge` runs it in the sandbox."""

    spec: str = "custom"

    def check(self, expected: str, output: str) -> CheckResult:
        raise TypeError("a custom checker runs in the sandbox: use sstar.judge.judge")


def parse_checker(spec: str) -> Checker:
    """The checker for a spec string; ValueError (listing the valid specs) for anything else."""
    s = spec.strip()
    if s == "exact":
        return ExactChecker()
    if s == "tokens":
        return TokenChecker()
    if s == "tokens:ci":
        return TokenChecker(spec="tokens:ci", case_insensitive=True)
    if s == "json":
        return JsonChecker()
    if s == "custom":
        return CustomChecker()
    if s == "testlib":
        return CustomChecker(spec="testlib")
    if s.startswith("float:"):
        try:
            eps = float(s[len("float:"):])
        except ValueError:
            eps = -1.0
        if not (eps > 0 and math.isfinite(eps)):
            raise ValueError(f"checker {spec!r}: EPS must be a positive number, as in float:1e-6")
        return FloatChecker(spec=s, eps=eps)
    raise ValueError(f"unknown checker {spec!r}; expected one of {', '.join(CHECKER_SPECS)}")


def check(spec: str, expected: str, output: str) -> CheckResult:
    """One-shot convenience: ``parse_checker(spec).check(expected, output)``."""
    return parse_checker(spec).check(expected, output)
