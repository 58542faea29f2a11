"""The selection rule on its own (sstar/pipeline/decide.py): no sandbox, no model, hypothesis.

Tables are drawn as a few behaviours (one outcome per input each) shared by candidates; the
judge is a pure function of the two behaviours it is shown, so any verdict it gives is one
a real judge could give for those programs.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sstar.pipeline.decide import (
    BehaviourTable,
    ClusterResult,
    Decision,
    InputInfo,
    Outcome,
    PairVerdict,
    confidence,
    decide,
    decide_majority,
)

OUTCOMES = st.one_of(
    st.sampled_from(["0", "1", "2"]).map(lambda out: Outcome("ok", out)),
    st.sampled_from(["re", "tle"]).map(Outcome),
)


@st.composite
def tables(draw, min_candidates: int = 1, max_candidates: int = 8, max_behaviours: int = 4):
    """(table, behaviour of each candidate) with up to ``max_behaviours`` distinct rows."""
    n_inputs = draw(st.integers(0, 5))
    rows = draw(st.lists(st.tuples(*[OUTCOMES] * n_inputs), min_size=1, max_size=max_behaviours))
    n = draw(st.integers(min_candidates, max_candidates))
    ids = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n, unique=True))
    which = {c: draw(st.integers(0, len(rows) - 1)) for c in ids}
    inputs = tuple(InputInfo(f"in-{i}", size=draw(st.integers(1, 50)), validated=draw(st.booleans() | st.just(True))) for i in range(n_inputs))
    return BehaviourTable(tuple(ids), inputs, {c: rows[which[c]] for c in ids})


def abstain(a: ClusterResult, b: ClusterResult, k: int) -> PairVerdict:
    return PairVerdict(None, answered=False)


def ranked(rank: dict) -> object:
    """A judge that prefers the behaviour ranked higher (by its outcomes); unranked: no verdict."""

    def judge(a: ClusterResult, b: ClusterResult, k: int) -> PairVerdict:
        ra, rb = rank.get(a.outcomes), rank.get(b.outcomes)
        if ra is None or rb is None or ra == rb:
            return PairVerdict(None)
        return PairVerdict("A" if ra > rb else "B")

    return judge


@st.composite
def judges(draw, table: BehaviourTable):
    """Abstaining, a consistent ranking of the table's behaviours, or any pure pair verdict."""
    behaviours = sorted({tuple(o) for o in table.outcomes.values()}, key=repr)
    kind = draw(st.sampled_from(["abstain", "ranked", "arbitrary"]))
    if kind == "abstain":
        return abstain
    if kind == "ranked":
        return ranked({b: draw(st.integers(0, 3)) for b in behaviours})
    # Any winner per pair of behaviours, the same whichever is shown first (the judge
    # callable asks both orders itself), cycles allowed.
    winners = {(x, y): draw(st.sampled_from([x, y, None])) for i, x in enumerate(behaviours) for y in behaviours[i:]}

    def judge(a: ClusterResult, b: ClusterResult, k: int) -> PairVerdict:
        w = winners.get((a.outcomes, b.outcomes), winners.get((b.outcomes, a.outcomes)))
        return PairVerdict(None if w is None or a.outcomes == b.outcomes else "A" if w == a.outcomes else "B")

    return judge


def chosen_behaviour(table: BehaviourTable, d: Decision):
    """The chosen program's outcomes on the inputs that count (rejected ones say nothing)."""
    return None if d.chosen is None else tuple(table.outcomes[d.chosen][i] for i in d.valid)


