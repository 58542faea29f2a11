"""Stage 3: choose one program among the candidates, by behaviour on synthesized inputs.

S* compares every pair of samples across disagreeing groups with the judge model. sstar
spends less: candidates are clustered by their outputs, only cluster representatives
are compared, the separating input is one we already ran (no new generation per pair),
judging stops as soon as no other cluster can catch the leader, and a behaviour shared by
clearly more samples than another wins without judging (``judge_min_support``): the judge
here is the same small model, not the paper's stronger one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Sequence

from sstar.checking import parse_checker
from sstar.engine.base import Request
from sstar.extract import extract_code, prepend_statements, program_fingerprint
from sstar.judge import run_inputs
from sstar.pipeline.context import Candidate, RunContext
from sstar.pipeline.prompts import generator_messages, input_synthesis_messages, judge_messages, random_input_messages
from sstar.problem import ProblemKind
from sstar.sandbox.base import Limits, RunOutcome, RunStatus

# A generated maximum-size input may be big, but not unboundedly so.
GENERATOR_LIMITS = Limits(time_s=10.0, memory_mb=1024, output_bytes=8 * 1024 * 1024)
# A small random input is small: one that is not is not what was asked for.
RANDOM_INPUT_LIMITS = Limits(time_s=5.0, memory_mb=256, output_bytes=64 * 1024)
_FENCE = re.compile(r"```[^\n`]*\n(.*?)```", re.DOTALL)
_ANSWER = re.compile(r"answer\s*[:：]?\s*\**\s*(?:program\s+)?\(?([AB])\b", re.IGNORECASE)


@dataclass
class SynthInput:
    name: str
    text: str
    large: bool = False  # from the max-size generator: failing it means "too slow"


@dataclass
class Cluster:
    members: list[Candidate]
    outcomes: list[RunOutcome]  # the representative's outcome per input
    failures: int = 0  # inputs where this behaviour crashed or timed out while another did not
    wins: int = 0

    @property
    def representative(self) -> Candidate:
        return self.members[0]  # lowest index first: the greedy candidate when it is here


@dataclass
class Selection:
    chosen: Candidate | None
    clusters: list[Cluster] = field(default_factory=list)
    inputs: list[SynthInput] = field(default_factory=list)
    judge_calls: int = 0


def _parse_inputs(ctx: RunContext, reply: str, limit: int) -> list[str]:
    blocks = [b for b in _FENCE.findall(reply)]
    found: list[str] = []
    for block in blocks:
        text = block.strip("\n")
        if not text.strip():
            continue
        if ctx.problem.kind is ProblemKind.FUNCTION:
            try:  # an argument list must be a JSON array
                value = json.loads(text)
            except ValueError:
                continue
            text = json.dumps(value if isinstance(value, list) else [value])
        else:
            text = text + "\n"
        if text not in found:
            found.append(text)
    return found[:limit]


def synthesize_inputs(ctx: RunContext, with_generator: bool = True) -> list[SynthInput]:
    """Inputs to tell candidates apart, from three requests sent as one batch.

    - a few small tricky inputs written by the model;
    - a generator of one maximum-size input (catches candidates too slow for the limits);
    - a generator of one small random input, run with ``num_random_inputs`` seeds: the
      model's hand-written few are often near-trivial (``4 4``, ``4 5``, ...), and random
      small cases reach the ones a wrong program fails.

    Inputs identical to public ones, or to each other, are dropped: there every candidate in
    the running already agrees.
    """
    k = ctx.config.num_inputs
    requests = [Request(tuple(input_synthesis_messages(ctx.problem, k)), 1, ctx.params(temperature=0.4, max_tokens=700, seed_offset=7))]
    if with_generator:
        requests.append(Request(tuple(generator_messages(ctx.problem)), 1, ctx.params(temperature=0.0, max_tokens=600, code=True)))
        if ctx.config.num_random_inputs > 0:
            requests.append(Request(tuple(random_input_messages(ctx.problem)), 1, ctx.params(temperature=0.0, max_tokens=600, code=True)))
    replies = ctx.generate(requests, "synthesize")
    seen = {t.input.strip() for t in ctx.problem.public_tests}
    inputs: list[SynthInput] = []

    def add(name: str, text: str, large: bool = False) -> None:
        if text.strip() and text.strip() not in seen:
            seen.add(text.strip())
            inputs.append(SynthInput(name, text if text.endswith("\n") else text + "\n", large))

    for i, text in enumerate(_parse_inputs(ctx, replies[0][0].text, k)):
        add(f"synth-{i + 1}", text)
    if with_generator:
        code = extract_code(replies[1][0].text)
        if code is not None:
            (text,) = _generated_inputs(ctx, code, GENERATOR_LIMITS, "generator")
            if text is not None:
                add("large", text, large=True)
        if len(replies) > 2 and (code := extract_code(replies[2][0].text)) is not None:
            seeds = [ctx.config.seed * 1000 + i for i in range(1, ctx.config.num_random_inputs + 1)]
            for i, text in enumerate(_generated_inputs(ctx, code, RANDOM_INPUT_LIMITS, "random_generator", seeds)):
                if text is not None:
                    add(f"random-{i + 1}", text)
    if ctx.trace is not None:
        ctx.trace.event("synthesized_inputs", inputs=[{"name": s.name, "large": s.large, "input": s.text[:4000], "bytes": len(s.text)} for s in inputs])
    return inputs


# Run before a seeded generator: the seed comes on stdin, so one sandbox call runs every seed
# and the model's code needs no seed handling of its own.
_SEED_FROM_STDIN = "import random as _sstar_random, sys as _sstar_sys; _sstar_random.seed(int(_sstar_sys.stdin.readline()))"


def _generated_inputs(ctx: RunContext, code: str, limits: Limits, event: str, seeds: Sequence[int] | None = None) -> list[str | None]:
    """What a model-written input generator prints: once, or once per seed; None where a run failed.

    The generator is a plain stdio program, even for function-call problems.
    """
    stdins = [""] if seeds is None else [f"{seed}\n" for seed in seeds]
    program = code if seeds is None else prepend_statements(code, [_SEED_FROM_STDIN])
    if program is None:  # does not parse: every run would fail
        return [None] * len(stdins)
    stdio = replace(ctx.problem, kind=ProblemKind.STDIO, function=None)
    outcomes = run_inputs(program, stdio, ctx.sandbox, stdins, limits)
    texts = [o.stdout.decode("utf-8", "replace") if o.status is RunStatus.OK else "" for o in outcomes]
    if ctx.trace is not None:
        runs = [{"seed": seed, "status": o.status, "bytes": len(o.stdout), "stderr": o.stderr_tail} for seed, o in zip(seeds or [None], outcomes)]
        ctx.trace.event(event, program=code, runs=runs)
    return [text if text.strip() else None for text in texts]


def run_behaviour(ctx: RunContext, candidates: Sequence[Candidate], inputs: Sequence[SynthInput]) -> dict[int, list[RunOutcome]]:
    """Every candidate on every input; identical programs run once."""
    by_code: dict[str, list[RunOutcome]] = {}
    result: dict[int, list[RunOutcome]] = {}
    texts = [s.text for s in inputs]
    for cand in candidates:
        assert cand.code is not None
        key = program_fingerprint(cand.code)
        if key not in by_code:
            by_code[key] = run_inputs(ctx.program(cand.code), ctx.problem, ctx.sandbox, texts, ctx.limits)
        result[cand.index] = by_code[key]
    return result


def _same(ctx: RunContext, a: RunOutcome, b: RunOutcome) -> bool:
    if a.status is not RunStatus.OK or b.status is not RunStatus.OK:
        return a.status == b.status
    checker = parse_checker("json" if ctx.problem.kind is ProblemKind.FUNCTION else _comparable(ctx.problem.checker))
    return checker.check(a.stdout.decode("utf-8", "replace"), b.stdout.decode("utf-8", "replace")).ok


def _comparable(spec: str) -> str:
    # A custom validator needs a judge answer we do not have; tokens is the closest stand-in.
    return "tokens" if spec == "custom" else spec


def cluster_candidates(ctx: RunContext, candidates: Sequence[Candidate], behaviour: dict[int, list[RunOutcome]], valid: Sequence[int]) -> list[Cluster]:
    """Group candidates whose outcomes agree on every valid input (the checker decides 'agree')."""
    clusters: list[Cluster] = []
    for cand in sorted(candidates, key=lambda c: c.index):
        outs = behaviour[cand.index]
        for cl in clusters:
            if all(_same(ctx, cl.outcomes[i], outs[i]) for i in valid):
                cl.members.append(cand)
                break
        else:
            clusters.append(Cluster([cand], outs))
    for cl in clusters:
        cl.failures = sum(
            cl.outcomes[i].status is not RunStatus.OK and any(behaviour[c.index][i].status is RunStatus.OK for c in candidates)
            for i in valid
        )
    return clusters


def _separating_input(ctx: RunContext, a: Cluster, b: Cluster, valid: Sequence[int], inputs: Sequence[SynthInput]) -> int | None:
    """The shortest input on which both ran fine and printed different answers."""
    options = [
        i for i in valid
        if a.outcomes[i].status is RunStatus.OK and b.outcomes[i].status is RunStatus.OK and not _same(ctx, a.outcomes[i], b.outcomes[i])
    ]
    return min(options, key=lambda i: len(inputs[i].text), default=None)


def parse_answer(text: str) -> str | None:
    """The model's final 'Answer: A|B' (the last one wins: models revise themselves)."""
    found = _ANSWER.findall(text)
    return found[-1].upper() if found else None


