"""The pool a run's generation wrote, measured (issue 19): from ``sstar batch --trace-dir`` traces.

Per problem and in total, for one run or two runs side by side (sampling A against B):

- **pool ceiling**: some generated candidate passes the public AND the hidden tests (no
  selection can do better on that pool);
- **public**: some candidate passes every public test;
- **behaviours**: distinct behaviours among the public-passing candidates, by their verdicts
  and outputs on the hidden tests' inputs;
- **tokens**: completion tokens of generation (approach sketches, stage "plan", included)
  and of the whole run;
- **by kind**: candidates, public-passing and correct ones per kind of candidate (plain,
  plan, each hint framing), to say which framings earned their tokens.

With two runs, the comparison is also made **at equal tokens**: per problem, each run keeps
its candidates in index order while their generation tokens (sketches paid up front) fit the
smaller run's total, and the paired counts say where only A, only B, or both have a correct
candidate. Only generation's candidates count (stage "generate"): a debug round's repairs
are not the pool. Hidden tests are used here to score, after the runs; no strategy sees them.

    python bench/pool.py TRACE_DIR [--against TRACE_DIR_B] [--sandbox docker] [--problems-root DIR] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from sstar.judge import judge
from sstar.loaders import load_problem
from sstar.problem import Problem
from sstar.sandbox import open_sandbox
from sstar.sandbox.base import Program, Sandbox


@dataclass
class PoolCandidate:
    index: int
    program: str | None  # None: the reply held no program
    tokens: int  # completion tokens of its reply
    tag: str = ""


@dataclass
class RunPool:
    """What one trace says about a problem's generation."""

    problem: str
    path: str
    language: str
    candidates: list[PoolCandidate]
    plan_tokens: int = 0  # approach sketches (sampling "plans" / "mixed")
    completion_tokens: int = 0  # every model call of the run

    @property
    def generation_tokens(self) -> int:
        return self.plan_tokens + sum(c.tokens for c in self.candidates)

    def within(self, budget: int) -> list[PoolCandidate]:
        """The candidates, in index order, while sketches plus replies fit ``budget`` tokens."""
        spent, kept = self.plan_tokens, []
        for c in sorted(self.candidates, key=lambda c: c.index):
            spent += c.tokens
            if spent > budget:
                break
            kept.append(c)
        return kept


def read_trace(path: Path) -> RunPool:
    """A batch trace's generation: its candidates with programs and tokens."""
    doc = json.loads(path.read_text())
    events: list[dict[str, Any]] = doc["events"]
    header = doc.get("header", {})
    start = next((e for e in events if e["kind"] == "start"), {})
    language = (start.get("settings") or {}).get("language", "python")
    llm = [e for e in events if e["kind"] == "llm"]
    replies = lambda stage: [r for e in llm if e["stage"] == stage for r in e["replies"]]  # noqa: E731
    programs: dict[int, str] = {}
    for e in events:  # the first judged program of each candidate is the one generation wrote
        if e["kind"] == "public_tests" and e["stage"] == "generate":
            programs.setdefault(e["candidate"], e.get("program") or "")
    described = [c for e in events if e["kind"] == "candidates" for c in e["candidates"]]
    if described:
        cands = [PoolCandidate(c["index"], programs.get(c["index"]) or None, c["tokens"], c.get("tag", "")) for c in described]
    else:  # traces from before sampling modes: generation's replies are candidates 0, 1, ... in order
        cands = [PoolCandidate(i, programs.get(i) or None, r["tokens"], "plain") for i, r in enumerate(replies("generate"))]
    return RunPool(
        problem=header.get("problem") or path.stem,
        path=header.get("path", ""),
        language=language,
        candidates=cands,
        plan_tokens=sum(r["tokens"] for r in replies("plan")),
        completion_tokens=sum(r["tokens"] for e in llm for r in e["replies"]),
    )


@dataclass(frozen=True)
class Score:
    public: bool
    hidden: bool
    behaviour: tuple[tuple[str, str], ...]  # (verdict, output) on each hidden test

    @property
    def correct(self) -> bool:
        return self.public and self.hidden


Scorer = Callable[[str], Score]


def sandbox_scorer(problem: Problem, sandbox: Sandbox, language: str) -> Scorer:
    """Judge a program on every test of ``problem`` (each distinct program once)."""
    memo: dict[str, Score] = {}

    def score(code: str) -> Score:
        if code not in memo:
            report = judge(Program(code, language), problem, sandbox, tests="all")
            public = [t for t in report.tests if t.name.startswith("public/")]
            hidden = [t for t in report.tests if t.name.startswith("hidden/")]
            if not hidden:  # all([]) would call every program correct
                raise SystemExit(f"{problem.id}: no hidden tests to score with")
            memo[code] = Score(
                all(t.passed for t in public), all(t.passed for t in hidden),
                tuple((t.verdict.value, t.output.strip()) for t in hidden),
            )  # fmt: skip
        return memo[code]

    return score


