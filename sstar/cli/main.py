"""Entry point: assembles the command groups into one Typer app."""

from __future__ import annotations

import typer

from sstar.cli import (
    batch_cmd,
    bench_cmd,
    check_cmd,
    doctor_cmd,
    judge_cmd,
    models_cmd,
    report_cmd,
    sandbox_cmd,
    solve_cmd,
)

app = typer.Typer(
    name="sstar",
    help="Make a small local LLM write correct competitive-programming solutions (S*: generate, debug, select).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (solve_cmd, judge_cmd, batch_cmd, report_cmd, check_cmd, models_cmd, sandbox_cmd, doctor_cmd, bench_cmd):
    module.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
