"""The judge: run a program on a problem's tests in a sandbox and give each test a verdict."""

from __future__ import annotations

import re
import threading
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Callable, Sequence

from sstar.checking import Checker, CheckResult, parse_checker
from sstar.errors import SstarError
from sstar.functioncall import harness
from sstar.problem import Problem, ProblemKind, TestCase
from sstar.sandbox.base import Limits, Program, RunOutcome, RunSpec, RunStatus, Sandbox, language_of
from sstar.verdict import JudgeReport, TestResult, Verdict

# No time limit given (every problem in ../shared/benchmarks): 4 s. Limits there were set for
# C++ (typically 1-2 s); a Python solution with the intended complexity needs 2-3x that, plus
# headroom for tests running in parallel on shared cores. It still fails quadratic brute
# forces: 10^5 elements squared is minutes of Python.
DEFAULT_TIME_LIMIT_S = 4.0
DEFAULT_MEMORY_MB = 512
OUTPUT_KEEP = 4096  # characters of a test's output kept in its TestResult
VALIDATOR_LIMITS = Limits(time_s=10.0, memory_mb=1024)
AC_EXIT, WA_EXIT = 42, 43  # Kattis output-validator protocol
TESTLIB_EXIT = {0: "AC", 1: "WA", 2: "PE"}  # testlib checkers (Codeforces, Polygon); 3 = the checker failed
TESTLIB = "testlib"  # Problem.checker for a testlib-style checker program (Problem.validator)
_LOCAL_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"[^\n]*$', re.MULTILINE)


class CheckerFailed(SstarError):
    """The problem's checker program crashed or reported its own failure: the problem is
    broken, not the solution. The message names the checker, the test and what to fix."""

OnTestResult = Callable[[TestResult], None]


def limits_for(problem: Problem, **overrides: Any) -> Limits:
    """The limits to judge ``problem`` under; keyword overrides (None = keep) are Limits fields."""
    unknown = set(overrides) - {f.name for f in fields(Limits)}
    if unknown:
        raise TypeError(f"unknown limit(s): {', '.join(sorted(unknown))}")
    base = Limits(
        time_s=problem.time_limit_s or DEFAULT_TIME_LIMIT_S,
        memory_mb=problem.memory_limit_mb or DEFAULT_MEMORY_MB,
    )
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def as_program(program: str | Program, problem: Problem) -> Program:
    """The program the sandbox runs: function-call solutions are wrapped in the stdio harness."""
    prog = program if isinstance(program, Program) else Program(program)
    if problem.kind is ProblemKind.FUNCTION:
        if problem.function is None:
            raise ValueError(f"function-call problem {problem.id} has no FunctionSpec")
        if prog.language != "python":
            raise ValueError(f"function-call problems take Python solutions, not {prog.language}")
        return Program(harness(prog.source, problem.function), prog.language)
    return prog


def run_inputs(
    program: str | Program,
    problem: Problem,
    sandbox: Sandbox,
    inputs: Sequence[str],
    limits: Limits | None = None,
) -> list[RunOutcome]:
    """Run the program on inputs that have no expected output (outcomes in input order)."""
    specs = [RunSpec(f"input-{i + 1}", text.encode()) for i, text in enumerate(inputs)]
    if not specs:
        return []
    return sandbox.run(as_program(program, problem), specs, limits or limits_for(problem))


def _last_line(text: str) -> str:
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")


def _keep(text: str) -> str:
    if len(text) <= OUTPUT_KEEP:
        return text
    return text[:OUTPUT_KEEP] + f"\n… [{len(text) - OUTPUT_KEEP} more characters]"


def _failure(outcome: RunOutcome, limits: Limits) -> tuple[Verdict, str]:
    """Verdict and message of a run that did not finish normally."""
    if outcome.status is RunStatus.SE:
        return Verdict.SE, f"sandbox error, not the program's fault: {outcome.reason or 'the sandbox failed'}"
    if outcome.status is RunStatus.CE:
        return Verdict.CE, outcome.reason or "compilation failed"
    if outcome.status is RunStatus.TLE:
        return Verdict.TLE, outcome.reason or f"time limit {limits.time_s:g} s exceeded"
    if outcome.status is RunStatus.MLE:
        return Verdict.MLE, f"memory limit {limits.memory_mb} MB exceeded" + (f": {outcome.reason}" if outcome.reason else "")
    if outcome.status is RunStatus.OLE:
        size = limits.output_bytes
        shown = f"{size / 2**20:g} MiB" if size >= 2**20 else f"{size / 2**10:g} KiB"
        return Verdict.OLE, f"output limit {shown} exceeded"
    last = _last_line(outcome.stderr_tail)
    if last.startswith("MemoryError"):  # Python ran out of its address space: that is MLE
        return Verdict.MLE, f"memory limit {limits.memory_mb} MB exceeded (MemoryError)"
    if last:
        return Verdict.RE, last
    if outcome.signal:
        return Verdict.RE, outcome.reason or f"killed by signal {outcome.signal}"
    return Verdict.RE, f"exit code {outcome.exit_code}"