def judge_pairs(ctx: RunContext, contenders: list[Cluster], inputs: Sequence[SynthInput], valid: Sequence[int]) -> int:
    """Pairwise judgement of cluster representatives, both orders, stopping early. Returns judge calls."""
    top = contenders[:4]
    pairs = [(i, j) for j in range(1, len(top)) for i in range(j)][: ctx.config.max_judge_pairs]
    calls = 0
    remaining = list(pairs)
    while remaining:
        chunk, remaining = remaining[:3], remaining[3:]
        requests, meta = [], []
        for i, j in chunk:
            a, b = top[i], top[j]
            k = _separating_input(ctx, a, b, valid, inputs)
            if k is None:
                continue
            ca, cb = a.representative.code or "", b.representative.code or ""
            oa, ob = a.outcomes[k], b.outcomes[k]
            requests.append(Request(tuple(judge_messages(ctx.problem, inputs[k].text, ca, oa, cb, ob, ctx.language)), 1, ctx.params(temperature=0.0, max_tokens=400)))
            requests.append(Request(tuple(judge_messages(ctx.problem, inputs[k].text, cb, ob, ca, oa, ctx.language)), 1, ctx.params(temperature=0.0, max_tokens=400)))
            meta.append((i, j, k))
        if not requests:
            continue
        replies = ctx.generate(requests, "judge")
        calls += len(requests)
        for n, (i, j, k) in enumerate(meta):
            first, second = parse_answer(replies[2 * n][0].text), parse_answer(replies[2 * n + 1][0].text)
            # Order swapped in the second prompt: "A" there means cluster j. Count only agreement.
            winner = i if (first, second) == ("A", "B") else j if (first, second) == ("B", "A") else None
            if winner is not None:
                top[winner].wins += 1
            if ctx.trace is not None:
                ctx.trace.event("judge", pair=[top[i].representative.index, top[j].representative.index], input=inputs[k].name, answers=[first, second], winner=None if winner is None else top[winner].representative.index)
        # Stop when no one can catch the leader with the pairs left.
        left = {x: sum(x in p for p in remaining) for x in range(len(top))}
        leader = max(range(len(top)), key=lambda x: top[x].wins)
        if all(top[x].wins + left[x] < top[leader].wins for x in range(len(top)) if x != leader):
            break
    return calls


