"""Stage 1: sample N candidate programs from the statement.

How the N are asked for is ``SolveConfig.sampling`` (issue 19: a wider pool, more problems
with at least one correct candidate for the same tokens):

- ``plain``: N samples of one prompt (the greedy answer first), as before;
- ``plans``: PlanSearch-style (arXiv 2409.03733): one batched request for short approaches in
  words, duplicates merged, then one program per approach ("Use this approach: ...");
- ``hints``: the same prompt with an approach framing per candidate (``prompts.HINTS``:
  simulation, brute force, math, greedy, sorting, dynamic programming), cycled;
- ``mixed``: the odd positions plain samples, the even ones plans and hints in turn.

Every mode keeps the greedy plain answer as candidate 0 of a run's first call. The sampled
candidates take their kind from their position p in the run, and their temperatures from
the schedule (``temperatures``, less its zeros: a 0 stands for the greedy candidate), cycled
per kind. A later call (``start_index``: a later wave) continues the cycles and, with seeds
derived from the indexes, draws new samples.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Sequence

from sstar.engine.base import Message, Request
from sstar.errors import SstarError
from sstar.pipeline.context import Candidate, RunContext
from sstar.pipeline.prompts import HINTS, generation_messages, hint_messages, parse_plan, plan_code_messages, plan_messages
from sstar.pipeline.types import SolveConfig

SAMPLING_MODES: tuple[str, ...] = ("plain", "plans", "hints", "mixed")
HINT_ORDER: tuple[str, ...] = tuple(HINTS)
BRUTE_FORCE_TAG = "hint:brute-force"
# Two approaches whose word sets overlap this much (Jaccard) are one approach said twice.
# High on purpose: a false "different" costs one program on a near-copy of a plan, a false
# "same" loses an idea.
PLAN_DUPLICATE_JACCARD = 0.7


@dataclass(frozen=True)
class Slot:
    """What one candidate position of a call asks for."""

    kind: str  # "greedy" | "plain" | "plan" | "hint"
    temperature: float
    hint: str = ""  # kind "hint": a key of prompts.HINTS
    plan: int = -1  # kind "plan": which of the call's approaches (set once they are known)


def check_sampling(mode: str) -> str:
    if mode not in SAMPLING_MODES:
        raise SstarError(f"unknown sampling {mode!r}: use one of {', '.join(SAMPLING_MODES)}")
    return mode


def sample_temperatures(config: SolveConfig) -> tuple[float, ...]:
    """The temperatures sampled candidates cycle through (the schedule less its zeros)."""
    schedule = tuple(t for t in config.temperatures if t > 0)
    return schedule or (config.temperature,)


def plan_slots(config: SolveConfig, n: int, start_index: int = 0, *, greedy_first: bool = True) -> list[Slot]:
    """The ``n`` positions ``start_index``.. of a run: kind and temperature of each."""
    mode = check_sampling(config.sampling)
    temps = sample_temperatures(config)
    slots: list[Slot] = []
    for p in range(start_index, start_index + n):
        if p == 0 and greedy_first:
            slots.append(Slot("greedy", 0.0))
            continue
        # k: this sample's rank among the run's samples of its kind; each kind cycles the
        # schedule on its own, so that in "mixed" no kind is stuck with one temperature.
        if mode == "plain" or (mode == "mixed" and p % 2 == 1):
            k = p - 1 if mode == "plain" else (p - 1) // 2
            slots.append(Slot("plain", temps[k % len(temps)]))
        elif mode == "plans" or (mode == "mixed" and p % 4 == 2):
            k = p - 1 if mode == "plans" else (p - 2) // 4
            slots.append(Slot("plan", temps[k % len(temps)]))
        else:  # hints, or mixed at p % 4 == 0
            k = p - 1 if mode == "hints" else p // 4 - 1
            # Every hint once per round, the round's temperature the next of the schedule:
            # each framing meets every temperature.
            h = len(HINT_ORDER)
            slots.append(Slot("hint", temps[(k // h) % len(temps)], hint=HINT_ORDER[k % h]))
    return slots


# -- approaches: parse, merge ------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
# Words every approach uses whatever it says: they would make different plans look alike.
_STOPWORDS = frozenset(
    "a an the of to in on for and or is are be it its this that we then each with by as at from "
    "if else into than so all any can will not no do use using first".split()
)


def plan_words(plan: str) -> frozenset[str]:
    """A plan as the set of its lowercased words, common function words left out."""
    return frozenset(w for w in _WORD.findall(plan.lower()) if w not in _STOPWORDS)


def plan_similarity(a: str, b: str) -> float:
    """Jaccard similarity of two plans' word sets (1.0 for two plans with no words)."""
    wa, wb = plan_words(a), plan_words(b)
    if not wa and not wb:
        return 1.0
    return len(wa & wb) / len(wa | wb)


