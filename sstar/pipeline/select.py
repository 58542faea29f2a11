"""Stage 3: choose one program among the candidates, by behaviour on synthesized inputs.

S* compares every pair of samples across disagreeing groups with the judge model. sstar
spends less: candidates are clustered by their outputs, only cluster representatives
are compared, the separating input is one we already ran (no new generation per pair),
judging stops as soon as no other cluster can catch the leader, and a behaviour shared by
clearly more samples than another wins without judging (``judge_min_support``): the judge
here is the same small model, not the paper's stronger one.

This module does the work with the sandbox and the model (inputs, runs, the judge's
prompts); the rule itself is the pure ``decide.decide`` over the behaviour table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Literal, Sequence

from sstar.checking import parse_checker
from sstar.engine.base import Request
from sstar.extract import extract_code, prepend_statements, program_fingerprint
from sstar.judge import run_inputs
from sstar.pipeline.context import Candidate, RunContext
from sstar.pipeline.decide import BehaviourTable, ClusterResult, Decision, InputInfo, Judge, Outcome, PairVerdict, Same, confidence, decide, decide_majority
from sstar.pipeline.prompts import generator_messages, input_synthesis_messages, judge_messages, random_input_messages
from sstar.pipeline.types import DistinguishingTest
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
    validated: bool = True  # False: an input validator rejected it (it then splits no cluster)


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
    confidence: float = 0.0  # how settled the choice is, 0..1 (docs/selection.md)
    decision: Decision | None = None  # the pure decision behind it, when there was one to make
    tests: list[DistinguishingTest] = field(default_factory=list)  # what --export-tests writes


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


def _same(ctx: RunContext) -> Same:
    """The problem's checker as the table's "agree" (both outcomes ran fine)."""
    checker = parse_checker("json" if ctx.problem.kind is ProblemKind.FUNCTION else _comparable(ctx.problem.checker))
    return lambda a, b: checker.check(a.output, b.output).ok


def _comparable(spec: str) -> str:
    # A custom validator needs a judge answer we do not have; tokens is the closest stand-in.
    return "tokens" if spec == "custom" else spec


def _outcome(o: RunOutcome) -> Outcome:
    return Outcome(o.status.value, o.stdout.decode("utf-8", "replace") if o.status is RunStatus.OK else "")


def behaviour_table(pool: Sequence[Candidate], inputs: Sequence[SynthInput], behaviour: dict[int, list[RunOutcome]]) -> BehaviourTable:
    """The sandbox's outcomes as the pure decision's table (candidates x inputs)."""
    return BehaviourTable(
        candidates=tuple(c.index for c in pool),
        inputs=tuple(InputInfo(s.name, len(s.text), s.large, s.validated) for s in inputs),
        outcomes={c.index: tuple(_outcome(o) for o in behaviour[c.index]) for c in pool},
    )


def parse_answer(text: str) -> str | None:
    """The model's final 'Answer: A|B' (the last one wins: models revise themselves)."""
    found = _ANSWER.findall(text)
    return found[-1].upper() if found else None


def llm_judge(ctx: RunContext, pool: Sequence[Candidate], inputs: Sequence[SynthInput], behaviour: dict[int, list[RunOutcome]]) -> Judge:
    """The model as ``decide``'s judge: one pair, both orders; a winner only when both agree."""
    by_index = {c.index: c for c in pool}
    pairs = 0

    def judge(a: ClusterResult, b: ClusterResult, k: int) -> PairVerdict:
        nonlocal pairs
        pairs += 1
        if pairs == 1:
            ctx.emit("select", "behaviours of comparable support differ; judging them pairwise")
        ra, rb = a.representative, b.representative
        ca, cb = by_index[ra].code or "", by_index[rb].code or ""
        oa, ob = behaviour[ra][k], behaviour[rb][k]
        params = ctx.params(temperature=0.0, max_tokens=400)
        requests = [
            Request(tuple(judge_messages(ctx.problem, inputs[k].text, ca, oa, cb, ob, ctx.language)), 1, params),
            Request(tuple(judge_messages(ctx.problem, inputs[k].text, cb, ob, ca, oa, ctx.language)), 1, params),
        ]
        replies = ctx.generate(requests, "judge")
        first, second = parse_answer(replies[0][0].text), parse_answer(replies[1][0].text)
        # Order swapped in the second prompt: "A" there means b. Count only agreement.
        winner: Literal["A", "B"] | None = "A" if (first, second) == ("A", "B") else "B" if (first, second) == ("B", "A") else None
        if ctx.trace is not None:
            ctx.trace.event("judge", pair=[ra, rb], input=inputs[k].name, answers=[first, second], winner=None if winner is None else (ra if winner == "A" else rb))
        return PairVerdict(winner, None, answered=first is not None and second is not None, calls=len(requests))

    return judge


def single_choice(chosen: Candidate | None, pool: Sequence[Candidate] = ()) -> Selection:
    """A choice made without selection (zero-shot, self-debug, or nothing passes): its confidence
    says only whether it passes the public tests (docs/selection.md)."""
    if chosen is None:
        return Selection(None)
    passing = [c for c in pool if c.passes_public] if pool else ([chosen] if chosen.passes_public else [])
    total = chosen.public.total if chosen.public else 0
    fraction = chosen.public_passed / total if total else (1.0 if chosen.passes_public else 0.0)
    if not chosen.passes_public:
        return Selection(chosen, confidence=confidence(passing=0, support=0, public_fraction=fraction))
    # Several identical survivors are one behaviour with every survivor's support, untested.
    return Selection(chosen, [Cluster(list(passing), [])], confidence=confidence(passing=len(passing), support=len(passing)))


