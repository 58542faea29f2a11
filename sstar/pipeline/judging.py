"""A judge that always answers: which of two programs is right on an input where they differ.

Today's judge asked for a reasoning ending in ``Answer: A|B`` and parsed it; the small model
often spent its tokens re-deriving the samples and ended without an answer, and the pair was
then decided by cluster size alone. Here the answer is forced, in two steps per order:

1. the model reasons (``judge_reason_tokens``, shown the smallest distinguishing input, or the
   head of a large one and what it holds);
2. the reply is continued after ``Answer:`` with a constrained choice of ``A`` or ``B``
   (``SamplingParams.choices``): the engine reads both probabilities at that position, so a
   reasoning cut by max_tokens still gets a graded verdict.

Both orders are asked (A/B swapped) and combined into ``p_a``, the probability that the first
program is the right one, which cancels the model's preference for a position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal, Sequence

from sstar.engine.base import Completion, Message, Request
from sstar.pipeline.context import RunContext
from sstar.pipeline.prompts import JUDGE_ANSWER, judge_pair_messages
from sstar.sandbox.base import RunOutcome

CHOICES = ("A", "B")
_ANSWER = re.compile(r"[*`_\s]*answer\s*[:：]?\s*\**\s*(?:program\s+)?\(?([AB])\b", re.IGNORECASE)


@dataclass(frozen=True)
class PairItem:
    """One pair to judge: an input on which they differ, each program and its outcome there."""

    test_input: str
    code_a: str
    out_a: RunOutcome
    code_b: str
    out_b: RunOutcome


@dataclass
class OrderAnswer:
    """One order's answer: the probability that the program shown first is right."""

    p_first: float | None  # None: no answer at all (only with an engine that cannot constrain)
    source: str  # "graded" (choice probabilities) | "parsed" (the reply's own Answer line) | "none"
    reasoning_finish: str  # the reasoning step's finish reason ("length": cut by max_tokens)


@dataclass
class PairVerdict:
    """``winner``: "A" (the first program) or "B"; None on an exact tie or with no answer.
    ``p_a``: probability that A is right, the mean of both orders' (None without any answer).
    ``answered``: a usable verdict came back (p_a is not None). ``calls``: model requests spent.
    ``unanswered``: orders that gave no answer (~0 with llama.cpp, which always grades)."""

    winner: Literal["A", "B"] | None
    p_a: float | None
    answered: bool
    calls: int
    unanswered: int = 0
    orders: list[OrderAnswer] = field(default_factory=list)


def parse_answer(text: str) -> str | None:
    """The reply's own final ``Answer: A|B`` (the last one wins: models revise themselves)."""
    found = _ANSWER.findall(text)
    return found[-1].upper() if found else None


def strip_answer(text: str) -> str:
    """The reasoning without the verdict line it may have ended with (the verdict is re-read, graded)."""
    last = None
    for last in _ANSWER.finditer(text):
        pass
    return (text[: last.start()] if last is not None else text).rstrip()


def judge_pair(ctx: RunContext, test_input: str, code_a: str, out_a: RunOutcome, code_b: str, out_b: RunOutcome) -> PairVerdict:
    """Which of two programs is right on ``test_input`` (both orders inside; see the module docstring)."""
    return judge_pairs(ctx, [PairItem(test_input, code_a, out_a, code_b, out_b)])[0]


def judge_pairs(ctx: RunContext, items: Sequence[PairItem]) -> list[PairVerdict]:
    """``judge_pair`` for several pairs at once: two engine batches in all, whatever their number."""
    if not items:
        return []
    problem, lang = ctx.problem, ctx.language
    conversations: list[tuple[Message, ...]] = []
    for it in items:
        conversations.append(tuple(judge_pair_messages(problem, it.test_input, it.code_a, it.out_a, it.code_b, it.out_b, lang)))
        conversations.append(tuple(judge_pair_messages(problem, it.test_input, it.code_b, it.out_b, it.code_a, it.out_a, lang)))
    reason = ctx.params(temperature=0.0, max_tokens=ctx.config.judge_reason_tokens)
    replies = ctx.generate([Request(conv, 1, reason) for conv in conversations], "judge")
    # Step 2: the same reply, continued after "Answer:" with a choice of A or B.
    forced = replace(ctx.params(temperature=0.0, max_tokens=1), choices=CHOICES, continue_reply=True, stop_on_repetition=False)
    reasonings = [row[0].text if row else "" for row in replies]
    answers = ctx.generate(
        [Request(conv + (Message("assistant", strip_answer(text) + JUDGE_ANSWER),), 1, forced) for conv, text in zip(conversations, reasonings)],
        "judge-answer",
    )
    verdicts = []
    for n, it in enumerate(items):
        orders = [_order_answer(replies[2 * n + k], answers[2 * n + k]) for k in (0, 1)]
        # The second order shows B first: its p_first is the probability that B is right.
        estimates = [p for p in (orders[0].p_first, None if orders[1].p_first is None else 1.0 - orders[1].p_first) if p is not None]
        p_a = sum(estimates) / len(estimates) if estimates else None
        winner: Literal["A", "B"] | None = None if p_a is None or p_a == 0.5 else ("A" if p_a > 0.5 else "B")
        verdict = PairVerdict(winner, p_a, p_a is not None, 4, sum(o.p_first is None for o in orders), orders)
        verdicts.append(verdict)
        if ctx.trace is not None:
            ctx.trace.event(
                "judge_pair", input_bytes=len(it.test_input), winner=winner, p_a=p_a,
                orders=[{"p_first": o.p_first, "source": o.source, "reasoning_finish": o.reasoning_finish} for o in orders],
            )  # fmt: skip
    return verdicts


def _order_answer(reasoning: list[Completion], forced: list[Completion]) -> OrderAnswer:
    finish = reasoning[0].finish_reason if reasoning else ""
    comp = forced[0] if forced else None
    if comp is not None and comp.choice_probs:
        return OrderAnswer(float(comp.choice_probs.get("A", 0.0)), "graded", finish)
    # An engine without constrained answers: the forced reply's text, else the reasoning's own line.
    said = comp.text.strip().upper() if comp is not None else ""
    if said not in CHOICES:
        said = (parse_answer(reasoning[0].text) if reasoning else None) or ""
    if said in CHOICES:
        return OrderAnswer(1.0 if said == "A" else 0.0, "parsed", finish)
    return OrderAnswer(None, "none", finish)
