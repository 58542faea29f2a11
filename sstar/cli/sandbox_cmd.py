"""`sstar sandbox build` and `sstar sandbox doctor`: get a sandbox working on this machine."""

from __future__ import annotations

import typer
from rich.table import Table

from sstar.cli.common import stderr, stdout, user_errors

sandbox_app = typer.Typer(help="The sandbox that runs generated programs: build its image, check what works here.", no_args_is_help=True)


@sandbox_app.command("build")
@user_errors
def build(
    offline: bool = typer.Option(
        False,
        "--offline",
        help=(
            "Build without a container registry: debootstrap Debian bookworm + python3 from the Debian mirror, "
            "then `docker import` (needs root and debootstrap)."
        ),
    ),
) -> None:
    """Build the Docker image the sandbox runs programs in (tagged with a hash of the runner)."""
    from sstar.sandbox import build_image, image_tag

    tag = image_tag()
    stderr.print(f"building [bold]{tag}[/] ({'offline: debootstrap + docker import' if offline else 'docker build'})", highlight=False)
    built = build_image(offline=offline, log=lambda line: stderr.print(line, style="dim", markup=False, highlight=False))
    stdout.print(built, highlight=False)


@sandbox_app.command("doctor")
@user_errors
def doctor_cmd(
    no_run: bool = typer.Option(False, "--no-run", help="Only check requirements; do not run a test program."),
) -> None:
    """Say which sandbox backends work here, and exactly what to do about the others."""
    from sstar.sandbox import doctor

    report = doctor(smoke=not no_run)
    table = Table(title="sstar sandbox doctor", show_lines=False)
    table.add_column("backend")
    table.add_column("check")
    table.add_column("")
    table.add_column("details / what to do", overflow="fold")
    for check in report.checks:
        if check.ok:
            mark, text = "[green]ok[/]", check.detail
        elif check.required:
            mark, text = "[red]no[/]", f"{check.detail}\n[bold]fix:[/] {check.fix}"
        else:
            mark, text = "[yellow]--[/]", f"{check.detail}\n[dim]optional:[/] {check.fix}"
        table.add_row(check.backend, check.name, mark, text)
    stderr.print(table)
    for backend in ("docker", "process"):
        verdict = "[green]works[/]" if report.works(backend) else "[red]unavailable[/]"
        stdout.print(f"{backend}: {verdict}")
    if report.works("docker"):
        stdout.print("`--sandbox auto` uses: docker")
    elif report.works("process"):
        stdout.print("`--sandbox auto` uses: process (weaker isolation than Docker; see the fixes above)")
    else:
        stdout.print("[red]no sandbox works here[/]: apply one of the fixes above")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(sandbox_app, name="sandbox")