def _result(test: TestCase, outcome: RunOutcome, verdict: Verdict, message: str) -> TestResult:
    return TestResult(
        name=test.name,
        verdict=verdict,
        time_s=outcome.time_s,
        memory_mb=outcome.memory_mb,
        output=_keep(outcome.stdout.decode("utf-8", "replace")),
        stderr_tail=outcome.stderr_tail,
        message=message,
    )


def verdict_of(test: TestCase, outcome: RunOutcome, checker: Checker, limits: Limits) -> TestResult:
    """A test's result from its run, with ``checker`` deciding AC/WA for finished runs."""
    if outcome.status is not RunStatus.OK:
        return _result(test, outcome, *_failure(outcome, limits))
    output = outcome.stdout.decode("utf-8", "replace")
    res: CheckResult = checker.check(test.expected or "", output)
    message = res.message
    if not res.ok and not output.strip():
        stderr = _last_line(outcome.stderr_tail)
        message = "no output" + (f" (stderr: {stderr})" if stderr else "")
    return _result(test, outcome, Verdict.AC if res.ok else Verdict.WA, message)


def judge(
    program: str | Program,
    problem: Problem,
    sandbox: Sandbox,
    tests: str | Sequence[TestCase] = "public",
    limits: Limits | None = None,
    on_result: OnTestResult | None = None,
) -> JudgeReport:
    """Run ``program`` on the tests ("public", "hidden", "all" or a list) in one sandbox call.

    ``on_result`` is called with each TestResult as soon as it is known (completion order,
    possibly from another thread); the report lists them in test order.
    """
    cases = problem.tests(tests) if isinstance(tests, str) else tuple(tests)
    missing = [t.name for t in cases if t.expected is None]
    if missing:
        raise ValueError(f"tests without an expected output cannot be judged ({', '.join(missing[:3])}); use run_inputs")
    if not cases:
        return JudgeReport()
    limits = limits or limits_for(problem)
    prog = as_program(program, problem)
    custom = problem.checker in ("custom", TESTLIB)  # decided by a checker program, in the sandbox
    checker = parse_checker(problem.checker)
    names = [t.name for t in cases]
    if len(set(names)) != len(names):  # outcomes are matched by name: make them unique
        names = [f"{i}:{n}" for i, n in enumerate(names)]
    hidden = set(problem.hidden_tests)  # their inputs must not reach a later program
    specs = [RunSpec(n, t.input.encode(), secret=t in hidden) for n, t in zip(names, cases)]
    by_name = dict(zip(names, cases))
    lock = threading.Lock()  # on_result may be called from the sandbox's threads
    done: dict[str, TestResult] = {}  # checked in the callback already: not checked twice

    def emit(result: TestResult) -> None:
        if on_result is not None:
            with lock:
                on_result(result)

    def on_outcome(outcome: RunOutcome) -> None:
        test = by_name.get(outcome.name)
        if test is None or (custom and outcome.status is RunStatus.OK):
            return  # a custom validator decides it later
        done[outcome.name] = result = verdict_of(test, outcome, checker, limits)
        emit(result)

    outcomes = sandbox.run(prog, specs, limits, on_outcome if on_result else None)
    if problem.checker == TESTLIB:
        return JudgeReport(_testlib(problem, sandbox, names, cases, outcomes, limits, emit if on_result else None))
    if custom:
        return JudgeReport(_validate(problem, sandbox, names, cases, outcomes, limits, emit if on_result else None))
    return JudgeReport([done.get(n) or verdict_of(t, o, checker, limits) for n, t, o in zip(names, cases, outcomes)])


# Runs a Python Kattis output validator with ``input judge_answer feedback_dir [flags]`` and
# the team output on stdin, then puts feedback_dir/judgemessage.txt on stderr so the
# judge can show why an answer was rejected.
_VALIDATOR_WRAPPER = '''\
import os, sys
os.makedirs("feedback", exist_ok=True)
_code = 0
try:
    exec(compile(%(source)r, "validator.py", "exec"), {"__name__": "__main__", "__file__": "validator.py", "__builtins__": __builtins__})
except SystemExit as exc:
    _code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
sys.stdout.flush()
for _name in ("judgemessage.txt", "teammessage.txt"):
    try:
        with open(os.path.join("feedback", _name), encoding="utf-8", errors="replace") as _f:
            _text = _f.read().strip()
    except OSError:
        continue
    if _text:
        print(_text, file=sys.stderr)
sys.exit(_code)
'''


