"""Validated, minimal selection inputs (sstar.pipeline.inputs) on real sandboxes (both backends),
with the scripted engine standing in for the model's programs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sstar.engine.scripted import ScriptedEngine
from sstar.pipeline.context import Candidate, RunContext
from sstar.pipeline.inputs import (
    SynthInput, choice_program, prepare_validator, run_generator, search_distinguishing, structure_problem,
    synthesize_validated_inputs, validate_inputs,
)  # fmt: skip
from sstar.pipeline.types import SolveConfig
from sstar.problem import Problem, TestCase
from sstar.sandbox import ProcessSandbox, Sandbox
from sstar.trace import Trace

STATEMENT = (
    "Read n (1 <= n <= 6) on the first line and n integers a_i (1 <= a_i <= 20) on the second line. "
    "Print the sum of the a_i."
)
PROBLEM = Problem(
    "sum", "Sum", STATEMENT,
    public_tests=(TestCase("1", "3\n1 5 2\n", "8\n"), TestCase("2", "1\n7\n", "7\n")),
)  # fmt: skip

# Right: reads the stated layout. Capped: wrong only when some value exceeds 7.
RIGHT = "import sys\nlines = sys.stdin.read().split('\\n')\nn = int(lines[0])\na = list(map(int, lines[1].split()))\nassert len(a) == n\nprint(sum(a))\n"
CAPPED = "import sys\nlines = sys.stdin.read().split('\\n')\nn = int(lines[0])\na = list(map(int, lines[1].split()))\nassert len(a) == n\nprint(sum(min(v, 7) for v in a))\n"
# Reads all tokens: runs on an input with every value on one line, where the others crash.
SLOPPY = "import sys\nd = list(map(int, sys.stdin.read().split()))\nprint(sum(d[1:1 + d[0]]))\n"

VALIDATOR = """
import sys
lines = sys.stdin.read().split("\\n")
if lines and lines[-1] == "":
    lines.pop()
if len(lines) != 2:
    sys.stderr.write(f"expected 2 lines, got {len(lines)}\\n"); sys.exit(1)
n = int(lines[0])
a = lines[1].split()
if not 1 <= n <= 6 or len(a) != n or not all(1 <= int(v) <= 20 for v in a):
    sys.stderr.write("n or the values are out of range\\n"); sys.exit(1)
