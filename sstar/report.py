"""Reports over batch run files: pass rate, tokens, judge calls and time, run by run.

Several runs (e.g. one per strategy) are shown side by side: a summary row per run,
and a table with a row per problem and a column per run. Output formats: a rich table
(for people), Markdown (pasted into docs/benchmarks.md), JSON and CSV (long format: one
row per run and problem), and a plot of pass rate against compute.

Reading is lenient, unlike ``sstar batch --resume``: a report never writes, so a corrupt
line or a torn last line is skipped with a warning rather than stopping it.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from sstar.batch import read_run_file
from sstar.errors import SstarError
from sstar.record import RunRecord


class ReportError(SstarError):
    """A report cannot be made; the message says what to do."""


@dataclass
class Run:
    name: str
    path: Path
    records: dict[str, RunRecord]  # problem key -> record (file order)
    warnings: list[str] = field(default_factory=list)


@dataclass
class RunSummary:
    name: str
    path: str
    strategy: str
    model: str
    problems: int
    solved: int
    pass_rate: float  # solved / problems
    public_ok: int  # chosen program passed every public test (solved or not on hidden)
    errors: int
    tokens_mean: float
    prompt_tokens_mean: float
    completion_tokens_mean: float
    tokens_total: int
    judge_calls_mean: float
    wall_mean_s: float
    wall_total_s: float
    # Mean confidence of the solved and of the unsolved problems (None: no record has one):
    # a confidence that means something is higher on the first (docs/selection.md).
    confidence_solved_mean: float | None = None
    confidence_unsolved_mean: float | None = None


def problem_label(rec: RunRecord) -> str:
    """A problem's row name: its id, else its path (the directory for problem.md / problem.yaml)."""
    if rec.id:
        return str(rec.id)
    path = Path(rec.path)
    if path.name in ("problem.md", "problem.yaml"):
        return path.parent.name or rec.path
    return path.stem or rec.path


def load_run(path: Path | str, name: str | None = None) -> Run:
    path = Path(path)
    if path.is_dir():
        raise ReportError(f"{path} is a directory; pass the RUN.jsonl file written by `sstar batch --out`")
    raw = read_run_file(path, strict=False)
    run = Run(name=name or path.stem, path=path, records={})
    for number, reason in raw.bad_lines:
        run.warnings.append(f"{path}:{number}: skipped, not a batch record ({reason})")
    records = list(raw.records)
    if raw.tail_record is not None:
        records.append(raw.tail_record)
    elif raw.torn_tail.strip():
        run.warnings.append(f"{path}: skipped an incomplete last line (a killed run; `sstar batch --resume` repairs it)")
    where: dict[str, str] = {}
    for rec in records:
        key = problem_label(rec)
        abs_path = str(rec.key_path)
        if key in where and where[key] != abs_path:
            key = f"{key} ({rec.path})"  # two problems with one id: keep both
        if key in run.records and (rec.budget or {}).get("pass") != 2:  # a --set-budget second pass replaces by design
            run.warnings.append(f"{path}: {key} is recorded twice; the later record counts")
        where.setdefault(key, abs_path)
        run.records[key] = rec
    if not run.records:
        run.warnings.append(f"{path}: no records")
    return run


def load_runs(paths: Sequence[Path | str]) -> list[Run]:
    if not paths:
        raise ReportError("pass at least one RUN.jsonl file written by `sstar batch`")
    stems = Counter(Path(p).stem for p in paths)
    runs = []
    taken: set[str] = set()
    for p in paths:
        # Same file names in different directories (runs/a/RUN.jsonl, runs/b/RUN.jsonl): use the path.
        name = Path(p).stem if stems[Path(p).stem] == 1 else os.fspath(Path(p).with_suffix(""))
        base, k = name, 2
        while name in taken:  # the same file twice
            name, k = f"{base} ({k})", k + 1
        taken.add(name)
        runs.append(load_run(p, name))
    return runs


def _most_common(values: list[Any]) -> str:
    values = [v for v in values if v]
    if not values:
        return "?"
    common = Counter(values).most_common()
    return str(common[0][0]) + (" (mixed)" if len(common) > 1 else "")


def _public_ok(rec: RunRecord) -> bool:
    return bool(rec.program) and rec.public_verdict == "AC"


def summarize(run: Run) -> RunSummary:
    recs = list(run.records.values())
    n = len(recs)

    def mean(key: str) -> float:
        return sum(float(getattr(r, key) or 0) for r in recs) / n if n else 0.0

    solved = sum(bool(r.solved) for r in recs)
    return RunSummary(
        name=run.name,
        path=os.fspath(run.path),
        strategy=_most_common([r.strategy for r in recs]),
        model=_most_common([r.model for r in recs]),
        problems=n,
        solved=solved,
        pass_rate=solved / n if n else 0.0,
        public_ok=sum(_public_ok(r) for r in recs),
        errors=sum(r.error is not None for r in recs),
        tokens_mean=mean("tokens"),
        prompt_tokens_mean=mean("prompt_tokens"),
        completion_tokens_mean=mean("completion_tokens"),
        tokens_total=int(sum(int(r.tokens or 0) for r in recs)),
        judge_calls_mean=mean("judge_calls"),
        wall_mean_s=mean("wall_s"),
        wall_total_s=sum(float(r.wall_s or 0) for r in recs),
        confidence_solved_mean=_mean_confidence([r for r in recs if r.solved]),
        confidence_unsolved_mean=_mean_confidence([r for r in recs if not r.solved]),
    )


