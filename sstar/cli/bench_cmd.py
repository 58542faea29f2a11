"""`sstar bench ...`: benchmarks that print figures (run on purpose, never in tests)."""

from __future__ import annotations

import typer

bench_app = typer.Typer(help="Benchmarks: print measured figures (see docs/benchmarks.md).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