def shuffled(table: BehaviourTable, order: list[int]) -> BehaviourTable:
    return BehaviourTable(tuple(order), table.inputs, {c: table.outcomes[c] for c in reversed(order)})


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_order_candidates_are_listed_in_changes_nothing(data):
    table = data.draw(tables())
    judge = data.draw(judges(table))
    order = data.draw(st.permutations(table.candidates))
    assert decide(shuffled(table, list(order)), judge=judge) == decide(table, judge=judge)
    assert decide_majority(shuffled(table, list(order))) == decide_majority(table)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_renumbering_candidates_keeps_the_chosen_behaviour(data):
    # Ids only break ties; with behaviours of distinct support and a judge that ranks them
    # consistently (or abstains), the chosen behaviour cannot depend on them. Every input is
    # validated here: the ranking judge ranks whole rows, and on a rejected input members of
    # one cluster may differ, so which member represents it would change the ranking.
    drawn = data.draw(tables())
    table = BehaviourTable(drawn.candidates, tuple(replace(i, validated=True) for i in drawn.inputs), drawn.outcomes)
    judge = data.draw(st.sampled_from([abstain, None]))
    if data.draw(st.booleans()):
        behaviours = sorted({tuple(o) for o in table.outcomes.values()}, key=repr)
        ranks = data.draw(st.permutations(range(len(behaviours))))
        judge = ranked(dict(zip(behaviours, ranks)))
    first = decide(table, judge=judge)
    assume(len({len(cl.members) for cl in first.clusters}) == len(first.clusters))
    new_ids = data.draw(st.lists(st.integers(100, 200), min_size=len(table.candidates), max_size=len(table.candidates), unique=True))
    mapping = dict(zip(table.candidates, new_ids))
    renamed = BehaviourTable(tuple(mapping[c] for c in table.candidates), table.inputs, {mapping[c]: o for c, o in table.outcomes.items()})
    second = decide(renamed, judge=judge)
    assert chosen_behaviour(renamed, second) == chosen_behaviour(table, first)
    assert second.confidence == first.confidence


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_with_an_abstaining_judge_more_support_and_no_more_failures_wins(data):
    table = data.draw(tables(min_candidates=2))
    d = decide(table, judge=abstain, min_support=data.draw(st.sampled_from([0.0, 0.5, 1.0])))
    best = d.clusters[d.chosen_cluster]
    for cl in d.clusters:
        if cl is not best:
            # Nobody beats the chosen one on (failures, support).
            assert (cl.failures, -len(cl.members)) >= (best.failures, -len(best.members))
    assert d.judge_calls == 2 * len(d.judged) and d.no_verdict == d.judge_calls
    assert all(j.winner is None for j in d.judged)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_behaviour_that_only_crashes_never_beats_one_that_runs(data):
    table = data.draw(tables(min_candidates=2))
    crash_row = tuple(Outcome("re") for _ in table.inputs)
    crashers = data.draw(st.lists(st.integers(50, 60), min_size=1, max_size=6, unique=True))
    table = BehaviourTable(table.candidates + tuple(crashers), table.inputs, {**table.outcomes, **{c: crash_row for c in crashers}})
    # Even a judge that always prefers the crashing program.
    adversary = ranked({crash_row: 10, **{tuple(o): 0 for o in table.outcomes.values() if tuple(o) != crash_row}})
    d = decide(table, judge=adversary, min_support=0.0)
    if d.valid:  # some valid input on which something runs
        assert d.chosen not in crashers
        assert any(d.clusters[d.chosen_cluster].outcomes[i].ok for i in d.valid)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_one_more_sample_of_the_chosen_behaviour_never_lowers_confidence(data):
    table = data.draw(tables())
    judge = data.draw(judges(table))
    d = decide(table, judge=judge)
    clone = 1000
    more = BehaviourTable(table.candidates + (clone,), table.inputs, {**table.outcomes, clone: table.outcomes[d.chosen]})
    d2 = decide(more, judge=judge)
    if judge is not abstain:
        # One more member raises the support bar (min_support x the largest behaviour): a
        # behaviour may drop out of the judged set, and with a judge that is not transitive
        # the winner of the remaining pairs may change. Without a judge it never does.
        assume(chosen_behaviour(more, d2) == chosen_behaviour(table, d))
    assert chosen_behaviour(more, d2) == chosen_behaviour(table, d)
    assert 0.2 <= d.confidence <= d2.confidence <= 1.0


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_judge_only_sees_separating_inputs_and_the_pair_cap(data):
    table = data.draw(tables(min_candidates=2))
    seen: list[tuple[ClusterResult, ClusterResult, int]] = []
    inner = data.draw(judges(table))

    def spy(a, b, k):
        seen.append((a, b, k))
        return inner(a, b, k)

    max_pairs = data.draw(st.integers(1, 6))
    d = decide(table, judge=spy, min_support=0.0, max_pairs=max_pairs)
    assert len(seen) == len(d.judged) <= max_pairs
    for a, b, k in seen:
        assert table.inputs[k].validated
        assert a.outcomes[k].ok and b.outcomes[k].ok and a.outcomes[k] != b.outcomes[k]
        # The shortest input that separates them.
        sep = [i for i in d.valid if a.outcomes[i].ok and b.outcomes[i].ok and a.outcomes[i] != b.outcomes[i]]
        assert table.inputs[k].size == min(table.inputs[i].size for i in sep)
    assert decide(table, judge=None).judge_calls == 0


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_rejected_input_never_splits_a_cluster(data):
    table = data.draw(tables())
    assume(table.inputs)
    k = data.draw(st.integers(0, len(table.inputs) - 1))
    rejected = tuple(replace(info, validated=False) if i == k else info for i, info in enumerate(table.inputs))
    base = BehaviourTable(table.candidates, rejected, table.outcomes)
    # Whatever the candidates print on the rejected input, the clusters stay the same.
    noisy = {c: tuple(Outcome("ok", str(c)) if i == k else o for i, o in enumerate(outs)) for c, outs in table.outcomes.items()}
    a, b = decide(base, judge=abstain), decide(BehaviourTable(table.candidates, rejected, noisy), judge=abstain)
    assert [cl.members for cl in a.clusters] == [cl.members for cl in b.clusters]
    assert k not in a.valid and all(s.input != k for s in a.splits)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_sandbox_error_on_an_input_neither_splits_nor_counts_as_a_failure(data):
    table = data.draw(tables())
    assume(table.inputs)
    k = data.draw(st.integers(0, len(table.inputs) - 1))
    hit = data.draw(st.sampled_from(sorted(table.candidates)))
    failed = {c: tuple(Outcome("se") if (i, c) == (k, hit) else o for i, o in enumerate(outs)) for c, outs in table.outcomes.items()}
    d = decide(BehaviourTable(table.candidates, table.inputs, failed), judge=abstain)
    assert k not in d.valid and all(s.input != k for s in d.splits)
    # The same as if nobody had run on that input: rejected, it says nothing either.
    rejected = tuple(replace(info, validated=False) if i == k else info for i, info in enumerate(table.inputs))
    ref = decide(BehaviourTable(table.candidates, rejected, table.outcomes), judge=abstain)
    assert [cl.members for cl in d.clusters] == [cl.members for cl in ref.clusters]
    assert [cl.failures for cl in d.clusters] == [cl.failures for cl in ref.clusters]


