"""How often one debug round repairs a failing candidate, for two repair requests side by side.

Replays the failing first attempts recorded in ``sstar batch --trace-dir`` traces: for each
candidate that failed a public test at generation, the conversation it had (statement,
its reply) plus the public-test feedback, and asks the model for one repair, exactly as
debug round 1 does (temperature 0.3, the pipeline's seeds). Every candidate is repaired
twice in the same batch, once per variant, so the variants differ only in the request
that ends the feedback:

- ``current``: the pipeline's own feedback (``sstar.pipeline.prompts.debug_feedback``);
- ``by-failure``: the same, with the closing request chosen by how the first failing test
  failed (``BY_FAILURE`` below). Measured in session 4: no better, see docs/benchmarks.md.
  Edit it to try another request.

Prints, per variant, the repairs that pass every public test and those that pass more
public tests than before. Only public tests are used; hidden tests are removed on load.

    python bench/repair_rate.py TRACE_DIR... [--model qwen2.5-coder-1.5b] [--out FILE.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sstar.engine import open_engine
from sstar.engine.base import Message, Request, SamplingParams
from sstar.extract import extract_code
from sstar.judge import judge, limits_for
from sstar.loaders import load_problem
from sstar.pipeline import prompts
from sstar.problem import Problem
from sstar.sandbox import open_sandbox
from sstar.verdict import TestResult

BY_FAILURE = {
    "RE": "say in one or two sentences why it crashes (the error names the line); often the program "
    "reads the input in another shape than the statement gives (re-read the input format)",
    "TLE": "say in one or two sentences why it is too slow or too big: estimate its work on the largest "
    "input the constraints allow, and whether it can loop forever or wait for input; then pick a faster "
    "algorithm if needed",
    "WA": "work out by hand, in a few lines, why the expected output of the first failing test is right "
    "(follow the statement on that input), then name the step where your program computes something different",
}
BY_FAILURE["MLE"] = BY_FAILURE["TLE"]
VARIANTS = ("current", "by-failure")


def feedback(variant: str, problem: Problem, results: Sequence[TestResult]) -> str:
    text = prompts.debug_feedback(problem, problem.public_tests, results)
    if variant == "by-failure":
        # The pipeline's closing request is the feedback's last paragraph: replace it.
        think = BY_FAILURE.get(_first_failure(results), BY_FAILURE["WA"])
        text = text.rsplit("\n\n", 1)[0] + f"\n\nFirst {think}. Then reply with the whole corrected program in one ```python block."
    return text


def _first_failure(results: Sequence[TestResult]) -> str:
    return next(r.verdict.value for r in results if not r.passed)


def failing_attempts(trace: dict[str, Any]) -> list[tuple[int, list[Message], str, str]]:
    """(candidate, generation messages, reply, program) of each candidate that failed at generation."""
    events = trace["events"]
    # program -> (conversation, reply) of each generated reply, extracted once.
    replies: dict[str | None, tuple[list[Message], str]] = {}
    for e in events:
        if e["kind"] == "llm" and e["stage"] == "generate":
            msgs = [Message(m["role"], m["content"]) for m in e["messages"]]
            for r in e["replies"]:
                text = r["text"] if isinstance(r, dict) else r
                replies.setdefault(extract_code(text), (msgs, text))
    out = []
    for e in events:
        if e["kind"] == "public_tests" and e["stage"] == "generate" and e["verdict"] != "AC" and e.get("program"):
            # The candidate's reply is the one its program was extracted from.
            if e["program"] in replies:
                msgs, text = replies[e["program"]]
                out.append((e["candidate"], msgs, text, e["program"]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("traces", nargs="+", type=Path)
    ap.add_argument("--problems-root", type=Path, default=Path("../shared/benchmarks"))
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--max-tokens", type=int, default=1024)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--skip-crashes", action="store_true",
                    help="leave out candidates whose first failing test crashed (both variants ask about the input there)")
    args = ap.parse_args()

    roots = {p.name: p for p in args.problems_root.glob("*/*") if p.is_dir()}
    files = sorted(f for d in args.traces for f in d.glob("*.json"))
    counts = {v: {"repairs": 0, "fixed": 0, "improved": 0, "worse": 0, "no_code": 0, "tokens": 0} for v in VARIANTS}
    sink = args.out.open("w") if args.out else None
    started = time.perf_counter()
    with open_engine(args.model) as engine, open_sandbox("auto") as sandbox:
        for f in files:
            trace = json.loads(f.read_text())
            pid = next(e["problem"] for e in trace["events"] if e["kind"] == "start")
            problem = load_problem(roots[pid]).without_hidden()
            limits = limits_for(problem)
            jobs = []
            for cand, messages, reply, program in failing_attempts(trace):
                before = judge(program, problem, sandbox, "public", limits)
                if before.all_passed or (args.skip_crashes and _first_failure(before.tests) == "RE"):
                    continue
                for variant in VARIANTS:
                    convo = (*messages, Message("assistant", reply), Message("user", feedback(variant, problem, before.tests)))
                    params = SamplingParams(temperature=0.3, max_tokens=args.max_tokens, seed=100 + cand,
                                            stop_after_block="python", stop_on_repetition=True)
                    jobs.append((variant, cand, before, Request(convo, 1, params)))
            if not jobs:
                continue
            for (variant, cand, before, _), (c,) in zip(jobs, engine.generate([j[3] for j in jobs])):
                code = extract_code(c.text)
                after = judge(code, problem, sandbox, "public", limits) if code else None
                k = counts[variant]
                k["repairs"] += 1
                k["tokens"] += c.completion_tokens
                k["no_code"] += after is None
                passed = after.passed if after else 0
                k["fixed"] += bool(after and after.all_passed)
                k["improved"] += passed > before.passed
                k["worse"] += passed < before.passed
                row = {"problem": pid, "candidate": cand, "variant": variant, "first_verdict": _first_failure(before.tests),
                       "before": before.passed, "after": passed, "total": len(before.tests), "fixed": bool(after and after.all_passed), "tokens": c.completion_tokens}
                if sink:
                    sink.write(json.dumps(row) + "\n")
                    sink.flush()
            print(pid, {v: (counts[v]["fixed"], counts[v]["repairs"]) for v in VARIANTS}, f"{time.perf_counter() - started:.0f}s", flush=True)
    print(json.dumps({"files": len(files), "seconds": round(time.perf_counter() - started), **counts}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