def select_sstar(ctx: RunContext, candidates: Sequence[Candidate]) -> Selection:
    with_code = [c for c in candidates if c.code is not None]
    survivors = [c for c in with_code if c.passes_public]
    if not survivors:
        # Nothing passes: the program (any version of any candidate) that passes most public tests.
        versions = [v for c in candidates if (v := c.best_version()) is not None]
        best = max(versions, key=lambda c: (c.public_passed, -c.index), default=None)
        ctx.emit("select", "no candidate passes every public test; taking the one that passes most")
        return Selection(best)
    if len({program_fingerprint(c.code or "") for c in survivors}) == 1:
        return Selection(survivors[0], [Cluster(list(survivors), [])])
    ctx.emit("select", f"{len(survivors)} candidates pass the public tests; writing inputs to tell them apart")
    inputs = synthesize_inputs(ctx)
    return choose_by_behaviour(ctx, survivors, inputs, use_judge=True)


def choose_by_behaviour(ctx: RunContext, pool: Sequence[Candidate], inputs: list[SynthInput], *, use_judge: bool) -> Selection:
    if not inputs:
        return Selection(pool[0], [Cluster(list(pool), [])])
    behaviour = run_behaviour(ctx, pool, inputs)
    # An input on which nothing runs is most likely invalid: drop it.
    valid = [i for i in range(len(inputs)) if any(behaviour[c.index][i].status is RunStatus.OK for c in pool)]
    clusters = cluster_candidates(ctx, pool, behaviour, valid)
    clusters.sort(key=lambda cl: (cl.failures, -len(cl.members), cl.representative.index))
    best_failures = clusters[0].failures
    contenders = [cl for cl in clusters if cl.failures == best_failures]
    # Agreement among independent samples is evidence the small judge cannot outweigh:
    # only behaviours with comparable support are judged (contenders[0] is the largest).
    support = ctx.config.judge_min_support * len(contenders[0].members)
    contenders = [cl for cl in contenders if len(cl.members) >= support]
    calls = 0
    if use_judge and len(contenders) > 1:
        ctx.emit("select", f"{len(clusters)} behaviours; judging {min(len(contenders), 4)} of them pairwise")
        calls = judge_pairs(ctx, contenders, inputs, valid)
        ctx.judge_calls += calls
        contenders.sort(key=lambda cl: (-cl.wins, -len(cl.members), cl.representative.index))
    if ctx.trace is not None:
        ctx.trace.event(
            "clusters",
            valid_inputs=[inputs[i].name for i in valid],
            clusters=[
                {"members": [c.index for c in cl.members], "failures": cl.failures, "wins": cl.wins,
                 "outputs": {inputs[i].name: (o.stdout.decode("utf-8", "replace")[:300] if o.status is RunStatus.OK else o.status.value) for i, o in enumerate(cl.outcomes)}}
                for cl in clusters
            ],
        )
    chosen = contenders[0].representative
    ctx.emit("select", f"chose candidate {chosen.index} from {len(clusters)} behaviour cluster{'s' * (len(clusters) != 1)}")
    return Selection(chosen, clusters, inputs, calls)


def select_majority(ctx: RunContext, candidates: Sequence[Candidate]) -> Selection:
    """The majority baseline: most common behaviour on synthesized and public inputs, no judge."""
    pool = [c for c in candidates if c.code is not None]
    if not pool:
        return Selection(None)
    if len(pool) == 1:
        return Selection(pool[0], [Cluster(list(pool), [])])
    inputs = synthesize_inputs(ctx, with_generator=False)
    inputs += [SynthInput(f"public-{t.name}", t.input) for t in ctx.problem.public_tests]
    behaviour = run_behaviour(ctx, pool, inputs)
    valid = [i for i in range(len(inputs)) if any(behaviour[c.index][i].status is RunStatus.OK for c in pool)]
    clusters = cluster_candidates(ctx, pool, behaviour, valid)
    # A behaviour that crashes everywhere is no vote.
    voting = [cl for cl in clusters if any(cl.outcomes[i].status is RunStatus.OK for i in valid)] or clusters
    voting.sort(key=lambda cl: (-len(cl.members), cl.representative.index))
    return Selection(voting[0].representative, clusters, inputs)