@given(st.data())
def test_failures_count_only_on_checked_inputs_and_the_large_ones_timeouts(data):
    table = data.draw(tables())
    assume(table.inputs)
    flags = data.draw(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=len(table.inputs), max_size=len(table.inputs)))
    inputs = tuple(replace(info, checked=c, large=g) for info, (c, g) in zip(table.inputs, flags))
    d = decide(BehaviourTable(table.candidates, inputs, table.outcomes), judge=abstain)
    for cl in d.clusters:
        expected = sum(not cl.outcomes[i].ok and (inputs[i].checked or (inputs[i].large and cl.outcomes[i].status == "tle")) for i in d.valid)
        assert cl.failures == expected


def test_the_second_traced_miss_of_issue_15():
    # No usable validator; the random inputs put every value on one line. The two careful
    # programs crash there, the sloppy one runs: a crash on an unchecked input is no failure,
    # so support decides (and with a checked input, failures first would have crowned the sloppy one).
    careful = (Outcome("ok", "7"), Outcome("re"), Outcome("re"))
    sloppy = (Outcome("ok", "7"), Outcome("ok", "3"), Outcome("ok", "5"))
    outcomes = {0: sloppy, 1: careful, 2: careful}
    unchecked = (InputInfo("synth-1", 5), InputInfo("random-1", 9, checked=False), InputInfo("random-2", 9, checked=False))
    d = decide(BehaviourTable((0, 1, 2), unchecked, outcomes), judge=abstain)
    assert d.chosen == 1 and [cl.failures for cl in d.clusters] == [0, 0]
    checked = tuple(replace(info, checked=True) for info in unchecked)
    assert decide(BehaviourTable((0, 1, 2), checked, outcomes), judge=abstain).chosen == 0


@given(st.data())
def test_splits_name_the_inputs_that_tell_clusters_apart(data):
    table = data.draw(tables())
    d = decide(table)
    split_inputs = {s.input for s in d.splits}
    for i in d.valid:
        distinct = {cl.outcomes[i] for cl in d.clusters}
        assert (len(distinct) > 1) == (i in split_inputs)
    for s in d.splits:
        assert sorted(k for g in s.groups for k in g) == list(range(len(d.clusters)))


def test_the_measured_misses_in_issue_15():
    # 6 samples agree on a wrong behaviour, 3 on the right one; the judge gave no verdict:
    # the larger behaviour wins, and the confidence says it is not settled.
    right, wrong = (Outcome("ok", "3"),), (Outcome("ok", "4"),)
    table = BehaviourTable(tuple(range(9)), (InputInfo("random-1", 10),), {c: wrong if c < 6 else right for c in range(9)})
    d = decide(table, judge=abstain)
    assert d.chosen == 0 and d.no_verdict == 2 and len(d.judged) == 1
    assert d.confidence < 0.6
    # The same table, the judge picking the three: they win and confidence is lower than unanimity.
    d2 = decide(table, judge=ranked({right: 1, wrong: 0}))
    assert d2.chosen == 6
    unanimous = decide(BehaviourTable(tuple(range(9)), table.inputs, {c: right for c in range(9)}))
    assert unanimous.confidence > d.confidence > d2.confidence


