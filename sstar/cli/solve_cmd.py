"""`sstar solve PROBLEM`: the S* pipeline (or a baseline) on one problem; the program goes to stdout."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.live import Live
from rich.table import Table
from rich.text import Text

from sstar.cli.common import COMPLETION_CACHE_OPTION, LANGUAGE_OPTION, MAX_TOKENS_OPTION, MODEL_OPTION, N_OPTION, ROUNDS_OPTION, SANDBOX_OPTION, SEED_OPTION, STRATEGY_OPTION, TEMPERATURE_OPTION, note, stderr, user_errors, warn
from sstar.cli.common import MIN_P_OPTION, SAMPLING_OPTION, TEMPERATURES_OPTION, parse_temperatures  # pool (POOL)
from sstar.pipeline.types import Progress, SolveConfig, SolveResult, Strategy


class ProgressLine:
    """One live line on stderr: stage, candidates alive/passing, tokens/s, elapsed."""

    def __init__(self) -> None:
        self.live = Live(Text(""), console=stderr, refresh_per_second=4, transient=True)
        self.started = time.monotonic()

    def __call__(self, p: Progress) -> None:
        line = Text.assemble(
            (f"[{p.stage}] ", "bold cyan"),
            f"{p.message}  ",
            (f"alive {p.alive} passing {p.passing}  {p.tokens} tok  {p.tok_s:.1f} tok/s  {p.elapsed_s:.0f}s", "dim"),
        )
        self.live.update(line)
        if p.stage != "done":
            stderr.print(line)  # keep a scroll-back log of the stages too

    def __enter__(self) -> "ProgressLine":
        if stderr.is_terminal:
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()


def summary_table(result: SolveResult) -> Table:
    table = Table(title=f"sstar solve: {result.problem_id}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("strategy", result.strategy)
    table.add_row("candidates", f"{result.candidates} ({result.candidates_passing_public} pass the public tests)")
    table.add_row("chosen: public tests", f"{result.public.passed}/{result.public.total} ({result.public.verdict.value})")
    table.add_row("behaviour clusters", str(result.clusters))
    table.add_row("judge calls", str(result.judge_calls))
    table.add_row("tokens", f"{result.prompt_tokens} prompt + {result.completion_tokens} generated")
    table.add_row("wall time", f"{result.wall_s:.1f} s")
    if result.interrupted:
        table.add_row("note", "[yellow]interrupted: best program so far[/]")
    return table


def register(app: typer.Typer) -> None:
    @app.command("solve")
    @user_errors
    def solve_command(
        problem: Path = typer.Argument(..., help="problem.md, a problem directory, a Kattis package or a function-call problem."),
        n: int = N_OPTION,
        rounds: int = ROUNDS_OPTION,
        strategy: Strategy = STRATEGY_OPTION,
        model: str = MODEL_OPTION,
        sandbox: str = SANDBOX_OPTION,
        seed: int = SEED_OPTION,
        temperature: float = TEMPERATURE_OPTION,
        max_tokens: int = MAX_TOKENS_OPTION,
        language: str = LANGUAGE_OPTION,
        sampling: str = SAMPLING_OPTION,
        temperatures: Optional[str] = TEMPERATURES_OPTION,
        min_p: float = MIN_P_OPTION,
        out: Optional[Path] = typer.Option(None, "--out", help="Write the program here instead of stdout."),
        completion_cache: Optional[Path] = COMPLETION_CACHE_OPTION,
        trace_file: Optional[Path] = typer.Option(None, "--trace", help="Write the whole run as JSON."),
    ) -> None:
        """Generate N candidates, debug them on the public tests, select one by input synthesis."""
        from sstar.loaders import load_problem
        from sstar.pipeline.solve import check_language
        from sstar.session import Session
        from sstar.trace import Trace

        prob = load_problem(problem)
        config = SolveConfig(strategy=strategy, n=n, rounds=rounds, seed=seed, temperature=temperature, max_tokens=max_tokens, language=language)
        config = dataclasses.replace(config, sampling=sampling, temperatures=parse_temperatures(temperatures), min_p=min_p)  # pool (POOL)
        check_language(prob, config)  # before the model loads
        trace = Trace(problem=prob.id, path=str(problem), model=model) if trace_file else None
        note(f"loading model {model} ...")
        with Session(model, sandbox, config=config, completion_cache=completion_cache, warn=warn) as session:
            session.open()  # the sandbox, then the model: now, not inside the progress display
            with ProgressLine() as progress:
                result = session.solve(prob, progress=progress, trace=trace)
        if trace is not None and trace_file is not None:
            trace.save(trace_file)
        stderr.print(summary_table(result))
        if not result.program:
            stderr.print("[red]no program was produced[/]")
            raise typer.Exit(1)
        if out is not None:
            out.write_text(result.program if result.program.endswith("\n") else result.program + "\n")
            stderr.print(f"wrote {out}")
        else:
            sys.stdout.write(result.program if result.program.endswith("\n") else result.program + "\n")
            sys.stdout.flush()
        if result.interrupted:
            raise typer.Exit(130)
