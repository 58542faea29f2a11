"""`sstar solve PROBLEM`: the S* pipeline (or a baseline) on one problem; the program goes to stdout."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.live import Live
from rich.table import Table
from rich.text import Text

from sstar.cli.common import BUDGET_OPTION, COMPLETION_CACHE_OPTION, LANGUAGE_OPTION, MAX_TOKENS_OPTION, MIN_CONFIDENCE_OPTION, MODEL_OPTION, N_OPTION, ROUNDS_OPTION, SANDBOX_OPTION, SEED_OPTION, STRATEGY_OPTION, TEMPERATURE_OPTION, StrategyChoice, note, stderr, user_errors, warn
from sstar.cli.common import MIN_P_OPTION, SAMPLING_OPTION, TEMPERATURES_OPTION, parse_temperatures  # pool (POOL)
from sstar.pipeline.types import Progress, SolveConfig, SolveResult

if TYPE_CHECKING:
    from sstar.trace import Trace


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
    if not result.program:
        table.add_row("chosen: public tests", "no program")  # nothing ran: not "0/0 (AC)"
    else:
        table.add_row("chosen: public tests", f"{result.public.passed}/{result.public.total} ({result.public.verdict.value})")
    table.add_row("behaviour clusters", str(result.clusters))
    table.add_row("judge calls", str(result.judge_calls) + (f" ({result.judge_no_verdict} without a verdict)" if result.judge_no_verdict else ""))
    table.add_row("confidence", f"{result.confidence:.2f}" + (" [yellow](unsure)[/]" if result.unsure else ""))
    table.add_row("tokens", f"{result.prompt_tokens} prompt + {result.completion_tokens} generated")
    table.add_row("wall time", f"{result.wall_s:.1f} s")
    if result.budget:
        b = result.budget
        table.add_row("budget", f"{b['spent']}/{b['tokens']} generated tokens in {b['waves']} wave{'s' * (b['waves'] != 1)}; stopped: {b['stop']}")
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
        strategy: StrategyChoice = STRATEGY_OPTION,  # type: ignore[valid-type]
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
        min_confidence: float = MIN_CONFIDENCE_OPTION,
        export_tests: Optional[Path] = typer.Option(None, "--export-tests", help="Write the inputs that split behaviours, with the chosen program's outputs, as DIR/test/gen-N.in/.out."),
        budget: Optional[str] = BUDGET_OPTION,
    ) -> None:
        """Generate N candidates, debug them on the public tests, select one by input synthesis."""
        from sstar.loaders import load_problem
        from sstar.pipeline.budgeted import apply_budget
        from sstar.pipeline.solve import check_language
        from sstar.session import Session
        from sstar.testexport import check_export_dir
        from sstar.trace import Trace

        config = SolveConfig(
            strategy=strategy.value, n=n, rounds=rounds, seed=seed, temperature=temperature, max_tokens=max_tokens,
            language=language, min_confidence=min_confidence,
        )  # fmt: skip
        config = dataclasses.replace(config, sampling=sampling, temperatures=parse_temperatures(temperatures), min_p=min_p)  # pool (POOL)
        config = apply_budget(config, budget)
        prob = load_problem(problem)
        check_language(prob, config)  # before the model loads
        if export_tests is not None:
            check_export_dir(export_tests)  # a file there fails before the model loads
        trace = Trace(problem=prob.id, path=str(problem), model=model) if trace_file else None
        note(f"loading model {model} ...")
        with Session(model, sandbox, config=config, completion_cache=completion_cache, warn=warn) as session:
            session.open()  # the sandbox, then the model: now, not inside the progress display
            with ProgressLine() as progress:
                result = session.solve(prob, progress=progress, trace=trace)
        if export_tests is not None and result.program:
            _export(export_tests, result, trace)
        if trace is not None and trace_file is not None:
            trace.save(trace_file)
        stderr.print(summary_table(result))
        if not result.program:
            stderr.print("[red]no program was produced[/]")
            raise typer.Exit(1)
        program = result.program if result.program.endswith("\n") else result.program + "\n"
        if result.unsure:
            mark = unsure_mark(result, config.min_confidence)
            program = mark + "\n" + program
            warn(f"unsure: confidence {result.confidence:.2f} < --min-confidence {config.min_confidence:.2f}; the program is printed with a mark, exit 1")
        if out is not None:
            out.write_text(program)
            stderr.print(f"wrote {out}")
        else:
            sys.stdout.write(program)
            sys.stdout.flush()
        if result.interrupted:
            raise typer.Exit(130)
        if result.unsure:
            raise typer.Exit(1)


def unsure_mark(result: SolveResult, threshold: float) -> str:
    """The comment line that marks an unsure program, in the program's language."""
    prefix = "//" if result.language == "cpp" else "#"
    return f"{prefix} sstar: unsure (confidence {result.confidence:.2f} < {threshold:.2f})"


def _export(directory: Path, result: SolveResult, trace: "Trace | None") -> None:
    from sstar.testexport import export_tests

    if not result.tests:
        note("--export-tests: nothing to export (selection ran no input on which the chosen program answered)")
        return
    written = export_tests(directory, result.tests)
    splitting = sum(w.test.splits for w in written)
    stderr.print(f"wrote {len(written)} tests to {directory / 'test'} ({splitting} split behaviours)", highlight=False)
    if trace is not None:
        # Each exported test, linked to the behaviours (candidate indices) it told apart.
        trace.event(
            "exported_tests",
            tests=[{"in": str(w.input_path), "out": str(w.output_path), "input": w.test.name, "groups": w.test.groups, "splits": w.test.splits} for w in written],
        )
