"""The judge and `sstar judge`: verdicts from fake sandboxes, then from the real one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pytest
import typer
from typer.testing import CliRunner

from sstar.cli import judge_cmd
from sstar.judge import DEFAULT_TIME_LIMIT_S, OUTPUT_KEEP, judge, limits_for, run_inputs
from sstar.loaders import load_problem
from sstar.problem import Problem, TestCase
from sstar.sandbox.base import Limits, OnResult, Program, RunOutcome, RunSpec, RunStatus, Sandbox
from sstar.verdict import Verdict

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
PROBLEMS = REPO / "problems"
SOLUTIONS = Path(__file__).parent / "data" / "solutions"


# ---------------------------------------------------------------- fake sandboxes (test only)


class SubprocessSandbox(Sandbox):
    """Runs each spec with this Python in a temporary directory. No isolation: tests only."""

    name = "test-subprocess"

    def __init__(self) -> None:
        self.calls = 0

    def run(self, program: Program, specs: Sequence[RunSpec], limits: Limits, on_result: OnResult | None = None) -> list[RunOutcome]:
        self.calls += 1
        outcomes = []
        for spec in specs:
            with tempfile.TemporaryDirectory() as work:
                (Path(work) / "prog.py").write_text(program.source)
                for name, data in spec.files.items():
                    (Path(work) / name).parent.mkdir(parents=True, exist_ok=True)
                    (Path(work) / name).write_bytes(data)
                start = time.monotonic()
                try:
                    proc = subprocess.run(
                        [sys.executable, "prog.py", *spec.args], input=spec.stdin, capture_output=True, cwd=work, timeout=limits.time_s
                    )
                    status = RunStatus.OK if proc.returncode == 0 else RunStatus.RE
                    outcome = RunOutcome(spec.name, status, proc.stdout, proc.stderr.decode()[-2000:], proc.returncode, time_s=time.monotonic() - start)
                except subprocess.TimeoutExpired:
                    outcome = RunOutcome(spec.name, RunStatus.TLE, b"", "", None, 9, time_s=limits.time_s)
            if on_result:
                on_result(outcome)
            outcomes.append(outcome)
        return outcomes


class ScriptedSandbox(Sandbox):
    """Answers every spec with ``script(spec)``; reports in reverse order to test ordering."""

    name = "test-scripted"

    def __init__(self, script: Callable[[RunSpec], RunOutcome]) -> None:
        self.script = script

    def run(self, program: Program, specs: Sequence[RunSpec], limits: Limits, on_result: OnResult | None = None) -> list[RunOutcome]:
        outcomes = [self.script(s) for s in specs]
        for o in reversed(outcomes):
            if on_result:
                on_result(o)
        return outcomes


def stdio_problem(tests: Sequence[TestCase], checker: str = "tokens", **kw: object) -> Problem:
    return Problem(id="p", title="P", statement="", public_tests=tuple(tests), checker=checker, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- verdicts


def test_outcomes_map_to_verdicts() -> None:
    cases = {
        "ac": (RunOutcome("ac", RunStatus.OK, b"42\n", time_s=0.5, memory_mb=12.0), Verdict.AC, ""),
        "wa": (RunOutcome("wa", RunStatus.OK, b"41\n"), Verdict.WA, "token 1 (line 1): expected '42', got '41'"),
        "empty": (RunOutcome("empty", RunStatus.OK, b"", "  \nwarning: x\n"), Verdict.WA, "no output (stderr: warning: x)"),
        "tle": (RunOutcome("tle", RunStatus.TLE, b""), Verdict.TLE, "time limit 1.5 s exceeded"),
        "mle": (RunOutcome("mle", RunStatus.MLE, b""), Verdict.MLE, "memory limit 64 MB exceeded"),
        "ole": (RunOutcome("ole", RunStatus.OLE, b"x" * 100), Verdict.OLE, "output limit 1 KiB exceeded"),
        "re": (RunOutcome("re", RunStatus.RE, b"", 'Traceback:\n  File "x"\nIndexError: list index out of range\n', 1), Verdict.RE, "IndexError: list index out of range"),
        "sig": (RunOutcome("sig", RunStatus.RE, b"", "", None, 11), Verdict.RE, "killed by signal 11"),
        "exit": (RunOutcome("exit", RunStatus.RE, b"", "", 3), Verdict.RE, "exit code 3"),
        "memerr": (RunOutcome("memerr", RunStatus.RE, b"", "Traceback...\nMemoryError\n", 1), Verdict.MLE, "memory limit 64 MB exceeded (MemoryError)"),
        "se": (RunOutcome("se", RunStatus.SE, b"", reason="the runner died"), Verdict.SE, "sandbox error, not the program's fault: the runner died"),
    }
    tests = [TestCase(name, "in\n", "42\n") for name in cases]
    seen: list[str] = []
    report = judge(
        "print(42)",
        stdio_problem(tests),
        ScriptedSandbox(lambda spec: cases[spec.name][0]),
        tests=tests,
        limits=Limits(time_s=1.5, memory_mb=64, output_bytes=1024),
        on_result=lambda r: seen.append(r.name),
    )
    assert [(t.name, t.verdict, t.message) for t in report.tests] == [(n, v, m) for n, (_, v, m) in cases.items()]
    assert sorted(seen) == sorted(cases) and seen != list(cases)  # completion order, each once
    assert report.tests[0].time_s == 0.5 and report.tests[0].memory_mb == 12.0
    assert (report.passed, report.total, report.verdict, report.all_passed) == (1, 11, Verdict.WA, False)
    assert json.loads(json.dumps(report.to_json()))["tests"][0] == {
        "name": "ac", "verdict": "AC", "time_s": 0.5, "memory_mb": 12.0, "message": "", "stderr_tail": "", "output": "42\n"
    }


def test_output_is_truncated_for_storage() -> None:
    big = b"1\n" * OUTPUT_KEEP
    report = judge("", stdio_problem([TestCase("t", "", "1\n" * OUTPUT_KEEP)]), ScriptedSandbox(lambda s: RunOutcome(s.name, RunStatus.OK, big)))
    assert report.tests[0].verdict is Verdict.AC
    assert len(report.tests[0].output) < OUTPUT_KEEP + 100 and report.tests[0].output.endswith("more characters]")


def test_judge_arguments() -> None:
    problem = stdio_problem([TestCase("a", "1\n", "1\n")], hidden_tests=(TestCase("h", "2\n", "2\n"),))
    box = SubprocessSandbox()
    assert [t.name for t in judge("print(input())", problem, box, tests="all").tests] == ["a", "h"]
    assert box.calls == 1  # every test in one round trip
    assert [t.verdict for t in judge("print(input())", problem, box, tests="hidden").tests] == [Verdict.AC]
    assert judge("print(1)", problem, box, tests=[]).tests == []
    twins = [TestCase("x", "1\n", "1\n"), TestCase("x", "2\n", "3\n")]
    seen: list[Verdict] = []
    report = judge("print(input())", problem, box, tests=twins, on_result=lambda r: seen.append(r.verdict))
    assert [t.verdict for t in report.tests] == [Verdict.AC, Verdict.WA] and sorted(seen) == sorted([Verdict.AC, Verdict.WA])
    with pytest.raises(ValueError, match="without an expected output"):
        judge("print(1)", problem, box, tests=[TestCase("x", "1\n")])
    with pytest.raises(ValueError):
        judge("print(1)", problem, box, tests="secret")


def test_limits_for() -> None:
    problem = stdio_problem([TestCase("a", "", "")])
    assert limits_for(problem) == Limits(time_s=DEFAULT_TIME_LIMIT_S, memory_mb=512)
    timed = stdio_problem([TestCase("a", "", "")], time_limit_s=1.5, memory_limit_mb=256)
    assert (limits_for(timed).time_s, limits_for(timed).memory_mb) == (1.5, 256)
    assert limits_for(timed, time_s=3, memory_mb=None).time_s == 3 and limits_for(timed, memory_mb=None).memory_mb == 256
    with pytest.raises(TypeError, match="unknown limit"):
        limits_for(problem, seconds=3)


def test_run_inputs_keeps_order_and_wraps_function_problems() -> None:
    box = SubprocessSandbox()
    outs = run_inputs("print(int(input()) * 2)", stdio_problem([TestCase("a", "", "")]), box, ["1\n", "5\n"])
    assert [o.stdout for o in outs] == [b"2\n", b"10\n"] and [o.name for o in outs] == ["input-1", "input-2"]
    two_sum = load_problem(PROBLEMS / "two-sum")
    outs = run_inputs((PROBLEMS / "two-sum/solution.py").read_text(), two_sum, box, ["[[1, 4, 6], 10]"])
    assert json.loads(outs[0].stdout) == [1, 2]
    assert run_inputs("print(1)", two_sum, box, []) == []


def test_function_problem_is_judged_through_the_harness() -> None:
    problem = load_problem(PROBLEMS / "two-sum")
    box = SubprocessSandbox()
    ok = judge((PROBLEMS / "two-sum/solution.py").read_text(), problem, box, tests="public")
    assert ok.all_passed, [t.message for t in ok.tests]
    wrong = "class Solution:\n    def twoSum(self, nums, target):\n        return [0, len(nums) - 1]\n"
    report = judge(wrong, problem, box, tests="public")
    assert report.verdict is Verdict.WA and report.tests[0].message == "[0]: expected '2', got '0'"
    crash = "class Solution:\n    pass\n"
    assert "entry point Solution.twoSum is not defined" in judge(crash, problem, box).tests[0].message


# ---------------------------------------------------------------- custom output validators

VALIDATOR = '''
import sys
input_text = open(sys.argv[1]).read()
answer = int(open(sys.argv[2]).read())
feedback = sys.argv[3]
assert sys.argv[4:] == ["tolerance", "1"], sys.argv
team = sys.stdin.read().split()
if team == ["crash"]:
    raise ValueError("validator cannot parse this")
if len(team) == 1 and team[0].lstrip("-").isdigit() and abs(int(team[0]) - answer) <= 1:
    sys.exit(42)
with open(feedback + "/judgemessage.txt", "w") as f:
    f.write(f"expected {answer} give or take 1, got {' '.join(team)[:20]}")
sys.exit(43)
'''


def custom_problem(root: Path) -> Problem:
    (root / "data/sample").mkdir(parents=True)
    (root / "data/secret").mkdir(parents=True)
    (root / "output_validators/check").mkdir(parents=True)
    (root / "problem.yaml").write_text("name: Near\nvalidation: custom\nvalidator_flags: tolerance 1\n")
    (root / "problem.md").write_text("# Near\nPrint a number near the input.\n")
    (root / "output_validators/check/check.py").write_text(VALIDATOR)
    for name, value in (("sample/1", "10"), ("secret/1", "20"), ("secret/2", "30"), ("secret/3", "40"), ("secret/4", "50")):
        (root / f"data/{name}.in").write_text(value + "\n")
        (root / f"data/{name}.ans").write_text(value + "\n")
    return load_problem(root)


CUSTOM_CANDIDATE = """
n = int(input())
if n == 40:
    n //= 0
