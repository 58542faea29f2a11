"""The budgeted strategy: S* under one budget of generated tokens (and optionally seconds).

Instead of a fixed N and R, candidates come in waves the size of the engine's batch (the
last one cut to the samples the tokens left are expected to buy). After
each wave the public tests run (generate does that) and, when two or more programs pass,
the passing ones are clustered by behaviour on selection inputs that are synthesized once
and reused for every later wave. The run stops as soon as the decision is settled, when the
budget (or the time) is spent, or when a wave adds nothing; while nothing passes it keeps
sampling.

Settled (``is_settled``): let L be the size of the largest behaviour among the contenders
(the clusters with the fewest crashes, as ``choose_by_behaviour`` ranks them), S the size of
the second (0 when there is one behaviour) and K the samples the budget still buys (tokens
left / mean generated tokens per fresh sample so far, rounded up). Settled when L > S + K:
even if every remaining sample joined the second behaviour, the lead would stay the largest.
``judge_min_support``'s rule (a behaviour smaller than that fraction of the lead is not even
judged) is implied by it, since S + K < j * L <= L. When the second is within that support
the final pick still goes to the judge, as in ``select_sstar``; more samples could not change
the order of sizes, only add members.

Repairs only where they pay: per problem, generated tokens and all-public-pass results are
counted for fresh samples and for repairs. From the second wave on, a wave repairs near misses
(pass some public tests, or fail one with a runtime error) instead of sampling, while the
repair yield per token is at least the fresh yield. Both start from a prior worth
``PRIOR_SAMPLES`` samples taken from docs/benchmarks.md ("Where S*'s extra compute goes"): 7.0 %
of fresh samples passed every public test, and repairs yielded five times less per token.
With no pass among the fresh samples, repairs get a wave after about 32 failing samples.

The account (tokens per stage, waves, why it stopped) goes to ``ctx.budget`` (then
``SolveResult.budget`` and the batch record) and to the trace as ``budget_wave`` and
``budget`` events.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Sequence

from sstar.errors import SstarError
from sstar.extract import program_fingerprint
from sstar.pipeline.context import Candidate, RunContext
from sstar.pipeline.debug import debug_candidates
from sstar.pipeline.generate import generate_candidates
from sstar.pipeline.types import SolveConfig, Strategy
from sstar.pipeline.decide import cluster, valid_inputs
from sstar.pipeline.inputs import SynthInput, synthesize_validated_inputs
from sstar.pipeline.select import Selection, agreement, behaviour_table, choose_by_behaviour, run_behaviour, select_sstar
from sstar.sandbox.base import RunOutcome
from sstar.verdict import Verdict

# What today's default S* spends: the mean generated tokens per problem of the 50 recorded
# S* N=16, R=0 solves with Qwen2.5-Coder-1.5B (bench/runs/sstar-1.5b-n16r0-{cf,kattis,
# kattis-judgeall,random}.jsonl: 6195). The 4 recorded N=8, R=2 solves (the CLI's defaults,
# 0.5B, bench/runs/sstar.jsonl) spent 6602: the same order.
DEFAULT_BUDGET_TOKENS = 6200
# Priors from docs/benchmarks.md: 22 of 313 fresh samples passed the public tests (7.0 %),
# 4 of 297 repairs (1.3 %, "about five times less likely"); a sample is about 350 tokens.
FRESH_PRIOR_PASS = 0.07  # all-public-pass programs per fresh sample
REPAIR_PRIOR_RATIO = 0.2  # per token, repairs yielded 5x less
# The priors weigh as much as this many samples' tokens (this problem's mean sample length):
# 8 fresh samples that all fail lower the fresh yield by half; a repair that passes lifts the
# repair yield above the prior fresh one at once.
PRIOR_SAMPLES = 8
ASSUMED_SAMPLE_TOKENS = 350  # before anything is measured: a 1.5B sample in docs/benchmarks.md
STAGES = ("generate", "repair", "synthesize", "judge")
_BUDGET = re.compile(r"^\s*(?:(\d+)\s*(k?)\s*)?(?:(?:^|,)\s*(\d+(?:\.\d+)?)\s*s\s*)?$", re.IGNORECASE)


def parse_budget(text: str) -> tuple[int, float]:
    """``--budget`` as (tokens, seconds): ``20000``, ``20k``, ``20000,600s`` or ``600s`` (0: not given)."""
    m = _BUDGET.match(text or "")
    if not text or not text.strip() or m is None or (m.group(1) is None and m.group(3) is None):
        raise SstarError(f"--budget {text!r}: give generated tokens, optionally with seconds, e.g. --budget 20000 or --budget 20000,600s")
    tokens = int(m.group(1)) * (1000 if m.group(2) else 1) if m.group(1) else 0
    seconds = float(m.group(3)) if m.group(3) else 0.0
    if m.group(1) is not None and tokens < 1 or m.group(3) is not None and seconds <= 0:
        raise SstarError(f"--budget {text!r}: tokens and seconds must be positive")
    return tokens, seconds


def apply_budget(config: SolveConfig, budget: str | None, set_budget: int | None = None) -> SolveConfig:
    """The CLI's ``--budget`` (and batch's ``--set-budget``) on a config: they run the budget strategy."""
    if budget is None and set_budget is None:
        return config
    if config.strategy not in (Strategy.SSTAR, Strategy.BUDGET):
        raise SstarError(f"--budget and --set-budget run the budget strategy; drop --strategy {Strategy(config.strategy).value}")
    tokens, seconds = parse_budget(budget) if budget is not None else (0, 0.0)
    if set_budget is not None:
        if set_budget < 1:
            raise SstarError("--set-budget must be a positive number of generated tokens, e.g. --set-budget 200000")
        if tokens:
            raise SstarError("give either --budget TOKENS (per problem) or --set-budget TOKENS (the whole set), not both; --budget 600s may go with --set-budget")
    return replace(config, strategy=Strategy.BUDGET, budget_tokens=tokens, budget_seconds=seconds, set_budget_tokens=set_budget or 0)


@dataclass
class Yield:
    """Generated tokens spent on one kind of attempt and how many reached all-public-pass."""

    tokens: int = 0
    attempts: int = 0
    passed: int = 0

    def rate(self, prior_per_sample: float, sample_tokens: float) -> float:
        """All-public-pass programs per generated token, the prior counted as PRIOR_SAMPLES samples."""
        weight = PRIOR_SAMPLES * sample_tokens
        return (self.passed + prior_per_sample * PRIOR_SAMPLES) / (self.tokens + weight)


def repair_pays(fresh: Yield, repair: Yield) -> bool:
    """Repairs win the next wave while their yield per token (prior: 5x less) is at least fresh samples'."""
    sample_tokens = fresh.tokens / fresh.attempts if fresh.attempts and fresh.tokens else ASSUMED_SAMPLE_TOKENS
    return repair.rate(FRESH_PRIOR_PASS * REPAIR_PRIOR_RATIO, sample_tokens) >= fresh.rate(FRESH_PRIOR_PASS, sample_tokens)


