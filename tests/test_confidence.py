"""Confidence, --min-confidence and --export-tests end to end: a scripted model over a REAL
(process) sandbox, through sstar.Session, the CLI, check --solve-missing and batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sstar.engine.scripted import ScriptedEngine
from sstar.pipeline.decide import confidence
from sstar.pipeline.types import SolveConfig, SolveResult, Strategy
from sstar.record import RunRecord
from sstar.session import Session
from sstar.verdict import JudgeReport

RIGHT = "import sys\nd = sys.stdin.read().split()\nn = int(d[0])\nprint(max(map(int, d[1:1 + n])))\n"
RIGHT_TOO = "import sys\nn, *a = map(int, sys.stdin.read().split())\nbest = a[0]\nfor x in a[:n]:\n    best = x if x > best else best\nprint(best)\n"
LUCKY = "import sys\nd = sys.stdin.read().split()\nprint(d[2])\n"  # right on the sample only
ZERO = "print(0)\n"
# Three inputs every candidate runs on; only the first separates LUCKY from the right ones.
INPUTS = "```\n2\n7 3\n```\n\n```\n4\n3 9 2 8\n```\n\n```\n2\n-5 -3\n```\n"


def fence(code: str) -> str:
    return f"```python\n{code}```\n"


def script(generation: list[str], judge: str = "Answer: A"):
    def reply(messages, index, params) -> str:
        last = messages[-1].content
        if "Two programs were written" in last:
            return judge
        if "new test inputs" in last:
            return INPUTS
        if "prints ONE" in last or "Your code passed" in last:
            return "I cannot."  # no generators, no repairs: the inputs above are all there is
        pos = 0 if params.temperature == 0 else index + 1
        return fence(generation[pos % len(generation)])

    return reply


def write_problem(root: Path) -> Path:
    folder = root / "max"
    for which, tests in (("public", [("3\n1 5 2\n", "5\n")]), ("hidden", [("2\n8 1\n", "8\n")])):
        (folder / "tests" / which).mkdir(parents=True)
        for i, (inp, out) in enumerate(tests, 1):
            (folder / "tests" / which / f"{i}.in").write_text(inp)
            (folder / "tests" / which / f"{i}.out").write_text(out)
    (folder / "problem.md").write_text("# Maximum\n\nGiven n and then n integers, print the largest.\n")
    return folder


@pytest.fixture()
def problem_dir(tmp_path: Path) -> Path:
    return write_problem(tmp_path)


# Three of four samples share the right behaviour; the lucky one differs on input 1 only.
SPLIT = [RIGHT, LUCKY, RIGHT_TOO, RIGHT]
SPLIT_CONFIDENCE = confidence(passing=4, support=3, inputs_run=3)


def test_session_result_carries_confidence_and_the_distinguishing_tests(problem_dir, process_sandbox):
    with Session(ScriptedEngine(script(SPLIT)), process_sandbox) as session:
        result = session.solve(problem_dir, SolveConfig(n=4, rounds=0, num_random_inputs=0))
    assert result.program.strip() in (RIGHT.strip(), RIGHT_TOO.strip())
    assert result.clusters == 2 and result.judge_calls == 0
    assert result.confidence == SPLIT_CONFIDENCE and not result.unsure
    # The one input that split the behaviours, with the chosen program's answer, and who agreed.
    assert [(t.name, t.input, t.output) for t in result.tests] == [("synth-1", "2\n7 3\n", "7\n")]
    assert result.tests[0].groups == [[0, 2, 3], [1]] and result.tests[0].splits


def test_agreement_of_distinct_programs_raises_confidence_and_failing_everything_is_low(problem_dir, process_sandbox):
    config = SolveConfig(n=4, rounds=0, num_random_inputs=0, min_confidence=0.5)
    with Session(ScriptedEngine(script([RIGHT, RIGHT_TOO])), process_sandbox) as session:
        agree = session.solve(problem_dir, config)
    assert agree.clusters == 1 and agree.confidence == confidence(passing=4, support=4, inputs_run=3) > SPLIT_CONFIDENCE
    # Nothing split them: every input the chosen program ran on is exported, one group each.
    assert [t.input for t in agree.tests] == ["2\n7 3\n", "4\n3 9 2 8\n", "2\n-5 -3\n"]
    assert all(not t.splits and t.groups == [[0, 1, 2, 3]] for t in agree.tests)
    with Session(ScriptedEngine(script([ZERO])), process_sandbox) as session:
        none = session.solve(problem_dir, config)
    assert not none.public.all_passed and none.confidence <= 0.1 and none.unsure
    assert none.tests == []


def test_a_judge_without_a_verdict_is_counted_and_lowers_confidence(problem_dir, process_sandbox):
    with Session(ScriptedEngine(script([RIGHT, LUCKY], judge="Both look plausible.")), process_sandbox) as session:
        result = session.solve(problem_dir, SolveConfig(n=2, rounds=0, num_random_inputs=0))
    # The forced answer is graded even: a tie, counted as no verdict (4 calls: 2 orders x 2 steps).
    assert result.judge_calls == 4 and result.judge_no_verdict == 4
    assert result.program == RIGHT  # no verdict: the lower index, as before
    assert result.confidence == confidence(passing=2, support=1, inputs_run=3, no_verdict=1)
    assert result.confidence < confidence(passing=2, support=1, inputs_run=3, won=1)


def test_strategies_come_from_the_registry_and_accept_names(problem_dir, process_sandbox):
    from sstar.pipeline import strategies

    assert strategies.strategy_names()[:4] == ["sstar", "zero-shot", "majority", "self-debug"]
    calls = []

    def lone(ctx):
        calls.append(ctx.config.strategy_name)
        return strategies.run_zero_shot(ctx)

    strategies.register("test-lone", lone)
    try:
        with Session(ScriptedEngine(script([RIGHT])), process_sandbox) as session:
            result = session.solve(problem_dir, SolveConfig(strategy="test-lone"))
            by_enum = session.solve(problem_dir, SolveConfig(strategy=Strategy.ZERO_SHOT))
            by_name = session.solve(problem_dir, SolveConfig(strategy="zero-shot"))
    finally:
        del strategies.STRATEGIES["test-lone"]
    assert calls == ["test-lone"] and result.strategy == "test-lone" and result.public.all_passed
    assert by_enum.strategy == by_name.strategy == "zero-shot" and by_name.confidence == by_enum.confidence == 0.4
    assert SolveConfig(strategy="zero-shot").strategy is Strategy.ZERO_SHOT


# --------------------------------------------------------------------------- the CLI


@pytest.fixture()
def cli_engine(monkeypatch):
    """--model sel-test: a scripted model with the SPLIT population (what a plugin engine would do)."""
    from sstar.engine import ENGINES

    engines: list[ScriptedEngine] = []

    def factory(arg: str, **_: object) -> ScriptedEngine:
        engines.append(ScriptedEngine(script(SPLIT)))
        return engines[-1]

    monkeypatch.setitem(ENGINES._factories, "sel-test", factory)
    return engines


def _solve(problem_dir: Path, *args: str):
    from sstar.cli.main import app

    base = ["solve", str(problem_dir), "--model", "sel-test", "--sandbox", "process", "-n", "4", "--rounds", "0"]
    return CliRunner().invoke(app, [*base, *args])


def test_cli_min_confidence_marks_the_program_and_exits_1(problem_dir, cli_engine, process_sandbox):
    sure = _solve(problem_dir, "--min-confidence", f"{SPLIT_CONFIDENCE - 0.01:.2f}")
    assert sure.exit_code == 0, sure.output
    assert sure.stdout.strip() in (RIGHT.strip(), RIGHT_TOO.strip())
    unsure = _solve(problem_dir, "--min-confidence", "0.95")
    assert unsure.exit_code == 1, unsure.output
    first, rest = unsure.stdout.split("\n", 1)
    assert first == f"# sstar: unsure (confidence {SPLIT_CONFIDENCE:.2f} < 0.95)"
    assert rest == sure.stdout  # the same best program, marked
    assert "unsure" in unsure.stderr and "--min-confidence" in unsure.stderr


def test_unsure_mark_is_a_comment_in_the_programs_language():
    from sstar.cli.solve_cmd import unsure_mark

    result = SolveResult("p", "sstar", "int main() {}", JudgeReport(), confidence=0.31, language="cpp")
    assert unsure_mark(result, 0.5) == "// sstar: unsure (confidence 0.31 < 0.50)"


def test_cli_export_tests_writes_the_oj_layout_and_links_the_trace(problem_dir, tmp_path, cli_engine, process_sandbox):
    out = tmp_path / "exported"
    (out / "test").mkdir(parents=True)
    (out / "test" / "sample-1.in").write_text("mine\n")  # other names: left alone
    (out / "test" / "sample-1.out").write_text("yours\n")
    trace = tmp_path / "trace.json"
    result = _solve(problem_dir, "--export-tests", str(out), "--trace", str(trace))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "test").iterdir()) == ["gen-1.in", "gen-1.out", "sample-1.in", "sample-1.out"]
    assert (out / "test" / "gen-1.in").read_text() == "2\n7 3\n" and (out / "test" / "gen-1.out").read_text() == "7\n"
    assert (out / "test" / "sample-1.in").read_text() == "mine\n"
    assert "wrote 1 tests" in result.stderr
    events = json.loads(trace.read_text())["events"]
    (exported,) = [e for e in events if e["kind"] == "exported_tests"]
    assert exported["tests"] == [
        {"in": str(out / "test" / "gen-1.in"), "out": str(out / "test" / "gen-1.out"), "input": "synth-1", "groups": [[0, 2, 3], [1]], "splits": True}
    ]
    # The clusters event names the same split by cluster representatives.
    (clusters,) = [e for e in events if e["kind"] == "clusters"]
    assert clusters["splits"] == {"synth-1": [[0], [1]]} and clusters["confidence"] == SPLIT_CONFIDENCE
    # The exported tests are tests sstar check reads (oj layout): the chosen program passes them.
    from sstar.check import oj_tests

    assert [(t.input, t.expected) for t in oj_tests(out)] == [("2\n7 3\n", "7\n"), ("mine\n", "yours\n")]


def test_cli_export_tests_to_a_file_is_refused_before_the_model_loads(problem_dir, tmp_path, cli_engine):
    target = tmp_path / "taken"
    target.write_text("x")
    result = _solve(problem_dir, "--export-tests", str(target))
    # One message (rich wraps it at the terminal's width).
    assert result.exit_code == 2 and result.output.count("error:") == 1 and "is a file" in " ".join(result.output.split())
    assert cli_engine == []  # no model was opened
    assert target.read_text() == "x"


# --------------------------------------------------------------------------- check and batch


def test_check_solve_missing_writes_only_solutions_at_or_above_the_threshold(tmp_path, process_sandbox):
    from sstar.check import check_repository

    repo = tmp_path / "repo"
    folder = write_problem(repo)
    engine = ScriptedEngine(script([RIGHT]))
    # Zero-shot: a lone passing sample, confidence 0.4.
    skipped = check_repository(repo, process_sandbox, solve_missing=True, engine=engine, config=SolveConfig(strategy=Strategy.ZERO_SHOT, min_confidence=0.5))
    (check,) = skipped.problems
    assert not (folder / "solution.py").exists()
    assert check.missing and check.unsure == "confidence 0.40 < --min-confidence 0.50: not written"
    assert skipped.exit_code == 0 and skipped.missing == 1  # like a problem without a solution
    written = check_repository(repo, process_sandbox, solve_missing=True, engine=engine, config=SolveConfig(strategy=Strategy.ZERO_SHOT, min_confidence=0.4))
    assert (folder / "solution.py").is_file() and written.exit_code == 0 and written.passed == 1


def test_cli_check_says_which_it_skipped(tmp_path, monkeypatch, process_sandbox):  # skips where the process backend cannot run
    from sstar.cli.main import app
    from sstar.engine import ENGINES

    repo = tmp_path / "repo"
    write_problem(repo)
    monkeypatch.setitem(ENGINES._factories, "sel-test", lambda arg, **_: ScriptedEngine(script([RIGHT])))
    args = ["check", str(repo), "--solve-missing", "--model", "sel-test", "--sandbox", "process", "--strategy", "zero-shot", "--min-confidence", "0.5"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "max: confidence 0.40 < --min-confidence 0.50: not written" in " ".join(result.stderr.split())


def test_batch_records_carry_confidence_and_old_records_still_load(tmp_path, process_sandbox):
    from sstar.batch import run_batch

    write_problem(tmp_path / "set")
    engine = ScriptedEngine(script([RIGHT]))
    out = tmp_path / "run.jsonl"
    run_batch([tmp_path / "set"], out, engine, process_sandbox, SolveConfig(strategy=Strategy.ZERO_SHOT), model_name="scripted")
    (rec,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert rec["confidence"] == 0.4 and "unsure" not in rec and rec["solved"]
    # --resume with another --min-confidence: it marks records, it does not change the run.
    marked = tmp_path / "marked.jsonl"
    run_batch([tmp_path / "set"], marked, engine, process_sandbox, SolveConfig(strategy=Strategy.ZERO_SHOT, min_confidence=0.7), model_name="scripted")
    (rec2,) = [json.loads(line) for line in marked.read_text().splitlines()]
    assert rec2["unsure"] is True
    run_batch([tmp_path / "set"], marked, engine, process_sandbox, SolveConfig(strategy=Strategy.ZERO_SHOT), model_name="scripted", resume=True)
    old = RunRecord.from_json({"v": 1, "path": "p", "solved": True})
    assert old.confidence is None and "confidence" not in old.to_json()
    # sstar report: confidence per problem (csv/json) and its mean over solved / unsolved.
    from sstar.report import load_runs, render, summarize

    (run,) = load_runs([out])
    assert summarize(run).confidence_solved_mean == 0.4 and summarize(run).confidence_unsolved_mean is None
    assert json.loads(render([run], "json"))["problems"][0]["results"]["run"]["confidence"] == 0.4
    old_file = tmp_path / "old.jsonl"
    old_file.write_text(json.dumps({"v": 1, "path": "p", "solved": True}) + "\n")
    assert summarize(load_runs([old_file])[0]).confidence_solved_mean is None


def test_cli_batch_min_confidence_marks_records(tmp_path, monkeypatch, process_sandbox):
    from sstar.cli.main import app
    from sstar.engine import ENGINES

    write_problem(tmp_path / "set")
    monkeypatch.setitem(ENGINES._factories, "sel-test", lambda arg, **_: ScriptedEngine(script([RIGHT])))
    out = tmp_path / "run.jsonl"
    args = ["batch", str(tmp_path / "set"), "--out", str(out), "--model", "sel-test", "--sandbox", "process",
            "--strategy", "zero-shot", "--no-cache", "--min-confidence", "0.7"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output  # batch marks, it does not abstain
    (rec,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert rec["confidence"] == 0.4 and rec["unsure"] is True and rec["solved"]
