"""Pipeline logic with a scripted model over a REAL sandbox (the model is the only stand-in).

The scripted model plays a small population of candidates for "print the maximum":
one right, one that passes the sample by luck, one that crashes until it is debugged.
"""

from __future__ import annotations

import json

import pytest

from sstar.engine.base import Message, SamplingParams
from sstar.engine.scripted import ScriptedEngine
from sstar.pipeline.judging import parse_answer
from sstar.pipeline.solve import solve
from sstar.pipeline.types import SolveConfig, Strategy
from sstar.problem import Problem, TestCase
from sstar.trace import Trace

RIGHT = "import sys\nd = sys.stdin.read().split()\nn = int(d[0])\nprint(max(map(int, d[1:1 + n])))\n"
RIGHT_TOO = "import sys\nn, *a = map(int, sys.stdin.read().split())\nbest = a[0]\nfor x in a[:n]:\n    best = x if x > best else best\nprint(best)\n"
LUCKY = "import sys\nd = sys.stdin.read().split()\nprint(d[2])\n"  # second number: right on the sample only
CRASHES = "n = int(input())\na = int(input())\nprint(a)\n"  # int() of a whole line: ValueError
FIRST_THREE = "import sys\nd = sys.stdin.read().split()\nprint(max(map(int, d[1:4])))\n"  # right while n <= 3
LARGE = "import random\nrandom.seed(1)\nn = 100000\nprint(n)\nprint(' '.join(str(random.randint(-10**9, 10**9)) for _ in range(n)))\n"
SMALL_RANDOM = "import random\nn = random.randint(1, 8)\nprint(n)\nprint(*[random.randint(-20, 20) for _ in range(n)])\n"
SECRET = "424242424242"  # appears only in hidden tests

STATEMENT = "Given $n$ and then $n$ integers, print the largest of them.\n\n## Input\n\nThe first line holds n (1 <= n <= 100000), the second line n integers.\n\n## Output\n\nThe maximum."


VALIDATOR = """import sys
lines = sys.stdin.read().split("\\n")
n = int(lines[0])
assert 1 <= n <= 100000 and len(lines[1].split()) == n
"""


def fence(code: str) -> str:
    return f"The idea is simple.\n\n```python\n{code}```\n"


@pytest.fixture()
def problem() -> Problem:
    return Problem(
        id="max",
        title="Maximum",
        statement=STATEMENT,
        public_tests=(TestCase("1", "3\n1 5 2\n", "5\n"),),
        hidden_tests=(TestCase("h1", f"2\n{SECRET} 1\n", f"{SECRET}\n"),),
        checker="tokens",
        time_limit_s=2.0,
    )


class Script:
    """The model's side of the conversation, decided by what it is asked."""

    def __init__(self, generation: list[str], judge_distrusts: str = "d[2]", inputs: str = "", large: str | None = LARGE, random_gen: str | None = None, validator: str = "") -> None:
        self.generation = generation
        self.judge_distrusts = judge_distrusts
        self.large = large
        self.random_gen = random_gen  # None: the model writes no random-input generator
        # Default: inputs on which every candidate runs, so only the judge can separate them.
        # The input validator the model writes: by default, "n, then n integers on the next line".
        self.validator = validator or VALIDATOR
        self.inputs = inputs or "```\n2\n7 3\n```\n\n```\n4\n3 9 2 8\n```\n\n```\n2\n-5 -3\n```\n"

    def __call__(self, messages: tuple[Message, ...], index: int, params: SamplingParams) -> str:
        last = messages[-1].content
        if messages[-1].role == "assistant" and len(messages) > 1:
            # The judge's forced answer, after its reasoning: the same choice as that reasoning.
            last = messages[-2].content
            a = last.split("Program A:")[1].split("Program B:")[0]
            return "B" if self.judge_distrusts in a else "A"
        if "VALIDATES one input" in last:
            return fence(self.validator)
        if "Two programs were written" in last:
            a = last.split("Program A:")[1].split("Program B:")[0]
            return "Hmm.\nAnswer: B" if self.judge_distrusts in a else "Let me check.\nAnswer: A"
        if "new test inputs" in last:
            return self.inputs
        if "prints ONE valid input" in last:
            return fence(self.large) if self.large else "I cannot."
        if "prints ONE random valid input" in last:
            return fence(self.random_gen) if self.random_gen else "I cannot."
        if "Your code passed" in last:
            return fence(RIGHT_TOO)  # the debugged version
        # Generation: the greedy request (temperature 0) is candidate 0; samples follow.
        pos = 0 if params.temperature == 0 else index + 1
        return fence(self.generation[pos % len(self.generation)])


