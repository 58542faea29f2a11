"""The judge that always answers (sstar.pipeline.judging) and the engine side of constrained
answers that needs no model: the scripted engine, the completion cache's keys, the OpenAI
engine's reading of log-probabilities."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sstar.engine.base import Completion, Message, Request, SamplingParams
from sstar.engine.cache import CachingEngine, request_key
from sstar.engine.openai import choice_probs_from
from sstar.engine.scripted import ScriptedEngine
from sstar.pipeline.context import RunContext
from sstar.pipeline.judging import judge_pair, strip_answer
from sstar.pipeline.prompts import JUDGE_ANSWER, show_judge_input
from sstar.pipeline.types import SolveConfig
from sstar.problem import Problem, TestCase
from sstar.sandbox.base import RunOutcome, RunStatus
from sstar.trace import Trace

PROBLEM = Problem("p", "P", "Print the sum of the numbers.", public_tests=(TestCase("1", "1 2\n", "3\n"),))
RIGHT, WRONG = "print(sum(map(int, input().split())))  # right\n", "print(0)  # wrong\n"
OUT_R, OUT_W = RunOutcome("t", RunStatus.OK, b"3\n"), RunOutcome("t", RunStatus.OK, b"0\n")


def _first_shown(messages: tuple[Message, ...]) -> str:
    user = next(m.content for m in messages if m.role == "user")
    return "right" if user.index("# right") < user.index("# wrong") else "wrong"


def _ctx(engine: ScriptedEngine, trace: Trace | None = None) -> RunContext:
    return RunContext(PROBLEM, engine, None, SolveConfig(), trace=trace)  # type: ignore[arg-type]


def _biased(p_right: float, position_bias: float) -> ScriptedEngine:
    """A judge that leans to the right program by ``p_right`` and to position A by ``position_bias``."""

    def choose(messages: tuple[Message, ...], choices: tuple[str, ...]) -> Mapping[str, float]:
        assert messages[-1].role == "assistant" and messages[-1].content.endswith(JUDGE_ANSWER)
        p_a = p_right if _first_shown(messages) == "right" else 1 - p_right
        p_a = min(1.0, p_a + position_bias)
        return {"A": p_a, "B": 1 - p_a}

    return ScriptedEngine(lambda *_: "The sum of 1 and 2 is 3. Answer: B", choice_fn=choose)


@pytest.mark.parametrize(("a_is_right", "p_right", "bias"), [(True, 0.8, 0.0), (False, 0.8, 0.0), (True, 0.6, 0.3), (False, 0.6, 0.3)])
def test_both_orders_are_asked_and_combined(a_is_right: bool, p_right: float, bias: float) -> None:
    engine = _biased(p_right, bias)
    code_a, out_a, code_b, out_b = (RIGHT, OUT_R, WRONG, OUT_W) if a_is_right else (WRONG, OUT_W, RIGHT, OUT_R)
    verdict = judge_pair(_ctx(engine), "1 2\n", code_a, out_a, code_b, out_b)
    assert verdict.answered and verdict.unanswered == 0 and verdict.calls == 4
    # The position bias cancels over the two orders: p_a is p_right for the right program.
    expected = p_right if a_is_right else 1 - p_right
    assert verdict.p_a == pytest.approx(expected)
    assert verdict.winner == ("A" if a_is_right else "B")
    # Two batches: both orders' reasoning, then both forced answers continuing those replies.
    first, second = engine.batches
    assert [_first_shown(r.messages) for r in first] == (["right", "wrong"] if a_is_right else ["wrong", "right"])
    for r in second:
        assert r.params.choices == ("A", "B") and r.params.continue_reply and r.params.max_tokens == 1
        # The reasoning's own "Answer: B" is cut: the verdict is re-read, graded.
        assert r.messages[-1].content == "The sum of 1 and 2 is 3." + JUDGE_ANSWER


def test_a_reasoning_cut_by_max_tokens_still_gets_a_verdict() -> None:
    engine = _biased(0.9, 0.0)
    engine._fn = lambda *_: "Let me recompute the first sample step by step " * 400  # type: ignore[assignment]
    trace = Trace()
    verdict = judge_pair(_ctx(engine, trace), "1 2\n", RIGHT, OUT_R, WRONG, OUT_W)
    assert verdict.winner == "A" and verdict.p_a == pytest.approx(0.9)
    (event,) = trace.of_kind("judge_pair")
    assert [o["reasoning_finish"] for o in event["orders"]] == ["length", "length"]
    assert [o["source"] for o in event["orders"]] == ["graded", "graded"]


def test_without_choice_weights_the_reply_decides_and_a_tie_has_no_winner() -> None:
    # Scripted without choice_fn: all the weight on the choice the reply starts with.
    verdict = judge_pair(_ctx(ScriptedEngine(lambda *_: "A")), "1 2\n", RIGHT, OUT_R, WRONG, OUT_W)
    assert verdict.answered and verdict.p_a == pytest.approx(0.5) and verdict.winner is None  # "A" in both orders: pure position bias


def test_a_large_input_is_shown_by_its_head() -> None:
    big = "8536\n" + " ".join(str(i) for i in range(8536)) + "\n"
    shown = show_judge_input(big)
    assert len(shown) < 700 and "large (2 lines" in shown and "8536" in shown
    assert show_judge_input("3\n1 2 3\n") == "```\n3\n1 2 3\n```"


def test_strip_answer_keeps_the_reasoning() -> None:
    assert strip_answer("x = 3, so A is right.\n**Answer: A**") == "x = 3, so A is right."
    assert strip_answer("The answer: 5 items") == "The answer: 5 items"  # not a verdict


# --- engine side -----------------------------------------------------------------------------


@given(st.dictionaries(st.sampled_from(["A", "B"]), st.floats(0, 10), min_size=1))
def test_scripted_choice_probabilities_sum_to_one(weights: dict[str, float]) -> None:
    engine = ScriptedEngine(default="", choice_fn=lambda m, c: weights)
    params = SamplingParams(choices=("A", "B"), continue_reply=True, max_tokens=1)
    (c,) = engine.complete([Message("user", "q"), Message("assistant", "Answer:")], 1, params)
    assert c.choice_probs is not None and sum(c.choice_probs.values()) == pytest.approx(1.0)
    assert c.text in ("A", "B") and c.choice_probs[c.text] == max(c.choice_probs.values())


def test_cache_keys_of_earlier_requests_are_unchanged_and_new_fields_count(tmp_path) -> None:
    import hashlib
    import json
    from dataclasses import asdict

    plain = Request((Message("user", "hi"),), 1, SamplingParams(seed=1))
    doc = {"v": 1, "engine": "e", "messages": [["user", "hi"]], "n": 1, "params": {k: v for k, v in asdict(plain.params).items() if k not in ("choices", "continue_reply", "min_p")}}
    assert request_key("e", plain) == hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    forced = Request(plain.messages, 1, SamplingParams(seed=1, choices=("A", "B")))
    assert request_key("e", forced) != request_key("e", plain)
    # The probabilities survive a round trip through the cache.
    inner = ScriptedEngine(default="", choice_fn=lambda m, c: {"A": 3, "B": 1})
    cached = CachingEngine(inner, tmp_path)
    first = cached.generate([forced])[0][0]
    again = cached.generate([forced])[0][0]
    assert len(inner.requests) == 1 and again.choice_probs == first.choice_probs == {"A": 0.75, "B": 0.25}


def test_openai_choice_probabilities_from_top_logprobs() -> None:
    params = SamplingParams(choices=("A", "B"))
    top = {"logprobs": {"content": [{"token": " A", "logprob": -0.5, "top_logprobs": [
        {"token": " A", "logprob": -0.5}, {"token": "B", "logprob": -1.5}, {"token": " B", "logprob": -3.0}, {"token": "The", "logprob": -2.0}]}]}}
    probs = choice_probs_from(top, " A", params)
    assert probs is not None and probs["A"] > probs["B"] and sum(probs.values()) == pytest.approx(1.0)
    assert choice_probs_from({}, "B", params) == {"A": 0.0, "B": 1.0}  # no logprobs: the text
    assert choice_probs_from({}, "The", params) is None
    _ = Completion  # the engine builds one per choice (see test_engine_openai for the server)
