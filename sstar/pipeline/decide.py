"""The selection rule as a pure function: a behaviour table and a judge in, a Decision out.

No sandbox, no engine, no RunContext: ``select.py`` runs the candidates and builds the
table, this module decides. That keeps the rule testable on its own (tests/test_decide.py
drives it with hypothesis) and lets another judge (or none) be plugged in.

The rule (unchanged from the one select.py applied inline):

1. An input on which no candidate runs is dropped (most likely invalid), and so is one the
   input validator rejected (``validated=False``): neither may split a cluster.
2. Candidates are clustered, lowest id first, by their outcomes on the remaining inputs
   (``same`` decides "agree"; the caller's checker lives there).
3. Failures first: a behaviour that crashes or times out on an input where another runs is
   out of the running while a behaviour with fewer such failures exists. Only inputs a usable
   validator passed (``checked``) count failures; on an unchecked input a careful program
   that crashes may have met a malformed input, so there a crash still tells behaviours
   apart but is no failure (a timeout on the max-size input is: "too slow" either way).
4. Support: among the rest, only behaviours with at least ``min_support`` times the members
   of the largest go before the judge; a clearly larger behaviour wins unjudged.
5. The judge sees cluster pairs among the first four, on the shortest input that separates
   them, both orders inside the judge callable; judging stops as soon as no behaviour can
   catch the leader with the pairs left. Most wins, then most members, then lowest id.

``confidence`` (docs/selection.md) turns the decision into one number in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Literal, Mapping, Optional, Protocol, Sequence

OK = "ok"  # RunStatus.OK's value
SANDBOX_ERROR = "se"  # RunStatus.SE's value: the sandbox failed, not the program


@dataclass(frozen=True)
class Outcome:
    """One candidate on one input: its status ("ok", "re", "tle", ...: RunStatus values) and what it printed."""

    status: str
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OK


@dataclass(frozen=True)
class InputInfo:
    name: str
    size: int = 0  # bytes of the input: the judge is shown the shortest separating one
    large: bool = False  # from the max-size generator
    validated: bool = True  # False: the input validator rejected it; it never splits a cluster
    # True: the input passed a usable validator (or needs none: a public input). A program
    # that crashes or times out on it fails. False (no usable validator): the input may be
    # malformed, and a careful program that crashes on it is not the wrong one (issue 15's
    # second traced miss): it still splits clusters (crashing is a behaviour; clustering must
    # stay transitive), but it is no failure, except a timeout on the max-size input (too
    # slow is still too slow).
    checked: bool = True


@dataclass(frozen=True)
class BehaviourTable:
    """Candidates x inputs -> outcome. ``outcomes[c][i]`` is candidate ``c`` on input ``i``."""

    candidates: tuple[int, ...]
    inputs: tuple[InputInfo, ...]
    outcomes: Mapping[int, Sequence[Outcome]]

    def __post_init__(self) -> None:
        for c in self.candidates:
            if len(self.outcomes[c]) != len(self.inputs):
                raise ValueError(f"candidate {c} has {len(self.outcomes[c])} outcomes for {len(self.inputs)} inputs")


@dataclass(frozen=True)
class ClusterResult:
    members: tuple[int, ...]  # candidate ids, lowest first
    outcomes: tuple[Outcome, ...]  # the representative's outcome per input
    failures: int = 0  # valid inputs where this behaviour failed while another ran
    wins: int = 0  # judged pairs won

    @property
    def representative(self) -> int:
        return self.members[0]


class Verdict(Protocol):
    """What a judge returns for one pair (sstar.pipeline.judging.PairVerdict has this shape)."""

    @property
    def winner(self) -> Optional[Literal["A", "B"]]: ...
    @property
    def p_a(self) -> Optional[float]: ...
    @property
    def calls(self) -> int: ...


@dataclass(frozen=True)
class PairVerdict:
    winner: Optional[Literal["A", "B"]]  # None: no verdict (the judge could not tell, or contradicted itself)
    p_a: Optional[float] = None  # the judge's probability that A is right, where it gives one
    answered: bool = True  # every call gave a parseable answer
    calls: int = 2  # model calls spent (both orders)


# judge(cluster_a, cluster_b, input_index) -> verdict on that pair
Judge = Callable[[ClusterResult, ClusterResult, int], Verdict]
Same = Callable[[Outcome, Outcome], bool]


@dataclass(frozen=True)
class JudgeOutcome:
    a: int  # cluster indices into Decision.clusters
    b: int
    input: int  # the separating input shown
    winner: Optional[int]  # a, b or None
    p_a: Optional[float] = None
    calls: int = 0


@dataclass(frozen=True)
class InputSplit:
    """A valid input on which the clusters' outcomes fall in two or more groups."""

    input: int
    groups: tuple[tuple[int, ...], ...]  # cluster indices that agree on it, one tuple per outcome


