"""Every distinct program in ``sstar batch --trace-dir`` traces, judged on public and hidden tests.

Answers two questions no single run's score can:

- the ceiling: for how many problems did *any* candidate or repair, in any of the given
  runs, pass every public and hidden test? No selection can do better than that on the
  same candidates;
- ``--reextract``: what the current extraction rules (``sstar.extract``) would make of
  the recorded programs, and whether that changes their verdicts. Each program is passed
  through ``extract_code`` as a fenced block; only programs that change are judged again.

Hidden tests are used here to score, after the runs; no strategy sees this tool's output.

    python bench/trace_programs.py TRACE_DIR... [--reextract] [--sandbox docker] [--problems-root DIR] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from sstar.extract import extract_code
from sstar.judge import judge
from sstar.loaders import load_problem
from sstar.problem import Problem
from sstar.sandbox import open_sandbox
from sstar.sandbox.base import Sandbox

@dataclass
class Score:
    public: bool
    hidden: bool

    @property
    def solved(self) -> bool:
        return self.public and self.hidden


@dataclass
class ProblemRow:
    problem: str
    programs: int = 0
    public: int = 0  # programs that pass every public test
    solved: int = 0  # ... and every hidden test
    changed: int = 0  # --reextract: programs the current rules change
    public_after: int = 0
    solved_after: int = 0


def collect(trace_dirs: list[Path]) -> dict[str, list[str]]:
    """problem id -> its distinct recorded programs, in first-seen order."""
    programs: dict[str, dict[str, None]] = defaultdict(dict)
    for d in trace_dirs:
        for f in sorted(d.glob("*.json")):
            for e in json.loads(f.read_text())["events"]:
                if e["kind"] == "public_tests" and e.get("program"):
                    programs[f.stem].setdefault(e["program"], None)
    return {pid: list(ps) for pid, ps in programs.items()}


def score(code: str, problem: Problem, sandbox: Sandbox) -> Score:
    report = judge(code, problem, sandbox, tests="all")
    public = [t.passed for t in report.tests if t.name.startswith("public/")]
    hidden = [t.passed for t in report.tests if t.name.startswith("hidden/")]
    if not hidden:  # all([]) would count every program as correct
        raise SystemExit(f"{problem.id}: no hidden tests to score with")
    return Score(all(public), all(hidden))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace_dirs", nargs="+", type=Path)
    ap.add_argument("--reextract", action="store_true", help="also judge the programs as the current extraction rules make them")
    ap.add_argument("--sandbox", default="docker")
    ap.add_argument("--problems-root", type=Path, default=Path("../shared/benchmarks"))
    ap.add_argument("--out", type=Path, help="write the per-problem rows as JSON")
    args = ap.parse_args(argv)

    roots = {p.name: p for p in args.problems_root.glob("*/*") if p.is_dir()}
    rows: list[ProblemRow] = []
    with open_sandbox(args.sandbox) as sandbox:

        for pid, programs in sorted(collect(args.trace_dirs).items()):
            problem = load_problem(roots[pid])
            row = ProblemRow(pid, programs=len(programs))
            for code in programs:
                before = score(code, problem, sandbox)
                after = before
                if args.reextract:
                    new = extract_code(f"```python\n{code}\n```")
                    if new is not None and new.strip() != code.strip():
                        row.changed += 1
                        after = score(new, problem, sandbox)
                row.public += before.public
                row.solved += before.solved
                row.public_after += after.public
                row.solved_after += after.solved
            rows.append(row)
            print(
                f"{pid[:42]:42} programs {row.programs:3}  public {row.public:2}  solved {row.solved:2}"
                + (f"  | changed {row.changed:2}  public {row.public_after:2}  solved {row.solved_after:2}" if args.reextract else ""),
                flush=True,
            )

    def total(field: str) -> int:
        return sum(getattr(r, field) for r in rows)

    print(f"\n{len(rows)} problems, {total('programs')} distinct programs")
    print(f"programs passing public tests: {total('public')}; also hidden: {total('solved')}")
    print(f"problems with at least one correct program (the ceiling): {sum(r.solved > 0 for r in rows)}")
    if args.reextract:
        print(f"re-extracted: {total('changed')} programs change; passing public {total('public')} -> {total('public_after')}, "
              f"correct {total('solved')} -> {total('solved_after')}; "
              f"problems with a correct program {sum(r.solved > 0 for r in rows)} -> {sum(r.solved_after > 0 for r in rows)}")
    if args.out:
        args.out.write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