@pytest.fixture(scope="module")
def sandbox():
    from sstar.sandbox import open_sandbox

    try:
        box = open_sandbox("auto")
    except Exception as err:  # noqa: BLE001 - report why, e.g. not root and no Docker
        pytest.skip(f"no sandbox backend here: {err}")
    with box:
        yield box


def all_prompt_text(engine: ScriptedEngine) -> str:
    return "\n".join(m.content for r in engine.requests for m in r.messages)


def test_sstar_debugs_then_selects_the_right_cluster(problem, sandbox):
    engine = ScriptedEngine(Script([LUCKY, CRASHES, RIGHT, LUCKY]))
    trace = Trace()
    result = solve(problem, engine, sandbox, SolveConfig(n=4, rounds=2, seed=3), trace=trace)

    assert result.candidates == 4
    assert result.candidates_passing_public == 4  # the crasher was repaired in round 1
    assert result.program.strip() in (RIGHT.strip(), RIGHT_TOO.strip())
    assert result.public.all_passed
    assert result.clusters == 2  # right (incl. debugged) vs lucky
    assert result.judge_calls == 4  # one pair, both orders, each a reasoning and a forced answer
    judged = [r for r in engine.requests if "Two programs were written" in r.messages[-1].content]
    assert len(judged) == 2
    # The two judge prompts present the same pair in both orders.
    a_first = judged[0].messages[-1].content.split("Program B:")[0]
    b_second = judged[1].messages[-1].content.split("Program A:")[1].split("Program B:")[1]
    assert a_first.split("Program A:")[1].split("Program A printed")[0].strip() in b_second
    kinds = {e["kind"] for e in trace.events}
    assert {"llm", "public_tests", "synthesized_inputs", "clusters", "judge", "result"} <= kinds
    json.dumps(trace.to_json())  # the trace is plain JSON


def test_a_behaviour_that_crashes_where_others_run_loses_without_judging(problem, sandbox):
    # n=1 gives LUCKY an IndexError; the right programs answer: no judge call is needed.
    engine = ScriptedEngine(Script([LUCKY, RIGHT, LUCKY], inputs="```\n1\n7\n```\n\n```\n2\n7 3\n```\n"))
    result = solve(problem, engine, sandbox, SolveConfig(n=3))
    assert result.program.strip() == RIGHT.strip()
    assert result.clusters == 2 and result.judge_calls == 0


def test_a_clearly_larger_behaviour_wins_without_the_judge(problem, sandbox):
    # Three samples agree on the right behaviour, one lucky sample differs, and the judge
    # (the small model) prefers the lucky one: the measured failure on IsItHalloween.
    script = Script([RIGHT, LUCKY, RIGHT, RIGHT], judge_distrusts="n = int(d[0])")
    result = solve(problem, ScriptedEngine(script), sandbox, SolveConfig(n=4, rounds=0))
    assert result.clusters == 2 and result.judge_calls == 0
    assert result.program.strip() == RIGHT.strip()
    # The paper's rule judges every behaviour, and here the judge gets it wrong.
    paper = solve(problem, ScriptedEngine(script), sandbox, SolveConfig(n=4, rounds=0, judge_min_support=0.0))
    assert paper.judge_calls == 4 and paper.program.strip() == LUCKY.strip()


def test_random_small_inputs_separate_what_the_hand_written_ones_do_not(problem, sandbox):
    # The Game 23 miss: the model's few inputs are all small enough for the wrong program
    # (here n <= 3), there is no large input, so one cluster holds right and wrong alike.
    generation = [FIRST_THREE, RIGHT, RIGHT, RIGHT]
    blind = solve(problem, ScriptedEngine(Script(generation, large=None)), sandbox, SolveConfig(n=4, rounds=0, num_random_inputs=0))
    assert blind.clusters == 1 and blind.program.strip() == FIRST_THREE.strip()

    traces = []
    for _ in range(2):
        trace = Trace()
        seeing = solve(problem, ScriptedEngine(Script(generation, large=None, random_gen=SMALL_RANDOM)), sandbox, SolveConfig(n=4, rounds=0), trace=trace)
        assert seeing.clusters == 2 and seeing.program.strip() == RIGHT.strip()
        traces.append(trace)
    synthesized = [next(e["inputs"] for e in t.events if e["kind"] == "synthesized_inputs") for t in traces]
    randoms = [s for s in synthesized[0] if s["name"].startswith("random-")]
    assert len(randoms) >= 4  # 8 seeds, duplicates dropped: the seeds differ
    assert synthesized[0] == synthesized[1]  # and are fixed: a rerun sees the same inputs