@dataclass(frozen=True)
class Decision:
    chosen: Optional[int]  # candidate id
    chosen_cluster: Optional[int]  # index into clusters
    clusters: tuple[ClusterResult, ...] = ()  # failures first, then most members, then lowest id
    valid: tuple[int, ...] = ()  # inputs that could split clusters
    splits: tuple[InputSplit, ...] = ()
    judged: tuple[JudgeOutcome, ...] = ()
    judge_calls: int = 0
    no_verdict: int = 0  # judge calls spent on pairs that ended without a winner
    confidence: float = 0.0

    @property
    def judge_record(self) -> tuple[int, int, int]:
        """(won, lost, no verdict): the judged pairs of the chosen cluster."""
        won = lost = none = 0
        for j in self.judged:
            if self.chosen_cluster not in (j.a, j.b):
                continue
            if j.winner is None:
                none += 1
            elif j.winner == self.chosen_cluster:
                won += 1
            else:
                lost += 1
        return won, lost, none


def _eq(a: Outcome, b: Outcome) -> bool:
    return a == b


def _agree(same: Same, a: Outcome, b: Outcome) -> bool:
    if not a.ok or not b.ok:
        return a.status == b.status
    return same(a, b)


def counts_as_failure(info: InputInfo, outcome: Outcome) -> bool:
    """A failure that counts against a program (see ``InputInfo.checked``)."""
    return not outcome.ok and (info.checked or (info.large and outcome.status == "tle"))


def valid_inputs(table: BehaviourTable) -> list[int]:
    """Inputs that may split clusters: validated, some candidate ran on them, and the sandbox
    gave every candidate a verdict there (a sandbox error says nothing about a program)."""
    return [
        i for i, info in enumerate(table.inputs)
        if info.validated
        and any(table.outcomes[c][i].ok for c in table.candidates)
        and not any(table.outcomes[c][i].status == SANDBOX_ERROR for c in table.candidates)
    ]  # fmt: skip


def cluster(table: BehaviourTable, valid: Sequence[int], same: Same = _eq) -> list[ClusterResult]:
    """Clusters in creation order (lowest id first); failures counted on ``valid``."""
    groups: list[tuple[list[int], tuple[Outcome, ...]]] = []
    for c in sorted(set(table.candidates)):
        outs = tuple(table.outcomes[c])
        for members, rep in groups:
            if all(_agree(same, rep[i], outs[i]) for i in valid):
                members.append(c)
                break
        else:
            groups.append(([c], outs))
    # ``valid`` holds only inputs some candidate ran on: a failure there is one "where another runs".
    return [ClusterResult(tuple(m), rep, failures=sum(counts_as_failure(table.inputs[i], rep[i]) for i in valid)) for m, rep in groups]


def splits_of(clusters: Sequence[ClusterResult], valid: Sequence[int], same: Same = _eq) -> list[InputSplit]:
    found = []
    for i in valid:
        groups: list[list[int]] = []
        for k, cl in enumerate(clusters):
            for g in groups:
                if _agree(same, clusters[g[0]].outcomes[i], cl.outcomes[i]):
                    g.append(k)
                    break
            else:
                groups.append([k])
        if len(groups) > 1:
            found.append(InputSplit(i, tuple(tuple(g) for g in groups)))
    return found


def _separating(a: ClusterResult, b: ClusterResult, valid: Sequence[int], table: BehaviourTable, same: Same) -> Optional[int]:
    """The shortest input on which both ran fine and printed different answers."""
    options = [i for i in valid if a.outcomes[i].ok and b.outcomes[i].ok and not same(a.outcomes[i], b.outcomes[i])]
    return min(options, key=lambda i: table.inputs[i].size, default=None)