def is_settled(sizes: Sequence[int], samples_left: int) -> bool:
    """The lead behaviour stays the largest even if every remaining sample joined the second."""
    if not sizes:
        return False
    ordered = sorted(sizes, reverse=True)
    second = ordered[1] if len(ordered) > 1 else 0
    return ordered[0] > second + max(0, samples_left)


def is_near_miss(cand: Candidate) -> bool:
    """Worth a repair: passes some public tests, or fails one with a runtime/compile error."""
    if cand.code is None or cand.public is None or cand.passes_public:
        return False
    return cand.public.passed > 0 or any(t.verdict in (Verdict.RE, Verdict.CE) for t in cand.public.tests)


@dataclass
class BudgetAccount:
    tokens: int  # the budget
    seconds: float
    wave_size: int
    stages: dict[str, int] = field(default_factory=lambda: {s: 0 for s in STAGES})
    waves: list[dict[str, Any]] = field(default_factory=list)
    fresh: Yield = field(default_factory=Yield)
    repair: Yield = field(default_factory=Yield)
    stop: str = ""  # settled | budget | seconds | nothing left

    @property
    def spent(self) -> int:
        return sum(self.stages.values())

    def samples_left(self) -> int:
        per_sample = self.fresh.tokens / self.fresh.attempts if self.fresh.attempts else 0
        left = max(0, self.tokens - self.spent)
        if per_sample <= 0:
            return left  # nothing measured yet: never settle on a guess
        return math.ceil(left / per_sample)

    def wave_fits(self, wave_size: int, per_attempt: float) -> int:
        """Attempts the next wave holds: a full wave, or as many as the tokens left are expected to buy.

        A wave is paid before it is checked, so full waves overshot the budget by up to a wave
        (docs/benchmarks.md, issue 15: +24 % at 8,000 tokens). Rounding to the nearest count
        makes the expected spending the budget itself; 0 means the budget is spent.
        """
        if per_attempt <= 0:
            return wave_size  # nothing measured yet (the first wave): a full one
        left = max(0, self.tokens - self.spent)
        return min(wave_size, int(left / per_attempt + 0.5))

    def to_json(self) -> dict[str, Any]:
        return {
            "tokens": self.tokens,
            "seconds": self.seconds,
            "wave_size": self.wave_size,
            "spent": self.spent,
            "stages": dict(self.stages),
            "waves": len(self.waves),
            "wave_log": list(self.waves),
            "stop": self.stop,
            "fresh": asdict(self.fresh),
            "repair": asdict(self.repair),
        }


