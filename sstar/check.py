"""``sstar check``: judge every solution in a competitive-programming repository.

Conventions (docs/check.md is the user-facing copy of this list):

Solutions are Python (``*.py``) or C++ (``*.cpp``, ``*.cc``, ``*.cxx``) files; "``*.py``"
below means any of them.

* **problem.md problems** (and every other format :func:`sstar.loaders.discover_problems`
  finds): the solutions are the ``*.py`` files in the problem's directory. When the
  statement is a named file (``two-sum.md`` among others in one folder), they are
  ``two-sum.py`` and ``two-sum_*.py`` / ``two-sum.*.py`` beside it instead.
* **online-judge-tools (oj) layout**: a directory with ``test/*.in`` + ``test/*.out``
  (``oj download`` writes ``test/sample-1.in``...). The solutions are its ``*.py`` files
  (``main.py`` usually). A statement is optional; the tests come from ``test/``.
* **Polygon packages** (``problem.xml``): the solutions its ``<solutions>`` list, with
  their tags: ``main``/``accepted`` must pass, ``wrong-answer`` end with WA,
  ``time-limit-exceeded`` with TLE, ``rejected`` (and PE/MLE tags) fail somehow.
* **Kattis packages** (``problem.yaml``): ``submissions/accepted/*.py`` must pass,
  ``submissions/wrong_answer/*.py`` must end with WA, ``time_limit_exceeded/*.py`` with
  TLE and ``run_time_error/*.py`` with RE (the first failing test decides, as on Kattis).

Helper scripts are not solutions: ``gen*.py``, ``generator*.py``, ``validator*.py``,
``checker*.py`` (``checker.cpp`` too), ``check.py``, ``interactor*.py``, ``test_*.py``, ``*_test.py``,
``conftest.py``, ``setup.py``, ``__init__.py``. A solution whose name starts with
``wrong`` or ends with ``_wrong`` / ``_wa`` must fail; ``*_tle.py`` must end with TLE
``*_re.py`` with RE and ``*_ce.cpp`` with CE (it must not compile).

Every solution is judged on all tests (public and hidden) in one shared sandbox.
``exit_code``: 0 when everything is as expected, 1 when a solution is not, 2 when a
problem itself cannot be read (an input error; the other problems are still judged).
"""

from __future__ import annotations

import os
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from sstar.errors import ProblemFormatError, SandboxUnavailable, SstarError
from sstar.fsutil import atomic_file
from sstar.judge import CheckerFailed
from sstar.problem import Problem, TestCase
from sstar.sandbox.base import Program, language_of
from sstar.verdict import JudgeReport, Verdict

SKIP_DIRS = {"node_modules", "__pycache__", "venv", "site-packages", "build", "dist"}
HELPER_PATTERNS = (
    r"gen.*", r"generator.*", r"validator.*", r"input_validator.*", r"output_validator.*", r"checker.*",
    r"check", r"interactor.*", r"test_.*", r".*_test", r"conftest", r"setup", r"__init__", r"__main__",
)  # fmt: skip
_HELPER = re.compile("|".join(f"(?:{p})" for p in HELPER_PATTERNS), re.IGNORECASE)
KATTIS_EXPECT = {"accepted": "AC", "wrong_answer": "WA", "time_limit_exceeded": "TLE", "run_time_error": "RE"}
GENERATED_HEADER = "# Written by `sstar check --solve-missing` ({strategy}, {model}); review before trusting it.\n"


class CheckError(SstarError):
    """The check cannot run at all; the message says what to do."""


# --------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Solution:
    path: Path
    expect: str = "AC"  # AC | WA | TLE | RE | CE | fail (any verdict but AC)

    @property
    def must_pass(self) -> bool:
        return self.expect == "AC"