def validator_program(problem: Problem) -> Program:
    if problem.validator is None:
        raise ValueError(f"problem {problem.id} has checker custom but no validator")
    try:
        source = problem.validator.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"cannot read the validator {problem.validator}: {err}") from None
    if language_of(problem.validator) == "cpp":  # compiled in the sandbox; its feedback dir is made for it
        return Program(inline_local_includes(source, problem.validator.parent), "cpp")
    return Program(_VALIDATOR_WRAPPER % {"source": source})


def _second_batch(
    program: Program,
    sandbox: Sandbox,
    cases: Sequence[TestCase],
    outcomes: Sequence[RunOutcome],
    names: Sequence[str],
    limits: Limits,
    emit: OnTestResult | None,
    spec_for: Callable[[str, TestCase, RunOutcome], RunSpec],
    verdict_for: Callable[[TestCase, RunOutcome], tuple[Verdict, str]],
) -> list[TestResult]:
    """A checking program (a Kattis validator, a testlib checker) on every run that finished:
    one more sandbox batch. ``verdict_for(test, check)`` reads the checker's own outcome; a
    failed run keeps its failure (it was reported when it finished)."""
    results: list[TestResult | None] = [None] * len(cases)
    specs, index = [], {}
    for i, (name, test, outcome) in enumerate(zip(names, cases, outcomes)):
        if outcome.status is not RunStatus.OK:
            results[i] = _result(test, outcome, *_failure(outcome, limits))
            continue
        index[name] = i
        specs.append(spec_for(name, test, outcome))
    if specs:
        for check in sandbox.run(program, specs, VALIDATOR_LIMITS):
            i = index[check.name]
            if check.status is RunStatus.SE:  # the sandbox failed while checking
                verdict, message = _failure(check, limits)
            else:
                verdict, message = verdict_for(cases[i], check)
            results[i] = result = _result(cases[i], outcomes[i], verdict, message)
            if emit is not None:
                emit(result)
    return [r for r in results if r is not None]


def _validate(
    problem: Problem,
    sandbox: Sandbox,
    names: Sequence[str],
    cases: Sequence[TestCase],
    outcomes: Sequence[RunOutcome],
    limits: Limits,
    emit: OnTestResult | None,
) -> list[TestResult]:
    """Second batch: the problem's validator on every finished run (Kattis exit codes 42/43)."""
    flags = tuple(str(f) for f in problem.meta.get("validator_flags", ()))

    def spec_for(name: str, test: TestCase, outcome: RunOutcome) -> RunSpec:
        files = {
            "input": test.input.encode(),
            "judge_answer": (test.expected or "").encode(),
            "feedback/judgemessage.txt": b"",  # the directory must exist (the Python wrapper makes it too)
        }
        # secret: the judge's answer; no later program may find it.
        return RunSpec(name, outcome.stdout, args=("input", "judge_answer", "feedback", *flags), files=files, secret=True)

    def verdict_for(test: TestCase, check: RunOutcome) -> tuple[Verdict, str]:
        why = _last_line(check.stderr_tail) or _last_line(check.stdout.decode("utf-8", "replace"))
        if check.status is RunStatus.CE:
            raise CheckerFailed(f"the output validator {problem.validator} does not compile: {check.reason}")
        if check.status is RunStatus.OK or check.exit_code not in (AC_EXIT, WA_EXIT):
            # The validator crashed or exited oddly; usually the output was malformed.
            detail = f"{check.status.value}, exit code {check.exit_code}"
            return Verdict.WA, f"output validator failed ({detail}): {why}".rstrip(": ")
        if check.exit_code == AC_EXIT:
            return Verdict.AC, ""
        return Verdict.WA, why or "rejected by the output validator"

    return _second_batch(validator_program(problem), sandbox, cases, outcomes, names, limits, emit, spec_for, verdict_for)


# ----------------------------------------------------------------------------- testlib checkers