def decide(
    table: BehaviourTable,
    same: Same = _eq,
    judge: Optional[Judge] = None,
    *,
    min_support: float = 0.5,
    max_pairs: int = 6,
    max_judged: int = 4,
) -> Decision:
    """S*'s choice among candidates that all pass the public tests (see the module doc).

    ``judge=None`` decides without a judge (failures, then support, then lowest id).
    """
    if not table.candidates:
        return Decision(None, None, confidence=0.0)
    valid = valid_inputs(table)
    made = cluster(table, valid, same)
    made.sort(key=lambda cl: (cl.failures, -len(cl.members), cl.representative))
    contenders = [k for k, cl in enumerate(made) if cl.failures == made[0].failures]
    # Agreement among independent samples is evidence the small judge cannot outweigh.
    need = min_support * len(made[contenders[0]].members)
    contenders = [k for k in contenders if len(made[k].members) >= need]
    wins = {k: 0 for k in range(len(made))}
    judged: list[JudgeOutcome] = []
    calls = no_verdict = 0
    if judge is not None and len(contenders) > 1:
        top = contenders[:max_judged]
        pairs = [(top[i], top[j]) for j in range(1, len(top)) for i in range(j)][:max_pairs]
        for n, (a, b) in enumerate(pairs):
            k = _separating(made[a], made[b], valid, table, same)
            if k is not None:
                verdict = judge(made[a], made[b], k)
                winner = a if verdict.winner == "A" else b if verdict.winner == "B" else None
                calls += verdict.calls
                if winner is None:
                    no_verdict += verdict.calls
                else:
                    wins[winner] += 1
                judged.append(JudgeOutcome(a, b, k, winner, verdict.p_a, verdict.calls))
            # Stop when no one can catch the leader with the pairs left.
            rest = pairs[n + 1 :]
            leader = max(top, key=lambda x: wins[x])  # first of equals: the earlier contender
            if all(wins[x] + sum(x in p for p in rest) < wins[leader] for x in top if x != leader):
                break
        contenders.sort(key=lambda x: (-wins[x], -len(made[x].members), made[x].representative))
    clusters = tuple(ClusterResult(cl.members, cl.outcomes, cl.failures, wins[k]) for k, cl in enumerate(made))
    chosen_cluster = contenders[0]
    decision = Decision(
        chosen=clusters[chosen_cluster].representative,
        chosen_cluster=chosen_cluster,
        clusters=clusters,
        valid=tuple(valid),
        splits=tuple(splits_of(clusters, valid, same)),
        judged=tuple(judged),
        judge_calls=calls,
        no_verdict=no_verdict,
    )
    return _with_confidence(decision, len(table.candidates), table)


def decide_majority(table: BehaviourTable, same: Same = _eq) -> Decision:
    """The majority baseline: the most common behaviour; one that fails everywhere is no vote."""
    if not table.candidates:
        return Decision(None, None)
    valid = valid_inputs(table)
    made = cluster(table, valid, same)
    voting = [k for k, cl in enumerate(made) if any(cl.outcomes[i].ok for i in valid)] or list(range(len(made)))
    chosen_cluster = min(voting, key=lambda k: (-len(made[k].members), made[k].representative))
    decision = Decision(
        chosen=made[chosen_cluster].representative,
        chosen_cluster=chosen_cluster,
        clusters=tuple(made),
        valid=tuple(valid),
        splits=tuple(splits_of(made, valid, same)),
    )
    return _with_confidence(decision, len(table.candidates), table)


def _with_confidence(decision: Decision, pool: int, table: BehaviourTable) -> Decision:
    assert decision.chosen_cluster is not None
    won, lost, none = decision.judge_record
    value = confidence(
        passing=pool,
        support=len(decision.clusters[decision.chosen_cluster].members),
        inputs_run=sum(table.inputs[i].checked for i in decision.valid),  # agreement on checked inputs only
        won=won,
        lost=lost,
        no_verdict=none,
    )
    return replace(decision, confidence=value)


# The weights below are the whole definition of confidence; docs/selection.md explains them.
FLOOR_PASSING = 0.2  # anything that passes every public test starts here
CAP_FAILING = 0.1  # nothing that passes every public test: at most this


def confidence(
    *,
    passing: int,
    support: int,
    inputs_run: int = 0,
    won: int = 0,
    lost: int = 0,
    no_verdict: int = 0,
    public_fraction: float = 1.0,
) -> float:
    """How settled a choice is, in [0, 1]; see docs/selection.md.

    passing: samples that pass every public test (the pool selection chose from);
    support: of those, how many share the chosen behaviour; inputs_run: validated inputs
    that could have split them; won/lost/no_verdict: the chosen behaviour's judged pairs;
    public_fraction: share of public tests the chosen program passes.

    - the chosen program fails a public test (or nothing passes): ``0.1 * public_fraction``;
    - otherwise ``0.2 + 0.8 * S * R * A * J`` with support ``S = support / passing``,
      convergence ``R = support / (support + 1)`` (one sample that found this behaviour: 0.5;
      many samples that found it independently: towards 1), agreement evidence
      ``A = (1 + inputs_run) / (2 + inputs_run)`` (0.5 untested, towards 1 as more inputs
      found no disagreement) and judge term ``J = (1 + won) / (1 + won + lost +
      no_verdict / 2)`` (1 when unjudged or only won).
    """
    if passing <= 0 or support <= 0 or public_fraction < 1.0:
        return round(CAP_FAILING * max(0.0, min(1.0, public_fraction)), 4)
    support = min(support, passing)
    s = support / passing
    # A lone public-passing sample was right in 9 of 54 recorded choices, 4 or more agreeing
    # samples in 9 of 12 (docs/selection.md): how many samples converged is evidence too.
    r = support / (support + 1)
    a = (1 + inputs_run) / (2 + inputs_run)
    j = (1 + won) / (1 + won + lost + no_verdict / 2)
    return round(FLOOR_PASSING + (1 - FLOOR_PASSING) * s * r * a * j, 4)