def merge_plans(plans: Sequence[str], threshold: float = PLAN_DUPLICATE_JACCARD) -> list[int]:
    """Indexes of the plans kept, in order: a plan is dropped when it is at least
    ``threshold`` similar to a plan kept before it (the first of each group is kept)."""
    kept: list[int] = []
    words: list[frozenset[str]] = []
    for i, plan in enumerate(plans):
        w = plan_words(plan)
        if any(_jaccard(w, other) >= threshold for other in words):
            continue
        kept.append(i)
        words.append(w)
    return kept


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def sample_plans(ctx: RunContext, k: int, start_index: int) -> list[str]:
    """``k`` approaches in one batched request (trace stage "plan"), duplicates merged."""
    cfg = ctx.config
    params = dataclasses.replace(
        ctx.params(temperature=cfg.plan_temperature, max_tokens=cfg.plan_max_tokens, seed_offset=start_index),
        stop=("```",),  # an approach is words: a code block is where it ends
        min_p=cfg.min_p,
    )
    ctx.emit("plan", f"sketching {k} approach{'es' * (k != 1)}")
    (replies,) = ctx.generate([Request(tuple(plan_messages(ctx.problem)), k, params)], "plan")
    parsed = [parse_plan(c.text) for c in replies]
    plans = [p for p in parsed if p is not None]
    kept = [plans[i] for i in merge_plans(plans)]
    if ctx.trace is not None:
        ctx.trace.event("plans", stage="plan", asked=k, parsed=len(plans), kept=kept)
    ctx.emit("plan", f"{len(kept)} different approach{'es' * (len(kept) != 1)} of {k}")
    return kept


# -- the candidates ------------------------------------------------------------------------


@dataclass
class _Group:
    """Candidates that share one request: the same prompt and temperature."""

    messages: list[Message]
    temperature: float
    tag: str
    count: int = 0
    plan: str = ""


def generate_candidates(ctx: RunContext, n: int, *, start_index: int = 0, greedy_first: bool = True) -> list[Candidate]:
    """N candidates numbered from ``start_index``, their programs judged on the public tests.

    The greedy plain answer is candidate 0 when ``start_index`` is 0 (a small model's greedy
    answer is better than a typical sample on average, so keeping it costs nothing). The
    candidates of one request get consecutive indexes and candidate i samples with seed
    ``seed * 1000 + i``: a call with a later ``start_index`` draws new samples. In "plain"
    without a schedule the requests are exactly those of earlier versions (completion
    caches stay valid).
    """
    cfg = ctx.config
    slots = plan_slots(cfg, n, start_index, greedy_first=greedy_first)
    plans: list[str] = []
    want = sum(s.kind == "plan" for s in slots)
    if want:
        plans = sample_plans(ctx, want, start_index)
        q = 0
        for i, s in enumerate(slots):
            if s.kind == "plan":  # round robin over the approaches; none: a plain sample instead
                slots[i] = dataclasses.replace(s, plan=q % len(plans)) if plans else Slot("plain", s.temperature)
                q += 1
    groups: dict[tuple[object, ...], _Group] = {}
    for s in slots:
        key = (s.kind, s.hint, s.plan, s.temperature)
        if key not in groups:
            if s.kind == "hint":
                messages, tag, plan = hint_messages(ctx.problem, s.hint, ctx.language), f"hint:{s.hint}", ""
            elif s.kind == "plan":
                plan = plans[s.plan]
                messages, tag = plan_code_messages(ctx.problem, plan, ctx.language), f"plan:{s.plan}"
            else:
                messages, tag, plan = generation_messages(ctx.problem, ctx.language), "plain", ""
            groups[key] = _Group(messages, s.temperature, tag, plan=plan)
        groups[key].count += 1
    requests: list[Request] = []
    first_index: list[int] = []
    index = start_index
    for g in groups.values():
        params = ctx.params(temperature=g.temperature, seed_offset=index, code=ctx.language)
        if cfg.min_p > 0 and g.temperature > 0:
            params = dataclasses.replace(params, min_p=cfg.min_p)
        requests.append(Request(tuple(g.messages), g.count, params))
        first_index.append(index)
        index += g.count
    how = "" if cfg.sampling == "plain" else f" ({cfg.sampling})"
    ctx.emit("generate", f"sampling {n} candidate{'s' * (n != 1)}{how}")
    results = ctx.generate(requests, "generate")
    candidates: list[Candidate] = []
    described: list[dict[str, object]] = []
    for g, req, first, completions in zip(groups.values(), requests, first_index, results):
        for j, completion in enumerate(completions):
            cand = Candidate(index=first + j, messages=list(g.messages), tag=g.tag)
            ctx.take_reply(cand, completion)
            candidates.append(cand)
            described.append(
                {"index": cand.index, "tag": g.tag, "temperature": g.temperature, "seed": (req.params.seed or 0) + j,
                 "tokens": completion.completion_tokens, "plan": g.plan}
            )  # fmt: skip
    if ctx.trace is not None:
        ctx.trace.event("candidates", stage="generate", sampling=cfg.sampling, start_index=start_index, candidates=described)
    for cand in candidates:
        ctx.test_public(cand, "generate")
    ctx.emit("generate", f"{sum(c.passes_public for c in candidates)}/{n} pass the public tests", candidates)
    return candidates