def inline_local_includes(source: str, directory: Path, seen: set[Path] | None = None) -> str:
    """``#include "testlib.h"`` (any quoted include) replaced by that file's text when it
    lies beside the source, each file once (as #pragma once would): the sandbox compiles
    one file, and checkers ship testlib.h next to them (Polygon's files/). Includes not
    found there are left for the compiler."""
    seen = set() if seen is None else seen

    def expand(match: re.Match[str]) -> str:
        path = (directory / match.group(1)).resolve()
        if path in seen:
            return ""
        if not path.is_file():
            return match.group(0)
        try:
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
        except OSError:
            return match.group(0)
        seen.add(path)
        return inline_local_includes(text, path.parent, seen) + "\n"

    return _LOCAL_INCLUDE.sub(expand, source)


def checker_program(problem: Problem) -> Program:
    """The problem's testlib checker as a sandbox Program (C++ or Python, from its extension)."""
    path = problem.validator
    if path is None:
        raise CheckerFailed(f"problem {problem.id} has checker testlib but no checker program")
    language = language_of(path)
    if language is None:
        raise CheckerFailed(f"{path}: a checker must be a .cpp, .cc, .cxx or .py file")
    try:
        source = path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as err:
        raise CheckerFailed(f"cannot read the checker {path}: {err.strerror}") from None
    if language == "cpp":
        source = inline_local_includes(source, path.parent)
    return Program(source, language)


def checker_override(spec: str) -> tuple[str, Path | None]:
    """(Problem.checker, Problem.validator) for a ``--checker`` value: exact, tokens,
    tokens:ci, float:EPS, or the path of a testlib-style checker program
    (``checker input output answer``, .cpp or .py). CheckerFailed for anything else."""
    value = spec.strip()
    path = Path(value).expanduser()
    if value and not value.startswith("float:") and (path.is_file() or language_of(path) is not None):
        if not path.is_file():
            raise CheckerFailed(f"--checker: the checker program {value} does not exist")
        if language_of(path) is None:
            raise CheckerFailed(f"--checker: {value} must be a .cpp, .cc, .cxx or .py checker program")
        return TESTLIB, path.resolve()
    try:
        parse_checker(value)
    except ValueError:
        raise CheckerFailed(
            f"--checker {spec!r}: expected exact, tokens, tokens:ci, float:EPS or a checker program file (.cpp or .py)"
        ) from None
    if value in ("custom", "json", TESTLIB):
        raise CheckerFailed(f"--checker {value} cannot be chosen; use exact, tokens, tokens:ci, float:EPS or a checker program file")
    return value, None


def with_checker(problem: Problem, spec: str) -> Problem:
    """``problem`` judged by ``spec`` (see :func:`checker_override`) instead of its own checker."""
    checker, validator = checker_override(spec)
    return replace(problem, checker=checker, validator=validator)


def _testlib(
    problem: Problem,
    sandbox: Sandbox,
    names: Sequence[str],
    cases: Sequence[TestCase],
    outcomes: Sequence[RunOutcome],
    limits: Limits,
    emit: OnTestResult | None,
) -> list[TestResult]:
    """Second batch: ``checker input output answer`` on every finished run; exit 0 AC, 1 WA,
    2 PE. Anything else (a crash, exit 3 = testlib's FAIL, a compile error) is the checker's
    fault: CheckerFailed, with what it said."""

    def spec_for(name: str, test: TestCase, outcome: RunOutcome) -> RunSpec:
        files = {"input": test.input.encode(), "output": outcome.stdout, "answer": (test.expected or "").encode()}
        return RunSpec(name, b"", args=("input", "output", "answer"), files=files, secret=True)  # the answer

    def verdict_for(test: TestCase, check: RunOutcome) -> tuple[Verdict, str]:
        said = check.stderr_tail.strip() or check.stdout.decode("utf-8", "replace").strip()
        if check.status is RunStatus.CE:
            raise CheckerFailed(f"the checker {problem.validator} does not compile: {check.reason or 'compilation failed'}")
        if check.status is RunStatus.OK or (
            check.status is RunStatus.RE and check.exit_code in (1, 2) and "Traceback (most recent call last)" not in check.stderr_tail
        ):  # a Python checker's uncaught exception also exits 1: that is a crash, not WA
            verdict = Verdict(TESTLIB_EXIT[check.exit_code or 0])
            return verdict, "" if verdict is Verdict.AC else (_last_line(said) or f"rejected by the checker ({verdict.value})")
        why = _last_line(said) or check.reason or check.status.value
        detail = f"exit code {check.exit_code}" if check.exit_code is not None else check.status.value.upper()
        raise CheckerFailed(f"the checker {problem.validator} failed on test {test.name} ({detail}: {why[:200]}); fix the checker")

    return _second_batch(checker_program(problem), sandbox, cases, outcomes, names, limits, emit, spec_for, verdict_for)