@dataclass
class _Behaviours:
    """Selection inputs, synthesized once, and each program's outcomes on them, run once."""

    inputs: list[SynthInput] | None = None
    outcomes: dict[str, list[RunOutcome]] = field(default_factory=dict)  # by program fingerprint


def _spend(ctx: RunContext, acct: BudgetAccount, stage: str, before: int) -> int:
    spent = ctx.completion_tokens - before
    acct.stages[stage] += spent
    return spent


def _runs(ctx: RunContext, cache: _Behaviours, survivors: list[Candidate], inputs: list[SynthInput]) -> dict[int, list[RunOutcome]]:
    """Each survivor's outcomes on the selection inputs; a program runs on them once per solve."""
    new = [c for c in survivors if program_fingerprint(c.code or "") not in cache.outcomes]
    ran = run_behaviour(ctx, new, inputs)
    for cand in new:
        cache.outcomes[program_fingerprint(cand.code or "")] = ran[cand.index]
    return {c.index: cache.outcomes[program_fingerprint(c.code or "")] for c in survivors}


def _contender_sizes(ctx: RunContext, acct: BudgetAccount, cache: _Behaviours, survivors: list[Candidate]) -> list[int]:
    """Sizes of the behaviours among the survivors that ``choose_by_behaviour`` would consider."""
    if len({program_fingerprint(c.code or "") for c in survivors}) == 1:
        return [len(survivors)]
    if cache.inputs is None:
        before = ctx.completion_tokens
        ctx.emit("select", f"{len(survivors)} candidates pass the public tests; writing inputs to tell them apart")
        # Synthesized (and searched for a minimal splitting input) once, on the survivors so far.
        cache.inputs = synthesize_validated_inputs(ctx, survivors)
        _spend(ctx, acct, "synthesize", before)
    inputs = cache.inputs
    if not inputs:
        return [len(survivors)]  # nothing to tell them apart: select_sstar takes them as one
    behaviour = _runs(ctx, cache, survivors, inputs)
    # The same table and rule choose_by_behaviour decides on.
    table = behaviour_table(survivors, inputs, behaviour, trust_unchecked=not ctx.config.validate_inputs)
    clusters = cluster(table, valid_inputs(table), agreement(ctx))
    fewest = min(cl.failures for cl in clusters)
    return [len(cl.members) for cl in clusters if cl.failures == fewest]