def _mean_confidence(recs: list[RunRecord]) -> float | None:
    values = [float(r.confidence) for r in recs if r.confidence is not None]
    return round(sum(values) / len(values), 4) if values else None


def problem_keys(runs: Sequence[Run]) -> list[str]:
    """Every problem of every run, in first-seen order sorted by name (stable across reports)."""
    keys: dict[str, None] = {}
    for run in runs:
        for key in run.records:
            keys.setdefault(key, None)
    return sorted(keys)


# --------------------------------------------------------------------------------------
# Formatting helpers


def fmt_tokens(n: float) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return f"{n:.0f}"


def fmt_seconds(s: float) -> str:
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    if s >= 60:
        return f"{s / 60:.1f} min"
    return f"{s:.1f} s"


def _outcome(rec: RunRecord) -> str:
    """A short reason for an unsolved problem."""
    if rec.error is not None:
        return "error"
    if not rec.program:
        return "no program"
    if rec.public_verdict != "AC":
        return f"public {rec.public_verdict}"
    if rec.hidden_verdict not in (None, "AC"):
        return f"hidden {rec.hidden_verdict}"
    return "unsolved"


def _cell_text(rec: RunRecord | None, *, md: bool) -> str:
    if rec is None:
        return "—"
    mark = ("✅" if md else "✓") if rec.solved else ("⚠️" if md else "!") if rec.error else ("❌" if md else "✗")
    head = mark if rec.solved else f"{mark} {_outcome(rec)}"
    # Requests answered by a completion cache cost no model time: say so next to the time.
    hits = int(rec.completion_cache_hits or 0)
    cached = f" ({hits} cached)" if hits else ""
    return (
        f"{head} · {fmt_tokens(float(rec.tokens or 0))} tok · "
        f"{int(rec.judge_calls or 0)} jc · {fmt_seconds(float(rec.wall_s or 0))}{cached}"
    )


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# --------------------------------------------------------------------------------------
# Renderers


