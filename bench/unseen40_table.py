"""The issue 15/19 table from the batch records of `bench/unseen40.sh`: one row per problem, one column per run.

Per cell: ✅ solved (hidden tests), ◐ the chosen program passes the public tests only, ❌ not
even those; public-passing candidates / candidates; completion tokens; wall time. Rows follow
the first run's record order (the driver's order); only problems every run has are counted in
the totals, so a run still under way is compared on the same problems. With ``--pool``
(``bench/pool.py``'s JSON for mixed against plain) the totals add the pool ceilings and the
selection efficiency (solved / problems with a correct candidate in that run's pool).

    python3 bench/unseen40_table.py [--pool bench/runs/pool-mixed-vs-plain-unseen40.json] [LABEL=RECORDS.jsonl ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RUNS = Path(__file__).resolve().parent / "runs"
DEFAULT = {
    "S* 832ce1e": "sstar-1.5b-n16r0-unseen40.jsonl",
    "S* new": "sstar-new-1.5b-n16r0-unseen40.jsonl",
    "majority": "majority-1.5b-n16-unseen40.jsonl",
    "S* mixed": "pool-mixed-1.5b-n16r0-unseen40.jsonl",
}
# Which side of pool.py's JSON is each run's pool: "a" is mixed, "b" plain (the S* samples).
POOL_SIDE = {"S* 832ce1e": "b", "S* new": "b", "majority": "b", "S* mixed": "a"}


def load(path: Path) -> dict[str, dict]:
    """The last record of each problem (a resumed run may have rerun one)."""
    out: dict[str, dict] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            rec = json.loads(line)
            out[rec["id"]] = rec
    return out


def cell(rec: dict | None) -> str:
    if rec is None:
        return "–"
    mark = "✅" if rec.get("solved") else "◐" if rec.get("public_verdict") == "AC" else "❌"
    return f"{mark} {rec.get('candidates_passing_public', 0)}/{rec.get('candidates', 0)} · {rec['completion_tokens'] / 1000:.1f}k · {rec.get('wall_s', 0):.0f} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="*", help="LABEL=RECORDS.jsonl (default: the four per-problem runs)")
    ap.add_argument("--pool", type=Path, help="bench/pool.py's JSON (mixed against plain)")
    args = ap.parse_args(argv)
    pairs = [r.split("=", 1) for r in args.runs] if args.runs else [(k, str(RUNS / v)) for k, v in DEFAULT.items()]
    if any(len(p) != 2 for p in pairs):
        print("give runs as LABEL=RECORDS.jsonl", file=sys.stderr)
        return 2
    runs = {}
    for label, path in pairs:
        if not Path(path).is_file():
            print(f"{path}: no such records file", file=sys.stderr)
            return 2
        runs[label] = load(Path(path))
    order = list(next(iter(runs.values())))
    common = [p for p in order if all(p in recs for recs in runs.values())]
    ceilings: dict[str, set[str]] = {"a": set(), "b": set()}
    if args.pool:
        for row in json.loads(args.pool.read_text())["rows"]:
            for side in ("a", "b"):
                if row[side]["correct"]:
                    ceilings[side].add(row["problem"])
    print("| problem | " + " | ".join(runs) + " |")
    print("|---|" + "---:|" * len(runs))
    for p in order:
        print(f"| {p[:40]} | " + " | ".join(cell(recs.get(p)) for recs in runs.values()) + " |")
    totals = []
    for label, recs in runs.items():
        rs = [recs[p] for p in common]
        n = len(rs) or 1
        solved = sum(bool(r.get("solved")) for r in rs)
        public = sum(r.get("public_verdict") == "AC" for r in rs)
        text = f"**{solved}/{len(rs)}** solved, {public} public ✓ · mean {sum(r['completion_tokens'] for r in rs) / n / 1000:.1f}k tok · {sum(r.get('wall_s', 0) for r in rs) / n:.0f} s"
        side = POOL_SIDE.get(label)
        if args.pool and side:
            ceiling = len(ceilings[side] & set(common))
            text += f" · ceiling {ceiling}, efficiency " + (f"{solved}/{ceiling} = {solved / ceiling:.2f}" if ceiling else "0/0")
        totals.append(text)
    print(f"| **total ({len(common)} problems)** | " + " | ".join(totals) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