def test_debug_feedback_shows_input_expected_and_error(problem, sandbox):
    engine = ScriptedEngine(Script([CRASHES]))
    solve(problem, engine, sandbox, SolveConfig(strategy=Strategy.SELF_DEBUG, rounds=1))
    feedback = [r for r in engine.requests if "Your code passed" in r.messages[-1].content]
    assert len(feedback) == 1
    text = feedback[0].messages[-1].content
    assert "3\n1 5 2" in text and "Expected output" in text and "ValueError" in text
    # Earlier rounds stay in the conversation: statement, first reply, feedback.
    roles = [m.role for m in feedback[0].messages]
    assert roles == ["system", "user", "assistant", "user"]


@pytest.mark.parametrize(
    "non_fix",
    ["# fixed the parsing\n" + CRASHES,  # the same program with a new comment
     "import sys\nn = int(sys.stdin.readline())\na = int(sys.stdin.readline())\nprint(a)\n"],  # new code, same crash
)  # fmt: skip
def test_a_repair_that_changes_nothing_visible_is_called_out_and_resampled_hotter(problem, sandbox, non_fix):
    def script(messages, index, params):
        last = messages[-1].content
        if "Your code passed" in last and "fixed nothing" not in last:
            return "I fixed it.\n\n" + fence(non_fix)
        if "Your code passed" in last:
            return fence(RIGHT)
        return fence(CRASHES)

    engine = ScriptedEngine(script)
    config = SolveConfig(strategy=Strategy.SELF_DEBUG, rounds=3, temperature=0.8)
    result = solve(problem, engine, sandbox, config)
    repairs = [r for r in engine.requests if "Your code passed" in r.messages[-1].content]
    assert len(repairs) == 2 and result.program.strip() == RIGHT.strip()
    assert "fixed nothing" not in repairs[0].messages[-1].content and repairs[0].params.temperature == 0.3
    assert "fixed nothing" in repairs[1].messages[-1].content and repairs[1].params.temperature == 0.8
    # The second repair starts a fresh conversation: nothing of the model's own to copy.
    assert [m.role for m in repairs[1].messages] == ["system", "user"]
    assert "This attempt is wrong" in repairs[1].messages[-1].content and STATEMENT.split("\n")[0] in repairs[1].messages[-1].content


def test_pipeline_never_sees_hidden_tests(problem, sandbox):
    seen_stdin: list[bytes] = []

    class Spy:
        """Wraps the real sandbox and records every stdin it is given."""

        name = "spy"

        def run(self, program, specs, limits, on_result=None):
            seen_stdin.extend(s.stdin for s in specs)
            seen_stdin.extend(v for s in specs for v in s.files.values())
            return sandbox.run(program, specs, limits, on_result)

    engine = ScriptedEngine(Script([LUCKY, CRASHES, RIGHT]))
    result = solve(problem, engine, Spy(), SolveConfig(n=3))  # type: ignore[arg-type]
    assert result.program
    assert SECRET not in all_prompt_text(engine)
    assert all(SECRET.encode() not in s for s in seen_stdin)
    assert problem.hidden_tests  # the caller's problem is untouched


def test_no_survivor_takes_most_public_passes(sandbox):
    prob = Problem(
        id="two", title="Two", statement="Print the first number.",
        public_tests=(TestCase("1", "1\n", "1\n"), TestCase("2", "2\n", "2\n")),
    )
    half = "x = input()\nprint(1)\n"  # passes test 1 only
    none = "print(0)\n"
    engine = ScriptedEngine(lambda m, i, p: fence(none if p.temperature == 0 else half) if "Your code passed" not in m[-1].content else fence(none))
    result = solve(prob, engine, sandbox, SolveConfig(n=3, rounds=1))
    assert result.public.passed == 1 and result.program.strip() == half.strip()
    assert result.judge_calls == 0  # no selection work when nothing passes


def test_zero_shot_is_one_greedy_sample(problem, sandbox):
    engine = ScriptedEngine(Script([RIGHT]))
    result = solve(problem, engine, sandbox, SolveConfig(strategy=Strategy.ZERO_SHOT))
    assert len(engine.requests) == 1
    assert engine.requests[0].n == 1 and engine.requests[0].params.temperature == 0
    assert result.public.all_passed


def test_majority_takes_the_most_common_behaviour_without_judge(problem, sandbox):
    engine = ScriptedEngine(Script([LUCKY, LUCKY, RIGHT, LUCKY, RIGHT_TOO]))
    result = solve(problem, engine, sandbox, SolveConfig(strategy=Strategy.MAJORITY, n=5))
    assert result.judge_calls == 0
    assert result.program.strip() == LUCKY.strip()  # 3 lucky vs 2 right: the majority wins, right or not
    assert not any("Your code passed" in r.messages[-1].content for r in engine.requests)