"""
GENERATOR = "import random\nn = random.randint(1, 6)\nprint(n)\nprint(' '.join(str(random.randint(1, 20)) for _ in range(n)))\n"
# The max-size generator of the first traced miss: it prints an answer, not an input.
ANSWER_PRINTER = "print(113)\n"


def _fence(code: str) -> str:
    return f"```python\n{code}```\n"


def _ctx(sandbox: Sandbox, engine: ScriptedEngine | None = None, trace: Trace | None = None, **config: object) -> RunContext:
    return RunContext(PROBLEM, engine or ScriptedEngine(), sandbox, SolveConfig(**config), trace=trace)  # type: ignore[arg-type]


def _cand(index: int, code: str) -> Candidate:
    return Candidate(index, [], code)


# --- the choice-sequence prelude -----------------------------------------------------------


@pytest.fixture(scope="module")
def host_sandbox() -> ProcessSandbox:
    from tests.conftest import process_or_skip

    process_or_skip()
    sandbox = ProcessSandbox(parallel=2)
    yield sandbox  # type: ignore[misc]
    sandbox.close()


def test_empty_choices_give_the_minimal_input_and_every_random_call_is_driven(host_sandbox: ProcessSandbox) -> None:
    code = (
        "import random\nfrom random import randint, choice\nrng = random.Random(12345)\nrandom.seed(99)\n"
        "xs = [1, 2, 3, 4]\nrandom.shuffle(xs)\n"
        "print(randint(3, 9), choice('xyz'), random.randrange(5, 10), rng.randint(10, 20), xs, random.sample(range(7), 3), random.random())\n"
    )
    program = choice_program(code)
    assert program is not None
    ctx = _ctx(host_sandbox)
    empty, again, other, mixed = run_generator(ctx, program, [[], [], [0, 0, 0, 4, 1, 2, 3], [2, 1, 3]])
    assert empty == again == "3 x 5 10 [1, 2, 3, 4] [0, 1, 2] 0.0\n"
    # Draws in program order: shuffle's three, then randint, choice, randrange, the instance's randint.
    assert other == "7 y 7 13 [1, 2, 3, 4] [0, 1, 2] 0.0\n"
    assert mixed is not None and mixed.startswith("3 x 5 10 [3, 1, 4, 2] ")


@settings(max_examples=15, deadline=None, database=None)
@given(st.lists(st.integers(0, 2**16 - 1), max_size=12))
def test_the_same_choices_give_the_same_input(host_sandbox: ProcessSandbox, choices: list[int]) -> None:
    program = choice_program(GENERATOR)
    assert program is not None
    first, second = run_generator(_ctx(host_sandbox), program, [choices, choices])
    assert first is not None and first == second
    n, values = first.split("\n")[:2]
    # The first draw is n, the next n are the values: the prelude maps draw c to a + c mod (b - a + 1).
    drawn = choices + [0] * 7
    assert int(n) == 1 + drawn[0] % 6
    assert [int(v) for v in values.split()] == [1 + c % 20 for c in drawn[1 : 1 + int(n)]]


# --- the validator gate ----------------------------------------------------------------------


def test_an_invalid_input_is_rejected_and_never_splits(sandbox: Sandbox) -> None:
    # The second traced miss: a random generator that prints every value on one line. The
    # careful programs crash on it, the sloppy one does not: unvalidated, it would crown SLOPPY.
    one_line = "import random\nn = random.randint(1, 6)\nprint(n, *[random.randint(1, 20) for _ in range(n)])\n"
    engine = ScriptedEngine([
        ("VALIDATES", _fence(VALIDATOR)),
        ("largest the constraints allow", _fence(ANSWER_PRINTER)),
        ("random valid input", _fence(one_line)),
        ("new test", "```\n2\n3 4\n```\n```\n3 1 5 2\n```\n"),
    ])  # fmt: skip
    trace = Trace()
    ctx = _ctx(sandbox, engine, trace, num_inputs=2, num_random_inputs=3, hypothesis_examples=10, hypothesis_shrinks=10)
    inputs = synthesize_validated_inputs(ctx, [_cand(0, RIGHT), _cand(1, SLOPPY)])
    assert [s.name for s in inputs] == ["synth-1"] and inputs[0].validated
    assert len(engine.batches) == 1 and len(engine.batches[0]) == 4  # the validator request rides in the same batch
    (event,) = trace.of_kind("rejected_inputs")
    rejected = event["rejected"]
    names = {r["name"] for r in rejected}
    assert {"synth-2", "large", "random-1"} <= names  # the one-line inputs and the printed answer
    assert any("2 lines" in r["reason"] for r in rejected if r["name"] == "large")
    (search,) = trace.of_kind("hypothesis_search")
    assert search["minimal"] is None and search["rejected"] > 0  # every disagreement was on an invalid input


def test_no_random_generator_is_asked_for_when_nothing_would_run_it(sandbox: Sandbox) -> None:
    engine = ScriptedEngine([
        ("VALIDATES", _fence(VALIDATOR)),
        ("largest the constraints allow", _fence(ANSWER_PRINTER)),
        ("new test", "```\n2\n3 4\n```\n"),
    ])  # fmt: skip
    ctx = _ctx(sandbox, engine, num_inputs=1, num_random_inputs=0, hypothesis_examples=0)
    inputs = synthesize_validated_inputs(ctx, [_cand(0, RIGHT), _cand(1, SLOPPY)])
    assert [s.name for s in inputs] == ["synth-1"]
    assert not any("random valid input" in m.content for r in engine.requests for m in r.messages)
    assert len(engine.batches[0]) == 3  # hand-written, max-size generator, validator


def test_a_generator_that_prints_an_answer_is_rejected(sandbox: Sandbox) -> None:
    ctx = _ctx(sandbox)
    validator = prepare_validator(ctx, VALIDATOR)
    assert validator.usable, validator.note
    accepted, rejected = validate_inputs(ctx, [SynthInput("large", "113\n", large=True), SynthInput("synth-1", "2\n20 1\n")], validator)
    assert [s.name for s in accepted] == ["synth-1"] and accepted[0].validated
    assert [r.name for r in rejected] == ["large"] and "expected 2 lines" in rejected[0].reason


def test_a_validator_that_rejects_the_samples_is_not_used(sandbox: Sandbox) -> None:
    ctx = _ctx(sandbox)
    wrong = "import sys\nlines = sys.stdin.read().split()\nif len(lines) != 1:\n    sys.exit('exactly one value expected')\n"
    crashing = "import sys\nx = int(sys.stdin.read())\n"
    for code, word in ((wrong, "rejects"), (crashing, "crashes on")):
        validator = prepare_validator(ctx, code)
        assert not validator.usable and f"the validator {word} sample input 1" in validator.note
        accepted, rejected = validate_inputs(ctx, [SynthInput("synth-1", "2\n3 4\n")], validator)
        assert [s.name for s in accepted] == ["synth-1"] and not accepted[0].validated and rejected == []


def test_a_validator_too_slow_for_an_input_keeps_it_unchecked(sandbox: Sandbox) -> None:
    # A validator that times out on the max-size input says nothing about it: the input stays
    # (a too-slow candidate is still caught there), marked unchecked.
    ctx = _ctx(sandbox)
    slow_on_big = VALIDATOR + "if len(lines[1]) > 30:\n    while True:\n        pass\n"
    validator = prepare_validator(ctx, slow_on_big)
    assert validator.usable, validator.note
    big = SynthInput("large", "6\n" + " ".join(["20"] * 6) + " " * 30 + "\n", large=True)
    accepted, rejected = validate_inputs(ctx, [big, SynthInput("synth-1", "2\n3 4\n")], validator)
    assert [(s.name, s.validated) for s in accepted] == [("large", False), ("synth-1", True)] and rejected == []


def test_a_validator_that_rejects_every_input_leaves_them_in_unchecked(sandbox: Sandbox) -> None:
    # Usable on the samples, yet rejecting all the model wrote: more likely wrong than all of
    # them, so selection keeps them (unchecked) instead of choosing with no input at all.
    picky = VALIDATOR + "if lines[1] != '1 5 2' and lines[1] != '7':\n    sys.exit('not a sample')\n"
    engine = ScriptedEngine([
        ("VALIDATES", _fence(picky)),
        ("largest the constraints allow", "I cannot."),
        ("random valid input", "I cannot."),
        ("new test", "```\n2\n3 4\n```\n```\n3\n1 5 9\n```\n"),
    ])  # fmt: skip
    ctx = _ctx(sandbox, engine, num_inputs=2, num_random_inputs=0, hypothesis_examples=0)
    inputs = synthesize_validated_inputs(ctx, [_cand(0, RIGHT), _cand(1, CAPPED)])
    assert [(s.name, s.validated) for s in inputs] == [("synth-1", False), ("synth-2", False)]


def test_structure_checks_that_generalise() -> None:
    ctx = RunContext(
        Problem("p", "P", "", public_tests=(TestCase("1", "3 2\n1 2 3\n", ""), TestCase("2", "4 1\n1 1 1 1\n", ""))),
        ScriptedEngine(), None, SolveConfig(),  # type: ignore[arg-type]
    )  # fmt: skip
    assert structure_problem(ctx, "113\n") == "the first line has 1 values where every sample has 2"
    assert structure_problem(ctx, "x 2\n1\n") == "the first line is not integers, as in every sample"
    assert structure_problem(ctx, "5 3\n1 2 3 4 5\n") is None
    assert structure_problem(_ctx(None), "113\n") is None  # type: ignore[arg-type]  # a one-value header: the validator decides


# --- hypothesis search and shrinking ----------------------------------------------------------


def test_the_distinguishing_input_is_shrunk_to_a_minimal_one(sandbox: Sandbox) -> None:
    trace = Trace()
    ctx = _ctx(sandbox, trace=trace, seed=3)
    validator = prepare_validator(ctx, VALIDATOR)
    found = search_distinguishing(ctx, [_cand(0, RIGHT), _cand(1, CAPPED), _cand(2, RIGHT)], generator_code=GENERATOR, validator=validator)
    # The programs differ only when some value exceeds 7: the minimal input is one value, 8.
    assert [s.name for s in found] == ["min-1"]
    assert found[0].text == "1\n8\n" and found[0].validated
    assert found[0].shrunk_from is not None and found[0].shrunk_from >= len(found[0].text)
    (event,) = trace.of_kind("hypothesis_search")
    assert event["programs"] == 2 and event["generator_runs"] <= ctx.config.hypothesis_examples + ctx.config.hypothesis_shrinks


def test_agreeing_programs_give_no_input(sandbox: Sandbox) -> None:
    ctx = _ctx(sandbox)
    same = RIGHT.replace("print(sum(a))", "print(sum(reversed(a)))")
    found = search_distinguishing(ctx, [_cand(0, RIGHT), _cand(1, same)], generator_code=GENERATOR, validator=prepare_validator(ctx, VALIDATOR), max_examples=20)
    assert found == []


def test_without_a_validator_a_crash_does_not_split(sandbox: Sandbox) -> None:
    # The second traced miss with a validator that failed its samples: the one-line inputs
    # crash RIGHT and not SLOPPY, but with nothing to vouch for them that proves nothing.
    one_line = "import random\nn = random.randint(1, 6)\nprint(n, *[random.randint(1, 20) for _ in range(n)])\n"
    ctx = _ctx(sandbox)
    none = prepare_validator(ctx, None)
    assert not none.usable
    assert search_distinguishing(ctx, [_cand(0, RIGHT), _cand(1, SLOPPY)], generator_code=one_line, validator=none, max_examples=20) == []
    # Outputs that differ still split: the capped program on a well-formed input.
    found = search_distinguishing(ctx, [_cand(0, RIGHT), _cand(1, CAPPED)], generator_code=GENERATOR, validator=none)
    assert [s.text for s in found] == ["1\n8\n"] and not found[0].validated


def test_a_function_call_problem_gets_a_minimal_argument_list(sandbox: Sandbox) -> None:
    from sstar.problem import FunctionSpec, ProblemKind

    problem = Problem(
        "f", "F", "Given a list xs of 1 to 6 integers between 1 and 20, return their sum.",
        public_tests=(TestCase("1", "[[1, 5, 2]]", "8"),), kind=ProblemKind.FUNCTION, function=FunctionSpec("total"),
    )  # fmt: skip
    ctx = RunContext(problem, ScriptedEngine(), sandbox, SolveConfig())
    right, capped = "def total(xs):\n    return sum(xs)\n", "def total(xs):\n    return sum(min(v, 7) for v in xs)\n"
    generator = "import json, random\nn = random.randint(1, 6)\nprint(json.dumps([[random.randint(1, 20) for _ in range(n)]]))\n"
    validator = prepare_validator(ctx, "import json, sys\n(xs,) = json.loads(sys.stdin.read())\nassert 1 <= len(xs) <= 6 and all(1 <= v <= 20 for v in xs)\n")
    assert validator.usable, validator.note
    found = search_distinguishing(ctx, [_cand(0, right), _cand(1, capped)], generator_code=generator, validator=validator)
    assert [s.text for s in found] == ["[[8]]\n"]
    assert structure_problem(ctx, "[[1], 2]") == "2 arguments where the samples have 1"