@dataclass
class CheckTarget:
    """A problem found in the repository and the solutions that go with it."""

    path: Path  # what load_problem reads (a file or a directory)
    directory: Path  # where its solutions live
    layout: str  # problem | oj | kattis | polygon
    solutions: list[Solution] = field(default_factory=list)
    problem: Problem | None = None
    load_error: str | None = None

    @property
    def name(self) -> str:
        if self.problem is not None:
            return self.problem.id
        return self.directory.name if self.path.is_file() and self.path.name.startswith("problem.") else self.path.stem or self.path.name


@dataclass
class SolutionResult:
    solution: Solution
    report: JudgeReport | None
    ok: bool
    message: str  # "AC 5/5", "expected AC, got WA on test sample/2 (1/5 passed)", ...
    time_s: float = 0.0
    error: str | None = None  # the solution could not be judged (unreadable file, judge crash)
    generated: bool = False  # written by --solve-missing


@dataclass
class ProblemCheck:
    target: CheckTarget
    results: list[SolutionResult] = field(default_factory=list)
    missing: bool = False  # no solution to judge
    solve_error: str | None = None  # --solve-missing failed
    unsure: str | None = None  # --solve-missing found a program below --min-confidence: not written (why)
    time_s: float = 0.0


@dataclass
class CheckSummary:
    root: Path
    problems: list[ProblemCheck]
    require_solutions: bool = False
    wall_s: float = 0.0
    notes: list[str] = field(default_factory=list)  # files left out of the check, and why

    @property
    def solutions(self) -> int:
        return sum(len(p.results) for p in self.problems)

    @property
    def passed(self) -> int:
        return sum(r.ok for p in self.problems for r in p.results)

    @property
    def failed(self) -> int:
        bad_problems = sum(
            p.solve_error is not None or (p.missing and self.require_solutions and p.target.load_error is None)
            for p in self.problems
        )
        return sum(not r.ok for p in self.problems for r in p.results) + bad_problems

    @property
    def load_errors(self) -> int:
        return sum(p.target.load_error is not None for p in self.problems)

    @property
    def missing(self) -> int:
        return sum(p.missing for p in self.problems)

    @property
    def exit_code(self) -> int:
        if self.load_errors:
            return 2
        return 1 if self.failed else 0


CheckEventFn = Callable[[str, ProblemCheck, SolutionResult | None], None]  # (kind, problem, result)


# --------------------------------------------------------------------------------------
# Discovery


def is_helper(path: Path) -> bool:
    return bool(_HELPER.fullmatch(path.stem))


def expectation(path: Path) -> str:
    stem = path.stem.lower()
    if stem.endswith("_tle"):
        return "TLE"
    if stem.endswith("_re"):
        return "RE"
    if stem.endswith("_ce"):
        return "CE"
    if stem.startswith("wrong") or stem.endswith(("_wrong", "_wa")):
        return "fail"
    return "AC"


def _source_files(directory: Path) -> list[Path]:
    """Python and C++ sources in ``directory`` (not its subdirectories), helpers left out."""
    if not directory.is_dir():
        return []
    found = (p for p in directory.iterdir() if language_of(p) is not None and p.is_file() and not is_helper(p))
    return sorted(found, key=lambda p: p.name)


def _solutions_for_problem(path: Path) -> tuple[Path, list[Solution]]:
    if path.is_dir():
        directory = path
        files = _source_files(directory)
    elif path.name.startswith("problem."):
        directory = path.parent
        files = _source_files(directory)
    else:  # a named statement among others: two-sum.md -> two-sum.py, two-sum_*.py, two-sum.*.py
        directory = path.parent
        stem = path.stem
        files = [p for p in _source_files(directory) if p.stem == stem or p.stem.startswith((f"{stem}_", f"{stem}."))]
    return directory, [Solution(p, expectation(p)) for p in files]


def _kattis_solutions(directory: Path) -> list[Solution]:
    found = []
    for folder, expect in KATTIS_EXPECT.items():
        for p in _source_files(directory / "submissions" / folder):
            found.append(Solution(p, expect))
    return found


def _polygon_solutions(directory: Path) -> list[Solution]:
    """A Polygon package's solutions/ as its problem.xml tags them (main, accepted: AC; ...)."""
    from sstar.loaders.polygon import polygon_solutions

    try:
        return [Solution(s.path, s.expect) for s in polygon_solutions(directory)]
    except ProblemFormatError:
        return []  # loading the problem reports the broken problem.xml