print({10: 11, 20: 25, 30: "crash"}.get(n, n))
"""


def check_custom_report(problem: Problem, box: Sandbox) -> None:
    seen: list[str] = []
    report = judge(CUSTOM_CANDIDATE, problem, box, tests="all", on_result=lambda r: seen.append(r.name))
    got = [(t.name, t.verdict, t.message) for t in report.tests]
    assert got[0] == ("sample/1", Verdict.AC, "")
    assert got[1] == ("secret/1", Verdict.WA, "expected 20 give or take 1, got 25")
    assert got[2][1] is Verdict.WA and got[2][2].startswith("output validator failed") and "ValueError" in got[2][2]
    assert got[3] == ("secret/3", Verdict.RE, "ZeroDivisionError: integer division or modulo by zero")
    assert got[4] == ("secret/4", Verdict.AC, "")
    assert sorted(seen) == sorted(t.name for t in report.tests)  # each reported exactly once


def test_custom_validator_with_the_kattis_protocol(tmp_path: Path) -> None:
    check_custom_report(custom_problem(tmp_path / "near"), SubprocessSandbox())


# ---------------------------------------------------------------- `sstar judge` (fake sandbox)


def says(output: str, text: str) -> bool:
    """``text`` appears in ``output``, however rich wrapped or padded the lines."""
    return "".join(text.split()) in "".join(output.replace("│", " ").split())


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """Invoke `sstar judge` with the subprocess fake standing in for open_sandbox."""
    import sstar.sandbox

    def fake_open_sandbox(kind: str = "auto", parallel: int | None = None, warn: Callable[[str], None] | None = None) -> Sandbox:
        if warn is not None:
            warn("using the test sandbox")
        return SubprocessSandbox()

    monkeypatch.setattr(sstar.sandbox, "open_sandbox", fake_open_sandbox, raising=False)
    app = typer.Typer()
    app.callback()(lambda: None)  # a group, so the command is invoked by name as in sstar
    judge_cmd.register(app)
    runner = CliRunner()

    def invoke(*args: str) -> object:
        return runner.invoke(app, ["judge", *args])

    return invoke


def test_cli_table_and_exit_codes(cli: Callable[..., object], tmp_path: Path) -> None:
    problem = PROBLEMS / "range-sums"
    res = cli(str(problem / "solution.py"), str(problem))
    assert res.exit_code == 0, res.output
    assert "public/01" in res.stdout and "AC" in res.stdout and "2/2 tests passed" in res.stdout
    wrong = tmp_path / "wrong.py"
    wrong.write_text("print(0)\n")
    res = cli(str(wrong), str(problem), "--tests", "all")
    assert res.exit_code == 1 and "WA" in res.stdout and says(res.stdout, "expected '15', got '0'")


def test_cli_json(cli: Callable[..., object]) -> None:
    problem = PROBLEMS / "two-sum"
    res = cli(str(problem / "solution.py"), str(problem), "--json", "--tests", "all")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data) == {"verdict", "passed", "total", "tests"} and data["verdict"] == "AC"
    assert data["passed"] == data["total"] == 10
    assert set(data["tests"][0]) == {"name", "verdict", "time_s", "memory_mb", "message", "stderr_tail", "output"}


def test_cli_input_errors_exit_2_without_traceback(cli: Callable[..., object], tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: x\nchecker: token\n---\n# T\n")
    program = tmp_path / "p.py"
    program.write_text("print(1)\n")
    res = cli(str(program), str(bad))
    assert res.exit_code == 2
    assert says(res.output, f"{bad}:3: checker: unknown checker 'token'")
    assert "Traceback" not in res.output
    res = cli(str(tmp_path / "missing.py"), str(PROBLEMS / "inversions"))
    assert res.exit_code == 2 and says(res.output, "no such program file") and "Traceback" not in res.output
    res = cli(str(program), str(tmp_path / "nowhere"))
    assert res.exit_code == 2 and says(res.output, "nowhere: no such file or directory")
    res = cli(str(program), str(PROBLEMS / "inversions"), "--tests", "secret")
    assert res.exit_code == 2


# ---------------------------------------------------------------- the real sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    try:
        from sstar.sandbox import open_sandbox
    except ImportError as err:
        pytest.skip(f"no sandbox backend yet ({err})")
    from sstar.errors import SandboxUnavailable

    try:
        box = open_sandbox("auto")
    except SandboxUnavailable as err:
        pytest.skip(f"no sandbox here: {err}")
    with box:
        yield box


REAL = ["1068_b_lcm_2510", "1076_b_divisor_subtraction_738", "liu2018-shortsell", "kth2013-bank"]


def benchmark(problem_id: str) -> Problem:
    found = list(BENCHMARKS.glob(f"*/{problem_id}"))
    if not found:
        pytest.skip(f"benchmark problem {problem_id} not found under {BENCHMARKS}")
    return load_problem(found[0])


@pytest.mark.parametrize("problem_id", REAL)
def test_real_sandbox_tells_correct_wrong_and_slow_apart(sandbox: Sandbox, problem_id: str) -> None:
    problem = benchmark(problem_id)
    limits = limits_for(problem, time_s=1.0)  # the correct solutions need < 0.3 s
    verdicts = {}
    for kind in ("ok", "wa", "slow"):
        report = judge((SOLUTIONS / problem_id / f"{kind}.py").read_text(), problem, sandbox, tests="all", limits=limits)
        assert report.total == len(problem.public_tests) + len(problem.hidden_tests)
        verdicts[kind] = report.verdict
        if kind == "ok":
            assert report.all_passed, [(t.name, t.verdict, t.message) for t in report.tests if not t.passed]
    assert verdicts == {"ok": Verdict.AC, "wa": Verdict.WA, "slow": Verdict.TLE}


def test_real_sandbox_example_problems(sandbox: Sandbox) -> None:
    for folder in sorted(p for p in PROBLEMS.iterdir() if p.is_dir()):
        problem = load_problem(folder)
        report = judge((folder / "solution.py").read_text(), problem, sandbox, tests="all")
        assert report.all_passed, (folder.name, [(t.name, t.verdict, t.message) for t in report.tests if not t.passed])


def test_real_sandbox_runtime_errors_and_custom_validator(sandbox: Sandbox, tmp_path: Path) -> None:
    problem = stdio_problem([TestCase("a", "1\n", "1\n")])
    report = judge("import sys\nprint('oops', file=sys.stderr)\nraise SystemExit(3)\n", problem, sandbox)
    assert report.tests[0].verdict is Verdict.RE and report.tests[0].message == "oops"
    report = judge("x = [1]\nprint(x[5])\n", problem, sandbox)
    assert report.tests[0].message == "IndexError: list index out of range"
    check_custom_report(custom_problem(tmp_path / "near"), sandbox)


def test_real_cli_subprocess_exit_codes(sandbox: Sandbox, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "sstar", "judge"]
    folder = PROBLEMS / "balanced-brackets"
    ok = subprocess.run([*cmd, str(folder / "solution.py"), str(folder), "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["verdict"] == "AC"
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "problem.md").write_text("# T\n")
    res = subprocess.run([*cmd, str(folder / "solution.py"), str(bad)], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 2 and says(res.stderr, "no tests found") and "Traceback" not in res.stderr


def test_judge_runs_without_llama_cpp_and_solve_says_how_to_get_it(sandbox: Sandbox) -> None:
    # llama-cpp-python is an extra (it compiles for minutes); judging must not need it.
    blocked = "import runpy, sys; sys.modules['llama_cpp'] = None; sys.argv[0] = 'sstar'; runpy.run_module('sstar', run_name='__main__')"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    folder = PROBLEMS / "balanced-brackets"
    ok = subprocess.run(
        [sys.executable, "-c", blocked, "judge", str(folder / "solution.py"), str(folder), "--json", "--sandbox", sandbox.name],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["verdict"] == "AC"
    res = subprocess.run(
        [sys.executable, "-c", blocked, "solve", str(folder), "--model", "smollm2-135m", "--sandbox", sandbox.name],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert res.returncode == 2, res.stderr
    assert says(res.stderr, "sstar[llama]") and "Traceback" not in res.stderr
