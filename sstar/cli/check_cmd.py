"""`sstar check [PATH]`: judge every solution of a problem repository (for CI); JUnit XML out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from sstar.cli.common import MIN_CONFIDENCE_OPTION, MODEL_OPTION, N_OPTION, ROUNDS_OPTION, SANDBOX_OPTION, SEED_OPTION, STRATEGY_OPTION, StrategyChoice, note, stderr, stdout, user_errors, warn
from sstar.pipeline.types import SolveConfig


def results_table(summary: Any) -> Table:  # a sstar.check.CheckSummary
    from sstar.check import display_path

    table = Table(title=f"sstar check: {summary.root}", title_justify="left")
    for col in ("problem", "solution", "expect", "result", "time"):
        table.add_column(col, justify="right" if col == "time" else "left")
    for check in summary.problems:
        name = check.target.name
        if check.target.load_error is not None:
            table.add_row(name, "", "", f"[bold red]cannot load:[/] {check.target.load_error}", "")
            continue
        if check.solve_error is not None:
            table.add_row(name, "", "AC", f"[red]--solve-missing failed:[/] {check.solve_error}", "")
        elif check.missing:
            style = "red" if summary.require_solutions else "dim"
            why = f" (--solve-missing: {check.unsure})" if check.unsure else ""
            table.add_row(name, f"[{style}](no solution)[/]", "", f"[{style}]skipped{why}[/]", "")
        for r in check.results:
            # Relative to the problem's directory: the problem column already says where.
            sol = display_path(r.solution.path, check.target.directory) + (" [cyan](generated)[/]" if r.generated else "")
            mark = "[green]✓[/]" if r.ok else "[red]✗[/]"
            table.add_row(name, sol, r.solution.expect, f"{mark} {r.message}", f"{r.time_s:.1f} s")
    return table


def register(app: typer.Typer) -> None:
    @app.command("check")
    @user_errors
    def check_command(
        path: Path = typer.Argument(Path("."), help="Repository (or problem) directory to check."),
        junit: Optional[Path] = typer.Option(None, "--junit", help="Write a JUnit XML report here (CI services render it)."),
        solve_missing: bool = typer.Option(False, "--solve-missing", help="Solve problems that have no solution; write solution.py beside them."),
        require_solutions: bool = typer.Option(False, "--require-solutions", help="A problem without a solution fails the check."),
        sandbox: str = SANDBOX_OPTION,
        cache: bool = typer.Option(False, "--cache/--no-cache", help="Reuse results of identical runs (an unchanged solution is not re-run)."),
        cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Execution cache directory \\[default: $SSTAR_CACHE_DIR or ~/.cache/sstar/exec]."),
        # With --solve-missing: the pipeline's options, shared with solve and batch (cli/common.py).
        n: int = N_OPTION,
        rounds: int = ROUNDS_OPTION,
        strategy: StrategyChoice = STRATEGY_OPTION,  # type: ignore[valid-type]
        model: str = MODEL_OPTION,
        seed: int = SEED_OPTION,
        checker: Optional[str] = typer.Option(None, "--checker", help="exact, tokens, tokens:ci, float:EPS, or a testlib checker program (.cpp or .py), for every problem instead of its own."),
        jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Tests run in parallel (default: the number of cores)."),
        min_confidence: float = MIN_CONFIDENCE_OPTION,
    ) -> None:
        """Judge every solution found under PATH on all tests; exit 0 all as expected, 1 a failure, 2 a broken problem.

        -n, --rounds, --strategy, --model, --seed and --min-confidence apply to --solve-missing
        (a solution below --min-confidence is not written: the problem stays without one)."""
        from sstar.check import CheckError, discover_targets, write_junit
        from sstar.session import Session

        notes: list[str] = []
        targets = discover_targets(path, notes)  # before the sandbox starts: a typo fails fast
        for line in notes:
            note(line)
        if not targets:
            raise CheckError(f"no problems found under {path}; see docs/check.md for the layouts sstar check understands")
        config = SolveConfig(strategy=strategy.value, n=n, rounds=rounds, seed=seed, min_confidence=min_confidence)
        if checker is not None:  # a bad spec or a missing checker program fails before any run
            from sstar.judge import checker_override

            checker_override(checker)
        exec_cache = (cache_dir or True) if cache else False
        with Session(model, sandbox, config=config, exec_cache=exec_cache, parallel=jobs, warn=warn) as session:
            session.open(engine=False)
            if solve_missing:
                note(f"loading model {model} ...")
                session.open()
            with stderr.status("judging ...") as status:

                def on_event(kind: str, check: Any, result: Any) -> None:
                    if kind == "problem":
                        status.update(f"judging {check.target.name} ...")
                    elif kind == "solving":
                        status.update(f"solving {check.target.name} with {model} ...")

                summary = session.check(
                    path, solve_missing=solve_missing, require_solutions=require_solutions, on_event=on_event,
                    targets=targets, checker=checker,
                )  # fmt: skip
        stdout.print(results_table(summary))
        line = (
            f"{summary.passed}/{summary.solutions} solutions as expected, {summary.failed} failing, "
            f"{summary.missing} problems without a solution, {summary.load_errors} unreadable problems"
        )
        stdout.print(line, highlight=False)
        for check in summary.problems:  # the solutions --solve-missing left unwritten, and why
            if check.unsure:
                note(f"--solve-missing skipped {check.target.name}: {check.unsure}")
        if junit is not None:
            write_junit(summary, junit)
            stderr.print(f"wrote {junit}")
        raise typer.Exit(summary.exit_code)
