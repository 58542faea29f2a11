"""Judge every (problem, program) pair of bench/oj-pairs.txt with `sstar judge` and with
`oj test -c` (online-judge-tools), and compare the overall verdicts (issue 16).

    PYTHONPATH=$PWD python bench/oj_compare.py --oj /work/ojvenv/bin/oj --out bench/runs/oj-compare.txt

sstar judges through its library (load_problem, open_sandbox, judge, tests="all"). oj runs
on the host: the problem's public and hidden tests (as sstar loaded them, in the same order)
are written to SCRATCH/<problem-id>/test/, C++ is compiled once with g++ -O2 -std=gnu++17
(a compile error is CE without running oj, since oj never compiles), Python runs as
`python3 PROGRAM`. oj gets the limits sstar judges under (-t, --mle) and the problem's
checker mapped to its nearest comparison mode (-N, -e EPS). Two overall verdicts agree when
both are AC, or both fail with the same verdict on their first failing test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sstar.judge import judge, limits_for
from sstar.loaders import load_problem
from sstar.problem import Problem
from sstar.sandbox import open_sandbox
from sstar.sandbox.base import Limits, Program, Sandbox

ROOT = Path(__file__).resolve().parent.parent
CXX = ["g++", "-O2", "-std=gnu++17"]


@dataclass
class Pair:
    problem: str  # path relative to the repository root
    program: str
    language: str  # python | cpp
    how: str


@dataclass
class Outcome:
    verdict: str  # overall: AC, or the verdict of the first failing test
    per_test: list[str] = field(default_factory=list)  # verdicts in test order (empty for CE)
    seconds: float = 0.0  # wall time of the whole judging
    note: str = ""
    # oj only: per-test verdicts as oj first labels them (killed: TLE, memory over --mle: MLE,
    # exit code not 0: RE). oj 11.5.1 then relabels any of them WA when the output does not
    # match (display_result in onlinejudge_command/subcommand/test.py), and reports that.
    first_label: list[str] = field(default_factory=list)


@dataclass
class Row:
    pair: Pair
    sstar: Outcome
    oj: Outcome

    @property
    def agree(self) -> bool:
        return self.sstar.verdict == self.oj.verdict

    @property
    def agree_first_label(self) -> bool:
        """Agreement with oj's verdicts before its relabelling to WA."""
        fixed = overall(self.oj.first_label) if self.oj.first_label else self.oj.verdict
        return self.sstar.verdict == fixed

    @property
    def same_tests(self) -> str:
        if not self.sstar.per_test or not self.oj.per_test:
            return "-"
        same = sum(a == b for a, b in zip(self.sstar.per_test, self.oj.per_test))
        return f"{same}/{len(self.sstar.per_test)}"


def read_pairs(path: Path) -> list[Pair]:
    pairs = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        problem, program, language, how = line.split("\t")
        pairs.append(Pair(problem, program, language, how))
    return pairs


def overall(verdicts: list[str]) -> str:
    return next((v for v in verdicts if v != "AC"), "AC")


def oj_checker_args(checker: str) -> list[str]:
    """oj's nearest comparison for a sstar checker spec (see docs/benchmarks.md for the gaps)."""
    if checker in ("tokens", "tokens:ci"):  # oj has no case-insensitive mode
        return ["-N"]
    if checker.startswith("float:"):
        return ["-N", "-e", checker.split(":", 1)[1]]
    if checker == "exact":
        return []  # oj's default, crlf-insensitive-exact-match
    raise SystemExit(f"no oj comparison for checker {checker!r}: leave such problems out of the pairs")


def test_dir(problem: Problem, scratch: Path) -> Path:
    """SCRATCH/<id>/test/NN-kind-name.{in,out}: sorted names keep sstar's test order."""
    base = scratch / problem.id
    tdir = base / "test"
    if tdir.exists():
        shutil.rmtree(tdir)
    tdir.mkdir(parents=True)
    for i, t in enumerate(problem.tests("all")):
        stem = f"{i:02d}-{t.name.replace('/', '-')}"
        (tdir / f"{stem}.in").write_bytes(t.input.encode())
        (tdir / f"{stem}.out").write_bytes((t.expected or "").encode())
    return base