def test_ctrl_c_returns_best_so_far(problem, sandbox):
    def script(messages, index, params):
        if "Your code passed" in messages[-1].content:
            raise KeyboardInterrupt
        return fence(LUCKY if params.temperature == 0 else CRASHES)

    result = solve(problem, ScriptedEngine(script), sandbox, SolveConfig(n=3))
    assert result.interrupted
    assert result.program.strip() == LUCKY.strip()


def test_judge_answers_are_parsed_from_the_last_line():
    assert parse_answer("A looks wrong... Answer: B") == "B"
    assert parse_answer("Answer: A\nwait, no.\nAnswer: **B**") == "B"
    assert parse_answer("answer: program a") == "A"
    assert parse_answer("I cannot tell") is None


def test_function_call_problem_end_to_end(sandbox):
    """A LeetCode-style problem: the model completes a class, inputs are JSON argument lists."""
    from pathlib import Path

    from sstar.loaders import load_problem

    prob = load_problem(Path(__file__).parents[1] / "problems" / "two-sum")
    right = (Path(__file__).parents[1] / "problems" / "two-sum" / "solution.py").read_text()
    quadratic_wrong = (
        "class Solution:\n    def twoSum(self, nums, target):\n"
        "        for i in range(len(nums)):\n            for j in range(len(nums)):\n"
        "                if i != j and nums[i] + nums[j] == target:\n                    return [j, i] if j < i and nums[0] == 5 else [i, j]\n"
    )

    def script(messages, index, params):
        last = messages[-1].content
        if "Two programs were written" in last:
            a = last.split("Program A:")[1].split("Program B:")[0]
            return "Answer: A" if "seen" in a else "Answer: B"
        if "new test argument lists" in last:
            return "```\n[[5, 1, 5], 10]\n```\n```\n[[2, 2], 4]\n```\n"
        if "prints ONE valid input" in last:
            return fence("import json\nprint(json.dumps([list(range(1000)), 1997]))\n")
        return fence(right if params.temperature == 0 else quadratic_wrong)

    engine = ScriptedEngine(script)
    result = solve(prob, engine, sandbox, SolveConfig(n=3))
    assert result.public.all_passed
    assert result.program.strip() == right.strip()
    gen_prompt = engine.requests[0].messages[-1].content
    assert "Solution().twoSum" in gen_prompt and "do not read input" in gen_prompt


def test_stdin_prompt_asks_for_a_plan_before_the_code(problem):
    """The plan-first prompt (measured in docs/benchmarks.md); function problems keep the old form."""
    from pathlib import Path

    from sstar.loaders import load_problem
    from sstar.pipeline.prompts import PLAN_FIRST, generation_messages

    prompt = generation_messages(problem)[-1].content
    assert STATEMENT.strip() in prompt
    assert PLAN_FIRST in prompt and prompt.index(PLAN_FIRST) < prompt.index("```python block")
    function_prompt = generation_messages(load_problem(Path(__file__).parents[1] / "problems" / "two-sum"))[-1].content
    assert PLAN_FIRST not in function_prompt and "comments inside the code" in function_prompt


def test_a_plan_that_quotes_the_sample_in_a_fence_keeps_its_program(problem, sandbox):
    # The reply shape that a "\n```\n\n" stop string cut before the program (3 of 64
    # plan-first replies in docs/benchmarks.md): the engine must stop after the program.
    quoting = "Plan: the input is\n```\n3\n1 5 2\n```\n\nso print the largest.\n\n```python\n" + RIGHT + "```\n\nThis prints 5."
    engine = ScriptedEngine(lambda messages, index, params: quoting)
    result = solve(problem, engine, sandbox, SolveConfig(strategy=Strategy.ZERO_SHOT))
    assert engine.requests[0].params.stop_after_block == "python"
    assert result.public.all_passed and result.program == RIGHT


class FailsOnce:
    """The real sandbox, except that its first run ends as a failed sandbox does (every test
    SE): what a runner killed from outside returns (tests/test_hostile_ipc.py kills one)."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def run(self, program, specs, limits, on_result=None):
        from sstar.sandbox.base import RunOutcome, RunStatus

        self.calls += 1
        if self.calls == 1:
            return [RunOutcome(s.name, RunStatus.SE, b"", reason="the runner stopped answering") for s in specs]
        return self.inner.run(program, specs, limits, on_result)


def test_a_sandbox_failure_is_not_the_candidates_fault(problem, sandbox):
    flaky = FailsOnce(sandbox)
    result = solve(problem, ScriptedEngine(Script([RIGHT])), flaky, SolveConfig(strategy=Strategy.ZERO_SHOT))
    assert flaky.calls >= 2  # judged again on the restarted sandbox
    assert result.public.all_passed and result.candidates_passing_public == 1
