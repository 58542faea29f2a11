"""`sstar report RUN.jsonl [MORE.jsonl ...]`: pass rates, tokens, judge calls and time, runs side by side."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import List, Optional

import typer

from sstar.cli.common import stderr, stdout, user_errors, warn


class Format(str, enum.Enum):
    table = "table"
    md = "md"
    json = "json"
    csv = "csv"


def register(app: typer.Typer) -> None:
    @app.command("report")
    @user_errors
    def report_command(
        runs: List[Path] = typer.Argument(..., help="Run files written by `sstar batch --out` (one column each)."),
        fmt: Format = typer.Option(Format.table, "--format", "-f", help="table (for people), md, json or csv."),
        plot: Optional[Path] = typer.Option(None, "--plot", help="Also draw pass rate against tokens into this PNG (needs sstar\\[plot])."),
    ) -> None:
        """Summarise one or more batch runs: a row per problem, a column per run, a summary per run."""
        from sstar.report import load_runs, plot_runs, render, render_tables

        loaded = load_runs(runs)
        for run in loaded:
            for warning in run.warnings:
                warn(warning)
        if fmt is Format.table:
            for renderable in render_tables(loaded):
                stdout.print(renderable)
        else:
            sys.stdout.write(render(loaded, fmt.value))
            sys.stdout.flush()
        if plot is not None:
            written = plot_runs(loaded, plot)
            stderr.print(f"wrote {written}")
