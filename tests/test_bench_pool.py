"""bench/pool.py: the pool a run's generation wrote, from traces (issue 19's measurement tool).

Traces are made by real solve runs (a scripted model, a REAL sandbox) and scored on real
hidden tests; the token arithmetic is checked on hand-made pools.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path


from sstar.engine.base import Message, SamplingParams
from sstar.engine.scripted import ScriptedEngine
from sstar.loaders import load_problem
from sstar.pipeline.solve import solve
from sstar.pipeline.types import SolveConfig, Strategy
from sstar.trace import Trace
from tests.test_batch import sandbox  # noqa: F401 - the module-scoped "auto" sandbox fixture

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bench_pool", ROOT / "bench" / "pool.py")
assert spec and spec.loader
pool = importlib.util.module_from_spec(spec)
sys.modules["bench_pool"] = pool  # dataclasses look their module up there
spec.loader.exec_module(pool)

RIGHT = "import sys\nd = sys.stdin.read().split()\nprint(max(map(int, d[1:1 + int(d[0])])))\n"
RIGHT_TOO = "import sys\nn, *a = map(int, sys.stdin.read().split())\nprint(sorted(a[:n])[-1])\n"  # same behaviour, other code
LUCKY = "print(5)\n"  # right on the sample only
WRONG = "print(0)\n"


def fence(code: str) -> str:
    return f"Easy.\n\n```python\n{code}```\n"


def script(messages: tuple[Message, ...], index: int, params: SamplingParams) -> str:
    last = messages[-1].content
    if "Approach hint:" in last:
        return fence(RIGHT_TOO if "brute force" in last else WRONG)
    if params.temperature == 0:
        return fence(RIGHT)
    return [fence(LUCKY), fence(RIGHT), "I give up."][index % 3]


def make_problem(root: Path) -> Path:
    folder = root / "set" / "max"
    for which, tests in (("public", [("3\n1 5 2\n", "5\n")]), ("hidden", [("2\n9 1\n", "9\n"), ("1\n-3\n", "-3\n")])):
        (folder / "tests" / which).mkdir(parents=True)
        for i, (inp, out) in enumerate(tests, 1):
            (folder / "tests" / which / f"{i}.in").write_text(inp)
            (folder / "tests" / which / f"{i}.out").write_text(out)
    (folder / "problem.md").write_text("# Max\n\nGiven n and n integers, print the largest.\n")
    return folder


def traced_run(folder: Path, out_dir: Path, sandbox, sampling: str) -> Path:
    problem = load_problem(folder)
    trace = Trace(problem=problem.id, path=str(folder), model="scripted")
    solve(problem, ScriptedEngine(script), sandbox, SolveConfig(strategy=Strategy.MAJORITY, n=4, rounds=0, sampling=sampling), trace=trace)
    out_dir.mkdir(parents=True, exist_ok=True)
    trace.save(out_dir / f"{problem.id}.json")
    return out_dir


def test_pool_report_on_two_runs(tmp_path, sandbox):
    folder = make_problem(tmp_path)
    a = traced_run(folder, tmp_path / "plain", sandbox, "plain")
    b = traced_run(folder, tmp_path / "hints", sandbox, "hints")
    out = tmp_path / "pool.json"
    kind = getattr(sandbox, "name", "auto")
    assert pool.main([str(a), "--against", str(b), "--sandbox", kind if kind in ("docker", "process") else "auto", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    # A: greedy RIGHT, then LUCKY, RIGHT and a reply without a program.
    assert report["a"] | {"generation_tokens": 0, "completion_tokens": 0} == {
        "problems": 1, "ceiling": 1, "any_public": 1, "behaviours": 2, "candidates": 4, "public_candidates": 3,
        "generation_tokens": 0, "completion_tokens": 0,
    }  # fmt: skip
    # B: greedy RIGHT, then simulation (WRONG), brute force (RIGHT_TOO: the same behaviour), math (WRONG).
    assert report["b"]["public_candidates"] == 2 and report["b"]["behaviours"] == 1 and report["b"]["ceiling"] == 1
    assert report["paired"] == {"a_only": 0, "b_only": 0, "both": 1, "neither": 0}
    counts = lambda by: {t: (r["candidates"], r["public"], r["correct"]) for t, r in by.items()}  # noqa: E731
    assert counts(report["a_by_tag"]) == {"plain": (4, 3, 2)}
    assert counts(report["b_by_tag"]) == {"plain": (1, 1, 1), "hint:simulation": (1, 0, 0), "hint:brute-force": (1, 1, 1), "hint:math": (1, 0, 0)}
    (row,) = report["rows"]
    assert row["a"]["with_program"] == 3 and row["b"]["with_program"] == 4
    assert row["budget"] == min(row["a"]["tokens"], row["b"]["tokens"]) > 0
    assert row["a_at_budget"]["tokens"] <= row["budget"] and row["b_at_budget"]["tokens"] <= row["budget"]
    assert report["a"]["completion_tokens"] >= report["a"]["generation_tokens"] > 0  # majority's input synthesis too


def test_old_traces_without_candidate_events_still_read(tmp_path, sandbox):
    folder = make_problem(tmp_path)
    d = traced_run(folder, tmp_path / "plain", sandbox, "plain")
    (f,) = d.glob("*.json")
    doc = json.loads(f.read_text())
    new = pool.read_trace(f)
    doc["events"] = [e for e in doc["events"] if e["kind"] != "candidates"]
    f.write_text(json.dumps(doc))
    old = pool.read_trace(f)
    assert [(c.index, c.program, c.tokens) for c in old.candidates] == [(c.index, c.program, c.tokens) for c in new.candidates]
    assert old.candidates[3].program is None and old.candidates[0].program.strip() == RIGHT.strip()


def fake_scorer(table: dict[str, tuple[bool, bool, str]]):
    return lambda code: pool.Score(table[code][0], table[code][1], (("AC", table[code][2]),))


def test_equal_tokens_keeps_a_prefix_and_charges_sketches_first():
    run = pool.RunPool("p", "", "python", [pool.PoolCandidate(i, f"c{i}", 10 * (i + 1)) for i in range(4)], plan_tokens=25)
    assert run.generation_tokens == 25 + 10 + 20 + 30 + 40
    assert [c.index for c in run.within(25 + 10 + 20)] == [0, 1]
    assert [c.index for c in run.within(25 + 10 + 20 - 1)] == [0]
    assert run.within(24) == []


def test_paired_counts_at_full_and_equal_tokens():
    score = fake_scorer({"r": (True, True, "9"), "l": (True, False, "5"), "w": (False, False, "0")})
    cheap_right = pool.RunPool("p", "", "python", [pool.PoolCandidate(0, "r", 10), pool.PoolCandidate(1, "l", 10)])
    late_right = pool.RunPool("p", "", "python", [pool.PoolCandidate(0, "w", 5), pool.PoolCandidate(1, "l", 10), pool.PoolCandidate(2, "r", 50)], plan_tokens=5)
    row = pool.compare(cheap_right, late_right, score)
    assert row.budget == 20 and row.a.ceiling and row.b.ceiling
    assert row.a_at_budget.ceiling and not row.b_at_budget.ceiling  # B's right program came after 20 tokens
    assert row.b_at_budget.candidates == 2 and row.b_at_budget.behaviours == 1
    assert pool.paired([row], "all") == {"a_only": 0, "b_only": 0, "both": 1, "neither": 0}
    assert pool.paired([row], "budget") == {"a_only": 1, "b_only": 0, "both": 0, "neither": 0}


def test_each_run_is_scored_by_its_own_scorer():
    # Issue 16 compares C++ runs with Python runs: B's programs must be judged as B's language.
    py = fake_scorer({"same": (True, True, "1")})
    cpp = fake_scorer({"same": (False, False, "0")})
    a = pool.RunPool("p", "", "python", [pool.PoolCandidate(0, "same", 10)])
    b = pool.RunPool("p", "", "cpp", [pool.PoolCandidate(0, "same", 10)])
    row = pool.compare(a, b, py, cpp)
    assert row.a.ceiling and not row.b.ceiling and not row.b_at_budget.ceiling
    assert row.b_by_tag and all(r["correct"] == 0 for r in row.b_by_tag.values())