@dataclass
class PoolStats:
    candidates: int = 0
    with_program: int = 0
    public: int = 0  # candidates passing every public test
    correct: int = 0  # ... and every hidden test
    behaviours: int = 0  # distinct behaviours among the public-passing candidates
    tokens: int = 0  # generation tokens of these candidates (sketches included)

    @property
    def ceiling(self) -> bool:
        return self.correct > 0


def pool_stats(candidates: Iterable[PoolCandidate], score: Scorer, plan_tokens: int = 0) -> PoolStats:
    stats = PoolStats(tokens=plan_tokens)
    behaviours: set[tuple[tuple[str, str], ...]] = set()
    for c in candidates:
        stats.candidates += 1
        stats.tokens += c.tokens
        if not c.program:
            continue
        stats.with_program += 1
        s = score(c.program)
        if s.public:
            stats.public += 1
            behaviours.add(s.behaviour)
        stats.correct += s.correct
    stats.behaviours = len(behaviours)
    return stats


def tag_family(tag: str) -> str:
    """"plan:3" -> "plan"; "hint:greedy" stays (each framing is its own family)."""
    return "plan" if tag.startswith("plan:") else tag or "plain"


def by_tag(candidates: Iterable[PoolCandidate], score: Scorer) -> dict[str, dict[str, int]]:
    """Per kind of candidate (plain, plan, each hint): candidates, public-passing, correct:
    which framings earn their tokens."""
    out: dict[str, dict[str, int]] = {}
    for c in candidates:
        row = out.setdefault(tag_family(c.tag), {"candidates": 0, "public": 0, "correct": 0, "tokens": 0})
        row["candidates"] += 1
        row["tokens"] += c.tokens
        if c.program:
            s = score(c.program)
            row["public"] += s.public
            row["correct"] += s.correct
    return out