def select_sstar(ctx: RunContext, candidates: Sequence[Candidate]) -> Selection:
    with_code = [c for c in candidates if c.code is not None]
    survivors = [c for c in with_code if c.passes_public]
    if not survivors:
        # Nothing passes: the program (any version of any candidate) that passes most public tests.
        versions = [v for c in candidates if (v := c.best_version()) is not None]
        best = max(versions, key=lambda c: (c.public_passed, -c.index), default=None)
        ctx.emit("select", "no candidate passes every public test; taking the one that passes most")
        return single_choice(best)
    if len({program_fingerprint(c.code or "") for c in survivors}) == 1:
        return single_choice(survivors[0], survivors)
    ctx.emit("select", f"{len(survivors)} candidates pass the public tests; writing inputs to tell them apart")
    inputs = synthesize_inputs(ctx)
    return choose_by_behaviour(ctx, survivors, inputs, use_judge=True)


def choose_by_behaviour(ctx: RunContext, pool: Sequence[Candidate], inputs: list[SynthInput], *, use_judge: bool) -> Selection:
    """Run ``pool`` on ``inputs``, then let ``decide`` choose (the model judges when ``use_judge``)."""
    if not inputs:
        return single_choice(pool[0], pool)
    behaviour = run_behaviour(ctx, pool, inputs)
    table = behaviour_table(pool, inputs, behaviour)
    cfg = ctx.config
    judge = llm_judge(ctx, pool, inputs, behaviour) if use_judge else None
    decision = decide(table, _same(ctx), judge, min_support=cfg.judge_min_support, max_pairs=cfg.max_judge_pairs)
    ctx.judge_calls += decision.judge_calls
    selection = _selection(ctx, pool, inputs, behaviour, decision)
    n = len(decision.clusters)
    assert selection.chosen is not None
    ctx.emit("select", f"chose candidate {selection.chosen.index} from {n} behaviour cluster{'s' * (n != 1)} (confidence {decision.confidence:.2f})")
    return selection


def _selection(ctx: RunContext, pool: Sequence[Candidate], inputs: Sequence[SynthInput], behaviour: dict[int, list[RunOutcome]], decision: Decision) -> Selection:
    """The Decision in terms of candidates, with its trace event and its exported tests."""
    by_index = {c.index: c for c in pool}
    clusters = [Cluster([by_index[m] for m in cl.members], behaviour[cl.representative], cl.failures, cl.wins) for cl in decision.clusters]
    chosen = by_index[decision.chosen] if decision.chosen is not None else None
    tests = distinguishing_tests(decision, inputs, behaviour)
    if ctx.trace is not None:
        ctx.trace.event(
            "clusters",
            valid_inputs=[inputs[i].name for i in decision.valid],
            clusters=[
                {"members": [c.index for c in cl.members], "failures": cl.failures, "wins": cl.wins,
                 "outputs": {inputs[i].name: (o.stdout.decode("utf-8", "replace")[:300] if o.status is RunStatus.OK else o.status.value) for i, o in enumerate(cl.outcomes)}}
                for cl in clusters
            ],
            splits={inputs[s.input].name: [[clusters[k].representative.index for k in g] for g in s.groups] for s in decision.splits},
            chosen=None if chosen is None else chosen.index,
            confidence=decision.confidence,
            judge_no_verdict=decision.no_verdict,
        )  # fmt: skip
    return Selection(chosen, clusters, list(inputs), decision.judge_calls, decision.confidence, decision, tests)


def distinguishing_tests(decision: Decision, inputs: Sequence[SynthInput], behaviour: dict[int, list[RunOutcome]]) -> list[DistinguishingTest]:
    """The inputs that split behaviours, where the chosen program ran fine, with its outputs;
    when none split, every valid input it ran fine on (they still pin its behaviour down)."""
    if decision.chosen is None or decision.chosen_cluster is None:
        return []
    mine = behaviour[decision.chosen]

    def groups(i: int) -> list[list[int]]:
        split = next((s for s in decision.splits if s.input == i), None)
        parts = [list(g) for g in split.groups] if split else [list(range(len(decision.clusters)))]
        parts.sort(key=lambda g: decision.chosen_cluster not in g)  # the chosen program's group first
        return [sorted(m for k in g for m in decision.clusters[k].members) for g in parts]

    chosen_ok = [i for i in decision.valid if mine[i].status is RunStatus.OK]
    picked = [s.input for s in decision.splits if mine[s.input].status is RunStatus.OK] or chosen_ok
    return [DistinguishingTest(inputs[i].name, inputs[i].text, mine[i].stdout.decode("utf-8", "replace"), groups(i)) for i in sorted(picked)]


def select_majority(ctx: RunContext, candidates: Sequence[Candidate]) -> Selection:
    """The majority baseline: most common behaviour on synthesized and public inputs, no judge."""
    pool = [c for c in candidates if c.code is not None]
    if not pool:
        return Selection(None)
    if len(pool) == 1:
        return single_choice(pool[0], pool)
    inputs = synthesize_inputs(ctx, with_generator=False)
    inputs += [SynthInput(f"public-{t.name}", t.input) for t in ctx.problem.public_tests]
    behaviour = run_behaviour(ctx, pool, inputs)
    decision = decide_majority(behaviour_table(pool, inputs, behaviour), _same(ctx))
    selection = _selection(ctx, pool, inputs, behaviour, decision)
    # Majority never looks at public verdicts: a choice that fails one is not settled.
    chosen = selection.chosen
    if chosen is not None and not chosen.passes_public:
        selection.confidence = single_choice(chosen).confidence
    return selection
