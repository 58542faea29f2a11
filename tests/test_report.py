"""Reports over run files: summaries, side-by-side tables in every format, the plot."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sstar.report import ReportError, load_runs, plot_runs, render, render_json, summarize


def rec(pid: str, solved: bool, tokens: int, *, strategy: str = "sstar", model: str = "qwen", error: str | None = None,
        hidden: str | None = "AC", judge_calls: int = 2, wall: float = 1.5) -> dict:  # fmt: skip
    return {
        "v": 1, "path": f"problems/{pid}", "abs_path": f"/x/problems/{pid}", "id": pid, "strategy": strategy,
        "model": model, "program": "" if error else "print(1)", "public_verdict": None if error else "AC",
        "public_passed": 1, "public_total": 1, "hidden_verdict": None if error else (hidden if not solved else "AC"),
        "hidden_passed": 0, "hidden_total": 1, "solved": solved, "prompt_tokens": tokens // 2,
        "completion_tokens": tokens - tokens // 2, "tokens": tokens, "judge_calls": judge_calls, "clusters": 1,
        "candidates": 8, "candidates_passing_public": 3, "wall_s": wall, "error": error,
    }  # fmt: skip


def write_run(path: Path, records: list[dict], tail: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records) + tail)
    return path


@pytest.fixture()
def two_runs(tmp_path: Path) -> list[Path]:
    sstar = write_run(tmp_path / "sstar.jsonl", [
        rec("a", True, 4000), rec("b", True, 6000), rec("c", False, 5000, hidden="WA"), rec("d", False, 1000, error="boom"),
    ])  # fmt: skip
    zero = write_run(tmp_path / "zero-shot.jsonl", [
        rec("a", True, 300, strategy="zero-shot", judge_calls=0), rec("b", False, 300, strategy="zero-shot", hidden="WA"),
        rec("c", False, 300, strategy="zero-shot"),
    ])  # fmt: skip
    return [sstar, zero]


def test_summary_figures(two_runs: list[Path]) -> None:
    sstar, zero = (summarize(r) for r in load_runs(two_runs))
    assert (sstar.problems, sstar.solved, sstar.errors, sstar.public_ok) == (4, 2, 1, 3)
    assert sstar.pass_rate == 0.5 and sstar.tokens_mean == 4000 and sstar.tokens_total == 16000
    assert sstar.judge_calls_mean == 2 and sstar.wall_total_s == 6.0 and sstar.strategy == "sstar"
    assert (zero.problems, zero.solved, zero.strategy) == (3, 1, "zero-shot")
    assert zero.pass_rate == pytest.approx(1 / 3)


def test_markdown_puts_runs_side_by_side(two_runs: list[Path]) -> None:
    md = render(load_runs(two_runs), "md")
    rows = md.splitlines()
    assert rows[0].startswith("| run | strategy | model | solved | pass rate |")
    assert "| sstar | sstar | qwen | 2/4 | 50.0% |" in md
    assert "| zero-shot | zero-shot | qwen | 1/3 | 33.3% |" in md
    assert "| problem | sstar | zero-shot |" in md
    row_a = next(r for r in rows if r.startswith("| a |"))
    assert "✅" in row_a and "4.0k tok" in row_a and "300 tok" in row_a
    row_c = next(r for r in rows if r.startswith("| c |"))
    assert "hidden WA" in row_c
    row_d = next(r for r in rows if r.startswith("| d |"))
    assert "⚠️ error" in row_d and row_d.rstrip().endswith("| — |")  # zero-shot has no record of d
    assert rows[-1].startswith("| **solved** | **2/4 (50.0%)**")


def test_csv_is_long_format_and_json_has_summaries_and_problems(two_runs: list[Path]) -> None:
    runs = load_runs(two_runs)
    rows = list(csv.DictReader(io.StringIO(render(runs, "csv"))))
    assert len(rows) == 7
    assert {(r["run"], r["problem"], r["solved"]) for r in rows} >= {("sstar", "a", "True"), ("zero-shot", "b", "False")}
    data = json.loads(render(runs, "json"))
    assert [r["name"] for r in data["runs"]] == ["sstar", "zero-shot"]
    d_row = next(p for p in data["problems"] if p["problem"] == "d")
    assert d_row["results"]["zero-shot"] is None and d_row["results"]["sstar"]["error"] == "boom"
    assert render_json(runs)["warnings"] == []


def test_bad_and_torn_lines_are_skipped_with_warnings(tmp_path: Path) -> None:
    path = write_run(tmp_path / "r.jsonl", [rec("a", True, 10)], tail=b"not json\n" + json.dumps(rec("b", False, 5)).encode() + b"\n{\"path\": \"x\", \"i")
    run = load_runs([path])[0]
    assert sorted(run.records) == ["a", "b"]
    assert any("r.jsonl:2: skipped" in w for w in run.warnings)
    assert any("incomplete last line" in w for w in run.warnings)


def test_runs_with_the_same_file_name_get_their_directories_as_names(tmp_path: Path) -> None:
    a = write_run(tmp_path / "x" / "run.jsonl", [rec("a", True, 10)])
    b = write_run(tmp_path / "y" / "run.jsonl", [rec("a", False, 10)])
    names = [r.name for r in load_runs([a, b])]
    assert names[0].endswith("x/run") and names[1].endswith("y/run")


def test_plot_writes_a_png(two_runs: list[Path], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = plot_runs(load_runs(two_runs), tmp_path / "plot.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_what_to_install(two_runs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if not installed
    with pytest.raises(ReportError, match=r"pip install 'sstar\[plot\]'"):
        plot_runs(load_runs(two_runs), tmp_path / "plot.png")


def test_cli_formats_and_errors(two_runs: list[Path], tmp_path: Path) -> None:
    from sstar.cli.main import app

    runner = CliRunner()
    table = runner.invoke(app, ["report", *map(str, two_runs)])
    assert table.exit_code == 0, table.output
    assert "per run" in table.output and "50.0%" in table.output
    md = runner.invoke(app, ["report", *map(str, two_runs), "--format", "md"])
    assert md.exit_code == 0 and md.output.startswith("| run |")
    missing = runner.invoke(app, ["report", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "does not exist" in " ".join(missing.output.split())
