"""Judging records: per-test verdicts and the overall report."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


JSON_EXCERPT = 1000  # characters of output and stderr per test in to_json


class Verdict(str, enum.Enum):
    AC = "AC"  # accepted
    WA = "WA"  # wrong answer
    TLE = "TLE"  # time limit exceeded
    MLE = "MLE"  # memory limit exceeded
    RE = "RE"  # runtime error (stderr tail kept)
    OLE = "OLE"  # output limit exceeded
    SE = "SE"  # sandbox error: the sandbox failed, not the program (no verdict on it; rerun)
    CE = "CE"  # compilation error (C++): the compiler's message is the test's stderr_tail
    PE = "PE"  # presentation error: a testlib checker's exit code 2 (a wrong answer, on most judges)


@dataclass
class TestResult:
    name: str
    verdict: Verdict
    time_s: float = 0.0
    memory_mb: float = 0.0
    output: str = ""  # what the program printed (possibly truncated by the judge for storage)
    stderr_tail: str = ""
    message: str = ""  # why: the checker's first difference for WA, the limit hit, the error line for RE

    __test__ = False

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.AC


@dataclass
class JudgeReport:
    tests: list[TestResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(t.passed for t in self.tests)

    @property
    def total(self) -> int:
        return len(self.tests)

    @property
    def verdict(self) -> Verdict:
        """AC when every test passes, else the verdict of the first failing test."""
        for t in self.tests:
            if not t.passed:
                return t.verdict
        return Verdict.AC

    @property
    def all_passed(self) -> bool:
        return all(t.passed for t in self.tests)

    @property
    def sandbox_failed(self) -> bool:
        """Whether some test has no verdict because the sandbox failed (rerun it)."""
        return any(t.verdict is Verdict.SE for t in self.tests)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "passed": self.passed,
            "total": self.total,
            "tests": [
                {
                    "name": t.name,
                    "verdict": t.verdict.value,
                    "time_s": round(t.time_s, 4),
                    "memory_mb": round(t.memory_mb, 2),
                    "message": t.message,
                    "stderr_tail": t.stderr_tail[-JSON_EXCERPT:],
                    "output": t.output[:JSON_EXCERPT],
                }
                for t in self.tests
            ],
        }
