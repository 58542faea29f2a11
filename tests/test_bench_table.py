"""bench/unseen40_table.py: the issue 15/19 table from batch records (hand-made records)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bench_unseen40_table", ROOT / "bench" / "unseen40_table.py")
assert spec and spec.loader
table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(table)


def rec(pid: str, solved: bool, public: str, tokens: int, wall: float = 10.0) -> dict:
    return {"id": pid, "solved": solved, "public_verdict": public, "candidates": 16, "candidates_passing_public": int(public == "AC"), "completion_tokens": tokens, "wall_s": wall}


def write(path: Path, recs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path


def test_totals_count_only_problems_every_run_has_and_efficiency_uses_each_runs_pool(tmp_path, capsys):
    a = write(tmp_path / "a.jsonl", [rec("p1", True, "AC", 1000), rec("p2", False, "WA", 3000), rec("p3", False, "AC", 5000)])
    # b is still under way: p3 missing; p1 rerun (the last record counts).
    b = write(tmp_path / "b.jsonl", [rec("p1", False, "WA", 900), rec("p2", False, "AC", 2000), rec("p1", True, "AC", 1100)])
    pool = tmp_path / "pool.json"
    pool.write_text(json.dumps({"rows": [{"problem": p, "a": {"correct": int(p in ("p1", "p2"))}, "b": {"correct": int(p in ("p1", "p3"))}} for p in ("p1", "p2", "p3")]}))
    assert table.main([f"S* new={a}", f"S* mixed={b}", "--pool", str(pool)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2].startswith("| p1 | ✅ 1/16 · 1.0k · 10 s | ✅ 1/16 · 1.1k")
    assert out[4].endswith("| – |")  # p3 not yet run by b
    total = out[-1]
    assert "total (2 problems)" in total
    assert "**1/2** solved, 1 public ✓ · mean 2.0k tok · 10 s · ceiling 1, efficiency 1/1 = 1.00" in total  # plain side: p1
    assert "**1/2** solved, 2 public ✓ · mean 1.6k tok · 10 s · ceiling 2, efficiency 1/2 = 0.50" in total  # mixed side: p1 and p2


def test_bad_arguments_are_one_line_and_exit_2(tmp_path, capsys):
    assert table.main(["no-label"]) == 2
    assert table.main([f"x={tmp_path / 'missing.jsonl'}"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 2