def run_oj(oj: str, pair: Pair, problem: Problem, limits: Limits, scratch: Path, python: str) -> Outcome:
    start = time.monotonic()
    src = ROOT / pair.program
    if pair.language == "cpp":
        binary = scratch / "bin" / f"{problem.id}-{src.stem}"
        binary.parent.mkdir(parents=True, exist_ok=True)
        cc = subprocess.run([*CXX, "-o", str(binary), str(src)], capture_output=True, text=True)
        if cc.returncode != 0:
            first = next((ln for ln in cc.stderr.splitlines() if "error" in ln), cc.stderr.strip()[:120])
            return Outcome("CE", [], time.monotonic() - start, first.replace(str(src), src.name))
        command = str(binary)
    else:
        command = f"{python} {src}"
    cwd = test_dir(problem, scratch)
    log = cwd / "oj-log.json"
    args = [oj, "test", "-c", command, "-t", f"{limits.time_s:g}", "--mle", str(limits.memory_mb),
            *oj_checker_args(problem.checker), "-s", "--log-file", str(log)]
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if not log.exists():
        raise SystemExit(f"oj test wrote no log for {pair.program}: {proc.stderr.strip()[-300:]}")
    history = sorted(json.loads(log.read_text()), key=lambda r: r["testcase"]["name"])
    per_test = [r["status"] for r in history]
    first = [_first_label(r, limits.memory_mb) for r in history]
    relabelled = sum(a != b for a, b in zip(per_test, first))
    worst = max((r["memory"] or 0.0 for r in history), default=0.0)
    slowest = max((r["elapsed"] for r in history), default=0.0)
    note = f"max {slowest:.2f}s {worst:.0f}MB" + (f"; {relabelled} relabelled WA, first {overall(first)}" if relabelled else "")
    return Outcome(overall(per_test), per_test, time.monotonic() - start, note, first)


def _first_label(record: dict, mle_mb: float) -> str:
    """oj's verdict for a test before it overwrites TLE, MLE and RE with WA on a mismatch."""
    if record.get("exitcode", 0) is None:
        return "TLE"
    if record.get("memory") is not None and record["memory"] > mle_mb:
        return "MLE"
    if record.get("exitcode", 0) != 0:
        return "RE"
    return record["status"]


def run_sstar(pair: Pair, problem: Problem, sandbox: Sandbox, limits: Limits) -> Outcome:
    start = time.monotonic()
    program = Program((ROOT / pair.program).read_text(), language=pair.language)
    report = judge(program, problem, sandbox, tests="all", limits=limits)
    per_test = [t.verdict.value for t in report.tests]
    note = ""
    first_fail = next((t for t in report.tests if t.verdict.value != "AC"), None)
    if first_fail is not None:
        note = first_fail.message.splitlines()[0][:70] if first_fail.message else ""
    if report.verdict.value == "CE":
        per_test = []
    slowest = max((t.time_s or 0.0 for t in report.tests), default=0.0)
    if not note:
        note = f"max {slowest:.2f}s"
    return Outcome(report.verdict.value, per_test, time.monotonic() - start, note)


def version(cmd: list[str], line: int = -1) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except OSError as exc:
        return f"unavailable ({exc})"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[line] if text else "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=Path, default=ROOT / "bench" / "oj-pairs.txt")
    ap.add_argument("--oj", default=shutil.which("oj") or "/work/ojvenv/bin/oj", help="the oj executable")
    ap.add_argument("--python", default=shutil.which("python3") or "python3", help="python oj runs Python programs with")
    ap.add_argument("--sandbox", default="auto", help="sstar sandbox kind: auto, docker or process")
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/sstar-ojcmp"))
    ap.add_argument("--only", default="", help="judge only pairs whose program path contains this")
    ap.add_argument("--out", type=Path, help="also write the table here")
    args = ap.parse_args()

    pairs = [p for p in read_pairs(args.pairs) if args.only in p.program]
    lines: list[str] = []

    def emit(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    rows: list[Row] = []
    with open_sandbox(args.sandbox, warn=lambda msg: emit(f"# sandbox: {msg}")) as sandbox:
        emit(f"# sstar judge vs oj test, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
        emit(f"# command: python bench/oj_compare.py {' '.join(sys.argv[1:])}")
        emit(f"# sstar sandbox: {type(sandbox).__name__}; oj: {version([args.oj, '--version'])}; "
             f"host python: {version([args.python, '--version'])}; {version(['g++', '--version'], 0)}")
        emit("# verdicts: overall (AC, or the first failing test's); tests = per-test verdicts equal / tests")
        emit(f"{'problem':<28} {'program':<15} {'lang':<6} {'sstar':<5} {'oj':<5} {'agree':<5} {'tests':<6} "
             f"{'sstar s':>7} {'oj s':>6}  notes (sstar | oj)")
        for pair in pairs:
            problem = load_problem(ROOT / pair.problem)
            limits = limits_for(problem)
            s = run_sstar(pair, problem, sandbox, limits)
            o = run_oj(args.oj, pair, problem, limits, args.scratch, args.python)
            row = Row(pair, s, o)
            rows.append(row)
            emit(f"{problem.id[:28]:<28} {Path(pair.program).name:<15} {pair.language:<6} {s.verdict:<5} {o.verdict:<5} "
                 f"{'yes' if row.agree else 'NO':<5} {row.same_tests:<6} {s.seconds:7.1f} {o.seconds:6.1f}  "
                 f"{s.note} | {o.note}")
    agree = sum(r.agree for r in rows)
    cpp = sum(r.pair.language == "cpp" for r in rows)
    emit(f"{len(rows)} pairs ({cpp} C++, {len(rows) - cpp} Python), {agree} agree")
    fixed = sum(r.agree_first_label for r in rows)
    emit(f"# against oj's verdicts before it relabels TLE/MLE/RE tests WA on an output mismatch: {fixed} agree")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