def _final_selection(ctx: RunContext, acct: BudgetAccount, cache: _Behaviours, candidates: list[Candidate]) -> Selection:
    survivors = [c for c in candidates if c.passes_public]
    if not survivors or len({program_fingerprint(c.code or "") for c in survivors}) == 1 or cache.inputs is None:
        return select_sstar(ctx, candidates)  # these paths synthesize nothing (or do it once, here)
    # The judge is paid from the same budget: as many pairs as the tokens left allow.
    # A pair costs at most both orders' reasoning plus their one-token forced answers (sstar.pipeline.judging).
    per_pair = 2 * (ctx.config.judge_reason_tokens + 1)
    pairs = min(ctx.config.max_judge_pairs, max(0, acct.tokens - acct.spent) // per_pair)
    config = ctx.config
    ctx.config = replace(config, max_judge_pairs=pairs)
    before = ctx.completion_tokens
    try:
        behaviour = _runs(ctx, cache, survivors, cache.inputs)  # already run, wave by wave
        return choose_by_behaviour(ctx, survivors, cache.inputs, use_judge=pairs > 0, behaviour=behaviour)
    finally:
        ctx.config = config
        _spend(ctx, acct, "judge", before)


def run_budgeted(ctx: RunContext) -> tuple[list[Candidate], Selection]:
    """Waves of samples (or of repairs, where they pay) until settled or spent; then S*'s selection."""
    cfg = ctx.config
    wave_size = cfg.wave_size or max(1, int(getattr(ctx.engine, "batch_size", 8)))
    acct = BudgetAccount(cfg.budget_tokens or DEFAULT_BUDGET_TOKENS, cfg.budget_seconds, wave_size)
    ctx.budget = acct.to_json()
    cache = _Behaviours()
    candidates: list[Candidate] = []
    repaired: set[int] = set()  # one repair per candidate: a second rarely pays (docs/benchmarks.md)
    next_index = 0
    while True:
        if acct.seconds and acct.waves and ctx.elapsed >= acct.seconds:  # one wave always: something to choose from
            acct.stop = "seconds"
            break
        if acct.spent >= acct.tokens:
            acct.stop = "budget"
            break
        near = [c for c in candidates if is_near_miss(c) and c.index not in repaired]
        before = ctx.completion_tokens
        per_sample = acct.fresh.tokens / acct.fresh.attempts if acct.fresh.attempts else 0.0
        repairing = bool(acct.waves and near and repair_pays(acct.fresh, acct.repair))
        # A repair's cost is its own measured mean, or a fresh sample's until one is measured.
        per_attempt = acct.repair.tokens / acct.repair.attempts if repairing and acct.repair.attempts else per_sample
        size = acct.wave_fits(wave_size, per_attempt)
        if size == 0:
            acct.stop = "budget"
            break
        if repairing:
            subset = sorted(near, key=lambda c: (-c.public_passed, c.index))[:size]
            repaired.update(c.index for c in subset)
            debug_candidates(ctx, subset, 1)
            spent = _spend(ctx, acct, "repair", before)
            gained = sum(c.passes_public for c in subset)
            acct.repair = Yield(acct.repair.tokens + spent, acct.repair.attempts + len(subset), acct.repair.passed + gained)
            kind, count = "repair", len(subset)
        else:
            new = generate_candidates(ctx, size, start_index=next_index)
            next_index += max(size, len(new))  # consecutive sample positions: the cache serves any wave sizes
            candidates.extend(new)
            ctx.candidates.extend(new)  # what Ctrl-C falls back on
            spent = _spend(ctx, acct, "generate", before)
            gained = sum(c.passes_public for c in new)
            acct.fresh = Yield(acct.fresh.tokens + spent, acct.fresh.attempts + len(new), acct.fresh.passed + gained)
            kind, count = "generate", len(new)
        survivors = [c for c in candidates if c.passes_public]
        synth_before = acct.stages["synthesize"]
        sizes = _contender_sizes(ctx, acct, cache, survivors) if survivors else []
        left = acct.samples_left()
        settled = is_settled(sizes, left)
        wave = {"step": kind, "programs": count, "passed": gained, "tokens": spent + acct.stages["synthesize"] - synth_before,
                "behaviours": sizes, "samples_left": left, "settled": settled}  # fmt: skip
        acct.waves.append(wave)
        if ctx.trace is not None:
            ctx.trace.event("budget_wave", wave=len(acct.waves), spent=acct.spent, budget=acct.tokens, **wave)
        ctx.emit("budget", f"wave {len(acct.waves)} ({kind}): {len(survivors)} pass, behaviours {sizes}, {acct.spent}/{acct.tokens} tokens", candidates)
        if settled:
            acct.stop = "settled"
            break
        if spent == 0:  # a wave that costs nothing never reaches the budget: another would loop forever
            acct.stop = "nothing left"
            break
        ctx.budget = acct.to_json()
    selection = _final_selection(ctx, acct, cache, candidates)
    ctx.budget = acct.to_json()
    if ctx.trace is not None:
        ctx.trace.event("budget", **ctx.budget)
    return candidates, selection
