"""`sstar bench ...`: benchmarks that print figures (run on purpose, never in tests)."""

from __future__ import annotations

import json

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


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