def _walk_dirs(root: Path) -> Iterable[Path]:
    for current, dirs, _files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")) and d not in SKIP_DIRS)
        yield Path(current)


def _is_oj_dir(directory: Path) -> bool:
    test = directory / "test"
    from sstar.loaders import is_kattis

    return test.is_dir() and any(p.is_file() for p in test.glob("*.in")) and not is_kattis(directory)


def oj_tests(directory: Path) -> list[TestCase]:
    """``test/NAME.in`` + ``test/NAME.out`` pairs (online-judge-tools' layout), naturally sorted."""
    test = directory / "test"

    def natural(p: Path) -> list[object]:
        return [int(s) if s.isdigit() else s for s in re.split(r"(\d+)", p.name)]

    tests = []
    for inp in sorted((p for p in test.glob("*.in") if p.is_file()), key=natural):
        out = inp.with_suffix(".out")
        if not out.is_file():
            raise ProblemFormatError(inp, f"test input has no expected output ({out.name} is missing)")
        try:
            tests.append(TestCase(f"test/{inp.stem}", inp.read_text(encoding="utf-8"), out.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as err:
            raise ProblemFormatError(inp, f"cannot read the test ({err})") from None
    return tests


def discover_targets(root: Path | str, notes: list[str] | None = None) -> list[CheckTarget]:
    """Every problem under ``root`` with its solutions, sorted by path. Loads each problem;
    one that cannot be read is returned with ``load_error`` set.

    A loose Markdown file that is not a problem (documentation: no samples) and has no
    solution beside it is left out, with a line in ``notes``: in a repository, most
    ``.md`` files are not problems.
    """
    from sstar.loaders import discover_problems, is_kattis, load_problem
    from sstar.loaders.polygon import is_polygon

    root = Path(root)
    if not root.exists():
        raise CheckError(f"{root} does not exist; pass the repository (or problem) directory to check")
    try:
        found = [Path(p) for p in discover_problems([root])]
    except ProblemFormatError:
        found = []  # no statement anywhere: an oj-only repository, say
    targets: dict[Path, CheckTarget] = {}
    for path in found:
        directory = path if path.is_dir() else path.parent
        if (path.is_dir() and is_kattis(path)) or path.name == "problem.yaml":
            target = CheckTarget(path, directory, "kattis", _kattis_solutions(directory))
        elif path.is_dir() and is_polygon(path):
            target = CheckTarget(path, directory, "polygon", _polygon_solutions(directory))
        else:
            directory, solutions = _solutions_for_problem(path)
            target = CheckTarget(path, directory, "problem", solutions)
        try:
            target.problem = load_problem(path)
        except SandboxUnavailable:
            raise
        except Exception as err:  # noqa: BLE001 - reported per problem, the rest is still checked
            message = str(err) if isinstance(err, SstarError) else f"{type(err).__name__}: {err}"
            loose = path.is_file() and not path.name.startswith("problem.")
            if loose and not target.solutions and not _is_oj_dir(directory):
                if notes is not None:
                    notes.append(f"{path}: not a problem, left out ({message})")
                continue
            target.load_error = message
        targets[Path(os.path.realpath(path))] = target

    walk_root = root if root.is_dir() else root.parent
    for directory in _walk_dirs(walk_root):
        if not _is_oj_dir(directory):
            continue
        real = Path(os.path.realpath(directory))
        existing = next(
            (t for t in targets.values() if Path(os.path.realpath(t.directory)) == real and t.layout != "kattis"), None
        )
        try:
            tests = oj_tests(directory)
        except ProblemFormatError as err:
            if existing is None:
                targets[real] = CheckTarget(directory, directory, "oj", _oj_solutions(directory), load_error=str(err))
            elif existing.load_error is None:
                existing.load_error = str(err)
            continue
        if existing is not None:  # a statement beside test/: add the tests it lacks
            if existing.problem is not None:
                have = {t.input for t in existing.problem.tests("all")}
                extra = tuple(t for t in tests if t.input not in have)
                existing.problem = replace(existing.problem, public_tests=existing.problem.public_tests + extra)
            continue
        problem = Problem(
            id=directory.name, title=directory.name, statement="", public_tests=tuple(tests), source=directory
        )
        targets[real] = CheckTarget(directory, directory, "oj", _oj_solutions(directory), problem=problem)
    return sorted(targets.values(), key=lambda t: t.path.as_posix())


def _oj_solutions(directory: Path) -> list[Solution]:
    return [Solution(p, expectation(p)) for p in _source_files(directory)]


# --------------------------------------------------------------------------------------
# Judging


def _first_failure(report: JudgeReport) -> str:
    for t in report.tests:
        if not t.passed:
            return f"{t.verdict.value} on test {t.name}"
    return "AC"


def evaluate(solution: Solution, report: JudgeReport) -> tuple[bool, str]:
    """Does the report meet the solution's expectation? And a one-line message."""
    got = report.verdict
    score = f"{report.passed}/{report.total} passed"
    if report.total == 0:
        return False, "the problem has no tests to judge with"
    if solution.expect == "AC":
        if got is Verdict.AC:
            return True, f"AC {score}"
        return False, f"expected AC, got {_first_failure(report)} ({score})"
    if solution.expect == "fail":
        if got is Verdict.AC:
            return False, f"expected to fail, but passed every test ({score})"
        return True, f"fails as expected: {_first_failure(report)} ({score})"
    if got.value == solution.expect:
        return True, f"{got.value} as expected: {_first_failure(report)} ({score})"
    actual = "AC on every test" if got is Verdict.AC else _first_failure(report)
    return False, f"expected {solution.expect}, got {actual} ({score})"


def judge_solution(solution: Solution, problem: Problem, sandbox: object) -> SolutionResult:
    from sstar.judge import judge

    started = time.monotonic()
    try:
        source = Program(solution.path.read_text(encoding="utf-8"), language_of(solution.path) or "python")
    except (OSError, UnicodeDecodeError) as err:
        msg = f"cannot read {solution.path}: {err}"
        return SolutionResult(solution, None, False, msg, error=msg)
    try:
        report = judge(source, problem, sandbox, tests="all")  # type: ignore[arg-type]
    except (SandboxUnavailable, CheckerFailed):
        raise  # a broken checker is the problem's fault: check_repository reports the problem
    except Exception as err:  # noqa: BLE001 - one solution's trouble is one failure
        msg = str(err) if isinstance(err, SstarError) else f"{type(err).__name__}: {err}"
        return SolutionResult(solution, None, False, f"could not judge: {msg}", time.monotonic() - started, error=msg)
    if report.sandbox_failed:
        # No verdict on the solution: the sandbox failed (and restarted); the check goes on.
        first = next(t for t in report.tests if t.verdict is Verdict.SE)
        msg = f"sandbox error on test {first.name} ({first.message}); run the check again"
        return SolutionResult(solution, report, False, f"could not judge: {msg}", time.monotonic() - started, error=msg)
    ok, message = evaluate(solution, report)
    return SolutionResult(solution, report, ok, message, time.monotonic() - started)


def _generated_path(target: CheckTarget) -> Path:
    if target.layout == "kattis":
        return target.directory / "submissions" / "accepted" / "solution.py"
    if target.path.is_file() and not target.path.name.startswith("problem."):
        return target.path.with_suffix(".py")  # two-sum.md -> two-sum.py (matches the discovery rule)
    return target.directory / "solution.py"


class BelowConfidence(Exception):
    """--solve-missing's program is below --min-confidence: it is not written."""


def solve_missing_for(
    target: CheckTarget, engine: object, sandbox: object, config: object, model_name: str
) -> Path | None:
    """Run the pipeline and write its program next to the problem; None when it produced nothing.

    The pipeline sees the public tests only; the written file is then judged on all of them.
    Raises BelowConfidence when the program's confidence is below ``config.min_confidence``.
    """
    from sstar.pipeline.solve import solve

    assert target.problem is not None
    result = solve(target.problem, engine, sandbox, config)  # type: ignore[arg-type]  # the pipeline strips hidden tests
    if not result.program.strip():
        return None
    if result.unsure:
        threshold = getattr(config, "min_confidence", 0.0)
        raise BelowConfidence(f"confidence {result.confidence:.2f} < --min-confidence {threshold:.2f}: not written")
    dest = _generated_path(target)
    dest.parent.mkdir(parents=True, exist_ok=True)
    header = GENERATED_HEADER.format(strategy=result.strategy, model=model_name)
    with open(dest, "x", encoding="utf-8") as fh:  # "x": never overwrite someone's file
        fh.write(header + result.program.rstrip("\n") + "\n")
    return dest


def check_repository(
    root: Path | str,
    sandbox: object,
    *,
    solve_missing: bool = False,
    engine: object | None = None,
    config: object | None = None,
    model_name: str = "",
    require_solutions: bool = False,
    on_event: CheckEventFn | None = None,
    targets: Sequence[CheckTarget] | None = None,
    checker: str | None = None,
) -> CheckSummary:
    """Discover (unless ``targets`` are given), then judge every solution; see the module doc.
    ``checker`` (exact, tokens, tokens:ci, float:EPS or a checker program's path) replaces
    every problem's own."""
    started = time.monotonic()
    root = Path(root)
    notes: list[str] = []
    if targets is None:
        targets = discover_targets(root, notes)
    if not targets:
        raise CheckError(
            f"no problems found under {root}; see docs/check.md for the layouts sstar check understands"
        )
    if solve_missing and engine is None:
        raise CheckError("--solve-missing needs a model (--model)")
    override = None
    if checker is not None:
        from sstar.judge import checker_override

        override = checker_override(checker)  # parsed (and a bad one refused) once, before any problem
    summary = CheckSummary(root=root, problems=[], require_solutions=require_solutions, notes=notes)
    for target in targets:
        check = ProblemCheck(target)
        summary.problems.append(check)
        t0 = time.monotonic()
        if on_event is not None:
            on_event("problem", check, None)
        if target.load_error is not None or target.problem is None:
            check.time_s = time.monotonic() - t0
            continue
        if override is not None:
            target.problem = replace(target.problem, checker=override[0], validator=override[1])
        solutions = list(target.solutions)
        generated: Path | None = None
        if not any(s.must_pass for s in solutions) and solve_missing:
            if on_event is not None:
                on_event("solving", check, None)
            try:
                generated = solve_missing_for(target, engine, sandbox, config, model_name)
            except SandboxUnavailable:
                raise
            except FileExistsError as err:
                check.solve_error = f"{err.filename} already exists; not overwritten"
            except BelowConfidence as err:  # like a problem without a solution, with the reason
                check.unsure = str(err)
            except Exception as err:  # noqa: BLE001
                check.solve_error = str(err) if isinstance(err, SstarError) else f"{type(err).__name__}: {err}"
            else:
                if generated is None:
                    check.solve_error = "the pipeline produced no program"
                else:
                    solutions.append(Solution(generated, "AC"))
        if not solutions:
            check.missing = True
        for solution in solutions:
            try:
                result = judge_solution(solution, target.problem, sandbox)
            except CheckerFailed as err:  # the problem is broken (exit 2), not the solution
                target.load_error = str(err)
                check.results.clear()
                break
            result.generated = solution.path == generated
            check.results.append(result)
            if on_event is not None:
                on_event("result", check, result)
        check.time_s = time.monotonic() - t0
    summary.wall_s = time.monotonic() - started
    return summary


# --------------------------------------------------------------------------------------
# JUnit XML


def display_path(path: Path, root: Path) -> str:
    try:
        return Path(os.path.relpath(path, root if root.is_dir() else root.parent)).as_posix()
    except ValueError:  # another drive (Windows)
        return path.as_posix()


def _failure_details(result: SolutionResult, limit: int = 20) -> str:
    if result.report is None:
        return result.error or result.message
    lines = []
    failing = [t for t in result.report.tests if not t.passed]
    if failing and all(t.verdict is Verdict.CE for t in failing):  # one compile for every test
        message = failing[0].stderr_tail.strip()
        return f"CE on all {len(failing)} tests: {failing[0].message}\n    " + message[:1500].replace("\n", "\n    ")
    for t in failing[:limit]:
        line = f"{t.name}: {t.verdict.value} ({t.time_s:.2f} s)"
        if t.message:
            line += f" - {t.message}"
        if t.stderr_tail:
            line += "\n    " + t.stderr_tail.strip().replace("\n", "\n    ")[-800:]
        lines.append(line)
    if len(failing) > limit:
        lines.append(f"... and {len(failing) - limit} more failing tests")
    if not failing:
        lines.append(f"every test passed ({result.report.total})")
    return "\n".join(lines)


def junit_xml(summary: CheckSummary) -> ET.ElementTree:
    """A testsuite per problem, a testcase per solution (CI services render this)."""
    suites = ET.Element("testsuites", name="sstar check")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for check in summary.problems:
        target = check.target
        suite = ET.SubElement(suites, "testsuite", name=target.name)
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="path", value=display_path(target.path, summary.root))
        ET.SubElement(props, "property", name="layout", value=target.layout)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        classname = f"sstar.{target.name}"
        if target.load_error is not None:
            case = ET.SubElement(suite, "testcase", classname=classname, name="load problem", time="0")
            err = ET.SubElement(case, "error", message=target.load_error.splitlines()[0][:500], type="ProblemFormatError")
            err.text = target.load_error
            counts["tests"] += 1
            counts["errors"] += 1
        if check.solve_error is not None:
            case = ET.SubElement(suite, "testcase", classname=classname, name="solve missing", time="0")
            fail = ET.SubElement(case, "failure", message=check.solve_error[:500], type="solve")
            fail.text = check.solve_error
            counts["tests"] += 1
            counts["failures"] += 1
        elif check.missing and target.load_error is None:
            case = ET.SubElement(suite, "testcase", classname=classname, name="(no solution)", time="0")
            message = "no solution found; add solution.py (see docs/check.md) or run with --solve-missing"
            if check.unsure:
                message = f"no solution: --solve-missing's program had {check.unsure}"
            if summary.require_solutions:
                ET.SubElement(case, "failure", message=message, type="missing")
                counts["failures"] += 1
            else:
                ET.SubElement(case, "skipped", message=message)
                counts["skipped"] += 1
            counts["tests"] += 1
        for result in check.results:
            name = display_path(result.solution.path, summary.root)
            attrs = {"classname": classname, "name": name, "time": f"{result.time_s:.3f}", "file": name}
            case = ET.SubElement(suite, "testcase", **attrs)
            counts["tests"] += 1
            if result.ok:
                out = ET.SubElement(case, "system-out")
                out.text = result.message + (" (written by --solve-missing)" if result.generated else "")
                continue
            if result.error is not None and result.report is None:
                node = ET.SubElement(case, "error", message=result.message[:500], type="error")
                counts["errors"] += 1
            else:
                verdict = result.report.verdict.value if result.report is not None else "error"
                node = ET.SubElement(case, "failure", message=result.message[:500], type=verdict)
                counts["failures"] += 1
            node.text = _failure_details(result)
        suite.set("time", f"{check.time_s:.3f}")
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("time", f"{summary.wall_s:.3f}")
    ET.indent(suites)
    return ET.ElementTree(suites)


def write_junit(summary: CheckSummary, path: Path | str) -> Path:
    path = Path(path)
    try:
        with atomic_file(path) as fh:
            junit_xml(summary).write(fh, encoding="utf-8", xml_declaration=True)
    except OSError as err:
        raise CheckError(f"cannot write {path}: {err.strerror}; choose another --junit file") from None
    return path