def add_tags(total: dict[str, dict[str, int]], more: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    for tag, row in more.items():
        into = total.setdefault(tag, dict.fromkeys(row, 0))
        for k, v in row.items():
            into[k] += v
    return total


@dataclass
class ProblemRow:
    problem: str
    a: PoolStats
    a_completion_tokens: int
    b: PoolStats | None = None
    b_completion_tokens: int = 0
    budget: int = 0  # equal-token comparison: the smaller run's generation tokens
    a_at_budget: PoolStats | None = None
    b_at_budget: PoolStats | None = None
    a_by_tag: dict[str, dict[str, int]] = field(default_factory=dict)
    b_by_tag: dict[str, dict[str, int]] = field(default_factory=dict)


def compare(a: RunPool, b: RunPool | None, score: Scorer, score_b: Scorer | None = None) -> ProblemRow:
    """``score_b``: B's scorer when its programs are in another language (default: ``score``)."""
    score_b = score_b or score
    row = ProblemRow(a.problem, pool_stats(a.candidates, score, a.plan_tokens), a.completion_tokens)
    row.a_by_tag = by_tag(a.candidates, score)
    if b is not None:
        row.b_by_tag = by_tag(b.candidates, score_b)
        row.b = pool_stats(b.candidates, score_b, b.plan_tokens)
        row.b_completion_tokens = b.completion_tokens
        row.budget = min(a.generation_tokens, b.generation_tokens)
        row.a_at_budget = pool_stats(a.within(row.budget), score, a.plan_tokens)
        row.b_at_budget = pool_stats(b.within(row.budget), score_b, b.plan_tokens)
    return row


def paired(rows: list[ProblemRow], which: str) -> dict[str, int]:
    """Problems with a correct candidate in A only, B only, both, neither (``which``: "all" or "budget")."""
    out = {"a_only": 0, "b_only": 0, "both": 0, "neither": 0}
    for r in rows:
        a, b = (r.a, r.b) if which == "all" else (r.a_at_budget, r.b_at_budget)
        assert a is not None and b is not None
        out["both" if a.ceiling and b.ceiling else "a_only" if a.ceiling else "b_only" if b.ceiling else "neither"] += 1
    return out


def totals(stats: Iterable[PoolStats]) -> dict[str, int]:
    stats = list(stats)
    return {
        "problems": len(stats),
        "ceiling": sum(s.ceiling for s in stats),
        "any_public": sum(s.public > 0 for s in stats),
        "behaviours": sum(s.behaviours for s in stats),
        "candidates": sum(s.candidates for s in stats),
        "public_candidates": sum(s.public for s in stats),
        "generation_tokens": sum(s.tokens for s in stats),
    }


def find_problem(pool: RunPool, roots: list[Path]) -> Path:
    if pool.path and Path(pool.path).exists():
        return Path(pool.path)
    for root in roots:
        for candidate in (root / pool.problem, *root.glob(f"*/{pool.problem}")):
            if candidate.exists():
                return candidate
    raise SystemExit(f"{pool.problem}: problem not found (trace path {pool.path!r}); pass --problems-root")


def _line(label: str, s: PoolStats) -> str:
    return (f"{label} cands {s.candidates:2} public {s.public:2} correct {s.correct:2} "
            f"behaviours {s.behaviours:2} tok {s.tokens:6}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace_dir", type=Path, help="run A's --trace-dir")
    ap.add_argument("--against", type=Path, help="run B's --trace-dir: compared problem by problem, also at equal tokens")
    ap.add_argument("--sandbox", default="docker")
    ap.add_argument("--problems-root", type=Path, action="append", default=None,
                    help="where to find a problem whose trace path does not exist here (repeatable) [default: ../shared/benchmarks]")  # fmt: skip
    ap.add_argument("--out", type=Path, help="write the rows and totals as JSON")
    args = ap.parse_args(argv)
    roots = args.problems_root or [Path("../shared/benchmarks")]

    runs_a = {p.problem: p for p in map(read_trace, sorted(args.trace_dir.glob("*.json")))}
    runs_b = {p.problem: p for p in map(read_trace, sorted(args.against.glob("*.json")))} if args.against else {}
    problems = sorted(set(runs_a) & set(runs_b)) if args.against else sorted(runs_a)
    if args.against:
        for pid in sorted(set(runs_a) ^ set(runs_b)):
            print(f"{pid}: in one run only, left out", file=sys.stderr)
    rows: list[ProblemRow] = []
    with open_sandbox(args.sandbox) as sandbox:
        for pid in problems:
            a = runs_a[pid]
            problem = load_problem(find_problem(a, roots))
            b = runs_b.get(pid)
            # Each run's programs are judged in their own language (issue 16 compares C++ with Python).
            score_b = sandbox_scorer(problem, sandbox, b.language) if b is not None and b.language != a.language else None
            row = compare(a, b, sandbox_scorer(problem, sandbox, a.language), score_b)
            rows.append(row)
            print(_line(f"{pid[:40]:40} A", row.a), flush=True)
            if row.b is not None and row.a_at_budget and row.b_at_budget:
                print(_line(f"{'':40} B", row.b))
                print(f"{'':40}   at {row.budget} tokens: A correct {row.a_at_budget.correct} behaviours {row.a_at_budget.behaviours}"
                      f" | B correct {row.b_at_budget.correct} behaviours {row.b_at_budget.behaviours}")  # fmt: skip

    report: dict[str, Any] = {"rows": [asdict(r) for r in rows], "a": totals(r.a for r in rows)}
    report["a"]["completion_tokens"] = sum(r.a_completion_tokens for r in rows)
    report["a_by_tag"] = {}
    for r in rows:
        add_tags(report["a_by_tag"], r.a_by_tag)
    print(f"\nA ({args.trace_dir}): {report['a']}")
    print(f"A by kind of candidate: {report['a_by_tag']}")
    if args.against:
        report["b"] = totals(r.b for r in rows if r.b)
        report["b"]["completion_tokens"] = sum(r.b_completion_tokens for r in rows)
        report["a_at_equal_tokens"] = totals(r.a_at_budget for r in rows if r.a_at_budget)
        report["b_at_equal_tokens"] = totals(r.b_at_budget for r in rows if r.b_at_budget)
        report["paired"] = paired(rows, "all")
        report["paired_at_equal_tokens"] = paired(rows, "budget")
        report["b_by_tag"] = {}
        for r in rows:
            add_tags(report["b_by_tag"], r.b_by_tag)
        print(f"B ({args.against}): {report['b']}")
        print(f"B by kind of candidate: {report['b_by_tag']}")
        print(f"at equal tokens: A {report['a_at_equal_tokens']}")
        print(f"                 B {report['b_at_equal_tokens']}")
        print(f"problems with a correct candidate, paired: {report['paired']}; at equal tokens: {report['paired_at_equal_tokens']}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
