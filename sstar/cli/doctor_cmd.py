"""`sstar doctor`: check everything `sstar solve` needs here and say what to fix."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from sstar.cli.common import MODEL_OPTION, SANDBOX_OPTION, note, stderr, stdout, user_errors


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    @user_errors
    def doctor_command(
        model: str = MODEL_OPTION,
        sandbox: str = SANDBOX_OPTION,
        no_run: bool = typer.Option(
            False, "--no-run", help="Only check requirements: load no model and run no test program (about a second)."
        ),
    ) -> None:
        """Check the engine, the model, the sandbox and the caches; exit 0 when `solve` will work, 1 otherwise."""
        from sstar.doctor import AREAS, environment_summary, run_doctor

        report = run_doctor(model, sandbox=sandbox, run=not no_run, progress=note)
        table = Table(title=f"sstar doctor: {escape(environment_summary())}", show_lines=False, title_justify="left")
        table.add_column("area")
        table.add_column("check")
        table.add_column("")
        table.add_column("details / what to do", overflow="fold")
        for area in AREAS:
            for check in (c for c in report.checks if c.area == area):
                if check.ok:
                    mark, text = "[green]ok[/]", escape(check.detail)
                elif check.required:
                    mark, text = "[red]no[/]", f"{escape(check.detail)}\n[bold]fix:[/] {escape(check.fix)}"
                else:
                    mark, text = "[yellow]--[/]", escape(check.detail) + (f"\n[dim]optional:[/] {escape(check.fix)}" if check.fix else "")
                table.add_row(area, escape(check.name), mark, text)
        stderr.print(table)
        if report.ready:
            stdout.print(f"[green]ready[/]: `sstar solve --model {escape(model)}` will work here", highlight=False)
            return
        stdout.print(f"[red]not ready[/]: {len(report.failed)} problem(s) to fix:", highlight=False)
        for check in report.failed:
            stdout.print(f"  {escape(check.area)}/{escape(check.name)}: {escape(check.fix)}", highlight=False)
        raise typer.Exit(1)
