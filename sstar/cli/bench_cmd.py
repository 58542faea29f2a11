"""`sstar bench ...`: benchmarks that print figures (run on purpose, never in tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from sstar.cli.common import note, stdout, user_errors

bench_app = typer.Typer(help="Benchmarks: print measured figures (see docs/benchmarks.md).", no_args_is_help=True)


@bench_app.command("engine")
@user_errors
def bench_engine(
    model: str = typer.Option("qwen2.5-coder-0.5b", "--model", "-m", help="Registry name or path to a .gguf."),
    n: int = typer.Option(8, "-n", min=1, max=256, help="Sequences (candidates) for one prompt."),
    max_tokens: int = typer.Option(128, "--max-tokens", min=1, help="Tokens generated per sequence."),
    threads: int = typer.Option(0, "--threads", min=0, help="CPU threads (0: all cores)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Aggregate tokens/s of N sequences: batched engine vs one at a time (high-level API)."""
    from sstar.engine.bench import run_engine_bench

    result = run_engine_bench(
        model, n=n, max_tokens=max_tokens, n_threads=threads or None,
        progress=note,
    )
    if as_json:
        stdout.print_json(json.dumps(result.to_json()))
        return
    table = Table(title=f"{model}: {n} sequences x {max_tokens} tokens, {result.threads} threads")
    for col in ("path", "tokens", "seconds", "tok/s"):
        table.add_column(col, justify="left" if col == "path" else "right")
    table.add_row("sequential", str(result.sequential_tokens), f"{result.sequential_s:.1f}", f"{result.sequential_tok_s:.1f}")
    table.add_row("batched", str(result.batched_tokens), f"{result.batched_s:.1f}", f"{result.batched_tok_s:.1f}")
    stdout.print(table)
    stdout.print(
        f"ratio {result.ratio:.2f}x; prompt {result.prompt_tokens} tokens, evaluated {result.prompt_tokens_evaluated} "
        f"for {n} candidates; load average {result.loadavg_before[0]:.2f} before, {result.loadavg_after[0]:.2f} after"
    )
    stdout.print(
        f"one decode step: {result.step_ms_1:.1f} ms for 1 sequence, {result.step_ms_n:.1f} ms for {n}: "
        f"batching can gain at most {result.decode_ceiling:.2f}x on this machine"
    )


@bench_app.command("sandbox")
@user_errors
def bench_sandbox(
    runs: int = typer.Option(500, "--runs", min=1, help="Tests timed per method."),
    batch: int = typer.Option(10, "--batch", min=1, help="Tests per sandbox call (a problem's tests go in one call)."),
    parallel: int = typer.Option(1, "--parallel", min=1, help="Sandbox slots (1: as sequential as the baseline)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Per-test cost of the Docker and process sandboxes vs `/usr/bin/python3 -I prog.py < in` via subprocess."""
    from sstar.sandbox.bench import figures_table_rows, run_sandbox_bench

    result = run_sandbox_bench(runs, batch=batch, parallel=parallel, progress=note)
    if as_json:
        stdout.print_json(json.dumps(result.to_json()))
        return
    table = Table(title=f"sandbox: {runs} runs of a trivial program per method, {result.cpus} CPUs")
    for col in ("method", "runs", "ms/test", "vs direct"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for row in figures_table_rows(result):
        table.add_row(*row)
    stdout.print(table)
    stdout.print(f"load average {result.loadavg_before[0]:.2f} before, {result.loadavg_after[0]:.2f} after")


def _echo_problems(root: Path, count: int, tests: int) -> Path:
    """Problems the scripted model's demo (echo) program solves: orchestration, not the model, is timed."""
    for i in range(count):
        folder = root / f"p{i:03d}"
        (folder / "tests" / "public").mkdir(parents=True)
        (folder / "problem.md").write_text(f"# Echo {i}\n\nPrint the input unchanged.\n")
        for t in range(tests):
            for ext in ("in", "out"):
                (folder / "tests" / "public" / f"{t}.{ext}").write_text(f"{i} {t}\n")
    return root


@bench_app.command("ray")
@user_errors
def bench_ray(
    problems: int = typer.Option(32, "--problems", min=1, help="Problems in the set (scripted engine, echo programs)."),
    tests: int = typer.Option(4, "--tests", min=1, help="Public tests per problem."),
    workers: int = typer.Option(2, "--workers", min=1, help="Threads for the one-machine run, Ray workers for the other."),
    sandbox: str = typer.Option("auto", "--sandbox", help="Sandbox backend on this machine."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Orchestration cost per problem: `batch --workers K` threads against Ray tasks (K and 1 workers), same engine."""
    import os
    import tempfile
    import time

    from sstar.distributed import RayOptions, RemoteSpec, import_ray, run_batch_ray
    from sstar.pipeline.types import SolveConfig, Strategy
    from sstar.session import Session

    import_ray()
    config = SolveConfig(strategy=Strategy.ZERO_SHOT, n=1, rounds=0)
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="sstar-bench-ray-") as tmp:
        probs = _echo_problems(Path(tmp) / "set", problems, tests)
        note(f"threads: {problems} problems, {workers} workers ...")
        with Session("scripted", sandbox, config=config) as session:
            session.open()  # the sandbox starts outside the timed run, as in `sstar batch`
            summary = session.batch([probs], Path(tmp) / "threads.jsonl", workers=workers)
        rows.append({"how": f"threads x{workers}", "workers": workers, "solved": summary.solved, "wall_s": summary.wall_s})
        for k in sorted({workers, 1}, reverse=True):
            note(f"ray: {problems} problems, {k} workers ...")
            spec = RemoteSpec(model="scripted", sandbox=sandbox, config=config, exec_cache=False)
            started = time.monotonic()
            summary = run_batch_ray([probs], Path(tmp) / f"ray{k}.jsonl", spec, RayOptions(num_cpus=k))
            total = time.monotonic() - started  # Ray's start and shutdown included
            rows.append({"how": f"ray x{k}", "workers": k, "solved": summary.solved, "wall_s": summary.wall_s,
                         "with_ray_start_s": round(total, 3)})  # fmt: skip
    base = rows[0]["wall_s"]
    ray_same = next(r for r in rows if r["how"] == f"ray x{workers}")
    result = {
        "problems": problems, "tests": tests, "workers": workers, "cpus": os.cpu_count(), "rows": rows,
        "ratio_ray_vs_threads": round(ray_same["wall_s"] / base, 3) if base else None,
        "overhead_ms_per_problem": round(1000 * (ray_same["wall_s"] - base) / problems, 1),
        "loadavg_before": load_before[0], "loadavg_after": os.getloadavg()[0],
    }  # fmt: skip
    if as_json:
        stdout.print_json(json.dumps(result))
        return
    table = Table(title=f"batch orchestration: {problems} echo problems x {tests} tests, scripted engine, {os.cpu_count()} CPUs")
    for col in ("run", "solved", "wall s", "ms/problem", "problems/s", "with Ray start s"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for r in rows:
        table.add_row(r["how"], str(r["solved"]), f"{r['wall_s']:.2f}", f"{1000 * r['wall_s'] / problems:.0f}",
                      f"{problems / r['wall_s']:.2f}" if r["wall_s"] else "-", f"{r.get('with_ray_start_s', 0):.1f}" if "with_ray_start_s" in r else "-")  # fmt: skip
    stdout.print(table)
    stdout.print(
        f"Ray x{workers} / threads x{workers}: {result['ratio_ray_vs_threads']}x, "
        f"{result['overhead_ms_per_problem']} ms more per problem; load average {load_before[0]:.2f} before, "
        f"{result['loadavg_after']:.2f} after"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