def render_markdown(runs: Sequence[Run]) -> str:
    summaries = [summarize(r) for r in runs]
    out = io.StringIO()
    out.write("| run | strategy | model | solved | pass rate | public ✓ | mean tokens | mean judge calls | mean time | total time | errors |\n")
    out.write("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    for s in summaries:
        out.write(
            f"| {_md_escape(s.name)} | {_md_escape(s.strategy)} | {_md_escape(s.model)} | {s.solved}/{s.problems} | "
            f"{100 * s.pass_rate:.1f}% | {s.public_ok} | {fmt_tokens(s.tokens_mean)} | {s.judge_calls_mean:.1f} | "
            f"{fmt_seconds(s.wall_mean_s)} | {fmt_seconds(s.wall_total_s)} | {s.errors} |\n"
        )
    out.write("\n")
    out.write("| problem | " + " | ".join(_md_escape(r.name) for r in runs) + " |\n")
    out.write("|---|" + "---|" * len(runs) + "\n")
    for key in problem_keys(runs):
        cells = [_cell_text(r.records.get(key), md=True) for r in runs]
        out.write(f"| {_md_escape(key)} | " + " | ".join(cells) + " |\n")
    totals = [f"**{s.solved}/{s.problems} ({100 * s.pass_rate:.1f}%)** · {fmt_tokens(s.tokens_mean)} tok/problem" for s in summaries]
    out.write("| **solved** | " + " | ".join(totals) + " |\n")
    return out.getvalue()


CSV_FIELDS = (
    "run", "problem", "id", "path", "strategy", "model", "solved",
    "public_verdict", "public_passed", "public_total", "hidden_verdict", "hidden_passed", "hidden_total",
    "prompt_tokens", "completion_tokens", "tokens", "judge_calls", "clusters", "candidates",
    "candidates_passing_public", "wall_s", "completion_cache_hits", "error", "confidence", "judge_no_verdict",
)  # fmt: skip


def _field(rec: RunRecord, name: str) -> Any:
    """A column of the long formats (None for one the record does not have)."""
    return getattr(rec, name, None)


def render_csv(runs: Sequence[Run]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for run in runs:
        for key, rec in run.records.items():
            writer.writerow({**{f: _field(rec, f) for f in CSV_FIELDS}, "run": run.name, "problem": key})
    return out.getvalue()


def render_json(runs: Sequence[Run]) -> dict[str, Any]:
    keep = [f for f in CSV_FIELDS if f not in ("run", "problem")]
    return {
        "runs": [asdict(summarize(r)) for r in runs],
        "problems": [
            {
                "problem": key,
                "results": {
                    r.name: ({f: _field(r.records[key], f) for f in keep} if key in r.records else None) for r in runs
                },
            }
            for key in problem_keys(runs)
        ],
        "warnings": [w for r in runs for w in r.warnings],
    }


def render_tables(runs: Sequence[Run]) -> list[Any]:
    """Rich renderables: the per-problem table, then the summary table."""
    from rich.table import Table

    summaries = [summarize(r) for r in runs]
    per_problem = Table(title="per problem", title_justify="left")
    per_problem.add_column("problem", no_wrap=True)
    for run in runs:
        per_problem.add_column(run.name)
    for key in problem_keys(runs):
        cells = []
        for run in runs:
            rec = run.records.get(key)
            text = _cell_text(rec, md=False)
            style = "dim" if rec is None else "green" if rec.solved else "yellow" if rec.error else "red"
            cells.append(f"[{style}]{text}[/]")
        per_problem.add_row(key, *cells, end_section=False)
    per_problem.add_section()
    per_problem.add_row(
        "[bold]solved[/]", *[f"[bold]{s.solved}/{s.problems} ({100 * s.pass_rate:.1f}%)[/]" for s in summaries]
    )

    # A column per run, as in the per-problem table (and it fits a terminal with four runs).
    summary = Table(title="per run", title_justify="left")
    summary.add_column("", style="bold", no_wrap=True)
    for s in summaries:
        summary.add_column(s.name, justify="right")
    for label, values in (
        ("strategy", [s.strategy for s in summaries]),
        ("model", [s.model for s in summaries]),
        ("solved", [f"{s.solved}/{s.problems}" for s in summaries]),
        ("pass rate", [f"{100 * s.pass_rate:.1f}%" for s in summaries]),
        ("public tests passed", [str(s.public_ok) for s in summaries]),
        ("mean tokens", [fmt_tokens(s.tokens_mean) for s in summaries]),
        ("mean judge calls", [f"{s.judge_calls_mean:.1f}" for s in summaries]),
        ("mean confidence: solved / not", [_confidence_pair(s) for s in summaries]),
        ("mean time", [fmt_seconds(s.wall_mean_s) for s in summaries]),
        ("total time", [fmt_seconds(s.wall_total_s) for s in summaries]),
        ("errors", [str(s.errors) for s in summaries]),
    ):
        summary.add_row(label, *values)
    return [per_problem, summary]


def _confidence_pair(s: RunSummary) -> str:
    def one(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    return f"{one(s.confidence_solved_mean)} / {one(s.confidence_unsolved_mean)}"


def plot_runs(runs: Sequence[Run], path: Path | str) -> Path:
    """Pass rate against compute (mean tokens per problem), one labelled point per run.

    Runs of one model are joined by a line, cheapest first, so each model's scaling
    curve reads left to right.
    """
    try:
        import matplotlib
    except ImportError:
        raise ReportError("--plot needs matplotlib: pip install 'sstar[plot]'") from None
    matplotlib.use("Agg")  # files only; never a window
    import matplotlib.pyplot as plt

    path = Path(path)
    summaries = [summarize(r) for r in runs if r.records]
    if not summaries:
        raise ReportError("nothing to plot: the run files hold no records")
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    by_model: dict[str, list[RunSummary]] = {}
    for s in summaries:
        by_model.setdefault(s.model, []).append(s)
    for model, group in by_model.items():
        group.sort(key=lambda s: s.tokens_mean)
        xs = [max(s.tokens_mean, 1.0) for s in group]
        ys = [100 * s.pass_rate for s in group]
        ax.plot(xs, ys, marker="o", linestyle="-" if len(group) > 1 else "none", label=model)
        for s, x, y in zip(group, xs, ys):
            ax.annotate(s.name, (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    xs_all = [max(s.tokens_mean, 1.0) for s in summaries]
    if max(xs_all) / min(xs_all) > 20:
        ax.set_xscale("log")
    ax.set_xlabel("mean tokens per problem (prompt + completion)")
    ax.set_ylabel("pass rate (%)")
    ax.set_ylim(-2, 102)
    ax.set_title("pass rate against compute")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, title="model", title_fontsize=8)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as err:
        raise ReportError(f"cannot write {path}: {err.strerror}; choose another --plot file") from None
    finally:
        plt.close(fig)
    return path


def render(runs: Sequence[Run], fmt: str) -> str:
    """Text output for the md, json and csv formats."""
    if fmt == "md":
        return render_markdown(runs)
    if fmt == "json":
        return json.dumps(render_json(runs), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return render_csv(runs)
    raise ReportError(f"unknown format {fmt!r}; choose table, md, json or csv")