@given(
    passing=st.integers(1, 20), support=st.integers(1, 20), inputs_run=st.integers(0, 30),
    won=st.integers(0, 3), lost=st.integers(0, 3), none=st.integers(0, 3), fraction=st.floats(0, 1),
)  # fmt: skip
def test_confidence_is_in_range_and_monotone(passing, support, inputs_run, won, lost, none, fraction):
    support = min(support, passing)
    c = confidence(passing=passing, support=support, inputs_run=inputs_run, won=won, lost=lost, no_verdict=none)
    assert 0.2 <= c <= 1.0
    if support < passing:
        assert confidence(passing=passing, support=support + 1, inputs_run=inputs_run, won=won, lost=lost, no_verdict=none) >= c
    assert confidence(passing=passing, support=support, inputs_run=inputs_run + 1, won=won, lost=lost, no_verdict=none) >= c
    assert confidence(passing=passing, support=support, inputs_run=inputs_run, won=won + 1, lost=lost, no_verdict=none) >= c
    assert confidence(passing=passing, support=support, inputs_run=inputs_run, won=won, lost=lost + 1, no_verdict=none) <= c
    assert confidence(passing=passing, support=support, inputs_run=inputs_run, won=won, lost=lost, no_verdict=none + 1) <= c
    # Nothing passes every public test: low, whatever else is true.
    low = confidence(passing=0, support=0, public_fraction=fraction)
    assert 0.0 <= low <= 0.1 < c
    assert confidence(passing=passing, support=support, public_fraction=min(fraction, 0.99)) <= 0.1


def test_a_lone_survivor_ranks_below_agreeing_samples():
    # Recorded runs (docs/selection.md, "Why R"): a lone public-passing sample was right far
    # less often than several samples that agree, so it must not score as high untested.
    lone = confidence(passing=1, support=1)
    assert lone == 0.4
    assert lone < confidence(passing=2, support=2) < confidence(passing=4, support=4) < confidence(passing=16, support=16)
    # ... and below a 6-to-3 majority on one validated input (it used to score above it).
    assert lone < confidence(passing=9, support=6, inputs_run=1)


def old_rule(table: BehaviourTable, judge, min_support: float, max_pairs: int) -> int:
    """The rule as select.py applied it inline before decide.py (its judge_pairs judged up to
    three pairs per model call and checked the early stop after each such chunk)."""
    valid = [i for i in range(len(table.inputs)) if table.inputs[i].validated and any(table.outcomes[c][i].ok for c in table.candidates)]
    clusters: list[dict] = []
    for c in sorted(table.candidates):
        outs = table.outcomes[c]
        for cl in clusters:
            if all(cl["out"][i] == outs[i] for i in valid):
                cl["members"].append(c)
                break
        else:
            clusters.append({"members": [c], "out": outs, "wins": 0})
    for cl in clusters:
        cl["failures"] = sum(not cl["out"][i].ok for i in valid)
    clusters.sort(key=lambda cl: (cl["failures"], -len(cl["members"]), cl["members"][0]))
    contenders = [cl for cl in clusters if cl["failures"] == clusters[0]["failures"]]
    contenders = [cl for cl in contenders if len(cl["members"]) >= min_support * len(contenders[0]["members"])]
    if len(contenders) > 1:
        top = contenders[:4]
        remaining = [(i, j) for j in range(1, len(top)) for i in range(j)][:max_pairs]
        while remaining:
            chunk, remaining = remaining[:3], remaining[3:]
            judged = False
            for i, j in chunk:
                a, b = top[i], top[j]
                options = [k for k in valid if a["out"][k].ok and b["out"][k].ok and a["out"][k] != b["out"][k]]
                if not options:
                    continue
                k = min(options, key=lambda k: table.inputs[k].size)
                judged = True
                view = lambda cl: ClusterResult(tuple(cl["members"]), tuple(cl["out"]), cl["failures"])  # noqa: E731
                w = judge(view(a), view(b), k).winner
                if w is not None:
                    top[i if w == "A" else j]["wins"] += 1
            if not judged:
                continue
            left = {x: sum(x in p for p in remaining) for x in range(len(top))}
            leader = max(range(len(top)), key=lambda x: top[x]["wins"])
            if all(top[x]["wins"] + left[x] < top[leader]["wins"] for x in range(len(top)) if x != leader):
                break
        contenders.sort(key=lambda cl: (-cl["wins"], -len(cl["members"]), cl["members"][0]))
    return contenders[0]["members"][0]


@settings(max_examples=500, deadline=None)
@given(st.data())
def test_decide_chooses_what_the_inline_rule_chose(data):
    # The refactoring changed no choice: same table, same judge, same pick. (Only the number
    # of judge calls may drop: the early stop is now checked after every pair.)
    table = data.draw(tables(max_behaviours=6))
    judge = data.draw(judges(table))
    min_support = data.draw(st.sampled_from([0.0, 0.5, 1.0]))
    max_pairs = data.draw(st.integers(1, 6))
    assert decide(table, judge=judge, min_support=min_support, max_pairs=max_pairs).chosen == old_rule(table, judge, min_support, max_pairs)
