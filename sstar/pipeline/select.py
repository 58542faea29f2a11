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

from dataclasses import dataclass, field
from typing import Literal, Sequence

from sstar.checking import parse_checker
from sstar.extract import program_fingerprint
from sstar.judge import run_inputs
from sstar.pipeline.context import Candidate, RunContext
from sstar.pipeline.decide import BehaviourTable, ClusterResult, Decision, InputInfo, Judge, Outcome, PairVerdict, Same, confidence, decide, decide_majority
from sstar.pipeline.inputs import SynthInput, handwritten_inputs, synthesize_validated_inputs
from sstar.pipeline.judging import judge_pair
from sstar.pipeline.types import DistinguishingTest
from sstar.problem import ProblemKind
from sstar.sandbox.base import RunOutcome, RunStatus

# A judge's graded verdict nearer even than this is a tie: the pair is left to support. Not
# measured yet: the 135M test model guesses at 0.47-0.53, a margin keeps such noise out.
JUDGE_MARGIN = 0.1


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


def agreement(ctx: RunContext) -> Same:
    """The problem's checker as the table's "agree" (both outcomes ran fine)."""
    checker = parse_checker("json" if ctx.problem.kind is ProblemKind.FUNCTION else _comparable(ctx.problem.checker))
    return lambda a, b: checker.check(a.output, b.output).ok


def _comparable(spec: str) -> str:
    # A custom validator needs a judge answer we do not have; tokens is the closest stand-in.
    return "tokens" if spec == "custom" else spec


def _outcome(o: RunOutcome) -> Outcome:
    return Outcome(o.status.value, o.stdout.decode("utf-8", "replace") if o.status is RunStatus.OK else "")


def behaviour_table(
    pool: Sequence[Candidate], inputs: Sequence[SynthInput], behaviour: dict[int, list[RunOutcome]], *, trust_unchecked: bool = False
) -> BehaviourTable:
    """The sandbox's outcomes as the pure decision's table (candidates x inputs).

    Every input here was accepted (rejected ones never reach the table). A failure counts
    against a program only on an input a usable validator passed (``SynthInput.validated``),
    or on every input with ``trust_unchecked`` (the majority baseline, which validates nothing).
    """
    return BehaviourTable(
        candidates=tuple(c.index for c in pool),
        inputs=tuple(InputInfo(s.name, len(s.text), s.large, True, s.validated or trust_unchecked) for s in inputs),
        outcomes={c.index: tuple(_outcome(o) for o in behaviour[c.index]) for c in pool},
    )


def llm_judge(ctx: RunContext, pool: Sequence[Candidate], inputs: Sequence[SynthInput], behaviour: dict[int, list[RunOutcome]]) -> Judge:
    """The model as ``decide``'s judge (sstar.pipeline.judging: reasoning, then a forced and
    graded A/B answer, both orders); a graded verdict within ``JUDGE_MARGIN`` of even is a tie."""
    by_index = {c.index: c for c in pool}
    pairs = 0

    def judge(a: ClusterResult, b: ClusterResult, k: int) -> PairVerdict:
        nonlocal pairs
        pairs += 1
        if pairs == 1:
            ctx.emit("select", "behaviours of comparable support differ; judging them pairwise")
        ra, rb = a.representative, b.representative
        verdict = judge_pair(ctx, inputs[k].text, by_index[ra].code or "", behaviour[ra][k], by_index[rb].code or "", behaviour[rb][k])
        p_a = verdict.p_a
        winner: Literal["A", "B"] | None = None
        if p_a is not None and abs(p_a - 0.5) >= JUDGE_MARGIN:
            winner = "A" if p_a > 0.5 else "B"
        if ctx.trace is not None:
            ctx.trace.event("judge", pair=[ra, rb], input=inputs[k].name, p_a=p_a, winner=None if winner is None else (ra if winner == "A" else rb))
        return PairVerdict(winner, p_a, answered=verdict.answered, calls=verdict.calls)

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
    inputs = synthesize_validated_inputs(ctx, survivors)
    return choose_by_behaviour(ctx, survivors, inputs, use_judge=True)


def choose_by_behaviour(
    ctx: RunContext, pool: Sequence[Candidate], inputs: list[SynthInput], *, use_judge: bool,
    behaviour: dict[int, list[RunOutcome]] | None = None,
) -> Selection:
    """Run ``pool`` on ``inputs`` (unless ``behaviour`` holds those runs already), then let
    ``decide`` choose (the model judges when ``use_judge``)."""
    if not inputs:
        return single_choice(pool[0], pool)
    if behaviour is None:
        behaviour = run_behaviour(ctx, pool, inputs)
    # Validation switched off: nothing is checked, so every input counts failures as before.
    table = behaviour_table(pool, inputs, behaviour, trust_unchecked=not ctx.config.validate_inputs)
    cfg = ctx.config
    judge = llm_judge(ctx, pool, inputs, behaviour) if use_judge else None
    decision = decide(table, agreement(ctx), judge, min_support=cfg.judge_min_support, max_pairs=cfg.max_judge_pairs)
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
    inputs = handwritten_inputs(ctx)
    inputs += [SynthInput(f"public-{t.name}", t.input, validated=True) for t in ctx.problem.public_tests]
    behaviour = run_behaviour(ctx, pool, inputs)
    decision = decide_majority(behaviour_table(pool, inputs, behaviour, trust_unchecked=True), agreement(ctx))
    selection = _selection(ctx, pool, inputs, behaviour, decision)
    # Majority never looks at public verdicts: a choice that fails one is not settled.
    chosen = selection.chosen
    if chosen is not None and not chosen.passes_public:
        selection.confidence = single_choice(chosen).confidence
    return selection
