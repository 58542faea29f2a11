"""Stage 1: sample N candidate programs from the statement."""

from __future__ import annotations

from sstar.engine.base import Request
from sstar.pipeline.context import Candidate, RunContext
from sstar.pipeline.prompts import generation_messages


def generate_candidates(ctx: RunContext, n: int, *, greedy_first: bool = True, start_index: int = 0) -> list[Candidate]:
    """N candidates in one engine batch: the greedy answer plus N-1 samples at the set temperature.

    A small model's greedy answer is better than a typical sample on average, so keeping it
    among the N costs nothing and raises the floor.

    ``start_index``: the candidates are numbered from it and their seeds derive from it, so a
    later wave (the budgeted strategy) draws new samples; the greedy one only in the first.
    """
    messages = generation_messages(ctx.problem, ctx.language)
    requests: list[Request] = []
    if start_index == 0 and (greedy_first or ctx.config.temperature == 0):
        requests.append(Request(tuple(messages), 1, ctx.params(temperature=0.0, code=ctx.language)))
    if n - len(requests) > 0:
        requests.append(Request(tuple(messages), n - len(requests), ctx.params(seed_offset=max(1, start_index), code=ctx.language)))
    ctx.emit("generate", f"sampling {n} candidate{'s' * (n != 1)}")
    completions = [c for batch in ctx.generate(requests, "generate") for c in batch]
    candidates: list[Candidate] = []
    for i, completion in enumerate(completions):
        cand = Candidate(index=start_index + i, messages=list(messages))
        ctx.take_reply(cand, completion)
        candidates.append(cand)
    for cand in candidates:
        ctx.test_public(cand, "generate")
    ctx.emit("generate", f"{sum(c.passes_public for c in candidates)}/{n} pass the public tests", candidates)
    return candidates
